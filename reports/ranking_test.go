package reports_test

import (
	"archive/zip"
	"bytes"
	"context"
	"io"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/indicators/period"
	"github.com/g-oc/goc/internal/query"
	"github.com/g-oc/goc/reports"
)

func rankingOf(t *testing.T, g indicators.PeerGroup, p string, norm indicators.Normalisation) *query.RankingReport {
	t.Helper()
	q, _ := demoService(t)
	m := indicators.DefaultRankingMethod()
	m.Normalisation = norm
	rep, err := q.Ranking(context.Background(), query.RankingRequest{Group: g, Period: period.MustParse(p), Method: m, Provenance: true, Trends: true})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func TestRankingWorkbookHoldsTheRankingsFiguresExactly(t *testing.T) {
	cases := []struct {
		group indicators.PeerGroup
		p     string
		norm  indicators.Normalisation
	}{
		{indicators.Provinces, "2025", indicators.MinMax},
		{indicators.Provinces, "2024", indicators.MinMax},
		{indicators.Ministries, "2025", indicators.ZScore},
		{indicators.GovernmentAgencies, "2025-Q3", indicators.MinMax},
	}
	for _, c := range cases {
		t.Run(string(c.group)+"-"+c.p, func(t *testing.T) {
			rep := rankingOf(t, c.group, c.p, c.norm)
			if rep.Ranked == 0 {
				t.Fatalf("nobody ranked: %+v", rep)
			}
			wb, err := reports.RankingWorkbook(rep, nil)
			if err != nil {
				t.Fatal(err)
			}
			f, _ := reopen(t, wb)
			cols := reports.Columns(rep)
			for _, sheet := range []string{reports.SheetSummary, reports.SheetRanking} {
				for i, e := range rep.Entries {
					row := reports.RankingFirstRow + i
					num(t, f, sheet, reports.ColRank, row, iptr(e.Rank), "rank")
					num(t, f, sheet, reports.ColScore, row, e.Score, "score")
					num(t, f, sheet, reports.ColCoverage, row, fptr(e.Coverage), "coverage")
					var prev, change *float64
					if e.PreviousRank != nil {
						prev = iptr(*e.PreviousRank)
					}
					if e.Change != nil {
						change = fptr(float64(*e.Change))
					}
					num(t, f, sheet, reports.ColPreviousRank, row, prev, "previous rank")
					num(t, f, sheet, reports.ColChange, row, change, "change")
					if got := raw(t, f, sheet, at(reports.ColCode, row)); got != e.Agency {
						t.Errorf("%s row %d: code %q, want %q", sheet, row, got, e.Agency)
					}
					if got := raw(t, f, sheet, at(reports.ColAgency, row)); got != e.NameVI {
						t.Errorf("%s row %d: agency %q, want %q", sheet, row, got, e.NameVI)
					}
					for _, p := range rep.Pillars {
						var v *float64
						if x, ok := e.Pillars[p.Pillar]; ok {
							v = fptr(x)
						}
						num(t, f, sheet, cols.Pillars[p.Pillar], row, v, "pillar "+p.Pillar)
					}
					if sheet != reports.SheetRanking {
						continue
					}
					for _, ind := range rep.Indicators {
						col, shown := cols.Value[ind.Code]
						if !shown {
							if ind.Unused != indicators.UnusedNoData {
								t.Errorf("indicator %s (%s) has no columns", ind.Code, ind.Unused)
							}
							continue
						}
						var v, n *float64
						if x, ok := e.Values[ind.Code]; ok {
							v = fptr(x.Value)
						}
						if x, ok := e.Normalised[ind.Code]; ok {
							n = fptr(x)
						}
						num(t, f, sheet, col, row, v, ind.Code+" value")
						num(t, f, sheet, col+1, row, n, ind.Code+" normalised")
					}
				}
			}
		})
	}
}

func TestRankingWorkbookHasChartsTrafficLightsNamesAndPrintSetup(t *testing.T) {
	rep := rankingOf(t, indicators.Provinces, "2025", indicators.MinMax)
	wb, err := reports.RankingWorkbook(rep, nil)
	if err != nil {
		t.Fatal(err)
	}
	f, data := reopen(t, wb)

	want := []string{reports.SheetCover, reports.SheetSummary, reports.SheetRanking, reports.SheetScores, reports.SheetTrends, reports.SheetMethod, reports.SheetData}
	if got := f.GetSheetList(); !slices.Equal(got, want) {
		t.Fatalf("sheets %q, want %q", got, want)
	}

	// Charts: the score bar chart over the ranking sheet's score column, and one line
	// chart per key national indicator with its target lines.
	parts := zipEntries(t, data)
	cs := charts(parts)
	withPoints := 0
	for _, tr := range rep.Trends {
		if len(tr.Points) > 0 {
			withPoints++
		}
	}
	if withPoints < 5 || len(cs) != 1+withPoints {
		t.Fatalf("%d charts for %d trends with data, want one bar chart plus one per trend", len(cs), withPoints)
	}
	last := strconv.Itoa(reports.RankingFirstRow + rep.Ranked - 1)
	var bar, lines int
	for _, c := range cs {
		switch {
		case strings.Contains(c, "<barChart>"):
			bar++
			if !strings.Contains(c, "'Xếp hạng - Ranking'!$F$6:$F$"+last) || !strings.Contains(c, "'Xếp hạng - Ranking'!$E$6:$E$"+last) {
				t.Errorf("the bar chart does not plot the score column against the agency names:\n%.600s", c)
			}
		case strings.Contains(c, "<lineChart>"):
			lines++
			if strings.Count(c, "<ser>") < 2 {
				t.Errorf("a trend chart has no target line:\n%.600s", c)
			}
		}
	}
	if bar != 1 || lines != withPoints {
		t.Errorf("%d bar charts and %d line charts, want 1 and %d", bar, lines, withPoints)
	}

	// Traffic lights on every indicator value column that has a target.
	cf, err := f.GetConditionalFormats(reports.SheetRanking)
	if err != nil {
		t.Fatal(err)
	}
	cols := reports.Columns(rep)
	lastRow := strconv.Itoa(reports.RankingFirstRow + len(rep.Entries) - 1)
	for _, ind := range rep.Indicators {
		col, ok := cols.Value[ind.Code]
		if !ok || (ind.Target2025 == nil && ind.Target2030 == nil) {
			continue
		}
		c := at(col, reports.RankingFirstRow)
		rng := c + ":" + strings.TrimRight(c, "0123456789") + lastRow
		rules := cf[rng]
		if len(rules) == 0 {
			t.Errorf("%s (%s): no traffic light on %s", ind.Code, c, rng)
			continue
		}
		// The first rule tests the later target (green), and every rule skips blanks:
		// a missing value is not a failing one.
		first := ind.Target2030
		if first == nil {
			first = ind.Target2025
		}
		op := ">="
		if ind.Direction == indicators.LowerIsBetter {
			op = "<="
		}
		if want := c + op + strconv.FormatFloat(first.Value, 'g', -1, 64); !strings.Contains(rules[0].Criteria, want) {
			t.Errorf("%s: first rule %q does not test %s", ind.Code, rules[0].Criteria, want)
		}
		for _, r := range rules {
			if r.Type != "formula" || !strings.Contains(r.Criteria, "ISNUMBER("+c+")") {
				t.Errorf("%s: rule %+v colours blank cells", ind.Code, r)
			}
		}
		if ind.Target2025 != nil && ind.Target2030 != nil && len(rules) != 3 {
			t.Errorf("%s: %d rules, want green, amber and red", ind.Code, len(rules))
		}
	}
	if len(cf) < 5 {
		t.Errorf("only %d conditional formats on the ranking sheet", len(cf))
	}

	// Defined names, including the print titles of the two ranking tables.
	names := map[string]string{}
	for _, d := range f.GetDefinedName() {
		names[d.Name+"@"+d.Scope] = d.RefersTo
	}
	for _, n := range []string{reports.NameRankingTable, reports.NameRanks, reports.NameScores, reports.NameAgencies, reports.NamePeriod, reports.NameDataCutoff, reports.NameGeneratedAt, reports.NameProvenance} {
		if names[n+"@Workbook"] == "" {
			t.Errorf("defined name %s is missing; have %v", n, names)
		}
	}
	if got := names[reports.NameScores+"@Workbook"]; got != "'Xếp hạng - Ranking'!$F$6:$F$"+lastRow {
		t.Errorf("Scores refers to %q", got)
	}
	for _, s := range []string{reports.SheetSummary, reports.SheetRanking} {
		if !strings.Contains(names["_xlnm.Print_Titles@"+s], "$4:$5") {
			t.Errorf("%s has no print titles: %v", s, names)
		}
	}
	if v := raw(t, f, reports.SheetCover, "C7"); v != "2025" {
		t.Errorf("ReportPeriod cell holds %q", v)
	}

	// Print setup: A4 landscape on every sheet, on a page wide, except the two wide
	// tables, which fitted would print under 8 pt: they print at 100% with their titles
	// repeated (the PDF test in print_test.go checks what LibreOffice makes of it).
	for _, s := range f.GetSheetList() {
		pl, err := f.GetPageLayout(s)
		if err != nil {
			t.Fatal(err)
		}
		if pl.Size == nil || *pl.Size != 9 || pl.Orientation == nil || *pl.Orientation != "landscape" {
			t.Errorf("%s: page layout %+v, want A4 (9) landscape", s, pl)
		}
		props, err := f.GetSheetProps(s)
		if err != nil {
			t.Fatal(err)
		}
		fitted := props.FitToPage != nil && *props.FitToPage && pl.FitToWidth != nil && *pl.FitToWidth == 1
		if wide := s == reports.SheetRanking || s == reports.SheetData; wide {
			if fitted || pl.AdjustTo == nil || *pl.AdjustTo != 100 {
				t.Errorf("%s: fitted %v, scale %v; want 100%%, not shrunk below 8 pt", s, fitted, pl.AdjustTo)
			}
		} else if !fitted && (pl.AdjustTo == nil || *pl.AdjustTo < 70) {
			// Laid out to fit at 100%, or scaled to a page by a set percentage that
			// keeps its type at 8 pt (the Summary's 11 pt at about 75%).
			t.Errorf("%s: neither fitted to a page nor scaled (%v)", s, pl.AdjustTo)
		}
	}
	panes, err := f.GetPanes(reports.SheetRanking)
	if err != nil {
		t.Fatal(err)
	}
	if !panes.Freeze || panes.XSplit != reports.ColAgency || panes.YSplit != reports.RankingFirstRow-1 {
		t.Errorf("ranking panes %+v, want frozen after the agency column and the header rows", panes)
	}
}

func TestRankingWorkbookKeepsVietnameseTextAndSaysWhatTheNumbersMean(t *testing.T) {
	rep := rankingOf(t, indicators.Provinces, "2025", indicators.MinMax)
	wb, err := reports.RankingWorkbook(rep, nil)
	if err != nil {
		t.Fatal(err)
	}
	f, _ := reopen(t, wb)
	if v := raw(t, f, reports.SheetCover, "C6"); v != "Tỉnh, thành phố trực thuộc trung ương / Provinces and centrally-run cities" {
		t.Errorf("cover group = %q", v)
	}
	if v := raw(t, f, reports.SheetCover, "A3"); v != "BẢNG XẾP HẠNG CHÍNH PHỦ SỐ" {
		t.Errorf("cover title = %q", v)
	}
	cover, err := f.GetRows(reports.SheetCover)
	if err != nil {
		t.Fatal(err)
	}
	text := ""
	for _, r := range cover {
		text += strings.Join(r, " ") + "\n"
	}
	for _, want := range []string{
		"Small differences in scores and ranks are not significant",
		"Chênh lệch nhỏ về điểm và thứ hạng không có ý nghĩa thống kê",
		"DỮ LIỆU MẪU", // the demo history must not pass for official figures
		"Data cut-off", "Generated at", "2026-11-23 17:00:00 (UTC+07:00)",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the cover does not say %q:\n%s", want, text)
		}
	}
	found := false
	for i, e := range rep.Entries {
		if e.Agency == "N79" {
			found = true
			if v := raw(t, f, reports.SheetRanking, at(reports.ColAgency, reports.RankingFirstRow+i)); v != "Thành phố Hồ Chí Minh" {
				t.Errorf("N79 is written %q", v)
			}
		}
	}
	if !found {
		t.Fatal("Ho Chi Minh City (N79) is not in the 2025 province ranking")
	}
	if got := f.GetSheetName(2); got != "Xếp hạng - Ranking" {
		t.Errorf("sheet name %q", got)
	}
}

