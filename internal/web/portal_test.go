package web_test

import (
	"bytes"
	"context"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/internal/api"
	"github.com/g-oc/goc/internal/apiparts"
	"github.com/g-oc/goc/internal/auth"
	"github.com/g-oc/goc/internal/demo"
	"github.com/g-oc/goc/internal/limit"
	"github.com/g-oc/goc/internal/metrics"
	"github.com/g-oc/goc/internal/query"
	"github.com/g-oc/goc/internal/store"
	"github.com/g-oc/goc/internal/store/sqlite"
	"github.com/g-oc/goc/internal/web"
)

// clock is a settable fake clock shared by the API, the pages, the keyring and the
// sign-in limiter, so that expiry is tested by moving time, never by sleeping.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// Tokens of the portal site: an officer of a province (P20), an officer of another
// province (P01), and the reviewer of the whole country.
const (
	officerToken  = "goc_officer-of-p20-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	otherToken    = "goc_officer-of-p01-bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	reviewerToken = "goc_reviewer-vn-cccccccccccccccccccccccccccccccccccccc"
)

// portal is G-OC with sign-in: the API and the pages on one loopback port, over a real
// SQLite file whose demo history is published and whose new submissions wait for a
// reviewer (manual approval, as `goc demo` runs).
type portal struct {
	URL   string
	Clock *clock
	Keys  *auth.Keyring
	Query *query.Service
	Store *sqlite.Store
}

func tokenSet(t testing.TB, withOfficer bool) *auth.Tokens {
	t.Helper()
	entries := []auth.Entry{
		{Name: "p01-officer", Agency: "P01", SHA256: auth.Hash(otherToken)},
		{Name: "vn-reviewer", Agency: "VN", SHA256: auth.Hash(reviewerToken), Role: auth.Reviewer},
	}
	if withOfficer {
		// The role left empty, as the demo and most configs do: an officer.
		entries = append(entries, auth.Entry{Name: "p20-officer", Agency: "P20", SHA256: auth.Hash(officerToken)})
	}
	tokens, err := auth.NewTokens(entries)
	if err != nil {
		t.Fatal(err)
	}
	return tokens
}

func newPortal(t testing.TB) *portal {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "goc.db")
	cat, reg := indicators.DefaultCatalogue(), indicators.DefaultRegistry()
	// The history is written (and so approved) by a store with automatic approval, then
	// the store is opened again with review on, as a deployment that turned it on.
	st, err := sqlite.Open(ctx, path, sqlite.WithAutoApprove(true))
	if err != nil {
		t.Fatal(err)
	}
	// Only the two provinces' history: enough for their pages and outlier checks, and a
	// fraction of the demo's write time.
	var hist []indicators.Observation
	for _, o := range demo.History(cat, reg, testNow) {
		if o.Agency == "P20" || o.Agency == "P01" {
			hist = append(hist, o)
		}
	}
	if _, err := st.WriteObservations(ctx, hist); err != nil {
		t.Fatal(err)
	}
	st.Close()
	if st, err = sqlite.Open(ctx, path); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	c := &clock{t: testNow}
	q := query.New(st, cat, reg, c.Now)
	keys := auth.NewKeyring(tokenSet(t, true), c.Now, nil)
	m := metrics.New()
	apiSrv := api.New(api.Options{Query: q, Writer: st, Pinger: st, Auth: keys, Metrics: m, Now: c.Now, Workbooks: apiparts.Workbooks{}})
	apiHandler := apiSrv.Handler()
	pages, err := web.New(web.Options{Query: q.PublicView(), Metrics: m, Now: c.Now,
		FiguresVersion: st.FiguresVersion, CacheFor: time.Hour,
		Sessions: st, Keys: keys, API: apiHandler,
		SignInFailures: limit.Options{Every: time.Minute, Burst: 3, Now: c.Now}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(web.Combine(apiHandler, pages.Handler()))
	t.Cleanup(srv.Close)
	return &portal{URL: srv.URL, Clock: c, Keys: keys, Query: q, Store: st}
}

// browserless is an HTTP client with a cookie jar that does not follow redirects, so a
// test sees each 303 and where it points. It sends what a browser sends on a
// same-origin form (Sec-Fetch-Site: same-origin).
type browserless struct {
	t    testing.TB
	base string
	c    *http.Client
}

func (p *portal) client(t testing.TB) *browserless {
	jar, _ := cookiejar.New(nil)
	return &browserless{t: t, base: p.URL, c: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *browserless) do(method, path string, form url.Values, header http.Header, raw ...io.Reader) (*http.Response, string) {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	if len(raw) > 0 {
		body = raw[0]
	}
	req, err := http.NewRequest(method, b.base+path, body)
	if err != nil {
		b.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	for k, v := range header {
		req.Header[k] = v
	}
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	out, _ := io.ReadAll(res.Body)
	return res, string(out)
}

func (b *browserless) signIn(token string) *http.Response {
	b.t.Helper()
	res, body := b.do(http.MethodPost, "/signin", url.Values{"token": {token}}, nil)
	if res.StatusCode != http.StatusSeeOther {
		b.t.Fatalf("sign in: %d %s", res.StatusCode, body)
	}
	return res
}

func TestSignInSetsAStrictHttpOnlyCookieHoldingOnlyARandomID(t *testing.T) {
	p := newPortal(t)
	b := p.client(t)
	res := b.signIn(officerToken)
	if loc := res.Header.Get("Location"); loc != "/reports/P20" {
		t.Errorf("officer lands on %q, want /reports/P20", loc)
	}
	var c *http.Cookie
	for _, x := range res.Cookies() {
		if x.Name == "goc_session" {
			c = x
		}
	}
	if c == nil {
		t.Fatal("no goc_session cookie")
	}
	if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/" {
		t.Errorf("cookie HttpOnly=%v SameSite=%v Path=%q, want HttpOnly, Strict, /", c.HttpOnly, c.SameSite, c.Path)
	}
	if strings.Contains(c.Value, officerToken) || strings.Contains(c.Value, "P20") || len(c.Value) < 40 {
		t.Errorf("cookie value %q should be an opaque random id", c.Value)
	}
	res, body := b.do(http.MethodGet, "/reports/P20", nil, nil)
	if res.StatusCode != http.StatusOK || !strings.Contains(body, "p20-officer") || res.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("my reports: %d, Cache-Control %q, names the officer: %v", res.StatusCode, res.Header.Get("Cache-Control"), strings.Contains(body, "p20-officer"))
	}
	// Sign-out ends the session in the store: the same cookie opens nothing after.
	res, _ = b.do(http.MethodPost, "/signout", url.Values{}, nil)
	if res.StatusCode != http.StatusSeeOther {
		t.Errorf("sign out: %d", res.StatusCode)
	}
	req, _ := http.NewRequest(http.MethodGet, p.URL+"/reports/P20", nil)
	req.AddCookie(&http.Cookie{Name: "goc_session", Value: c.Value})
	res2, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res2.Body.Close()
	if res2.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res2.Header.Get("Location"), "/signin") {
		t.Errorf("old cookie after sign-out: %d %s, want 303 to /signin", res2.StatusCode, res2.Header.Get("Location"))
	}
}

