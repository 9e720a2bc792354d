package query

import (
	"context"
	"errors"
	"fmt"

	"github.com/g-oc/goc/internal/store"
)

// latestProbeReader is what the portal list needs from a store: the latest-result
// table, one scan however many portals there are.
type latestProbeReader interface {
	LatestProbes(ctx context.Context) ([]store.ProbeResult, error)
}

// ProbeFilter selects portals. Empty fields do not filter.
type ProbeFilter struct {
	// Agency keeps the portals of this agency and every agency below it.
	Agency string
	// Up keeps portals whose last probe succeeded (true) or failed (false).
	Up *bool
}

// ProbesReport is the latest state of each portal with counts.
type ProbesReport struct {
	Probes []store.ProbeResult `json:"probes"`
	Count  int                 `json:"count"`
	Up     int                 `json:"up"`
	Down   int                 `json:"down"`
}

// errNoProbes is returned when the store keeps no probe results.
var errNoProbes = errors.New("kho dữ liệu không lưu kết quả đo / the store keeps no probe results")

// LatestProbes returns the newest result of every portal that passes the filter,
// ordered by portal address. The store must have LatestProbes (every store.Store
// does); the query layer takes it as an extension of its Reader so that presenters
// keep asking one Service.
func (s *Service) LatestProbes(ctx context.Context, f ProbeFilter) (*ProbesReport, error) {
	pr, ok := s.store.(latestProbeReader)
	if !ok {
		return nil, errNoProbes
	}
	if f.Agency != "" {
		if _, ok := s.registry.Get(f.Agency); !ok {
			return nil, &NotFoundError{"agency", f.Agency}
		}
	}
	all, err := pr.LatestProbes(ctx)
	if err != nil {
		return nil, fmt.Errorf("read latest probes: %w", err)
	}
	out := &ProbesReport{Probes: all[:0]}
	for _, r := range all {
		if f.Agency != "" && !s.registry.Within(r.Agency, f.Agency) {
			continue
		}
		if f.Up != nil && r.Success != *f.Up {
			continue
		}
		out.Probes = append(out.Probes, r)
		if r.Success {
			out.Up++
		} else {
			out.Down++
		}
	}
	out.Count = len(out.Probes)
	if out.Probes == nil {
		out.Probes = []store.ProbeResult{}
	}
	return out, nil
}
