// Command scalebench fills a SQLite store with a national-size data set and measures
// the reads a page or report needs, at 1 and 50 concurrent readers, printing Markdown
// for BENCHMARKS.md. `go test ./...` never runs it.
//
//	go run ./bench/scalebench -dir /tmp/scale -fraction 0.25
//
// Two data sets, each in its own file under -dir (deleted at the end unless -keep):
//
//  1. Probes: -portals portals, one result every -every for -days days, written in
//     time order in batches of 2,000 as the scheduler's sink writes them. Reads: the
//     status of every portal with its 24 h / 7 d / 30 d uptime and median latency
//     (query.LatestProbes) made for each request, as before; then GET /api/v1/probes
//     over HTTP (pages kept per probes version), with nothing arriving and while
//     -portals/60 results arrive every second (each portal once a minute).
//  2. Observations: the country, 34 provinces and -fraction of 3,300 communes, each
//     commune reporting the 7 monthly portal indicators for -months months and the
//     quarterly work-records ratio (the commune-level indicators of the built-in
//     catalogue), loaded through the bulk loader as `goc import` does. Reads: progress
//     of every agency on one indicator, national progress, rankings, a province's and
//     a commune's card, the ranking workbook over HTTP; each with the figures kept
//     between requests (warm, kept), on the first request after a start (cold), and
//     rolled up from history on every request as before (history). Cold and history
//     rows run one reader only.
//
// Readers are goroutines in this process, calling internal/query as the HTTP handlers
// do, or (rows naming a route) the API itself over loopback HTTP, served by
// internal/api as `goc serve` builds it. CPU is this process's user+system time during
// a load (client and server together for HTTP rows); RSS is the process's peak
// (VmHWM), which includes the generator.
//
// `-only workbook` (with -reuse on a folder a previous run kept) measures the ranking
// workbook of the provinces as `goc report ranking` makes it, alone in a fresh process,
// so that its peak RSS is the workbook's own.
//
// `-only restart` (with -reuse likewise) measures the first request for progress of
// every agency after a restart, and after one new value, three times (with -influx, on
// the InfluxDB store, for the public and for a reviewer; -hide-kept measures it as
// before the spool kept figures); `-only rebuild` what `goc rebuild` costs for the
// yearly figures (restart.go).
package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/indicators/period"
	"github.com/g-oc/goc/internal/api"
	"github.com/g-oc/goc/internal/apiparts"
	"github.com/g-oc/goc/internal/query"
	"github.com/g-oc/goc/internal/store"
	"github.com/g-oc/goc/internal/store/influx"
	"github.com/g-oc/goc/internal/store/sqlite"
	"github.com/g-oc/goc/reports"
)

// influxdPID is the process id of the influxd measured with -influx: its CPU during
// each row is printed beside G-OC's. Set once from the command line.
var influxdPID = flag.Int("influxd-pid", 0, "with -influx: the process id of that influxd, whose user+system CPU during each row is printed in a column of its own")

func main() {
	dir := flag.String("dir", "", "folder for the store files (a temporary one when empty)")
	keep := flag.Bool("keep", false, "keep the store files")
	portals := flag.Int("portals", 10000, "portals")
	days := flag.Int("days", 30, "days of probe history")
	every := flag.Duration("every", time.Hour, "one result per portal every")
	fraction := flag.Float64("fraction", 0.25, "share of the 3,300 communes")
	months := flag.Int("months", 60, "months of history")
	requests := flag.Int("requests", 200, "requests per load")
	skipProbes := flag.Bool("skip-probes", false, "skip the probe data set")
	reuse := flag.Bool("reuse", false, "use the store files already in -dir (kept by an earlier run with the same -fraction and -months) instead of generating them; implies -keep")
	only := flag.String("only", "", "run only this part: probes, observations, workbook, restart or rebuild (with -influx: fill, to fill InfluxDB and stop)")
	warmOnly := flag.Bool("warm-only", false, "in the observation part, skip the cold and history rows (one computation of the whole history each)")
	cpuProfile := flag.String("cpuprofile", "", "with -only workbook or restart: write a CPU profile of the workbook's making, or of the restarts, to this file (go tool pprof)")
	hideKept := flag.Bool("hide-kept", false, "with -influx and -only restart: do not let the query layer see the figures the spool keeps (what G-OC did before it kept them)")
	influxURL := flag.String("influx", "", "measure an InfluxDB 1.8 at this URL instead (database goc, as scripts/influxd.sh run makes it; with -reuse, the spool in -dir and the data it describes): the same reads")
	flag.Parse()
	if *reuse {
		*keep = true
	}
	if *dir == "" {
		d, err := os.MkdirTemp("", "scalebench")
		if err != nil {
			log.Fatal(err)
		}
		*dir = d
	}
	if err := os.MkdirAll(*dir, 0o755); err != nil {
		log.Fatal(err)
	}
	if !*keep {
		defer os.RemoveAll(*dir)
	}
	ctx := context.Background()
	fmt.Printf("Go %s, %d CPUs (GOMAXPROCS %d)\n\n", runtime.Version(), runtime.NumCPU(), runtime.GOMAXPROCS(0))
	fmt.Printf("load average at start: %s\n\n", loadAverage())
	defer func() { fmt.Printf("load average at end: %s\n", loadAverage()) }()
	if *influxURL != "" && *only == "probes" {
		influxProbes(ctx, *influxURL, *dir, *portals, *days, *every, *requests, *reuse)
		return
	}
	if *influxURL != "" && *only == "restart" {
		influxRestarts(ctx, *influxURL, *dir, *fraction, 3, *hideKept)
		return
	}
	if *influxURL != "" {
		influxRun(ctx, *influxURL, *dir, *fraction, *months, *portals, *requests, *reuse, *warmOnly, *only == "fill")
		return
	}
	switch *only {
	case "workbook":
		workbookAlone(ctx, filepath.Join(*dir, "obs.db"), *fraction, *months, *cpuProfile)
		return
	case "restart":
		if *cpuProfile != "" {
			pf, err := os.Create(*cpuProfile)
			if err != nil {
				log.Fatal(err)
			}
			if err := pprof.StartCPUProfile(pf); err != nil {
				log.Fatal(err)
			}
			defer pprof.StopCPUProfile()
		}
		restarts(ctx, filepath.Join(*dir, "obs.db"), *fraction, 3)
		return
	case "rebuild":
		rebuildFigures(ctx, filepath.Join(*dir, "obs.db"), *fraction)
		return
	case "", "probes", "observations":
	default:
		log.Fatalf("-only %q: want probes, observations, workbook, restart or rebuild", *only)
	}
	if !*skipProbes && *only != "observations" {
		probes(ctx, filepath.Join(*dir, "probes.db"), *portals, *days, *every, *requests, *reuse)
	}
	if *only != "probes" {
		observations(ctx, filepath.Join(*dir, "obs.db"), *fraction, *months, *requests, *reuse, *warmOnly)
	}
}

