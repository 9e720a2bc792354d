package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/g-oc/goc/internal/auth"
	"github.com/g-oc/goc/internal/redistest"
	"github.com/g-oc/goc/internal/store/influx/influxtest"
)

// farm is a loopback web server standing in for thousands of portals: one listener,
// one path per portal, and the time of every request each portal receives.
type farm struct {
	srv  *httptest.Server
	mu   sync.Mutex
	hits [][]time.Time // by portal index
	// by is the requests by the replica named in the User-Agent (goc-probe/NAME), and
	// when each came.
	by map[string][]time.Time
}

func newFarm(t *testing.T, n int) *farm {
	f := &farm{hits: make([][]time.Time, n), by: map[string][]time.Time{}}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		now := time.Now()
		i, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/portal/"))
		if err != nil || i < 0 || i >= n {
			http.NotFound(w, r)
			return
		}
		f.mu.Lock()
		f.hits[i] = append(f.hits[i], now)
		name := strings.TrimPrefix(r.UserAgent(), "goc-probe/")
		f.by[name] = append(f.by[name], now)
		f.mu.Unlock()
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, `<!doctype html><html><head><meta name="viewport" content="width=device-width"></head><body>cổng</body></html>`)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *farm) url(i int) string { return fmt.Sprintf("%s/portal/%04d", f.srv.URL, i) }

