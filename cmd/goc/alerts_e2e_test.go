package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/g-oc/goc/internal/alerting"
)

// promTool finds a Prometheus program: the path scripts/test.sh exports (it installs
// Debian's prometheus and prometheus-alertmanager when missing), else PATH. A missing
// program fails the test: it is what is being proven.
func promTool(t *testing.T, env string, names ...string) string {
	t.Helper()
	if p := os.Getenv(env); p != "" {
		return p
	}
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	t.Fatalf("%v not found: scripts/test.sh installs it; or set %s", names, env)
	return ""
}

// freeAddr asks the kernel for a free loopback port for a program that takes its
// address on the command line.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// startProcess runs a server program until the test ends; its output goes to a file
// shown when the test fails.
func startProcess(t *testing.T, name string, args ...string) {
	t.Helper()
	log, err := os.Create(filepath.Join(t.TempDir(), filepath.Base(name)+".log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			out, _ := os.ReadFile(log.Name())
			t.Logf("%s output:\n%s", name, tail(string(out), 3000))
		}
		log.Close()
	})
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// waitFor polls cond every 200 ms until it holds or the deadline passes.
func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	ctx, cancel := context.WithTimeout(t.Context(), within)
	defer cancel()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("%s: not within %s", what, within)
		case <-tick.C:
		}
	}
	return time.Since(start)
}

// portal is a loopback web portal that can be stopped and started again on the same
// address.
type portal struct {
	addr string
	srv  *http.Server
}

func (p *portal) start(t *testing.T) {
	t.Helper()
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		t.Fatal(err)
	}
	p.addr = ln.Addr().String()
	p.srv = &http.Server{Handler: http.HandlerFunc(servePage), ReadHeaderTimeout: 5 * time.Second}
	go p.srv.Serve(ln)
}

func (p *portal) stop() { p.srv.Close() }

// webhook is the Alertmanager receiver of the test: it keeps every notification, by
// receiver (the last part of the path).
type webhook struct {
	mu    sync.Mutex
	notes []notification
}

type notification struct {
	Receiver string `json:"receiver"`
	Status   string `json:"status"`
	Alerts   []struct {
		Status string            `json:"status"`
		Labels map[string]string `json:"labels"`
	} `json:"alerts"`
}

func (w *webhook) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	var n notification
	if err := json.NewDecoder(r.Body).Decode(&n); err != nil {
		http.Error(rw, err.Error(), http.StatusBadRequest)
		return
	}
	n.Receiver = r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:]
	w.mu.Lock()
	w.notes = append(w.notes, n)
	w.mu.Unlock()
}

// got reports whether receiver was told that alertname on target is in status.
func (w *webhook) got(receiver, alertname, target, status string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, n := range w.notes {
		if n.Receiver != receiver {
			continue
		}
		for _, a := range n.Alerts {
			if a.Labels["alertname"] == alertname && a.Labels["target"] == target && a.Status == status {
				return true
			}
		}
	}
	return false
}

