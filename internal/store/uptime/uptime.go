// Package uptime keeps the portals' uptime windows (store.ProbeStatus's 24 h, 7 d and
// 30 d) in SQL tables, moved in the transaction that writes each batch of probe
// results: the SQLite store keeps them beside its history, and the InfluxDB store in
// its spool, so that the status of 10,000 portals is one scan of a table on both and
// never a read of their history.
//
// The tables (Schema) are probe_hourly and probe_daily, the buckets still inside a
// window, so that a bucket leaving one can be subtracted; probe_windows, each portal's
// three windows; probe_windows_state, the hour they end in. Late results are added to
// their buckets and windows; results older than every window are history only.
package uptime

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/internal/store"
	"github.com/g-oc/goc/internal/store/sqlbatch"
)

// MaxAhead is how far past the store's clock a probe result may be and still move the
// uptime windows; one further ahead (a bad clock) goes to history only, so it cannot
// push every portal's windows into the future.
const MaxAhead = time.Hour

// Schema creates the tables, where they are missing (the SQLite store's migration 3
// created the same tables without IF NOT EXISTS).
const Schema = `
CREATE TABLE IF NOT EXISTS probe_hourly (
	target    TEXT    NOT NULL,
	hour      INTEGER NOT NULL, -- unix seconds, start of the UTC hour
	probes    INTEGER NOT NULL,
	successes INTEGER NOT NULL,
	latency   BLOB    NOT NULL, -- store.LatencyHistogram of the successful probes
	PRIMARY KEY (target, hour)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS probe_hourly_hour ON probe_hourly (hour);
CREATE TABLE IF NOT EXISTS probe_daily (
	target    TEXT    NOT NULL,
	day       INTEGER NOT NULL, -- unix seconds, start of the UTC day
	probes    INTEGER NOT NULL,
	successes INTEGER NOT NULL,
	latency   BLOB    NOT NULL,
	PRIMARY KEY (target, day)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS probe_daily_day ON probe_daily (day);
CREATE TABLE IF NOT EXISTS probe_windows (
	target          TEXT    NOT NULL PRIMARY KEY,
	day_probes      INTEGER NOT NULL,
	day_successes   INTEGER NOT NULL,
	day_latency     BLOB    NOT NULL,
	week_probes     INTEGER NOT NULL,
	week_successes  INTEGER NOT NULL,
	week_latency    BLOB    NOT NULL,
	month_probes    INTEGER NOT NULL,
	month_successes INTEGER NOT NULL,
	month_latency   BLOB    NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS probe_windows_state (
	id   INTEGER PRIMARY KEY CHECK (id = 1),
	hour INTEGER NOT NULL -- unix seconds: the hour the windows end in
);
`

// Windows is one portal's three windows, or what a write adds to (an expiry removes
// from) them.
type Windows struct{ Day, Week, Month store.ProbeWindow }

// bucketKey names one hourly or daily bucket of one portal.
type bucketKey struct {
	target string
	start  int64 // unix seconds
}

// Querier is what reads the state: a transaction or a database.
type Querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// AsOf is the hour the windows end in; ok is false when nothing was counted yet.
func AsOf(ctx context.Context, q Querier) (hour time.Time, ok bool, err error) {
	var sec int64
	err = q.QueryRowContext(ctx, "SELECT hour FROM probe_windows_state WHERE id = 1").Scan(&sec)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return time.Time{}, false, nil
	case err != nil:
		return time.Time{}, false, fmt.Errorf("read window state: %w", err)
	}
	return time.Unix(sec, 0).UTC(), true, nil
}

// RollUp keeps the tables up to date with rs, inside the transaction that writes rs:
// first it moves the windows to the hour of the newest result (subtracting the
// buckets that leave them), then it adds each result to its buckets and to the
// windows it falls in. now is the store's clock, for MaxAhead.
func RollUp(ctx context.Context, tx *sql.Tx, rs []indicators.ProbeResult, now time.Time) error {
	asOf, started, err := AsOf(ctx, tx)
	if err != nil {
		return err
	}
	limit := now.Add(MaxAhead)
	cur := asOf
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
	deltas := map[string]*Windows{}
	delta := func(target string) *Windows {
		d := deltas[target]
		if d == nil {
			d = &Windows{}
			deltas[target] = d
		}
		return d
	}
	dayFrom, weekFrom, monthFrom := store.WindowBounds(cur)
	if started && cur.After(asOf) {
		if err := expireBuckets(ctx, tx, asOf, cur, delta); err != nil {
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
			delta(r.Target).Day.Add(r)
		}
		if !d.Before(monthFrom) {
			addTo(daily, bucketKey{r.Target, d.Unix()}, r)
			delta(r.Target).Month.Add(r)
			if !d.Before(weekFrom) {
				delta(r.Target).Week.Add(r)
			}
		}
	}
	if err := mergeBuckets(ctx, tx, "probe_hourly", "hour", hourly); err != nil {
		return err
	}
	if err := mergeBuckets(ctx, tx, "probe_daily", "day", daily); err != nil {
		return err
	}
	if err := applyDeltas(ctx, tx, deltas); err != nil {
		return err
	}
	return setAsOf(ctx, tx, cur)
}

