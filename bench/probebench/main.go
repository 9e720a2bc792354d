// Command probebench measures G-OC's portal prober side by side with
// blackbox_exporter, on this machine, against the same loopback targets, and prints
// the results as Markdown for BENCHMARKS.md. scripts/bench-probes.sh builds
// blackbox_exporter and runs it; `go test ./...` never does.
//
// Three measurements:
//
//  1. Throughput and CPU: N targets (distinct paths on one loopback server, in its own
//     process so its CPU is not counted), probed with and without TLS, C at a time.
//     G-OC runs its prober in this process (the http check only: what blackbox's
//     http_2xx module does). blackbox_exporter is driven as Prometheus drives it: GET
//     /probe?target=URL&module=http_2xx over kept-alive connections, C at a time. CPU
//     is user+system time of the process doing the probing (this one, or blackbox's),
//     read from the kernel; for blackbox the driver's own CPU is given apart.
//  2. Timing error: a target that waits a known delay before answering; the error is
//     the measured time to first byte minus that delay, for both probers.
//  3. The scheduled pipeline at the aim: M portals on G-OC's real scheduler,
//     sink and SQLite store, for a few intervals, with CPU use, delay and misses.
package main

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"flag"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/g-oc/goc/collectors/probe"
	"github.com/g-oc/goc/collectors/schedule"
	"github.com/g-oc/goc/internal/outbound"
	"github.com/g-oc/goc/internal/store/sqlite"
)

func main() {
	serve := flag.Bool("serve", false, "internal: run the target servers and write their addresses to -info")
	info := flag.String("info", "", "internal: where -serve writes its addresses")
	bbx := flag.String("blackbox", "", "blackbox_exporter binary (empty: G-OC only)")
	n := flag.Int("n", 1000, "targets per round")
	rounds := flag.Int("rounds", 3, "rounds over the targets per measurement")
	conc := flag.Int("c", 32, "probes at once")
	delay := flag.Duration("delay", 50*time.Millisecond, "the known delay of the timing target")
	timingProbes := flag.Int("timing", 200, "probes of the timing target")
	schedN := flag.Int("sched-n", 10000, "portals in the scheduled run (0: skip it)")
	schedInterval := flag.Duration("sched-interval", 20*time.Second, "interval of the scheduled run")
	schedRuns := flag.Int("sched-intervals", 3, "intervals the scheduled run lasts")
	flag.Parse()
	if *serve {
		if err := runServers(*info); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	if err := run(*bbx, *n, *rounds, *conc, *delay, *timingProbes, *schedN, *schedInterval, *schedRuns); err != nil {
		fmt.Fprintln(os.Stderr, "probebench:", err)
		os.Exit(1)
	}
}

// ---- target servers (a child process) --------------------------------------------

type addrs struct {
	HTTP, HTTPS, CA string
}

const page = `<!doctype html><html lang="vi"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Cổng thông tin điện tử</title></head><body>`

func runServers(info string) error {
	dir := filepath.Dir(info)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "probebench CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &key.PublicKey, key)
	if err != nil {
		return err
	}
	ca, _ := x509.ParseCertificate(caDER)
	leafKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leafTmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		KeyUsage: x509.KeyUsageDigitalSignature}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, ca, &leafKey.PublicKey, key)
	if err != nil {
		return err
	}
	caFile := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o600); err != nil {
		return err
	}
	body := []byte(page + strings.Repeat("<p>Thủ tục hành chính, dịch vụ công trực tuyến.</p>\n", 150) + "</body></html>")
	// The delayed target logs how long each answer really waited (a sleep overshoots
	// by up to a millisecond on a busy machine), so the prober's own error can be told
	// apart from the server's.
	var mu sync.Mutex
	var waited []float64
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/delay-log" {
			mu.Lock()
			json.NewEncoder(w).Encode(waited)
			waited = nil
			mu.Unlock()
			return
		}
		if d, ok := strings.CutPrefix(r.URL.Path, "/delay/"); ok {
			if dd, err := time.ParseDuration(d); err == nil {
				start := time.Now()
				time.Sleep(dd)
				w.Header().Set("Content-Type", "text/html; charset=utf-8")
				w.WriteHeader(http.StatusOK)
				mu.Lock()
				waited = append(waited, time.Since(start).Seconds())
				mu.Unlock()
				w.Write(body)
				return
			}
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(body)
	})
	l1, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	l2, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	go (&http.Server{Handler: h}).Serve(l1)
	tlsSrv := &http.Server{Handler: h, TLSConfig: &tls.Config{Certificates: []tls.Certificate{{
		Certificate: [][]byte{leafDER, caDER}, PrivateKey: leafKey}}}}
	go tlsSrv.ServeTLS(l2, "", "")
	a := addrs{HTTP: "http://" + l1.Addr().String(), HTTPS: "https://" + l2.Addr().String(), CA: caFile}
	b, _ := json.Marshal(a)
	if err := os.WriteFile(info+".tmp", b, 0o600); err != nil {
		return err
	}
	if err := os.Rename(info+".tmp", info); err != nil {
		return err
	}
	// Stop when the parent goes: it closes our stdin.
	io.Copy(io.Discard, os.Stdin)
	return nil
}

