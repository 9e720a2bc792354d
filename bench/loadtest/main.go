// Command loadtest is the proof of issue 13: G-OC stays up, keeps its memory bounded and
// loses no acknowledged submission under hostile load. It builds an embedded store of
// -values observations, starts `goc serve` on loopback as a child process, and for
// -duration runs at once:
//
//   - -readers clients (tsenart/vegeta, as many requests as they can) reading every
//     public endpoint, including the largest history page and a whole-history export;
//   - -uploaders agencies each posting 5 MB CSV files back to back;
//   - -submitters agencies each posting small JSON submissions, remembering each one
//     the server acknowledged (201).
//
// It then stops the server, opens the store and checks every acknowledged value is
// there, and prints requests, p99 latency per endpoint, status counts, and the
// server's peak resident memory (VmHWM, as the kernel counts it). Everything runs on
// 127.0.0.1 and ends after -duration. scripts/bench-loadtest.sh builds and runs it;
// the results go in BENCHMARKS.md.
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/indicators/period"
	"github.com/g-oc/goc/internal/auth"
	"github.com/g-oc/goc/internal/store"
	"github.com/g-oc/goc/internal/store/approval"
	"github.com/g-oc/goc/internal/store/sqlite"
)

func main() {
	gocBin := flag.String("goc", "bin/goc", "the goc binary to run")
	dir := flag.String("dir", filepath.Join(os.TempDir(), "goc-loadtest"), "work folder: the store and config")
	values := flag.Int("values", 1_000_000, "observations in the store before the test")
	duration := flag.Duration("duration", 60*time.Second, "how long the load runs")
	readers := flag.Int("readers", 200, "concurrent readers")
	uploaders := flag.Int("uploaders", 20, "agencies uploading 5 MB files")
	submitters := flag.Int("submitters", 20, "agencies submitting small JSON")
	profile := flag.Bool("profile", false, "serve goc's profiles on loopback (goc serve --pprof) and keep the heap profile of the RSS peak in -dir")
	flag.Parse()
	if err := run(*gocBin, *dir, *values, *duration, *readers, *uploaders, *submitters, *profile); err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
}

// syntheticIndicators are real catalogue codes, so reads and exports that check codes
// against the catalogue accept them; agencies are synthetic (U00001...).
func syntheticIndicators(cat *indicators.Catalogue) []string {
	var out []string
	for _, ind := range cat.All() {
		out = append(out, ind.Code)
	}
	sort.Strings(out)
	return out[:min(10, len(out))]
}

const months = 96 // 2018-01 to 2025-12

// build fills the store with n monthly observations (10 indicators × agencies × 96
// months) through the bulk loader, unless it already holds them, and publishes them.
func build(ctx context.Context, path string, n int) error {
	marker := path + ".values"
	if b, err := os.ReadFile(marker); err == nil && strings.TrimSpace(string(b)) == strconv.Itoa(n) {
		return publish(ctx, path)
	}
	os.Remove(path)
	os.Remove(path + "-wal")
	os.Remove(path + "-shm")
	// Approved as loaded: the readers are the public, who see approved figures only.
	st, err := sqlite.Open(ctx, path, sqlite.WithAutoApprove(true))
	if err != nil {
		return err
	}
	defer st.Close()
	inds := syntheticIndicators(indicators.DefaultCatalogue())
	agencies := (n + len(inds)*months - 1) / (len(inds) * months)
	start := time.Now()
	const chunk = 200_000
	written := 0
	for written < n {
		b, err := st.BeginBulk(ctx)
		if err != nil {
			return err
		}
		batch := make([]indicators.Observation, 0, 20_000)
		end := min(n, written+chunk)
		for i := written; i < end; i++ {
			m := i % months
			rest := i / months
			ind := inds[rest%len(inds)]
			ag := rest / len(inds)
			p := period.Of(period.Month, time.Date(2018+m/12, time.Month(m%12+1), 1, 0, 0, 0, 0, time.UTC))
			num := float64(40 + (i*7)%50)
			batch = append(batch, indicators.Observation{
				SeriesKey: indicators.SeriesKey{Indicator: ind, Agency: fmt.Sprintf("U%05d", ag), Period: p},
				Value:     num, Numerator: new(num), Denominator: new(100.0),
				Source: indicators.FromSubmission, Submitter: "bench", ReceivedAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
			})
			if len(batch) == cap(batch) {
				if err := b.Write(ctx, batch); err != nil {
					b.Rollback()
					return err
				}
				batch = batch[:0]
			}
		}
		if err := b.Write(ctx, batch); err != nil {
			b.Rollback()
			return err
		}
		if _, err := b.Commit(); err != nil {
			return err
		}
		written = end
		fmt.Fprintf(os.Stderr, "store: %d of %d values (%d agencies), %s\n", written, n, agencies, time.Since(start).Round(time.Second))
	}
	if err := os.WriteFile(path+".published", nil, 0o600); err != nil {
		return err
	}
	return os.WriteFile(marker, []byte(strconv.Itoa(n)), 0o600)
}

