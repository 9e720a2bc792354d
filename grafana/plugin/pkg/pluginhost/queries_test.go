package pluginhost_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"

	"github.com/g-oc/goc/grafana/plugin/pkg/plugintest"
)

func queryOne(t *testing.T, q ...plugintest.Query) *backend.QueryDataResponse {
	t.Helper()
	resp, err := plugin.QueryData(context.Background(), instance(demo.Tokens["VN"]), q...)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func TestSeriesQueriesMatchTheirGoldenFrames(t *testing.T) {
	for _, tc := range []struct{ golden, model string }{
		// The country's rolled-up series with its 2025 (60%) and 2030 (80%) target lines.
		{"series_national_dossiers", `{"indicator":"dossiers_fully_online"}`},
		// Two provinces, one kept its borders in 2025 and one was formed by the merger.
		{"series_two_provinces", `{"indicator":"ops_end_to_end","agencies":["P20","N79"]}`},
		// The national commune-level figure, judged against the commune targets (60, 70).
		{"series_national_commune_level", `{"indicator":"work_records_online","level":"commune"}`},
		// A rank: lower is better, so the thresholds run the other way.
		{"series_egdi_rank_gauge", `{"indicator":"egdi_rank","hideTargets":true}`},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			resp := queryOne(t, query("A", "series", tc.model))
			dr := resp.Responses["A"]
			if dr.Error != nil {
				t.Fatalf("error: %v", dr.Error)
			}
			if len(dr.Frames) == 0 || dr.Frames[0].Rows() == 0 {
				t.Fatalf("no data: %v", dr.Frames)
			}
			checkGolden(t, tc.golden, dr)
		})
	}
}

func TestSeriesCarriesTheTargetsAsThresholdsAndLines(t *testing.T) {
	dr := queryOne(t, query("A", "series", `{"indicator":"dossiers_fully_online","agencies":["P20"]}`)).Responses["A"]
	if dr.Error != nil {
		t.Fatal(dr.Error)
	}
	f := dr.Frames[0]
	value, _ := f.FieldByName("value")
	if value == nil || value.Config == nil || value.Config.Thresholds == nil {
		t.Fatalf("value field has no thresholds: %+v", f.Fields)
	}
	var steps []float64
	for _, s := range value.Config.Thresholds.Steps[1:] {
		steps = append(steps, float64(s.Value))
	}
	if len(steps) != 2 || steps[0] != 60 || steps[1] != 80 {
		t.Errorf("threshold steps %v, want the 2025 and 2030 targets 60 and 80", steps)
	}
	for name, want := range map[string]float64{"target_2025": 60, "target_2030": 80} {
		fld, _ := f.FieldByName(name)
		if fld == nil || fld.Len() != f.Rows() {
			t.Fatalf("no %s field with a value per row", name)
		}
		if v := fld.At(0).(float64); v != want {
			t.Errorf("%s = %v, want %v", name, v, want)
		}
	}
	if value.Config.DisplayNameFromDS != "Tỉnh Lạng Sơn" {
		t.Errorf("series is named %q, want the agency's name", value.Config.DisplayNameFromDS)
	}
}

func TestProgressQueriesMatchTheirGoldenFrames(t *testing.T) {
	for _, tc := range []struct{ golden, model string }{
		// Every province on one indicator toward 2025: who is behind, and by how much.
		{"progress_provinces_dossiers_2025", `{"indicator":"dossiers_fully_online","agencies":["*"],"kind":"province","year":2025}`},
		// One agency on every indicator it reports. (Toward 2030 the latest figure moves with
		// the calendar, so the golden frame is judged on 2025.)
		{"progress_lang_son_2025", `{"agencies":["P20"],"year":2025}`},
		// The country on a per-level indicator: one row per level, each its own target.
		{"progress_national_work_records", `{"indicator":"work_records_online"}`},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			dr := queryOne(t, query("A", "progress", tc.model)).Responses["A"]
			if dr.Error != nil {
				t.Fatalf("error: %v", dr.Error)
			}
			if len(dr.Frames) != 1 || dr.Frames[0].Rows() == 0 {
				t.Fatalf("want one non-empty table, got %v", dr.Frames)
			}
			checkGolden(t, tc.golden, dr)
		})
	}
}

func TestProgressOfEveryProvinceListsThe34OfToday(t *testing.T) {
	dr := queryOne(t, query("A", "progress", `{"indicator":"dossiers_fully_online","agencies":["*"],"kind":"province"}`)).Responses["A"]
	if dr.Error != nil {
		t.Fatal(dr.Error)
	}
	f := dr.Frames[0]
	if f.Rows() != 34 {
		t.Errorf("%d rows, want the 34 provinces since 1 July 2025", f.Rows())
	}
	status, _ := f.FieldByName("status")
	for i := range f.Rows() {
		if s := status.At(i).(string); s == "" {
			t.Errorf("row %d has no status", i)
		}
	}
}