func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// exists reports whether a store file is there to reuse.
func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func probes(ctx context.Context, path string, n, days int, every time.Duration, requests int, reuse bool) {
	// The clock is the newest result's time; results arriving during a load move it.
	var now atomic.Int64
	clock := func() time.Time { return time.Unix(0, now.Load()).UTC() }
	reused := reuse && exists(path)
	now.Store(time.Now().UTC().Truncate(time.Hour).UnixNano())
	st, err := sqlite.Open(ctx, path, sqlite.WithClock(clock))
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()
	if reused {
		latest, err := st.LatestProbes(ctx)
		if err != nil || len(latest) == 0 {
			log.Fatalf("reuse %s: %v (%d portals)", path, err, len(latest))
		}
		var newest time.Time
		for _, r := range latest {
			if r.Time.After(newest) {
				newest = r.Time
			}
		}
		now.Store(newest.UnixNano())
		n = len(latest)
		fi, _ := os.Stat(path)
		fmt.Printf("### Probes: %d portals, reused from %s (file %d MB)\n\n", n, path, fileMB(path, fi))
	} else {
		fmt.Printf("### Probes: %d portals, one result every %s for %d days\n\n", n, every, days)
		generateProbes(ctx, st, path, n, days, every, clock())
	}
	reg, err := indicators.NewRegistry([]*indicators.Agency{{Code: "VN", NameVI: "Việt Nam", NameEN: "Viet Nam", Kind: indicators.KindNational}})
	if err != nil {
		log.Fatal(err)
	}
	q := query.New(st, indicators.DefaultCatalogue(), reg, clock)
	header()
	loadBy("status of every portal (query.LatestProbes + JSON), made for each request", 5, []int{1}, func() error {
		rep, err := q.LatestProbes(ctx, query.ProbeFilter{})
		if err != nil {
			return err
		}
		if rep.Count != n || rep.Probes[0].Month.Probes == 0 {
			return fmt.Errorf("%d portals, first with %d probes in 30 d", rep.Count, rep.Probes[0].Month.Probes)
		}
		return json.NewEncoder(io.Discard).Encode(rep)
	})
	// The API as goc serve builds it: pages kept per probes version, and given up to
	// 10 s old to a reader who arrives while a newer page is made.
	srv := httptest.NewServer(api.New(api.Options{Query: q, Writer: st, Pinger: st, Now: clock, ProbeListStale: 10 * time.Second,
		Workbooks: apiparts.Workbooks{}}).Handler())
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}, Timeout: 5 * time.Minute}
	// The client reads the answer and checks its count, without decoding the portals:
	// what is measured is the server's answer, not a JSON decoder in the client.
	page := func(path string) func() error {
		return func() error {
			body, err := get(ctx, client, srv.URL+path)
			if err != nil {
				return err
			}
			if !bytes.Contains(body, []byte(fmt.Sprintf(`"count":%d,`, n))) {
				return fmt.Errorf("GET %s: no count of %d portals in %.200s", path, n, body)
			}
			return nil
		}
	}
	load("GET /api/v1/probes (a page of 1,000 of every portal, with counts), nothing arriving", requests, page("/api/v1/probes"))
	load("GET /api/v1/probes?limit=5000, nothing arriving", requests, page("/api/v1/probes?limit=5000"))
	// Go's client asks for gzip and decompresses (kept answers are sent gzipped to it);
	// the same reads by a client that does not accept gzip get the plain bytes.
	plainClient := client
	client = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true}, Timeout: 5 * time.Minute}
	load("GET /api/v1/probes, nothing arriving, a client that does not accept gzip", requests, page("/api/v1/probes"))
	load("GET /api/v1/probes?limit=5000, nothing arriving, a client that does not accept gzip", requests, page("/api/v1/probes?limit=5000"))
	// A browser on another machine takes the gzip bytes and inflates them on its own
	// CPU; here the clients share the server's 2 cores, so a client that inflates slows
	// the server it measures. This one asks for gzip and reads the bytes as sent; the
	// first answer of each path is inflated once to check it is the same list.
	raw := client
	asSentProbes := func(path string) func() error {
		return asSent(ctx, raw, srv.URL+path, func(plain []byte) error {
			if !bytes.Contains(plain, []byte(fmt.Sprintf(`"count":%d,`, n))) {
				return fmt.Errorf("no count of %d portals in %.200s", n, plain)
			}
			return nil
		})
	}
	load("GET /api/v1/probes, nothing arriving, gzip read as sent (inflating left to the client's machine)", requests, asSentProbes("/api/v1/probes"))
	load("GET /api/v1/probes?limit=5000, nothing arriving, gzip read as sent", requests, asSentProbes("/api/v1/probes?limit=5000"))
	client = plainClient
	// Results arriving as the scheduler's sink writes them at national scale: every
	// second, a batch of n/60 (each portal once a minute); each batch moves the version.
	arriving, stop := context.WithCancel(ctx)
	var writes sync.WaitGroup
	writes.Add(1)
	go func() {
		defer writes.Done()
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		next := 0
		for {
			select {
			case <-arriving.Done():
				return
			case <-tick.C:
			}
			at := clock().Add(time.Second)
			now.Store(at.UnixNano())
			batch := make([]indicators.ProbeResult, 0, n/60+1)
			for range n/60 + 1 {
				batch = append(batch, indicators.ProbeResult{Target: fmt.Sprintf("https://p%05d.gov.vn/", next%n), Agency: "VN", Time: at,
					Success: true, HTTPStatus: 200, Phases: map[string]float64{"total": 0.2}})
				next++
			}
			if err := st.WriteProbeResults(ctx, batch); err != nil {
				log.Fatal(err)
			}
		}
	}()
	load(fmt.Sprintf("GET /api/v1/probes while %d results arrive every second", n/60+1), requests, page("/api/v1/probes"))
	load(fmt.Sprintf("GET /api/v1/probes while %d results arrive every second, gzip read as sent", n/60+1), requests, asSentProbes("/api/v1/probes"))
	stop()
	writes.Wait()
	fmt.Println()
	answerSizes(ctx, srv.URL, "/api/v1/probes", "/api/v1/probes?limit=5000")
}

