package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/internal/store"
)

var (
	_ store.ProbeStatusReader = (*Store)(nil)
	_ store.ProbeStatusPager  = (*Store)(nil)
)

// maxAhead is how far past the store's clock a probe result may be and still move the
// uptime windows; one further ahead (a bad clock) goes to history only, so it cannot
// push every portal's windows into the future.
const maxAhead = time.Hour

// bucketKey names one hourly or daily bucket of one portal.
type bucketKey struct {
	target string
	start  int64 // unix seconds
}

// windowDelta is what a write adds to (or an expiry removes from) one portal's windows.
type windowDelta struct{ day, week, month store.ProbeWindow }

// rollUpProbes keeps probe_hourly, probe_daily, probe_windows and probe_windows_state
// up to date with rs, inside the transaction that writes rs to history: first it moves
// the windows to the hour of the newest result (subtracting the buckets that leave
// them), then it adds each result to its buckets and to the windows it falls in.
func (s *Store) rollUpProbes(ctx context.Context, tx *sql.Tx, rs []indicators.ProbeResult) error {
	var asOfSec int64
	started := true
	err := tx.QueryRowContext(ctx, "SELECT hour FROM probe_windows_state WHERE id = 1").Scan(&asOfSec)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		started = false
	case err != nil:
		return fmt.Errorf("read window state: %w", err)
	}
	limit := s.now().Add(maxAhead)
	var asOf, cur time.Time
	if started {
		asOf = time.Unix(asOfSec, 0).UTC()
		cur = asOf
	}
	for i := range rs {
		if rs[i].Time.After(limit) {
			continue
		}
		if h := store.HourOf(rs[i].Time); h.After(cur) {
			cur = h
		}
	}
	if cur.IsZero() {
		return nil // nothing that can be counted yet
	}
	deltas := map[string]*windowDelta{}
	delta := func(target string) *windowDelta {
		d := deltas[target]
		if d == nil {
			d = &windowDelta{}
			deltas[target] = d
		}
		return d
	}
	moved := started && cur.After(asOf)
	dayFrom, weekFrom, monthFrom := store.WindowBounds(cur)
	if moved {
		if err := s.expireBuckets(ctx, tx, asOf, cur, delta); err != nil {
			return err
		}
	}

	hourly := map[bucketKey]*store.ProbeWindow{}
	daily := map[bucketKey]*store.ProbeWindow{}
	for i := range rs {
		r := &rs[i]
		if r.Time.After(limit) {
			continue
		}
		h, d := store.HourOf(r.Time), store.DayOf(r.Time)
		if !h.Before(dayFrom) {
			addTo(hourly, bucketKey{r.Target, h.Unix()}, r)
			delta(r.Target).day.Add(r)
		}
		if !d.Before(monthFrom) {
			addTo(daily, bucketKey{r.Target, d.Unix()}, r)
			delta(r.Target).month.Add(r)
			if !d.Before(weekFrom) {
				delta(r.Target).week.Add(r)
			}
		}
	}
	if err := mergeBuckets(ctx, tx, "probe_hourly", "hour", hourly); err != nil {
		return err
	}
	if err := mergeBuckets(ctx, tx, "probe_daily", "day", daily); err != nil {
		return err
	}
	if err := applyWindowDeltas(ctx, tx, deltas); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO probe_windows_state (id, hour) VALUES (1, ?)
		ON CONFLICT (id) DO UPDATE SET hour = excluded.hour`, cur.Unix()); err != nil {
		return fmt.Errorf("write window state: %w", err)
	}
	return nil
}

// expireBuckets subtracts from the windows the buckets that leave them when they move
// from the hour asOf to cur, and deletes the buckets no window needs any more.
func (s *Store) expireBuckets(ctx context.Context, tx *sql.Tx, asOf, cur time.Time, delta func(string) *windowDelta) error {
	dayFrom, weekFrom, monthFrom := store.WindowBounds(cur)
	_, oldWeekFrom, _ := store.WindowBounds(asOf)
	each := func(query string, args []any, f func(target string, start int64, w store.ProbeWindow)) error {
		rows, err := tx.QueryContext(ctx, query, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var target string
			var start int64
			var w store.ProbeWindow
			var lat []byte
			if err := rows.Scan(&target, &start, &w.Probes, &w.Successes, &lat); err != nil {
				return err
			}
			if err := w.Latency.UnmarshalBinary(lat); err != nil {
				return fmt.Errorf("bucket of %s at %d: %w", target, start, err)
			}
			f(target, start, w)
		}
		return rows.Err()
	}
	err := each("SELECT target, hour, probes, successes, latency FROM probe_hourly WHERE hour < ?",
		[]any{dayFrom.Unix()}, func(target string, _ int64, w store.ProbeWindow) {
			delta(target).day.Merge(w, -1)
		})
	if err != nil {
		return fmt.Errorf("expire hourly buckets: %w", err)
	}
	if weekFrom.After(oldWeekFrom) {
		err = each("SELECT target, day, probes, successes, latency FROM probe_daily WHERE day < ?",
			[]any{weekFrom.Unix()}, func(target string, start int64, w store.ProbeWindow) {
				if start >= oldWeekFrom.Unix() {
					delta(target).week.Merge(w, -1)
				}
				if start < monthFrom.Unix() {
					delta(target).month.Merge(w, -1)
				}
			})
		if err != nil {
			return fmt.Errorf("expire daily buckets: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, "DELETE FROM probe_hourly WHERE hour < ?", dayFrom.Unix()); err != nil {
		return fmt.Errorf("prune hourly buckets: %w", err)
	}
	if _, err := tx.ExecContext(ctx, "DELETE FROM probe_daily WHERE day < ?", monthFrom.Unix()); err != nil {
		return fmt.Errorf("prune daily buckets: %w", err)
	}
	return nil
}

// mergeBuckets adds the counts in m to the rows of a bucket table.
func mergeBuckets(ctx context.Context, tx *sql.Tx, table, col string, m map[bucketKey]*store.ProbeWindow) error {
	if len(m) == 0 {
		return nil
	}
	// table and col are our own constants.
	get, err := tx.PrepareContext(ctx, "SELECT probes, successes, latency FROM "+table+" WHERE target = ? AND "+col+" = ?")
	if err != nil {
		return fmt.Errorf("read %s: %w", table, err)
	}
	defer get.Close()
	put, err := tx.PrepareContext(ctx, "INSERT OR REPLACE INTO "+table+" (target, "+col+", probes, successes, latency) VALUES (?, ?, ?, ?, ?)")
	if err != nil {
		return fmt.Errorf("write %s: %w", table, err)
	}
	defer put.Close()
	for k, add := range m {
		var w store.ProbeWindow
		var lat []byte
		err := get.QueryRowContext(ctx, k.target, k.start).Scan(&w.Probes, &w.Successes, &lat)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("read %s of %s: %w", table, k.target, err)
		}
		if err := w.Latency.UnmarshalBinary(lat); err != nil {
			return fmt.Errorf("read %s of %s: %w", table, k.target, err)
		}
		w.Merge(*add, 1)
		b, err := w.Latency.MarshalBinary()
		if err != nil {
			return fmt.Errorf("write %s of %s: %w", table, k.target, err)
		}
		if _, err := put.ExecContext(ctx, k.target, k.start, w.Probes, w.Successes, b); err != nil {
			return fmt.Errorf("write %s of %s: %w", table, k.target, err)
		}
	}
	return nil
}

// applyWindowDeltas adds each portal's delta to its row of probe_windows.
func applyWindowDeltas(ctx context.Context, tx *sql.Tx, deltas map[string]*windowDelta) error {
	if len(deltas) == 0 {
		return nil
	}
	get, err := tx.PrepareContext(ctx, "SELECT "+windowColumns+" FROM probe_windows WHERE target = ?")
	if err != nil {
		return fmt.Errorf("read windows: %w", err)
	}
	defer get.Close()
	put, err := tx.PrepareContext(ctx, "INSERT OR REPLACE INTO probe_windows (target, "+windowColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
	if err != nil {
		return fmt.Errorf("write windows: %w", err)
	}
	defer put.Close()
	for target, d := range deltas {
		var c [9]any
		dst := make([]any, len(c))
		for i := range c {
			dst[i] = &c[i]
		}
		var cur windowDelta
		err := get.QueryRowContext(ctx, target).Scan(dst...)
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return fmt.Errorf("read windows of %s: %w", target, err)
		default:
			if cur, err = scanWindows(c[:]); err != nil {
				return fmt.Errorf("read windows of %s: %w", target, err)
			}
		}
		cur.day.Merge(d.day, 1)
		cur.week.Merge(d.week, 1)
		cur.month.Merge(d.month, 1)
		args, err := windowArgs(&cur)
		if err != nil {
			return fmt.Errorf("write windows of %s: %w", target, err)
		}
		if _, err := put.ExecContext(ctx, append([]any{target}, args...)...); err != nil {
			return fmt.Errorf("write windows of %s: %w", target, err)
		}
	}
	return nil
}

const windowColumns = `day_probes, day_successes, day_latency, week_probes, week_successes, week_latency,
	month_probes, month_successes, month_latency`

// scanWindows reads the nine windowColumns; NULLs (a portal with no row) are empty
// windows.
func scanWindows(c []any) (windowDelta, error) {
	var d windowDelta
	for i, w := range []*store.ProbeWindow{&d.day, &d.week, &d.month} {
		w.Probes = int(asInt(c[3*i]))
		w.Successes = int(asInt(c[3*i+1]))
		b, _ := c[3*i+2].([]byte)
		if err := w.Latency.UnmarshalBinary(b); err != nil {
			return d, err
		}
	}
	return d, nil
}

func windowArgs(d *windowDelta) ([]any, error) {
	out := make([]any, 0, 9)
	for _, w := range []*store.ProbeWindow{&d.day, &d.week, &d.month} {
		clampWindow(w)
		b, err := w.Latency.MarshalBinary()
		if err != nil {
			return nil, err
		}
		out = append(out, w.Probes, w.Successes, b)
	}
	return out, nil
}

// clampWindow keeps counts at zero or above. They never go below when the windows are
// kept as designed (the rebuild test checks it); if a file was edited by hand, a
// portal shows no probes rather than a negative uptime until `goc rebuild`.
func clampWindow(w *store.ProbeWindow) {
	w.Probes = max(w.Probes, 0)
	w.Successes = min(max(w.Successes, 0), w.Probes)
	for i, c := range w.Latency.Counts {
		w.Latency.Counts[i] = max(c, 0)
	}
}

// ProbeStatuses returns every portal's newest result with its uptime windows: one
// scan of probe_latest joined to probe_windows in target order.
func (s *Store) ProbeStatuses(ctx context.Context) (store.ProbeStatuses, error) {
	if err := s.enter("probe statuses"); err != nil {
		return store.ProbeStatuses{}, err
	}
	defer s.mu.RUnlock()
	out, err := s.probeStatuses(ctx, "", -1)
	if err != nil {
		return store.ProbeStatuses{}, fmt.Errorf("sqlite: probe statuses: %w", err)
	}
	return out, nil
}

// ProbeStatusPage returns at most limit portals whose target sorts after `after`, as
// ProbeStatuses does every portal: a seek in probe_latest's primary key, so a deep
// page costs what the first does.
func (s *Store) ProbeStatusPage(ctx context.Context, after string, limit int) (store.ProbeStatuses, error) {
	if err := s.enter("probe status page"); err != nil {
		return store.ProbeStatuses{}, err
	}
	defer s.mu.RUnlock()
	if limit <= 0 {
		return store.ProbeStatuses{}, fmt.Errorf("sqlite: probe status page: limit %d, want at least 1", limit)
	}
	out, err := s.probeStatuses(ctx, after, limit)
	if err != nil {
		return store.ProbeStatuses{}, fmt.Errorf("sqlite: probe status page: %w", err)
	}
	return out, nil
}

// probeStatuses reads the portals after `after` (all when empty), at most limit (all
// when negative).
func (s *Store) probeStatuses(ctx context.Context, after string, limit int) (store.ProbeStatuses, error) {
	// One read transaction, so the windows, their hour and the latest results agree.
	tx, err := s.readers.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return store.ProbeStatuses{}, err
	}
	defer tx.Rollback()
	var out store.ProbeStatuses
	var asOf int64
	switch err := tx.QueryRowContext(ctx, "SELECT hour FROM probe_windows_state WHERE id = 1").Scan(&asOf); {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return out, err
	default:
		out.AsOf = time.Unix(asOf, 0).UTC()
	}
	n := limit // a page's size, or the count of every portal
	if limit < 0 {
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM probe_latest").Scan(&n); err != nil {
			return out, err
		}
	}
	rows, err := tx.QueryContext(ctx, "SELECT "+prefixed("l.", probeColumns)+", "+prefixed("w.", windowColumns)+`
		FROM probe_latest l LEFT JOIN probe_windows w ON w.target = l.target
		WHERE l.target > ? ORDER BY l.target LIMIT ?`, after, limit)
	if err != nil {
		return out, err
	}
	defer rows.Close()
	out.Statuses = make([]store.ProbeStatus, 0, n)
	var c [22 + 9]any
	dst := make([]any, len(c))
	for i := range c {
		dst[i] = &c[i]
	}
	for rows.Next() {
		if err := rows.Scan(dst...); err != nil {
			return out, err
		}
		r, err := probeFromColumns(c[:22])
		if err != nil {
			return out, err
		}
		w, err := scanWindows(c[22:])
		if err != nil {
			return out, fmt.Errorf("windows of %s: %w", r.Target, err)
		}
		out.Statuses = append(out.Statuses, store.ProbeStatus{Latest: r, Day: w.day, Week: w.week, Month: w.month})
	}
	return out, rows.Err()
}

// RebuildProbeWindows recomputes the uptime windows and their buckets from the probe
// history, as of the hour of the newest result: what `goc rebuild` runs, and what a
// file written before the windows existed gets when it is first opened. It reads the
// history one portal at a time, so its memory does not grow with the history.
func (s *Store) RebuildProbeWindows(ctx context.Context) error {
	if err := s.enter("rebuild probe windows"); err != nil {
		return err
	}
	defer s.mu.RUnlock()
	defer s.windowRebuilds.Add(1) // counted after it ends: a reader then sees the new windows
	if err := s.rebuildProbeWindows(ctx); err != nil {
		return fmt.Errorf("sqlite: rebuild probe windows: %w", err)
	}
	return nil
}

func (s *Store) rebuildProbeWindows(ctx context.Context) error {
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	for _, t := range []string{"probe_hourly", "probe_daily", "probe_windows", "probe_windows_state"} {
		if _, err := tx.ExecContext(ctx, "DELETE FROM "+t); err != nil {
			return fmt.Errorf("clear %s: %w", t, err)
		}
	}
	limit := s.now().Add(maxAhead).UnixNano()
	var newest sql.NullInt64
	if err := tx.QueryRowContext(ctx, "SELECT max(time) FROM probes WHERE time <= ?", limit).Scan(&newest); err != nil {
		return fmt.Errorf("newest result: %w", err)
	}
	if !newest.Valid {
		return tx.Commit()
	}
	cur := store.HourOf(utcNanos(newest.Int64))
	dayFrom, weekFrom, monthFrom := store.WindowBounds(cur)
	rows, err := tx.QueryContext(ctx, `SELECT target, time, success, phase_total FROM probes
		WHERE time >= ? AND time <= ? ORDER BY target, time`, monthFrom.UnixNano(), limit)
	if err != nil {
		return fmt.Errorf("read history: %w", err)
	}
	defer rows.Close()
	var (
		target string
		hourly = map[bucketKey]*store.ProbeWindow{}
		daily  = map[bucketKey]*store.ProbeWindow{}
		deltas = map[string]*windowDelta{}
	)
	// Buckets are written per portal; the windows of every portal are a few hundred
	// bytes each, written at the end.
	flush := func() error {
		if err := mergeBuckets(ctx, tx, "probe_hourly", "hour", hourly); err != nil {
			return err
		}
		if err := mergeBuckets(ctx, tx, "probe_daily", "day", daily); err != nil {
			return err
		}
		if err := applyWindowDeltas(ctx, tx, deltas); err != nil {
			return err
		}
		clear(hourly)
		clear(daily)
		clear(deltas)
		return nil
	}
	for rows.Next() {
		var t string
		var at, ok int64
		var total sql.NullFloat64
		if err := rows.Scan(&t, &at, &ok, &total); err != nil {
			return fmt.Errorf("read history: %w", err)
		}
		if t != target && target != "" {
			if err := flush(); err != nil {
				return err
			}
		}
		target = t
		r := indicators.ProbeResult{Target: t, Time: utcNanos(at), Success: ok != 0}
		if total.Valid {
			r.Phases = map[string]float64{indicators.PhaseTotal: total.Float64}
		}
		h, d := store.HourOf(r.Time), store.DayOf(r.Time)
		if deltas[t] == nil {
			deltas[t] = &windowDelta{}
		}
		if !h.Before(dayFrom) {
			addTo(hourly, bucketKey{t, h.Unix()}, &r)
			deltas[t].day.Add(&r)
		}
		addTo(daily, bucketKey{t, d.Unix()}, &r)
		deltas[t].month.Add(&r)
		if !d.Before(weekFrom) {
			deltas[t].week.Add(&r)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read history: %w", err)
	}
	rows.Close()
	if err := flush(); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO probe_windows_state (id, hour) VALUES (1, ?)", cur.Unix()); err != nil {
		return fmt.Errorf("write window state: %w", err)
	}
	return tx.Commit()
}

func addTo(m map[bucketKey]*store.ProbeWindow, k bucketKey, r *indicators.ProbeResult) {
	w := m[k]
	if w == nil {
		w = &store.ProbeWindow{}
		m[k] = w
	}
	w.Add(r)
}

// rebuildProbeWindowsIfMissing fills the windows of a file whose probes were written
// before the windows existed.
func (s *Store) rebuildProbeWindowsIfMissing(ctx context.Context) error {
	var state, probes int
	err := s.writer.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM probe_windows_state),
		EXISTS (SELECT 1 FROM probes)`).Scan(&state, &probes)
	if err != nil {
		return fmt.Errorf("check probe windows: %w", err)
	}
	if state == 0 && probes != 0 {
		return s.rebuildProbeWindows(ctx)
	}
	return nil
}

// prefixed qualifies each of a comma-separated list of columns.
func prefixed(prefix, columns string) string {
	cols := strings.Split(columns, ",")
	for i, c := range cols {
		cols[i] = prefix + strings.TrimSpace(c)
	}
	return strings.Join(cols, ", ")
}
