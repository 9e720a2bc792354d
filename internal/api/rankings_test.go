package api_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/indicators/period"
	"github.com/g-oc/goc/internal/api"
	"github.com/g-oc/goc/internal/query"
	"github.com/g-oc/goc/internal/store"
	"github.com/g-oc/goc/internal/store/sqlite"
	"github.com/g-oc/goc/reports"
)

type rankingJSON struct {
	Group          string `json:"group"`
	Period         string `json:"period"`
	PreviousPeriod string `json:"previous_period"`
	Members        int    `json:"members"`
	Ranked         int    `json:"ranked"`
	Method         struct {
		Normalisation string `json:"normalisation"`
	} `json:"method"`
	Entries []struct {
		Agency       string   `json:"agency"`
		Rank         int      `json:"rank"`
		Score        *float64 `json:"score"`
		PreviousRank *int     `json:"previous_rank"`
		Change       *int     `json:"change"`
		Flag         string   `json:"flag"`
	} `json:"entries"`
	Provenance []any `json:"provenance"`
}

func (f *fixture) download(t *testing.T, path string) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.Get(f.srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

func TestRankingsAPIRanksThe34ProvincesWithChangeFrom2024(t *testing.T) {
	f := newFixture(t, true)
	var rep rankingJSON
	if code := f.get(t, "/api/v1/rankings?group=provinces&period=2025", &rep); code != 200 {
		t.Fatalf("status %d", code)
	}
	if rep.Members != 34 || rep.Ranked != 34 || len(rep.Entries) != 34 || rep.PreviousPeriod != "2024" || rep.Method.Normalisation != "minmax" {
		t.Fatalf("ranking %+v", rep)
	}
	if len(rep.Provenance) != 0 {
		t.Error("provenance was sent without include=provenance")
	}
	for i, e := range rep.Entries {
		if i > 0 && *e.Score > *rep.Entries[i-1].Score {
			t.Errorf("%s scores %v above %s's %v but ranks below", e.Agency, *e.Score, rep.Entries[i-1].Agency, *rep.Entries[i-1].Score)
		}
		if e.Change == nil || e.PreviousRank == nil || *e.Change != *e.PreviousRank-e.Rank {
			t.Errorf("%s: rank %d, previous %v, change %v", e.Agency, e.Rank, e.PreviousRank, e.Change)
		}
	}
	var z rankingJSON
	f.get(t, "/api/v1/rankings?group=ministries&period=2025&normalisation=zscore&include=provenance,trends", &z)
	if z.Method.Normalisation != "zscore" || z.Ranked == 0 || len(z.Provenance) == 0 {
		t.Errorf("z-score ministries: %+v", z.Method)
	}
	var old rankingJSON
	f.get(t, "/api/v1/rankings?group=province&period=2024", &old)
	if old.Members != 63 {
		t.Errorf("2024 ranks %d provinces, want 63", old.Members)
	}
}

func TestRankingsAPIRejectsBadQueriesNamingTheField(t *testing.T) {
	f := newFixture(t, false)
	tests := []struct{ query, field string }{
		{"period=2025", "group"},
		{"group=communes&period=2025", "group"},
		{"group=provinces&period=2025-Q5", "period"},
		{"group=provinces&period=2030", "period"},
		{"group=provinces&normalisation=rank", "normalisation"},
		{"group=provinces&include=everything", "include"},
	}
	for _, tt := range tests {
		for _, path := range []string{"/api/v1/rankings?", "/api/v1/reports/ranking.xlsx?"} {
			var body struct {
				Error    string           `json:"error"`
				Problems []rankingProblem `json:"problems"`
			}
			code := f.get(t, path+tt.query, &body)
			if code != 400 || len(body.Problems) != 1 || body.Problems[0].Field != tt.field || !strings.Contains(body.Problems[0].Reason, "/") {
				t.Errorf("%s%s: %d %+v, want 400 naming %s in Vietnamese and English", path, tt.query, code, body, tt.field)
			}
		}
	}
}

// rankingProblem mirrors api.Problem for decoding.
type rankingProblem struct{ Field, Reason string }

func TestRankingWorkbookDownloadMatchesTheRankingsAPI(t *testing.T) {
	f := newFixture(t, true)
	var rep rankingJSON
	f.get(t, "/api/v1/rankings?group=provinces&period=2025", &rep)
	resp, body := f.download(t, "/api/v1/reports/ranking.xlsx?group=provinces&period=2025")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" ||
		!strings.Contains(resp.Header.Get("Content-Disposition"), "xep-hang-provinces-2025.xlsx") {
		t.Fatalf("%d %v", resp.StatusCode, resp.Header)
	}
	wb, err := excelize.OpenReader(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("the workbook does not open: %v", err)
	}
	defer wb.Close()
	for i, e := range rep.Entries {
		row := strconv.Itoa(reports.RankingFirstRow + i)
		code, _ := wb.GetCellValue(reports.SheetRanking, "D"+row)
		rank, _ := wb.GetCellValue(reports.SheetRanking, "A"+row, excelize.Options{RawCellValue: true})
		score, _ := wb.GetCellValue(reports.SheetRanking, "F"+row, excelize.Options{RawCellValue: true})
		change, _ := wb.GetCellValue(reports.SheetRanking, "C"+row, excelize.Options{RawCellValue: true})
		if code != e.Agency || rank != strconv.Itoa(e.Rank) || score != strconv.FormatFloat(*e.Score, 'f', -1, 64) || change != strconv.Itoa(*e.Change) {
			t.Errorf("row %s: %s rank %s score %s change %s; API: %s rank %d score %v change %d", row, code, rank, score, change, e.Agency, e.Rank, *e.Score, *e.Change)
		}
	}
}

func TestAgencyCardAPIAndWorkbook(t *testing.T) {
	f := newFixture(t, true)
	var card struct {
		Agency struct {
			Code   string `json:"code"`
			NameVI string `json:"name_vi"`
		} `json:"agency"`
		Indicators []struct {
			Code   string `json:"code"`
			NameVI string `json:"name_vi"`
			Latest *struct {
				Value float64 `json:"value"`
			} `json:"latest"`
			Progress2025 struct {
				Status string `json:"status"`
			} `json:"progress_2025"`
		} `json:"indicators"`
		Rank *struct {
			Rank   int `json:"rank"`
			Ranked int `json:"ranked"`
		} `json:"rank"`
		Portals         []any `json:"portals"`
		ProbesAvailable bool  `json:"probes_available"`
	}
	if code := f.get(t, "/api/v1/agencies/BTC/card", &card); code != 200 {
		t.Fatalf("status %d", code)
	}
	if card.Agency.NameVI != "Bộ Tài chính" || len(card.Indicators) < 10 || card.Rank == nil || card.Rank.Rank == 0 || !card.ProbesAvailable || len(card.Portals) != 0 {
		t.Fatalf("card %+v", card)
	}
	if code := f.get(t, "/api/v1/agencies/P99/card", nil); code != 404 {
		t.Errorf("unknown agency: %d", code)
	}
	resp, body := f.download(t, "/api/v1/reports/agency.xlsx?agency=BTC")
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	wb, err := excelize.OpenReader(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer wb.Close()
	if v, _ := wb.GetCellValue(reports.SheetCard, "A2"); v != "Bộ Tài chính (BTC)" {
		t.Errorf("card title %q", v)
	}
	// Each indicator's row starts with its Vietnamese name (the portal indicators come
	// last, under a sub-heading of their own).
	rows, err := wb.GetRows(reports.SheetCard)
	if err != nil {
		t.Fatal(err)
	}
	rowOf := map[string]int{}
	for i, r := range rows {
		if len(r) > 0 {
			rowOf[strings.SplitN(strings.SplitN(r[0], "\n", 2)[0], " / ", 2)[0]] = i + 1
		}
	}
	for _, ci := range card.Indicators {
		row := strconv.Itoa(rowOf[ci.NameVI])
		v, _ := wb.GetCellValue(reports.SheetCard, "C"+row, excelize.Options{RawCellValue: true})
		if ci.Latest != nil {
			if x, _ := strconv.ParseFloat(v, 64); x != ci.Latest.Value {
				t.Errorf("%s: workbook %q, API %v", ci.Code, v, ci.Latest.Value)
			}
		}
	}
	if code := f.get(t, "/api/v1/reports/agency.xlsx", nil); code != 400 {
		t.Errorf("no agency: %d", code)
	}
}

func TestExportEndpointsStreamStoredRows(t *testing.T) {
	f := newFixture(t, true)
	var obs struct {
		Count int `json:"count"`
	}
	f.get(t, "/api/v1/observations?indicator=egdi_rank,dossiers_fully_online&from=2020&to=2024&limit=5000", &obs)
	resp, body := f.download(t, "/api/v1/reports/export.csv?indicator=egdi_rank,dossiers_fully_online&from=2020&to=2024")
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("%d %v", resp.StatusCode, resp.Header)
	}
	recs, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if obs.Count == 0 || len(recs)-1 != obs.Count {
		t.Fatalf("CSV has %d rows, the observations API %d", len(recs)-1, obs.Count)
	}
	resp, body = f.download(t, "/api/v1/reports/export.xlsx?indicator=egdi_rank,dossiers_fully_online&from=2020&to=2024")
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	wb, err := excelize.OpenReader(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer wb.Close()
	rows, _ := wb.GetRows(reports.SheetExport)
	if len(rows)-1 != obs.Count {
		t.Errorf("XLSX has %d rows, the observations API %d", len(rows)-1, obs.Count)
	}
	for _, tt := range []struct {
		query string
		code  int
	}{
		{"indicator=nope&from=2020&to=2024", 404},
		{"agency=P99&from=2020&to=2024", 404},
		{"indicator=egdi_rank&to=2024", 400},
		{"indicator=egdi_rank&from=2024&to=2020", 400},
		{"indicator=egdi_rank&from=2024&to=2025&history=maybe", 400},
	} {
		if code := f.get(t, "/api/v1/reports/export.csv?"+tt.query, nil); code != tt.code {
			t.Errorf("%s: %d, want %d", tt.query, code, tt.code)
		}
	}
}

// countedWorkbooks counts the ranking workbooks made.
type countedWorkbooks struct {
	api.Workbooks
	made *atomic.Int64
}

func (c countedWorkbooks) RankingWorkbook(w io.Writer, rep *query.RankingReport, loc *time.Location) error {
	c.made.Add(1)
	return c.Workbooks.RankingWorkbook(w, rep, loc)
}

func TestRankingWorkbookIsMadeOnceUntilAFigureChanges(t *testing.T) {
	var made atomic.Int64
	f := newFixture(t, true, func(o *api.Options) { o.Workbooks = countedWorkbooks{o.Workbooks, &made} })
	const path = "/api/v1/reports/ranking.xlsx?group=provinces&period=2025"
	_, first := f.download(t, path)
	for range 3 {
		if resp, body := f.download(t, path); resp.StatusCode != 200 || !bytes.Equal(body, first) {
			t.Fatalf("status %d, %d bytes: not the same workbook", resp.StatusCode, len(body))
		}
	}
	if n := made.Load(); n != 1 {
		t.Errorf("4 downloads made %d workbooks, want 1 while the figures stay", n)
	}
	// A new figure of a province for 2025: the next download ranks with it.
	num, den := 7000.0, 7000.0
	if _, err := f.store.WriteObservations(context.Background(), []indicators.Observation{{
		SeriesKey: indicators.SeriesKey{Indicator: "dossiers_fully_online", Agency: "P20", Period: period.MustParse("2025-Q4")},
		Value:     100, Numerator: &num, Denominator: &den, Source: indicators.FromSubmission, Submitter: "test"}}); err != nil {
		t.Fatal(err)
	}
	_, after := f.download(t, path)
	if n := made.Load(); n != 2 {
		t.Errorf("after a new figure %d workbooks made, want 2", n)
	}
	wb, err := excelize.OpenReader(bytes.NewReader(after))
	if err != nil {
		t.Fatal(err)
	}
	defer wb.Close()
	rows, err := wb.GetRows(reports.SheetData)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, r := range rows {
		found = found || (len(r) > 13 && r[3] == "dossiers_fully_online" && r[6] == "P20" && r[13] == "test")
	}
	if !found {
		t.Error("the workbook made after the new figure does not show it on the data sheet")
	}
}

// readCountingStore is the real SQLite store counting observation reads.
type readCountingStore struct {
	*sqlite.Store
	reads atomic.Int64
}

func (s *readCountingStore) Observations(ctx context.Context, q store.Query) ([]indicators.Observation, error) {
	s.reads.Add(1)
	return s.Store.Observations(ctx, q)
}

func TestProgressOfEveryAgencyIsMadeOnceUntilAFigureChanges(t *testing.T) {
	var st *readCountingStore
	f := newFixture(t, true, func(o *api.Options) {
		st = &readCountingStore{Store: o.Writer.(*sqlite.Store)}
		o.Query = query.New(st, o.Query.Catalogue(), o.Query.Registry(), o.Now)
	})
	const path = "/api/v1/progress?indicator=dossiers_fully_online&agency=*&year=2030"
	type answer struct {
		Count    int `json:"count"`
		Progress []struct {
			Agency string `json:"agency"`
			Latest *struct {
				Value float64 `json:"value"`
			} `json:"latest"`
		} `json:"progress"`
	}
	var first answer
	if code := f.get(t, path, &first); code != 200 || first.Count == 0 {
		t.Fatalf("status %d, %d agencies", code, first.Count)
	}
	reads := st.reads.Load()
	for range 3 {
		var again answer
		f.get(t, path, &again)
		if again.Count != first.Count {
			t.Fatalf("%d agencies, then %d", first.Count, again.Count)
		}
	}
	if n := st.reads.Load() - reads; n != 0 {
		t.Errorf("3 more requests read the store %d times, want 0 while the figures stay", n)
	}
	// A new figure of P20: the next answer has it.
	num, den := 990.0, 1000.0
	if _, err := f.store.WriteObservations(context.Background(), []indicators.Observation{{
		SeriesKey: indicators.SeriesKey{Indicator: "dossiers_fully_online", Agency: "P20", Period: period.MustParse("2026-Q4")},
		Value:     99, Numerator: &num, Denominator: &den, Source: indicators.FromSubmission, Submitter: "test"}}); err != nil {
		t.Fatal(err)
	}
	var after answer
	f.get(t, path, &after)
	found := false
	for _, p := range after.Progress {
		if p.Agency == "P20" {
			found = p.Latest != nil && p.Latest.Value == 99
		}
	}
	if !found {
		t.Error("after a new figure of P20 (99%), progress of every agency does not show it")
	}
}