func generateProbes(ctx context.Context, st probeWriter, path string, n, days int, every time.Duration, end time.Time) {
	start := end.AddDate(0, 0, -days)
	rng := rand.New(rand.NewPCG(1, 2))
	t0 := time.Now()
	var batch []indicators.ProbeResult
	written := 0
	// Each portal's results are spread over the interval, as the scheduler spreads them.
	for at := start; at.Before(end); at = at.Add(every) {
		for i := range n {
			r := indicators.ProbeResult{Target: fmt.Sprintf("https://p%05d.gov.vn/", i), Agency: "VN",
				Time: at.Add(time.Duration(int64(every) * int64(i) / int64(n))), Success: rng.IntN(50) != 0, HTTPStatus: 200,
				Phases: map[string]float64{"resolve": 0.002, "connect": 0.01, "tls": 0.03, "processing": 0.05, "total": 0.05 + rng.Float64()*0.5}}
			if !r.Success {
				r.HTTPStatus, r.Error, r.Phases = 0, "timeout", nil
			}
			batch = append(batch, r)
			if len(batch) == 2000 {
				if err := st.WriteProbeResults(ctx, batch); err != nil {
					log.Fatal(err)
				}
				written += len(batch)
				batch = batch[:0]
			}
		}
	}
	if len(batch) > 0 {
		if err := st.WriteProbeResults(ctx, batch); err != nil {
			log.Fatal(err)
		}
		written += len(batch)
	}
	took := time.Since(t0)
	fi, _ := os.Stat(path)
	fmt.Printf("%d results written in %s (%.0f/s, batches of 2,000 with the windows kept), file %d MB\n\n",
		written, took.Round(time.Second), float64(written)/took.Seconds(), fileMB(path, fi))
}

// answerSizes prints the size of each answer plain and as sent to a client that
// accepts gzip.
func answerSizes(ctx context.Context, base string, paths ...string) {
	raw := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	for _, p := range paths {
		var sizes [2]int
		for i, ae := range []string{"identity", "gzip"} {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+p, nil)
			if err != nil {
				log.Fatal(err)
			}
			req.Header.Set("Accept-Encoding", ae)
			resp, err := raw.Do(req)
			if err != nil {
				log.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			sizes[i] = len(b)
		}
		fmt.Printf("(%s: %d KB plain, %d KB as sent to a client that accepts gzip)\n\n", p, sizes[0]>>10, sizes[1]>>10)
	}
}

// asSent GETs url asking for gzip with a client that does not inflate (c must have
// DisableCompression), as a browser on another machine takes the bytes and inflates
// them on its own CPU: here the clients share the server's cores, and an inflating
// client slows the server it measures. The first answer is inflated once and given
// to check.
func asSent(ctx context.Context, c *http.Client, url string, check func(plain []byte) error) func() error {
	var checked sync.Once
	var checkErr error
	return func() error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		req.Header.Set("Accept-Encoding", "gzip")
		resp, err := c.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			return err
		}
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Encoding") != "gzip" {
			return fmt.Errorf("GET %s: %s, Content-Encoding %q", url, resp.Status, resp.Header.Get("Content-Encoding"))
		}
		checked.Do(func() {
			zr, err := gzip.NewReader(bytes.NewReader(body))
			if err == nil {
				var plain []byte
				if plain, err = io.ReadAll(zr); err == nil {
					err = check(plain)
				}
			}
			if err != nil {
				checkErr = fmt.Errorf("GET %s: %w", url, err)
			}
		})
		return checkErr
	}
}

