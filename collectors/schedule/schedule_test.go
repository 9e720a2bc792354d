package schedule_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/g-oc/goc/collectors/probe"
	"github.com/g-oc/goc/collectors/schedule"
	"github.com/g-oc/goc/internal/outbound"
	"github.com/g-oc/goc/internal/store/sqlite"
)

func openStore(t *testing.T) *sqlite.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "goc.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// metric sums the samples of a family whose labels include every pair given.
func metric(t *testing.T, reg *prometheus.Registry, name string, labels ...string) float64 {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			if !hasLabels(m, labels) {
				continue
			}
			switch {
			case m.Counter != nil:
				sum += m.Counter.GetValue()
			case m.Gauge != nil:
				sum += m.Gauge.GetValue()
			case m.Histogram != nil:
				sum += float64(m.Histogram.GetSampleCount())
			}
		}
	}
	return sum
}

// sums is metric for several families of kind="probe" at once, in one gather.
func sums(t *testing.T, reg *prometheus.Registry, names ...string) []float64 {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := make([]float64, len(names))
	for _, f := range fams {
		i := slices.Index(names, f.GetName())
		if i < 0 {
			continue
		}
		for _, m := range f.GetMetric() {
			if !hasLabels(m, []string{"kind", "probe"}) {
				continue
			}
			switch {
			case m.Counter != nil:
				out[i] += m.Counter.GetValue()
			case m.Gauge != nil:
				out[i] += m.Gauge.GetValue()
			case m.Histogram != nil:
				out[i] += float64(m.Histogram.GetSampleCount())
			}
		}
	}
	return out
}

