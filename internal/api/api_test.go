package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/g-oc/goc/api/contract"
	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/internal/api"
	"github.com/g-oc/goc/internal/apiparts"
	"github.com/g-oc/goc/internal/auth"
	"github.com/g-oc/goc/internal/demo"
	"github.com/g-oc/goc/internal/metrics"
	"github.com/g-oc/goc/internal/query"
	"github.com/g-oc/goc/internal/store"
	"github.com/g-oc/goc/internal/store/sqlite"
)

// now is fixed so that "the future" and "the latest period" do not move under the tests.
var testNow = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

type fixture struct {
	srv    *httptest.Server
	store  *sqlite.Store
	tokens map[string]string // agency code → raw token
}

// newFixture serves the API over a real SQLite file with the built-in catalogue and
// registry, optionally preloaded with the demo history. Approval is automatic, as in
// deployments without reviewers, so what is stored is what the public reads; the
// workflow's own tests use newFixtureWith without it.
func newFixture(t *testing.T, withDemo bool, opts ...func(*api.Options)) *fixture {
	return newFixtureWith(t, withDemo, []sqlite.Option{sqlite.WithAutoApprove(true)}, opts...)
}

func newFixtureWith(t *testing.T, withDemo bool, stOpts []sqlite.Option, opts ...func(*api.Options)) *fixture {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "goc.db"), stOpts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	cat, reg := indicators.DefaultCatalogue(), indicators.DefaultRegistry()
	if withDemo {
		if _, err := st.WriteObservations(ctx, demo.History(cat, reg, testNow)); err != nil {
			t.Fatal(err)
		}
	}
	raw := map[string]string{}
	var entries []auth.Entry
	for _, code := range []string{"P20", "N79", "BTC", "VN"} {
		tok, err := auth.NewToken()
		if err != nil {
			t.Fatal(err)
		}
		raw[code] = tok
		entries = append(entries, auth.Entry{Name: "test-" + code, Agency: code, SHA256: auth.Hash(tok)})
	}
	// Reviewers: the whole country, and the Ministry of Finance for its own subtree.
	for _, code := range []string{"VN", "BTC"} {
		tok, err := auth.NewToken()
		if err != nil {
			t.Fatal(err)
		}
		raw["reviewer-"+code] = tok
		entries = append(entries, auth.Entry{Name: "reviewer-" + code, Agency: code, SHA256: auth.Hash(tok), Role: auth.Reviewer})
	}
	tokens, err := auth.NewTokens(entries)
	if err != nil {
		t.Fatal(err)
	}
	clock := func() time.Time { return testNow }
	o := api.Options{
		Query:  query.New(st, cat, reg, clock),
		Writer: st, Pinger: st, Auth: tokens, Metrics: metrics.New(), Now: clock, Workbooks: apiparts.Workbooks{},
	}
	for _, f := range opts {
		f(&o)
	}
	s := api.New(o)
	srv := httptest.NewServer(contract.Check(t, s.Handler())) // every exchange is checked against api/openapi.yaml
	t.Cleanup(srv.Close)
	return &fixture{srv: srv, store: st, tokens: raw}
}

func (f *fixture) get(t *testing.T, path string, out any) int {
	t.Helper()
	resp, err := http.Get(f.srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			t.Fatalf("GET %s: decode: %v", path, err)
		}
	}
	return resp.StatusCode
}

func (f *fixture) submit(t *testing.T, token, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, f.srv.URL+"/api/v1/submissions", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("response is not JSON: %s", b)
	}
	return resp.StatusCode, out
}

func (f *fixture) count(t *testing.T) int {
	t.Helper()
	obs, err := f.store.Observations(context.Background(), store.Query{History: true})
	if err != nil {
		t.Fatal(err)
	}
	return len(obs)
}