// get GETs url and returns a 200 answer's body.
// probesPage asks for the first page of the probe list and checks that it counts every
// portal.
func probesPage(ctx context.Context, c *http.Client, base string, portals int) func() error {
	return func() error {
		body, err := get(ctx, c, base+"/api/v1/probes")
		if err != nil {
			return err
		}
		if !bytes.Contains(body, []byte(fmt.Sprintf(`"count":%d,`, portals))) {
			return fmt.Errorf("no count of %d portals in %.200s", portals, body)
		}
		return nil
	}
}

func get(ctx context.Context, c *http.Client, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s: %.500s", url, resp.Status, b)
	}
	return b, err
}

func fileMB(path string, fi os.FileInfo) int64 {
	size := int64(0)
	if fi != nil {
		size = fi.Size()
	}
	if wal, err := os.Stat(path + "-wal"); err == nil {
		size += wal.Size()
	}
	return size >> 20
}

// historyOnly hides the store's figures version: a Service over it rolls up the whole
// history on every request, as every read did before the figures were kept.
type historyOnly struct{ s query.Reader }

func (h historyOnly) Observations(ctx context.Context, q store.Query) ([]indicators.Observation, error) {
	return h.s.Observations(ctx, q)
}

// nation is the country, 34 provinces and fraction of 3,300 communes.
func nation(fraction float64) (*indicators.Registry, int) {
	communes := int(3300 * fraction)
	list := []*indicators.Agency{{Code: "VN", NameVI: "Việt Nam", NameEN: "Viet Nam", Kind: indicators.KindNational}}
	for p := 1; p <= 34; p++ {
		list = append(list, &indicators.Agency{Code: fmt.Sprintf("P%02d", p), NameVI: fmt.Sprintf("Tỉnh %d", p), NameEN: fmt.Sprintf("Province %d", p), Kind: indicators.KindProvince, Parent: "VN"})
	}
	for c := range communes {
		list = append(list, &indicators.Agency{Code: fmt.Sprintf("X%04d", c), NameVI: fmt.Sprintf("Xã %d", c), NameEN: fmt.Sprintf("Commune %d", c), Kind: indicators.KindCommune, Parent: fmt.Sprintf("P%02d", 1+c%34)})
	}
	reg, err := indicators.NewRegistry(list)
	if err != nil {
		log.Fatal(err)
	}
	return reg, communes
}

// obsEnd is the clock of the observation data set: the history ends before it.
var obsEnd = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

func openObservations(ctx context.Context, path string) *sqlite.Store {
	// Published as stored (submissions.approval: automatic), so the public view sees it.
	st, err := sqlite.Open(ctx, path, sqlite.WithClock(func() time.Time { return obsEnd }), sqlite.WithAutoApprove(true))
	if err != nil {
		log.Fatal(err)
	}
	return st
}

// generateObservations fills the store through the bulk loader (as `goc import` does),
// one transaction for every 200,000 observations.
func generateObservations(ctx context.Context, st store.Store, cat *indicators.Catalogue, communes, months int) int {
	var monthly []string
	for _, ind := range cat.All() {
		if ind.ReportedAt(indicators.Commune) && ind.Periodicity == period.Month {
			monthly = append(monthly, ind.Code)
		}
	}
	rng := rand.New(rand.NewPCG(3, 4))
	first := obsEnd.AddDate(0, -months, 0)
	var bulk store.Bulk
	staged, written := 0, 0
	var batch []indicators.Observation
	flush := func(commit bool) {
		if bl, ok := st.(store.BulkLoader); !ok && len(batch) > 0 {
			// A store without a bulk loader (InfluxDB) takes the batch as a submission.
			if _, err := st.WriteObservations(ctx, batch); err != nil {
				log.Fatal(err)
			}
			written += len(batch)
			batch = batch[:0]
		} else if len(batch) > 0 {
			if bulk == nil {
				b, err := bl.BeginBulk(ctx)
				if err != nil {
					log.Fatal(err)
				}
				bulk = b
			}
			if err := bulk.Write(ctx, batch); err != nil {
				log.Fatal(err)
			}
			staged += len(batch)
			batch = batch[:0]
		}
		if bulk != nil && (commit || staged >= 200_000) {
			n, err := bulk.Commit()
			if err != nil {
				log.Fatal(err)
			}
			written += n
			bulk, staged = nil, 0
		}
	}
	ratio := func(code, agency string, p period.Period) indicators.Observation {
		den := float64(50 + rng.IntN(500))
		num := float64(rng.IntN(int(den) + 1))
		return indicators.Observation{SeriesKey: indicators.SeriesKey{Indicator: code, Agency: agency, Period: p},
			Value: 100 * num / den, Numerator: &num, Denominator: &den, Source: indicators.FromSubmission, Submitter: "bench",
			ReceivedAt: p.End(nil).Add(72 * time.Hour)}
	}
	for m := first; m.Before(obsEnd); m = m.AddDate(0, 1, 0) {
		pm := period.Period{Kind: period.Month, Year: m.Year(), Index: int(m.Month())}
		for c := range communes {
			agency := fmt.Sprintf("X%04d", c)
			for _, code := range monthly {
				o := ratio(code, agency, pm)
				if code == "portal_latency_median" { // a weighted mean: value and weight
					w := float64(1 + rng.IntN(5))
					o.Value, o.Numerator, o.Denominator = 0.2+rng.Float64(), nil, &w
				}
				batch = append(batch, o)
			}
			if m.Month()%3 == 0 {
				batch = append(batch, ratio("work_records_online", agency, period.Period{Kind: period.Quarter, Year: m.Year(), Index: int(m.Month()) / 3}))
			}
			if len(batch) >= 10_000 {
				flush(false)
			}
		}
	}
	flush(true)
	return written
}

