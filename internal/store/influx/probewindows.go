package influx

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/influxdata/influxdb-client-go/v2/api/query"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/internal/store"
	"github.com/g-oc/goc/internal/store/uptime"
)

var (
	_ store.ProbeStatusReader    = (*Store)(nil)
	_ store.ProbeWindowRebuilder = (*Store)(nil)
)

// The portals' uptime windows (24 h / 7 d / 30 d) come from one of two places.
//
// Kept in the spool (one G-OC writing the bucket, no Options.Ledger): the spool keeps
// them as the SQLite store does (package uptime), moved in the transaction that spools
// each batch of results, and the newest result of each portal is its probe_ledger. A
// status read is one scan of two spool tables, whatever the history holds, and needs
// no InfluxDB. The windows count a result once it is acknowledged, as every other read
// does; once the spool is sent they equal what InfluxDB's history gives
// (TestKeptWindowsEqualTheHistoryInInfluxDB).
//
// Computed by InfluxDB (with a shared Ledger, where other replicas write results this
// spool never sees, or for a spool that has not counted from the start until `goc
// rebuild`): one Flux query over a month of probe history (windowsFlux), seconds at
// national scale. Its answer is kept per probes version; one read runs at a time
// however many callers wait for it, and runs to its end even if they give up; a read
// that fails is not tried again for windowsRetry, and meanwhile the statuses carry the
// last windows read (AsOf says which hour they end in).

// windowsRetry is how long after a failed Flux read of the windows the next one waits.
const windowsRetry = time.Minute

// windowsKey names the buckets whose windows the spool keeps, or "" when it keeps none
// (a shared ledger: other replicas' results never pass through this spool).
func (s *Store) windowsKey() string {
	if s.opt.Ledger != nil {
		return ""
	}
	return s.ledgerKey()
}

// keepsWindows reports whether the spool's windows count every result of the buckets
// named key: the spool says so in meta windows_of from its first result (adoptWindows)
// or from a rebuild on.
func keepsWindows(ctx context.Context, q uptime.Querier, key string) (bool, error) {
	if key == "" {
		return false, nil
	}
	var of string
	err := q.QueryRowContext(ctx, "SELECT value FROM meta WHERE key = 'windows_of'").Scan(&of)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return false, fmt.Errorf("read the spool's windows state: %w", err)
	}
	return of == key, nil
}

// adoptWindows, at Open, starts keeping the windows in a spool that has seen no probe
// result yet. A spool that already has results and no windows (written before they
// were kept, or under a shared ledger) leaves them to InfluxDB until `goc rebuild`.
// Under a shared ledger the spool stops claiming them: its windows would miss what
// other replicas wrote meanwhile.
func (s *Store) adoptWindows(ctx context.Context) error {
	key := s.windowsKey()
	if key == "" {
		_, err := s.sp.writer.ExecContext(ctx, "DELETE FROM meta WHERE key = 'windows_of'")
		return err
	}
	if kept, err := keepsWindows(ctx, s.sp.writer, key); err != nil || kept {
		return err
	}
	var any int
	if err := s.sp.writer.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM probe_ledger)").Scan(&any); err != nil {
		return fmt.Errorf("read the spool's probe ledger: %w", err)
	}
	if any != 0 {
		s.log.Warn("InfluxDB: thời gian hoạt động của các cổng được tính bằng Flux cho đến khi chạy goc rebuild / portal uptime windows are computed by Flux until `goc rebuild` keeps them in the spool",
			"spool", s.opt.Spool)
		return nil
	}
	return s.sp.setMeta(ctx, "windows_of", key)
}

// ProbeStatuses returns every portal's newest result with its uptime windows (see
// above). The answer is kept with the probes version it was read at and given again
// while it stands. Every caller gets the same Statuses: read them, never change them
// (the query layer copies what it needs).
func (s *Store) ProbeStatuses(ctx context.Context) (store.ProbeStatuses, error) {
	k := &s.statuses
	k.mu.Lock()
	version, err := s.ProbesVersion(ctx)
	if err != nil {
		k.mu.Unlock()
		return store.ProbeStatuses{}, err
	}
	if k.version == version {
		defer k.mu.Unlock()
		return k.val, nil
	}
	c := k.call
	if c == nil || c.version != version {
		c = &statusCall{version: version, done: make(chan struct{})}
		k.call = c
		// The read is not the caller's: it goes on if the caller gives up, and the
		// next caller takes its answer.
		go s.readStatuses(context.WithoutCancel(ctx), c)
	}
	k.mu.Unlock()
	select {
	case <-c.done:
		return c.val, c.err
	case <-ctx.Done():
		return store.ProbeStatuses{}, fmt.Errorf("influx: probe statuses: %w", ctx.Err())
	}
}