// TestPortalDownAlertFiresAndResolvesThroughPrometheusAndAlertmanager is the whole
// chain on loopback: goc serve probes a portal every second; a real Prometheus scrapes
// goc's /metrics and evaluates the rules `goc alerts rules` wrote; a real Alertmanager,
// configured by `goc alerts alertmanager`, routes to this test's webhook. The portal
// belongs to a ministry (BTC), so its alert must reach on-call (critical) and the
// ministry's own receiver. The portal is stopped, the alert fires; it is started
// again, the alert resolves.
func TestPortalDownAlertFiresAndResolvesThroughPrometheusAndAlertmanager(t *testing.T) {
	prometheus := promTool(t, "GOC_PROMETHEUS", "prometheus")
	alertmanager := promTool(t, "GOC_ALERTMANAGER", "prometheus-alertmanager", "alertmanager")
	promtool := promTool(t, "GOC_PROMTOOL", "promtool")
	dir := t.TempDir()

	p := &portal{addr: "127.0.0.1:0"}
	p.start(t)
	defer p.stop()
	target := "http://" + p.addr + "/"

	cfg := filepath.Join(dir, "goc.yaml")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`server: {addr: "127.0.0.1:0"}
store: {path: goc.db}
collectors:
  allow_internal: [%q]
  probes:
    interval: 1s
    timeout: 1s
    targets:
      - {url: %q, agency: BTC}
alerts:
  portal_down_for: 2s
  portal_slow_seconds: 30
`, p.addr, target)), 0o600)
	s := startGoc(t, "serve", "--config", cfg)
	gocAddr := strings.TrimPrefix(s.url, "http://")

	// The exposition a Prometheus user would lint, from the live server, once the
	// alerting gauges have had their first refresh (a job that starts with the server).
	var exposition []byte
	waitFor(t, 20*time.Second, "the alerting gauges are computed", func() bool {
		resp, err := http.Get(s.url + "/metrics")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		exposition, _ = io.ReadAll(resp.Body)
		return bytes.Contains(exposition, []byte("goc_alerting_gauges_refresh_timestamp_seconds "))
	})
	check := exec.CommandContext(t.Context(), promtool, "check", "metrics")
	check.Stdin = bytes.NewReader(exposition)
	if out, err := check.CombinedOutput(); err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("promtool check metrics on goc's /metrics: %v\n%s", err, out)
	}
	for _, want := range []string{"goc_submission_overdue_seconds{", "goc_alerting_gauges_refresh_timestamp_seconds "} {
		if !bytes.Contains(exposition, []byte(want)) {
			t.Errorf("/metrics has no %s", want)
		}
	}

	rules := filepath.Join(dir, "goc-rules.yml")
	if out, errOut, code := runGoc(t, "alerts", "rules", "--config", cfg, "-o", rules); code != 0 {
		t.Fatalf("goc alerts rules: exit %d\n%s%s", code, out, errOut)
	}
	hook := &webhook{}
	hookLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hookSrv := &http.Server{Handler: hook, ReadHeaderTimeout: 5 * time.Second}
	go hookSrv.Serve(hookLn)
	defer hookSrv.Close()
	amConfig := filepath.Join(dir, "alertmanager.yml")
	if out, errOut, code := runGoc(t, "alerts", "alertmanager", "-o", amConfig,
		"--webhook-base", "http://"+hookLn.Addr().String()+"/alerts",
		"--group-wait", "500ms", "--group-interval", "1s", "--repeat-interval", "1h"); code != 0 {
		t.Fatalf("goc alerts alertmanager: exit %d\n%s%s", code, out, errOut)
	}

	amAddr := freeAddr(t)
	startProcess(t, alertmanager, "--config.file="+amConfig, "--storage.path="+filepath.Join(dir, "am"),
		"--web.listen-address="+amAddr, "--cluster.listen-address=", "--log.level=warn")
	promAddr := freeAddr(t)
	promConfig := filepath.Join(dir, "prometheus.yml")
	os.WriteFile(promConfig, []byte(fmt.Sprintf(`global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: [%q]
alerting:
  alertmanagers:
    - static_configs: [{targets: [%q]}]
scrape_configs:
  - job_name: goc
    static_configs: [{targets: [%q]}]
`, rules, amAddr, gocAddr)), 0o600)
	startProcess(t, prometheus, "--config.file="+promConfig, "--storage.tsdb.path="+filepath.Join(dir, "prom"),
		"--web.listen-address="+promAddr, "--rules.alert.resend-delay=1s", "--log.level=warn")

	// Prometheus has scraped the portal as up.
	waitFor(t, 30*time.Second, "Prometheus sees the portal up", func() bool {
		return promQuery(t, promAddr, fmt.Sprintf(`probe_success{target=%q} == 1`, target))
	})

	p.stop()
	took := waitFor(t, 25*time.Second, "GOCPortalDown reaches BTC's receiver and on-call", func() bool {
		return hook.got(alerting.ReceiverOf("BTC"), "GOCPortalDown", target, "firing") &&
			hook.got(alerting.ReceiverOnCall, "GOCPortalDown", target, "firing")
	})
	t.Logf("portal stopped → alert at the ministry's receiver in %s", took.Round(100*time.Millisecond))
	if hook.got(alerting.ReceiverProvinces, "GOCPortalDown", target, "firing") {
		t.Errorf("a ministry's alert also went to the provinces' receiver")
	}

	p.start(t)
	took = waitFor(t, 25*time.Second, "GOCPortalDown resolves at BTC's receiver", func() bool {
		return hook.got(alerting.ReceiverOf("BTC"), "GOCPortalDown", target, "resolved")
	})
	t.Logf("portal restarted → resolved at the ministry's receiver in %s", took.Round(100*time.Millisecond))

	// Inhibition, on the same Alertmanager: a portal that is down silences its latency
	// alert. Both are posted as Prometheus would post them.
	inhibit := (`[{"labels":{"alertname":"GOCPortalDown","severity":"critical","agency":"BTC","target":"https://down.example/"}},
		{"labels":{"alertname":"GOCPortalSlow","severity":"warning","agency":"BTC","target":"https://down.example/"}}]`)
	r, err := http.Post("http://"+amAddr+"/api/v2/alerts", "application/json", strings.NewReader(inhibit))
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != http.StatusOK {
		t.Fatalf("post alerts to Alertmanager: %s", r.Status)
	}
	waitFor(t, 10*time.Second, "GOCPortalSlow is inhibited by GOCPortalDown", func() bool {
		return amInhibited(t, amAddr, "GOCPortalSlow", "https://down.example/")
	})
}

// promQuery reports whether an instant query returns any series.
func promQuery(t *testing.T, addr, q string) bool {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/api/v1/query?query=" + url.QueryEscape(q))
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	var out struct {
		Data struct {
			Result []json.RawMessage `json:"result"`
		} `json:"data"`
	}
	if json.NewDecoder(resp.Body).Decode(&out) != nil {
		return false
	}
	return len(out.Data.Result) > 0
}

// amInhibited reports whether Alertmanager holds the alert as inhibited.
func amInhibited(t *testing.T, addr, alertname, target string) bool {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/api/v2/alerts")
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	var alerts []struct {
		Labels map[string]string `json:"labels"`
		Status struct {
			InhibitedBy []string `json:"inhibitedBy"`
		} `json:"status"`
	}
	if json.NewDecoder(resp.Body).Decode(&alerts) != nil {
		return false
	}
	for _, a := range alerts {
		if a.Labels["alertname"] == alertname && a.Labels["target"] == target && len(a.Status.InhibitedBy) > 0 {
			return true
		}
	}
	return false
}
