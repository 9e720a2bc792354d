package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/internal/store"
	"github.com/g-oc/goc/internal/store/sqlbatch"
	"github.com/g-oc/goc/internal/store/uptime"
)

// probeColumns are shared by the probes history and probe_latest, in this order.
const probeColumns = `target, agency, time, success, error, http_status,
	phase_dns, phase_connect, phase_tls, phase_first_byte, phase_total, phases_other,
	body_bytes, redirects, tls_version, cert_expiry, cert_valid, https_redirect, ipv6, dnssec,
	mobile, content_match`

// upsertProbeLatest ends the insert into probe_latest: a result replaces a portal's
// latest unless it is older (a late batch).
var upsertProbeLatest = `ON CONFLICT (target) DO UPDATE SET ` + excludedSet(probeColumns, "target") + `
	WHERE excluded.time >= probe_latest.time`

// phaseColumns are the phases with a column of their own, in probeColumns order from
// the seventh column; any other phase goes to phases_other as JSON. The columns keep
// the names they were created with (phase_dns holds resolve, phase_first_byte holds
// processing), so files written before the phases took blackbox_exporter's names read
// back under the new names without a migration.
var phaseColumns = [...]string{indicators.PhaseResolve, indicators.PhaseConnect, indicators.PhaseTLS,
	indicators.PhaseProcessing, indicators.PhaseTotal}

// WriteProbeResults stores results in one transaction, all or none, and keeps each
// target's newest result in probe_latest. A result older than the target's newest
// (a late arrival) goes into history only.
func (s *Store) WriteProbeResults(ctx context.Context, rs []indicators.ProbeResult) error {
	if err := s.enter("write probe results"); err != nil {
		return err
	}
	defer s.mu.RUnlock()
	if err := s.writeProbeResults(ctx, rs); err != nil {
		return fmt.Errorf("sqlite: write probe results: %w", err)
	}
	return nil
}