func setAsOf(ctx context.Context, tx *sql.Tx, cur time.Time) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO probe_windows_state (id, hour) VALUES (1, ?)
		ON CONFLICT (id) DO UPDATE SET hour = excluded.hour`, cur.Unix()); err != nil {
		return fmt.Errorf("write window state: %w", err)
	}
	return nil
}

// expireBuckets subtracts from the windows the buckets that leave them when they move
// from the hour asOf to cur, and deletes the buckets no window needs any more.
func expireBuckets(ctx context.Context, tx *sql.Tx, asOf, cur time.Time, delta func(string) *Windows) error {
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
			delta(target).Day.Merge(w, -1)
		})
	if err != nil {
		return fmt.Errorf("expire hourly buckets: %w", err)
	}
	if weekFrom.After(oldWeekFrom) {
		err = each("SELECT target, day, probes, successes, latency FROM probe_daily WHERE day < ?",
			[]any{weekFrom.Unix()}, func(target string, start int64, w store.ProbeWindow) {
				if start >= oldWeekFrom.Unix() {
					delta(target).Week.Merge(w, -1)
				}
				if start < monthFrom.Unix() {
					delta(target).Month.Merge(w, -1)
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

// mergeBuckets adds the counts in m to the rows of a bucket table: one read and one
// write for each few hundred buckets of the same start, not one of each per bucket.
func mergeBuckets(ctx context.Context, tx *sql.Tx, table, col string, m map[bucketKey]*store.ProbeWindow) error {
	if len(m) == 0 {
		return nil
	}
	keys := slices.SortedFunc(maps.Keys(m), func(a, b bucketKey) int {
		if c := cmp.Compare(a.start, b.start); c != 0 {
			return c
		}
		return strings.Compare(a.target, b.target)
	})
	// table and col are our own constants.
	read := "SELECT target, probes, successes, latency FROM " + table + " WHERE " + col + " = ? AND target IN (IN)"
	for i := 0; i < len(keys); {
		start := keys[i].start
		var targets []any
		for ; i < len(keys) && keys[i].start == start; i++ {
			targets = append(targets, keys[i].target)
		}
		err := sqlbatch.In(ctx, tx, read, []any{start}, targets, func(rows *sql.Rows) error {
			var target string
			var w store.ProbeWindow
			var lat []byte
			if err := rows.Scan(&target, &w.Probes, &w.Successes, &lat); err != nil {
				return err
			}
			if err := w.Latency.UnmarshalBinary(lat); err != nil {
				return fmt.Errorf("%s: %w", target, err)
			}
			if add := m[bucketKey{target, start}]; add != nil {
				w.Merge(*add, 1)
				*add = w
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("read %s: %w", table, err)
		}
	}
	rows := make([][]any, len(keys))
	for i, k := range keys {
		w := m[k]
		b, err := w.Latency.MarshalBinary()
		if err != nil {
			return fmt.Errorf("write %s of %s: %w", table, k.target, err)
		}
		rows[i] = []any{k.target, k.start, w.Probes, w.Successes, b}
	}
	if err := sqlbatch.Insert(ctx, tx, "INSERT OR REPLACE INTO "+table+" (target, "+col+", probes, successes, latency)", "", rows); err != nil {
		return fmt.Errorf("write %s: %w", table, err)
	}
	return nil
}

// applyDeltas adds each portal's delta to its row of probe_windows, with one read and
// one write for each few hundred portals.
func applyDeltas(ctx context.Context, tx *sql.Tx, deltas map[string]*Windows) error {
	if len(deltas) == 0 {
		return nil
	}
	targets := slices.Sorted(maps.Keys(deltas))
	keys := make([]any, len(targets))
	for i, t := range targets {
		keys[i] = t
	}
	cur := make(map[string]Windows, len(targets))
	err := sqlbatch.In(ctx, tx, "SELECT target, "+Columns+" FROM probe_windows WHERE target IN (IN)", nil, keys, func(rows *sql.Rows) error {
		var target string
		var c [9]any
		dst := make([]any, 1+len(c))
		dst[0] = &target
		for i := range c {
			dst[1+i] = &c[i]
		}
		if err := rows.Scan(dst...); err != nil {
			return err
		}
		w, err := Scan(c[:])
		if err != nil {
			return fmt.Errorf("%s: %w", target, err)
		}
		cur[target] = w
		return nil
	})
	if err != nil {
		return fmt.Errorf("read windows: %w", err)
	}
	rows := make([][]any, len(targets))
	for i, target := range targets {
		w, d := cur[target], deltas[target]
		w.Day.Merge(d.Day, 1)
		w.Week.Merge(d.Week, 1)
		w.Month.Merge(d.Month, 1)
		args, err := windowArgs(&w)
		if err != nil {
			return fmt.Errorf("write windows of %s: %w", target, err)
		}
		rows[i] = append([]any{target}, args...)
	}
	if err := sqlbatch.Insert(ctx, tx, "INSERT OR REPLACE INTO probe_windows (target, "+Columns+")", "", rows); err != nil {
		return fmt.Errorf("write windows: %w", err)
	}
	return nil
}

// Columns are probe_windows' nine columns after target, in the order Scan reads them.
const Columns = `day_probes, day_successes, day_latency, week_probes, week_successes, week_latency,
	month_probes, month_successes, month_latency`

// Scan reads the nine Columns; NULLs (a portal with no row) are empty windows.
func Scan(c []any) (Windows, error) {
	var d Windows
	for i, w := range []*store.ProbeWindow{&d.Day, &d.Week, &d.Month} {
		w.Probes = int(asInt(c[3*i]))
		w.Successes = int(asInt(c[3*i+1]))
		b, _ := c[3*i+2].([]byte)
		if err := w.Latency.UnmarshalBinary(b); err != nil {
			return d, err
		}
	}
	return d, nil
}

func asInt(v any) int64 {
	switch n := v.(type) {
	case int64:
		return n
	case float64:
		return int64(n)
	}
	return 0
}

func windowArgs(d *Windows) ([]any, error) {
	out := make([]any, 0, 9)
	for _, w := range []*store.ProbeWindow{&d.Day, &d.Week, &d.Month} {
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
// kept as designed (the rebuild tests check it); if a file was edited by hand, a
// portal shows no probes rather than a negative uptime until `goc rebuild`.
func clampWindow(w *store.ProbeWindow) {
	w.Probes = max(w.Probes, 0)
	w.Successes = min(max(w.Successes, 0), w.Probes)
	for i, c := range w.Latency.Counts {
		w.Latency.Counts[i] = max(c, 0)
	}
}

func addTo(m map[bucketKey]*store.ProbeWindow, k bucketKey, r *indicators.ProbeResult) {
	w := m[k]
	if w == nil {
		w = &store.ProbeWindow{}
		m[k] = w
	}
	w.Add(r)
}

// Rebuild recomputes the tables from a history, as of the hour cur (the hour of the
// newest result that may be counted): it empties them, then takes the history a
// portal at a time (Add, then EndPortal), so its memory does not grow with the
// history, and Finish records the hour. All in the caller's transaction.
type Rebuild struct {
	tx                       *sql.Tx
	cur                      time.Time
	dayFrom, weekFrom, month time.Time
	hourly, daily            map[bucketKey]*store.ProbeWindow
	deltas                   map[string]*Windows
}

// NewRebuild empties the tables; with cur zero (no history) Finish leaves them empty.
func NewRebuild(ctx context.Context, tx *sql.Tx, cur time.Time) (*Rebuild, error) {
	for _, t := range []string{"probe_hourly", "probe_daily", "probe_windows", "probe_windows_state"} {
		if _, err := tx.ExecContext(ctx, "DELETE FROM "+t); err != nil {
			return nil, fmt.Errorf("clear %s: %w", t, err)
		}
	}
	b := &Rebuild{tx: tx, cur: cur, hourly: map[bucketKey]*store.ProbeWindow{},
		daily: map[bucketKey]*store.ProbeWindow{}, deltas: map[string]*Windows{}}
	b.dayFrom, b.weekFrom, b.month = store.WindowBounds(cur)
	return b, nil
}

// Add counts one result of the history; results outside every window are skipped.
func (b *Rebuild) Add(r *indicators.ProbeResult) {
	if b.cur.IsZero() || store.HourOf(r.Time).After(b.cur) {
		return
	}
	h, d := store.HourOf(r.Time), store.DayOf(r.Time)
	if d.Before(b.month) {
		return
	}
	w := b.deltas[r.Target]
	if w == nil {
		w = &Windows{}
		b.deltas[r.Target] = w
	}
	if !h.Before(b.dayFrom) {
		addTo(b.hourly, bucketKey{r.Target, h.Unix()}, r)
		w.Day.Add(r)
	}
	addTo(b.daily, bucketKey{r.Target, d.Unix()}, r)
	w.Month.Add(r)
	if !d.Before(b.weekFrom) {
		w.Week.Add(r)
	}
}

// EndPortal writes what was added so far (a portal's buckets and windows).
func (b *Rebuild) EndPortal(ctx context.Context) error {
	if err := mergeBuckets(ctx, b.tx, "probe_hourly", "hour", b.hourly); err != nil {
		return err
	}
	if err := mergeBuckets(ctx, b.tx, "probe_daily", "day", b.daily); err != nil {
		return err
	}
	if err := applyDeltas(ctx, b.tx, b.deltas); err != nil {
		return err
	}
	clear(b.hourly)
	clear(b.daily)
	clear(b.deltas)
	return nil
}

// Finish writes what is left and the hour the windows end in.
func (b *Rebuild) Finish(ctx context.Context) error {
	if err := b.EndPortal(ctx); err != nil {
		return err
	}
	if b.cur.IsZero() {
		return nil
	}
	return setAsOf(ctx, b.tx, b.cur)
}
