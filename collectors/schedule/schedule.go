// Package schedule runs G-OC's collectors on gocron v2: one named job per probe
// target and per feed, plus an hourly job that writes the monthly portal indicators.
//
//   - Every job runs in singleton mode: a run never starts while the same job's
//     previous run is still going.
//   - Jobs that share an interval start at evenly spread offsets across it, so 10,000
//     portals probed every minute make about 167 probes a second, not 10,000 at :00.
//   - A scheduler-wide limit caps how many runs go on at once (Concurrency), and a
//     fixed number more may wait for a runner (Pending). A slot that finds both full is
//     not queued: it is counted as missed and the job waits for its next slot. gocron's
//     wait mode would instead park one goroutine per such slot, and a schedule asking
//     more than the machine can do grew to 188,000 goroutines and 1.4 GB in under two
//     minutes.
//   - Start times are rounded down to a multiple of BatchWindow (25 ms by default), so
//     the probes due within one window start together: the runtime wakes once for
//     them instead of once each, and their network waits overlap instead of each
//     putting the process to sleep. Overlap is also what costs timing accuracy: a
//     probe's answer that arrives while the others of its batch hold the CPU is timed
//     late. At 10,000 portals a minute (BENCHMARKS.md, "Probe CPU: batched starts")
//     25 ms windows take a quarter off the CPU of 10 ms ones with a median error of the
//     time to first byte of 0.6 ms on a quiet machine; 50 ms windows raise it to about
//     1 ms.
//   - Monitor exports runs by status, durations, scheduling delay, and overlapping,
//     missed and dropped runs.
//
// Nothing here is global: New builds everything from its Options, and the caller
// starts and stops it.
package schedule

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-co-op/gocron/v2"
	"github.com/google/uuid"
	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/g-oc/goc/collectors/feed"
	"github.com/g-oc/goc/collectors/probe"
	"github.com/g-oc/goc/internal/redact"
)

// ProbeJob is one portal probed every Interval.
type ProbeJob struct {
	Target   probe.Target
	Interval time.Duration
}

// FeedJob is one feed pulled every Interval.
type FeedJob struct {
	Feed     *feed.Feed
	Interval time.Duration
}

// Options configure a Scheduler.
type Options struct {
	Prober *probe.Prober
	Probes []ProbeJob
	// Sink receives every probe result; required when there are probes.
	Sink   *Sink
	Puller *feed.Puller
	Feeds  []FeedJob
	// Summarizer, when set, runs at start and then every SummaryEvery (default 1 h).
	Summarizer   *Summarizer
	SummaryEvery time.Duration
	// Concurrency caps the runs going on at once, across every job (default 300).
	Concurrency int
	// Pending is how many more runs may wait for one of those runners, to ride out a
	// burst (default 4 × Concurrency; negative: none). A slot that finds them all
	// taken is counted missed, not queued. Each place is one idle goroutine of
	// gocron's, made at start.
	Pending int
	// BatchWindow rounds each job's start offset down to a multiple of it (default
	// DefaultBatchWindow; negative: no rounding), never putting more than a quarter of
	// Concurrency in one window. Each job still starts within the window of its even
	// offset, and its slots, claims and delays are counted from the rounded start.
	BatchWindow time.Duration
	// Clock is the scheduler's clock (real time when nil); tests pass a fake one.
	Clock clockwork.Clock
	// Registerer is where the monitor and the probe_* gauges are registered.
	Registerer prometheus.Registerer
	Logger     *slog.Logger
	// Locker, when set, makes the locks shared by every replica of G-OC (gocron's
	// Redis locker): each slot of each job runs on the one replica that claims it (see
	// slotLocker). It is called once per distinct job interval with that interval as
	// the claim's lifetime; its locker must refuse a key already held at once (no
	// retries). Job grids are then aligned on multiples of their interval, so that
	// every replica computes the same slots.
	Locker func(expiry time.Duration) (gocron.Locker, error)
	// Location is the scheduler's time zone (it matters only for logs here: every
	// job runs on an interval).
	Location *time.Location
}