func TestIndicatorsAPIShowsEveryClauseWithLevelTargets(t *testing.T) {
	f := newFixture(t, false)
	var body struct {
		Indicators []struct {
			Code        string `json:"code"`
			Periodicity string `json:"periodicity"`
			Targets     []struct {
				Year   int     `json:"year"`
				Level  string  `json:"level"`
				Value  float64 `json:"value"`
				Clause string  `json:"clause"`
			} `json:"targets"`
		} `json:"indicators"`
	}
	if code := f.get(t, "/api/v1/indicators", &body); code != 200 {
		t.Fatalf("status %d", code)
	}
	got := map[string]float64{} // clause/year/level → value
	for _, ind := range body.Indicators {
		if ind.Periodicity == "" || ind.Periodicity == "unknown" {
			t.Errorf("%s has no periodicity in the API", ind.Code)
		}
		for _, tg := range ind.Targets {
			got[tg.Clause+"/"+ind.Code+"/"+tg.Level+"/"+itoa(tg.Year)] = tg.Value
		}
	}
	want := map[string]float64{
		"a.i/sat_digital_services/all/2025":               80,
		"b.i/sat_digital_services/all/2030":               90,
		"a.ii/ops_single_sign_on/all/2025":                100,
		"a.iii/ops_with_dossiers/all/2025":                70,
		"a.iv/dossiers_fully_online/all/2025":             60,
		"a.v/work_records_online/ministry/2025":           90,
		"a.v/work_records_online/province/2025":           90,
		"a.v/work_records_online/district/2025":           80,
		"a.v/work_records_online/commune/2025":            60,
		"a.vi/national_databases_completed/national/2025": 100,
		"a.viii/open_data_agencies/all/2025":              80,
		"a.ix/inspections_digital/all/2025":               50,
		"a.x/officials_digital_skills/all/2025":           100,
		"a.x/officials_data_skills/all/2025":              30,
		"a.xi/egdi_rank/national/2025":                    70,
		"b.ii/ps_nonstate_delivery/all/2030":              50,
		"b.iii/ops_with_dossiers/all/2030":                80,
		"b.iv/dossiers_fully_online/all/2030":             80,
		"b.v/work_records_online/ministry/2030":           100,
		"b.v/work_records_online/province/2030":           100,
		"b.v/work_records_online/district/2030":           90,
		"b.v/work_records_online/commune/2030":            70,
		"b.vi/sector_data_platforms/national/2030":        100,
		"b.vii/admin_procedures_reduced/national/2030":    30,
		"b.vii/data_services_increase/national/2030":      30,
		"b.viii/inspections_digital/all/2030":             70,
		"b.ix/egdi_rank/national/2030":                    50,
	}
	for k, v := range want {
		if g, ok := got[k]; !ok || g != v {
			t.Errorf("target %s = %v (present %v), want %v", k, g, ok, v)
		}
	}
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

func TestAgenciesAPIListsProvincesBeforeAndAfterTheMerger(t *testing.T) {
	f := newFixture(t, false)
	for _, tc := range []struct {
		day  string
		want int
	}{{"2025-06-30", 63}, {"2025-07-01", 34}} {
		var body struct {
			Agencies []indicators.Agency `json:"agencies"`
		}
		f.get(t, "/api/v1/agencies?kind=province&active_on="+tc.day, &body)
		if len(body.Agencies) != tc.want {
			t.Errorf("provinces active on %s: %d, want %d", tc.day, len(body.Agencies), tc.want)
		}
	}
	var one struct {
		Agency indicators.Agency `json:"agency"`
	}
	f.get(t, "/api/v1/agencies/N79", &one)
	if len(one.Agency.Predecessors) != 3 {
		t.Errorf("Ho Chi Minh City (N79) predecessors = %v, want HCMC, Binh Duong and Ba Ria-Vung Tau", one.Agency.Predecessors)
	}
}

type progressBody struct {
	Status string `json:"status"`
	Latest *struct {
		Period string  `json:"period"`
		Value  float64 `json:"value"`
	} `json:"latest"`
	Target *struct {
		Value  float64 `json:"value"`
		Clause string  `json:"clause"`
	} `json:"target"`
	Gap        *float64 `json:"gap"`
	LatestFrom []string `json:"latest_from"`
}

func TestSubmissionChangesProgress(t *testing.T) {
	f := newFixture(t, true)
	path := "/api/v1/progress?indicator=dossiers_fully_online&agency=P20&year=2030"
	var before progressBody
	if code := f.get(t, path, &before); code != 200 {
		t.Fatalf("progress status %d", code)
	}
	// A value close to P20's recent history (about 52%): one far from it would be an
	// outlier needing confirmation (TestOutlierIsAWarningThatNeedsConfirmation).
	code, out := f.submit(t, f.tokens["P20"], `{"agency":"P20","period":"2026-Q4","values":[
		{"indicator":"dossiers_fully_online","numerator":540,"denominator":1000}]}`)
	if code != 201 {
		t.Fatalf("status %d: %v", code, out)
	}
	// 2026-Q4 has started by testNow (23 November 2026) but not ended; it is accepted.
	var after progressBody
	f.get(t, path, &after)
	if after.Latest == nil || after.Latest.Period != "2026-Q4" || after.Latest.Value != 54 {
		t.Fatalf("latest after submission = %+v, want 2026-Q4 = 54", after.Latest)
	}
	if before.Latest != nil && before.Latest.Value == after.Latest.Value {
		t.Errorf("progress did not change: %+v", after)
	}
	if after.Target == nil || after.Target.Value != 80 || after.Target.Clause != "b.iv" {
		t.Errorf("target = %+v, want 80 from b.iv", after.Target)
	}
	if len(after.LatestFrom) != 1 || after.LatestFrom[0] != "P20" {
		t.Errorf("latest figure should trace to P20's own observation, got %v", after.LatestFrom)
	}
}

func TestBadSubmissionNamesEveryFieldAndStoresNothing(t *testing.T) {
	f := newFixture(t, false)
	before := f.count(t)
	code, out := f.submit(t, f.tokens["P20"], `{"agency":"P20","period":"2026-Q3","colour":"red","values":[
		{"indicator":"dossiers_fully_online","numerator":95,"denominator":100},
		{"indicator":"no_such_indicator","value":5},
		{"indicator":"ops_level4_share","numerator":120,"denominator":100},
		{"indicator":"work_records_online","value":"ninety"},
		{"indicator":"sat_digital_services","numerator":5,"denominator":10},
		{"indicator":"ops_prefilled","numerator":50,"denominator":100,"value":80},
		{"indicator":"dossiers_fully_online","numerator":1,"denominator":2}
	]}`)
	if code != http.StatusUnprocessableEntity {
		t.Fatalf("status %d, want 422: %v", code, out)
	}
	fields := map[string]string{}
	for _, p := range out["problems"].([]any) {
		m := p.(map[string]any)
		fields[m["field"].(string)] = m["reason"].(string)
	}
	for _, want := range []string{
		"colour",              // unknown top-level field
		"values[1].indicator", // unknown indicator
		"values[2].numerator", // numerator above denominator
		"values[3].value",     // a string where a number belongs
		"values[3].numerator", // ratio indicator without numerator
		"values[4].indicator", // yearly indicator in a quarterly submission
		"values[5].value",     // value disagrees with numerator/denominator
		"values[6]",           // duplicate of values[0]
	} {
		if _, ok := fields[want]; !ok {
			t.Errorf("no problem reported for %s; got %v", want, fields)
		}
	}
	if _, ok := fields["values[0].numerator"]; ok {
		t.Errorf("the good row values[0] was reported: %v", fields["values[0].numerator"])
	}
	if got := f.count(t); got != before {
		t.Errorf("a rejected submission stored %d observations", got-before)
	}
}

func TestSubmissionRejectsPeriodsAndAgenciesThatCannotBe(t *testing.T) {
	f := newFixture(t, false)
	cases := []struct {
		name, body, field string
	}{
		{"future period", `{"agency":"P20","period":"2027-Q1","values":[{"indicator":"dossiers_fully_online","numerator":1,"denominator":2}]}`, "period"},
		{"malformed period", `{"agency":"P20","period":"2026-Q7","values":[{"indicator":"dossiers_fully_online","numerator":1,"denominator":2}]}`, "period"},
		{"merged province before it existed", `{"agency":"N79","period":"2024-Q1","values":[{"indicator":"dossiers_fully_online","numerator":1,"denominator":2}]}`, "agency"},
		{"empty values", `{"agency":"P20","period":"2026-Q1","values":[]}`, "values"},
		{"not JSON", `{"agency":"P20",`, "$"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			token := f.tokens["P20"]
			if strings.Contains(tc.body, "N79") {
				token = f.tokens["N79"]
			}
			code, out := f.submit(t, token, tc.body)
			if code != http.StatusUnprocessableEntity {
				t.Fatalf("status %d, want 422: %v", code, out)
			}
			found := false
			for _, p := range out["problems"].([]any) {
				if p.(map[string]any)["field"] == tc.field {
					found = true
				}
			}
			if !found {
				t.Errorf("no problem on %q: %v", tc.field, out["problems"])
			}
		})
	}
	if n := f.count(t); n != 0 {
		t.Errorf("rejected submissions stored %d observations", n)
	}
}

