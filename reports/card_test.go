package reports_test

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/internal/query"
	"github.com/g-oc/goc/reports"
)

func TestReportCardShowsLatestValuesAgainstTargetsOnOnePage(t *testing.T) {
	q, _ := demoService(t)
	card, err := q.AgencyCard(context.Background(), "N79", indicators.DefaultRankingMethod())
	if err != nil {
		t.Fatal(err)
	}
	wb, err := reports.CardWorkbook(card, nil)
	if err != nil {
		t.Fatal(err)
	}
	f, data := reopen(t, wb)
	if got := f.GetSheetList(); !slices.Equal(got, []string{reports.SheetCard, reports.SheetCardTrend}) {
		t.Fatalf("sheets %q", got)
	}
	if v := raw(t, f, reports.SheetCard, "A2"); v != "Thành phố Hồ Chí Minh (N79)" {
		t.Errorf("title %q", v)
	}
	if card.Rank == nil || card.Rank.Rank == 0 || card.Rank.Members != 34 || card.Rank.Change == nil {
		t.Fatalf("N79's rank on the card: %+v", card.Rank)
	}
	if v := raw(t, f, reports.SheetCard, "A4"); !strings.Contains(v, fmt.Sprintf("%d/%d", card.Rank.Rank, card.Rank.Ranked)) || !strings.Contains(v, "2024") {
		t.Errorf("rank line %q does not give %d/%d and the change from 2024", v, card.Rank.Rank, card.Rank.Ranked)
	}
	withTrend := 0
	rowOf := cardRows(t, f)
	for _, ci := range card.Indicators {
		row, ok := rowOf[ci.NameVI]
		if !ok {
			t.Errorf("%s has no row on the card", ci.Code)
			continue
		}
		var latest *float64
		if ci.Latest != nil {
			latest = fptr(ci.Latest.Value)
			if got := raw(t, f, reports.SheetCard, at(reports.CardColPeriod, row)); got != ci.Latest.Period.String() {
				t.Errorf("%s: period %q, want %s", ci.Code, got, ci.Latest.Period)
			}
		}
		num(t, f, reports.SheetCard, reports.CardColLatest, row, latest, ci.Code+" latest")
		for j, pr := range []query.ProgressReport{ci.Progress2025, ci.Progress2030} {
			var target *float64
			if pr.Target != nil {
				target = fptr(pr.Target.Value)
			}
			if target != nil || ci.Progress2025.Target != nil || ci.Progress2030.Target != nil {
				num(t, f, reports.SheetCard, reports.CardColTarget2025+2*j, row, target, ci.Code+" target")
			}
			// With neither target, one statement stands across the four target columns.
			col := reports.CardColStatus2025 + 2*j
			if ci.Progress2025.Target == nil && ci.Progress2030.Target == nil {
				col = reports.CardColTarget2025
			}
			if got := raw(t, f, reports.SheetCard, at(col, row)); got != reports.StatusLabel(pr.Status) {
				t.Errorf("%s: status %q, want %q", ci.Code, got, reports.StatusLabel(pr.Status))
			}
		}
		if len(ci.Trend) > 0 {
			withTrend++
		}
	}
	if withTrend < 10 {
		t.Fatalf("only %d indicators have a trend", withTrend)
	}
	// N79 did not exist before July 2025: its trend starts in 2019 all the same, from
	// its predecessors' figures.
	for _, ci := range card.Indicators {
		if ci.Code == "dossiers_fully_online" && (len(ci.Trend) == 0 || ci.Trend[0].Period.Year != 2019) {
			t.Errorf("N79's dossier trend %v does not reach back before the merger", ci.Trend)
		}
	}
	if n := len(charts(zipEntries(t, data))); n != withTrend {
		t.Errorf("%d trend charts, want one per indicator with a trend (%d)", n, withTrend)
	}
	pl, err := f.GetPageLayout(reports.SheetCard)
	if err != nil {
		t.Fatal(err)
	}
	if *pl.Size != 9 || *pl.FitToWidth != 1 || *pl.FitToHeight != 1 {
		t.Errorf("card layout %+v, want A4 on one page", pl)
	}
	names := map[string]bool{}
	for _, d := range f.GetDefinedName() {
		names[d.Name] = true
	}
	for _, n := range []string{reports.NameCardTable, reports.NameTrendData, reports.NamePortals} {
		if !names[n] {
			t.Errorf("defined name %s is missing", n)
		}
	}
	if cf, err := f.GetConditionalFormats(reports.SheetCard); err != nil || len(cf) < 10 {
		t.Errorf("%d traffic lights on the card (%v)", len(cf), err)
	}
	rows, err := f.GetRows(reports.SheetCard)
	if err != nil {
		t.Fatal(err)
	}
	var all string
	for _, r := range rows {
		all += strings.Join(r, " ") + "\n"
	}
	if !strings.Contains(all, "no probe data") {
		t.Errorf("a card without probe results must say so:\n%s", all)
	}
}