// DefaultBatchWindow is the batch window when Options leave it zero: the widest
// window measured (none, 10, 25, 50 and 100 ms at 10,000 portals a minute) that kept
// the median timing error of probes under 1 ms on a quiet machine (BENCHMARKS.md,
// "Probe CPU: batched starts" and "Probe CPU: 25 ms windows"). On a machine busy with
// other work the error grows (1.1-1.2 ms at a load of 12-25); a deployment that
// values timing precision over CPU sets 10 ms.
const DefaultBatchWindow = 25 * time.Millisecond

// Scheduler is a configured gocron scheduler with G-OC's jobs.
type Scheduler struct {
	cron    gocron.Scheduler
	monitor *Monitor
	sink    *Sink
	guards  []*guard
	log     *slog.Logger
	clock   clockwork.Clock
	batch   time.Duration
	conc    int
	// byID finds a job's guard when gocron reports that the job's slot found every
	// runner busy. Filled before Start, read-only after.
	byID map[uuid.UUID]*guard
	// byName finds a job's guard from the name gocron passes to the locker. Filled
	// before Start, read-only after.
	byName map[string]*guard
	// aligned puts every job's grid on multiples of its interval (with a locker).
	aligned bool
	// locks claims slots when replicas share a locker; nil otherwise.
	locks *slotLocker
	// runners holds a token per run going on; gocron lets Concurrency+Pending runs
	// past its own limit, and those beyond Concurrency wait here.
	runners chan struct{}
	// stop is closed by Shutdown, to let go of runs still waiting for a runner.
	stop     chan struct{}
	stopOnce sync.Once
}

// errProbeFailed makes gocron count a failed probe as a failed run.
var errProbeFailed = errors.New("probe failed")

// job is one job to add: its gocron name, kind, interval and work.
type job struct {
	name, kind string
	interval   time.Duration
	run        func(ctx context.Context) error
	// finish lets a run under way at shutdown complete: gocron cancels a job's context
	// when it shuts down, and a probe cut short would record the portal as down for
	// G-OC's own restart. Probes and pulls have their own timeouts, shorter than the
	// scheduler's stop timeout.
	finish bool
}

