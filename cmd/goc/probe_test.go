package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/g-oc/goc/collectors/probe"
	"github.com/g-oc/goc/collectors/probe/probetest"
)

const probePage = `<!doctype html><html><head><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Cổng thông tin điện tử</title></head><body>Cổng thông tin điện tử tỉnh Lạng Sơn</body></html>`

func servePage(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	io.WriteString(w, probePage)
}

// TestProbeCommandReportsEveryFieldAsJSON is the "tried as a new user would":
// goc probe on a local TLS server, over names served by a local DNS server with a
// signed zone, reports every field.
func TestProbeCommandReportsEveryFieldAsJSON(t *testing.T) {
	dir := t.TempDir()
	ca := probetest.NewCA(t)
	caFile := filepath.Join(dir, "ca.pem")
	os.WriteFile(caFile, ca.PEM(), 0o600)

	dns := probetest.StartDNS(t)
	top := dns.Zone(t, "test.").Sign(t)
	zone := dns.Zone(t, "langson.test.").Sign(t)
	top.Delegate(t, zone)
	zone.Add(t, "www.langson.test. 300 IN A 127.0.0.1", "www.langson.test. 300 IN AAAA ::1")
	anchors := filepath.Join(dir, "anchors.txt")
	os.WriteFile(anchors, []byte("; the test root of trust\n"+top.DS().String()+"\n"), 0o600)

	cert := ca.Valid(t, "www.langson.test", "127.0.0.1")
	port := probetest.DualStack(t, &cert, http.HandlerFunc(servePage))
	plain := probetest.DualStack(t, nil, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, fmt.Sprintf("https://www.langson.test:%d/", port), http.StatusMovedPermanently)
	}))

	url := fmt.Sprintf("https://www.langson.test:%d/", port)
	out, errOut, code := runGoc(t, "probe", url, "--json", "--ca-file", caFile, "--resolver", dns.Addr,
		"--trust-anchors", anchors, "--http-url", fmt.Sprintf("http://www.langson.test:%d/", plain),
		"--expect", "Lạng Sơn", "--agency", "P20",
		// The name resolves to loopback: allowed explicitly, as an operator would.
		"--allow", "127.0.0.1/32", "--allow", "::1/128")
	if code != 0 {
		t.Fatalf("exit %d\nstdout %s\nstderr %s", code, out, errOut)
	}
	var r probe.Result
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("stdout is not a probe result: %v\n%s", err, out)
	}
	// Every field the issue lists: success, status, phases, body, redirects, content,
	// TLS version, expiry and validity, http→https, IPv6, DNSSEC, mobile.
	for _, key := range []string{`"success": true`, `"http_status": 200`, `"resolve":`, `"connect":`, `"tls":`,
		`"processing":`, `"total":`, `"body_bytes":`, `"redirects": 0`, `"content_match": true`, `"version": "TLS 1.3"`,
		`"cert_expiry":`, `"cert_valid": true`, `"https_redirect": {`, `"aaaa": true`, `"reachable": true`,
		`"status": "signed-valid"`, `"mobile_ready": true`} {
		if !strings.Contains(out, key) {
			t.Errorf("the JSON lacks %s", key)
		}
	}
	if r.Phases.Resolve <= 0 || r.Phases.Connect <= 0 || r.Phases.TLS <= 0 || r.Phases.Processing <= 0 ||
		!r.HTTPSRedirect.OK || !r.TLS.CertExpiry.Equal(cert.Leaf.NotAfter) || r.Agency != "P20" {
		t.Errorf("result = %+v", r)
	}

	// The same server by IP address, trusting only the system's roots: the probe fails
	// on the certificate, and still reports every fact it found.
	out, errOut, code = runGoc(t, "probe", fmt.Sprintf("https://127.0.0.1:%d/", port), "--json")
	if code != 1 || !strings.Contains(errOut, "unknown authority") {
		t.Fatalf("exit %d, stderr %q; want 1 and the certificate's fault", code, errOut)
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil || r.Success || r.HTTPStatus != 200 || r.TLS == nil || r.TLS.CertValid ||
		r.TLS.Version != "TLS 1.3" || r.DNSSEC.Detail == "" || r.IPv6.Detail == "" || !r.MobileReady {
		t.Errorf("err %v, result %+v", err, r)
	}
}

