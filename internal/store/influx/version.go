package influx

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
)

// The spool's counters (in its meta table), each moved in the transaction that makes
// the change it counts.
const (
	// figuresCounter moves with every new revision spooled and every batch of
	// observations InfluxDB refused; approvals and returns move the audit trail's
	// sequence, which the version reads beside it.
	figuresCounter = "figures_seq"
	// probesCounter moves with every probe result spooled, every batch of them sent
	// (the uptime windows count them from then) and every batch refused.
	probesCounter = "probes_seq"
)

// FiguresVersion changes whenever anything an observation read could see changes,
// so that figures computed from the reads can be kept until it moves
// (store.FiguresVersioner). It is:
//   - the process's epoch, drawn at Open, so a restart never gives a version it gave
//     before, whatever happened to InfluxDB meanwhile;
//   - the spool's counter of revisions spooled (acknowledged: every read sees them at
//     once, from the spool until InfluxDB has them, then from InfluxDB; their sending
//     changes no answer) and of batches InfluxDB refused;
//   - the newest step of the approval trail (approvals, returns, submissions);
//   - how many reads were answered from the ledger while InfluxDB was away: an answer
//     made so is never reused;
//   - with a shared ledger, its version: every replica's revisions, reviews and sends
//     to InfluxDB.
//
// Without a shared ledger it is exact while this process is the only writer of the
// bucket, as latest_reads: ledger is: another G-OC writing the same bucket changes
// what this one reads without moving its version.
func (s *Store) FiguresVersion(ctx context.Context) (string, error) {
	if err := s.enter("figures version"); err != nil {
		return "", err
	}
	defer s.mu.RUnlock()
	var counter, trail int64
	err := s.sp.readers.QueryRowContext(ctx, `SELECT
		(SELECT IFNULL(MAX(CAST(value AS INTEGER)), 0) FROM meta WHERE key = ?),
		(SELECT IFNULL(MAX(seq), 0) FROM submission_events)`, figuresCounter).Scan(&counter, &trail)
	if err != nil {
		return "", fmt.Errorf("influx: figures version: read spool: %w", err)
	}
	v := fmt.Sprintf("%s.%d.%d.%d", s.epoch, counter, trail, s.figuresDegraded.Load())
	if s.opt.Ledger != nil {
		shared, err := s.opt.Ledger.Version(ctx, false)
		if err != nil {
			return "", fmt.Errorf("influx: figures version: %w", err)
		}
		v += "." + shared
	}
	return v, nil
}

// ProbesVersion changes whenever the status of a portal may change
// (store.ProbesVersioner): the process's epoch, the spool's counter of probe results
// spooled and sent to InfluxDB (whose uptime windows count a result once it has it),
// how many statuses were answered without InfluxDB, and with a shared ledger the
// count of probe results every replica sent. While the shared ledger does not answer,
// every call gives a new version: nothing is kept, and the statuses, which do not
// need Redis, are still read.
//
// One change it cannot see: InfluxDB dropping results older than the probe bucket's
// retention while no new result arrives, which shrinks the 30-day window; kept answers
// are reused for a bounded time anyway (the API's answer cache ages them out).
func (s *Store) ProbesVersion(ctx context.Context) (string, error) {
	if err := s.enter("probes version"); err != nil {
		return "", err
	}
	defer s.mu.RUnlock()
	counter, err := s.sp.counter(ctx, probesCounter)
	if err != nil {
		return "", fmt.Errorf("influx: probes version: read spool: %w", err)
	}
	shared := ""
	if s.opt.Ledger != nil {
		v, err := s.opt.Ledger.Version(ctx, true)
		if err != nil {
			// Readiness reports Redis; here the statuses are just not kept.
			v = "unshared"
			s.probesDegraded.Add(1)
		}
		shared = "." + v
	}
	return fmt.Sprintf("%s.%d.%d%s", s.epoch, counter, s.probesDegraded.Load(), shared), nil
}

// counter reads one of the spool's counters.
func (sp *spool) counter(ctx context.Context, key string) (int64, error) {
	var n sql.NullInt64
	err := sp.readers.QueryRowContext(ctx, "SELECT MAX(CAST(value AS INTEGER)) FROM meta WHERE key = ?", key).Scan(&n)
	return n.Int64, err
}

// bump moves one of the spool's counters, in the transaction of the change it counts.
func bump(ctx context.Context, tx *sql.Tx, key string) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES (?, '1')
		ON CONFLICT (key) DO UPDATE SET value = CAST(value AS INTEGER) + 1`, key)
	if err != nil {
		return fmt.Errorf("move the spool's %s: %w", key, err)
	}
	return nil
}

// newEpoch is a random name for this opening of the store.
func newEpoch() string {
	b := make([]byte, 6)
	rand.Read(b)
	return hex.EncodeToString(b)
}
