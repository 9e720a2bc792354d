package web_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/internal/api"
	"github.com/g-oc/goc/internal/auth"
	"github.com/g-oc/goc/internal/demo"
	"github.com/g-oc/goc/internal/metrics"
	"github.com/g-oc/goc/internal/query"
	"github.com/g-oc/goc/internal/store/sqlite"
	"github.com/g-oc/goc/internal/web"
	"github.com/g-oc/goc/internal/web/webtest"
)

// testNow is fixed so that the demo history, and so every figure and screenshot, is the
// same on every run.
var testNow = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

// site is G-OC's API and pages on one loopback port, as `goc serve` mounts them, over a
// real SQLite file holding the demo history.
type site struct {
	URL   string
	Query *query.Service
	Store *sqlite.Store
}

func newSite(t testing.TB) *site {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "goc.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	cat, reg := indicators.DefaultCatalogue(), indicators.DefaultRegistry()
	if _, err := st.WriteObservations(ctx, demo.History(cat, reg, testNow)); err != nil {
		t.Fatal(err)
	}
	clock := func() time.Time { return testNow }
	q := query.New(st, cat, reg, clock)
	tokens, err := auth.NewTokens(nil)
	if err != nil {
		t.Fatal(err)
	}
	m := metrics.New()
	apiSrv := api.New(api.Options{Query: q, Writer: st, Pinger: st, Auth: tokens, Metrics: m, Now: clock})
	pages, err := web.New(web.Options{Query: q, Metrics: m, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(web.Combine(apiSrv.Handler(), pages.Handler()))
	t.Cleanup(srv.Close)
	return &site{URL: srv.URL, Query: q, Store: st}
}

// get fetches a path with an optional language cookie and returns status and body.
func (s *site) get(t testing.TB, path string, header http.Header) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, string(body)
}

// screenshotDir is where the browser tests write each page's screenshot at both sizes:
// $GOC_SCREENSHOTS, else docs/screenshots of the repository (the README shows them).
func screenshotDir() string {
	if d := os.Getenv("GOC_SCREENSHOTS"); d != "" {
		return d
	}
	return filepath.Join("..", "..", "docs", "screenshots")
}

func TestUnknownPageIsAnHTML404InBothLanguagesAndAPIKeepsJSON(t *testing.T) {
	s := newSite(t)
	res, body := s.get(t, "/no-such-page", nil)
	if res.StatusCode != http.StatusNotFound || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET /no-such-page: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	for _, want := range []string{`<html lang="vi">`, "Không có trang nào ở địa chỉ này.", "There is no page at this address."} {
		if !strings.Contains(body, want) {
			t.Errorf("404 page lacks %q", want)
		}
	}
	res, body = s.get(t, "/api/v1/no-such", nil)
	if res.StatusCode != http.StatusNotFound || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		t.Errorf("GET /api/v1/no-such: %d %s %s", res.StatusCode, res.Header.Get("Content-Type"), body)
	}
	res, _ = s.get(t, "/healthz", nil)
	if res.StatusCode != http.StatusOK {
		t.Errorf("GET /healthz: %d", res.StatusCode)
	}
}

func TestLanguageToggleRefusesAForeignAddressAndBadLanguage(t *testing.T) {
	s := newSite(t)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Get(s.URL + "/lang?to=en&next=//evil.example/")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if loc := res.Header.Get("Location"); res.StatusCode != http.StatusSeeOther || loc != "/" {
		t.Errorf("toggle to a foreign next: %d Location %q, want 303 to /", res.StatusCode, loc)
	}
	res, body := s.get(t, "/lang?to=fr", nil)
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, "to=&#34;fr&#34;") {
		t.Errorf("toggle to fr: %d, body names the parameter: %v", res.StatusCode, strings.Contains(body, "fr"))
	}
}

