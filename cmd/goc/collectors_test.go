package main

import (
	"net"
	"testing"
	"time"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/internal/config"
)

func TestRegistryPortalsAddEveryCurrentPortalOnce(t *testing.T) {
	cfg, err := config.Parse("goc.yaml", []byte(`store: {path: goc.db}
collectors:
  probes:
    registry_portals: true
    targets:
      - {url: "https://chinhphu.vn", agency: VN, interval: 5m, expect: "Chính phủ"}
`), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	reg := indicators.DefaultRegistry()
	a := &app{cfg: cfg, registry: reg}
	now := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)
	jobs := a.probeJobs(now)
	want := 0
	for _, ag := range reg.All() {
		if ag.Portal != "" && ag.ActiveOn(now) {
			want++
		}
	}
	if len(jobs) != want || want < 40 {
		t.Fatalf("%d jobs, want one per current portal (%d)", len(jobs), want)
	}
	seen := map[string]bool{}
	for _, j := range jobs {
		if seen[j.Target.URL] {
			t.Errorf("%s is probed twice", j.Target.URL)
		}
		seen[j.Target.URL] = true
		if j.Target.URL == "https://chinhphu.vn" && (j.Interval != 5*time.Minute || j.Target.Expect != "Chính phủ") {
			t.Errorf("the configured target lost its settings: %+v", j)
		}
		if j.Target.URL != "https://chinhphu.vn" && j.Interval != time.Minute {
			t.Errorf("%s: interval %s, want the default 1m", j.Target.URL, j.Interval)
		}
	}
}

func TestSelfProbeOnlyEverTargetsLoopback(t *testing.T) {
	for addr, want := range map[string]string{
		"127.0.0.1:8080": "http://127.0.0.1:8080/healthz",
		"[::]:8080":      "http://127.0.0.1:8080/healthz",
		"[::1]:9090":     "http://[::1]:9090/healthz",
		"10.1.2.3:8080":  "",
	} {
		tcp, err := netResolveTCP(addr)
		if err != nil {
			t.Fatal(err)
		}
		if got := selfTarget(tcp); got != want {
			t.Errorf("%s: %q, want %q", addr, got, want)
		}
	}
}

func netResolveTCP(addr string) (*net.TCPAddr, error) { return net.ResolveTCPAddr("tcp", addr) }
