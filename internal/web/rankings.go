package web

import (
	"net/http"
	"net/url"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/indicators/period"
	"github.com/g-oc/goc/internal/query"
)

// rankingsPage is the data of /rankings: one table per peer group.
type rankingsPage struct {
	Period  period.Period
	Periods []period.Period
	Group   indicators.PeerGroup
	Groups  []indicators.PeerGroup
	Tables  []rankingTable
}

type rankingTable struct {
	Report   *query.RankingReport
	Workbook string
	JSON     string
}

func (s *Server) rankings(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	now := s.now().In(s.loc)
	last := period.Period{Kind: period.Year, Year: now.Year() - 1, Index: 1}
	page := rankingsPage{Period: last, Groups: indicators.PeerGroups()}
	for p, i := last, 0; i < 5; p, i = p.Prev(), i+1 {
		page.Periods = append(page.Periods, p)
	}
	if v := q.Get("period"); v != "" {
		p, err := period.Parse(v)
		if err != nil || p.Kind != period.Year {
			return badParam("period", v, "cần một năm, ví dụ 2025", "a year is needed, such as 2025")
		}
		page.Period = p
	}
	groups := page.Groups
	if v := q.Get("group"); v != "" {
		g, err := indicators.ParsePeerGroup(v)
		if err != nil {
			return badParam("group", v, "chỉ nhận ministries, government_agencies hoặc provinces", "only ministries, government_agencies or provinces")
		}
		page.Group, groups = g, []indicators.PeerGroup{g}
	}
	for _, g := range groups {
		rep, err := cached(r.Context(), s, "ranking/"+string(g)+"/"+page.Period.String(), false, func() (*query.RankingReport, error) {
			return s.query.Ranking(r.Context(), query.RankingRequest{Group: g, Period: page.Period, Method: s.ranking})
		})
		if err != nil {
			return err
		}
		qs := url.Values{"group": {string(g)}, "period": {page.Period.String()}}.Encode()
		page.Tables = append(page.Tables, rankingTable{Report: rep,
			Workbook: "/api/v1/reports/ranking.xlsx?" + qs, JSON: "/api/v1/rankings?" + qs})
	}
	json := ""
	if len(page.Tables) == 1 {
		json = page.Tables[0].JSON
	}
	return s.render(w, r, pageOpts{Template: "rankings", Nav: "rankings", JSON: json, Data: page, Cached: true})
}
