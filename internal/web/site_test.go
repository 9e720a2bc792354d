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
	"github.com/g-oc/goc/indicators/period"
	"github.com/g-oc/goc/internal/api"
	"github.com/g-oc/goc/internal/apiparts"
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

func newSite(t testing.TB) *site { return newSiteWith(t, false) }

// newSiteWith serves the site; with cache, the pages keep computed figures as
// `goc serve` does (until the store's figures version changes).
func newSiteWith(t testing.TB, cache bool) *site {
	t.Helper()
	ctx := context.Background()
	// The demo history is published, as `goc demo` approves it.
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "goc.db"), sqlite.WithAutoApprove(true))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	cat, reg := indicators.DefaultCatalogue(), indicators.DefaultRegistry()
	if _, err := st.WriteObservations(ctx, demo.History(cat, reg, testNow)); err != nil {
		t.Fatal(err)
	}
	if err := st.WriteProbeResults(ctx, probeHistory(reg)); err != nil {
		t.Fatal(err)
	}
	clock := func() time.Time { return testNow }
	q := query.New(st, cat, reg, clock)
	tokens, err := auth.NewTokens(nil)
	if err != nil {
		t.Fatal(err)
	}
	m := metrics.New()
	apiSrv := api.New(api.Options{Query: q, Writer: st, Pinger: st, Auth: tokens, Metrics: m, Now: clock, Workbooks: apiparts.Workbooks{}})
	o := web.Options{Query: q.PublicView(), Metrics: m, Now: clock}
	if cache {
		o.FiguresVersion, o.CacheFor = st.FiguresVersion, time.Hour
	}
	pages, err := web.New(o)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(web.Combine(apiSrv.Handler(), pages.Handler()))
	t.Cleanup(srv.Close)
	return &site{URL: srv.URL, Query: q, Store: st}
}

// probeHistory is 30 days of hourly results for every portal in the registry, as the
// collectors would have stored them, with outages on a few: the status pages' data.
// No portal is contacted; the results are written to the store directly.
func probeHistory(reg *indicators.Registry) []indicators.ProbeResult {
	var out []indicators.ProbeResult
	start := testNow.Add(-30 * 24 * time.Hour).Truncate(time.Hour)
	n := 0
	for _, a := range reg.All() {
		if a.Portal == "" {
			continue
		}
		n++
		for h := 0; h < 30*24; h++ {
			at := start.Add(time.Duration(h)*time.Hour + 5*time.Minute)
			// Every fifth portal loses a few hours every ten days; every eleventh is down now.
			down := (n%5 == 0 && h%240 < 3) || (n%11 == 0 && h >= 30*24-2)
			r := indicators.ProbeResult{Target: a.Portal, Agency: a.Code, Time: at, Success: !down, HTTPStatus: 200,
				Phases:     map[string]float64{"total": 0.08 + float64(n%7)*0.05 + float64(h%24)*0.002},
				TLSVersion: "TLS 1.3", CertExpiry: testNow.AddDate(0, 0, 20+n*3), CertValid: true,
				HTTPSRedirect: n%3 != 0, IPv6: n%2 == 0, DNSSEC: map[bool]string{true: "signed-valid", false: "unsigned"}[n%4 == 0],
				Mobile: n%6 != 0}
			if down {
				r.HTTPStatus, r.Error = 503, "HTTP 503"
			}
			out = append(out, r)
		}
	}
	return out
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

// The pages keep computed figures, but a new submission shows on the very next
// request: the store's figures version changed.
func TestScoreboardShowsANewFigureOnTheNextRequestDespiteTheCache(t *testing.T) {
	s := newSiteWith(t, true)
	res, before := s.get(t, "/", nil)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /: %d", res.StatusCode)
	}
	if _, again := s.get(t, "/", nil); again != before {
		t.Fatalf("two reads with no new data differ")
	}
	if _, err := s.Store.WriteObservations(context.Background(), []indicators.Observation{{
		SeriesKey: indicators.SeriesKey{Indicator: "egdi_rank", Agency: "VN", Period: period.MustParse("2026")},
		Value:     42, Source: indicators.FromSubmission, Submitter: "test"}}); err != nil {
		t.Fatal(err)
	}
	_, after := s.get(t, "/", nil)
	if after == before || !strings.Contains(after, `data-value="42"`) {
		t.Errorf("the scoreboard after a new EGDI rank of 42 does not show it")
	}
}