func TestRankingDataSheetTracesMergedProvincesToTheirPredecessors(t *testing.T) {
	rep := rankingOf(t, indicators.Provinces, "2025", indicators.MinMax)
	wb, err := reports.RankingWorkbook(rep, nil)
	if err != nil {
		t.Fatal(err)
	}
	f, _ := reopen(t, wb)
	rows, err := f.GetRows(reports.SheetData, excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows)-1 != len(rep.Provenance) {
		t.Fatalf("%d data rows for %d provenance records", len(rows)-1, len(rep.Provenance))
	}
	reg := indicators.DefaultRegistry()
	n79, _ := reg.Get("N79")
	from := map[string]bool{}
	for i, r := range rows[1:] {
		p := rep.Provenance[i]
		if r[1] != p.Agency || r[3] != p.Indicator || r[6] != p.Observation.Agency || r[11] != string(p.Observation.Source) || r[12] != strconv.Itoa(p.Observation.Revision) {
			t.Fatalf("data row %d = %q, want %+v", i+2, r, p)
		}
		if r[1] == "N79" && r[3] == "dossiers_fully_online" && strings.HasPrefix(r[0], "kỳ trước") {
			from[r[6]] = true
			if r[5] != "2024-Q4" {
				t.Errorf("N79's 2024 figure comes from %s, want the last quarter of 2024", r[5])
			}
		}
	}
	var got []string
	for c := range from {
		got = append(got, c)
	}
	slices.Sort(got)
	want := slices.Sorted(slices.Values(n79.Predecessors))
	if !slices.Equal(got, want) {
		t.Errorf("N79's 2024 dossiers figure comes from %v, want its predecessors %v", got, want)
	}
	if rep.Names["P74"] == "" || !strings.Contains(rep.Names["P74"], "Bình Dương") {
		t.Errorf("the data sheet cannot name Bình Dương (P74): %q", rep.Names["P74"])
	}
}

