// Command pagebench measures G-OC's two busiest pages, the national scoreboard (/) and
// the portal status page (/status), at 1,000, 3,000 and 10,000 portals with 30 days of
// probe results, under 50 concurrent clients, and prints the results as Markdown for
// BENCHMARKS.md. `go test ./...` never runs it.
//
// For each portal count it builds a real SQLite store in a temporary folder: the demo's
// full catalogue history, and N portals (spread over the registry's agencies) each
// with one result per -interval over -days, written through the store's own
// WriteProbeResults so its latest-state and uptime-window tables are kept exactly as
// the collectors keep them. It then serves the API and pages on a loopback port as
// `goc serve` does and sends each page -requests times from -clients goroutines,
// without If-None-Match, so every answer is rendered afresh (uncached).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/internal/api"
	"github.com/g-oc/goc/internal/apiparts"
	"github.com/g-oc/goc/internal/auth"
	"github.com/g-oc/goc/internal/demo"
	"github.com/g-oc/goc/internal/metrics"
	"github.com/g-oc/goc/internal/query"
	"github.com/g-oc/goc/internal/store/sqlite"
	"github.com/g-oc/goc/internal/web"
)

func main() {
	counts := flag.String("portals", "1000,3000,10000", "portal counts to measure, comma separated")
	days := flag.Int("days", 30, "days of probe results per portal")
	interval := flag.Duration("interval", time.Hour, "time between two results of one portal")
	clients := flag.Int("clients", 50, "concurrent clients")
	requests := flag.Int("requests", 1000, "requests per page and portal count")
	dir := flag.String("dir", os.TempDir(), "where the temporary stores go (deleted after each count)")
	cache := flag.Bool("cache", true, "reuse computed figures as goc serve does (false: compute on every request)")
	flag.Parse()
	fmt.Printf("pagebench: %s, %d CPUs, Go %s; %d days of results every %s; %d clients, %d requests per page\n\n",
		time.Now().UTC().Format("2006-01-02"), runtime.NumCPU(), runtime.Version(), *days, *interval, *clients, *requests)
	fmt.Println("| portals | results stored | load time | page | first (computed) | p50 | p99 | max | req/s | CPU per request | bytes |")
	fmt.Println("|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|")
	for _, c := range strings.Split(*counts, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(c))
		if err != nil {
			fail(fmt.Errorf("-portals: %w", err))
		}
		if err := run(n, *days, *interval, *clients, *requests, *dir, *cache); err != nil {
			fail(err)
		}
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "pagebench:", err)
	os.Exit(1)
}

