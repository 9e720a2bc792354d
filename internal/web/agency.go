package web

import (
	"net/http"
	"net/url"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/indicators/period"
	"github.com/g-oc/goc/internal/query"
)

// agencyPage is the data of /agencies/{code}: the agency's report card.
type agencyPage struct {
	Card         *query.Card
	Rows         []agencyRow
	Predecessors []*indicators.Agency
	Successors   []*indicators.Agency
	Parent       *indicators.Agency
	Reports      []agencyReport
	Portals      []agencyPortal
	Workbook     string
	RankPeriod   period.Period
}

type agencyRow struct {
	query.CardIndicator
	Ind   *indicators.Indicator
	Rank  *query.IndicatorRank
	Spark *sparkline
	Prov  string
}

type agencyReport struct {
	Period period.Period
	Report *query.AgencyReport
}

type agencyPortal struct {
	query.PortalUptime
	Slug string
}

func (s *Server) agency(w http.ResponseWriter, r *http.Request) error {
	code := r.PathValue("code")
	ctx := r.Context()
	card, err := cached(ctx, s, "card/"+code, false, func() (*query.Card, error) {
		return s.query.AgencyCard(ctx, code, s.ranking)
	})
	if err != nil {
		return err
	}
	now := s.now().In(s.loc)
	rankPeriod := period.Period{Kind: period.Year, Year: now.Year() - 1, Index: 1}
	if card.Rank != nil {
		rankPeriod = card.Rank.Period
	}
	ranks, err := cached(ctx, s, "ranks/"+code+"/"+rankPeriod.String(), false, func() (map[string]query.IndicatorRank, error) {
		return s.query.IndicatorRanks(ctx, code, rankPeriod, s.ranking)
	})
	if err != nil {
		return err
	}
	l := langOf(r)
	reg := s.query.Registry()
	page := agencyPage{Card: card, RankPeriod: rankPeriod,
		Workbook: "/api/v1/reports/agency.xlsx?agency=" + url.QueryEscape(code)}
	for _, ci := range card.Indicators {
		ind, _ := s.query.Catalogue().Get(ci.Code)
		row := agencyRow{CardIndicator: ci, Ind: ind}
		if rk, ok := ranks[ci.Code]; ok {
			row.Rank = &rk
		}
		vals := make([]float64, len(ci.Trend))
		for i, p := range ci.Trend {
			vals[i] = p.Value
		}
		row.Spark = newSparkline(vals, 96, 28, l.T("trend.label")+": "+l.Pick(ci.NameVI, ci.NameEN))
		if ci.Latest != nil {
			row.Prov = provenanceURL(ci.Code, ci.Latest.From, ci.Latest.Period.String())
		}
		page.Rows = append(page.Rows, row)
	}
	for _, c := range card.Agency.Predecessors {
		if a, ok := reg.Get(c); ok {
			page.Predecessors = append(page.Predecessors, a)
		}
	}
	for _, c := range card.Agency.Successors {
		if a, ok := reg.Get(c); ok {
			page.Successors = append(page.Successors, a)
		}
	}
	if p, ok := reg.Get(card.Agency.Parent); ok {
		page.Parent = p
	}
	// Completeness of the last ended quarter and year, as /api/v1/completeness
	// counts it.
	for _, p := range []period.Period{period.Of(period.Quarter, now).Prev(), period.Of(period.Year, now).Prev()} {
		due, ok := s.dueDays[p.Kind]
		if !ok {
			due = 30
		}
		c, err := s.query.Completeness(ctx, p, due, s.loc, s.now(), query.CompletenessFilter{Within: code})
		if err != nil {
			return err
		}
		ar := agencyReport{Period: p}
		for i := range c.Agencies {
			if c.Agencies[i].Agency == code {
				ar.Report = &c.Agencies[i]
			}
		}
		page.Reports = append(page.Reports, ar)
	}
	for _, p := range card.Portals {
		page.Portals = append(page.Portals, agencyPortal{PortalUptime: p, Slug: query.PortalSlug(p.Target)})
	}
	var modified = card.GeneratedAt
	if card.DataCutoff != nil {
		modified = *card.DataCutoff
	}
	return s.render(w, r, pageOpts{Template: "agency", JSON: "/api/v1/agencies/" + url.PathEscape(code) + "/card",
		Modified: modified, Data: page})
}