func hasLabels(m *dto.Metric, pairs []string) bool {
	for i := 0; i+1 < len(pairs); i += 2 {
		ok := false
		for _, lp := range m.GetLabel() {
			if lp.GetName() == pairs[i] && lp.GetValue() == pairs[i+1] {
				ok = true
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// TestThousandTargetsRunEveryIntervalWithoutOverlapOrMiss is the acceptance
// run: 1,000 loopback portals every minute for four intervals. Every slot of every
// target must get exactly one run, and the metrics must say so. Time is a fake clock
// that moves only once the runs due have ended, so a loaded machine makes the test
// slower, never wrong: the probes themselves are real HTTP requests on loopback.
func TestThousandTargetsRunEveryIntervalWithoutOverlapOrMiss(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, `<html><head><meta name="viewport" content="width=device-width"></head><body>ok</body></html>`)
	}))
	defer srv.Close()
	st := openStore(t)
	reg := prometheus.NewRegistry()
	prober, err := probe.New(probe.Options{Timeout: 10 * time.Second, Checks: []string{probe.CheckHTTP}, Outbound: loopbackAllowed})
	if err != nil {
		t.Fatal(err)
	}
	const n, intervals, interval = 1000, 4, time.Minute
	// Offsets are rounded to 6 s windows (at most a quarter of the 400 runners in one
	// window: 100 portals), so the clock can stop between windows, 3 s past each.
	const window, steps = 6 * time.Second, intervals * int(interval/(6*time.Second))
	clock := clockwork.NewFakeClockAt(time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC))
	jobs := make([]schedule.ProbeJob, n)
	for i := range jobs {
		jobs[i] = schedule.ProbeJob{Interval: interval,
			Target: probe.Target{URL: fmt.Sprintf("%s/portal/%04d", srv.URL, i), Agency: "P20"}}
	}
	sink := schedule.NewSink(st, 500*time.Millisecond, nil, nil)
	s, err := schedule.New(schedule.Options{Prober: prober, Probes: jobs, Sink: sink, Concurrency: 400,
		BatchWindow: window, Registerer: reg, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	settled := func(want float64) bool {
		m := sums(t, reg, "goc_collector_scheduling_delay_seconds", "goc_collector_missed_runs_total",
			"goc_collector_dropped_runs_total", "goc_collector_overlapping_runs_total",
			"goc_collector_runs_in_flight", "goc_collector_runs_waiting")
		return m[0]+m[1]+m[2]+m[3] >= want && m[4] == 0 && m[5] == 0
	}
	began := time.Now()
	// The grid starts at the next whole second; the first stop is half a window past
	// it, and each later one a window further: every stop passes the slots of one
	// window of 100 portals.
	clock.Advance(time.Second + window/2)
	for step := 1; step <= steps; step++ {
		if step > 1 {
			clock.Advance(window)
		}
		want := float64(step * n / (steps / intervals))
		waitUntil(t, fmt.Sprintf("the %.0f slots due by step %d to be run or counted", want, step), func() bool { return settled(want) })
	}
	t.Logf("%d steps of the fake clock in %s", steps, time.Since(began).Round(time.Millisecond))
	if err := s.Shutdown(); err != nil {
		t.Fatal(err)
	}

	runs := metric(t, reg, "goc_collector_runs_total", "kind", "probe")
	ok := metric(t, reg, "goc_collector_runs_total", "kind", "probe", "status", "success")
	t.Logf("%d targets every %s for %d intervals: %.0f runs (%.0f succeeded), %d requests served",
		n, interval, intervals, runs, ok, hits.Load())
	for _, name := range []string{"goc_collector_overlapping_runs_total", "goc_collector_missed_runs_total", "goc_collector_dropped_runs_total"} {
		if v := metric(t, reg, name, "kind", "probe"); v != 0 {
			t.Errorf("%s = %v, want 0", name, v)
		}
	}
	if runs != n*intervals || ok != runs {
		t.Errorf("%.0f runs, %.0f succeeded; want %d, all of them (loopback portals that answer)", runs, ok, n*intervals)
	}
	// gocron calls the timing methods only through WithMonitorStatus, and counts runs
	// only through WithMonitor: both must have the monitor.
	if d := metric(t, reg, "goc_collector_run_duration_seconds", "kind", "probe"); d != runs {
		t.Errorf("%v run durations recorded for %.0f runs", d, runs)
	}
	if v := metric(t, reg, "goc_collector_jobs", "kind", "probe"); v != n {
		t.Errorf("goc_collector_jobs = %v, want %d", v, n)
	}
	// Every result reached the store: one per target per interval.
	for i := range n {
		rs, err := st.ProbeResults(context.Background(), jobs[i].Target.URL, time.Time{}, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		if len(rs) != intervals {
			t.Fatalf("target %d ran %d times in %d intervals, want once in each", i, len(rs), intervals)
		}
	}
	latest, err := st.LatestProbes(context.Background())
	if err != nil || len(latest) != n {
		t.Errorf("latest probes: %d, err %v; want %d", len(latest), err, n)
	}
	if v := metric(t, reg, "probe_success", "agency", "P20"); v != n {
		t.Errorf("sum of probe_success = %v, want %d", v, n)
	}
}

// TestSlowPortalIsNeverProbedTwiceAtOnceAndItsMissedSlotsShow holds a portal's answer
// for three of its slots, on a fake clock: the slots that come while it is being
// probed must be neither run beside it nor queued behind it, and must show as missed.
func TestSlowPortalIsNeverProbedTwiceAtOnceAndItsMissedSlotsShow(t *testing.T) {
	g := newGate()
	var inFlight, maxInFlight atomic.Int32
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for {
			m := maxInFlight.Load()
			if n <= m || maxInFlight.CompareAndSwap(m, n) {
				break
			}
		}
		g.ServeHTTP(w, r)
	}))
	defer slow.Close()
	defer g.release()
	const interval = 500 * time.Millisecond
	clock := clockwork.NewFakeClockAt(time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC))
	reg := prometheus.NewRegistry()
	prober, _ := probe.New(probe.Options{Timeout: time.Minute, Checks: []string{probe.CheckHTTP}, Outbound: loopbackAllowed})
	sink := schedule.NewSink(openStore(t), 0, nil, nil)
	s, err := schedule.New(schedule.Options{Prober: prober, Sink: sink, Registerer: reg, Clock: clock,
		Probes: []schedule.ProbeJob{{Target: probe.Target{URL: slow.URL, Agency: "P20"}, Interval: interval}}})
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	ctx := context.Background()
	runs := func() float64 { return metric(t, reg, "goc_collector_runs_total", "kind", "probe") }
	// gocron keeps one timer per job: when the clock has one waiter again, the slot
	// that just came has been handed over (run, or put off because the last run goes on).
	advance := func(d time.Duration) {
		clock.Advance(d)
		if err := clock.BlockUntilContext(ctx, 1); err != nil {
			t.Fatal(err)
		}
	}
	advance(time.Second + interval/2) // the first slot: the probe starts and is held
	waitUntil(t, "the first probe to reach the portal", func() bool { return g.arrived.Load() == 1 })
	for range 3 { // three slots while it is held
		advance(interval)
	}
	g.release()
	waitUntil(t, "the held probe to end", func() bool { return runs() == 1 })
	advance(interval) // the next slot after it ended runs
	waitUntil(t, "the probe after the held one to reach the portal", func() bool { return g.arrived.Load() == 2 })
	g.release()
	waitUntil(t, "the second probe to end", func() bool { return runs() == 2 })
	if err := s.Shutdown(); err != nil {
		t.Fatal(err)
	}
	if m := maxInFlight.Load(); m != 1 {
		t.Errorf("the portal saw %d probes at once, want 1", m)
	}
	if missed := metric(t, reg, "goc_collector_missed_runs_total", "kind", "probe"); missed != 3 {
		t.Errorf("%v missed slots, want the 3 that came while the portal was held", missed)
	}
	if v := metric(t, reg, "goc_collector_overlapping_runs_total", "kind", "probe"); v != 0 {
		t.Errorf("overlapping runs = %v, want 0", v)
	}
}

func TestDuplicateTargetsAreRefused(t *testing.T) {
	prober, _ := probe.New(probe.Options{Outbound: loopbackAllowed})
	job := schedule.ProbeJob{Target: probe.Target{URL: "http://127.0.0.1:1/"}, Interval: time.Minute}
	_, err := schedule.New(schedule.Options{Prober: prober, Sink: schedule.NewSink(openStore(t), 0, nil, nil),
		Probes: []schedule.ProbeJob{job, job}})
	if err == nil || !strings.Contains(err.Error(), "listed twice") {
		t.Fatalf("err = %v", err)
	}
}

// loopbackAllowed lets probes reach this test's portals, all on loopback, as an
// operator allows internal portals in outbound.allow.
var loopbackAllowed = outbound.MustPolicy("127.0.0.1/32", "::1/128")