func TestProbeCommandPrintsAReadableResultAndExitsOneWhenDown(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(servePage))
	defer up.Close()
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "bảo trì / maintenance", http.StatusServiceUnavailable)
	}))
	defer down.Close()
	// A port the kernel gave and that nothing listens on any more: an https portal
	// that is off.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	off := "https://" + l.Addr().String() + "/"
	l.Close()
	tests := []struct {
		args           []string
		code           int
		stdout, stderr string
		notStdout      string
	}{
		{[]string{"probe", up.URL, "--checks", "http,https_redirect"}, 0, "ĐẠT / UP", "", "KHÔNG ĐẠT"},
		{[]string{"probe", down.URL}, 1, "KHÔNG ĐẠT / DOWN", "HTTP status 503", ""},
		{[]string{"probe", off}, 1, "TLS                      không bắt tay được / no handshake", "", "none (http://)"},
		{[]string{"probe"}, 2, "", "the portal URL is missing", ""},
		{[]string{"probe", up.URL, "--checks", "ping"}, 2, "", `unknown check "ping"`, ""},
		{[]string{"probe", up.URL, "extra"}, 2, "", "unexpected arguments", ""},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			out, errOut, code := runGoc(t, tt.args...)
			if code != tt.code || !strings.Contains(out, tt.stdout) || !strings.Contains(errOut, tt.stderr) ||
				(tt.notStdout != "" && strings.Contains(out, tt.notStdout)) {
				t.Fatalf("exit %d (want %d)\nstdout %s\nstderr %s", code, tt.code, out, errOut)
			}
		})
	}
	out, _, _ := runGoc(t, "probe", up.URL)
	for _, line := range []string{"HTTP", "thời gian / timings", "TLS", "http → https", "IPv6", "DNSSEC", "di động / mobile"} {
		if !strings.Contains(out, "  "+line) {
			t.Errorf("readable output lacks the %q line:\n%s", line, out)
		}
	}
}

// TestServeProbesConfiguredPortalsAndReportsAMalformedFeed runs goc serve as an
// operator would, with two loopback portals and a feed whose payload is malformed.
func TestServeProbesConfiguredPortalsAndReportsAMalformedFeed(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(servePage))
	defer up.Close()
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "maintenance", http.StatusServiceUnavailable)
	}))
	defer down.Close()
	kpi := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "indicator,agency,period,value,numerator,denominator\n"+
			"dossiers_fully_online,P20,2026-Q1,,5123,7410\n"+
			"dossiers_fully_online,P20,2026-Q2,,\"12,5\",7410\n")
	}))
	defer kpi.Close()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "goc.yaml")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`server: {addr: "127.0.0.1:0"}
store: {path: goc.db}
collectors:
  allow_internal: [%s, %s, %s]
  probes:
    interval: 1s
    timeout: 1s
    targets:
      - {url: %q, agency: P20, expect: "Lạng Sơn"}
      - {url: %q, agency: BTC}
  feeds:
    - {name: lang-son-kpi, url: %q, format: csv, interval: 1s, timeout: 1s}
`, up.Listener.Addr(), down.Listener.Addr(), kpi.Listener.Addr(), up.URL+"/", down.URL+"/", kpi.URL+"/kpi.csv")), 0o600)
	if out, errOut, code := runGoc(t, "validate", "--config", cfg); code != 0 {
		t.Fatalf("validate: exit %d\n%s%s", code, out, errOut)
	}
	s := startGoc(t, "serve", "--config", cfg)
	var probes struct {
		Count, Up, Down int
		Probes          []struct {
			Target, Agency string
			Success        bool
			HTTPStatus     int `json:"http_status"`
		}
	}
	deadline := time.Now().Add(15 * time.Second)
	for probes.Count < 2 && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
		s.getJSON(t, "/api/v1/probes", &probes)
	}
	if probes.Count != 2 || probes.Up != 1 || probes.Down != 1 || probes.Probes[0].HTTPStatus == 0 {
		t.Fatalf("probes = %+v", probes)
	}
	var feeds struct {
		Failing int
		Feeds   []struct {
			Name  string
			Error *struct {
				Reason   string
				Problems []struct{ Field, Reason string }
			}
		}
	}
	s.getJSON(t, "/api/v1/feeds", &feeds)
	if feeds.Failing != 1 || feeds.Feeds[0].Error == nil || feeds.Feeds[0].Error.Problems[0].Field != "dòng/line 3, cột/column 5 (numerator)" {
		t.Fatalf("feeds = %+v", feeds)
	}
	var obs struct{ Count int }
	s.getJSON(t, "/api/v1/observations?indicator=dossiers_fully_online&agency=P20", &obs)
	if obs.Count != 0 {
		t.Errorf("%d values stored from the malformed feed", obs.Count)
	}
	resp, err := http.Get(s.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	text, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		fmt.Sprintf(`probe_success{agency="P20",target=%q} 1`, up.URL+"/"),
		fmt.Sprintf(`probe_success{agency="BTC",target=%q} 0`, down.URL+"/"),
		fmt.Sprintf(`probe_http_status_code{agency="BTC",target=%q} 503`, down.URL+"/"),
		`goc_collector_jobs{kind="probe"} 2`,
		`goc_collector_overlapping_runs_total{kind="probe"} 0`,
		`goc_collector_missed_runs_total{kind="probe"}`,
		`goc_feed_errors_total{feed="lang-son-kpi",reason="invalid"}`,
	} {
		if !strings.Contains(string(text), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if err := s.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Wait(); err != nil {
		t.Errorf("goc serve did not stop cleanly on Ctrl-C: %v", err)
	}
}