func TestSubmissionAuthorisation(t *testing.T) {
	f := newFixture(t, false)
	body := `{"agency":"P20","period":"2026-Q3","values":[{"indicator":"dossiers_fully_online","numerator":1,"denominator":2}]}`
	cases := []struct {
		name  string
		token string
		body  string
		want  int
	}{
		{"no token", "", body, 401},
		{"unknown token", "goc_not-a-real-token", body, 401},
		{"another province's token", f.tokens["N79"], body, 403},
		{"a ministry's token", f.tokens["BTC"], body, 403},
		{"row for another agency inside the body", f.tokens["P20"], `{"agency":"P20","period":"2026-Q3","values":[{"indicator":"dossiers_fully_online","agency":"N79","numerator":1,"denominator":2}]}`, 403},
		{"own token", f.tokens["P20"], body, 201},
		{"national token covers every agency", f.tokens["VN"], body, 201},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, out := f.submit(t, tc.token, tc.body)
			if code != tc.want {
				t.Fatalf("status %d, want %d: %v", code, tc.want, out)
			}
			if code >= 400 && out["error"] == "" {
				t.Errorf("no reason given: %v", out)
			}
		})
	}
}

func TestProvinceTokenMaySubmitForItsCommunes(t *testing.T) {
	f := newFixture(t, false)
	var body struct {
		Agencies []indicators.Agency `json:"agencies"`
	}
	f.get(t, "/api/v1/agencies?parent=P20&kind=commune&active_on=2026-01-01", &body)
	if len(body.Agencies) == 0 {
		t.Fatal("demo registry has no communes under Lang Son (P20)")
	}
	commune := body.Agencies[0].Code
	code, out := f.submit(t, f.tokens["P20"], `{"agency":"`+commune+`","period":"2026-Q3","values":[
		{"indicator":"work_records_online","numerator":70,"denominator":100}]}`)
	if code != 201 {
		t.Fatalf("status %d: %v", code, out)
	}
	var prog progressBody
	f.get(t, "/api/v1/progress?indicator=work_records_online&agency="+commune+"&year=2025", &prog)
	if prog.Target == nil || prog.Target.Value != 60 {
		t.Errorf("a commune is judged against the commune target 60 (a.v), got %+v", prog.Target)
	}
}

