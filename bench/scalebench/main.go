// Command scalebench fills a SQLite store with a national-size data set and measures
// the reads a page or report needs, at 1 and 50 concurrent readers, printing Markdown
// for BENCHMARKS.md. `go test ./...` never runs it.
//
//	go run ./bench/scalebench -dir /tmp/scale -fraction 0.25
//
// Two data sets, each in its own file under -dir (deleted at the end unless -keep):
//
//  1. Probes: -portals portals, one result every -every for -days days, written in
//     time order in batches of 2,000 as the scheduler's sink writes them. Read: the
//     status of every portal with its 24 h / 7 d / 30 d uptime and median latency
//     (query.LatestProbes, what /api/v1/probes and /status serve), encoded as JSON.
//  2. Observations: the country, 34 provinces and -fraction of 3,300 communes, each
//     commune reporting the 7 monthly portal indicators for -months months and the
//     quarterly work-records ratio (the commune-level indicators of the built-in
//     catalogue). Reads: progress of every agency on one indicator, national progress,
//     a province's card; each with the figures kept between requests (warm), on the
//     first request after a start (cold), and rolled up from history on every request
//     as before (history).
//
// Readers are goroutines in this process calling internal/query, as the HTTP handlers
// do, without the HTTP layer. CPU is this process's user+system time during a load;
// RSS is the process's peak (VmHWM), which includes the generator.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/indicators/period"
	"github.com/g-oc/goc/internal/query"
	"github.com/g-oc/goc/internal/store"
	"github.com/g-oc/goc/internal/store/sqlite"
)

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
	flag.Parse()
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
	if !*skipProbes {
		probes(ctx, filepath.Join(*dir, "probes.db"), *portals, *days, *every, *requests)
	}
	observations(ctx, filepath.Join(*dir, "obs.db"), *fraction, *months, *requests)
}

func probes(ctx context.Context, path string, n, days int, every time.Duration, requests int) {
	end := time.Now().UTC().Truncate(time.Minute)
	st, err := sqlite.Open(ctx, path, sqlite.WithClock(func() time.Time { return end }))
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()
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
	fmt.Printf("### Probes: %d portals, one result every %s for %d days\n\n", n, every, days)
	fmt.Printf("%d results written in %s (%.0f/s, batches of 2,000 with the windows kept), file %d MB\n\n",
		written, took.Round(time.Second), float64(written)/took.Seconds(), fileMB(path, fi))
	reg, err := indicators.NewRegistry([]*indicators.Agency{{Code: "VN", NameVI: "Việt Nam", NameEN: "Viet Nam", Kind: indicators.KindNational}})
	if err != nil {
		log.Fatal(err)
	}
	q := query.New(st, indicators.DefaultCatalogue(), reg, func() time.Time { return end })
	header()
	load("status of every portal (query.LatestProbes + JSON)", requests, func() error {
		rep, err := q.LatestProbes(ctx, query.ProbeFilter{})
		if err != nil {
			return err
		}
		if rep.Count != n || rep.Probes[0].Month.Probes == 0 {
			return fmt.Errorf("%d portals, first with %d probes in 30 d", rep.Count, rep.Probes[0].Month.Probes)
		}
		return json.NewEncoder(io.Discard).Encode(rep)
	})
	fmt.Println()
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
type historyOnly struct{ s *sqlite.Store }

func (h historyOnly) Observations(ctx context.Context, q store.Query) ([]indicators.Observation, error) {
	return h.s.Observations(ctx, q)
}

func observations(ctx context.Context, path string, fraction float64, months, requests int) {
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
	cat := indicators.DefaultCatalogue()
	var monthly []string
	for _, ind := range cat.All() {
		if ind.ReportedAt(indicators.Commune) && ind.Periodicity == period.Month {
			monthly = append(monthly, ind.Code)
		}
	}
	end := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	// Published as stored (submissions.approval: automatic), so the public view sees it.
	st, err := sqlite.Open(ctx, path, sqlite.WithClock(func() time.Time { return end }), sqlite.WithAutoApprove(true))
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()
	rng := rand.New(rand.NewPCG(3, 4))
	first := end.AddDate(0, -months, 0)
	t0 := time.Now()
	var batch []indicators.Observation
	written := 0
	flush := func() {
		if len(batch) == 0 {
			return
		}
		if _, err := st.WriteObservations(ctx, batch); err != nil {
			log.Fatal(err)
		}
		written += len(batch)
		batch = batch[:0]
	}
	ratio := func(code, agency string, p period.Period) indicators.Observation {
		den := float64(50 + rng.IntN(500))
		num := float64(rng.IntN(int(den) + 1))
		return indicators.Observation{SeriesKey: indicators.SeriesKey{Indicator: code, Agency: agency, Period: p},
			Value: 100 * num / den, Numerator: &num, Denominator: &den, Source: indicators.FromSubmission, Submitter: "bench"}
	}
	for m := first; m.Before(end); m = m.AddDate(0, 1, 0) {
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
			if len(batch) >= 5000 {
				flush()
			}
		}
	}
	flush()
	took := time.Since(t0)
	fi, _ := os.Stat(path)
	fmt.Printf("### Observations: %d communes (%.0f%% of 3,300) in 34 provinces, %d months\n\n", communes, 100*fraction, months)
	fmt.Printf("%d observations written in %s (%.0f/s, batches of 5,000), file %d MB\n\n", written, took.Round(time.Second), float64(written)/took.Seconds(), fileMB(path, fi))

	clock := func() time.Time { return end }
	on := end
	const code = "portal_uptime"
	// Each "cold" request gets a Service of its own: the first request after a start.
	header()
	load("progress of every agency on one indicator, cold (first request)", max(requests/20, 3), func() error {
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
	load("rankings of the provinces with trends, cold (first request)", max(requests/20, 3), func() error {
		_, err := query.New(st, cat, reg, clock).PublicView().Ranking(ctx, rankReq)
		return err
	})
	load("rankings of the provinces with trends, kept", requests, func() error {
		_, err := kept.Ranking(ctx, rankReq)
		return err
	})
	withProvenance := rankReq
	withProvenance.Provenance = true
	load("rankings with provenance (the workbook's), computed each time", max(requests/20, 3), func() error {
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
	plain := query.New(historyOnly{st}, cat, reg, clock).PublicView()
	load("progress of every agency on one indicator, rolled up from history each time", max(requests/20, 3), func() error {
		_, err := plain.ProgressOfAll(ctx, code, 2025, on)
		return err
	})
	load("national progress of one indicator, rolled up from history each time", max(requests/20, 3), func() error {
		_, err := plain.Progress(ctx, code, "VN", 2025, "")
		return err
	})
	fmt.Println()
}

func header() {
	fmt.Println("| read | clients | requests | p50 | p99 | CPU (s) | peak RSS (MB) |")
	fmt.Println("|---|---|---|---|---|---|---|")
}

// load runs f requests times by 1 and by 50 readers and prints a row for each.
func load(name string, requests int, f func() error) {
	for _, clients := range []int{1, 50} {
		n := requests
		if clients == 50 {
			n = max(requests, 50)
		}
		cpu0 := cpuSeconds()
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
		fmt.Printf("| %s | %d | %d | %s | %s | %.1f | %d |\n", name, clients, n, ms(lat[len(lat)/2]), ms(lat[(len(lat)*99)/100]), cpuSeconds()-cpu0, peakRSSMB())
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