// keptStatuses is the last answer of ProbeStatuses and what the Flux windows need.
type keptStatuses struct {
	mu      sync.Mutex
	version string // the probes version val was read at
	val     store.ProbeStatuses
	call    *statusCall // the read under way, if any

	// The Flux path's last windows read, the hour they end in, and when a read last
	// failed.
	windows     map[string]uptime.Windows
	windowsAsOf time.Time
	failedAt    time.Time
}

// statusCall is one read of the statuses that callers of one probes version share.
type statusCall struct {
	version string
	done    chan struct{}
	val     store.ProbeStatuses
	err     error
}

func (s *Store) readStatuses(ctx context.Context, c *statusCall) {
	val, keep, err := s.probeStatuses(ctx)
	k := &s.statuses
	k.mu.Lock()
	if err == nil && keep {
		// Stamped with the version read before: a change meanwhile has moved it, and
		// the next reader reads again.
		k.version, k.val = c.version, val
	}
	if k.call == c {
		k.call = nil
	}
	k.mu.Unlock()
	c.val, c.err = val, err
	close(c.done)
}

// probeStatuses reads the statuses; keep is false for an answer made without InfluxDB
// or with windows older than the history's, which is given once and not kept.
func (s *Store) probeStatuses(ctx context.Context) (out store.ProbeStatuses, keep bool, err error) {
	if err := s.enter("probe statuses"); err != nil {
		return store.ProbeStatuses{}, false, err
	}
	defer s.mu.RUnlock()
	out, kept, err := s.sp.keptStatuses(ctx, s.windowsKey(), &s.decoded)
	if err != nil {
		return store.ProbeStatuses{}, false, fmt.Errorf("influx: probe statuses: read spool: %w", err)
	}
	if kept {
		return out, true, nil
	}
	out, keep, err = s.fluxStatuses(ctx)
	if err != nil {
		return store.ProbeStatuses{}, false, fmt.Errorf("influx: probe statuses: %w", err)
	}
	return out, keep, nil
}

// decodedProbes keeps each portal's newest result as last decoded from the spool's
// ledger, with its JSON: a status read decodes only the results that changed since
// (a minute's share of the portals at most), not 10,000 JSON documents.
type decodedProbes struct {
	mu sync.Mutex // held for a whole read
	by map[string]decodedProbe
}

type decodedProbe struct {
	json string
	r    indicators.ProbeResult
}

// keptStatuses reads the statuses from the spool in one read transaction, so that the
// windows, their hour and the newest results agree; kept is false (and nothing read)
// when the spool does not keep the windows of the buckets named key.
func (sp *spool) keptStatuses(ctx context.Context, key string, dec *decodedProbes) (out store.ProbeStatuses, kept bool, err error) {
	if key == "" {
		return out, false, nil
	}
	dec.mu.Lock()
	defer dec.mu.Unlock()
	prev := dec.by
	next := make(map[string]decodedProbe, len(prev))
	tx, err := sp.readers.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return out, false, err
	}
	defer tx.Rollback()
	if kept, err := keepsWindows(ctx, tx, key); err != nil || !kept {
		return out, false, err
	}
	if out.AsOf, _, err = uptime.AsOf(ctx, tx); err != nil {
		return out, false, err
	}
	var n int
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM probe_ledger").Scan(&n); err != nil {
		return out, false, err
	}
	rows, err := tx.QueryContext(ctx, "SELECT l.target, l.result, "+prefixed("w.", uptime.Columns)+`
		FROM probe_ledger l LEFT JOIN probe_windows w ON w.target = l.target ORDER BY l.target`)
	if err != nil {
		return out, false, err
	}
	defer rows.Close()
	out.Statuses = make([]store.ProbeStatus, 0, n)
	var target string
	var js sql.RawBytes
	var c [9]any
	dst := []any{&target, &js}
	for i := range c {
		dst = append(dst, &c[i])
	}
	for rows.Next() {
		if err := rows.Scan(dst...); err != nil {
			return out, false, err
		}
		d, ok := prev[target]
		if !ok || d.json != string(js) {
			d.json = string(js)
			if d.r, err = decodeProbe(d.json); err != nil {
				return out, false, err
			}
		}
		next[target] = d
		r := d.r
		w, err := uptime.Scan(c[:])
		if err != nil {
			return out, false, fmt.Errorf("windows of %s: %w", r.Target, err)
		}
		out.Statuses = append(out.Statuses, store.ProbeStatus{Latest: r, Day: w.Day, Week: w.Week, Month: w.Month})
	}
	if err := rows.Err(); err != nil {
		return out, false, err
	}
	dec.by = next
	return out, true, nil
}

// prefixed qualifies each of a comma-separated list of columns.
func prefixed(p, columns string) string {
	cols := strings.Split(columns, ",")
	for i, c := range cols {
		cols[i] = p + strings.TrimSpace(c)
	}
	return strings.Join(cols, ", ")
}

