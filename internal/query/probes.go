package query

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/g-oc/goc/internal/store"
)

// latestProbeReader is what the portal list needs at least from a store: the
// latest-result table, one scan however many portals there are. A store that also
// keeps uptime windows (store.ProbeStatusReader) gives them in the same read.
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

// PortalWindow is a portal's probes over one window (24 h, 7 d or 30 d).
type PortalWindow struct {
	Probes    int `json:"probes"`
	Successes int `json:"successes"`
	// Uptime is Successes / Probes in percent, absent when there were no probes.
	Uptime *float64 `json:"uptime,omitempty"`
	// MedianSeconds is the median total duration of the successful probes, to within
	// 10% (the store keeps durations in buckets 20% wide), absent when none succeeded.
	MedianSeconds *float64 `json:"median_seconds,omitempty"`
}

func portalWindow(w store.ProbeWindow) PortalWindow {
	return PortalWindow{Probes: w.Probes, Successes: w.Successes, Uptime: w.Uptime(), MedianSeconds: w.MedianSeconds()}
}

// PortalStatus is one portal's newest probe result (its fields stay at the top level of
// the JSON, as /api/v1/probes always gave them) with its uptime windows.
type PortalStatus struct {
	store.ProbeResult
	// Day, Week and Month cover the hour of the store's newest result and the 23 hours
	// before it, that hour's UTC day and the 6 before it, and that day and the 29
	// before it (see store.WindowBounds). All zero on a store that keeps no windows.
	Day   PortalWindow `json:"uptime_24h"`
	Week  PortalWindow `json:"uptime_7d"`
	Month PortalWindow `json:"uptime_30d"`
	// CertDays is the whole days left until the certificate expires, counted from the
	// report's clock (negative once expired); absent when not reached over TLS.
	CertDays *int `json:"cert_days,omitempty"`
}

// ProbesReport is the status of each portal with counts.
type ProbesReport struct {
	Probes []PortalStatus `json:"probes"`
	Count  int            `json:"count"`
	Up     int            `json:"up"`
	Down   int            `json:"down"`
	// WindowsAsOf is the start of the hour the uptime windows end in; absent when the
	// store keeps no windows or holds no results.
	WindowsAsOf time.Time `json:"windows_as_of,omitzero"`
}

// errNoProbes is returned when the store keeps no probe results.
var errNoProbes = errors.New("kho dữ liệu không lưu kết quả đo / the store keeps no probe results")

// LatestProbes returns the status of every portal that passes the filter, ordered by
// portal address: its newest result, its uptime and median latency over 24 h, 7 d and
// 30 d, and its certificate's days left. It is one store read whatever the number of
// portals (the windows are kept by the store as results are written), and it is what
// /api/v1/probes and the status pages show.
func (s *Service) LatestProbes(ctx context.Context, f ProbeFilter) (*ProbesReport, error) {
	if f.Agency != "" {
		if _, ok := s.registry.Get(f.Agency); !ok {
			return nil, &NotFoundError{"agency", f.Agency}
		}
	}
	all, asOf, err := s.portalStatuses(ctx)
	if err != nil {
		return nil, err
	}
	now := s.now()
	out := &ProbesReport{Probes: all[:0], WindowsAsOf: asOf}
	for _, r := range all {
		if f.Agency != "" && !s.registry.Within(r.Agency, f.Agency) {
			continue
		}
		if f.Up != nil && r.Success != *f.Up {
			continue
		}
		if !r.CertExpiry.IsZero() {
			d := int(math.Floor(r.CertExpiry.Sub(now).Hours() / 24))
			r.CertDays = &d
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
		out.Probes = []PortalStatus{}
	}
	return out, nil
}

// portalStatuses reads every portal's status in one store call: with its windows when
// the store keeps them, its newest result only otherwise.
func (s *Service) portalStatuses(ctx context.Context) ([]PortalStatus, time.Time, error) {
	if sr, ok := s.store.(store.ProbeStatusReader); ok {
		st, err := sr.ProbeStatuses(ctx)
		if err != nil {
			return nil, time.Time{}, fmt.Errorf("read probe statuses: %w", err)
		}
		out := make([]PortalStatus, len(st.Statuses))
		for i, p := range st.Statuses {
			out[i] = PortalStatus{ProbeResult: p.Latest, Day: portalWindow(p.Day), Week: portalWindow(p.Week), Month: portalWindow(p.Month)}
		}
		return out, st.AsOf, nil
	}
	pr, ok := s.store.(latestProbeReader)
	if !ok {
		return nil, time.Time{}, errNoProbes
	}
	latest, err := pr.LatestProbes(ctx)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("read latest probes: %w", err)
	}
	out := make([]PortalStatus, len(latest))
	for i, r := range latest {
		out[i] = PortalStatus{ProbeResult: r}
	}
	return out, time.Time{}, nil
}