// New builds the scheduler and its jobs. Nothing runs until Start.
func New(o Options) (*Scheduler, error) {
	if o.Concurrency <= 0 {
		o.Concurrency = 300
	}
	switch {
	case o.Pending == 0:
		o.Pending = 4 * o.Concurrency
	case o.Pending < 0:
		o.Pending = 0
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Registerer == nil {
		o.Registerer = prometheus.NewRegistry()
	}
	if o.Location == nil {
		o.Location = time.UTC
	}
	if o.Clock == nil {
		o.Clock = clockwork.NewRealClock()
	}
	if o.BatchWindow == 0 {
		o.BatchWindow = DefaultBatchWindow
	}
	if len(o.Probes) > 0 && (o.Prober == nil || o.Sink == nil) {
		return nil, errors.New("schedule: probes need a Prober and a Sink")
	}
	if len(o.Feeds) > 0 && o.Puller == nil {
		return nil, errors.New("schedule: feeds need a Puller")
	}
	mon := NewMonitor(o.Registerer)
	s := &Scheduler{monitor: mon, sink: o.Sink, log: o.Logger, clock: o.Clock, batch: o.BatchWindow,
		conc: o.Concurrency, byID: map[uuid.UUID]*guard{}, byName: map[string]*guard{}, aligned: o.Locker != nil,
		runners: make(chan struct{}, o.Concurrency), stop: make(chan struct{})}
	if o.Sink != nil {
		var fresh map[string]time.Duration
		if o.Locker != nil {
			fresh = map[string]time.Duration{}
			for _, pj := range o.Probes {
				fresh[pj.Target.URL] = pj.Interval + pj.Interval/2
			}
		}
		if err := o.Registerer.Register(newGauges(o.Sink, fresh, o.Clock.Now)); err != nil {
			return nil, fmt.Errorf("schedule: register probe gauges: %w", err)
		}
	}
	opts := append(mon.Options(),
		gocron.WithLimitConcurrentJobs(uint(o.Concurrency+o.Pending), gocron.LimitModeReschedule),
		gocron.WithSchedulerMonitor(limitWatch{s}),
		gocron.WithClock(o.Clock),
		gocron.WithLocation(o.Location),
		gocron.WithStopTimeout(stopTimeout(o)),
		gocron.WithLogger(gocronLogger{o.Logger}),
	)
	if o.Locker != nil {
		s.locks = &slotLocker{s: s, make: o.Locker, by: map[time.Duration]gocron.Locker{}}
		opts = append(opts, gocron.WithDistributedLocker(s.locks))
	}
	cron, err := gocron.NewScheduler(opts...)
	if err != nil {
		return nil, fmt.Errorf("schedule: %w", err)
	}
	s.cron = cron

	var jobs []job
	seen := map[string]bool{}
	for _, pj := range o.Probes {
		t := pj.Target
		name := "probe " + redact.URL(t.URL) // job names reach logs and metrics
		if seen[name] {
			cron.Shutdown()
			return nil, fmt.Errorf("schedule: portal %s is listed twice", redact.URL(t.URL))
		}
		seen[name] = true
		jobs = append(jobs, job{name: name, kind: KindProbe, interval: pj.Interval, finish: true, run: func(ctx context.Context) error {
			r := o.Prober.Probe(ctx, t)
			o.Sink.Record(ctx, r)
			if !r.Success {
				return fmt.Errorf("%w: %s", errProbeFailed, r.Error)
			}
			return nil
		}})
	}
	for _, fj := range o.Feeds {
		f := fj.Feed
		o.Puller.Register(f)
		jobs = append(jobs, job{name: "feed " + f.Name, kind: KindFeed, interval: fj.Interval, finish: true, run: func(ctx context.Context) error {
			_, err := o.Puller.Pull(ctx, f)
			return err
		}})
	}
	if err := s.add(jobs); err != nil {
		cron.Shutdown()
		return nil, err
	}
	if o.Summarizer != nil {
		every := o.SummaryEvery
		if every <= 0 {
			every = time.Hour
		}
		if err := s.add([]job{{name: "summary portal indicators", kind: KindSummary, interval: every,
			run: func(ctx context.Context) error { return o.Summarizer.Run(ctx, s.clock.Now()) }}}); err != nil {
			cron.Shutdown()
			return nil, err
		}
	}
	for _, k := range []string{KindProbe, KindFeed, KindSummary} {
		n := 0
		for _, g := range s.guards {
			if g.kind == k {
				n++
			}
		}
		mon.Jobs.WithLabelValues(k).Set(float64(n))
		if n > 0 { // a zero is shown, not left out: "no overlap, no miss" is visible
			mon.Overlaps.WithLabelValues(k)
			mon.Missed.WithLabelValues(k)
			mon.Dropped.WithLabelValues(k)
			mon.InFlight.WithLabelValues(k)
			mon.Waiting.WithLabelValues(k)
			if o.Locker != nil {
				mon.LockAcquired.WithLabelValues(k)
				mon.LockLost.WithLabelValues(k)
			}
		}
	}
	return s, nil
}

// stopTimeout is how long Shutdown waits for runs under way: long enough for the
// slowest probe or pull to end by its own timeout.
func stopTimeout(o Options) time.Duration {
	d := 10 * time.Second
	if o.Prober != nil {
		d = max(d, o.Prober.Options().Timeout)
	}
	for _, f := range o.Feeds {
		t := f.Feed.Timeout
		if t <= 0 {
			t = 30 * time.Second
		}
		d = max(d, t)
	}
	return d + 5*time.Second
}

// add registers jobs. Jobs of the same kind and interval start at offsets spread
// evenly over the interval, in name order, so the load is flat and each job keeps
// its place from one restart to the next while the list does not change.
func (s *Scheduler) add(jobs []job) error {
	type group struct {
		kind     string
		interval time.Duration
	}
	groups := map[group][]job{}
	for _, j := range jobs {
		if j.interval <= 0 {
			return fmt.Errorf("schedule: %s: interval %s must be positive", j.name, j.interval)
		}
		g := group{j.kind, j.interval}
		groups[g] = append(groups[g], j)
	}
	// The grid starts a little ahead, so a large set is registered before its first
	// slot comes; gocron takes a start in the past too and keeps the grid.
	now := s.clock.Now()
	for g, list := range groups {
		base := now.Add(time.Second).Truncate(time.Second)
		if s.locks != nil && s.locks.by[g.interval] == nil {
			l, err := s.locks.make(g.interval)
			if err != nil {
				return fmt.Errorf("schedule: locker for jobs every %s: %w", g.interval, err)
			}
			s.locks.by[g.interval] = l
		}
		if s.aligned {
			// Replicas started at different times must agree on every slot: the grid
			// starts at the next multiple of the interval (since Go's zero time).
			base = now.Truncate(g.interval).Add(g.interval)
		}
		slices.SortFunc(list, func(a, b job) int { return strings.Compare(a.name, b.name) })
		batch := batchWindow(s.batch, g.interval, len(list), s.conc)
		for i, j := range list {
			offset := time.Duration(int64(g.interval) * int64(i) / int64(len(list)))
			if batch > 0 {
				offset = offset.Truncate(batch)
			}
			first := base.Add(offset)
			gd := newGuard(j.kind, first, j.interval, s.monitor)
			run, finish := j.run, j.finish
			cj, err := s.cron.NewJob(
				gocron.DurationJob(j.interval),
				gocron.NewTask(func(ctx context.Context) error {
					defer gd.leave()
					// The wait for a runner is here, in the task, after gocron has
					// already set the job's next slot: a wait before that (in a
					// BeforeJobRuns hook) would push the next slot back.
					waited, err := s.acquire(gd.kind)
					if err != nil {
						return err
					}
					defer s.release()
					gd.begin(s.clock.Now())
					// A run that waited stops counting as waiting only once it
					// is counted in flight, so the two never dip together.
					if waited {
						s.monitor.Waiting.WithLabelValues(gd.kind).Dec()
					}
					if finish {
						ctx = context.WithoutCancel(ctx)
					}
					return run(ctx)
				}),
				gocron.WithName(j.name),
				gocron.WithTags(j.kind),
				gocron.WithSingletonMode(gocron.LimitModeReschedule),
				gocron.WithStartAt(gocron.WithStartDateTimePast(first)),
				gocron.WithEventListeners(
					// A run the guard refuses never reaches the task, and gocron
					// does not count it: the guard's own counters do.
					gocron.BeforeJobRunsSkipIfBeforeFuncErrors(func(uuid.UUID, string) error {
						return gd.enter(s.clock.Now())
					}),
					gocron.AfterJobRunsWithPanic(func(_ uuid.UUID, name string, v any) {
						s.log.Error("công việc bị lỗi nghiêm trọng / job panicked", "job", name, "panic", fmt.Sprint(v))
					}),
				),
			)
			if err != nil {
				return fmt.Errorf("schedule: add %s: %w", j.name, err)
			}
			s.guards = append(s.guards, gd)
			s.byID[cj.ID()] = gd
			s.byName[j.name] = gd
		}
	}
	return nil
}

// Start starts every job; each first runs at its slot.
func (s *Scheduler) Start() {
	now := s.clock.Now()
	for _, g := range s.guards {
		g.arm(now)
	}
	s.cron.Start()
	s.log.Info("bộ lập lịch đã chạy / scheduler started", "jobs", len(s.guards))
}

// Shutdown stops the jobs, waits for the probes and pulls under way to end (each by
// its own timeout at worst), and writes the probe results still pending.
func (s *Scheduler) Shutdown() error {
	s.stopOnce.Do(func() { close(s.stop) })
	err := s.cron.Shutdown()
	if s.sink != nil {
		s.sink.Close()
	}
	if err != nil {
		return fmt.Errorf("schedule: shutdown: %w", err)
	}
	return nil
}

// Jobs is how many jobs are scheduled.
func (s *Scheduler) Jobs() int { return len(s.guards) }

// gocronLogger sends gocron's own messages to slog.
type gocronLogger struct{ l *slog.Logger }

func (g gocronLogger) Debug(msg string, args ...any) { g.l.Debug("gocron: "+msg, args...) }
func (g gocronLogger) Error(msg string, args ...any) { g.l.Error("gocron: "+msg, args...) }
func (g gocronLogger) Info(msg string, args ...any)  { g.l.Debug("gocron: "+msg, args...) }
func (g gocronLogger) Warn(msg string, args ...any)  { g.l.Warn("gocron: "+msg, args...) }

// batchWindow is the rounding of start offsets for n jobs sharing an interval: want,
// narrowed so that one window never holds more than a quarter of the concurrency
// limit (a window fuller than the limit would miss its extra slots at every turn).
func batchWindow(want, interval time.Duration, n, conc int) time.Duration {
	if want <= 0 || n == 0 {
		return 0
	}
	// n jobs spread over interval put n·w/interval in a window of width w.
	most := time.Duration(int64(interval) * int64(max(conc/4, 1)) / int64(n))
	w := min(want, most)
	if w < time.Millisecond {
		return 0
	}
	return w
}

// limitWatch hears from gocron when a slot found every runner busy: the slot is
// counted as missed at once (it is not queued), by the job's guard.
type limitWatch struct{ s *Scheduler }

var _ gocron.SchedulerMonitor = limitWatch{}

func (w limitWatch) ConcurrencyLimitReached(limitType string, j gocron.Job) {
	if limitType != "limit" {
		return
	}
	select {
	case <-w.s.stop:
		return // gocron's runners stop taking work at shutdown: nothing is missed then
	default:
	}
	if g := w.s.byID[j.ID()]; g != nil {
		g.skip(w.s.clock.Now())
	}
}

func (limitWatch) SchedulerStarted()                                   {}
func (limitWatch) SchedulerStopped()                                   {}
func (limitWatch) SchedulerShutdown()                                  {}
func (limitWatch) JobRegistered(gocron.Job)                            {}
func (limitWatch) JobUnregistered(gocron.Job)                          {}
func (limitWatch) JobStarted(gocron.Job)                               {}
func (limitWatch) JobRunning(gocron.Job)                               {}
func (limitWatch) JobFailed(gocron.Job, error)                         {}
func (limitWatch) JobCompleted(gocron.Job)                             {}
func (limitWatch) JobExecutionTime(gocron.Job, time.Duration)          {}
func (limitWatch) JobSchedulingDelay(gocron.Job, time.Time, time.Time) {}

// errStopping refuses a run that was still waiting for a runner at shutdown.
var errStopping = errors.New("the scheduler is stopping")

// acquire takes a runner for a run, waiting (as one of at most Pending) while all are
// busy. When it waited, the caller decrements the Waiting gauge.
func (s *Scheduler) acquire(kind string) (waited bool, err error) {
	select {
	case s.runners <- struct{}{}:
		return false, nil
	default:
	}
	s.monitor.Waiting.WithLabelValues(kind).Inc()
	select {
	case s.runners <- struct{}{}:
		return true, nil
	case <-s.stop:
		s.monitor.Waiting.WithLabelValues(kind).Dec()
		return false, errStopping
	}
}

func (s *Scheduler) release() { <-s.runners }