// publish makes every loaded value public in a store built before the loader approved
// what it loads (the first runs measured public reads of a store with nothing
// published: every history page was an empty scan). It runs the SQL the store itself
// runs over data kept from before the review workflow (approval.PublishExisting),
// once per store.
func publish(ctx context.Context, path string) error {
	done := path + ".published"
	if _, err := os.Stat(done); err == nil {
		return nil
	}
	start := time.Now()
	db, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(60000)")
	if err != nil {
		return err
	}
	defer db.Close()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, approval.PublishExisting("latest", "observations")); err != nil {
		return fmt.Errorf("publish the loaded values: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "store: published every loaded value, %s\n", time.Since(start).Round(time.Second))
	return os.WriteFile(done, nil, 0o600)
}

type agencyToken struct {
	agency, token string
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func run(gocBin, dir string, values int, duration time.Duration, nReaders, nUploaders, nSubmitters int, profile bool) error {
	ctx := context.Background()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	dbPath := filepath.Join(dir, "goc.db")
	if err := build(ctx, dbPath, values); err != nil {
		return fmt.Errorf("build the store: %w", err)
	}
	// Tokens: the uploaders and submitters are provinces that exist today.
	reg := indicators.DefaultRegistry()
	var provinces []string
	for _, a := range reg.All() {
		if a.Kind == indicators.KindProvince && a.ActiveOn(time.Now()) {
			provinces = append(provinces, a.Code)
		}
	}
	var toks []agencyToken
	var cfgTokens strings.Builder
	for i := range nUploaders + nSubmitters {
		code := provinces[i%len(provinces)]
		tok, err := auth.NewToken()
		if err != nil {
			return err
		}
		toks = append(toks, agencyToken{code, tok})
		fmt.Fprintf(&cfgTokens, "  - {name: bench-%d, agency: %s, sha256: %s}\n", i, code, auth.Hash(tok))
	}
	addr, err := freeAddr()
	if err != nil {
		return err
	}
	// Every client is on 127.0.0.1, so the per-address write limit is raised to what
	// 40 agencies behind one address need; per-token limits stay at their defaults.
	cfg := fmt.Sprintf(`server:
  addr: %q
  writes_per_second_per_address: 1000
store: {path: goc.db}
collectors:
  probes: {summary: false}
tokens:
%s`, addr, cfgTokens.String())
	cfgPath := filepath.Join(dir, "goc.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		return err
	}
	args := []string{"serve", "--config", cfgPath}
	pprofBase := ""
	if profile {
		pa, err := freeAddr()
		if err != nil {
			return err
		}
		args = append(args, "--pprof", pa)
		pprofBase = "http://" + pa + "/debug/pprof/"
	}
	cmd := exec.Command(gocBin, args...)
	cmd.Stderr = io.Discard
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		return err
	}
	defer cmd.Process.Kill()
	base := "http://" + addr
	if err := waitReady(base, 2*time.Minute); err != nil {
		return err
	}
	rssStart := procKB(cmd.Process.Pid, "VmRSS")

	var samples []int64
	var atPeak peakProfile // with -profile: the heap when RSS was highest
	stopSampling := make(chan struct{})
	var sampling sync.WaitGroup
	sampling.Add(1)
	go func() {
		defer sampling.Done()
		t := time.NewTicker(500 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stopSampling:
				return
			case <-t.C:
				rss := procKB(cmd.Process.Pid, "VmRSS")
				samples = append(samples, rss)
				// A new high by 4 MiB or more: keep the heap profile of this moment.
				if pprofBase != "" && rss >= atPeak.rssKB+4<<10 {
					if p, err := takeHeapProfile(pprofBase, dir, rss); err == nil {
						atPeak = p
					} else {
						fmt.Fprintln(os.Stderr, "heap profile:", err)
					}
				}
			}
		}
	}()

	inds := syntheticIndicators(indicators.DefaultCatalogue())
	deep := deepCursor(base)
	reads := []string{
		"/healthz",
		"/api/v1/indicators",
		"/api/v1/agencies",
		"/api/v1/observations?history=true&limit=5000",                // the largest page
		"/api/v1/observations?history=true&limit=5000&cursor=" + deep, // deep in the store
		"/api/v1/observations?indicator=" + inds[0],
		"/api/v1/completeness?period=2026-Q3",
		"/api/v1/probes",
		"/api/v1/feeds",
		"/api/v1/reports/export.csv?indicator=" + inds[0] + "&from=2018&to=2025&history=true", // every row of one indicator
		"/metrics",
	}
	var targets []vegeta.Target
	for _, p := range reads {
		targets = append(targets, vegeta.Target{Method: http.MethodGet, URL: base + p})
	}
	atk := vegeta.NewAttacker(vegeta.Workers(uint64(nReaders)), vegeta.MaxWorkers(uint64(nReaders)),
		vegeta.Timeout(60*time.Second), vegeta.KeepAlive(true), vegeta.Connections(nReaders), vegeta.MaxBody(0))

	stats := newStats()
	deadline := time.Now().Add(duration)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for res := range atk.Attack(vegeta.NewStaticTargeter(targets...), vegeta.Rate{Freq: 0}, duration, "read") {
			u := strings.TrimPrefix(res.URL, base)
			stats.add(label(u), int(res.Code), res.Latency, res.Error)
		}
	}()

	upload := bigCSV(5 << 20)
	client := &http.Client{Timeout: 120 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 100}}
	for i := range nUploaders {
		wg.Add(1)
		go func(tok agencyToken) {
			defer wg.Done()
			for time.Now().Before(deadline) {
				start := time.Now()
				code, wait, err := post(client, base+"/api/v1/submissions", tok.token, "text/csv", upload)
				stats.add("POST submissions (5 MB CSV)", code, time.Since(start), errString(err))
				if wait > 0 && time.Now().Add(wait).Before(deadline) {
					time.Sleep(wait) // Retry-After, as a well-behaved client does
				}
			}
		}(toks[i])
	}
	var acked sync.Map // agency|numerator → true
	var ackCount atomic.Int64
	for i := range nSubmitters {
		wg.Add(1)
		go func(tok agencyToken, n int) {
			defer wg.Done()
			for k := 0; time.Now().Before(deadline); k++ {
				num := 4000 + (n*997+k)%2000 // 40-60%: a plausible figure
				body := fmt.Sprintf(`{"agency":%q,"period":"2026-Q3","values":[{"indicator":"dossiers_fully_online","numerator":%d,"denominator":10000}]}`, tok.agency, num)
				start := time.Now()
				code, wait, err := post(client, base+"/api/v1/submissions?confirm_outliers=true", tok.token, "application/json", []byte(body))
				stats.add("POST submissions (small JSON)", code, time.Since(start), errString(err))
				if code == http.StatusCreated {
					acked.Store(tok.agency+"|"+strconv.Itoa(num), true)
					ackCount.Add(1)
				}
				if wait > 0 && time.Now().Add(wait).Before(deadline) {
					time.Sleep(wait)
				}
			}
		}(toks[nUploaders+i], i)
	}
	wg.Wait()
	close(stopSampling)
	sampling.Wait()
	peak := procKB(cmd.Process.Pid, "VmHWM")
	rssEnd := procKB(cmd.Process.Pid, "VmRSS")
	goMem := goMemory(base)
	cmd.Process.Signal(os.Interrupt)
	cmd.Wait()

	// Every acknowledged submission must be in the store.
	st, err := sqlite.Open(ctx, dbPath)
	if err != nil {
		return err
	}
	stored := map[string]bool{}
	hist, err := st.Observations(ctx, store.Query{History: true, Indicators: []string{"dossiers_fully_online"}})
	st.Close()
	if err != nil {
		return err
	}
	for _, o := range hist {
		if o.Numerator != nil {
			stored[o.Agency+"|"+strconv.Itoa(int(*o.Numerator))] = true
		}
	}
	missing := 0
	acked.Range(func(k, _ any) bool {
		if !stored[k.(string)] {
			missing++
		}
		return true
	})
	stats.print(os.Stdout, values, duration, nReaders, nUploaders, nSubmitters)
	fmt.Printf("\nserver RSS: %d MiB at start, peak (VmHWM) %d MiB, %d MiB at the end; samples every 0.5 s, max %d MiB\n",
		rssStart>>10, peak>>10, rssEnd>>10, slices.Max(append(samples, 0))>>10)
	if atPeak.rssKB > 0 {
		fmt.Printf("at the highest RSS sampled (%d MiB): Go heap in use %d MiB, idle not returned %d MiB; Go runtime's memory in all (Sys - HeapReleased) %d MiB; the rest, %d MiB, is outside the Go runtime (SQLite's allocations through modernc libc, code); profile %s\n",
			atPeak.rssKB>>10, atPeak.heapInuse>>20, (atPeak.heapIdle-atPeak.heapReleased)>>20, (atPeak.sys-atPeak.heapReleased)>>20,
			atPeak.rssKB>>10-(atPeak.sys-atPeak.heapReleased)>>20, atPeak.file)
	}
	inuse, idle, released := goMem["go_memstats_heap_inuse_bytes"], goMem["go_memstats_heap_idle_bytes"], goMem["go_memstats_heap_released_bytes"]
	fmt.Printf("at the end, from /metrics: Go heap in use %d MiB, idle but not yet returned to the OS %d MiB; the rest of RSS is SQLite's caches, stacks and code\n",
		int64(inuse)>>20, int64(idle-released)>>20)
	fmt.Printf("acknowledged submissions (201): %d; found in the store after: %d; missing: %d\n",
		ackCount.Load(), ackCount.Load()-int64(missing), missing)
	if missing > 0 {
		return fmt.Errorf("%d acknowledged submissions are not in the store", missing)
	}
	return nil
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// label names an endpoint in the report: its path and the parameters that change its
// cost.
func label(u string) string {
	switch {
	case strings.Contains(u, "cursor="):
		return "GET /api/v1/observations?history=true&limit=5000&cursor=(deep)"
	case strings.Contains(u, "export.csv"):
		return "GET /api/v1/reports/export.csv (one indicator, whole history)"
	}
	return "GET " + u
}