func run(portals, days int, interval time.Duration, clients, requests int, dir string, cache bool) error {
	ctx := context.Background()
	tmp, err := os.MkdirTemp(dir, "pagebench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	st, err := sqlite.Open(ctx, filepath.Join(tmp, "goc.db"), sqlite.WithAutoApprove(true))
	if err != nil {
		return err
	}
	defer st.Close()
	now := time.Now().UTC().Truncate(time.Hour)
	cat, reg := indicators.DefaultCatalogue(), indicators.DefaultRegistry()
	start := time.Now()
	if _, err := st.WriteObservations(ctx, demo.History(cat, reg, now)); err != nil {
		return fmt.Errorf("load demo history: %w", err)
	}
	stored, err := writeProbes(ctx, st, reg, portals, days, interval, now)
	if err != nil {
		return err
	}
	load := time.Since(start)

	clock := func() time.Time { return now }
	q := query.New(st, cat, reg, clock)
	tokens, err := auth.NewTokens(nil)
	if err != nil {
		return err
	}
	m := metrics.New()
	apiSrv := api.New(api.Options{Query: q, Writer: st, Pinger: st, Auth: tokens, Metrics: m, Now: clock, Workbooks: apiparts.Workbooks{}})
	// The pages as `goc serve` runs them on SQLite: figures reused until the store's
	// figures version changes, portal status for at most 10 s.
	o := web.Options{Query: q.PublicView(), Metrics: m, Now: clock}
	if cache {
		o.FiguresVersion, o.CacheFor = st.FiguresVersion, 10*time.Second
	}
	pages, err := web.New(o)
	if err != nil {
		return err
	}
	srv := httptest.NewServer(web.Combine(apiSrv.Handler(), pages.Handler()))
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
	for _, path := range []string{"/", "/status"} {
		r, err := load1(client, srv.URL+path, clients, requests)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		fmt.Printf("| %d | %d | %s | `%s` | %s | %s | %s | %s | %.0f | %s | %d |\n", portals, stored, load.Round(time.Second), path,
			ms(r.first), ms(r.p50), ms(r.p99), ms(r.max), r.rps, ms(r.cpu), r.bytes)
	}
	return nil
}

// writeProbes stores days of results for n portals spread over the registry's agencies;
// about one portal in 50 fails for an hour each day, and one in 100 is down now.
func writeProbes(ctx context.Context, st *sqlite.Store, reg *indicators.Registry, n, days int, interval time.Duration, now time.Time) (int, error) {
	agencies := reg.All()
	from := now.Add(-time.Duration(days) * 24 * time.Hour)
	steps := int(now.Sub(from) / interval)
	const batch = 20000
	buf := make([]indicators.ProbeResult, 0, batch)
	total := 0
	flush := func() error {
		if len(buf) == 0 {
			return nil
		}
		if err := st.WriteProbeResults(ctx, buf); err != nil {
			return fmt.Errorf("write probe results: %w", err)
		}
		total += len(buf)
		buf = buf[:0]
		return nil
	}
	// Time outer, portal inner: results arrive as the collectors write them.
	for s := 0; s < steps; s++ {
		at := from.Add(time.Duration(s) * interval)
		hour := s * int(interval/time.Minute) / 60
		for i := 0; i < n; i++ {
			a := agencies[i%len(agencies)]
			down := (i%50 == 0 && hour%24 == i%24) || (i%100 == 1 && s >= steps-2)
			r := indicators.ProbeResult{Target: fmt.Sprintf("https://p%05d.portal.gov.vn/", i), Agency: a.Code, Time: at.Add(time.Duration(i%60) * time.Second),
				Success: !down, HTTPStatus: 200, Phases: map[string]float64{"total": 0.05 + float64(i%20)*0.01},
				TLSVersion: "TLS 1.3", CertExpiry: now.AddDate(0, 0, 10+i%300), CertValid: true, HTTPSRedirect: i%3 != 0,
				IPv6: i%2 == 0, DNSSEC: "unsigned", Mobile: i%5 != 0}
			if down {
				r.HTTPStatus, r.Error = 503, "HTTP 503"
			}
			buf = append(buf, r)
			if len(buf) == batch {
				if err := flush(); err != nil {
					return 0, err
				}
			}
		}
	}
	if err := flush(); err != nil {
		return 0, err
	}
	return total, nil
}

type result struct {
	first         time.Duration
	cpu           time.Duration
	p50, p99, max time.Duration
	rps           float64
	bytes         int
}

// load1 sends requests GETs of url from clients goroutines and times each.
func load1(client *http.Client, url string, clients, requests int) (result, error) {
	get := func() (int, error) {
		res, err := client.Get(url)
		if err != nil {
			return 0, err
		}
		defer res.Body.Close()
		n, err := io.Copy(io.Discard, res.Body)
		if res.StatusCode != http.StatusOK {
			return 0, fmt.Errorf("HTTP %d", res.StatusCode)
		}
		return int(n), err
	}
	t0 := time.Now()
	size, err := get() // the first answer computes the figures, and checks the page works
	if err != nil {
		return result{}, err
	}
	first := time.Since(t0)
	cpu0 := cpuTime()
	lat := make([]time.Duration, requests)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	next := make(chan int, requests)
	for i := range requests {
		next <- i
	}
	close(next)
	began := time.Now()
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				t := time.Now()
				if _, err := get(); err != nil {
					mu.Lock()
					firstErr = err
					mu.Unlock()
					return
				}
				lat[i] = time.Since(t)
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return result{}, firstErr
	}
	took := time.Since(began)
	cpu := (cpuTime() - cpu0) / time.Duration(requests)
	slices.Sort(lat)
	pct := func(p float64) time.Duration { return lat[min(len(lat)-1, int(p*float64(len(lat))))] }
	return result{first: first, cpu: cpu, p50: pct(0.50), p99: pct(0.99), max: lat[len(lat)-1], rps: float64(requests) / took.Seconds(), bytes: size}, nil
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

// cpuTime is the user and system CPU time this process has used: server and clients
// together, since both run here. Unlike latency it hardly depends on what else the
// machine runs.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
