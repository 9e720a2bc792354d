package schedule

import (
	"slices"
	"time"

	"github.com/go-co-op/gocron/v2"
	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
)

// Job kinds, the `kind` label of the collector metrics. Labels carry the kind, never
// the job name: 10,000 portals would otherwise make 10,000 series per status.
const (
	KindProbe   = "probe"
	KindFeed    = "feed"
	KindSummary = "summary"
)

// Monitor exports what the scheduler does to Prometheus: runs by status, their
// durations, how late each run started, and the runs that overlapped, were missed or
// were dropped.
//
// gocron reports through two interfaces set by two options, and calls only those it
// was given: WithMonitor brings IncrementJob and RecordJobTiming, WithMonitorStatus
// brings RecordJobTimingWithStatus. Options passes this one value to both, so
// none of the calls is lost. Scheduling delay is measured by each job's own slot
// guard (see guard), not by gocron's SchedulerMonitor: that one reads the job's next
// scheduled time, which in the concurrency-limited mode can already be the following
// run's.
type Monitor struct {
	Runs     *prometheus.CounterVec
	Duration *prometheus.HistogramVec
	Delay    *prometheus.HistogramVec
	Overlaps *prometheus.CounterVec
	Missed   *prometheus.CounterVec
	Dropped  *prometheus.CounterVec
	InFlight *prometheus.GaugeVec
	Waiting  *prometheus.GaugeVec
	Jobs     *prometheus.GaugeVec
	// LockAcquired and LockLost count the slots this replica claimed, and those another
	// replica had claimed first (or that Redis could not be asked about), when
	// replicas share a locker.
	LockAcquired *prometheus.CounterVec
	LockLost     *prometheus.CounterVec
}

var (
	_ gocron.Monitor       = (*Monitor)(nil)
	_ gocron.MonitorStatus = (*Monitor)(nil)
)

// NewMonitor registers the collector metrics on reg.
func NewMonitor(reg prometheus.Registerer) *Monitor {
	m := &Monitor{
		Runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "goc_collector_runs_total",
			Help: "Scheduled runs by job kind (probe, feed, summary) and status as gocron reports it: success, fail (the probe or pull failed), skip, singleton_rescheduled (the previous run was still going).",
		}, []string{"kind", "status"}),
		Duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "goc_collector_run_duration_seconds",
			Help:    "How long runs took, by job kind and status.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
		}, []string{"kind", "status"}),
		Delay: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "goc_collector_scheduling_delay_seconds",
			Help:    "How long after its scheduled time each run started, by job kind.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"kind"}),
		Overlaps: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "goc_collector_overlapping_runs_total",
			Help: "Runs that started while the same job's previous run was still going, by job kind; they are not run. Singleton mode keeps this at 0.",
		}, []string{"kind"}),
		Missed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "goc_collector_missed_runs_total",
			Help: "Scheduled slots in which a job did not run at all, by job kind.",
		}, []string{"kind"}),
		Dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "goc_collector_dropped_runs_total",
			Help: "Runs that waited behind the concurrency limit past their whole slot and were dropped, because the next run had already taken the slot, by job kind.",
		}, []string{"kind"}),
		InFlight: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "goc_collector_runs_in_flight",
			Help: "Runs going on now, by job kind.",
		}, []string{"kind"}),
		Waiting: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "goc_collector_runs_waiting",
			Help: "Runs due that wait for a free runner, by job kind; at most Options.Pending in all, and a slot beyond that is counted missed.",
		}, []string{"kind"}),
		Jobs: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "goc_collector_jobs",
			Help: "Scheduled jobs, by kind.",
		}, []string{"kind"}),
	}
	m.LockAcquired = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "goc_collector_lock_acquired_total",
		Help: "Slots this replica claimed through the shared locker and ran, by job kind (0 without a locker: every slot runs here).",
	}, []string{"kind"})
	m.LockLost = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "goc_collector_lock_lost_total",
		Help: "Slots this replica did not run because another replica had claimed them, or because the locker (Redis) did not answer, by job kind. gocron counts each as a run with status skip.",
	}, []string{"kind"})
	reg.MustRegister(m.Runs, m.Duration, m.Delay, m.Overlaps, m.Missed, m.Dropped, m.InFlight, m.Waiting, m.Jobs, m.LockAcquired, m.LockLost)
	return m
}

// Options are the scheduler options that install m: the same value for both monitor
// interfaces.
func (m *Monitor) Options() []gocron.SchedulerOption {
	return []gocron.SchedulerOption{gocron.WithMonitor(m), gocron.WithMonitorStatus(m)}
}

// kind is the job's first tag, which the scheduler sets to its kind.
func kind(tags []string) string {
	if len(tags) > 0 && slices.Contains([]string{KindProbe, KindFeed, KindSummary}, tags[0]) {
		return tags[0]
	}
	return "other"
}

// IncrementJob counts one run by status (gocron.Monitor).
func (m *Monitor) IncrementJob(_ uuid.UUID, _ string, tags []string, status gocron.JobStatus) {
	m.Runs.WithLabelValues(kind(tags), string(status)).Inc()
}

// RecordJobTiming is called by gocron alongside RecordJobTimingWithStatus for every
// run; durations are recorded there, with the status, so this records nothing.
func (m *Monitor) RecordJobTiming(time.Time, time.Time, uuid.UUID, string, []string) {}

// RecordJobTimingWithStatus records a run's duration by status (gocron.MonitorStatus).
func (m *Monitor) RecordJobTimingWithStatus(start, end time.Time, _ uuid.UUID, _ string, tags []string, status gocron.JobStatus, _ error) {
	m.Duration.WithLabelValues(kind(tags), string(status)).Observe(end.Sub(start).Seconds())
}
