package query

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/indicators/period"
	"github.com/g-oc/goc/internal/store"
)

// UptimeWindow is how far back a card's uptime figure looks on a store that keeps no
// uptime windows (the card then shows no uptime, only the latest state).
const UptimeWindow = 30 * 24 * time.Hour

// Card is one agency's report card: each indicator's latest figure against the 2025 and
// 2030 targets with its yearly trend, its rank in its peer group, and its portals' uptime.
type Card struct {
	Agency      *indicators.Agency `json:"agency"`
	Level       indicators.Level   `json:"level"`
	GeneratedAt time.Time          `json:"generated_at"`
	// DataCutoff is when the newest observation behind a figure was received.
	DataCutoff *time.Time          `json:"data_cutoff,omitempty"`
	Indicators []CardIndicator     `json:"indicators"`
	Rank       *CardRank           `json:"rank,omitempty"`
	Portals    []PortalUptime      `json:"portals"`
	Sources    []indicators.Source `json:"sources"`
	// ProbesAvailable is false when the store keeps no probe results at all.
	ProbesAvailable bool `json:"probes_available"`
	// UptimeFrom and UptimeTo bound the uptime window.
	UptimeFrom time.Time `json:"uptime_from"`
	UptimeTo   time.Time `json:"uptime_to"`
}

// CardIndicator is one row of a card.
type CardIndicator struct {
	Code      string               `json:"code"`
	NameVI    string               `json:"name_vi"`
	NameEN    string               `json:"name_en"`
	Unit      indicators.Unit      `json:"unit"`
	Direction indicators.Direction `json:"direction"`
	Pillar    string               `json:"pillar,omitempty"`
	// Latest is the newest yearly point (year to date for the current year).
	Latest *indicators.Value `json:"latest,omitempty"`
	// Trend is one point per year, oldest first.
	Trend []indicators.Point `json:"trend"`
	// Progress2025 and Progress2030 judge the series against each year's target.
	Progress2025 ProgressReport `json:"progress_2025"`
	Progress2030 ProgressReport `json:"progress_2030"`
}

// CardRank is the agency's place in its peer group's latest complete yearly ranking.
type CardRank struct {
	Group          indicators.PeerGroup `json:"group"`
	Period         period.Period        `json:"period"`
	PreviousPeriod period.Period        `json:"previous_period"`
	Rank           int                  `json:"rank,omitempty"`
	Ranked         int                  `json:"ranked"`
	Members        int                  `json:"members"`
	Score          *float64             `json:"score,omitempty"`
	PreviousRank   *int                 `json:"previous_rank,omitempty"`
	Change         *int                 `json:"change,omitempty"`
	Flag           string               `json:"flag,omitempty"`
}

// PortalUptime summarises one probed portal of the agency.
type PortalUptime struct {
	Target string                 `json:"target"`
	Latest indicators.ProbeResult `json:"latest"`
	// Probes and Successes count the results in the window; Uptime is their ratio in
	// percent, absent when there were none.
	Probes    int      `json:"probes"`
	Successes int      `json:"successes"`
	Uptime    *float64 `json:"uptime,omitempty"`
	// MedianSeconds is the median total duration of the successful probes.
	MedianSeconds *float64 `json:"median_seconds,omitempty"`
}