// The proof of issue 17: three replicas of `goc serve` over one real influxd and one
// real redis-server probe 3,000 portals on a loopback farm every interval; one replica
// is killed with SIGKILL in the middle of the third interval and started again. The
// farm counts the requests each portal gets in each interval.
//
// Real processes run on the real clock (a fake clock cannot reach into three other
// processes), so the interval is short and the test waits for it: 10 s, 300 probes a
// second, which two cores shared with other work keep up with (at 5 s, 600 a second,
// runs on a loaded machine started seconds late and some slots went unclaimed).
func TestThreeReplicasProbeEachPortalOncePerIntervalThroughAKill9(t *testing.T) {
	const (
		portals   = 3000
		interval  = 10 * time.Second
		intervals = 5
	)
	influx := influxtest.Start(t)
	bucket := influx.NewDatabase(t)
	// Redis as the README asks of a deployment: appendonly, appendfsync always.
	rs := redistest.StartDurable(t, "redis-e2e-pass")
	f := newFarm(t, portals)
	farmHost := strings.TrimPrefix(f.srv.URL, "http://")
	officer, err := auth.NewToken()
	if err != nil {
		t.Fatal(err)
	}

	var targets strings.Builder
	for i := range portals {
		fmt.Fprintf(&targets, "      - {url: %q, agency: P20}\n", f.url(i))
	}
	configs := map[string]string{}
	for _, name := range []string{"a", "b", "c"} {
		dir := filepath.Join(t.TempDir(), name)
		os.MkdirAll(dir, 0o750)
		cfg := filepath.Join(dir, "goc.yaml")
		// Each replica its own spool (its own disk), one InfluxDB and one Redis.
		if err := os.WriteFile(cfg, []byte(fmt.Sprintf(`server:
  addr: 127.0.0.1:0
store:
  backend: influx
  influx: {url: %s, bucket: %s, spool: spool.db}
redis:
  addr: %s
  password: ${GOC_TEST_REDIS_PASSWORD}
  replica: goc-%s
tokens:
  - {name: lang-son, agency: P20, sha256: %s}
collectors:
  allow_internal: [%q]
  probes:
    interval: %s
    timeout: 2s
    user_agent: goc-probe/%s
    checks: [http]
    summary: false
    targets:
%s`, influx.URL, bucket, rs.Addr, name, auth.Hash(officer), farmHost, interval, name, targets.String())), 0o600); err != nil {
			t.Fatal(err)
		}
		configs[name] = cfg
	}
	t.Setenv("GOC_TEST_REDIS_PASSWORD", "redis-e2e-pass")

	replicas := map[string]*server{}
	for _, name := range []string{"a", "b", "c"} {
		replicas[name] = startGoc(t, "serve", "--config", configs[name])
	}
	// A real Prometheus scrapes the three with the repository's own config
	// (deploy/prometheus), every second instead of every 15.
	prom := startReplicaPrometheus(t)
	prom.list(t, replicas)
	// Intervals are counted on the grid every replica shares: multiples of the
	// interval, each portal at its share of it (portal i at i/n of the interval, in
	// name order, which the zero-padded paths keep).
	grid := time.Now().Truncate(interval)
	// A run may start late, never more than a timer's hair early (the scheduler's
	// slack, 100 ms): a request belongs to the slot that began last before it.
	slotOf := func(i int, at time.Time) int {
		offset := time.Duration(int64(interval) * int64(i) / portals)
		return int(math.Floor(float64(at.Sub(grid)-offset+150*time.Millisecond) / float64(interval)))
	}
	// The first counted interval starts once every replica has had a full one to
	// settle in; the replica dies halfway through the third.
	first := int(time.Since(grid)/interval) + 2
	startOf := func(k int) time.Time { return grid.Add(time.Duration(k) * interval) }
	killed := first + 2

	// Submissions go round-robin to the three replicas all through the run, one every
	// 200 ms, each for its own quarter, while the probes run and while replica c is
	// dead; those sent to the dead replica fail, and every acknowledged one must be
	// readable afterwards. urls is guarded because c comes back on a new port.
	type ack struct{ period, replica string }
	var (
		mu     sync.Mutex
		acks   []ack
		failed int
		urls   = map[string]string{"a": replicas["a"].url, "b": replicas["b"].url, "c": replicas["c"].url}
	)
	submit := func(n int) {
		name := []string{"a", "b", "c"}[n%3]
		mu.Lock()
		base := urls[name]
		mu.Unlock()
		q := fmt.Sprintf("%d-Q%d", 2001+n/4, 1+n%4)
		body := fmt.Sprintf(`{"agency":"P20","period":%q,"values":[{"indicator":"ops_level4_share","numerator":%d,"denominator":400}]}`, q, 100+n)
		req, _ := http.NewRequest(http.MethodPost, base+"/api/v1/submissions", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+officer)
		req.Header.Set("Content-Type", "application/json")
		resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
		if err != nil {
			mu.Lock()
			failed++
			mu.Unlock()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			t.Errorf("submission %s to replica %s: %d %s", q, name, resp.StatusCode, b)
			return
		}
		mu.Lock()
		acks = append(acks, ack{q, name})
		mu.Unlock()
	}
	end := startOf(first + intervals).Add(time.Second)
	var posting sync.WaitGroup
	posting.Go(func() {
		for n := 0; n < 100 && time.Now().Before(end); n++ {
			submit(n)
			time.Sleep(200 * time.Millisecond)
		}
	})

	time.Sleep(time.Until(startOf(killed).Add(interval / 2)))
	c := replicas["c"]
	if err := c.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	c.cmd.Wait()
	killedAt := time.Now()
	replicas["c"] = startGoc(t, "serve", "--config", configs["c"])
	mu.Lock()
	urls["c"] = replicas["c"].url
	mu.Unlock()
	prom.list(t, replicas)
	t.Logf("replica c killed at %s (interval %d, %.1f s in) and serving again %.1f s later",
		killedAt.Format("15:04:05.000"), killed-first+1, killedAt.Sub(startOf(killed)).Seconds(), time.Since(killedAt).Seconds())
	time.Sleep(time.Until(end))
	posting.Wait()

	// Count at the farm: every portal once in every interval.
	f.mu.Lock()
	counts := make([][intervals]int, portals)
	var early, late int
	for i, hs := range f.hits {
		for _, at := range hs {
			k := slotOf(i, at) - first
			switch {
			case k < 0:
				early++
			case k >= intervals:
				late++
			default:
				counts[i][k]++
			}
		}
	}
	f.mu.Unlock()
	var probes, doubles int
	missed := make([]int, intervals)
	for i := range counts {
		for k, n := range counts[i] {
			probes += n
			switch {
			case n == 0:
				missed[k]++
			case n > 1:
				doubles += n - 1
				if doubles <= 5 {
					t.Errorf("portal %d probed %d times in interval %d", i, n, k+1)
				}
			}
		}
	}
	t.Logf("%d portals × %d intervals of %s on 3 replicas: %d probes counted at the farm (want %d), double probes %d, missed per interval %v (replica c killed in interval %d); %d probes before and %d after the counted intervals",
		portals, intervals, interval, probes, portals*intervals, doubles, missed, killed-first+1, early, late)
	if doubles != 0 {
		t.Errorf("%d double probes: two replicas ran one slot", doubles)
	}
	for k, n := range missed {
		if n > 0 && k != killed-first {
			t.Errorf("interval %d: %d portals not probed; only the interval in which a replica died may miss any", k+1, n)
		}
	}
	// A replica killed mid-probe loses the probes it had claimed and not yet sent:
	// at most its share of the runs going on at once, a few dozen at worst.
	if n := missed[killed-first]; n > 100 {
		t.Errorf("interval %d: %d portals not probed after the kill; the surviving replicas should take every slot the dead one no longer claims", killed-first+1, n)
	}

	// Every replica's metrics: which replica ran how many probes, and the slots each
	// claimed or found claimed.
	var claimed float64
	for _, name := range []string{"a", "b", "c"} {
		m := scrape(t, replicas[name].url)
		var runs []string
		for k, v := range m {
			if strings.HasPrefix(k, "goc_collector_runs_total{") {
				runs = append(runs, fmt.Sprintf("%s=%.0f", k[len("goc_collector_runs_total"):], v))
			}
		}
		t.Logf("replica %s: runs %v, missed %.0f, dropped %.0f, overlapping %.0f", name, runs, m["goc_collector_missed_runs_total"], m["goc_collector_dropped_runs_total"], m["goc_collector_overlapping_runs_total"])
		a, l := m["goc_collector_lock_acquired_total"], m["goc_collector_lock_lost_total"]
		t.Logf("replica %s (since its last start): %.0f slots claimed, %.0f lost to another replica", name, a, l)
		if m["goc_replica_info"] != 1 {
			t.Errorf("replica %s exports no goc_replica_info", name)
		}
		claimed += a
		if name != "c" {
			// Runs are counted when they end, requests when they arrive: the
			// difference is what is in flight (a few on a quiet machine, hundreds when
			// the store's writes queue on a loaded one).
			ran := m["goc_collector_runs_total"] - m[`goc_collector_runs_total{kind="probe",status="skip"}`]
			f.mu.Lock()
			got := len(f.by[name])
			f.mu.Unlock()
			t.Logf("replica %s: %.0f probe runs in its metrics, %d requests from it at the farm", name, ran, got)
			if math.Abs(ran-float64(got)) > max(60, 0.05*float64(got)) {
				t.Errorf("replica %s: its metrics count %.0f probe runs but the farm got %d requests from it", name, ran, got)
			}
		}
		if a == 0 {
			t.Errorf("replica %s claimed no slot", name)
		}
	}

	prom.checkRunsMatchFarm(t, f, killedAt)

	// Every acknowledged submission is readable from every replica, the restarted one
	// included: latest values come from the ledger in Redis, which every replica reads
	// (the retries are for a replica still starting).
	t.Logf("submissions: %d acknowledged, %d refused while replica c was down", len(acks), failed)
	if len(acks) < 50 {
		t.Errorf("only %d submissions acknowledged", len(acks))
	}
	for _, name := range []string{"a", "b", "c"} {
		var missing []string
		for try := 0; try < 40; try++ {
			var got struct {
				Observations []struct {
					Period    string `json:"period"`
					Revision  int    `json:"revision"`
					Submitter string `json:"submitter"`
				} `json:"observations"`
			}
			replicas[name].getJSONAs(t, officer, "/api/v1/observations?indicator=ops_level4_share&agency=P20&from=2001-Q1&to=2025-Q4&unapproved=true", &got)
			have := map[string]bool{}
			for _, o := range got.Observations {
				if o.Submitter == "lang-son" && o.Revision == 1 {
					have[o.Period] = true
				}
			}
			missing = missing[:0]
			for _, a := range acks {
				if !have[a.period] {
					missing = append(missing, a.period+" (posted to "+a.replica+")")
				}
			}
			if len(missing) == 0 {
				break
			}
			time.Sleep(250 * time.Millisecond)
		}
		if len(missing) > 0 {
			t.Errorf("replica %s does not show %d acknowledged submissions: %v", name, len(missing), missing)
		}
	}

	// An Idempotency-Key used on replica a answers the same on replica b: the key
	// lives in Redis, not in a's spool.
	post := func(s *server, key string) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, s.url+"/api/v1/submissions?confirm_outliers=true",
			strings.NewReader(`{"agency":"P20","period":"2026-Q1","values":[{"indicator":"ops_level4_share","numerator":300,"denominator":400}]}`))
		req.Header.Set("Authorization", "Bearer "+officer)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	code1, body1 := post(replicas["a"], "e2e-key-1")
	code2, body2 := post(replicas["b"], "e2e-key-1")
	if code1 != http.StatusCreated || code2 != code1 || body2 != body1 {
		t.Errorf("the same Idempotency-Key on replicas a then b: %d %s, then %d %s; want the first answer repeated", code1, body1, code2, body2)
	}
}