func TestOfficerOpeningAnotherAgencysPageGets403SayingWhy(t *testing.T) {
	p := newPortal(t)
	b := p.client(t)
	b.signIn(officerToken)
	for _, path := range []string{"/reports/P01", "/reports/P01/2026-Q3", "/reports/P01/2026-Q3/template", "/review", "/review/P20/2026-Q3"} {
		res, body := b.do(http.MethodGet, path, nil, nil)
		if res.StatusCode != http.StatusForbidden {
			t.Errorf("officer of P20 GET %s: %d, want 403", path, res.StatusCode)
			continue
		}
		if !strings.Contains(body, "Không được phép") || !strings.Contains(body, "p20-officer") {
			t.Errorf("GET %s: the 403 page should say why in both languages and name the officer", path)
		}
	}
	if res, body := b.do(http.MethodGet, "/reports/P01", nil, nil); !strings.Contains(body, "not part of P20") {
		t.Errorf("403 for P01 should say P01 is not part of P20: %d", res.StatusCode)
	}
	// A file for another agency, uploaded on the form: refused, and nothing stored.
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreateFormFile("file", "p01.csv")
	io.WriteString(fw, "agency,period,indicator,value,numerator,denominator\nP01,2026-Q3,dossiers_fully_online,,500,1000\n")
	mw.Close()
	res, body := b.do(http.MethodPost, "/reports/upload", nil, http.Header{"Content-Type": {mw.FormDataContentType()}}, &buf)
	if res.StatusCode != http.StatusForbidden || !strings.Contains(body, "P01") {
		t.Errorf("uploading P01's figures as P20's officer: %d, want 403 naming P01", res.StatusCode)
	}
	subs, err := p.Store.Submissions(t.Context(), store.SubmissionQuery{Agencies: []string{"P01"}, States: []store.State{store.Submitted}})
	if err != nil || len(subs) != 0 {
		t.Errorf("a refused upload left submissions: %v %v", subs, err)
	}
}

func TestFormPostedFromAnotherOriginIsRefused(t *testing.T) {
	p := newPortal(t)
	b := p.client(t)
	b.signIn(reviewerToken)
	for _, h := range []http.Header{
		{"Sec-Fetch-Site": {"cross-site"}},
		{"Sec-Fetch-Site": nil, "Origin": {"https://evil.example"}},
	} {
		res, body := b.do(http.MethodPost, "/review/P20/2026-Q3", url.Values{"decision": {"approve"}}, h)
		if res.StatusCode != http.StatusForbidden || !strings.Contains(body, "another website") {
			t.Errorf("cross-origin POST with %v: %d, want the 403 page", h, res.StatusCode)
		}
	}
	res, _ := b.do(http.MethodPost, "/signin", url.Values{"token": {officerToken}}, http.Header{"Sec-Fetch-Site": {"cross-site"}})
	if res.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site sign-in: %d, want 403", res.StatusCode)
	}
}