func TestScoreboardAnswersAReloadWithNotModified(t *testing.T) {
	s := newSite(t)
	res, _ := s.get(t, "/", nil)
	etag := res.Header.Get("ETag")
	if res.StatusCode != http.StatusOK || etag == "" || res.Header.Get("Last-Modified") == "" {
		t.Fatalf("GET /: %d ETag %q Last-Modified %q", res.StatusCode, etag, res.Header.Get("Last-Modified"))
	}
	res, body := s.get(t, "/", http.Header{"If-None-Match": {etag}})
	if res.StatusCode != http.StatusNotModified || body != "" {
		t.Errorf("reload with If-None-Match: %d and %d bytes, want 304 and none", res.StatusCode, len(body))
	}
	res, _ = s.get(t, "/", http.Header{"If-None-Match": {etag}, "Cookie": {"goc_lang=en"}})
	if res.StatusCode != http.StatusOK {
		t.Errorf("the English page under the Vietnamese ETag: %d, want 200", res.StatusCode)
	}
}

func TestScoreboardFiguresEqualTheAPIs(t *testing.T) {
	s := newSite(t)
	_, body := s.get(t, "/", nil)
	sb, err := s.Query.Scoreboard(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(sb.Rows) < 20 {
		t.Fatalf("scoreboard has %d rows, want every 2025 and 2030 clause", len(sb.Rows))
	}
	for _, row := range sb.Rows {
		level := ""
		if row.Level != "" {
			level = string(row.Level)
		}
		rep, err := s.Query.Progress(context.Background(), row.Code, "VN", row.Year, indicators.Level(level))
		if err != nil {
			t.Fatal(err)
		}
		if rep.Status != row.Progress.Status || (rep.Latest == nil) != (row.Progress.Latest == nil) ||
			(rep.Latest != nil && rep.Latest.Value != row.Progress.Latest.Value) {
			t.Errorf("%s %s %d: scoreboard %+v, progress API %+v", row.Clause, row.Code, row.Year, row.Progress.Latest, rep.Latest)
		}
	}
	for _, clause := range []string{"a.i", "a.xi", "b.i", "b.ix"} {
		if !strings.Contains(body, `data-clause="`+clause+`"`) {
			t.Errorf("scoreboard page lacks clause %s", clause)
		}
	}
}

// TestPagesInABrowser loads every page in chromium at 1366×768 and 390×844: no console
// error, no failed request, no sideways scroll, no serious or critical axe-core
// violation; and it writes the screenshots the README shows.
func TestPagesInABrowser(t *testing.T) {
	s := newSite(t)
	b := webtest.Start(t)
	shots := screenshotDir()
	pages := []struct {
		name, path string
		status     int
	}{
		{"scoreboard", "/", http.StatusOK},
		{"not-found", "/indicators/no_such_indicator", http.StatusNotFound},
	}
	for _, p := range pages {
		for _, vp := range webtest.Viewports() {
			t.Run(p.name+"-"+vp.Name, func(t *testing.T) {
				b.Check(t, s.URL+p.path, p.status, vp, shots, p.name)
			})
		}
	}
	t.Run("language-toggle", func(t *testing.T) {
		tab := b.Open(t, s.URL+"/", webtest.Desktop)
		h1, err := chromedp.Run(tab.Ctx, chromedp.Text[string]("h1"))
		if err != nil || h1 != "Bảng tổng hợp quốc gia" {
			t.Fatalf("h1 before the toggle: %q %v", h1, err)
		}
		if err := chromedp.Do(tab.Ctx, chromedp.Click[string]("a.lang"), chromedp.WaitVisible[string](`html[lang="en"]`)); err != nil {
			t.Fatalf("click the language toggle: %v", err)
		}
		labels, err := chromedp.Run(tab.Ctx, chromedp.Evaluate[[]string](
			`[...document.querySelectorAll("h1, h2, nav a, th[scope=col], .status")].map(e => e.textContent.trim())`))
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"National scoreboard", "Targets for 2025", "Rankings", "Portal status", "Clause"} {
			if !containsString(labels, want) {
				t.Errorf("after the toggle, no label %q among %v", want, labels)
			}
		}
		for _, l := range labels {
			if strings.Contains(l, "Bảng tổng hợp") || strings.Contains(l, "Mục tiêu đến") {
				t.Errorf("after the toggle a Vietnamese label remains: %q", l)
			}
		}
		tab.NoProblems(t)
	})
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