// AgencyCard builds an agency's report card: one store read per indicator it reports,
// plus the peer-group ranking of the last complete year and its portals' probe results.
func (s *Service) AgencyCard(ctx context.Context, code string, method indicators.RankingMethod) (*Card, error) {
	a, ok := s.registry.Get(code)
	if !ok {
		return nil, &NotFoundError{"agency", code}
	}
	now := s.now()
	card := &Card{Agency: a, Level: a.Level(), GeneratedAt: now, Portals: []PortalUptime{}, Sources: []indicators.Source{}}
	sources := map[indicators.Source]bool{}
	var cutoff time.Time
	for _, ind := range s.catalogue.All() {
		if ind.Qualitative || !ind.ReportedAt(a.Level()) {
			continue
		}
		var values []indicators.Value
		figs, ok, err := s.figures(ctx, ind, "")
		if err != nil {
			return nil, err
		}
		if ok {
			// The yearly figures kept between requests: progress and the trend need
			// no more than one point a year.
			if f := figs[code]; f != nil {
				values = f.Annual
				for _, src := range f.Sources {
					sources[src] = true
				}
				if f.Cutoff.After(cutoff) {
					cutoff = f.Cutoff
				}
			}
		} else {
			byPeriod, err := s.ownByPeriod(ctx, ind)
			if err != nil {
				return nil, err
			}
			values = s.rollUpSeries(ind, byPeriod, code, "")
			for _, v := range values {
				for _, f := range v.From {
					o := byPeriod[v.Period][f]
					sources[o.Source] = true
					if o.ReceivedAt.After(cutoff) {
						cutoff = o.ReceivedAt
					}
				}
			}
		}
		ci := CardIndicator{Code: ind.Code, NameVI: ind.NameVI, NameEN: ind.NameEN, Unit: ind.Unit, Direction: ind.Direction, Pillar: ind.Pillar,
			Trend:        []indicators.Point{},
			Progress2025: progressOf(ind, code, a.Level(), 2025, values),
			Progress2030: progressOf(ind, code, a.Level(), 2030, values),
		}
		annual := indicators.AnnualPoints(values)
		for _, v := range annual {
			ci.Trend = append(ci.Trend, indicators.Point{Period: v.Period, Value: v.Value})
		}
		if len(annual) > 0 {
			last := annual[len(annual)-1]
			ci.Latest = &last
		}
		card.Indicators = append(card.Indicators, ci)
	}
	if !cutoff.IsZero() {
		card.DataCutoff = &cutoff
	}
	for src := range sources {
		card.Sources = append(card.Sources, src)
	}
	slices.Sort(card.Sources)

	if g, ok := indicators.GroupOf(a.Kind); ok {
		// The latest year that has ended and in which the agency belongs to the group.
		y := period.Period{Kind: period.Year, Year: now.Year() - 1, Index: 1}
		if a.ActiveOn(indicators.LastDay(y)) {
			rep, err := s.Ranking(ctx, RankingRequest{Group: g, Period: y, Method: method})
			if err != nil {
				return nil, fmt.Errorf("rank of %s: %w", code, err)
			}
			cr := &CardRank{Group: g, Period: y, PreviousPeriod: rep.PreviousPeriod, Ranked: rep.Ranked, Members: rep.Members}
			for _, e := range rep.Entries {
				if e.Agency == code {
					cr.Rank, cr.Score, cr.PreviousRank, cr.Change, cr.Flag = e.Rank, e.Score, e.PreviousRank, e.Change, e.Flag
				}
			}
			card.Rank = cr
		}
	}

	card.UptimeTo = now
	card.UptimeFrom = now.Add(-UptimeWindow)
	if _, ok := s.store.(store.LatestProbeReader); ok {
		card.ProbesAvailable = true
		portals, asOf, err := s.portalUptime(ctx, code)
		if err != nil {
			return nil, err
		}
		if !asOf.IsZero() {
			// The store's 30-day window: that many UTC days up to its newest hour.
			_, _, from := store.WindowBounds(asOf)
			card.UptimeFrom, card.UptimeTo = from, asOf.Add(time.Hour)
		}
		card.Portals = portals
	}
	return card, nil
}

// portalUptime summarises the agency's portals over the last 30 days from the one
// read of every portal's status, never from their histories.
func (s *Service) portalUptime(ctx context.Context, agency string) ([]PortalUptime, time.Time, error) {
	all, asOf, err := s.portalStatuses(ctx, agency)
	if err != nil {
		return nil, time.Time{}, err
	}
	out := []PortalUptime{}
	for _, p := range all {
		if p.Agency != agency {
			continue
		}
		out = append(out, PortalUptime{Target: p.Target, Latest: p.ProbeResult, Probes: p.Month.Probes,
			Successes: p.Month.Successes, Uptime: p.Month.Uptime, MedianSeconds: p.Month.MedianSeconds})
	}
	return out, asOf, nil
}