func TestSessionPastItsExpiryIsSentToSignIn(t *testing.T) {
	for _, tc := range []struct {
		name  string
		steps []time.Duration // requests made after each wait
	}{
		{"idle", []time.Duration{web.DefaultSessionIdle + time.Second}},
		// Active every 20 minutes, yet past the absolute limit.
		{"absolute", func() []time.Duration {
			var s []time.Duration
			for d := time.Duration(0); d <= web.DefaultSessionMax; d += 20 * time.Minute {
				s = append(s, 20*time.Minute)
			}
			return s
		}()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newPortal(t)
			b := p.client(t)
			b.signIn(officerToken)
			var res *http.Response
			for _, d := range tc.steps {
				p.Clock.Add(d)
				res, _ = b.do(http.MethodGet, "/reports/P20", nil, nil)
				if res.StatusCode != http.StatusOK {
					break
				}
			}
			if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/signin?") ||
				!strings.Contains(res.Header.Get("Location"), "expired=1") {
				t.Fatalf("after expiry: %d %q, want 303 to /signin?...expired=1", res.StatusCode, res.Header.Get("Location"))
			}
			_, body := b.do(http.MethodGet, res.Header.Get("Location"), nil, nil)
			if !strings.Contains(body, "Phiên làm việc đã hết hạn") {
				t.Errorf("the sign-in page should say the session expired")
			}
		})
	}
}

func TestRevokedTokenEndsItsSessionWithoutARestart(t *testing.T) {
	p := newPortal(t)
	b := p.client(t)
	b.signIn(officerToken)
	if res, _ := b.do(http.MethodGet, "/reports/P20", nil, nil); res.StatusCode != http.StatusOK {
		t.Fatalf("before revocation: %d", res.StatusCode)
	}
	// What a reload (SIGHUP, or the token file changing) does: a new set without it.
	p.Keys.Replace(tokenSet(t, false))
	res, _ := b.do(http.MethodGet, "/reports/P20", nil, nil)
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/signin?") {
		t.Errorf("after revocation: %d %q, want 303 to sign in", res.StatusCode, res.Header.Get("Location"))
	}
	res, body := b.do(http.MethodPost, "/signin", url.Values{"token": {officerToken}}, nil)
	if res.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "đã bị thu hồi") {
		t.Errorf("signing in again with the revoked token: %d, want 401 saying it is revoked", res.StatusCode)
	}
}

func TestFailedSignInsAreRateLimitedPerClient(t *testing.T) {
	p := newPortal(t)
	b := p.client(t)
	for i := 0; i < 3; i++ {
		res, body := b.do(http.MethodPost, "/signin", url.Values{"token": {"goc_wrong"}}, nil)
		if res.StatusCode != http.StatusUnauthorized || !strings.Contains(body, `class="error-summary"`) {
			t.Fatalf("failure %d: %d, want 401 with an error summary", i+1, res.StatusCode)
		}
	}
	// The bucket is empty: even the right token waits, and the page says how long.
	res, body := b.do(http.MethodPost, "/signin", url.Values{"token": {officerToken}}, nil)
	if res.StatusCode != http.StatusTooManyRequests || res.Header.Get("Retry-After") == "" || !strings.Contains(body, "Too many failed sign-ins") {
		t.Fatalf("fourth attempt: %d Retry-After %q", res.StatusCode, res.Header.Get("Retry-After"))
	}
	p.Clock.Add(time.Minute)
	if res := b.signIn(officerToken); res.Header.Get("Location") != "/reports/P20" {
		t.Errorf("after a minute the right token signs in: %q", res.Header.Get("Location"))
	}
}

// Every signed-in page has all its labels in both languages (a missing one shows as
// "??key").
func TestSignedInPagesHaveEveryLabelInBothLanguages(t *testing.T) {
	p := newPortal(t)
	officer, reviewer := p.client(t), p.client(t)
	officer.signIn(officerToken)
	reviewer.signIn(reviewerToken)
	for _, lang := range []string{"vi", "en"} {
		h := http.Header{"Cookie": {"goc_lang=" + lang}}
		for _, c := range []struct {
			b    *browserless
			path string
		}{{officer, "/reports/P20"}, {officer, "/reports/P20/2026-Q3"}, {reviewer, "/review?state=all"}, {reviewer, "/review/P20/2026-Q3"}, {p.client(t), "/signin?expired=1"}} {
			res, body := c.b.do(http.MethodGet, c.path, nil, h)
			if res.StatusCode != http.StatusOK || strings.Contains(body, "??") {
				i := strings.Index(body, "??")
				t.Errorf("%s %s: %d, missing label near %q", lang, c.path, res.StatusCode, body[max(0, i):min(len(body), max(0, i)+40)])
			}
		}
	}
}
