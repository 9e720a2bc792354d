package api_test

import (
	"net/http"
	"testing"
)

func TestWrongMethodOnAnAPIRouteIs405WithAllow(t *testing.T) {
	f := newFixture(t, false)
	for _, tc := range []struct{ method, path, allow string }{
		{http.MethodPut, "/api/v1/observations", "GET, HEAD"},
		{http.MethodDelete, "/api/v1/observations", "GET, HEAD"},
		{http.MethodDelete, "/api/v1/agencies/P20", "GET, HEAD"},
		{http.MethodPut, "/api/v1/submissions", "GET, HEAD, POST"}, // GET lists the review workflow's submissions
		{http.MethodGet, "/api/v1/submissions/P20/2026-Q4/approve", "POST"},
		{http.MethodPost, "/healthz", "GET, HEAD"},
	} {
		req, _ := http.NewRequest(tc.method, f.srv.URL+tc.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != tc.allow {
			t.Errorf("%s %s: %d Allow %q, want 405 Allow %q", tc.method, tc.path, resp.StatusCode, resp.Header.Get("Allow"), tc.allow)
		}
	}
	// A path with no route at all is still 404.
	req, _ := http.NewRequest(http.MethodPut, f.srv.URL+"/api/v1/nothing-here", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("PUT on an unknown path: %d, want 404", resp.StatusCode)
	}
}
