package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/g-oc/goc/api/contract"
	"github.com/g-oc/goc/collectors/feed"
	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/internal/api"
	"github.com/g-oc/goc/internal/apiparts"
	"github.com/g-oc/goc/internal/metrics"
	"github.com/g-oc/goc/internal/outbound"
	"github.com/g-oc/goc/internal/query"
	"github.com/g-oc/goc/internal/store"
	"github.com/g-oc/goc/internal/store/sqlite"
)

// collectorServer serves the API over a real SQLite file with a feed puller.
func collectorServer(t testing.TB) (*httptest.Server, *sqlite.Store, *feed.Puller) {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "goc.db"), sqlite.WithAutoApprove(true))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	cat, reg := indicators.DefaultCatalogue(), indicators.DefaultRegistry()
	clock := func() time.Time { return testNow }
	m := metrics.New()
	puller := feed.NewPuller(feed.PullerOptions{Checker: feed.NewChecker(cat, reg, nil, clock), Writer: st,
		Metrics: feed.NewMetrics(m.Registry), Outbound: outbound.MustPolicy("127.0.0.1/32")}) // the test feeds are on loopback
	s := api.New(api.Options{Query: query.New(st, cat, reg, clock), Writer: st, Pinger: st, Metrics: m, Now: clock, Feeds: apiparts.Feeds(puller), Workbooks: apiparts.Workbooks{}})
	srv := httptest.NewServer(contract.Check(t, s.Handler())) // every exchange is checked against api/openapi.yaml
	t.Cleanup(srv.Close)
	return srv, st, puller
}

func getJSON(t testing.TB, url string, out any) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return resp.StatusCode
}

func TestProbesAPIGivesTheLatestStateOfEachPortal(t *testing.T) {
	srv, st, _ := collectorServer(t)
	at := testNow.Add(-time.Minute)
	rs := []indicators.ProbeResult{
		{Target: "https://langson.gov.vn", Agency: "P20", Time: at.Add(-time.Minute), Success: false, HTTPStatus: 503, Error: "HTTP status 503"},
		{Target: "https://langson.gov.vn", Agency: "P20", Time: at, Success: true, HTTPStatus: 200, TLSVersion: "TLS 1.3", CertValid: true,
			CertExpiry: testNow.AddDate(0, 2, 0), Phases: map[string]float64{"resolve": 0.01, "total": 0.3}, DNSSEC: "signed-valid", Mobile: true},
		{Target: "https://tamthanh.langson.gov.vn", Agency: "P20-C01", Time: at, Success: false, Error: "timed out after 10s"},
		{Target: "https://mof.gov.vn", Agency: "BTC", Time: at, Success: true, HTTPStatus: 200},
	}
	if err := st.WriteProbeResults(context.Background(), rs); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		query           string
		targets         []string
		count, up, down int
	}{
		{"", []string{"https://langson.gov.vn", "https://mof.gov.vn", "https://tamthanh.langson.gov.vn"}, 3, 2, 1},
		{"?agency=P20", []string{"https://langson.gov.vn", "https://tamthanh.langson.gov.vn"}, 2, 1, 1},
		{"?up=false", []string{"https://tamthanh.langson.gov.vn"}, 1, 0, 1},
		{"?agency=BTC&up=true", []string{"https://mof.gov.vn"}, 1, 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			var rep query.ProbesReport
			if code := getJSON(t, srv.URL+"/api/v1/probes"+tt.query, &rep); code != 200 {
				t.Fatalf("status %d", code)
			}
			var got []string
			for _, p := range rep.Probes {
				got = append(got, p.Target)
			}
			if strings.Join(got, " ") != strings.Join(tt.targets, " ") || rep.Count != tt.count || rep.Up != tt.up || rep.Down != tt.down {
				t.Errorf("got %v (count %d, up %d, down %d)", got, rep.Count, rep.Up, rep.Down)
			}
		})
	}
	var rep query.ProbesReport
	getJSON(t, srv.URL+"/api/v1/probes?agency=P20", &rep)
	if p := rep.Probes[0]; !p.Success || p.HTTPStatus != 200 || p.TLSVersion != "TLS 1.3" || p.Phases["total"] != 0.3 || p.DNSSEC != "signed-valid" {
		t.Errorf("langson.gov.vn = %+v: not its latest result", p)
	}
	for q, want := range map[string]int{"?agency=P99": 404, "?up=maybe": 400} {
		var body map[string]any
		if code := getJSON(t, srv.URL+"/api/v1/probes"+q, &body); code != want {
			t.Errorf("%s: status %d, want %d", q, code, want)
		}
	}
}

