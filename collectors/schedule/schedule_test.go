package schedule_test

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

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
// run: 1,000 loopback portals every 2 s for four intervals. Every slot of every
// target must get exactly one run, and the metrics must say so.
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
	prober, err := probe.New(probe.Options{Timeout: 2 * time.Second, Outbound: loopbackAllowed})
	if err != nil {
		t.Fatal(err)
	}
	const n, interval = 1000, 2 * time.Second
	jobs := make([]schedule.ProbeJob, n)
	for i := range jobs {
		jobs[i] = schedule.ProbeJob{Interval: interval,
			Target: probe.Target{URL: fmt.Sprintf("%s/portal/%04d", srv.URL, i), Agency: "P20"}}
	}
	sink := schedule.NewSink(st, 500*time.Millisecond, nil, nil)
	// Room for every job to wait for a runner: this test is about every slot running
	// on a busy machine, not about overload (TestOverloadedScheduleMissesSlotsInsteadOfQueueingThem).
	s, err := schedule.New(schedule.Options{Prober: prober, Probes: jobs, Sink: sink, Concurrency: 64, Pending: n, Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	s.Start()
	time.Sleep(4*interval + time.Second) // the grid starts up to a second after Start
	if err := s.Shutdown(); err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(start)

	runs := metric(t, reg, "goc_collector_runs_total", "kind", "probe")
	ok := metric(t, reg, "goc_collector_runs_total", "kind", "probe", "status", "success")
	t.Logf("%d targets every %s for %s: %.0f runs (%.0f succeeded), %d requests served, scheduling delays recorded: %.0f",
		n, interval, elapsed.Round(time.Millisecond), runs, ok, hits.Load(), metric(t, reg, "goc_collector_scheduling_delay_seconds", "kind", "probe"))
	for _, name := range []string{"goc_collector_overlapping_runs_total", "goc_collector_missed_runs_total", "goc_collector_dropped_runs_total"} {
		if v := metric(t, reg, name, "kind", "probe"); v != 0 {
			t.Errorf("%s = %v, want 0", name, v)
		}
	}
	if runs != ok {
		t.Errorf("%.0f runs but %.0f succeeded: every loopback probe should succeed", runs, ok)
	}
	// gocron calls the timing methods only through WithMonitorStatus, and counts runs
	// only through WithMonitor: both must have the monitor.
	if d := metric(t, reg, "goc_collector_run_duration_seconds", "kind", "probe"); d != runs {
		t.Errorf("%v run durations recorded for %.0f runs", d, runs)
	}
	if runs < 3*n {
		t.Errorf("%.0f runs in %s, want at least %d (three slots per target)", runs, elapsed, 3*n)
	}
	if v := metric(t, reg, "goc_collector_jobs", "kind", "probe"); v != n {
		t.Errorf("goc_collector_jobs = %v, want %d", v, n)
	}
	// Every result reached the store, and every target ran once in every slot from its
	// first run to its last: as many runs as slots spanned.
	total := 0
	for i := range n {
		rs, err := st.ProbeResults(context.Background(), jobs[i].Target.URL, time.Time{}, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		if len(rs) < 3 {
			t.Fatalf("target %d ran %d times, want at least 3", i, len(rs))
		}
		// The first and last runs may each start late within their slot, so the span
		// is a whole number of intervals give or take those delays.
		span := rs[len(rs)-1].Time.Sub(rs[0].Time)
		if slots := span.Seconds()/interval.Seconds() + 1; math.Abs(slots-float64(len(rs))) > 0.75 {
			t.Fatalf("target %d ran %d times over %.2f slots (%s)", i, len(rs), slots, span)
		}
		for j := 1; j < len(rs); j++ {
			// One run per slot: consecutive runs are less than two intervals apart,
			// however late each started within its slot.
			if gap := rs[j].Time.Sub(rs[j-1].Time); gap <= 0 || gap >= 2*interval {
				t.Fatalf("target %d: runs %s apart, want about %s", i, gap, interval)
			}
		}
		total += len(rs)
	}
	if float64(total) != runs {
		t.Errorf("%d results stored for %.0f runs", total, runs)
	}
	latest, err := st.LatestProbes(context.Background())
	if err != nil || len(latest) != n {
		t.Errorf("latest probes: %d, err %v; want %d", len(latest), err, n)
	}
	if v := metric(t, reg, "probe_success", "agency", "P20"); v != n {
		t.Errorf("sum of probe_success = %v, want %d", v, n)
	}
}

func TestSlowPortalIsNeverProbedTwiceAtOnceAndItsMissedSlotsShow(t *testing.T) {
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
		time.Sleep(1300 * time.Millisecond) // longer than the interval
		io.WriteString(w, "ok")
	}))
	defer slow.Close()
	reg := prometheus.NewRegistry()
	prober, _ := probe.New(probe.Options{Timeout: 5 * time.Second, Checks: []string{probe.CheckHTTP}, Outbound: loopbackAllowed})
	sink := schedule.NewSink(openStore(t), 0, nil, nil)
	s, err := schedule.New(schedule.Options{Prober: prober, Sink: sink, Registerer: reg,
		Probes: []schedule.ProbeJob{{Target: probe.Target{URL: slow.URL, Agency: "P20"}, Interval: 500 * time.Millisecond}}})
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	time.Sleep(4 * time.Second)
	if err := s.Shutdown(); err != nil {
		t.Fatal(err)
	}
	if m := maxInFlight.Load(); m != 1 {
		t.Errorf("the portal saw %d probes at once, want 1", m)
	}
	runs := metric(t, reg, "goc_collector_runs_total", "kind", "probe")
	missed := metric(t, reg, "goc_collector_missed_runs_total", "kind", "probe")
	if runs < 2 || missed < runs {
		t.Errorf("%v runs and %v missed slots: a 1.3 s probe every 0.5 s must miss about two slots per run", runs, missed)
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