func observations(ctx context.Context, path string, fraction float64, months, requests int, reuse, warmOnly bool) {
	reg, communes := nation(fraction)
	cat := indicators.DefaultCatalogue()
	fmt.Printf("### Observations: %d communes (%.0f%% of 3,300) in 34 provinces, %d months\n\n", communes, 100*fraction, months)
	fresh := !(reuse && exists(path))
	st := openObservations(ctx, path)
	defer st.Close()
	if fresh {
		t0 := time.Now()
		written := generateObservations(ctx, st, cat, communes, months)
		took := time.Since(t0)
		fi, _ := os.Stat(path)
		fmt.Printf("%d observations written in %s (%.0f/s, through the bulk loader, 200,000 a transaction), file %d MB\n\n",
			written, took.Round(time.Second), float64(written)/took.Seconds(), fileMB(path, fi))
	} else {
		fi, _ := os.Stat(path)
		fmt.Printf("reused %s, file %d MB\n\n", path, fileMB(path, fi))
	}

	clock := func() time.Time { return obsEnd }
	on := obsEnd
	const code = "portal_uptime"
	// Each "cold" request gets a Service of its own: the first request after a start.
	header()
	slow(warmOnly, "progress of every agency on one indicator, cold (first request)", func() error {
		_, err := query.New(st, cat, reg, clock).PublicView().ProgressOfAll(ctx, code, 2025, on)
		return err
	})
	kept := query.New(st, cat, reg, clock).PublicView()
	load("progress of every agency on one indicator, warm", requests, func() error {
		_, err := kept.ProgressOfAll(ctx, code, 2025, on)
		return err
	})
	load("national progress of one indicator, warm", requests, func() error {
		_, err := kept.Progress(ctx, code, "VN", 2025, "")
		return err
	})
	rankReq := query.RankingRequest{Group: indicators.Provinces, Period: period.Period{Kind: period.Year, Year: 2025, Index: 1}, Method: indicators.DefaultRankingMethod(), Trends: true}
	slow(warmOnly, "rankings of the provinces with trends, cold (first request)", func() error {
		_, err := query.New(st, cat, reg, clock).PublicView().Ranking(ctx, rankReq)
		return err
	})
	load("rankings of the provinces with trends, kept", requests, func() error {
		_, err := kept.Ranking(ctx, rankReq)
		return err
	})
	withProvenance := rankReq
	withProvenance.Provenance = true
	slow(warmOnly, "rankings with provenance (the workbook's), computed each time", func() error {
		_, err := kept.Ranking(ctx, withProvenance)
		return err
	})
	load("card of a province, warm (its peer ranking kept)", requests, func() error {
		_, err := kept.AgencyCard(ctx, "P01", indicators.DefaultRankingMethod())
		return err
	})
	load("card of a commune, warm", requests, func() error {
		_, err := kept.AgencyCard(ctx, "X0001", indicators.DefaultRankingMethod())
		return err
	})
	// The ranking workbook over HTTP, as goc serve answers it: made once per figures
	// version, then the same bytes for every reader.
	srv := httptest.NewServer(api.New(api.Options{Query: kept, Writer: st, Pinger: st, Now: clock, Workbooks: apiparts.Workbooks{}}).Handler())
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}, Timeout: 10 * time.Minute}
	var size int
	workbook := func() error {
		n, err := download(ctx, client, srv.URL+"/api/v1/reports/ranking.xlsx?group=provinces&period=2025")
		size = n
		return err
	}
	loadBy("GET /api/v1/reports/ranking.xlsx (provinces 2025), first request", 1, []int{1}, workbook)
	fmt.Printf("\n(the workbook: %d KB)\n\n", size>>10)
	header()
	load("GET /api/v1/reports/ranking.xlsx (provinces 2025), kept", requests, workbook)
	progressOfAll := func() error {
		body, err := get(ctx, client, srv.URL+"/api/v1/progress?indicator="+code+"&agency=*&year=2025")
		if err != nil {
			return err
		}
		if !bytes.Contains(body, []byte(`"X0001"`)) {
			return fmt.Errorf("no X0001 in the progress of every agency: %.200s", body)
		}
		return nil
	}
	load("GET /api/v1/progress?agency=* (every agency on one indicator), kept", requests, progressOfAll)
	gzipping := client
	client = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true}, Timeout: 10 * time.Minute}
	load("GET /api/v1/progress?agency=*, kept, a client that does not accept gzip", requests, progressOfAll)
	client = gzipping
	load("GET /api/v1/progress?agency=*, kept, gzip read as sent (inflating left to the client's machine)", requests,
		asSent(ctx, &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true}, Timeout: 10 * time.Minute},
			srv.URL+"/api/v1/progress?indicator="+code+"&agency=*&year=2025", func(plain []byte) error {
				if !bytes.Contains(plain, []byte(`"X0001"`)) {
					return fmt.Errorf("no X0001 in the progress of every agency: %.200s", plain)
				}
				return nil
			}))
	defer answerSizes(ctx, srv.URL, "/api/v1/progress?indicator="+code+"&agency=*&year=2025")
	load("GET /api/v1/progress (national progress of one indicator), kept", requests, func() error {
		_, err := get(ctx, client, srv.URL+"/api/v1/progress?indicator="+code+"&year=2025")
		return err
	})
	plain := query.New(historyOnly{st}, cat, reg, clock).PublicView()
	slow(warmOnly, "progress of every agency on one indicator, rolled up from history each time", func() error {
		_, err := plain.ProgressOfAll(ctx, code, 2025, on)
		return err
	})
	slow(warmOnly, "national progress of one indicator, rolled up from history each time", func() error {
		_, err := plain.Progress(ctx, code, "VN", 2025, "")
		return err
	})
	fmt.Println()
}