// ---- CPU accounting -----------------------------------------------------------------

func selfCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// procCPU reads a process's user+system time from /proc (clock ticks of 10 ms).
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond
}

// ---- measurements -----------------------------------------------------------------

type result struct {
	who, scheme        string
	probes, failed     int
	wall               time.Duration
	cpu, driverCPU     time.Duration
	perSec, cpuPerProb float64 // probes/s, ms of CPU per probe
}

func pool(targets []string, rounds, conc int, do func(string) bool) (ok, failed int, wall time.Duration) {
	var nOK, nFail atomic.Int64
	ch := make(chan string, conc)
	var wg sync.WaitGroup
	start := time.Now()
	for range conc {
		wg.Go(func() {
			for t := range ch {
				if do(t) {
					nOK.Add(1)
				} else {
					nFail.Add(1)
				}
			}
		})
	}
	for range rounds {
		for _, t := range targets {
			ch <- t
		}
	}
	close(ch)
	wg.Wait()
	return int(nOK.Load()), int(nFail.Load()), time.Since(start)
}

func measureGOC(p *probe.Prober, scheme string, targets []string, rounds, conc int) result {
	runtime.GC()
	c0 := selfCPU()
	ok, failed, wall := pool(targets, rounds, conc, func(t string) bool {
		return p.Probe(context.Background(), probe.Target{URL: t}).Success
	})
	cpu := selfCPU() - c0
	return finish(result{who: "G-OC", scheme: scheme, probes: ok + failed, failed: failed, wall: wall, cpu: cpu})
}

func measureBlackbox(base string, pid int, scheme string, targets []string, rounds, conc int) result {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conc, MaxConnsPerHost: conc}}
	runtime.GC()
	c0, d0 := procCPU(pid), selfCPU()
	ok, failed, wall := pool(targets, rounds, conc, func(t string) bool {
		resp, err := client.Get(base + "/probe?module=http_2xx&target=" + t)
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			if sc.Text() == "probe_success 1" {
				io.Copy(io.Discard, resp.Body)
				return true
			}
		}
		return false
	})
	return finish(result{who: "blackbox_exporter", scheme: scheme, probes: ok + failed, failed: failed, wall: wall,
		cpu: procCPU(pid) - c0, driverCPU: selfCPU() - d0})
}

func finish(r result) result {
	r.perSec = float64(r.probes) / r.wall.Seconds()
	r.cpuPerProb = float64(r.cpu.Microseconds()) / 1000 / float64(r.probes)
	return r
}

