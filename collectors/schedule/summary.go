package schedule

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/g-oc/goc/collectors/probe"
	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/indicators/period"
)

// SummaryStore is what the monthly summary needs from a store. It is asked in the
// domain's words, so that a collector does not know how a store is queried; cmd/goc
// adapts a store.Store to it.
type SummaryStore interface {
	ProbeResults(ctx context.Context, target string, from, to time.Time) ([]indicators.ProbeResult, error)
	// Summarised reports whether month p already has observations of indicator from
	// the probes.
	Summarised(ctx context.Context, indicator string, p period.Period) (bool, error)
	WriteObservations(ctx context.Context, obs []indicators.Observation) ([]indicators.Observation, error)
}

// Pruner drops probe history older than a time (store.ProbePruner; the SQLite store
// is one); the summary job prunes after it has summarised.
type Pruner interface {
	PruneProbeResults(ctx context.Context, before time.Time) (int64, error)
}

// Summarizer writes the portal indicators of each month that has ended, once, from
// that month's probe history.
type Summarizer struct {
	Store SummaryStore
	// Pruner drops history older than Retention; nil when the store cannot, and then
	// history is kept.
	Pruner    Pruner
	Catalogue *indicators.Catalogue
	Registry  *indicators.Registry
	// Location is where months begin and end.
	Location *time.Location
	// Targets are the portals to summarise (their agency is what they count for).
	Targets []probe.Target
	// Retention is how long probe history is kept; older history is pruned after the
	// summary, and months that began before it are not summarised (they may be
	// partly pruned). 0 keeps everything.
	Retention time.Duration
	// Written counts new observations, goc_observations_written_total{source}; may be nil.
	Written *prometheus.CounterVec
	Logger  *slog.Logger
}

// Run summarises every month that has ended and has no probe observations yet, then
// prunes history older than the retention.
func (s *Summarizer) Run(ctx context.Context, now time.Time) error {
	loc := s.Location
	if loc == nil {
		loc = time.UTC
	}
	log := s.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cur := period.Of(period.Month, now.In(loc))
	// The two months before this one: the last is the one to write; the one before
	// covers a G-OC that was down when a month ended.
	for _, p := range []period.Period{cur.Add(-2), cur.Add(-1)} {
		if s.Retention > 0 && p.Start(loc).Before(now.Add(-s.Retention)) {
			continue
		}
		done, err := s.Store.Summarised(ctx, probe.IndUptime, p)
		if err != nil {
			return fmt.Errorf("summary of %s: %w", p, err)
		}
		if done {
			continue
		}
		n, err := s.month(ctx, p, loc, now, log)
		if err != nil {
			return fmt.Errorf("summary of %s: %w", p, err)
		}
		if n > 0 {
			log.Info("đã tổng hợp chỉ số cổng thông tin / portal indicators summarised", "period", p.String(), "observations", n)
		}
	}
	if s.Pruner != nil && s.Retention > 0 {
		n, err := s.Pruner.PruneProbeResults(ctx, now.Add(-s.Retention))
		if err != nil {
			return fmt.Errorf("prune probe history: %w", err)
		}
		if n > 0 {
			log.Info("đã xóa lịch sử đo cũ / old probe history pruned", "results", n)
		}
	}
	return nil
}

func (s *Summarizer) month(ctx context.Context, p period.Period, loc *time.Location, now time.Time, log *slog.Logger) (int, error) {
	from, to := p.Start(loc), p.End(loc)
	portals := make([]probe.PortalTally, 0, len(s.Targets))
	for _, t := range s.Targets {
		// One portal at a time: a month of one portal probed every minute is 44,640
		// results, the whole country's 400 million.
		rs, err := s.Store.ProbeResults(ctx, t.URL, from, to)
		if err != nil {
			return 0, err
		}
		tally := &probe.Tally{}
		for i := range rs {
			tally.Add(&rs[i])
		}
		portals = append(portals, probe.PortalTally{Target: t.URL, Agency: t.Agency, Tally: tally})
	}
	obs, skipped := probe.Summarise(p, loc, s.Catalogue, s.Registry, portals, now.UTC())
	for _, t := range skipped {
		log.Warn("cổng thuộc đơn vị không tồn tại cuối kỳ, bỏ qua / portal's agency did not exist at the end of the month; left out",
			"target", t, "period", p.String())
	}
	if len(obs) == 0 {
		return 0, nil
	}
	stored, err := s.Store.WriteObservations(ctx, obs)
	if err != nil {
		return 0, err
	}
	if s.Written != nil {
		s.Written.WithLabelValues(string(indicators.FromProbe)).Add(float64(len(stored)))
	}
	return len(stored), nil
}