// download GETs url and returns the size of a 200 answer.
func download(ctx context.Context, c *http.Client, url string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	n, err := io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return int(n), err
}

// workbookAlone makes the provinces' ranking workbook once as `goc report ranking`
// does (ranking with provenance and trends, then the workbook written out), in a
// process that does nothing else, and prints its time, CPU and peak RSS.
func workbookAlone(ctx context.Context, path string, fraction float64, months int, cpuProfile string) {
	if !exists(path) {
		log.Fatalf("-only workbook needs %s from an earlier run with -keep", path)
	}
	reg, communes := nation(fraction)
	st := openObservations(ctx, path)
	defer st.Close()
	fi, _ := os.Stat(path)
	fmt.Printf("### Ranking workbook of the provinces, alone in a process: %d communes (%.0f%%), %d months, file %d MB\n\n",
		communes, 100*fraction, months, fileMB(path, fi))
	q := query.New(st, indicators.DefaultCatalogue(), reg, func() time.Time { return obsEnd }).PublicView()
	if cpuProfile != "" {
		pf, err := os.Create(cpuProfile)
		if err != nil {
			log.Fatal(err)
		}
		if err := pprof.StartCPUProfile(pf); err != nil {
			log.Fatal(err)
		}
		defer pprof.StopCPUProfile()
	}
	cpu0, t0 := cpuSeconds(), time.Now()
	rep, err := q.Ranking(ctx, query.RankingRequest{Group: indicators.Provinces, Period: period.Period{Kind: period.Year, Year: 2025, Index: 1},
		Method: indicators.DefaultRankingMethod(), Trends: true, Provenance: true})
	if err != nil {
		log.Fatal(err)
	}
	ranked := time.Since(t0)
	f, err := reports.RankingWorkbook(rep, nil)
	if err != nil {
		log.Fatal(err)
	}
	cw := &countingWriter{}
	if err := f.Write(cw); err != nil {
		log.Fatal(err)
	}
	f.Close()
	fmt.Println("| step | time | CPU (s) | peak RSS (MB) |")
	fmt.Println("|---|---|---|---|")
	fmt.Printf("| ranking with provenance and trends (%d provenance rows) | %s | | |\n", len(rep.Provenance), ms(ranked))
	fmt.Printf("| and the workbook written (%d KB) | %s | %.1f | %d |\n", cw.n>>10, ms(time.Since(t0)), cpuSeconds()-cpu0, peakRSSMB())
	pprof.StopCPUProfile() // the profile is the workbook's alone, not the rows below

	// Then the first rankings a server answers: after a restart (a new Service on the
	// same store: nothing computed is left in memory, but a store that keeps its
	// figures on disk has them, the workbook's included), and after one new value (a
	// commune's 2025-06 portal_uptime, a new revision, published).
	fmt.Println("| then: | | | |")
	req := query.RankingRequest{Group: indicators.Provinces, Period: period.Period{Kind: period.Year, Year: 2025, Index: 1},
		Method: indicators.DefaultRankingMethod(), Trends: true}
	timed := func(name string, f func() error) {
		cpu0, t0 := cpuSeconds(), time.Now()
		if err := f(); err != nil {
			log.Fatalf("%s: %v", name, err)
		}
		fmt.Printf("| %s | %s | %.2f | %d |\n", name, ms(time.Since(t0)), cpuSeconds()-cpu0, peakRSSMB())
	}
	rankOnce := func() error { _, err := q.Ranking(ctx, req); return err }
	q = query.New(st, indicators.DefaultCatalogue(), reg, func() time.Time { return obsEnd }).PublicView()
	timed("rankings of the provinces with trends, first request after a restart", rankOnce)
	timed("the same again (kept)", rankOnce)
	// A value not stored before, so that it is a new revision whatever earlier runs wrote.
	den, num := 1000.0, float64(time.Now().UnixNano()%1000)
	o := indicators.Observation{SeriesKey: indicators.SeriesKey{Indicator: "portal_uptime", Agency: "X0001", Period: period.Period{Kind: period.Month, Year: 2025, Index: 6}},
		Value: 100 * num / den, Numerator: &num, Denominator: &den, Source: indicators.FromSubmission, Submitter: "bench"}
	if _, err := st.WriteObservations(ctx, []indicators.Observation{o}); err != nil {
		log.Fatal(err)
	}
	timed("rankings of the provinces with trends, first request after one new value", rankOnce)
	// Then every indicator's yearly figures kept in memory (goc serve's warm-up), and
	// the first ranking and workbook after them.
	timed("every indicator's yearly figures kept in memory (goc serve's warm-up, figures part)", func() error {
		for _, ind := range indicators.DefaultCatalogue().All() {
			if _, err := q.ProgressOfAll(ctx, ind.Code, 2025, obsEnd); err != nil {
				return err
			}
		}
		return nil
	})
	// Another method, so that the ranking asked is not the one kept above.
	req.Method.MaxMissingShare = 0.25
	timed("rankings of the provinces with trends, every figure kept in memory, ranking not", rankOnce)
	req.Provenance = true
	timed("the workbook, every figure kept in memory (ranking with provenance and trends, written)", func() error {
		rep, err := q.Ranking(ctx, req)
		if err != nil {
			return err
		}
		f, err := reports.RankingWorkbook(rep, nil)
		if err != nil {
			return err
		}
		defer f.Close()
		return f.Write(&countingWriter{})
	})
	fmt.Println()
}

