package main

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A new user runs `goc demo` and opens the printed address in a browser: the scoreboard
// page, on the same port as the API, which keeps its JSON answers.
func TestDemoServesTheScoreboardBesideTheAPI(t *testing.T) {
	data := t.TempDir()
	s := startGoc(t, "demo", "--addr", "127.0.0.1:0", "--data", data)
	get := func(path string) (int, string, string) {
		t.Helper()
		res, err := http.Get(s.url + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return res.StatusCode, res.Header.Get("Content-Type"), string(body)
	}
	code, ct, body := get("/")
	if code != 200 || !strings.HasPrefix(ct, "text/html") || !strings.Contains(body, "Bảng tổng hợp quốc gia") {
		t.Errorf("GET /: %d %s, scoreboard heading present: %v", code, ct, strings.Contains(body, "Bảng tổng hợp quốc gia"))
	}
	if code, ct, _ := get("/no-such-page"); code != 404 || !strings.HasPrefix(ct, "text/html") {
		t.Errorf("GET /no-such-page: %d %s, want the HTML 404 page", code, ct)
	}
	if code, ct, _ := get("/api/v1/indicators"); code != 200 || !strings.HasPrefix(ct, "application/json") {
		t.Errorf("GET /api/v1/indicators: %d %s", code, ct)
	}
	if code, _, _ := get("/healthz"); code != 200 {
		t.Errorf("GET /healthz: %d", code)
	}
	// The demo's officer signs in on the page with the token file the banner names, and
	// the session opens My reports.
	if !strings.Contains(strings.Join(s.stdout, "\n"), "/signin") {
		t.Errorf("the demo's banner does not say where to sign in:\n%s", strings.Join(s.stdout, "\n"))
	}
	tok, err := os.ReadFile(filepath.Join(data, "tokens", "P20"))
	if err != nil {
		t.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	res, err := c.PostForm(s.url+"/signin", url.Values{"token": {strings.TrimSpace(string(tok))}})
	if err != nil {
		t.Fatal(err)
	}
	body2, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || res.Request.URL.Path != "/reports/P20" || !strings.Contains(string(body2), "Báo cáo của tôi") {
		t.Errorf("sign in as the demo officer: %d at %s", res.StatusCode, res.Request.URL.Path)
	}
}
