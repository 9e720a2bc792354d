package api_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"
)

// walkAs follows next_url from path with token and returns each observation as the
// JSON it came in, keyed in order.
func walkAs(t *testing.T, f *fixture, path, token string) []string {
	t.Helper()
	var out []string
	for pages := 0; path != ""; pages++ {
		if pages > 100 {
			t.Fatalf("more than 100 pages from %s", path)
		}
		req, _ := http.NewRequest(http.MethodGet, f.srv.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
		}
		var pg struct {
			Observations []json.RawMessage `json:"observations"`
			NextURL      string            `json:"next_url"`
		}
		if err := json.Unmarshal(b, &pg); err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		for _, o := range pg.Observations {
			out = append(out, string(o))
		}
		path = pg.NextURL
	}
	return out
}

// An officer's history read shows each revision with the one it replaced, including
// revisions a reviewer returned (they are the officer's own). Paged, a revision that
// starts a page has its previous revision read again by key; that read must answer for
// the same reader, or a revision after a returned one loses its previous value
// exactly when it starts a page.
func TestOfficersHistoryPagesCarryPreviousValuesOfReturnedRevisionsAcrossPageEdges(t *testing.T) {
	f := newFixtureWith(t, false, nil) // manual approval
	submit := func(num string) {
		t.Helper()
		if code, out := f.submit(t, f.tokens["P20"], `{"agency":"P20","period":"2026-Q3","values":[
			{"indicator":"dossiers_fully_online","numerator":`+num+`,"denominator":1000}]}`); code != 201 {
			t.Fatalf("submit: %d %v", code, out)
		}
	}
	review := func(step, body string) {
		t.Helper()
		if code, out := f.call(t, "POST", "/api/v1/submissions/P20/2026-Q3/"+step, f.tokens["reviewer-VN"], body); code != 200 {
			t.Fatalf("%s: %d %v", step, code, out)
		}
	}
	submit("500")
	review("approve", "")
	submit("510")
	review("return", `{"comment":"Kiểm tra lại / check again"}`)
	submit("520")
	review("return", `{"comment":"Kiểm tra lại / check again"}`)
	submit("530")

	base := "/api/v1/observations?history=true&unapproved=true&indicator=dossiers_fully_online&agency=P20"
	for _, who := range []string{"P20", "reviewer-VN"} {
		whole := walkAs(t, f, base+"&limit=100", f.tokens[who])
		if len(whole) != 4 {
			t.Fatalf("%s: unpaged history has %d revisions, want 4:\n%v", who, len(whole), whole)
		}
		for _, size := range []int{1, 2, 3} {
			paged := walkAs(t, f, fmt.Sprintf("%s&limit=%d", base, size), f.tokens[who])
			if len(paged) != len(whole) {
				t.Errorf("%s paged by %d: %d revisions, want %d", who, size, len(paged), len(whole))
				continue
			}
			for i := range whole {
				if paged[i] != whole[i] {
					t.Errorf("%s paged by %d, revision %d:\n got %s\nwant %s", who, size, i+1, paged[i], whole[i])
				}
			}
		}
	}
}
