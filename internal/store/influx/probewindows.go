package influx

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/influxdata/influxdb-client-go/v2/api/query"

	"github.com/g-oc/goc/internal/store"
)

var _ store.ProbeStatusReader = (*Store)(nil)

// ProbeStatuses returns every portal's newest result (as LatestProbes) with its uptime
// windows, which InfluxDB computes on the server in one Flux query over the probe
// history: one pivot of success and total duration, then per window a count of probes
// and successes and a median of the successful durations per portal. The windows end
// in the hour of the newest result, as the SQLite store's do; results still in the
// spool count once they reach InfluxDB. While InfluxDB is away the windows are empty
// and the latest results come from the spool.
//
// The statuses are kept with the probes version they were read at and given again
// while it stands: the windows are one Flux query over a month of every portal's
// history, seconds at national scale, and a card or a page asks for them on every
// request. One reader reads them; readers arriving meanwhile wait for it. Every
// caller gets the same Statuses: read them, never change them (the query layer copies
// what it needs).
func (s *Store) ProbeStatuses(ctx context.Context) (store.ProbeStatuses, error) {
	s.statuses.mu.Lock()
	defer s.statuses.mu.Unlock()
	version, err := s.ProbesVersion(ctx)
	if err != nil {
		return store.ProbeStatuses{}, err
	}
	if s.statuses.version == version {
		return s.statuses.val, nil
	}
	out, err := s.probeStatuses(ctx)
	if err != nil {
		return out, err
	}
	// Stamped with the version read before: a change meanwhile has moved it, and the
	// next reader reads again. A read without InfluxDB has moved it too, so it is
	// never given again.
	s.statuses.version, s.statuses.val = version, out
	return out, nil
}

// keptStatuses is the last answer of ProbeStatuses and the probes version it was
// read at.
type keptStatuses struct {
	mu      sync.Mutex // held while a reader reads them, so that one reads
	version string
	val     store.ProbeStatuses
}

func (s *Store) probeStatuses(ctx context.Context) (store.ProbeStatuses, error) {
	latest, err := s.LatestProbes(ctx)
	if err != nil {
		return store.ProbeStatuses{}, err
	}
	out := store.ProbeStatuses{Statuses: make([]store.ProbeStatus, len(latest))}
	at := make(map[string]int, len(latest))
	var newest time.Time
	for i, r := range latest {
		out.Statuses[i].Latest = r
		at[r.Target] = i
		if r.Time.After(newest) {
			newest = r.Time
		}
	}
	if len(latest) == 0 {
		return out, nil
	}
	out.AsOf = store.HourOf(newest)
	if err := s.enter("probe statuses"); err != nil {
		return store.ProbeStatuses{}, err
	}
	defer s.mu.RUnlock()
	if s.opt.LatestFromLedger {
		return out, nil
	}
	err = s.fluxRows(ctx, windowsFlux(s.opt.ProbeBucket, out.AsOf), func(rec *query.FluxRecord) error {
		target, _ := rec.ValueByKey("target").(string)
		i, ok := at[target]
		if !ok {
			return nil // a portal whose newest result has gone: not listed
		}
		var w *store.ProbeWindow
		st := &out.Statuses[i]
		switch rec.Result()[1:] {
		case "day":
			w = &st.Day
		case "week":
			w = &st.Week
		case "month":
			w = &st.Month
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
		return nil
	})
	if err != nil {
		if ctx.Err() != nil {
			return store.ProbeStatuses{}, fmt.Errorf("influx: probe statuses: %w", err)
		}
		// The latest state still answers from the spool's ledger; the windows wait
		// for InfluxDB, and the statuses without them are not kept (ProbesVersion).
		out.AsOf = time.Time{}
		s.probesDegraded.Add(1)
		return out, nil
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
