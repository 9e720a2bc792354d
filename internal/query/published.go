package query

import "github.com/g-oc/goc/indicators"

// The methods below give a report as it is published: every figure rounded by
// indicators.RoundFor to the precision the catalogue gives its indicator. The query
// layer computes at full precision (ranking, progress and roll-up use the unrounded
// values); presenters (JSON API, pages, workbooks) call these at their boundary, so
// every presenter shows the same digits.

// Rounded is the report with its figures at the indicator's published precision.
func (r ProgressReport) Rounded(ind *indicators.Indicator) ProgressReport {
	r.Progress = r.Progress.Rounded(ind)
	if r.ByLevel != nil {
		by := make([]ProgressReport, len(r.ByLevel))
		for i, b := range r.ByLevel {
			by[i] = b.Rounded(ind)
		}
		r.ByLevel = by
	}
	return r
}

// Rounded is the series with its values at the indicator's published precision.
func (s Series) Rounded(ind *indicators.Indicator) Series {
	if s.Values != nil {
		vals := make([]indicators.Value, len(s.Values))
		for i, v := range s.Values {
			vals[i] = v.Rounded(ind)
		}
		s.Values = vals
	}
	return s
}

func roundPoints(ind *indicators.Indicator, pts []indicators.Point) []indicators.Point {
	if pts == nil {
		return nil
	}
	out := make([]indicators.Point, len(pts))
	for i, p := range pts {
		out[i] = indicators.Point{Period: p.Period, Value: indicators.RoundFor(ind, p.Value)}
	}
	return out
}

// Rounded is the card with every indicator's figures at its published precision, and
// portal uptime (a percentage) and median response time (seconds) at theirs.
func (c *Card) Rounded(cat *indicators.Catalogue) *Card {
	out := *c
	out.Indicators = make([]CardIndicator, len(c.Indicators))
	for i, ci := range c.Indicators {
		ind, ok := cat.Get(ci.Code)
		if ok {
			if ci.Latest != nil {
				l := ci.Latest.Rounded(ind)
				ci.Latest = &l
			}
			ci.Trend = roundPoints(ind, ci.Trend)
			ci.Progress2025 = ci.Progress2025.Rounded(ind)
			ci.Progress2030 = ci.Progress2030.Rounded(ind)
		}
		out.Indicators[i] = ci
	}
	out.Portals = make([]PortalUptime, len(c.Portals))
	for i, p := range c.Portals {
		if p.Uptime != nil {
			v := indicators.Round(*p.Uptime, indicators.UnitDecimals(indicators.Percent))
			p.Uptime = &v
		}
		if p.MedianSeconds != nil {
			v := indicators.Round(*p.MedianSeconds, indicators.UnitDecimals(indicators.Seconds))
			p.MedianSeconds = &v
		}
		out.Portals[i] = p
	}
	return &out
}

// Rounded is the ranking with each member's figures and the national trends at their
// indicators' published precision. Scores are already published at
// indicators.ScoreDecimals by the ranking itself.
func (r *RankingReport) Rounded(cat *indicators.Catalogue) *RankingReport {
	out := *r
	out.Entries = make([]RankingEntry, len(r.Entries))
	for i, e := range r.Entries {
		vals := make(map[string]RankingValue, len(e.Values))
		for code, v := range e.Values {
			if ind, ok := cat.Get(code); ok {
				v.Value = indicators.RoundFor(ind, v.Value)
			}
			vals[code] = v
		}
		e.Values = vals
		out.Entries[i] = e
	}
	out.Trends = make([]Trend, len(r.Trends))
	for i, t := range r.Trends {
		if ind, ok := cat.Get(t.Indicator); ok {
			t.Points = roundPoints(ind, t.Points)
		}
		out.Trends[i] = t
	}
	if r.Trends == nil {
		out.Trends = nil
	}
	out.Provenance = make([]ProvenanceRow, len(r.Provenance))
	for i, p := range r.Provenance {
		if ind, ok := cat.Get(p.Indicator); ok {
			p.Figure = indicators.RoundFor(ind, p.Figure)
		}
		out.Provenance[i] = p
	}
	if r.Provenance == nil {
		out.Provenance = nil
	}
	return &out
}