// fluxStatuses reads the newest results (LatestProbes) and the windows from Flux.
func (s *Store) fluxStatuses(ctx context.Context) (store.ProbeStatuses, bool, error) {
	latest, err := s.latestProbes(ctx)
	if err != nil {
		return store.ProbeStatuses{}, false, err
	}
	out := store.ProbeStatuses{Statuses: make([]store.ProbeStatus, len(latest))}
	var newest time.Time
	for i, r := range latest {
		out.Statuses[i].Latest = r
		if r.Time.After(newest) {
			newest = r.Time
		}
	}
	if len(latest) == 0 {
		return out, true, nil
	}
	if s.opt.LatestFromLedger {
		// Answered from the ledger without InfluxDB, as the latest results are.
		return out, true, nil
	}
	asOf := store.HourOf(newest)
	k := &s.statuses
	k.mu.Lock()
	failedAt, windows, windowsAsOf := k.failedAt, k.windows, k.windowsAsOf
	k.mu.Unlock()
	fresh := false
	if failedAt.IsZero() || s.now().Sub(failedAt) >= windowsRetry {
		got, err := s.fluxWindows(ctx, asOf)
		k.mu.Lock()
		if err == nil {
			k.windows, k.windowsAsOf, k.failedAt = got, asOf, time.Time{}
			windows, windowsAsOf, fresh = got, asOf, true
		} else {
			k.failedAt = s.now()
		}
		k.mu.Unlock()
		if err != nil {
			s.log.Warn("InfluxDB: không đọc được thời gian hoạt động của các cổng / the portals' uptime windows could not be read",
				"error", err, "retry_in", windowsRetry)
		}
	}
	if !fresh {
		// The last windows read (or none), given once: the statuses are not kept
		// (the probes version moves), and the windows are read again after
		// windowsRetry.
		s.probesDegraded.Add(1)
	}
	for i := range out.Statuses {
		st := &out.Statuses[i]
		w := windows[st.Latest.Target]
		st.Day, st.Week, st.Month = w.Day, w.Week, w.Month
	}
	out.AsOf = windowsAsOf
	return out, fresh, nil
}

// RebuildProbeWindows recomputes the windows the spool keeps from the probe history
// in InfluxDB and the results still spooled, as of the hour of the newest result, and
// from then on keeps them as results are written: what `goc rebuild` runs, and what a
// spool that did not count from its first result needs. It holds the spool's writer
// for its whole length, so no result is written meanwhile (writes wait), and reads
// the month of history in one Flux query, streamed. Under a shared ledger the windows
// come from InfluxDB and there is nothing to rebuild.
func (s *Store) RebuildProbeWindows(ctx context.Context) error {
	if err := s.enter("rebuild probe windows"); err != nil {
		return err
	}
	defer s.mu.RUnlock()
	key := s.windowsKey()
	if key == "" {
		return nil
	}
	if err := s.rebuildProbeWindows(ctx, key); err != nil {
		return fmt.Errorf("influx: rebuild probe windows: %w", err)
	}
	return nil
}

// rebuildEvery is how many results the rebuild counts between two writes of what it
// has counted (the counts add up, so they may be written in any number of parts).
const rebuildEvery = 20000