func TestQueryErrorsReachThePanelReadablyWithoutHidingOtherPanels(t *testing.T) {
	resp := queryOne(t,
		query("bad-indicator", "series", `{"indicator":"no_such_indicator"}`),
		query("bad-agency", "series", `{"indicator":"egdi_rank","agencies":["XX99"]}`),
		query("bad-level", "progress", `{"indicator":"egdi_rank","level":"planet"}`),
		query("no-indicator", "series", `{}`),
		query("bad-type", "forecast", `{}`),
		query("bad-json", "series", `{"indicator":`),
		query("good", "series", `{"indicator":"egdi_rank"}`),
	)
	for ref, want := range map[string]string{
		"bad-indicator": `indicator "no_such_indicator" is not in G-OC's catalogue`,
		"bad-agency":    `agency "XX99" is not in G-OC's registry`,
		"bad-level":     `unknown level "planet"`,
		"no-indicator":  "choose an indicator",
		"bad-type":      `unknown query type "forecast"`,
	} {
		dr := resp.Responses[ref]
		if dr.Error == nil || !strings.Contains(dr.Error.Error(), want) {
			t.Errorf("%s: error %v, want one saying %q", ref, dr.Error, want)
		}
		if dr.Status != backend.StatusBadRequest {
			t.Errorf("%s: status %d, want 400", ref, dr.Status)
		}
	}
	if resp.Responses["bad-json"].Error == nil {
		t.Error("malformed query JSON gave no error")
	}
	if good := resp.Responses["good"]; good.Error != nil || len(good.Frames) == 0 || good.Frames[0].Rows() == 0 {
		t.Errorf("a good query next to bad ones failed: %v", good.Error)
	}
}

func TestQueriesAgainstAStoppedGOCSayItCannotBeReached(t *testing.T) {
	in := instance("")
	in.UID, in.URL = "stopped", "http://127.0.0.1:1"
	resp, err := plugin.QueryData(context.Background(), in, query("A", "series", `{"indicator":"egdi_rank"}`))
	if err != nil {
		t.Fatal(err)
	}
	dr := resp.Responses["A"]
	if dr.Error == nil || !strings.Contains(dr.Error.Error(), "cannot reach G-OC at http://127.0.0.1:1") || dr.Status != backend.StatusBadGateway {
		t.Errorf("got %v (status %d), want a 502 saying G-OC cannot be reached", dr.Error, dr.Status)
	}
}

func TestResourcesListIndicatorsAndAgenciesForTheQueryEditor(t *testing.T) {
	ctx := context.Background()
	type opt struct {
		Value, Label, Kind string
		Levels             []string
	}
	r, err := plugin.CallResource(ctx, instance(""), "indicators")
	if err != nil {
		t.Fatal(err)
	}
	var inds []opt
	if err := json.Unmarshal(r.Body, &inds); err != nil || r.Status != 200 {
		t.Fatalf("indicators: %d %s", r.Status, r.Body)
	}
	codes := map[string]bool{}
	for _, o := range inds {
		codes[o.Value] = o.Label != ""
	}
	for _, want := range []string{"dossiers_fully_online", "work_records_online", "egdi_rank"} {
		if !codes[want] {
			t.Errorf("indicator list lacks %s (or its label)", want)
		}
	}
	r, err = plugin.CallResource(ctx, instance(""), "agencies?kind=province&active=true")
	if err != nil {
		t.Fatal(err)
	}
	var provs []opt
	if err := json.Unmarshal(r.Body, &provs); err != nil || r.Status != 200 {
		t.Fatalf("agencies: %d %s", r.Status, r.Body)
	}
	if len(provs) != 34 {
		t.Errorf("%d active provinces, want 34", len(provs))
	}
	for _, p := range provs {
		if p.Kind != "province" || p.Label == "" {
			t.Errorf("agency option %+v", p)
		}
	}
	r, err = plugin.CallResource(ctx, instance(""), "nothing")
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != 404 {
		t.Errorf("unknown resource: status %d, want 404", r.Status)
	}
}

func TestRankingMatchesItsGoldenFrame(t *testing.T) {
	dr := queryOne(t, query("A", "ranking", `{"group":"provinces","period":"2025"}`)).Responses["A"]
	if dr.Error != nil {
		t.Fatal(dr.Error)
	}
	f := dr.Frames[0]
	if f.Rows() != 34 {
		t.Errorf("%d rows, want the 34 provinces", f.Rows())
	}
	rank, _ := f.FieldByName("rank")
	if r, ok := rank.ConcreteAt(0); !ok || r.(int64) != 1 {
		t.Errorf("first row has rank %v, want 1", r)
	}
	checkGolden(t, "ranking_provinces_2025", dr)
}

