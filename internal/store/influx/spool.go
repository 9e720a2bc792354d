package influx

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/indicators/period"
	"github.com/g-oc/goc/internal/store"
	"github.com/g-oc/goc/internal/store/approval"
	"github.com/g-oc/goc/internal/store/idempotency"
	"github.com/g-oc/goc/internal/store/session"
	"github.com/g-oc/goc/internal/store/sqlwhere"
	"github.com/g-oc/goc/internal/store/uptime"
	"github.com/g-oc/goc/internal/store/yearfigures"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// spool is the disk-backed queue in front of InfluxDB, in one SQLite file written with
// synchronous=FULL: a write is acknowledged only after its commit is on disk, and the
// flusher sends batches to InfluxDB in the order they were acknowledged, deleting
// each only after InfluxDB has accepted it.
//
// The same file keeps the ledger: the latest revision of every series and the newest
// result of every probe target, updated in the same transaction as the queue. Revision
// numbers and repeats are decided against it, so they stay right while InfluxDB is
// away, and latest values can still be read from it then.
//
// It also keeps the publication workflow (package approval): submission states, their
// audit trail and the newest approved revision of each series. InfluxDB cannot hold
// state that changes in place, so it lives here, beside the ledger it is decided
// against. With several replicas both live in Redis instead (Options.Ledger), and the
// spool only queues revisions for InfluxDB.
type spool struct {
	path    string
	writer  *sql.DB // one connection: every write, BEGIN IMMEDIATE
	readers *sql.DB // query_only connections
	// autoApprove publishes every revision as it is stored.
	autoApprove bool
}

// Kinds of pending batch.
const (
	kindObservations = 1
	kindProbes       = 2
)

const spoolSchema = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;