func (s *Store) writeProbeResults(ctx context.Context, rs []indicators.ProbeResult) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	args := make([][]any, len(rs))
	for i := range rs {
		a, err := probeArgs(&rs[i])
		if err != nil {
			return fmt.Errorf("result %d (%s): %w", i, rs[i].Target, err)
		}
		args[i] = a
	}
	if len(rs) == 0 {
		return nil
	}
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	// A few statements for the whole batch, not two a result (see sqlbatch); the
	// rows keep their order, so the newest of a target still wins probe_latest.
	if err := sqlbatch.Insert(ctx, tx, "INSERT INTO probes ("+probeColumns+")", "", args); err != nil {
		return fmt.Errorf("insert results: %w", err)
	}
	if err := sqlbatch.Insert(ctx, tx, "INSERT INTO probe_latest ("+probeColumns+")", upsertProbeLatest, args); err != nil {
		return fmt.Errorf("mark latest results: %w", err)
	}
	if err := uptime.RollUp(ctx, tx, rs, s.now()); err != nil {
		return fmt.Errorf("uptime windows: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// probeArgs checks r and returns its bind arguments in probeColumns order.
func probeArgs(r *indicators.ProbeResult) ([]any, error) {
	if err := store.CheckProbeResult(r); err != nil {
		return nil, err
	}
	var phases [len(phaseColumns)]any
	var other map[string]float64
	for k, v := range r.Phases {
		if i := slices.Index(phaseColumns[:], k); i >= 0 {
			phases[i] = v
			continue
		}
		if other == nil {
			other = map[string]float64{}
		}
		other[k] = v
	}
	var otherJSON any
	if other != nil {
		b, err := json.Marshal(other)
		if err != nil {
			return nil, fmt.Errorf("phases: %w", err)
		}
		otherJSON = string(b)
	}
	var expiry, match any
	if !r.CertExpiry.IsZero() {
		// Stored as unix nanoseconds (1678-2262); a certificate claiming validity
		// beyond that is clamped rather than refused: the prober reports what the
		// portal sent.
		lo, hi := time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)
		expiry = clampNanos(r.CertExpiry, lo, hi)
	}
	if r.ContentMatch != nil {
		match = *r.ContentMatch
	}
	return []any{r.Target, r.Agency, r.Time.UnixNano(), r.Success, r.Error, r.HTTPStatus,
		phases[0], phases[1], phases[2], phases[3], phases[4], otherJSON,
		r.BodyBytes, r.Redirects, r.TLSVersion, expiry, r.CertValid, r.HTTPSRedirect, r.IPv6,
		r.DNSSEC, r.Mobile, match}, nil
}

func clampNanos(t, lo, hi time.Time) int64 {
	switch {
	case t.Before(lo):
		return lo.UnixNano()
	case t.After(hi):
		return hi.UnixNano()
	}
	return t.UnixNano()
}

// LatestProbes returns the newest result of every target, ordered by target: one
// scan of probe_latest in primary-key order.
func (s *Store) LatestProbes(ctx context.Context) ([]indicators.ProbeResult, error) {
	if err := s.enter("latest probes"); err != nil {
		return nil, err
	}
	defer s.mu.RUnlock()
	out, err := s.probes(ctx, "SELECT count(*) FROM probe_latest",
		"SELECT "+probeColumns+" FROM probe_latest ORDER BY target")
	if err != nil {
		return nil, fmt.Errorf("sqlite: latest probes: %w", err)
	}
	return out, nil
}

// ProbeResults returns the results of one target with from <= time < to, oldest
// first. A zero from or to leaves that side open.
func (s *Store) ProbeResults(ctx context.Context, target string, from, to time.Time) ([]indicators.ProbeResult, error) {
	if err := s.enter("probe results"); err != nil {
		return nil, err
	}
	defer s.mu.RUnlock()
	lo, hi := int64(math.MinInt64), int64(math.MaxInt64)
	if !from.IsZero() {
		lo = from.UnixNano()
	}
	if !to.IsZero() {
		hi = to.UnixNano()
	}
	const where = " FROM probes WHERE target = ? AND time >= ? AND time < ?"
	out, err := s.probes(ctx, "SELECT count(*)"+where,
		"SELECT "+probeColumns+where+" ORDER BY time, id", target, lo, hi)
	if err != nil {
		return nil, fmt.Errorf("sqlite: probe results of %s: %w", target, err)
	}
	return out, nil
}

// PruneProbeResults deletes probe history older than before (the design keeps 30
// days online) and returns how many results went, also when it stops early on an
// error. Each target's newest result stays in LatestProbes however old it is.
func (s *Store) PruneProbeResults(ctx context.Context, before time.Time) (int64, error) {
	if err := s.enter("prune probe results"); err != nil {
		return 0, err
	}
	defer s.mu.RUnlock()
	// In slices, so the write lock is never held for long while probes keep arriving.
	const slice = 5000
	var total int64
	for {
		res, err := s.writer.ExecContext(ctx, `DELETE FROM probes WHERE id IN
			(SELECT id FROM probes WHERE time < ? ORDER BY time LIMIT ?)`, before.UnixNano(), slice)
		if err != nil {
			return total, fmt.Errorf("sqlite: prune probe results: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, fmt.Errorf("sqlite: prune probe results: %w", err)
		}
		total += n
		if n < slice {
			return total, nil
		}
	}
}

func (s *Store) probes(ctx context.Context, count, query string, args ...any) ([]indicators.ProbeResult, error) {
	var n int
	if err := s.readers.QueryRowContext(ctx, count, args...).Scan(&n); err != nil {
		return nil, err
	}
	rows, err := s.readers.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make([]indicators.ProbeResult, 0, n) // n is a size hint, as in Observations
	var c [22]any
	dst := make([]any, len(c))
	for i := range c {
		dst[i] = &c[i]
	}
	for rows.Next() {
		if err := rows.Scan(dst...); err != nil {
			return nil, err
		}
		r, err := probeFromColumns(c[:])
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// writeStmts are prepared once on the writer connection and bound to each
// transaction, so a batch of thousands parses its SQL once.
type writeStmts struct {
	latestObservation, insertObservation, upsertLatest *sql.Stmt
}

func (w *writeStmts) prepare(ctx context.Context, db *sql.DB) error {
	for _, p := range []struct {
		dst **sql.Stmt
		sql string
	}{
		{&w.latestObservation, `SELECT revision, value, numerator, denominator, source, submitter,
			received_at, batch FROM latest
			WHERE indicator = ? AND agency = ? AND period_start = ? AND kind = ?`},
		{&w.insertObservation, `INSERT INTO observations (indicator, agency, period, kind,
			period_start, revision, value, numerator, denominator, source, submitter, received_at, batch)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`},
		{&w.upsertLatest, `INSERT INTO latest (indicator, agency, period_start, kind, revision,
			value, numerator, denominator, source, submitter, received_at, batch, obs_id)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (indicator, agency, period_start, kind) DO UPDATE SET
			revision = excluded.revision, value = excluded.value, numerator = excluded.numerator,
			denominator = excluded.denominator, source = excluded.source,
			submitter = excluded.submitter, received_at = excluded.received_at,
			batch = excluded.batch, obs_id = excluded.obs_id`},
	} {
		st, err := db.PrepareContext(ctx, p.sql)
		if err != nil {
			return fmt.Errorf("prepare %s: %w", strings.Fields(p.sql)[0], err)
		}
		*p.dst = st
	}
	return nil
}

// excludedSet gives "a = excluded.a, b = excluded.b, ..." for an upsert of every
// column but key.
func excludedSet(columns, key string) string {
	var set []string
	for _, c := range strings.Split(columns, ",") {
		if c = strings.TrimSpace(c); c != key {
			set = append(set, c+" = excluded."+c)
		}
	}
	return strings.Join(set, ", ")
}

func (w *writeStmts) close() error {
	var errs []error
	for _, st := range []*sql.Stmt{w.latestObservation, w.insertObservation, w.upsertLatest} {
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	return errors.Join(errs...)
}

// probeFromColumns builds a result from the 22 probeColumns of one row.
func probeFromColumns(c []any) (indicators.ProbeResult, error) {
	r := indicators.ProbeResult{
		Target:        asString(c[0]),
		Agency:        asString(c[1]),
		Time:          utcNanos(asInt(c[2])),
		Success:       asInt(c[3]) != 0,
		Error:         asString(c[4]),
		HTTPStatus:    int(asInt(c[5])),
		BodyBytes:     asInt(c[12]),
		Redirects:     int(asInt(c[13])),
		TLSVersion:    asString(c[14]),
		CertValid:     asInt(c[16]) != 0,
		HTTPSRedirect: asInt(c[17]) != 0,
		IPv6:          asInt(c[18]) != 0,
		DNSSEC:        asString(c[19]),
		Mobile:        asInt(c[20]) != 0,
	}
	for i, name := range phaseColumns {
		if c[6+i] == nil {
			continue
		}
		if r.Phases == nil {
			r.Phases = make(map[string]float64, len(phaseColumns))
		}
		r.Phases[name] = asFloat(c[6+i])
	}
	if c[11] != nil {
		if r.Phases == nil {
			r.Phases = map[string]float64{}
		}
		if err := json.Unmarshal([]byte(asString(c[11])), &r.Phases); err != nil {
			return r, fmt.Errorf("phases of %s at %s: %w", r.Target, r.Time.Format(time.RFC3339), err)
		}
	}
	if c[15] != nil {
		r.CertExpiry = utcNanos(asInt(c[15]))
	}
	if c[21] != nil {
		m := asInt(c[21]) != 0
		r.ContentMatch = &m
	}
	return r, nil
}
