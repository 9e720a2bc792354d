package schedule_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/g-oc/goc/collectors/probe"
	"github.com/g-oc/goc/collectors/schedule"
)

// gate holds every request until the test opens it, so a probe lasts exactly as long
// as the test says, on a fake clock.
type gate struct {
	mu      sync.Mutex
	open    chan struct{}
	arrived atomic.Int64
}

func newGate() *gate { return &gate{open: make(chan struct{})} }

func (g *gate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	open := g.open
	g.mu.Unlock()
	g.arrived.Add(1)
	<-open
	w.Write([]byte("ok"))
}

// release lets every request held so far finish.
func (g *gate) release() {
	g.mu.Lock()
	close(g.open)
	g.open = make(chan struct{})
	g.mu.Unlock()
}

// waitUntil waits for a condition that the scheduler's own goroutines make true; it
// polls because the condition is a set of Prometheus counters, and fails after 20 s.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited 20 s for %s", what)
		}
		runtime.Gosched()
		<-time.After(200 * time.Microsecond)
	}
}

// TestOverloadedScheduleMissesSlotsInsteadOfQueueingThem asks more than the
// scheduler can do: 40 portals every 10 s with 20 runners and 10 places to wait,
// each probe lasting until the test lets it end. Every slot must end as a run or a missed slot counted at once, and
// the goroutines and heap must stay flat over 100 intervals (of a fake clock) instead
// of growing by the 20 slots an interval that cannot run.
func TestOverloadedScheduleMissesSlotsInsteadOfQueueingThem(t *testing.T) {
	g := newGate()
	srv := httptest.NewServer(g)
	defer srv.Close()
	defer g.release()
	const jobs, runners, pending, ticks, interval = 40, 20, 10, 100, 10 * time.Second
	clock := clockwork.NewFakeClockAt(time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC))
	reg := prometheus.NewRegistry()
	prober, err := probe.New(probe.Options{Timeout: time.Minute, Checks: []string{probe.CheckHTTP}, Outbound: loopbackAllowed})
	if err != nil {
		t.Fatal(err)
	}
	list := make([]schedule.ProbeJob, jobs)
	for i := range list {
		list[i] = schedule.ProbeJob{Interval: interval, Target: probe.Target{URL: fmt.Sprintf("%s/p/%02d", srv.URL, i), Agency: "P20"}}
	}
	sink := schedule.NewSink(openStore(t), 0, nil, nil)
	s, err := schedule.New(schedule.Options{Prober: prober, Probes: list, Sink: sink, Concurrency: runners,
		Pending: pending, Registerer: reg, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	defer func() {
		g.release()
		if err := s.Shutdown(); err != nil {
			t.Error(err)
		}
	}()
	started := func() float64 { return metric(t, reg, "goc_collector_scheduling_delay_seconds", "kind", "probe") }
	waiting := func() float64 { return metric(t, reg, "goc_collector_runs_waiting", "kind", "probe") }
	accounted := func() float64 {
		return started() + waiting() + metric(t, reg, "goc_collector_missed_runs_total", "kind", "probe") +
			metric(t, reg, "goc_collector_dropped_runs_total", "kind", "probe") +
			metric(t, reg, "goc_collector_overlapping_runs_total", "kind", "probe")
	}
	var goroutines []int
	late := 0
	var heap []uint64
	// The grid starts at the next whole second and the jobs' offsets spread over the
	// interval (the last at 9.75 s); each step moves the clock past every job's slot of
	// that interval, and short of the next by more than the 100 ms a timer may fire
	// early, so every job has exactly one slot per step.
	clock.Advance(time.Second + 9800*time.Millisecond)
	for tick := 1; tick <= ticks; tick++ {
		if tick > 1 {
			clock.Advance(interval)
		}
		// Every slot runs or is counted missed at once, except in a rare race: a job
		// whose runner has not yet marked its previous run done when its next slot
		// comes is put off by gocron's singleton mode silently, and its guard counts
		// that slot when the job next runs. So this wait gives up after a second.
		want := float64(jobs * tick)
		if !settled(func() bool { return accounted() >= want }) {
			late++
		}
		n := started()
		waitUntil(t, "the started probes to reach the portal", func() bool { return float64(g.arrived.Load()) >= n })
		goroutines = append(goroutines, runtime.NumGoroutine())
		if tick == 20 || tick == ticks {
			var ms runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&ms)
			heap = append(heap, ms.HeapInuse)
		}
		// Every probe of this interval, those that waited included, ends before the
		// next interval's slots come.
		for {
			g.release()
			waitUntil(t, "the waiting runs to start", func() bool {
				return waiting() == 0 && float64(g.arrived.Load()) >= started()
			})
			if metric(t, reg, "goc_collector_runs_in_flight", "kind", "probe") == 0 {
				break
			}
		}
	}
	runs, missed := started(), metric(t, reg, "goc_collector_missed_runs_total", "kind", "probe")
	if late > ticks/10 {
		t.Errorf("in %d of %d intervals some slot was neither run nor counted missed within a second", late, ticks)
	}
	if all := runs + missed; all < float64(jobs*(ticks-1)) || all > float64(jobs*ticks) {
		t.Errorf("%.0f runs and %.0f missed for %d slots", runs, missed, jobs*ticks)
	}
	t.Logf("%d slots: %.0f runs, %.0f missed; goroutines %d after 20 intervals, %d after %d; heap %d KiB after 20, %d KiB after %d",
		jobs*ticks, runs, missed, goroutines[19], goroutines[ticks-1], ticks, heap[0]>>10, heap[1]>>10, ticks)
	// Each interval, 20 slots run, 10 wait and run once those end, and 10 are missed.
	if runs > (runners+pending)*ticks {
		t.Errorf("%.0f runs in %d intervals with %d runners and %d waiting places", runs, ticks, runners, pending)
	}
	if runs < (runners+pending)*ticks*9/10 {
		t.Errorf("%.0f runs, want about %d: the runners should stay busy", runs, (runners+pending)*ticks)
	}
	if missed < float64((jobs-runners-pending)*ticks*9/10) {
		t.Errorf("%.0f missed slots, want about %d", missed, (jobs-runners-pending)*ticks)
	}
	// Medians, because a sample now and then catches short-lived goroutines (the
	// registry's own Gather, connections closing); a queue would grow at every step.
	early, late := median(goroutines[10:20]), median(goroutines[ticks-30:])
	if late > early+runners {
		t.Errorf("goroutines grew from %d (median of intervals 10-20) to %d (median of the last 30): slots that cannot run are being queued", early, late)
	}
	if heap[1] > heap[0]+8<<20 {
		t.Errorf("heap grew from %d KiB to %d KiB", heap[0]>>10, heap[1]>>10)
	}
}

// settled reports whether cond became true within a second.
func settled(cond func() bool) bool {
	deadline := time.Now().Add(time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		runtime.Gosched()
		<-time.After(200 * time.Microsecond)
	}
	return true
}

func median(xs []int) int {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}