func TestResubmissionKeepsBothRevisionsInHistory(t *testing.T) {
	f := newFixture(t, false)
	send := func(num int) map[string]any {
		code, out := f.submit(t, f.tokens["P20"], `{"agency":"P20","period":"2026-Q2","values":[
			{"indicator":"dossiers_fully_online","numerator":`+itoa(num)+`,"denominator":100}]}`)
		if code != 201 {
			t.Fatalf("status %d: %v", code, out)
		}
		return out
	}
	send(40)
	second := send(45)
	again := send(45)
	if second["created"].(float64) != 1 || again["created"].(float64) != 0 {
		t.Errorf("a changed value makes one new revision and a repeat none: %v / %v", second, again)
	}
	var hist struct {
		Observations []indicators.Observation `json:"observations"`
	}
	f.get(t, "/api/v1/observations?indicator=dossiers_fully_online&agency=P20&from=2026-Q2&to=2026-Q2&history=true", &hist)
	if len(hist.Observations) != 2 {
		t.Fatalf("history has %d revisions, want 2: %+v", len(hist.Observations), hist.Observations)
	}
	if hist.Observations[0].Value != 40 || hist.Observations[1].Value != 45 || hist.Observations[1].Revision != 2 {
		t.Errorf("history = %+v", hist.Observations)
	}
	if hist.Observations[1].Submitter != "test-P20" || hist.Observations[1].Source != indicators.FromSubmission {
		t.Errorf("history does not say who sent it: %+v", hist.Observations[1])
	}
	var latest struct {
		Observations []indicators.Observation `json:"observations"`
	}
	f.get(t, "/api/v1/observations?indicator=dossiers_fully_online&agency=P20", &latest)
	if len(latest.Observations) != 1 || latest.Observations[0].Value != 45 {
		t.Errorf("latest view = %+v, want only revision 2", latest.Observations)
	}
}

func TestNationalProgressRollsUpRatiosAsSumsNotMeans(t *testing.T) {
	f := newFixture(t, false)
	// Two provinces, very different sizes: the national share is 91/102, not the mean 70%.
	for _, s := range []struct{ tok, agency, num, den string }{
		{f.tokens["P20"], "P20", "1", "2"}, {f.tokens["N79"], "N79", "90", "100"},
	} {
		if code, out := f.submit(t, s.tok, `{"agency":"`+s.agency+`","period":"2026-Q3","values":[
			{"indicator":"dossiers_fully_online","numerator":`+s.num+`,"denominator":`+s.den+`}]}`); code != 201 {
			t.Fatalf("status %d: %v", code, out)
		}
	}
	var prog progressBody
	f.get(t, "/api/v1/progress?indicator=dossiers_fully_online&year=2030", &prog)
	// 91/102 = 89.2156…%, published at the percent unit's two decimals.
	if prog.Latest == nil || prog.Latest.Value != 89.22 {
		t.Fatalf("national latest = %+v, want 89.22 (91/102, rounded to 2 decimals)", prog.Latest)
	}
}

