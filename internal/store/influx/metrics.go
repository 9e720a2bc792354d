package influx

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// spoolMetrics are the spool's series, registered on the registry Options names.
type spoolMetrics struct {
	reg         prometheus.Registerer
	all         []prometheus.Collector
	flushed     prometheus.Counter
	flushErrors prometheus.Counter
	rejected    prometheus.Counter
}

func newSpoolMetrics(reg prometheus.Registerer, s *Store) (*spoolMetrics, error) {
	m := &spoolMetrics{
		reg: reg,
		flushed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "goc_spool_sent_points_total",
			Help: "Observations and probe results sent from the spool to InfluxDB.",
		}),
		flushErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "goc_spool_send_failures_total",
			Help: "Attempts to send the spool to InfluxDB that failed (it is retried with backoff).",
		}),
		rejected: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "goc_spool_rejected_points_total",
			Help: "Observations and probe results InfluxDB refused as malformed; kept in the spool file's rejected table.",
		}),
	}
	m.all = []prometheus.Collector{
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "goc_spool_pending_points",
			Help: "Observations and probe results acknowledged but not yet written to InfluxDB.",
		}, func() float64 { n, _ := s.Backlog(); return float64(n) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "goc_spool_oldest_age_seconds",
			Help: "How long the oldest point waiting in the spool has waited; 0 when none waits.",
		}, func() float64 { _, age := s.Backlog(); return age.Seconds() }),
		m.flushed, m.flushErrors, m.rejected,
	}
	for i, c := range m.all {
		if err := reg.Register(c); err != nil {
			for _, done := range m.all[:i] {
				reg.Unregister(done)
			}
			var are prometheus.AlreadyRegisteredError
			if errors.As(err, &are) {
				return nil, fmt.Errorf("spool metrics: already registered (one InfluxDB store per registry): %w", err)
			}
			return nil, fmt.Errorf("spool metrics: %w", err)
		}
	}
	return m, nil
}

func (m *spoolMetrics) unregister() {
	for _, c := range m.all {
		m.reg.Unregister(c)
	}
}