type countingWriter struct{ n int }

func (c *countingWriter) Write(b []byte) (int, error) { c.n += len(b); return len(b), nil }

func header() {
	if *influxdPID > 0 {
		fmt.Println("| read | clients | requests | p50 | p99 | CPU (s) | influxd CPU (s) | peak RSS (MB) |")
		fmt.Println("|---|---|---|---|---|---|---|---|")
		return
	}
	fmt.Println("| read | clients | requests | p50 | p99 | CPU (s) | peak RSS (MB) |")
	fmt.Println("|---|---|---|---|---|---|---|")
}

// load runs f requests times by 1 and by 50 readers and prints a row for each. A
// "warm" or "kept" row is first asked once, untimed, so that its rows measure what is
// kept and not the one computation that keeps it (the cold rows measure that).
func load(name string, requests int, f func() error) {
	if strings.Contains(name, "warm") || strings.Contains(name, ", kept") {
		if err := f(); err != nil {
			log.Fatalf("%s: %v", name, err)
		}
	}
	loadBy(name, requests, []int{1, 50}, f)
}

// loadBy runs f requests times by each number of readers and prints a row for each.
func loadBy(name string, requests int, readers []int, f func() error) {
	for _, clients := range readers {
		n := requests
		if clients == 50 {
			n = max(requests, 50)
		}
		cpu0, server0 := cpuSeconds(), processCPU(*influxdPID)
		var mu sync.Mutex
		var lat []time.Duration
		var wg sync.WaitGroup
		next := make(chan struct{}, n)
		for range n {
			next <- struct{}{}
		}
		close(next)
		for range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range next {
					t := time.Now()
					if err := f(); err != nil {
						log.Fatalf("%s: %v", name, err)
					}
					d := time.Since(t)
					mu.Lock()
					lat = append(lat, d)
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		slices.Sort(lat)
		server := ""
		if *influxdPID > 0 {
			server = fmt.Sprintf(" %.1f |", processCPU(*influxdPID)-server0)
		}
		fmt.Printf("| %s | %d | %d | %s | %s | %.1f |%s %d |\n", name, clients, n, ms(lat[len(lat)/2]), ms(lat[(len(lat)*99)/100]), cpuSeconds()-cpu0, server, peakRSSMB())
	}
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

// processCPU is another process's user+system CPU in seconds, from /proc (0 when pid
// is 0 or cannot be read).
func processCPU(pid int) float64 {
	if pid <= 0 {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name, in parentheses, may hold spaces: fields count from after it.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	if len(f) < 13 {
		return 0
	}
	var utime, stime float64
	fmt.Sscan(f[11], &utime)
	fmt.Sscan(f[12], &stime)
	return (utime + stime) / 100 // USER_HZ, 100 on Linux
}

func peakRSSMB() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			var kb int64
			fmt.Sscanf(strings.TrimSpace(strings.TrimPrefix(line, "VmHWM:")), "%d", &kb)
			return kb >> 10
		}
	}
	return 0
}

type probeWriter interface {
	WriteProbeResults(ctx context.Context, rs []indicators.ProbeResult) error
}