func TestFeedsAPIShowsAMalformedFeedsReasonAndEveryProblem(t *testing.T) {
	srv, st, puller := collectorServer(t)
	payload := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "indicator,agency,period,value,numerator,denominator\n"+
			"dossiers_fully_online,P20,2026-Q1,,5123,7410\n"+
			"dossiers_fully_online,P99,2026-Q1,,10,20\n"+
			"dossiers_fully_online,BTC,2026-Q1,,30,20\n")
	}))
	defer payload.Close()
	f := &feed.Feed{Name: "kpi-csv", URL: payload.URL, Format: feed.CSV}
	puller.Register(&feed.Feed{Name: "never-pulled", URL: "https://kpi.example.gov.vn/", Format: feed.JSON})
	if _, err := puller.Pull(context.Background(), f); err == nil {
		t.Fatal("the bad feed was accepted")
	}
	var body struct {
		Feeds   []feed.Status `json:"feeds"`
		Count   int           `json:"count"`
		Failing int           `json:"failing"`
	}
	if code := getJSON(t, srv.URL+"/api/v1/feeds", &body); code != 200 {
		t.Fatalf("status %d", code)
	}
	if body.Count != 2 || body.Failing != 1 || body.Feeds[0].Name != "kpi-csv" || body.Feeds[1].LastResult != "" {
		t.Fatalf("feeds = %+v", body)
	}
	e := body.Feeds[0].Error
	if e == nil || e.Reason != feed.ReasonInvalid || len(e.Problems) != 2 ||
		e.Problems[0].Place.String() != "dòng/line 3, cột/column 2 (agency)" || !strings.Contains(e.Problems[0].Reason, `agency "P99" is not in the registry`) ||
		e.Problems[1].Place.String() != "dòng/line 4, cột/column 5 (numerator)" || !strings.Contains(e.Problems[1].Reason, "numerator 30 is larger than denominator 20") {
		t.Fatalf("error = %+v", e)
	}
	obs, _ := st.Observations(context.Background(), store.Query{})
	if len(obs) != 0 {
		t.Errorf("%d values stored from a rejected feed", len(obs))
	}
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	text, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(text), `goc_feed_errors_total{feed="kpi-csv",reason="invalid"} 1`) {
		t.Error("/metrics lacks the feed error")
	}
}

// BenchmarkProbesAPI10000Portals times GET /api/v1/probes with 10,000 portals: the
// design asks for the latest state of every portal in well under 100 ms.
func BenchmarkProbesAPI10000Portals(b *testing.B) {
	srv, st, _ := collectorServer(b)
	rs := make([]indicators.ProbeResult, 10000)
	for i := range rs {
		rs[i] = indicators.ProbeResult{Target: fmt.Sprintf("https://xa%05d.gov.vn/", i), Agency: "P20-C01", Time: testNow,
			Success: i%17 != 0, HTTPStatus: 200, TLSVersion: "TLS 1.3", CertValid: true, CertExpiry: testNow.AddDate(0, 3, 0),
			Phases:    map[string]float64{"resolve": 0.002, "connect": 0.01, "tls": 0.02, "processing": 0.1, "total": 0.2},
			BodyBytes: 48213, DNSSEC: "unsigned", Mobile: true}
	}
	if err := st.WriteProbeResults(context.Background(), rs); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		resp, err := http.Get(srv.URL + "/api/v1/probes")
		if err != nil {
			b.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		b.SetBytes(n)
	}
}

func TestProbesAndFeedsAPIShowURLsWithoutCredentials(t *testing.T) {
	srv, st, puller := collectorServer(t)
	// A row stored before redaction existed, as an upgraded store may hold.
	if err := st.WriteProbeResults(context.Background(), []indicators.ProbeResult{{Target: "https://admin:hunter2@langson.gov.vn/?api_key=topsecret",
		Agency: "P20", Time: testNow.Add(-time.Minute), Error: `Get "https://admin:hunter2@langson.gov.vn/?api_key=topsecret": EOF`}}); err != nil {
		t.Fatal(err)
	}
	puller.Register(&feed.Feed{Name: "kpi", URL: "https://u:pw-secret@kpi.gov.vn/f.csv?access_token=tok-secret", Format: feed.CSV})
	for _, path := range []string{"/api/v1/probes", "/api/v1/feeds"} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		for _, leak := range []string{"hunter2", "topsecret", "pw-secret", "tok-secret"} {
			if strings.Contains(string(body), leak) {
				t.Errorf("GET %s shows %q: %s", path, leak, body)
			}
		}
		if !strings.Contains(string(body), "REDACTED") {
			t.Errorf("GET %s: no redacted URL in %s", path, body)
		}
	}
}