func TestReadyzReportsAClosedStore(t *testing.T) {
	f := newFixture(t, false)
	if code := f.get(t, "/readyz", nil); code != 200 {
		t.Fatalf("readyz = %d with a working store", code)
	}
	f.store.Close()
	var body map[string]string
	if code := f.get(t, "/readyz", &body); code != 503 || body["error"] == "" {
		t.Errorf("readyz = %d %v with a closed store, want 503 and a reason", code, body)
	}
	if code := f.get(t, "/healthz", nil); code != 200 {
		t.Errorf("healthz = %d; liveness must not depend on the store", code)
	}
}

func TestMetricsCountRequestsAndObservations(t *testing.T) {
	f := newFixture(t, false)
	f.submit(t, f.tokens["P20"], `{"agency":"P20","period":"2026-Q3","values":[{"indicator":"dossiers_fully_online","numerator":1,"denominator":2}]}`)
	f.submit(t, "", `{}`)
	resp, err := http.Get(f.srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, want := range []string{
		`goc_observations_written_total{source="submission"} 1`,
		`goc_http_requests_total{code="201",method="POST",route="/api/v1/submissions"} 1`,
		`goc_http_requests_total{code="401",method="POST",route="/api/v1/submissions"} 1`,
		`goc_submissions_rejected_total{reason="unauthenticated"} 1`,
		"goc_http_request_duration_seconds_bucket",
		"go_goroutines",
		"process_resident_memory_bytes",
	} {
		if !bytes.Contains(b, []byte(want)) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

func TestNationalProgressOnALevelTargetIndicatorIsJudgedPerLevel(t *testing.T) {
	f := newFixture(t, true)
	var body struct {
		Status  string `json:"status"`
		ByLevel []struct {
			Level  string `json:"level"`
			Status string `json:"status"`
			Target struct {
				Value  float64 `json:"value"`
				Clause string  `json:"clause"`
			} `json:"target"`
			Latest *struct{ Value float64 } `json:"latest"`
		} `json:"by_level"`
	}
	f.get(t, "/api/v1/progress?indicator=work_records_online&year=2025", &body)
	want := map[string]float64{"ministry": 90, "province": 90, "district": 80, "commune": 60}
	if len(body.ByLevel) != len(want) {
		t.Fatalf("by_level has %d entries, want one per level: %+v", len(body.ByLevel), body.ByLevel)
	}
	for _, l := range body.ByLevel {
		if l.Target.Value != want[l.Level] || l.Target.Clause != "a.v" {
			t.Errorf("level %s judged against %v (%s), want %v from a.v", l.Level, l.Target.Value, l.Target.Clause, want[l.Level])
		}
		if l.Latest == nil || l.Status == "" || l.Status == "no_target" {
			t.Errorf("level %s has no figure or status: %+v", l.Level, l)
		}
	}
	var commune struct {
		Level  string                  `json:"level"`
		Target struct{ Value float64 } `json:"target"`
	}
	f.get(t, "/api/v1/progress?indicator=work_records_online&level=commune&year=2030", &commune)
	if commune.Level != "commune" || commune.Target.Value != 70 {
		t.Errorf("national commune figure judged as %+v, want commune level against 70 (b.v)", commune)
	}
}

func TestSubmissionRefusesAConfirmOutliersValueItCannotRead(t *testing.T) {
	f := newFixture(t, false)
	req, _ := http.NewRequest(http.MethodPost, f.srv.URL+"/api/v1/submissions?confirm_outliers=yess",
		strings.NewReader(`{"agency":"P20","period":"2026-Q3","values":[{"indicator":"dossiers_fully_online","numerator":1,"denominator":2}]}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+f.tokens["P20"])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(b), "confirm_outliers") {
		t.Errorf("status %d %s, want 400 naming confirm_outliers", resp.StatusCode, b)
	}
	if n := f.count(t); n != 0 {
		t.Errorf("a refused submission stored %d observations", n)
	}
}

func TestObservationsNameEveryBadParameter(t *testing.T) {
	f := newFixture(t, false)
	var body struct {
		Problems []Problem `json:"problems"`
	}
	if code := f.get(t, "/api/v1/observations?from=2025-Q9&to=soon&history=maybe", &body); code != http.StatusBadRequest {
		t.Fatalf("status %d, want 400", code)
	}
	got := map[string]bool{}
	for _, p := range body.Problems {
		got[p.Field] = true
	}
	for _, want := range []string{"from", "to", "history"} {
		if !got[want] {
			t.Errorf("no problem named %q: %+v", want, body.Problems)
		}
	}
}

type Problem = api.Problem
