package query

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/internal/store"
)

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
	indicators.ProbeResult
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
	all, asOf, err := s.portalStatuses(ctx, "")
	if err != nil {
		return nil, err
	}
	out := &ProbesReport{Probes: all[:0], WindowsAsOf: asOf}
	for _, r := range all {
		if r, ok := s.keepPortal(r, f); ok {
			out.Probes = append(out.Probes, r)
			out.count(r)
		}
	}
	if out.Probes == nil {
		out.Probes = []PortalStatus{}
	}
	return out, nil
}

// keepPortal reports whether a portal passes the filter, with its certificate's days
// left filled in.
func (s *Service) keepPortal(r PortalStatus, f ProbeFilter) (PortalStatus, bool) {
	if f.Agency != "" && !s.registry.Within(r.Agency, f.Agency) {
		return r, false
	}
	if f.Up != nil && r.Success != *f.Up {
		return r, false
	}
	if !r.CertExpiry.IsZero() {
		d := int(math.Floor(r.CertExpiry.Sub(s.now()).Hours() / 24))
		r.CertDays = &d
	}
	return r, true
}

func (rep *ProbesReport) count(r PortalStatus) {
	rep.Count++
	if r.Success {
		rep.Up++
	} else {
		rep.Down++
	}
}

// probeChunk is the fewest portals ProbePage reads from the store at once.
const probeChunk = 500

// ProbePage is one page of LatestProbes: the portals that pass the filter and whose
// target sorts after `after`, at most limit of them, and whether more follow; Count,
// Up and Down still cover every portal that passes the filter. On a store that reads
// statuses a page at a time (store.ProbeStatusPager) it walks the portals in pages of
// max(limit+1, probeChunk), keeping only the page asked for, so its memory is one
// store page and one answer page however many portals there are; on another store it
// reads them all and cuts the page.
func (s *Service) ProbePage(ctx context.Context, f ProbeFilter, after string, limit int) (*ProbesReport, bool, error) {
	if limit <= 0 {
		return nil, false, fmt.Errorf("probe page: limit %d, want at least 1", limit)
	}
	pager, ok := s.store.(store.ProbeStatusPager)
	if !ok {
		rep, err := s.LatestProbes(ctx, f)
		if err != nil {
			return nil, false, err
		}
		i := 0
		for i < len(rep.Probes) && rep.Probes[i].Target <= after {
			i++
		}
		rep.Probes = rep.Probes[i:]
		more := len(rep.Probes) > limit
		if more {
			rep.Probes = rep.Probes[:limit]
		}
		return rep, more, nil
	}
	if f.Agency != "" {
		if _, ok := s.registry.Get(f.Agency); !ok {
			return nil, false, &NotFoundError{"agency", f.Agency}
		}
	}
	out := &ProbesReport{Probes: []PortalStatus{}}
	more := false
	chunk := max(limit+1, probeChunk)
	for from := ""; ; {
		st, err := pager.ProbeStatusPage(ctx, from, chunk)
		if err != nil {
			return nil, false, fmt.Errorf("read probe statuses: %w", err)
		}
		if out.WindowsAsOf.IsZero() || st.AsOf.After(out.WindowsAsOf) {
			out.WindowsAsOf = st.AsOf
		}
		for _, p := range st.Statuses {
			r, ok := s.keepPortal(PortalStatus{ProbeResult: p.Latest, Day: portalWindow(p.Day), Week: portalWindow(p.Week), Month: portalWindow(p.Month)}, f)
			if !ok {
				continue
			}
			out.count(r)
			switch {
			case r.Target <= after:
			case len(out.Probes) < limit:
				out.Probes = append(out.Probes, r)
			default:
				more = true
			}
		}
		if len(st.Statuses) < chunk {
			return out, more, nil
		}
		from = st.Statuses[len(st.Statuses)-1].Latest.Target
	}
}

// portalStatuses reads every portal's status in one store call: with its windows when
// the store keeps them, its newest result only otherwise. With agency set it gives that
// agency's portals only, whose windows alone are summarised (a median is a walk over a
// histogram, 30,000 of them for every portal).
func (s *Service) portalStatuses(ctx context.Context, agency string) ([]PortalStatus, time.Time, error) {
	if sr, ok := s.store.(store.ProbeStatusReader); ok {
		st, err := sr.ProbeStatuses(ctx)
		if err != nil {
			return nil, time.Time{}, fmt.Errorf("read probe statuses: %w", err)
		}
		n := len(st.Statuses)
		if agency != "" {
			n = 0 // a few portals
		}
		out := make([]PortalStatus, 0, n)
		for _, p := range st.Statuses {
			if agency == "" || p.Latest.Agency == agency {
				out = append(out, PortalStatus{ProbeResult: p.Latest, Day: portalWindow(p.Day), Week: portalWindow(p.Week), Month: portalWindow(p.Month)})
			}
		}
		return out, st.AsOf, nil
	}
	// At least the latest-result table, one scan however many portals there are; a
	// store that also keeps uptime windows (store.ProbeStatusReader) gave them above.
	pr, ok := s.store.(store.LatestProbeReader)
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

// ProbesVersion is the store's probes version (store.ProbesVersioner): the same
// version means the same portal statuses, so an answer made from them can be reused.
// ok is false on a store that keeps none.
func (s *Service) ProbesVersion(ctx context.Context) (version string, ok bool, err error) {
	pv, ok := s.store.(store.ProbesVersioner)
	if !ok {
		return "", false, nil
	}
	v, err := pv.ProbesVersion(ctx)
	if err != nil {
		return "", true, fmt.Errorf("read probes version: %w", err)
	}
	return v, true, nil
}