// pageRecordingStore is the real SQLite store, recording the most portal statuses one
// read returned: what the probe list holds at once.
type pageRecordingStore struct {
	*sqlite.Store
	mu       sync.Mutex
	largest  int
	readsAll bool
}

func (s *pageRecordingStore) ProbeStatusPage(ctx context.Context, after string, limit int) (store.ProbeStatuses, error) {
	st, err := s.Store.ProbeStatusPage(ctx, after, limit)
	s.mu.Lock()
	s.largest = max(s.largest, len(st.Statuses))
	s.mu.Unlock()
	return st, err
}

func (s *pageRecordingStore) ProbeStatuses(ctx context.Context) (store.ProbeStatuses, error) {
	s.mu.Lock()
	s.readsAll = true
	s.mu.Unlock()
	return s.Store.ProbeStatuses(ctx)
}

func (s *pageRecordingStore) LatestProbes(ctx context.Context) ([]indicators.ProbeResult, error) {
	s.mu.Lock()
	s.readsAll = true
	s.mu.Unlock()
	return s.Store.LatestProbes(ctx)
}

func TestProbesAPIHoldsOnePageOfPortalsAndCountsThemAll(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "goc.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	const portals = 2600
	var rs []indicators.ProbeResult
	for i := range portals {
		rs = append(rs, indicators.ProbeResult{Target: fmt.Sprintf("https://p%04d.langson.gov.vn", i), Agency: "P20",
			Time: testNow.Add(-time.Minute), Success: i%4 != 0, HTTPStatus: 200})
	}
	if err := db.WriteProbeResults(ctx, rs); err != nil {
		t.Fatal(err)
	}
	st := &pageRecordingStore{Store: db}
	clock := func() time.Time { return testNow }
	s := api.New(api.Options{Query: query.New(st, indicators.DefaultCatalogue(), indicators.DefaultRegistry(), clock), Writer: st, Pinger: st, Now: clock, Workbooks: apiparts.Workbooks{}})
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)

	tests := []struct {
		query         string
		limit         int
		want, up, dwn int
	}{
		{"", 1000, portals, portals * 3 / 4, portals / 4},
		{"&up=false", 200, portals / 4, 0, portals / 4},
		{"&agency=P20", 5000, portals, portals * 3 / 4, portals / 4},
	}
	for _, tt := range tests {
		st.largest, st.readsAll = 0, false
		var seen []string
		next := fmt.Sprintf("/api/v1/probes?limit=%d%s", tt.limit, tt.query)
		for pages := 0; next != ""; pages++ {
			if pages > portals/tt.limit+1 {
				t.Fatalf("%s: more pages than %d portals need", tt.query, tt.want)
			}
			var page struct {
				Probes []struct {
					Target string `json:"target"`
				} `json:"probes"`
				Count   int    `json:"count"`
				Up      int    `json:"up"`
				Down    int    `json:"down"`
				NextURL string `json:"next_url"`
			}
			if code := getJSON(t, srv.URL+next, &page); code != http.StatusOK {
				t.Fatalf("GET %s: %d", next, code)
			}
			if len(page.Probes) > tt.limit {
				t.Fatalf("GET %s: %d portals, more than the limit %d", next, len(page.Probes), tt.limit)
			}
			if page.Count != tt.want || page.Up != tt.up || page.Down != tt.dwn {
				t.Errorf("GET %s: count %d up %d down %d, want %d %d %d on every page", next, page.Count, page.Up, page.Down, tt.want, tt.up, tt.dwn)
			}
			for _, p := range page.Probes {
				seen = append(seen, p.Target)
			}
			next = page.NextURL
		}
		if len(seen) != tt.want {
			t.Errorf("%s: %d portals over every page, want %d", tt.query, len(seen), tt.want)
		}
		for i := 1; i < len(seen); i++ {
			if seen[i] <= seen[i-1] {
				t.Fatalf("%s: %s after %s: pages out of order or repeated", tt.query, seen[i], seen[i-1])
			}
		}
		if st.readsAll {
			t.Errorf("%s: the probe list read every portal at once", tt.query)
		}
		if most := max(tt.limit+1, 500); st.largest > most {
			t.Errorf("%s: one read held %d portals, want at most %d (a page of %d and one more)", tt.query, st.largest, most, tt.limit)
		}
	}
}