func TestReportCardSummarisesPortalUptimeFromProbeResults(t *testing.T) {
	q, st := demoService(t)
	ctx := context.Background()
	target := "https://langson.gov.vn/"
	var rs []indicators.ProbeResult
	for i := range 10 {
		r := indicators.ProbeResult{
			Target: target, Agency: "P20", Time: testNow.Add(-time.Duration(i+1) * time.Hour), Success: i != 3,
			HTTPStatus: 200, Phases: map[string]float64{"total": 0.1 * float64(i+1)}, IPv6: true, DNSSEC: "signed-valid",
			CertValid: true, CertExpiry: testNow.AddDate(0, 2, 0), TLSVersion: "TLS 1.3",
		}
		if !r.Success {
			r.HTTPStatus, r.Error = 0, "connection refused"
		}
		rs = append(rs, r)
	}
	if err := st.WriteProbeResults(ctx, rs); err != nil {
		t.Fatal(err)
	}
	card, err := q.AgencyCard(ctx, "P20", indicators.DefaultRankingMethod())
	if err != nil {
		t.Fatal(err)
	}
	if len(card.Portals) != 1 || card.Portals[0].Probes != 10 || card.Portals[0].Successes != 9 {
		t.Fatalf("portals %+v", card.Portals)
	}
	wb, err := reports.CardWorkbook(card, nil)
	if err != nil {
		t.Fatal(err)
	}
	f, _ := reopen(t, wb)
	rows, err := f.GetRows(reports.SheetCard)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for i, r := range rows {
		if len(r) > 0 && strings.HasPrefix(r[0], target+" — ") {
			found = true
			if got := raw(t, f, reports.SheetCard, at(4, i+1)); got != "0.9" {
				t.Errorf("uptime cell %q, want 0.9 (9 of 10 probes)", got)
			}
			if got := raw(t, f, reports.SheetCard, at(5, i+1)); got != strconv.Itoa(10) {
				t.Errorf("probe count %q", got)
			}
			if !strings.Contains(strings.Join(r, " "), "signed-valid") {
				t.Errorf("portal row %q lacks DNSSEC", r)
			}
		}
	}
	if !found {
		t.Fatalf("no row for %s on the card", target)
	}
}

// cardRows finds each indicator's row on the card by the Vietnamese name that starts its
// first cell: the portal indicators sit under a sub-heading of their own.
func cardRows(t *testing.T, f *excelize.File) map[string]int {
	t.Helper()
	rows, err := f.GetRows(reports.SheetCard)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]int{}
	for i, r := range rows {
		if i+1 < reports.CardFirstRow || len(r) == 0 {
			continue
		}
		name, _, _ := strings.Cut(r[0], "\n")
		name, _, _ = strings.Cut(name, " / ")
		byName[name] = i + 1
	}
	return byName
}