// scrape reads a replica's /metrics into sums by metric name (every label summed).
func scrape(t *testing.T, base string) map[string]float64 {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	out := map[string]float64{}
	for line := range bytes.Lines(b) {
		s := strings.TrimSpace(string(line))
		if s == "" || s[0] == '#' {
			continue
		}
		sp := strings.LastIndexByte(s, ' ')
		name := s[:sp]
		if i := strings.IndexByte(name, '{'); i >= 0 {
			name = name[:i]
		}
		v, err := strconv.ParseFloat(s[sp+1:], 64)
		if err == nil {
			out[name] += v
			if name == "goc_collector_runs_total" {
				out[s[:sp]] = v
			}
		}
	}
	return out
}

// replicaPrometheus is a prometheus process scraping the replicas listed in its
// file-based discovery file, as deploy/prometheus/prometheus.yml does.
type replicaPrometheus struct {
	addr, sd string
}

func startReplicaPrometheus(t *testing.T) *replicaPrometheus {
	t.Helper()
	bin := promTool(t, "GOC_PROMETHEUS", "prometheus")
	dir := t.TempDir()
	conf, err := os.ReadFile(filepath.Join("..", "..", "deploy", "prometheus", "prometheus.yml"))
	if err != nil {
		t.Fatal(err)
	}
	// Every 5 s instead of 15, and only the collector metrics kept: the 3,000 portals'
	// probe_* gauges (60,000 series a replica) would cost the two cores more than the
	// probes themselves.
	fast := strings.ReplaceAll(string(conf), "15s", "5s")
	fast = strings.ReplaceAll(fast, "refresh_interval: 1m", "refresh_interval: 1s\n    metric_relabel_configs:\n      - {source_labels: [__name__], regex: 'goc_collector_.*|goc_replica_info', action: keep}")
	if !strings.Contains(fast, "scrape_interval: 5s") || !strings.Contains(fast, "metric_relabel_configs") {
		t.Fatal("deploy/prometheus/prometheus.yml changed: this test sets its scrape interval and keeps the collector metrics")
	}
	os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(fast), 0o600)
	os.WriteFile(filepath.Join(dir, "goc-rules.yml"), []byte("groups: []\n"), 0o600)
	p := &replicaPrometheus{addr: freeAddr(t), sd: filepath.Join(dir, "goc-replicas.json")}
	os.WriteFile(p.sd, []byte("[]"), 0o600)
	startProcess(t, bin, "--config.file="+filepath.Join(dir, "prometheus.yml"), "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+p.addr, "--log.level=warn")
	return p
}

