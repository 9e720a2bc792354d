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

// ExportRequest selects stored observations for a raw export.
type ExportRequest struct {
	// Indicators to export, in this order; empty means the whole catalogue.
	Indicators []string
	// Agencies to keep; empty keeps every agency.
	Agencies []string
	// From and To are the first and last periods wanted: observations whose period starts
	// within [From's start, To's end) are exported, whatever their length.
	From, To period.Period
	// History exports every revision, not only the latest of each series.
	History bool
}

// ExportChunk is one store read of an export: one indicator over one calendar year.
type ExportChunk struct {
	Indicator string
	Year      int
	Query     store.Query
}

// ExportPlan checks an export request and splits it into chunks of one indicator and one
// year each, so that an export of any size holds at most one chunk in memory: a year of
// one indicator is about 3,400 agencies × 12 months at national scale.
func (s *Service) ExportPlan(req ExportRequest) ([]ExportChunk, error) {
	if req.From.IsZero() {
		return nil, &InvalidError{"from", "bắt buộc: kỳ đầu tiên, ví dụ 2024 / required: the first period, e.g. 2024"}
	}
	if req.To.IsZero() {
		return nil, &InvalidError{"to", "bắt buộc: kỳ cuối cùng, ví dụ 2025-Q4 / required: the last period, e.g. 2025-Q4"}
	}
	start, end := req.From.Start(nil), req.To.End(nil)
	if !end.After(start) || req.To.Start(nil).Before(start) {
		return nil, &InvalidError{"to", fmt.Sprintf("kỳ cuối %s trước kỳ đầu %s / the last period %s is before the first %s", req.To, req.From, req.To, req.From)}
	}
	codes := req.Indicators
	if len(codes) == 0 {
		for _, ind := range s.catalogue.All() {
			codes = append(codes, ind.Code)
		}
	}
	for _, c := range codes {
		if _, ok := s.catalogue.Get(c); !ok {
			return nil, &NotFoundError{"indicator", c}
		}
	}
	for _, c := range req.Agencies {
		if _, ok := s.registry.Get(c); !ok {
			return nil, &NotFoundError{"agency", c}
		}
	}
	var out []ExportChunk
	for _, c := range codes {
		for y := start.Year(); y <= end.Add(-1).Year(); y++ {
			yStart := period.Period{Kind: period.Year, Year: y, Index: 1}.Start(nil)
			yEnd := period.Period{Kind: period.Year, Year: y, Index: 1}.End(nil)
			q := store.Query{
				Indicators: []string{c}, Agencies: slices.Clone(req.Agencies), History: req.History,
				From: later(start, yStart), To: earlier(end, yEnd),
			}
			out = append(out, ExportChunk{Indicator: c, Year: y, Query: q})
		}
	}
	return out, nil
}

// ExportChunk reads one chunk of an export plan.
func (s *Service) ExportChunk(ctx context.Context, c ExportChunk) ([]indicators.Observation, error) {
	obs, err := s.read(ctx, c.Query)
	if err != nil {
		return nil, fmt.Errorf("read observations of %s in %d: %w", c.Indicator, c.Year, err)
	}
	return obs, nil
}

// ExportPages reads an export plan one page of at most size observations at a time
// (keyset pages within each chunk), so a chunk as large as the store costs one page of
// memory. Build it with Service.ExportPages and call Next until it reports done.
type ExportPages struct {
	s    *Service
	plan []ExportChunk
	size int
	i    int
	q    store.Query
	open bool
}

// ExportPages returns a reader of plan in pages of size observations.
func (s *Service) ExportPages(plan []ExportChunk, size int) *ExportPages {
	return &ExportPages{s: s, plan: plan, size: max(size, 1)}
}

// Next returns the next non-empty page, or done when the plan is read.
func (p *ExportPages) Next(ctx context.Context) (obs []indicators.Observation, done bool, err error) {
	for p.i < len(p.plan) {
		c := p.plan[p.i]
		if !p.open {
			p.q, p.open = c.Query, true
			p.q.Limit = p.size
		}
		obs, err := p.s.store.Observations(ctx, p.q)
		if err != nil {
			return nil, false, fmt.Errorf("read observations of %s in %d: %w", c.Indicator, c.Year, err)
		}
		if len(obs) < p.size {
			p.i, p.open = p.i+1, false
		} else {
			k := store.KeyOf(obs[len(obs)-1])
			p.q.After = &k
		}
		if len(obs) > 0 {
			return obs, false, nil
		}
	}
	return nil, true, nil
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