func TestRankingPeriodCanBeTheLastEndedYearOfTheTimeRange(t *testing.T) {
	q := query("A", "ranking", `{"group":"ministries","period":"yearly"}`)
	q.To = time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	dr := queryOne(t, q).Responses["A"]
	if dr.Error != nil {
		t.Fatal(dr.Error)
	}
	if !strings.Contains(dr.Frames[0].Meta.ExecutedQueryString, "period=2024") {
		t.Errorf("executed %q, want period=2024 (the last year ended by 2025-03-01)", dr.Frames[0].Meta.ExecutedQueryString)
	}
	bad := queryOne(t, query("B", "ranking", `{"group":"planets"}`), query("C", "ranking", `{"period":"2025-Q5"}`))
	if e := bad.Responses["B"].Error; e == nil || !strings.Contains(e.Error(), "group") || !strings.Contains(e.Error(), "planets") {
		t.Errorf("unknown group: %v", e)
	}
	if e := bad.Responses["C"].Error; e == nil || !strings.Contains(e.Error(), "not a period") {
		t.Errorf("bad period: %v", e)
	}
}

func TestProbesShowTheDemosOwnPortalUp(t *testing.T) {
	resp := queryOne(t, query("table", "probes", `{}`), query("summary", "probes", `{"view":"summary"}`))
	table := resp.Responses["table"]
	if table.Error != nil || len(table.Frames) != 1 || table.Frames[0].Rows() == 0 {
		t.Fatalf("probes table: %v %v", table.Error, table.Frames)
	}
	f := table.Frames[0]
	target, _ := f.FieldByName("target")
	status, _ := f.FieldByName("status")
	code, _ := f.FieldByName("http_status")
	latency, _ := f.FieldByName("latency")
	found := false
	for i := range f.Rows() {
		if strings.HasPrefix(target.At(i).(string), demo.URL) {
			found = true
			c, _ := code.ConcreteAt(i)
			l, _ := latency.ConcreteAt(i)
			if status.At(i) != "up" || c != int64(200) || l == nil || l.(float64) <= 0 {
				t.Errorf("demo portal row: status %v, HTTP %v, latency %v", status.At(i), c, l)
			}
		}
	}
	if !found {
		t.Errorf("no row for the demo's own portal %s", demo.URL)
	}
	sum := resp.Responses["summary"]
	if sum.Error != nil || sum.Frames[0].Rows() != 1 {
		t.Fatalf("summary: %v", sum.Error)
	}
	portals, _ := sum.Frames[0].FieldByName("portals")
	up, _ := sum.Frames[0].FieldByName("up")
	share, _ := sum.Frames[0].FieldByName("up_share")
	if portals.At(0).(int64) != int64(f.Rows()) || up.At(0).(int64) < 1 || share.At(0).(float64) <= 0 {
		t.Errorf("summary portals %v up %v share %v, table has %d rows", portals.At(0), up.At(0), share.At(0), f.Rows())
	}
}

func TestCompletenessMatchesItsGoldenFrames(t *testing.T) {
	for _, tc := range []struct{ golden, model string }{
		{"completeness_2025_q3", `{"period":"2025-Q3"}`},
		{"completeness_2025_q3_summary", `{"period":"2025-Q3","view":"summary"}`},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			dr := queryOne(t, query("A", "completeness", tc.model)).Responses["A"]
			if dr.Error != nil {
				t.Fatal(dr.Error)
			}
			if len(dr.Frames) != 1 || dr.Frames[0].Rows() == 0 {
				t.Fatalf("want one non-empty frame, got %v", dr.Frames)
			}
			// received_at is when the demo loaded its history: it moves every run.
			if f, _ := dr.Frames[0].FieldByName("received_at"); f != nil {
				for i := range f.Len() {
					if f.At(i) != (*time.Time)(nil) {
						f.Set(i, &time.Time{})
					}
				}
			}
			checkGolden(t, tc.golden, dr)
		})
	}
}

func TestCompletenessDefaultsToTheLastEndedQuarter(t *testing.T) {
	q := query("A", "completeness", `{"view":"summary"}`)
	q.To = time.Date(2026, 8, 15, 0, 0, 0, 0, time.UTC)
	dr := queryOne(t, q).Responses["A"]
	if dr.Error != nil {
		t.Fatal(dr.Error)
	}
	p, _ := dr.Frames[0].FieldByName("period")
	if p.At(0) != "2026-Q2" {
		t.Errorf("period %v, want 2026-Q2, the last quarter ended by 2026-08-15", p.At(0))
	}
}