// Every page stays under 200 KB, the budget of a phone on a slow connection; pages
// list at most 50 portals at a time for that reason.
func TestEveryPageIsUnder200KB(t *testing.T) {
	s := newSite(t)
	for _, path := range []string{"/", "/indicators/dossiers_fully_online", "/indicators/ops_level4_share?year=2030", "/agencies/VN",
		"/agencies/P20", "/agencies/BTC", "/rankings", "/status", "/status/" + firstDownPortal(t, s),
		"/observations?indicator=dossiers_fully_online&period=2025"} {
		res, body := s.get(t, path, nil)
		if res.StatusCode != http.StatusOK {
			t.Errorf("GET %s: %d", path, res.StatusCode)
		}
		if len(body) > 200<<10 {
			t.Errorf("GET %s: %d bytes, over 200 KB", path, len(body))
		}
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
		{"indicator", "/indicators/dossiers_fully_online", http.StatusOK},
		{"observations", "/observations?indicator=dossiers_fully_online&agency=P20&period=2026-Q3", http.StatusOK},
		{"agency", "/agencies/P20", http.StatusOK},
		{"rankings", "/rankings", http.StatusOK},
		{"status", "/status", http.StatusOK},
		{"portal", "/status/" + firstDownPortal(t, s), http.StatusOK},
		{"not-found", "/indicators/no_such_indicator", http.StatusNotFound},
		{"bad-request", "/status?state=sideways", http.StatusBadRequest},
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
		tab.NoProblems(t)
		// Every page in English shows no Vietnamese text but the toggle back (lang="vi").
		for _, p := range pages {
			if err := chromedp.Do(tab.Ctx, chromedp.Navigate(s.URL+p.path)); err != nil {
				t.Fatal(err)
			}
			left, err := chromedp.Run(tab.Ctx, chromedp.Evaluate[[]string](vietnameseText))
			if err != nil {
				t.Fatal(err)
			}
			if len(left) > 0 {
				t.Errorf("%s in English still shows Vietnamese: %q", p.path, left[:min(len(left), 5)])
			}
		}
	})
	t.Run("status-search-and-filter", func(t *testing.T) {
		tab := b.Open(t, s.URL+"/status", webtest.Desktop)
		// A search for a province's portal by part of its address, submitted as a
		// GET form: the same page, no script needed.
		if err := chromedp.Do(tab.Ctx, chromedp.SendKeys[string]("#q", "angiang"), chromedp.Submit[string]("#q"),
			chromedp.WaitVisible[string](`input#q[value="angiang"]`)); err != nil {
			t.Fatalf("search: %v", err)
		}
		portals, err := chromedp.Run(tab.Ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#portals tbody tr")].map(r => r.dataset.portal)`))
		if err != nil || len(portals) != 1 || !strings.Contains(portals[0], "angiang") {
			t.Errorf("search angiang: portals %v (%v)", portals, err)
		}
		if err := chromedp.Do(tab.Ctx, chromedp.Navigate(s.URL+"/status"), chromedp.SetValue[string]("#state", "down"),
			chromedp.Submit[string]("#state"), chromedp.WaitReady[string](`#state option[value="down"][selected]`)); err != nil {
			t.Fatalf("filter down: %v", err)
		}
		states, err := chromedp.Run(tab.Ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#portals tbody tr td:first-child .status")].map(e => e.className)`))
		if err != nil {
			t.Fatal(err)
		}
		down := false
		rep, _ := s.Query.LatestProbes(context.Background(), query.ProbeFilter{Up: &down})
		if len(states) != rep.Count || len(states) == 0 {
			t.Errorf("state=down lists %d portals, the query layer %d", len(states), rep.Count)
		}
		for _, c := range states {
			if !strings.Contains(c, "st-down") {
				t.Errorf("state=down lists a portal with %q", c)
			}
		}
		tab.NoProblems(t)
	})
	t.Run("provenance-link", func(t *testing.T) {
		tab := b.Open(t, s.URL+"/indicators/dossiers_fully_online", webtest.Desktop)
		// The first province's latest value, and the observations page its link opens.
		type cell struct {
			Agency string `json:"agency"`
			Value  string `json:"value"`
		}
		first, err := chromedp.Run(tab.Ctx, chromedp.Evaluate[cell](`(() => { const a = document.querySelector("#lv-province").closest("section").querySelector("a.prov");
			return {agency: a.closest("tr").querySelector("th a").getAttribute("href").split("/").pop(), value: a.closest("td").dataset.value}; })()`))
		if err != nil {
			t.Fatal(err)
		}
		if err := chromedp.Do(tab.Ctx, chromedp.Click[string](`#lv-province ~ table a.prov`), chromedp.WaitVisible[string]("#observations")); err != nil {
			t.Fatalf("follow the provenance link: %v", err)
		}
		rows, err := chromedp.Run(tab.Ctx, chromedp.Evaluate[[]cell](`[...document.querySelectorAll("#observations tbody tr")].map(r => ({
			agency: r.querySelector("th a").getAttribute("href").split("/").pop(), value: r.querySelector("td[data-value]").dataset.value}))`))
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, r := range rows {
			found = found || (r.Agency == first.Agency && r.Value == first.Value)
		}
		if !found {
			t.Errorf("the observations page lists %v, not %s's value %s", rows, first.Agency, first.Value)
		}
		tab.NoProblems(t)
	})
}

// vietnameseText lists the visible texts with Vietnamese letters outside elements
// marked lang="vi" (the toggle back).
const vietnameseText = `(() => {
  const vi = /[ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ]/i;
  const out = [];
  const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walk.nextNode(); n; n = walk.nextNode()) {
    const el = n.parentElement;
    if (!el || el.closest('[lang="vi"]') || el.closest("script,style,title")) continue;
    if (vi.test(n.textContent)) out.push(n.textContent.trim());
  }
  return out;
})()`

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// firstDownPortal is the slug of a portal whose newest probe failed.
func firstDownPortal(t testing.TB, s *site) string {
	t.Helper()
	down := false
	rep, err := s.Query.LatestProbes(context.Background(), query.ProbeFilter{Up: &down})
	if err != nil || len(rep.Probes) == 0 {
		t.Fatalf("no portal is down in the fixture: %v", err)
	}
	return query.PortalSlug(rep.Probes[0].Target)
}
