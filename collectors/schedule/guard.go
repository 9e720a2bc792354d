package schedule

import (
	"errors"
	"sync"
	"time"
)

// guard watches one job's runs against its grid of slots: first, first+interval,
// first+2·interval, ... Each slot should get exactly one run. The guard measures how
// late each run started, counts slots that got no run (missed), refuses a run that
// would overlap the previous one, and drops a run that arrives for a slot already
// served (one that waited behind the concurrency limit for longer than an interval).
// It is what makes "no overlapping and no missed runs" visible in the metrics.
type guard struct {
	kind     string
	first    time.Time
	interval time.Duration
	mon      *Monitor

	mu      sync.Mutex
	running bool
	began   bool  // the run under way has a runner (it is in flight, not waiting)
	last    int64 // the slot of the last run; -1 before the first
}

var (
	errOverlap = errors.New("the previous run is still going")
	errServed  = errors.New("this slot already had its run")
)

func newGuard(kind string, first time.Time, interval time.Duration, mon *Monitor) *guard {
	return &guard{kind: kind, first: first, interval: interval, mon: mon, last: -1}
}

// arm sets the guard for a scheduler started at start: slots before it are not
// missed, they were never due.
func (g *guard) arm(start time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.last = -1
	if start.After(g.first) {
		g.last = int64((start.Sub(g.first)+g.interval-1)/g.interval) - 1
	}
}

// enter is called when a run is about to start; an error means it must not.
func (g *guard) enter(now time.Time) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.running {
		g.mon.Overlaps.WithLabelValues(g.kind).Inc()
		return errOverlap
	}
	slot := g.slotAt(now)
	if slot <= g.last {
		g.mon.Dropped.WithLabelValues(g.kind).Inc()
		return errServed
	}
	if missed := slot - g.last - 1; missed > 0 {
		g.mon.Missed.WithLabelValues(g.kind).Add(float64(missed))
	}
	g.last = slot
	g.running = true
	return nil
}

// slotAt is the slot a run starting at now belongs to.
func (g *guard) slotAt(now time.Time) int64 {
	// A timer may fire a hair before its slot on a busy machine's clock; a run that
	// close belongs to the slot it was meant for.
	slack := min(g.interval/10, 100*time.Millisecond)
	return max(0, int64((now.Sub(g.first)+slack)/g.interval))
}

// cede marks a slot as served by another replica: it is neither run here nor counted
// as missed here.
func (g *guard) cede(slot int64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if slot > g.last {
		g.last = slot
	}
}

// begin is called when a run that entered its slot gets a runner and starts: how late
// that is, waiting for a runner included, is its scheduling delay.
func (g *guard) begin(now time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	delay := max(0, now.Sub(g.first)-time.Duration(g.last)*g.interval)
	g.mon.Delay.WithLabelValues(g.kind).Observe(delay.Seconds())
	g.mon.InFlight.WithLabelValues(g.kind).Inc()
	g.began = true
}

// skip is called when a slot found every runner busy: it is counted as missed (with
// any slots missed before it) and will not run.
func (g *guard) skip(now time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	slot := g.slotAt(now)
	if slot <= g.last {
		return
	}
	g.mon.Missed.WithLabelValues(g.kind).Add(float64(slot - g.last))
	g.last = slot
}

// leave is called when a run ends.
func (g *guard) leave() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.running = false
	if g.began {
		g.mon.InFlight.WithLabelValues(g.kind).Dec()
		g.began = false
	}
}