// TestRankingWorkbookOpensOnItsCoverAlone: Excel opens the cover, and no other sheet is
// selected with it (several selected tabs put Excel in group mode, where typing in one
// sheet writes into all). The active sheet is set before the Data sheet is streamed,
// so the streamed sheet must still come out unselected and whole.
func TestRankingWorkbookOpensOnItsCoverAlone(t *testing.T) {
	rep := rankingOf(t, indicators.Provinces, "2025", indicators.MinMax)
	wb, err := reports.RankingWorkbook(rep, nil)
	if err != nil {
		t.Fatal(err)
	}
	f, b := reopen(t, wb)
	if i := f.GetActiveSheetIndex(); f.GetSheetName(i) != reports.SheetCover {
		t.Errorf("the workbook opens on %q, want %q", f.GetSheetName(i), reports.SheetCover)
	}
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	var selected []string
	for _, zf := range zr.File {
		if !strings.HasPrefix(zf.Name, "xl/worksheets/sheet") {
			continue
		}
		r, err := zf.Open()
		if err != nil {
			t.Fatal(err)
		}
		x, err := io.ReadAll(r)
		r.Close()
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(x, []byte(`tabSelected="1"`)) || bytes.Contains(x, []byte(`tabSelected="true"`)) {
			selected = append(selected, zf.Name)
		}
	}
	if !slices.Equal(selected, []string{"xl/worksheets/sheet1.xml"}) {
		t.Errorf("selected sheets: %v, want the cover's alone", selected)
	}
	rows, err := f.GetRows(reports.SheetData)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(rep.Provenance)+1 {
		t.Errorf("%s has %d rows, want a header and %d provenance rows", reports.SheetData, len(rows), len(rep.Provenance))
	}
}