func startBlackbox(bin, dir, caFile string) (base string, cmd *exec.Cmd, err error) {
	cfg := filepath.Join(dir, "blackbox.yml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(`modules:
  http_2xx:
    prober: http
    timeout: 10s
    http:
      preferred_ip_protocol: ip4
      tls_config:
        ca_file: %s
`, caFile)), 0o600); err != nil {
		return "", nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	addr := l.Addr().String()
	l.Close()
	cmd = exec.Command(bin, "--config.file="+cfg, "--web.listen-address="+addr, "--log.level=error")
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // never outlive the benchmark
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	base = "http://" + addr
	for range 100 {
		if resp, err := http.Get(base + "/-/healthy"); err == nil {
			resp.Body.Close()
			return base, cmd, nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	cmd.Process.Kill()
	return "", nil, fmt.Errorf("blackbox_exporter did not answer on %s", addr)
}

// timing probes the delayed target n times, one after another, and returns the
// errors of the first-byte phase against the nominal delay and against the wait the
// server itself measured for each answer.
func timing(logBase string, n int, delay time.Duration, measure func() (float64, error)) (nominal, served []float64, err error) {
	fetchLog := func() ([]float64, error) {
		resp, err := http.Get(logBase + "/delay-log")
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		var v []float64
		return v, json.NewDecoder(resp.Body).Decode(&v)
	}
	if _, err := fetchLog(); err != nil { // start from an empty log
		return nil, nil, err
	}
	var got []float64
	for range n {
		v, err := measure()
		if err != nil {
			return nil, nil, err
		}
		got = append(got, v)
	}
	waited, err := fetchLog()
	if err != nil {
		return nil, nil, err
	}
	if len(waited) != len(got) {
		return nil, nil, fmt.Errorf("server logged %d answers for %d probes", len(waited), len(got))
	}
	for i, v := range got {
		nominal = append(nominal, v-delay.Seconds())
		served = append(served, v-waited[i])
	}
	slices.Sort(nominal)
	slices.Sort(served)
	return nominal, served, nil
}

func stats(errs []float64) string {
	var sum, abs float64
	for _, e := range errs {
		sum += e
		if e < 0 {
			abs += -e
		} else {
			abs += e
		}
	}
	q := func(p float64) float64 { return errs[min(len(errs)-1, int(p*float64(len(errs))))] * 1000 }
	return fmt.Sprintf("%.3f | %.3f | %.3f | %.3f | %.3f", sum/float64(len(errs))*1000, abs/float64(len(errs))*1000, q(0.5), q(0.99), errs[len(errs)-1]*1000)
}

func blackboxPhase(base, target string) (float64, error) {
	resp, err := http.Get(base + "/probe?module=http_2xx&target=" + target)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), `probe_http_duration_seconds{phase="processing"} `); ok {
			return strconv.ParseFloat(v, 64)
		}
	}
	return 0, fmt.Errorf("no processing phase in blackbox's answer")
}

func run(bbx string, n, rounds, conc int, delay time.Duration, timingN, schedN int, schedInterval time.Duration, schedIntervals int) error {
	dir, err := os.MkdirTemp("", "probebench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	info := filepath.Join(dir, "addrs.json")
	self, err := os.Executable()
	if err != nil {
		return err
	}
	srv := exec.Command(self, "-serve", "-info", info)
	srv.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stdin, _ := srv.StdinPipe()
	srv.Stderr = os.Stderr
	if err := srv.Start(); err != nil {
		return err
	}
	defer func() { stdin.Close(); srv.Wait() }()
	var a addrs
	for range 200 {
		if b, err := os.ReadFile(info); err == nil && json.Unmarshal(b, &a) == nil {
			break
		}
		time.Sleep(25 * time.Millisecond)
	}
	if a.HTTP == "" {
		return fmt.Errorf("the target servers did not start")
	}
	pemData, _ := os.ReadFile(a.CA)
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pemData)
	prober, err := probe.New(probe.Options{RootCAs: roots, Checks: []string{probe.CheckHTTP}, Outbound: outbound.MustPolicy("127.0.0.1/32", "::1/128")})
	if err != nil {
		return err
	}
	var bbBase string
	var bbCmd *exec.Cmd
	if bbx != "" {
		if bbBase, bbCmd, err = startBlackbox(bbx, dir, a.CA); err != nil {
			return err
		}
		defer bbCmd.Process.Kill()
	}

	fmt.Printf("## Probe benchmark: %d loopback targets × %d rounds, %d at a time, %s, %d CPUs, %s, load average %s\n\n",
		n, rounds, conc, runtime.Version(), runtime.NumCPU(), time.Now().UTC().Format("2006-01-02"), loadavg())
	fmt.Println("| prober | scheme | probes | failed | probes/s | CPU ms/probe (prober) | CPU ms/probe (driver) |")
	fmt.Println("|---|---|---|---|---|---|---|")
	var table []result
	for _, scheme := range []string{"http", "https"} {
		base := a.HTTP
		if scheme == "https" {
			base = a.HTTPS
		}
		targets := make([]string, n)
		for i := range targets {
			targets[i] = fmt.Sprintf("%s/portal/%05d", base, i)
		}
		// Warm both up with one round, so neither pays for first-use costs.
		measureGOC(prober, scheme, targets[:min(n, 100)], 1, conc)
		if bbx != "" {
			measureBlackbox(bbBase, bbCmd.Process.Pid, scheme, targets[:min(n, 100)], 1, conc)
		}
		runs := []result{measureGOC(prober, scheme, targets, rounds, conc)}
		if bbx != "" {
			runs = append(runs, measureBlackbox(bbBase, bbCmd.Process.Pid, scheme, targets, rounds, conc))
		}
		for _, r := range runs {
			drv := "—"
			if r.driverCPU > 0 {
				drv = fmt.Sprintf("%.3f", float64(r.driverCPU.Microseconds())/1000/float64(r.probes))
			}
			fmt.Printf("| %s | %s | %d | %d | %.0f | %.3f | %s |\n", r.who, r.scheme, r.probes, r.failed, r.perSec, r.cpuPerProb, drv)
			table = append(table, r)
		}
	}
	if bbx != "" {
		fmt.Println()
		for i := 0; i+1 < len(table); i += 2 {
			g, b := table[i], table[i+1]
			fmt.Printf("- %s: G-OC makes %.2f× blackbox_exporter's probes per second and uses %.2f× its CPU per probe (%.2f× counting the driver, which stands in for Prometheus).\n",
				g.scheme, g.perSec/b.perSec, g.cpuPerProb/b.cpuPerProb,
				g.cpuPerProb/(b.cpuPerProb+float64(b.driverCPU.Microseconds())/1000/float64(b.probes)))
		}
	}

	// Timing error against a known delay.
	fmt.Printf("\n### Time to first byte against a server that waits %s (%d probes each, one at a time, ms)\n\n", delay, timingN)
	fmt.Println("Error = measured time to first byte − the wait: first the nominal wait, then the wait the server measured for that very answer.")
	fmt.Println()
	fmt.Println("| prober | scheme | against | mean error | mean abs error | median | p99 | max |")
	fmt.Println("|---|---|---|---|---|---|---|---|")
	for _, scheme := range []string{"http", "https"} {
		base := a.HTTP
		if scheme == "https" {
			base = a.HTTPS
		}
		target := base + "/delay/" + delay.String()
		nominal, served, err := timing(a.HTTP, timingN, delay, func() (float64, error) {
			r := prober.Probe(context.Background(), probe.Target{URL: target})
			if !r.Success {
				return 0, fmt.Errorf("timing probe failed: %s", r.Error)
			}
			return r.Phases.Processing, nil
		})
		if err != nil {
			return err
		}
		fmt.Printf("| G-OC | %s | nominal | %s |\n| G-OC | %s | served | %s |\n", scheme, stats(nominal), scheme, stats(served))
		if bbx != "" {
			nominal, served, err := timing(a.HTTP, timingN, delay, func() (float64, error) { return blackboxPhase(bbBase, target) })
			if err != nil {
				return err
			}
			fmt.Printf("| blackbox_exporter | %s | nominal | %s |\n| blackbox_exporter | %s | served | %s |\n", scheme, stats(nominal), scheme, stats(served))
		}
	}
	if schedN > 0 {
		if err := scheduled(dir, a, roots, schedN, schedInterval, schedIntervals); err != nil {
			return err
		}
	}
	return nil
}

// scheduled runs G-OC's real pipeline: scheduler, prober (every check), sink, SQLite.
func scheduled(dir string, a addrs, roots *x509.CertPool, n int, interval time.Duration, intervals int) error {
	st, err := sqlite.Open(context.Background(), filepath.Join(dir, "sched.db"))
	if err != nil {
		return err
	}
	defer st.Close()
	prober, err := probe.New(probe.Options{RootCAs: roots, Outbound: outbound.MustPolicy("127.0.0.1/32", "::1/128")})
	if err != nil {
		return err
	}
	reg := prometheus.NewRegistry()
	jobs := make([]schedule.ProbeJob, n)
	for i := range jobs {
		base := a.HTTPS
		if i%2 == 1 {
			base = a.HTTP
		}
		jobs[i] = schedule.ProbeJob{Interval: interval, Target: probe.Target{URL: fmt.Sprintf("%s/portal/%05d", base, i), Agency: "P20"}}
	}
	sink := schedule.NewSink(st, time.Second, nil, nil)
	s, err := schedule.New(schedule.Options{Prober: prober, Probes: jobs, Sink: sink, Concurrency: 100, Registerer: reg})
	if err != nil {
		return err
	}
	runtime.GC()
	load0 := loadavg()
	c0, t0 := selfCPU(), time.Now()
	s.Start()
	time.Sleep(time.Duration(intervals)*interval + time.Second)
	if err := s.Shutdown(); err != nil {
		return err
	}
	wall, cpu := time.Since(t0), selfCPU()-c0
	fams, _ := reg.Gather()
	get := func(name, status string) (v float64, h *dto.Histogram) {
		for _, f := range fams {
			if f.GetName() != name {
				continue
			}
			for _, m := range f.GetMetric() {
				ok := status == ""
				for _, lp := range m.GetLabel() {
					if lp.GetName() == "status" && lp.GetValue() == status {
						ok = true
					}
				}
				if !ok {
					continue
				}
				switch {
				case m.Counter != nil:
					v += m.Counter.GetValue()
				case m.Histogram != nil:
					h = m.Histogram
				}
			}
		}
		return v, h
	}
	runs, _ := get("goc_collector_runs_total", "")
	okRuns, _ := get("goc_collector_runs_total", "success")
	missed, _ := get("goc_collector_missed_runs_total", "")
	overlaps, _ := get("goc_collector_overlapping_runs_total", "")
	_, delay := get("goc_collector_scheduling_delay_seconds", "")
	perMin := float64(n) * float64(time.Minute) / float64(interval)
	fmt.Printf("\n### Scheduled pipeline: %d portals (half HTTPS) every %s, all four checks, results to SQLite, %s\n\n", n, interval, wall.Round(time.Second))
	fmt.Printf("Machine load average (1 min) before and after: %s → %s.\n\n", load0, loadavg())
	fmt.Println("| rate | runs | succeeded | missed | overlapping | CPU used | CPU ms/probe | started ≤ 10 ms late | ≤ 100 ms | ≤ 1 s |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|")
	fmt.Printf("| %.0f portals/min | %.0f | %.0f | %.0f | %.0f | %.2f of %d cores | %.3f | %s | %s | %s |\n", perMin, runs, okRuns, missed, overlaps,
		cpu.Seconds()/wall.Seconds(), runtime.NumCPU(), float64(cpu.Microseconds())/1000/runs, share(delay, 0.01), share(delay, 0.1), share(delay, 1))
	return nil
}

// loadavg is the machine's one-minute load average: the benchmark shares the machine,
// and a busy one explains a slow run.
func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Fields(string(b))[0]
}

func share(h *dto.Histogram, le float64) string {
	if h == nil || h.GetSampleCount() == 0 {
		return "—"
	}
	for _, b := range h.GetBucket() {
		if b.GetUpperBound() >= le {
			return fmt.Sprintf("%.1f%%", 100*float64(b.GetCumulativeCount())/float64(h.GetSampleCount()))
		}
	}
	return "100%"
}
