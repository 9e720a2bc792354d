package api_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// A figure waiting for review is not public: the raw export, like /observations, leaves
// it out until a reviewer approves it.
func TestPublicExportLeavesOutFiguresWaitingForReview(t *testing.T) {
	f := newFixtureWith(t, false, nil)
	code, _ := f.submit(t, f.tokens["P20"], `{"agency":"P20","period":"2026-Q3","values":[{"indicator":"dossiers_fully_online","numerator":40900,"denominator":78152}]}`)
	if code != http.StatusCreated {
		t.Fatalf("submit: %d", code)
	}
	rows := func() int {
		t.Helper()
		resp, err := http.Get(f.srv.URL + "/api/v1/reports/export.csv?from=2026&to=2026&indicator=dossiers_fully_online")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return strings.Count(string(b), "dossiers_fully_online,P20")
	}
	if n := rows(); n != 0 {
		t.Errorf("the public export shows %d unapproved rows of P20", n)
	}
	req, _ := http.NewRequest(http.MethodPost, f.srv.URL+"/api/v1/submissions/P20/2026-Q3/approve", nil)
	req.Header.Set("Authorization", "Bearer "+f.tokens["reviewer-VN"])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("approve: %d", resp.StatusCode)
	}
	if n := rows(); n != 1 {
		t.Errorf("after approval the export shows %d rows of P20, want 1", n)
	}
}