// versionedStore is the real SQLite store counting the portal-status reads of the
// probe list, and able to hold one until the test lets it go.
type versionedStore struct {
	*sqlite.Store
	reads   atomic.Int64
	hold    chan struct{} // when set, a read waits on it after saying so on held
	held    chan struct{}
	holdOne atomic.Bool
}

func (s *versionedStore) ProbeStatusPage(ctx context.Context, after string, limit int) (store.ProbeStatuses, error) {
	s.reads.Add(1)
	if s.holdOne.CompareAndSwap(true, false) {
		s.held <- struct{}{}
		<-s.hold
	}
	return s.Store.ProbeStatusPage(ctx, after, limit)
}

type probeCounts struct {
	Count int `json:"count"`
	Up    int `json:"up"`
	Down  int `json:"down"`
}

func TestProbesAPIMakesAPageOnceForEveryReaderUntilAResultIsStored(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "goc.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	const portals = 1200
	var rs []indicators.ProbeResult
	for i := range portals {
		rs = append(rs, indicators.ProbeResult{Target: fmt.Sprintf("https://p%04d.langson.gov.vn", i), Agency: "P20",
			Time: testNow.Add(-time.Minute), Success: true, HTTPStatus: 200})
	}
	if err := db.WriteProbeResults(ctx, rs); err != nil {
		t.Fatal(err)
	}
	st := &versionedStore{Store: db, hold: make(chan struct{}), held: make(chan struct{})}
	clock := func() time.Time { return testNow }
	cat, reg := indicators.DefaultCatalogue(), indicators.DefaultRegistry()
	newServer := func(stale time.Duration) string {
		s := api.New(api.Options{Query: query.New(st, cat, reg, clock), Writer: st, Pinger: st, Now: clock, ProbeListStale: stale})
		srv := httptest.NewServer(s.Handler())
		t.Cleanup(srv.Close)
		return srv.URL
	}
	get := func(url string) probeCounts {
		t.Helper()
		var c probeCounts
		if code := getJSON(t, url+"/api/v1/probes?limit=100", &c); code != http.StatusOK {
			t.Fatalf("status %d", code)
		}
		return c
	}
	// Making one page reads every portal, in chunks, to count them.
	url := newServer(0)
	get(url)
	perPage := st.reads.Load()
	if perPage == 0 {
		t.Fatal("the page read no portal status")
	}

	// Fifty readers at once, then fifty more: not one more read.
	var wg sync.WaitGroup
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if c := get(url); c.Count != portals || c.Down != 0 {
				t.Errorf("got %+v, want %d portals all up", c, portals)
			}
		}()
	}
	wg.Wait()
	if n := st.reads.Load() - perPage; n != 0 {
		t.Errorf("50 readers of the same page made it again (%d more reads), want it kept", n)
	}

	// A result stored: the next reader gets it.
	down := func(i int) {
		t.Helper()
		if err := db.WriteProbeResults(ctx, []indicators.ProbeResult{{Target: fmt.Sprintf("https://p%04d.langson.gov.vn", i), Agency: "P20",
			Time: testNow, Success: false, Error: "timed out"}}); err != nil {
			t.Fatal(err)
		}
	}
	down(7)
	if c := get(url); c.Down != 1 || c.Up != portals-1 {
		t.Errorf("after a portal went down: %+v, want 1 down", c)
	}

	// With ProbeListStale, a reader arriving while the newer page is made gets the
	// previous one at once; the one making it, and every reader after, get the newer.
	url = newServer(time.Hour)
	get(url)
	down(8)
	st.holdOne.Store(true)
	maker := make(chan probeCounts)
	go func() { maker <- get(url) }()
	<-st.held
	if c := get(url); c.Down != 1 {
		t.Errorf("a reader during the making got %+v, want the previous page (1 down)", c)
	}
	close(st.hold)
	if c := <-maker; c.Down != 2 {
		t.Errorf("the reader who made the page got %+v, want 2 down", c)
	}
	reads := st.reads.Load()
	if c := get(url); c.Down != 2 {
		t.Errorf("a reader after the making got %+v, want 2 down", c)
	}
	if n := st.reads.Load() - reads; n != 0 {
		t.Errorf("the page was made again (%d reads) though nothing was stored", n)
	}
}
