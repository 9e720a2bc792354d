package query

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/internal/store"
)

// StatusFilter selects portals for the status page. Empty fields do not filter.
type StatusFilter struct {
	// Agency keeps the portals of this agency and every agency below it.
	Agency string
	// Kind keeps the portals of agencies of this kind.
	Kind indicators.AgencyKind
	// Up keeps portals whose last probe succeeded (true) or failed (false).
	Up *bool
	// Search keeps portals whose address, agency code or agency name contains it,
	// without regard to case.
	Search string
	// Page counts from 1; PerPage is the page's size (50 when 0).
	Page, PerPage int
}

// StatusPage is one page of portals with the counts over every portal that matched.
type StatusPage struct {
	Portals []PortalStatus `json:"portals"`
	// Matched counts the portals that pass the filter, Up and Down among them; Total
	// counts every portal.
	Matched, Up, Down, Total int
	Page, Pages, PerPage     int
	WindowsAsOf              time.Time `json:"windows_as_of,omitzero"`
}

// PortalStatusPage filters and pages the portals of LatestProbes: one store read
// whatever the number of portals; the filter runs over that one list.
func (s *Service) PortalStatusPage(ctx context.Context, f StatusFilter) (*StatusPage, error) {
	rep, err := s.LatestProbes(ctx, ProbeFilter{Agency: f.Agency, Up: f.Up})
	if err != nil {
		return nil, err
	}
	if f.PerPage <= 0 {
		f.PerPage = 50
	}
	if f.Page <= 0 {
		f.Page = 1
	}
	needle := strings.ToLower(strings.TrimSpace(f.Search))
	out := &StatusPage{Page: f.Page, PerPage: f.PerPage, WindowsAsOf: rep.WindowsAsOf}
	matched := rep.Probes[:0]
	for _, p := range rep.Probes {
		a, _ := s.registry.Get(p.Agency)
		if f.Kind != "" && (a == nil || a.Kind != f.Kind) {
			continue
		}
		if needle != "" && !portalMatches(p, a, needle) {
			continue
		}
		matched = append(matched, p)
		if p.Success {
			out.Up++
		} else {
			out.Down++
		}
	}
	out.Total = rep.Count
	if f.Agency != "" || f.Up != nil {
		// LatestProbes filtered already: count every portal for the "of N" line.
		all, err := s.LatestProbes(ctx, ProbeFilter{})
		if err != nil {
			return nil, err
		}
		out.Total = all.Count
	}
	out.Matched = len(matched)
	out.Pages = max(1, (len(matched)+f.PerPage-1)/f.PerPage)
	lo := min((f.Page-1)*f.PerPage, len(matched))
	hi := min(lo+f.PerPage, len(matched))
	out.Portals = slices.Clone(matched[lo:hi])
	return out, nil
}

func portalMatches(p PortalStatus, a *indicators.Agency, needle string) bool {
	if strings.Contains(strings.ToLower(p.Target), needle) || strings.Contains(strings.ToLower(p.Agency), needle) {
		return true
	}
	return a != nil && (strings.Contains(strings.ToLower(a.NameVI), needle) || strings.Contains(strings.ToLower(a.NameEN), needle))
}

// PortalSlug names a portal in a page address: its host and path without the scheme
// or a trailing slash (dichvucong.gov.vn, or portal.gov.vn/so-tttt).
func PortalSlug(target string) string {
	u, err := url.Parse(target)
	if err != nil || u.Host == "" {
		return strings.Trim(target, "/")
	}
	return u.Host + strings.TrimSuffix(u.EscapedPath(), "/")
}

// probeHistoryReader is what a portal's history needs from a store.
type probeHistoryReader interface {
	ProbeResults(ctx context.Context, target string, from, to time.Time) ([]indicators.ProbeResult, error)
}

// PortalHistory is one portal's status, its results bucketed by hour over a window,
// and its outages: what /status/{portal} shows.
type PortalHistory struct {
	Status PortalStatus `json:"status"`
	From   time.Time    `json:"from"`
	To     time.Time    `json:"to"`
	Hours  []HourStat   `json:"hours"`
	// Outages are runs of failed probes, newest first.
	Outages []Outage `json:"outages"`
}

// HourStat is one hour of a portal's probes.
type HourStat struct {
	Start     time.Time `json:"start"`
	Probes    int       `json:"probes"`
	Successes int       `json:"successes"`
	// MedianSeconds is the median total duration of the hour's successful probes.
	MedianSeconds *float64 `json:"median_seconds,omitempty"`
}

// Outage is a run of consecutive failed probes: from the first failure to the first
// success after it (or still going, when End is zero).
type Outage struct {
	Start  time.Time `json:"start"`
	End    time.Time `json:"end,omitzero"`
	Probes int       `json:"probes"`
	// Reason is the error of the first failed probe (or its HTTP status).
	Reason string `json:"reason"`
}

// Duration is how long the outage lasted, up to now when still going.
func (o Outage) Duration(now time.Time) time.Duration {
	if o.End.IsZero() {
		return now.Sub(o.Start)
	}
	return o.End.Sub(o.Start)
}

// PortalHistory reads one portal's results over the window ending at its newest
// result (one read of its history) and summarises them by hour.
func (s *Service) PortalHistory(ctx context.Context, slug string, window time.Duration) (*PortalHistory, error) {
	rep, err := s.LatestProbes(ctx, ProbeFilter{})
	if err != nil {
		return nil, err
	}
	var status *PortalStatus
	for i := range rep.Probes {
		if PortalSlug(rep.Probes[i].Target) == slug {
			status = &rep.Probes[i]
			break
		}
	}
	if status == nil {
		return nil, &NotFoundError{"portal", slug}
	}
	hr, ok := s.store.(probeHistoryReader)
	if !ok {
		return nil, errNoProbes
	}
	to := status.Time.Truncate(time.Hour).Add(time.Hour)
	from := to.Add(-window)
	results, err := hr.ProbeResults(ctx, status.Target, from, to)
	if err != nil {
		return nil, fmt.Errorf("read probe results of %s: %w", status.Target, err)
	}
	h := &PortalHistory{Status: *status, From: from, To: to, Outages: []Outage{}}
	var cur *HourStat
	var lat store.LatencyHistogram
	var open *Outage
	flush := func() {
		if cur != nil {
			cur.MedianSeconds = lat.Median()
			h.Hours = append(h.Hours, *cur)
		}
	}
	for _, r := range results {
		start := r.Time.Truncate(time.Hour)
		if cur == nil || !cur.Start.Equal(start) {
			flush()
			cur, lat = &HourStat{Start: start}, store.LatencyHistogram{}
		}
		cur.Probes++
		if r.Success {
			cur.Successes++
			if d, ok := r.Phases[indicators.PhaseTotal]; ok {
				lat.Add(d)
			}
			if open != nil {
				open.End = r.Time
				h.Outages = append(h.Outages, *open)
				open = nil
			}
			continue
		}
		if open == nil {
			reason := r.Error
			if reason == "" && r.HTTPStatus != 0 {
				reason = fmt.Sprintf("HTTP %d", r.HTTPStatus)
			}
			open = &Outage{Start: r.Time, Reason: reason}
		}
		open.Probes++
	}
	flush()
	if open != nil {
		h.Outages = append(h.Outages, *open)
	}
	slices.Reverse(h.Outages)
	return h, nil
}