// influxRun fills an InfluxDB 1.8 through G-OC's store (spool, then the server) with
// the observation data set and one result per portal, or reuses what an earlier run
// left (-reuse: the spool in dir and the database it describes), and measures the same
// reads as on SQLite: cold (a Service of its own, the first request after a start),
// warm (figures and rankings kept per the store's figures version), over HTTP (answers
// kept per version), and rolled up from history each time (a reader that hides the
// version, as every read was before the InfluxDB store had one).
func influxRun(ctx context.Context, url, dir string, fraction float64, months, portals, requests int, reuse, warmOnly, fillOnly bool) {
	reg, communes := nation(fraction)
	cat := indicators.DefaultCatalogue()
	clock := func() time.Time { return obsEnd }
	spool := filepath.Join(dir, "spool.db")
	fresh := !(reuse && exists(spool))
	st, err := influx.Open(ctx, influx.Options{URL: url, Bucket: "goc/autogen", Spool: spool, Now: clock, AutoApprove: true})
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()
	fmt.Printf("### InfluxDB 1.8.10: %d communes (%.1f%% of 3,300) in 34 provinces, %d months; %d portals\n\n", communes, 100*fraction, months, portals)
	if fresh {
		t0 := time.Now()
		written := generateObservations(ctx, st, cat, communes, months)
		if err := st.Flush(ctx); err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%d observations written and sent to InfluxDB in %s (%.0f/s)\n\n", written, time.Since(t0).Round(time.Second), float64(written)/time.Since(t0).Seconds())
		generateProbes(ctx, st, spool, portals, 1, 12*time.Hour, obsEnd)
		if err := st.Flush(ctx); err != nil {
			log.Fatal(err)
		}
	} else {
		fmt.Printf("reused %s and the database it describes\n\n", spool)
	}
	if fillOnly {
		return
	}
	_, versioned := any(st).(store.FiguresVersioner)
	fmt.Printf("the store keeps a figures version: %v\n\n", versioned)
	const code = "portal_uptime"
	on := obsEnd
	header()
	slow(warmOnly, "progress of every agency on one indicator, cold (first request)", func() error {
		_, err := query.New(st, cat, reg, clock).PublicView().ProgressOfAll(ctx, code, 2025, on)
		return err
	})
	kept := query.New(st, cat, reg, clock).PublicView()
	load("progress of every agency on one indicator, warm", requests, func() error {
		_, err := kept.ProgressOfAll(ctx, code, 2025, on)
		return err
	})
	// The public reads published values, which the spool keeps; a reviewer reads every
	// newest revision, which comes from InfluxDB through Flux (merged with the spool).
	slow(warmOnly, "progress of every agency, a reviewer's view (latest through Flux), cold (first request)", func() error {
		_, err := query.New(st, cat, reg, clock).For(query.Audience{All: true}).ProgressOfAll(ctx, code, 2025, on)
		return err
	})
	// What goc serve does at start, then the first requests after it.
	warmed := query.New(st, cat, reg, clock)
	slow1(warmOnly, "the warm-up goc serve runs at start (every indicator's figures for the public and for a reviewer, last year's rankings)", func() error {
		return warmed.WarmUp(ctx, indicators.DefaultRankingMethod())
	})
	slow1(warmOnly, "progress of every agency, a reviewer's view, first request after the warm-up", func() error {
		_, err := warmed.For(query.Audience{All: true}).ProgressOfAll(ctx, code, 2025, on)
		return err
	})
	reviewer := query.New(st, cat, reg, clock).For(query.Audience{All: true})
	load("progress of every agency, a reviewer's view (latest through Flux), warm", requests, func() error {
		_, err := reviewer.ProgressOfAll(ctx, code, 2025, on)
		return err
	})
	load("national progress of one indicator, warm", requests, func() error {
		_, err := kept.Progress(ctx, code, "VN", 2025, "")
		return err
	})
	rankReq := query.RankingRequest{Group: indicators.Provinces, Period: period.Period{Kind: period.Year, Year: 2025, Index: 1},
		Method: indicators.DefaultRankingMethod(), Trends: true}
	slow(warmOnly, "rankings of the provinces with trends, cold (first request)", func() error {
		_, err := query.New(st, cat, reg, clock).PublicView().Ranking(ctx, rankReq)
		return err
	})
	load("rankings of the provinces with trends, kept", requests, func() error {
		_, err := kept.Ranking(ctx, rankReq)
		return err
	})
	load("card of a province, warm (its peer ranking kept)", requests, func() error {
		_, err := kept.AgencyCard(ctx, "P01", indicators.DefaultRankingMethod())
		return err
	})
	load("card of a commune, warm", requests, func() error {
		_, err := kept.AgencyCard(ctx, "X0001", indicators.DefaultRankingMethod())
		return err
	})
	srv := httptest.NewServer(api.New(api.Options{Query: kept, Writer: st, Pinger: st, Now: clock, ProbeListStale: 10 * time.Second,
		Workbooks: apiparts.Workbooks{}}).Handler())
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}, Timeout: 10 * time.Minute}
	load("GET /api/v1/progress?agency=* (every agency on one indicator), kept", requests, func() error {
		body, err := get(ctx, client, srv.URL+"/api/v1/progress?indicator="+code+"&agency=*&year=2025")
		if err != nil {
			return err
		}
		if !bytes.Contains(body, []byte(`"X0001"`)) {
			return fmt.Errorf("no X0001 in the progress of every agency: %.200s", body)
		}
		return nil
	})
	workbook := func() error {
		_, err := download(ctx, client, srv.URL+"/api/v1/reports/ranking.xlsx?group=provinces&period=2025")
		return err
	}
	slow(warmOnly, "GET /api/v1/reports/ranking.xlsx (provinces 2025), first request", workbook)
	load("GET /api/v1/reports/ranking.xlsx (provinces 2025), kept", requests, workbook)
	load("GET /api/v1/probes (a page of 1,000, kept per probes version)", requests, probesPage(ctx, client, srv.URL, portals))
	// As the SQLite rows on a quiet machine: a client that takes the gzip bytes as sent
	// (a browser inflates them on its own machine).
	raw := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true}, Timeout: 10 * time.Minute}
	load("GET /api/v1/progress?agency=*, kept, gzip read as sent", requests, asSent(ctx, raw,
		srv.URL+"/api/v1/progress?indicator="+code+"&agency=*&year=2025", func(plain []byte) error {
			if !bytes.Contains(plain, []byte(`"X0001"`)) {
				return fmt.Errorf("no X0001 in the progress of every agency: %.200s", plain)
			}
			return nil
		}))
	load("GET /api/v1/probes (a page of 1,000, kept per probes version), gzip read as sent", requests, asSent(ctx, raw,
		srv.URL+"/api/v1/probes", func(plain []byte) error {
			if !bytes.Contains(plain, []byte(fmt.Sprintf(`"count":%d,`, portals))) {
				return fmt.Errorf("no count of %d portals in %.200s", portals, plain)
			}
			return nil
		}))
	plain := query.New(historyOnly{st}, cat, reg, clock).PublicView()
	slow(warmOnly, "progress of every agency on one indicator, rolled up from history each time", func() error {
		_, err := plain.ProgressOfAll(ctx, code, 2025, on)
		return err
	})
	slow(warmOnly, "national progress of one indicator, rolled up from history each time", func() error {
		_, err := plain.Progress(ctx, code, "VN", 2025, "")
		return err
	})
	fmt.Println()
}

// slow1 runs a row once (one reader, one request) unless skip.
func slow1(skip bool, name string, f func() error) {
	if !skip {
		loadBy(name, 1, []int{1}, f)
	}
}

// slow runs a cold or history row (one reader, three requests) unless skip.
func slow(skip bool, name string, f func() error) {
	if !skip {
		loadBy(name, 3, []int{1}, f)
	}
}