func (s *Store) rebuildProbeWindows(ctx context.Context, key string) error {
	tx, err := s.sp.writer.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	limit := s.now().Add(uptime.MaxAhead)
	cur, err := s.newestCountable(ctx, tx, limit)
	if err != nil {
		return err
	}
	b, err := uptime.NewRebuild(ctx, tx, cur)
	if err != nil {
		return err
	}
	if !cur.IsZero() {
		// What is still spooled counts from the spool; InfluxDB may hold some of it
		// already (sent, not yet removed), which counts once.
		pending, err := queryProbes(ctx, tx, "SELECT result FROM pending_probes")
		if err != nil {
			return fmt.Errorf("read spooled results: %w", err)
		}
		type at struct {
			target string
			nanos  int64
		}
		spooled := make(map[at]bool, len(pending))
		for i := range pending {
			spooled[at{pending[i].Target, pending[i].Time.UnixNano()}] = true
		}
		_, _, monthFrom := store.WindowBounds(cur)
		n := 0
		pred := []string{`r._measurement == ` + fluxString(measProbe), `r._field == ` + fluxString(recordField)}
		err = s.fluxRecords(ctx, s.opt.ProbeBucket, monthFrom, cur.Add(time.Hour), pred, func(record string) error {
			r, err := decodeProbe(record)
			if err != nil {
				return err
			}
			if spooled[at{r.Target, r.Time.UnixNano()}] || r.Time.After(limit) {
				return nil
			}
			b.Add(&r)
			if n++; n%rebuildEvery == 0 {
				return b.EndPortal(ctx)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("read the history: %w", err)
		}
		for i := range pending {
			if !pending[i].Time.After(limit) {
				b.Add(&pending[i])
			}
		}
	}
	if err := b.Finish(ctx); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, "INSERT OR REPLACE INTO meta (key, value) VALUES ('windows_of', ?)", key); err != nil {
		return fmt.Errorf("record the windows kept: %w", err)
	}
	if err := bump(ctx, tx, probesCounter); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// newestCountable is the hour of the newest result at or before limit, in the spool or
// in InfluxDB (zero when there is none): the hour the rebuilt windows end in. The
// probe ledger cannot say, since a portal's newest result may be past limit.
func (s *Store) newestCountable(ctx context.Context, tx *sql.Tx, limit time.Time) (time.Time, error) {
	var newest time.Time
	var spooled sql.NullInt64
	if err := tx.QueryRowContext(ctx, "SELECT max(time) FROM pending_probes WHERE time <= ?", limit.UnixNano()).Scan(&spooled); err != nil {
		return time.Time{}, fmt.Errorf("newest spooled result: %w", err)
	}
	if spooled.Valid {
		newest = time.Unix(0, spooled.Int64)
	}
	// Each series' last point is read from its index; only those are sorted.
	flux := fmt.Sprintf(`from(bucket: %s)
	|> range(start: %s, stop: %s)
	|> filter(fn: (r) => r._measurement == %s and r._field == "success")
	|> filter(fn: (r) => r._time <= %s)
	|> last()
	|> group()
	|> sort(columns: ["_time"], desc: true)
	|> limit(n: 1)`, fluxString(s.opt.ProbeBucket), fluxTime(rangeStart), fluxTime(limit.Add(time.Nanosecond)),
		fluxString(measProbe), fluxTime(limit))
	err := s.fluxRows(ctx, flux, func(rec *query.FluxRecord) error {
		if t := rec.Time(); t.After(newest) {
			newest = t
		}
		return nil
	})
	if err != nil {
		return time.Time{}, fmt.Errorf("newest result in InfluxDB: %w", err)
	}
	if newest.IsZero() {
		return newest, nil
	}
	return store.HourOf(newest), nil
}

// fluxWindows reads every portal's windows as of the hour asOf in one Flux query.
func (s *Store) fluxWindows(ctx context.Context, asOf time.Time) (map[string]uptime.Windows, error) {
	out := map[string]uptime.Windows{}
	err := s.fluxRows(ctx, windowsFlux(s.opt.ProbeBucket, asOf), func(rec *query.FluxRecord) error {
		target, _ := rec.ValueByKey("target").(string)
		ws := out[target]
		var w *store.ProbeWindow
		switch rec.Result()[1:] {
		case "day":
			w = &ws.Day
		case "week":
			w = &ws.Week
		case "month":
			w = &ws.Month
		default:
			return nil
		}
		switch rec.Result()[0] {
		case 'c':
			w.Probes = int(asInt64(rec.ValueByKey("probes")))
			w.Successes = int(asInt64(rec.ValueByKey("ok")))
		case 'm':
			if f, ok := rec.ValueByKey("phase_total").(float64); ok {
				w.Median = &f
			}
		}
		out[target] = ws
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// windowsFlux is the one query behind the windows: its results are named c or m
// (counts, median) followed by the window.
func windowsFlux(bucket string, asOf time.Time) string {
	dayFrom, weekFrom, monthFrom := store.WindowBounds(asOf)
	stop := asOf.Add(time.Hour)
	q := fmt.Sprintf(`data = from(bucket: %s)
	|> range(start: %s, stop: %s)
	|> filter(fn: (r) => r._measurement == %s and (r._field == "success" or r._field == "phase_total"))
	|> filter(fn: (r) => r._time < %s)
	|> pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")
	|> group(columns: ["target"])
`, fluxString(bucket), fluxTime(monthFrom), fluxTime(stop), fluxString(measProbe), fluxTime(stop))
	for _, w := range []struct {
		name string
		from time.Time
	}{{"day", dayFrom}, {"week", weekFrom}, {"month", monthFrom}} {
		q += fmt.Sprintf(`data |> filter(fn: (r) => r._time >= %[1]s)
	|> reduce(fn: (r, accumulator) => ({probes: accumulator.probes + 1, ok: accumulator.ok + (if r.success then 1 else 0)}), identity: {probes: 0, ok: 0})
	|> yield(name: "c%[2]s")
data |> filter(fn: (r) => r._time >= %[1]s and r.success)
	|> median(column: "phase_total")
	|> yield(name: "m%[2]s")
`, fluxTime(w.from), w.name)
	}
	return q
}

func asInt64(v any) int64 {
	switch n := v.(type) {
	case int64:
		return n
	case uint64:
		return int64(n)
	case float64:
		return int64(n)
	}
	return 0
}