// list writes the replicas into the discovery file (by rename, so Prometheus never
// reads half a file).
func (p *replicaPrometheus) list(t *testing.T, replicas map[string]*server) {
	t.Helper()
	type group struct {
		Targets []string          `json:"targets"`
		Labels  map[string]string `json:"labels"`
	}
	var gs []group
	for _, name := range []string{"a", "b", "c"} {
		gs = append(gs, group{[]string{strings.TrimPrefix(replicas[name].url, "http://")}, map[string]string{"replica": "goc-" + name}})
	}
	b, _ := json.Marshal(gs)
	tmp := p.sd + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, p.sd); err != nil {
		t.Fatal(err)
	}
}

// checkRunsMatchFarm asks Prometheus for the probe runs summed over the replicas (the
// last value of every series: each replica, and the killed replica's series before and
// after its restart, which has another address) and compares them with the requests
// the farm got from each replica up to the time of each series' last scrape.
func (p *replicaPrometheus) checkRunsMatchFarm(t *testing.T, f *farm, killedAt time.Time) {
	t.Helper()
	const runs = `goc_collector_runs_total{job="goc",kind="probe",status!="skip"}`
	p.waitForScrapesAfter(t, time.Now())
	var sum struct {
		Data struct {
			Result []struct {
				Value [2]any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	promGet(t, p.addr, "sum(last_over_time("+runs+"[10m]))", &sum)
	var series struct {
		Data struct {
			Result []struct {
				Metric map[string]string `json:"metric"`
				Values [][2]any          `json:"values"`
			} `json:"result"`
		} `json:"data"`
	}
	promGet(t, p.addr, runs+"[10m]", &series)
	if len(sum.Data.Result) != 1 || len(series.Data.Result) < 4 {
		t.Fatalf("Prometheus has %d sums and %d series of probe runs; want one sum over a, b and c before and after its restart", len(sum.Data.Result), len(series.Data.Result))
	}
	total, _ := strconv.ParseFloat(sum.Data.Result[0].Value[1].(string), 64)
	f.mu.Lock()
	defer f.mu.Unlock()
	// A replica has one series per status (success, and fail when a portal failed):
	// its requests at the farm are counted once, up to the last scrape of any of them.
	type scraped struct {
		name     string
		from, at time.Time
	}
	var seen int
	instances := map[string]string{}
	upTo := map[string]scraped{} // instance → its replica and the span its series cover
	for _, r := range series.Data.Result {
		name := strings.TrimPrefix(r.Metric["replica"], "goc-")
		if r.Metric["status"] != "success" && r.Metric["status"] != "fail" {
			continue
		}
		last := r.Values[len(r.Values)-1]
		at := time.UnixMilli(int64(last[0].(float64) * 1000))
		first := time.UnixMilli(int64(r.Values[0][0].(float64) * 1000))
		from := time.Time{}
		if name == "c" && first.After(killedAt) {
			from = killedAt // the restarted replica's series counts from zero again
		}
		if s, ok := upTo[r.Metric["instance"]]; !ok || at.After(s.at) {
			upTo[r.Metric["instance"]] = scraped{name, from, at}
		}
		v, _ := strconv.ParseFloat(last[1].(string), 64)
		seen += int(v)
		instances[r.Metric["instance"]] = name
	}
	want := 0
	for _, s := range upTo {
		for _, h := range f.by[s.name] {
			if h.After(s.from) && !h.After(s.at) {
				want++
			}
		}
	}
	t.Logf("Prometheus: sum(last_over_time(%s[10m])) = %.0f over %d replica addresses %v; the farm got %d requests from them up to their last scrapes",
		runs, total, len(instances), instances, want)
	if int(total) != seen {
		t.Errorf("PromQL sum %.0f differs from the sum of its series %d", total, seen)
	}
	// Runs are counted when they end (after the result is handed to the store) and
	// requests when they arrive: runs in flight at a scrape make the only difference.
	if d := math.Abs(total - float64(want)); d > max(60, 0.05*float64(want)) {
		t.Errorf("Prometheus counts %.0f probe runs over the replicas, the farm %d requests", total, want)
	}
}

// waitForScrapesAfter waits until Prometheus has scraped every healthy target once more
// after since, so that the counts it answers with include everything up to since.
func (p *replicaPrometheus) waitForScrapesAfter(t *testing.T, since time.Time) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var targets struct {
			Data struct {
				ActiveTargets []struct {
					Health     string    `json:"health"`
					LastScrape time.Time `json:"lastScrape"`
				} `json:"activeTargets"`
			} `json:"data"`
		}
		resp, err := http.Get("http://" + p.addr + "/api/v1/targets?state=active")
		if err != nil {
			t.Fatal(err)
		}
		err = json.NewDecoder(resp.Body).Decode(&targets)
		resp.Body.Close()
		if err != nil {
			t.Fatalf("Prometheus targets: %v", err)
		}
		fresh, healthy := 0, 0
		for _, tg := range targets.Data.ActiveTargets {
			if tg.Health != "up" {
				continue
			}
			healthy++
			if tg.LastScrape.After(since) {
				fresh++
			}
		}
		if healthy > 0 && fresh == healthy {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("Prometheus scraped %d of %d healthy targets after %s within 30 s", fresh, healthy, since.Format(time.RFC3339Nano))
		}
		time.Sleep(200 * time.Millisecond) // polling a real Prometheus; its scrapes run on its own clock
	}
}

func promGet(t *testing.T, addr, q string, out any) {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/api/v1/query?query=" + url.QueryEscape(q))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		t.Fatalf("Prometheus %s: %v", q, err)
	}
}
