package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/internal/query"
)

// indicatorPage is the data of /indicators/{code}.
type indicatorPage struct {
	Ind     *indicators.Indicator
	View    *query.IndicatorView
	Chart   *lineChart
	Year    int
	Years   []int
	Targets []indicators.Target
	// ProvCountry is the provenance link of the country's latest figure.
	ProvCountry string
	Levels      []levelRows
	Aggregation string
}

type levelRows struct {
	Level indicators.Level
	Rows  []indicatorRow
	// Total is how many agencies the level has; Rows holds the best levelRowCap.
	Total int
}

// levelRowCap bounds a level's table: the best 100 agencies keep the page under 200 KB
// even for 3,300 communes; the rest are in the API answer the page links to.
const levelRowCap = 100

type indicatorRow struct {
	query.RankedProgress
	Agency *indicators.Agency
	// Prov is the address of the observations behind the latest figure.
	Prov string
}

func (s *Server) indicator(w http.ResponseWriter, r *http.Request) error {
	code := r.PathValue("code")
	year := 2025
	if v := r.URL.Query().Get("year"); v != "" {
		y, err := strconv.Atoi(v)
		if err != nil || (y != 2025 && y != 2030) {
			return badParam("year", v, "chỉ nhận 2025 hoặc 2030", "only 2025 or 2030")
		}
		year = y
	}
	view, err := cached(r.Context(), s, "indicator/"+code+"/"+strconv.Itoa(year), false, func() (*query.IndicatorView, error) {
		return s.query.IndicatorView(r.Context(), code, year, s.now())
	})
	if err != nil {
		return err
	}
	l := langOf(r)
	ind := view.Indicator
	page := indicatorPage{Ind: ind, View: view, Year: year, Years: []int{2025, 2030}}
	var targets []targetLine
	for _, y := range page.Years {
		if t, ok := ind.TargetFor(y, indicators.National); ok {
			page.Targets = append(page.Targets, t)
			targets = append(targets, targetLine{Value: t.Value, Label: l.T("col.target") + " " + strconv.Itoa(y) + ": " + l.Value(ind, t.Value)})
		}
	}
	var points []chartPoint
	for _, v := range view.National.Values {
		points = append(points, chartPoint{Label: v.Period.String(), Value: v.Value, Title: v.Period.String() + ": " + l.Value(ind, v.Value)})
	}
	name := l.Pick(ind.NameVI, ind.NameEN)
	page.Chart = newLineChart(points, targets, 720, 260, l.T("indicator.chart")+": "+name, func(v float64) string { return l.Value(ind, v) })
	if p := view.Country.Latest; p != nil {
		page.ProvCountry = provenanceURL(code, view.Country.LatestFrom, p.Period.String())
	}
	reg := s.query.Registry()
	for _, lt := range view.Levels {
		lr := levelRows{Level: lt.Level, Total: len(lt.Rows)}
		for _, row := range lt.Rows[:min(len(lt.Rows), levelRowCap)] {
			a, _ := reg.Get(row.Agency)
			ir := indicatorRow{RankedProgress: row, Agency: a}
			if row.Latest != nil {
				ir.Prov = provenanceURL(code, row.LatestFrom, row.Latest.Period.String())
			}
			lr.Rows = append(lr.Rows, ir)
		}
		page.Levels = append(page.Levels, lr)
	}
	page.Aggregation = "aggregation." + string(ind.Aggregation)
	return s.render(w, r, pageOpts{Template: "indicator", Nav: "scoreboard",
		JSON: "/api/v1/progress?indicator=" + url.QueryEscape(code) + "&agency=*&year=" + strconv.Itoa(year),
		Data: page, Cached: true})
}

// provenanceURL is the page of the stored observations behind a figure: the agencies
// whose own values made it, in its period. A figure rolled up from very many agencies
// links to every observation of the period instead, which holds them.
func provenanceURL(code string, from []string, per string) string {
	q := url.Values{"indicator": {code}, "period": {per}}
	if len(from) > 0 && len(from) <= 60 {
		q.Set("agency", strings.Join(from, ","))
	}
	return "/observations?" + q.Encode()
}