-- Batches acknowledged but not yet in InfluxDB, in acknowledgement order.
CREATE TABLE IF NOT EXISTS pending (
	seq         INTEGER PRIMARY KEY AUTOINCREMENT,
	kind        INTEGER NOT NULL, -- 1 observations, 2 probe results
	points      INTEGER NOT NULL, -- observations or probe results in the batch
	enqueued_at INTEGER NOT NULL  -- unix nanoseconds
);
CREATE TABLE IF NOT EXISTS pending_obs (
	seq          INTEGER NOT NULL,
	ord          INTEGER NOT NULL,
	indicator    TEXT    NOT NULL,
	agency       TEXT    NOT NULL,
	period_start INTEGER NOT NULL, -- unix seconds
	kind         INTEGER NOT NULL, -- period.Kind
	revision     INTEGER NOT NULL,
	value        REAL    NOT NULL,
	numerator    REAL,
	denominator  REAL,
	source       TEXT    NOT NULL,
	submitter    TEXT    NOT NULL,
	received_at  INTEGER NOT NULL,
	batch        TEXT    NOT NULL,
	PRIMARY KEY (seq, ord)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS pending_obs_series ON pending_obs (indicator, agency, period_start, kind);
CREATE TABLE IF NOT EXISTS pending_probes (
	seq    INTEGER NOT NULL,
	ord    INTEGER NOT NULL,
	target TEXT    NOT NULL,
	time   INTEGER NOT NULL, -- unix nanoseconds
	latest INTEGER NOT NULL, -- 1 when it was the target's newest result when written
	result TEXT    NOT NULL, -- JSON of indicators.ProbeResult
	PRIMARY KEY (seq, ord)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS pending_probes_target ON pending_probes (target, time);

-- Batches InfluxDB refused as malformed (HTTP 400), kept for the operator, never sent
-- again.
CREATE TABLE IF NOT EXISTS rejected (
	seq         INTEGER PRIMARY KEY,
	kind        INTEGER NOT NULL,
	points      INTEGER NOT NULL,
	enqueued_at INTEGER NOT NULL,
	rejected_at INTEGER NOT NULL,
	error       TEXT    NOT NULL,
	lines       TEXT    NOT NULL
);

-- The ledger: the latest revision of every series, and each target's newest result.
CREATE TABLE IF NOT EXISTS ledger (
	indicator    TEXT    NOT NULL,
	agency       TEXT    NOT NULL,
	period_start INTEGER NOT NULL,
	kind         INTEGER NOT NULL,
	revision     INTEGER NOT NULL,
	value        REAL    NOT NULL,
	numerator    REAL,
	denominator  REAL,
	source       TEXT    NOT NULL,
	submitter    TEXT    NOT NULL,
	received_at  INTEGER NOT NULL,
	batch        TEXT    NOT NULL,
	PRIMARY KEY (indicator, agency, period_start, kind)
) WITHOUT ROWID;
-- Approval publishes one agency's series for one period (see package approval).
CREATE INDEX IF NOT EXISTS ledger_agency ON ledger (agency, period_start, kind);
CREATE TABLE IF NOT EXISTS probe_ledger (
	target TEXT    NOT NULL PRIMARY KEY,
	time   INTEGER NOT NULL,
	result TEXT    NOT NULL
) WITHOUT ROWID;
`

func openSpool(ctx context.Context, path string) (*spool, error) {
	if path == "" {
		return nil, errors.New("no spool file configured")
	}
	if strings.Contains(path, "?") || strings.HasPrefix(path, "file:") || path == ":memory:" {
		return nil, fmt.Errorf("spool %q: want a plain file path", path)
	}
	common := url.Values{}
	common.Add("_pragma", "busy_timeout(10000)")
	w := url.Values{}
	for k, v := range common {
		w[k] = append([]string(nil), v...)
	}
	w.Add("_pragma", "journal_mode(WAL)")
	// FULL syncs the WAL on every commit: an acknowledged write survives power loss.
	w.Add("_pragma", "synchronous(FULL)")
	w.Set("_txlock", "immediate")
	writer, err := sql.Open("sqlite", path+"?"+w.Encode())
	if err != nil {
		return nil, fmt.Errorf("open spool %s: %w", path, err)
	}
	writer.SetMaxOpenConns(1)
	writer.SetMaxIdleConns(1)
	writer.SetConnMaxLifetime(0)
	writer.SetConnMaxIdleTime(0)
	if _, err := writer.ExecContext(ctx, spoolSchema+";\n"+uptime.Schema+";\n"+idempotency.Schema+";\n"+approval.Schema+";\n"+session.Schema+";\n"+yearfigures.Schema); err != nil {
		writer.Close()
		return nil, fmt.Errorf("open spool %s: %w", path, err)
	}
	if err := adoptWorkflow(ctx, writer); err != nil {
		writer.Close()
		return nil, fmt.Errorf("open spool %s: %w", path, err)
	}
	r := url.Values{}
	for k, v := range common {
		r[k] = append([]string(nil), v...)
	}
	r.Add("_pragma", "query_only(1)")
	readers, err := sql.Open("sqlite", path+"?"+r.Encode())
	if err != nil {
		writer.Close()
		return nil, fmt.Errorf("open spool readers %s: %w", path, err)
	}
	readers.SetMaxOpenConns(4)
	readers.SetMaxIdleConns(4)
	if err := readers.PingContext(ctx); err != nil {
		writer.Close()
		readers.Close()
		return nil, fmt.Errorf("open spool readers %s: %w", path, err)
	}
	return &spool{path: path, writer: writer, readers: readers}, nil
}

// adoptWorkflow publishes, once per spool file, what its ledger held before the file
// knew about approval: that data was public then and stays so.
func adoptWorkflow(ctx context.Context, writer *sql.DB) error {
	tx, err := writer.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var done int
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM meta WHERE key = 'workflow'").Scan(&done); err != nil {
		return err
	}
	if done > 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, approval.PublishExisting("ledger", "")); err != nil {
		return fmt.Errorf("publish what was stored before approval existed: %w", err)
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO meta (key, value) VALUES ('workflow', '1')"); err != nil {
		return err
	}
	return tx.Commit()
}

func (sp *spool) close() error { return errors.Join(sp.readers.Close(), sp.writer.Close()) }

func (sp *spool) meta(ctx context.Context, key string) (string, error) {
	var v string
	err := sp.readers.QueryRowContext(ctx, "SELECT value FROM meta WHERE key = ?", key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return v, err
}

// ledgerRow is an observation as the spool keeps it.
const obsColumns = `indicator, agency, period_start, kind, revision, value, numerator, denominator,
	source, submitter, received_at, batch`

func obsArgs(o *indicators.Observation) []any {
	return []any{o.Indicator, o.Agency, o.Period.Start(nil).Unix(), int(o.Period.Kind), o.Revision,
		o.Value, nullable(o.Numerator), nullable(o.Denominator), string(o.Source), o.Submitter,
		o.ReceivedAt.UnixNano(), o.Batch}
}

type scanner interface{ Scan(dst ...any) error }

func scanObs(sc scanner) (indicators.Observation, error) {
	var (
		o                indicators.Observation
		start, received  int64
		kind             int
		source           string
		numerator, denom sql.NullFloat64
	)
	if err := sc.Scan(&o.Indicator, &o.Agency, &start, &kind, &o.Revision, &o.Value, &numerator, &denom,
		&source, &o.Submitter, &received, &o.Batch); err != nil {
		return o, err
	}
	o.Period = period.Of(period.Kind(kind), time.Unix(start, 0).UTC())
	o.Source = indicators.Source(source)
	o.ReceivedAt = time.Unix(0, received).UTC()
	if numerator.Valid {
		o.Numerator = new(numerator.Float64)
	}
	if denom.Valid {
		o.Denominator = new(denom.Float64)
	}
	return o, nil
}

// enqueueObservations numbers the observations against the ledger and queues the new
// revisions, all in one durable transaction. It applies the rules store.Store
// documents: in order, a repeat of a series' latest content collapses into it, and
// new revisions share receivedAt and batch unless the caller set their own.
func (sp *spool) enqueueObservations(ctx context.Context, obs []indicators.Observation, now time.Time, batch string) ([]indicators.Observation, int, error) {
	out := make([]indicators.Observation, len(obs))
	fresh := make([]bool, len(obs))
	tx, err := sp.writer.BeginTx(ctx, nil)
	if err != nil {
		return nil, 0, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	lookup, err := tx.PrepareContext(ctx, "SELECT "+obsColumns+` FROM ledger
		WHERE indicator = ? AND agency = ? AND period_start = ? AND kind = ?`)
	if err != nil {
		return nil, 0, err
	}
	defer lookup.Close()
	upsert, err := tx.PrepareContext(ctx, "INSERT OR REPLACE INTO ledger ("+obsColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return nil, 0, err
	}
	defer upsert.Close()
	insert, err := tx.PrepareContext(ctx, "INSERT INTO pending_obs (seq, ord, "+obsColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return nil, 0, err
	}
	defer insert.Close()

	seq, err := newBatchRow(ctx, tx, kindObservations, now)
	if err != nil {
		return nil, 0, err
	}
	points := 0
	for i, o := range obs {
		cur, err := scanObs(lookup.QueryRowContext(ctx, o.Indicator, o.Agency, o.Period.Start(nil).Unix(), int(o.Period.Kind)))
		switch {
		case errors.Is(err, sql.ErrNoRows):
			o.Revision = 1
		case err != nil:
			return nil, 0, fmt.Errorf("read latest of %s/%s/%s: %w", o.Indicator, o.Agency, o.Period, err)
		default:
			cur.SeriesKey = o.SeriesKey // the period as written (the kind is the same)
			if cur.SameContent(&o) {
				out[i] = cur
				continue
			}
			o.Revision = cur.Revision + 1
		}
		if o.Revision > maxRevision {
			return nil, 0, fmt.Errorf("%s/%s/%s: more than %d revisions", o.Indicator, o.Agency, o.Period, maxRevision)
		}
		if o.ReceivedAt.IsZero() {
			o.ReceivedAt = now
		}
		o.ReceivedAt = time.Unix(0, o.ReceivedAt.UnixNano()).UTC()
		if o.Batch == "" {
			o.Batch = batch
		}
		// The answer must not alias the caller's numbers.
		o.Numerator, o.Denominator = clonePtr(o.Numerator), clonePtr(o.Denominator)
		args := obsArgs(&o)
		if _, err := insert.ExecContext(ctx, append([]any{seq, points}, args...)...); err != nil {
			return nil, 0, fmt.Errorf("spool %s/%s/%s revision %d: %w", o.Indicator, o.Agency, o.Period, o.Revision, err)
		}
		if _, err := upsert.ExecContext(ctx, args...); err != nil {
			return nil, 0, fmt.Errorf("ledger %s/%s/%s: %w", o.Indicator, o.Agency, o.Period, err)
		}
		points++
		out[i], fresh[i] = o, true
	}
	if points == 0 {
		// Only repeats: nothing to send. They can still resubmit a returned submission
		// (a step of the trail, which moves the figures version by itself).
		if _, err := tx.ExecContext(ctx, "DELETE FROM pending WHERE seq = ?", seq); err != nil {
			return nil, 0, err
		}
	} else if _, err := tx.ExecContext(ctx, "UPDATE pending SET points = ? WHERE seq = ?", points, seq); err != nil {
		return nil, 0, err
	} else if err := bump(ctx, tx, figuresCounter); err != nil {
		return nil, 0, err
	}
	if err := approval.Written(ctx, tx, obs, out, fresh, sp.autoApprove, now); err != nil {
		return nil, 0, err
	}
	if err := yearfigures.Written(ctx, tx, out, fresh); err != nil {
		return nil, 0, err
	}
	if err := tx.Commit(); err != nil {
		return nil, 0, fmt.Errorf("commit: %w", err)
	}
	return out, points, nil
}

// enqueueRevisions queues revisions numbered elsewhere (the shared ledger) for
// InfluxDB, in one durable transaction; the spool's own ledger and workflow are not
// used then.
func (sp *spool) enqueueRevisions(ctx context.Context, obs []indicators.Observation, now time.Time) error {
	tx, err := sp.writer.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	insert, err := tx.PrepareContext(ctx, "INSERT INTO pending_obs (seq, ord, "+obsColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	defer insert.Close()
	seq, err := newBatchRow(ctx, tx, kindObservations, now)
	if err != nil {
		return err
	}
	for i := range obs {
		o := &obs[i]
		if _, err := insert.ExecContext(ctx, append([]any{seq, i}, obsArgs(o)...)...); err != nil {
			return fmt.Errorf("spool %s/%s/%s revision %d: %w", o.Indicator, o.Agency, o.Period, o.Revision, err)
		}
	}
	if _, err := tx.ExecContext(ctx, "UPDATE pending SET points = ? WHERE seq = ?", len(obs), seq); err != nil {
		return err
	}
	// This replica's history reads see the spooled revisions at once, before the
	// shared ledger's version moves for them again when they are sent.
	if err := bump(ctx, tx, figuresCounter); err != nil {
		return err
	}
	if err := yearfigures.Written(ctx, tx, obs, nil); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

func newBatchRow(ctx context.Context, tx *sql.Tx, kind int, now time.Time) (int64, error) {
	res, err := tx.ExecContext(ctx, "INSERT INTO pending (kind, points, enqueued_at) VALUES (?, 0, ?)", kind, now.UnixNano())
	if err != nil {
		return 0, fmt.Errorf("queue batch: %w", err)
	}
	return res.LastInsertId()
}

// enqueueProbes queues probe results durably and moves each target's newest result
// in the ledger. A result older than its target's newest is history only. With
// windows, it also counts them in the portals' uptime windows (package uptime), in the
// same transaction, when the spool keeps the windows of the buckets named windowsOf
// (see Store.keepsWindows).
func (sp *spool) enqueueProbes(ctx context.Context, rs []indicators.ProbeResult, now time.Time, windowsOf string) error {
	encoded := make([]string, len(rs))
	for i := range rs {
		js, err := encodeProbe(&rs[i])
		if err != nil {
			return err
		}
		encoded[i] = js
	}
	tx, err := sp.writer.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	seq, err := newBatchRow(ctx, tx, kindProbes, now)
	if err != nil {
		return err
	}
	lookup, err := tx.PrepareContext(ctx, "SELECT time FROM probe_ledger WHERE target = ?")
	if err != nil {
		return err
	}
	defer lookup.Close()
	insert, err := tx.PrepareContext(ctx, "INSERT INTO pending_probes (seq, ord, target, time, latest, result) VALUES (?, ?, ?, ?, ?, ?)")
	if err != nil {
		return err
	}
	defer insert.Close()
	upsert, err := tx.PrepareContext(ctx, "INSERT OR REPLACE INTO probe_ledger (target, time, result) VALUES (?, ?, ?)")
	if err != nil {
		return err
	}
	defer upsert.Close()
	for i := range rs {
		r := &rs[i]
		at := r.Time.UnixNano()
		var newest int64
		err := lookup.QueryRowContext(ctx, r.Target).Scan(&newest)
		latest := errors.Is(err, sql.ErrNoRows) || (err == nil && at >= newest)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("read newest result of %s: %w", r.Target, err)
		}
		if _, err := insert.ExecContext(ctx, seq, i, r.Target, at, latest, encoded[i]); err != nil {
			return fmt.Errorf("spool result of %s: %w", r.Target, err)
		}
		if latest {
			if _, err := upsert.ExecContext(ctx, r.Target, at, encoded[i]); err != nil {
				return fmt.Errorf("ledger result of %s: %w", r.Target, err)
			}
		}
	}
	if _, err := tx.ExecContext(ctx, "UPDATE pending SET points = ? WHERE seq = ?", len(rs), seq); err != nil {
		return err
	}
	kept, err := keepsWindows(ctx, tx, windowsOf)
	if err != nil {
		return err
	}
	if kept {
		if err := uptime.RollUp(ctx, tx, rs, now); err != nil {
			return fmt.Errorf("uptime windows: %w", err)
		}
	}
	if err := bump(ctx, tx, probesCounter); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// pendingObservations returns the queued revisions q selects (every revision; sources
// filter only history queries, see Store.Observations).
func (sp *spool) pendingObservations(ctx context.Context, q store.Query) ([]indicators.Observation, error) {
	where, args := sqlwhere.Observations(q, q.History)
	query := "SELECT " + obsColumns + " FROM pending_obs" + where
	if q.History {
		// Revisions are distinct keys, so the first Limit are all a page can use. Latest
		// queries read every queued revision (bounded by the backlog): the newest of a
		// series decides whether it is kept.
		query += " ORDER BY indicator, agency, period_start, kind, revision" + sqlwhere.Limit(q)
	}
	return sp.observations(ctx, query, args)
}

// ledgerObservations returns the latest revision of each series q selects, sources
// included: what the store answers for latest values while InfluxDB is away.
func (sp *spool) ledgerObservations(ctx context.Context, q store.Query) ([]indicators.Observation, error) {
	where, args := sqlwhere.Observations(q, true)
	return sp.observations(ctx, "SELECT "+obsColumns+" FROM ledger"+where+" ORDER BY indicator, agency, period_start, kind"+sqlwhere.Limit(q), args)
}

func (sp *spool) observations(ctx context.Context, query string, args []any) ([]indicators.Observation, error) {
	rows, err := sp.readers.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []indicators.Observation
	for rows.Next() {
		o, err := scanObs(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// pendingProbes returns queued results of target in [from, to), or, with target
// empty, every queued result that was its target's newest when written.
func (sp *spool) pendingProbes(ctx context.Context, target string, from, to int64) ([]indicators.ProbeResult, error) {
	if target == "" {
		return sp.probes(ctx, "SELECT result FROM pending_probes WHERE latest = 1")
	}
	return sp.probes(ctx, "SELECT result FROM pending_probes WHERE target = ? AND time >= ? AND time < ?", target, from, to)
}

func (sp *spool) ledgerProbes(ctx context.Context) ([]indicators.ProbeResult, error) {
	return sp.probes(ctx, "SELECT result FROM probe_ledger ORDER BY target")
}

func (sp *spool) probes(ctx context.Context, query string, args ...any) ([]indicators.ProbeResult, error) {
	return queryProbes(ctx, sp.readers, query, args...)
}

// querier is what queryProbes reads through: the reader pool, or a transaction that
// must see its own state.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// queryProbes reads results kept as one JSON column.
func queryProbes(ctx context.Context, q querier, query string, args ...any) ([]indicators.ProbeResult, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []indicators.ProbeResult
	for rows.Next() {
		var js string
		if err := rows.Scan(&js); err != nil {
			return nil, err
		}
		r, err := decodeProbe(js)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// chunk is a run of consecutive pending batches of one kind, sent to InfluxDB in one
// write.
type chunk struct {
	kind     int
	seqs     []int64
	points   int
	enqueued []int64
	obs      []indicators.Observation
	probes   []pendingProbe
}

type pendingProbe struct {
	result indicators.ProbeResult
	json   string
	latest bool
}

// nextChunk reads the oldest pending batches, up to about maxPoints points, all of the
// kind of the oldest. It returns nil when nothing is pending.
func (sp *spool) nextChunk(ctx context.Context, maxPoints int) (*chunk, error) {
	rows, err := sp.readers.QueryContext(ctx, "SELECT seq, kind, points, enqueued_at FROM pending ORDER BY seq LIMIT 1000")
	if err != nil {
		return nil, err
	}
	var c *chunk
	for rows.Next() {
		var seq, enq int64
		var kind, points int
		if err := rows.Scan(&seq, &kind, &points, &enq); err != nil {
			rows.Close()
			return nil, err
		}
		if c == nil {
			c = &chunk{kind: kind}
		} else if kind != c.kind || c.points+points > maxPoints {
			break
		}
		c.seqs = append(c.seqs, seq)
		c.enqueued = append(c.enqueued, enq)
		c.points += points
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if c == nil {
		return nil, nil
	}
	lo, hi := c.seqs[0], c.seqs[len(c.seqs)-1]
	switch c.kind {
	case kindObservations:
		c.obs, err = sp.observations(ctx, "SELECT "+obsColumns+" FROM pending_obs WHERE seq BETWEEN ? AND ? ORDER BY seq, ord", []any{lo, hi})
	case kindProbes:
		err = sp.loadProbes(ctx, c, lo, hi)
	default:
		err = fmt.Errorf("pending batch %d has unknown kind %d", lo, c.kind)
	}
	if err != nil {
		return nil, fmt.Errorf("read pending batches %d-%d: %w", lo, hi, err)
	}
	return c, nil
}

func (sp *spool) loadProbes(ctx context.Context, c *chunk, lo, hi int64) error {
	rows, err := sp.readers.QueryContext(ctx, "SELECT result, latest FROM pending_probes WHERE seq BETWEEN ? AND ? ORDER BY seq, ord", lo, hi)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var p pendingProbe
		if err := rows.Scan(&p.json, &p.latest); err != nil {
			return err
		}
		if p.result, err = decodeProbe(p.json); err != nil {
			return err
		}
		c.probes = append(c.probes, p)
	}
	return rows.Err()
}

// remove deletes the batches of c, which InfluxDB has accepted. Probe results sent
// move the probes version: the uptime windows are computed by InfluxDB and count
// them only now. Observations sent change nothing a read sees (it reads the spool
// and InfluxDB together).
func (sp *spool) remove(ctx context.Context, c *chunk) error {
	tx, err := sp.writer.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := deleteBatches(ctx, tx, c.seqs); err != nil {
		return err
	}
	if c.kind == kindProbes {
		if err := bump(ctx, tx, probesCounter); err != nil {
			return err
		}
	}
	return tx.Commit()
}

func deleteBatches(ctx context.Context, tx *sql.Tx, seqs []int64) error {
	lo, hi := seqs[0], seqs[len(seqs)-1]
	for _, table := range []string{"pending", "pending_obs", "pending_probes"} {
		if _, err := tx.ExecContext(ctx, "DELETE FROM "+table+" WHERE seq BETWEEN ? AND ?", lo, hi); err != nil {
			return fmt.Errorf("remove sent batches %d-%d: %w", lo, hi, err)
		}
	}
	return nil
}

// reject moves one batch InfluxDB refused as malformed out of the queue, keeping its
// lines and the reason for the operator.
func (sp *spool) reject(ctx context.Context, c *chunk, lines string, reason error, now time.Time) error {
	tx, err := sp.writer.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO rejected (seq, kind, points, enqueued_at, rejected_at, error, lines)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, c.seqs[0], c.kind, c.points, c.enqueued[0], now.UnixNano(), reason.Error(), lines); err != nil {
		return fmt.Errorf("keep rejected batch %d: %w", c.seqs[0], err)
	}
	if err := deleteBatches(ctx, tx, c.seqs); err != nil {
		return err
	}
	// What reads see loses the batch: its points leave the spool and never reach
	// InfluxDB.
	counter := figuresCounter
	if c.kind == kindProbes {
		counter = probesCounter
	}
	if err := bump(ctx, tx, counter); err != nil {
		return err
	}
	if err := yearfigures.Written(ctx, tx, c.obs, nil); err != nil {
		return err
	}
	return tx.Commit()
}

// backlog counts pending points and finds the oldest pending batch's time.
func (sp *spool) backlog(ctx context.Context) (points int64, oldest time.Time, err error) {
	var min sql.NullInt64
	if err := sp.readers.QueryRowContext(ctx, "SELECT coalesce(sum(points), 0), min(enqueued_at) FROM pending").Scan(&points, &min); err != nil {
		return 0, time.Time{}, fmt.Errorf("read spool backlog: %w", err)
	}
	if min.Valid {
		oldest = time.Unix(0, min.Int64)
	}
	return points, oldest, nil
}

// resetLedger empties the ledger and records which buckets it is about to describe.
// The workflow's state and the kept figures describe the old bucket too and go with
// it; the workflow's audit trail is append-only and stays.
func (sp *spool) resetLedger(ctx context.Context) error {
	_, err := sp.writer.ExecContext(ctx, `DELETE FROM ledger; DELETE FROM probe_ledger; DELETE FROM meta WHERE key = 'ledger_of';
		DELETE FROM probe_hourly; DELETE FROM probe_daily; DELETE FROM probe_windows; DELETE FROM probe_windows_state;
		DELETE FROM meta WHERE key = 'windows_of';
		DELETE FROM published; DELETE FROM published_revisions; DELETE FROM submissions;
		DELETE FROM figures; DELETE FROM figure_sets; DELETE FROM figure_marks; DELETE FROM meta WHERE key = 'figures_of'`)
	return err
}

// publishLedger publishes the whole ledger just loaded from InfluxDB: a new spool has
// no record of approvals, and data stored without one is treated as stored before the
// workflow existed (see adoptWorkflow).
func (sp *spool) publishLedger(ctx context.Context) error {
	_, err := sp.writer.ExecContext(ctx, approval.PublishExisting("ledger", ""))
	return err
}

// publishedObservations returns the newest approved revision of each series q selects.
func (sp *spool) publishedObservations(ctx context.Context, q store.Query) ([]indicators.Observation, error) {
	where, args := sqlwhere.Observations(q, true)
	return sp.observations(ctx, "SELECT "+obsColumns+" FROM published"+where+" ORDER BY indicator, agency, period_start, kind"+sqlwhere.Limit(q), args)
}

// publishedRevision names one approved revision.
type publishedRevision struct {
	indicators.SeriesKey
	revision int
}

// publishedRevisions returns every revision ever approved among the series q selects.
func (sp *spool) publishedRevisions(ctx context.Context, q store.Query) (map[publishedRevision]bool, error) {
	where, args := sqlwhere.Observations(q, false)
	rows, err := sp.readers.QueryContext(ctx, "SELECT indicator, agency, period_start, kind, revision FROM published_revisions"+where, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[publishedRevision]bool{}
	for rows.Next() {
		var r publishedRevision
		var start int64
		var kind int
		if err := rows.Scan(&r.Indicator, &r.Agency, &start, &kind, &r.revision); err != nil {
			return nil, err
		}
		r.Period = period.Of(period.Kind(kind), time.Unix(start, 0).UTC())
		out[r] = true
	}
	return out, rows.Err()
}

// loadLedger adds rows read from InfluxDB's latest measurements.
func (sp *spool) loadLedger(ctx context.Context, obs []indicators.Observation, probes []indicators.ProbeResult) error {
	tx, err := sp.writer.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for i := range obs {
		if _, err := tx.ExecContext(ctx, "INSERT OR REPLACE INTO ledger ("+obsColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", obsArgs(&obs[i])...); err != nil {
			return err
		}
	}
	for i := range probes {
		js, err := encodeProbe(&probes[i])
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "INSERT OR REPLACE INTO probe_ledger (target, time, result) VALUES (?, ?, ?)",
			probes[i].Target, probes[i].Time.UnixNano(), js); err != nil {
			return err
		}
	}
	return tx.Commit()
}

func (sp *spool) setMeta(ctx context.Context, key, value string) error {
	_, err := sp.writer.ExecContext(ctx, "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", key, value)
	return err
}

// snapshotPart is how many rows one part of a snapshot holds.
const snapshotPart = 5000

// snapshot hands the ledger and the workflow to put, in parts of at most snapshotPart
// rows of a kind.
func (sp *spool) snapshot(ctx context.Context, put func(store.Snapshot) error) error {
	var part store.Snapshot
	n := 0
	flush := func(force bool) error {
		if n == 0 || (!force && n < snapshotPart) {
			return nil
		}
		err := put(part)
		part, n = store.Snapshot{}, 0
		return err
	}
	each := func(query string, row func(scanner) error) error {
		rows, err := sp.readers.QueryContext(ctx, query)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			if err := row(rows); err != nil {
				return err
			}
			n++
			if err := flush(false); err != nil {
				return err
			}
		}
		return rows.Err()
	}
	steps := []struct {
		query string
		row   func(scanner) error
	}{
		{"SELECT " + obsColumns + " FROM ledger", func(sc scanner) error {
			o, err := scanObs(sc)
			part.Latest = append(part.Latest, o)
			return err
		}},
		{"SELECT " + obsColumns + " FROM published", func(sc scanner) error {
			o, err := scanObs(sc)
			part.Published = append(part.Published, o)
			return err
		}},
		{"SELECT indicator, agency, period_start, kind, revision FROM published_revisions", func(sc scanner) error {
			var k store.Key
			var start int64
			var kind int
			err := sc.Scan(&k.Indicator, &k.Agency, &start, &kind, &k.Revision)
			k.Period = period.Of(period.Kind(kind), time.Unix(start, 0).UTC())
			part.Approved = append(part.Approved, k)
			return err
		}},
		{`SELECT agency, period_start, kind, state, seq, changed_at, changed_by, comment, submitted_at, submitted_by
			FROM submissions`, func(sc scanner) error {
			var s store.Submission
			var start, changed, submitted int64
			var kind int
			var state string
			err := sc.Scan(&s.Agency, &start, &kind, &state, &s.Seq, &changed, &s.ChangedBy, &s.Comment, &submitted, &s.SubmittedBy)
			s.Period = period.Of(period.Kind(kind), time.Unix(start, 0).UTC())
			s.State, s.ChangedAt, s.SubmittedAt = store.State(state), time.Unix(0, changed).UTC(), time.Unix(0, submitted).UTC()
			part.Submissions = append(part.Submissions, s)
			return err
		}},
		{`SELECT seq, agency, period_start, kind, at, who, from_state, to_state, comment
			FROM submission_events ORDER BY seq`, func(sc scanner) error {
			var t store.Transition
			var start, at int64
			var kind int
			var from, to string
			err := sc.Scan(&t.Seq, &t.Agency, &start, &kind, &at, &t.Who, &from, &to, &t.Comment)
			t.Period = period.Of(period.Kind(kind), time.Unix(start, 0).UTC())
			t.At, t.From, t.To = time.Unix(0, at).UTC(), store.State(from), store.State(to)
			part.Trail = append(part.Trail, t)
			return err
		}},
	}
	for _, st := range steps {
		if err := each(st.query, st.row); err != nil {
			return fmt.Errorf("read spool %s for the shared ledger: %w", sp.path, err)
		}
	}
	return flush(true)
}

func nullable(f *float64) any {
	if f == nil {
		return nil
	}
	return *f
}

func clonePtr(f *float64) *float64 {
	if f == nil {
		return nil
	}
	return new(*f)
}

// newBatchID returns a random UUID (version 4).
func newBatchID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