// deepCursor walks a few pages of history to get a cursor far into the store.
func deepCursor(base string) string {
	cursor := ""
	for range 20 {
		u := base + "/api/v1/observations?history=true&limit=5000"
		if cursor != "" {
			u += "&cursor=" + cursor
		}
		resp, err := http.Get(u)
		if err != nil {
			return cursor
		}
		var body struct {
			Next string `json:"next"`
		}
		json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if body.Next == "" {
			return cursor
		}
		cursor = body.Next
	}
	return cursor
}

// bigCSV is a CSV submission of about size bytes: rows for agencies no province
// covers, so the server reads and checks every row (the memory an upload costs) and
// answers 422 without storing anything.
func bigCSV(size int) []byte {
	var b bytes.Buffer
	b.WriteString("agency,period,indicator,value,numerator,denominator\n")
	for i := 0; b.Len() < size; i++ {
		// About 60 bytes a row: 5 MB stays under the API's 100,000 rows.
		fmt.Fprintf(&b, "X%012d,2026-Q3,dossiers_fully_online,,%d,1000000\n", i, 400000+i%1000)
	}
	return b.Bytes()
}

func post(c *http.Client, url, token, ctype string, body []byte) (code int, retryAfter time.Duration, err error) {
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", ctype)
	var key [8]byte
	rand.Read(key[:])
	req.Header.Set("Idempotency-Key", hex.EncodeToString(key[:]))
	resp, err := c.Do(req)
	if err != nil {
		return 0, 0, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil {
		retryAfter = time.Duration(s) * time.Second
	}
	return resp.StatusCode, retryAfter, nil
}

func waitReady(base string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	return errors.New("goc serve did not become ready")
}

// goMemory reads the Go runtime's memory gauges from the server's /metrics.
func goMemory(base string) map[string]float64 {
	out := map[string]float64{}
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		return out
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(b), "\n") {
		name, v, ok := strings.Cut(line, " ")
		if !ok || !strings.HasPrefix(name, "go_memstats_") {
			continue
		}
		if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
			out[name] = f
		}
	}
	return out
}

