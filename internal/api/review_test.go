package api_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// call makes a request with a bearer token and decodes the JSON answer.
func (f *fixture) call(t *testing.T, method, path, token, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, f.srv.URL+path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("%s %s: answer is not JSON: %s", method, path, b)
	}
	return resp.StatusCode, out
}

// p20Value reads P20's dossiers_fully_online for 2026-Q4 as the public (or, with a
// token, as its holder asking for unapproved figures) and returns the value and its
// approved mark ("" when absent).
func (f *fixture) p20Value(t *testing.T, token string) (value float64, approved string, found bool) {
	t.Helper()
	path := "/api/v1/observations?indicator=dossiers_fully_online&agency=P20&from=2026-Q4&to=2026-Q4"
	if token != "" {
		path += "&unapproved=true"
	}
	code, out := f.call(t, "GET", path, token, "")
	if code != 200 {
		t.Fatalf("GET %s: %d %v", path, code, out)
	}
	obs, _ := out["observations"].([]any)
	if len(obs) == 0 {
		return 0, "", false
	}
	o := obs[len(obs)-1].(map[string]any)
	if a, ok := o["approved"]; ok {
		approved = strings.ToLower(strings.TrimSpace(jsonString(a)))
	}
	return o["value"].(float64), approved, true
}

func jsonString(v any) string { b, _ := json.Marshal(v); return string(b) }

func TestSubmittedFigureIsPublicOnlyAfterAReviewerApprovesIt(t *testing.T) {
	f := newFixtureWith(t, false, nil) // manual approval
	code, out := f.submit(t, f.tokens["P20"], `{"agency":"P20","period":"2026-Q4","values":[
		{"indicator":"dossiers_fully_online","numerator":540,"denominator":1000}]}`)
	if code != 201 {
		t.Fatalf("submit: %d %v", code, out)
	}
	if _, _, found := f.p20Value(t, ""); found {
		t.Fatal("the public sees a figure nobody approved")
	}
	if v, approved, found := f.p20Value(t, f.tokens["P20"]); !found || v != 54 || approved != "false" {
		t.Errorf("officer's own read = %v approved=%q found=%v, want 54 marked approved=false", v, approved, found)
	}
	// Another province's officer asking for unapproved figures still sees P20's
	// published ones only.
	if _, _, found := f.p20Value(t, f.tokens["N79"]); found {
		t.Error("N79's officer sees P20's unapproved figure")
	}
	if code, _ := f.call(t, "GET", "/api/v1/observations?indicator=dossiers_fully_online&unapproved=true", "", ""); code != 401 {
		t.Errorf("unapproved=true without a token: %d, want 401", code)
	}

	// The queue: the national reviewer sees it; the Ministry of Finance's reviewer is
	// refused P20 and does not see it in its list.
	code, out = f.call(t, "GET", "/api/v1/submissions?state=submitted", f.tokens["reviewer-VN"], "")
	subs, _ := out["submissions"].([]any)
	if code != 200 || len(subs) != 1 || subs[0].(map[string]any)["agency"] != "P20" {
		t.Fatalf("national queue: %d %v, want P20's submission", code, out)
	}
	seen := subs[0].(map[string]any)["seq"].(float64)
	if code, out := f.call(t, "GET", "/api/v1/submissions", f.tokens["reviewer-BTC"], ""); code != 200 || out["count"].(float64) != 0 {
		t.Errorf("ministry reviewer's list: %d %v, want nothing outside its scope", code, out)
	}
	if code, out := f.call(t, "POST", "/api/v1/submissions/P20/2026-Q4/approve", f.tokens["reviewer-BTC"], ""); code != 403 || !strings.Contains(out["error"].(string), "not part of BTC") {
		t.Errorf("out-of-scope approval: %d %v, want 403 saying why", code, out)
	}
	if code, _ := f.call(t, "POST", "/api/v1/submissions/P20/2026-Q4/approve", f.tokens["P20"], ""); code != 403 {
		t.Errorf("an officer approving its own figures: %d, want 403", code)
	}

	// Returned with a comment: still not public; the officer reads the comment.
	if code, out := f.call(t, "POST", "/api/v1/submissions/P20/2026-Q4/return", f.tokens["reviewer-VN"], `{"comment":"  "}`); code != 422 {
		t.Errorf("return without a comment: %d %v, want 422", code, out)
	}
	if code, out := f.call(t, "POST", "/api/v1/submissions/P20/2026-Q4/return", f.tokens["reviewer-VN"],
		`{"comment":"Mẫu số quá thấp / the denominator is too low","seen":`+jsonString(seen)+`}`); code != 200 {
		t.Fatalf("return: %d %v", code, out)
	}
	code, out = f.call(t, "GET", "/api/v1/submissions/P20/2026-Q4", f.tokens["P20"], "")
	if sub := out["submission"].(map[string]any); code != 200 || sub["state"] != "returned" || !strings.Contains(sub["comment"].(string), "denominator is too low") {
		t.Fatalf("officer's view after return: %d %v", code, out)
	}
	if _, _, found := f.p20Value(t, ""); found {
		t.Fatal("the public sees a returned figure")
	}

	// Resubmitted corrected, then approved: public from then on, and the trail tells
	// the whole story.
	if code, out := f.submit(t, f.tokens["P20"], `{"agency":"P20","period":"2026-Q4","values":[
		{"indicator":"dossiers_fully_online","numerator":540,"denominator":1100}]}`); code != 201 {
		t.Fatalf("resubmit: %d %v", code, out)
	}
	if code, out := f.call(t, "POST", "/api/v1/submissions/P20/2026-Q4/approve", f.tokens["reviewer-VN"], `{"seen":`+jsonString(seen)+`}`); code != 409 {
		t.Errorf("approving with a stale view: %d %v, want 409", code, out)
	}
	if code, out := f.call(t, "POST", "/api/v1/submissions/P20/2026-Q4/approve", f.tokens["reviewer-VN"], ""); code != 200 {
		t.Fatalf("approve: %d %v", code, out)
	}
	if v, approved, found := f.p20Value(t, ""); !found || v != 49.09 || approved != "" {
		t.Errorf("public after approval = %v approved=%q found=%v, want 49.09 unmarked", v, approved, found)
	}
	_, out = f.call(t, "GET", "/api/v1/submissions/P20/2026-Q4", f.tokens["reviewer-VN"], "")
	var steps []string
	for _, x := range out["trail"].([]any) {
		m := x.(map[string]any)
		steps = append(steps, m["from"].(string)+">"+m["to"].(string)+" by "+m["who"].(string))
	}
	want := ">submitted by test-P20|submitted>returned by reviewer-VN|returned>submitted by test-P20|submitted>approved by reviewer-VN"
	if strings.Join(steps, "|") != want {
		t.Errorf("trail = %v, want %s", steps, want)
	}
}