// peakProfile is the Go heap at one moment of the run, from goc serve --pprof.
type peakProfile struct {
	rssKB                                  int64
	heapInuse, heapIdle, heapReleased, sys int64
	file                                   string
}

// takeHeapProfile saves the server's heap profile (for go tool pprof) as
// heap-peak.pb.gz in dir and reads the runtime's memory figures printed with the
// text form of the same profile.
func takeHeapProfile(base, dir string, rssKB int64) (peakProfile, error) {
	p := peakProfile{rssKB: rssKB, file: filepath.Join(dir, "heap-peak.pb.gz")}
	resp, err := http.Get(base + "heap")
	if err != nil {
		return p, err
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		return p, fmt.Errorf("GET heap: %d %v", resp.StatusCode, err)
	}
	if err := os.WriteFile(p.file, b, 0o600); err != nil {
		return p, err
	}
	resp, err = http.Get(base + "heap?debug=1")
	if err != nil {
		return p, err
	}
	b, err = io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return p, err
	}
	fields := map[string]*int64{"HeapInuse": &p.heapInuse, "HeapIdle": &p.heapIdle, "HeapReleased": &p.heapReleased, "Sys": &p.sys}
	for _, line := range strings.Split(string(b), "\n") {
		name, v, ok := strings.Cut(strings.TrimPrefix(line, "# "), " = ")
		if dst := fields[name]; ok && dst != nil && strings.HasPrefix(line, "# ") {
			*dst, _ = strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		}
	}
	return p, nil
}

// procKB reads a kB field (VmRSS, VmHWM) of /proc/PID/status.
func procKB(pid int, field string) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return n
		}
	}
	return 0
}

type endpoint struct {
	codes     map[int]int
	latencies []time.Duration
	ok        []time.Duration // latencies of 2xx answers
	errors    map[string]int
}

type stats struct {
	mu sync.Mutex
	by map[string]*endpoint
}

func newStats() *stats { return &stats{by: map[string]*endpoint{}} }

func (s *stats) add(name string, code int, lat time.Duration, err string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.by[name]
	if e == nil {
		e = &endpoint{codes: map[int]int{}, errors: map[string]int{}}
		s.by[name] = e
	}
	e.codes[code]++
	e.latencies = append(e.latencies, lat)
	if code >= 200 && code < 300 {
		e.ok = append(e.ok, lat)
	}
	if err != "" && code == 0 {
		if len(err) > 80 {
			err = err[:80]
		}
		e.errors[err]++
	}
}

func (s *stats) print(w io.Writer, values int, d time.Duration, readers, uploaders, submitters int) {
	names := make([]string, 0, len(s.by))
	for n := range s.by {
		names = append(names, n)
	}
	sort.Strings(names)
	total, noAnswer := 0, 0
	fivexx := map[string]int{} // by kind of client
	fmt.Fprintf(w, "%d stored values; %s; %d readers, %d uploaders (5 MB CSV), %d JSON submitters\n\n", values, d, readers, uploaders, submitters)
	fmt.Fprintln(w, "| endpoint | requests | p50 | p99 | p99 of 2xx | max | status codes |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---|")
	quantile := func(l []time.Duration, p float64) string {
		if len(l) == 0 {
			return "-"
		}
		return l[min(len(l)-1, int(p*float64(len(l))))].Round(time.Millisecond).String()
	}
	for _, n := range names {
		e := s.by[n]
		slices.Sort(e.latencies)
		slices.Sort(e.ok)
		var codes []string
		keys := make([]int, 0, len(e.codes))
		for c := range e.codes {
			keys = append(keys, c)
		}
		slices.Sort(keys)
		kind := "readers"
		switch {
		case strings.Contains(n, "5 MB"):
			kind = "5 MB uploads"
		case strings.Contains(n, "small JSON"):
			kind = "small JSON submissions"
		}
		for _, c := range keys {
			codes = append(codes, fmt.Sprintf("%d×%d", c, e.codes[c]))
			total += e.codes[c]
			if c >= 500 {
				fivexx[kind] += e.codes[c]
			}
			if c == 0 {
				noAnswer += e.codes[c]
			}
		}
		fmt.Fprintf(w, "| %s | %d | %s | %s | %s | %s | %s |\n", n, len(e.latencies), quantile(e.latencies, 0.5),
			quantile(e.latencies, 0.99), quantile(e.ok, 0.99), quantile(e.latencies, 1), strings.Join(codes, ", "))
		for msg, k := range e.errors {
			fmt.Fprintf(w, "|   no answer: %s | %d | | | | | |\n", msg, k)
		}
	}
	all := fivexx["readers"] + fivexx["small JSON submissions"] + fivexx["5 MB uploads"]
	fmt.Fprintf(w, "\nrequests: %d; 5xx: %d (readers %d, small JSON submissions %d, 5 MB uploads %d); no answer (client timeout or error): %d\n",
		total, all, fivexx["readers"], fivexx["small JSON submissions"], fivexx["5 MB uploads"], noAnswer)
}
