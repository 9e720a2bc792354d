package config

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestExampleConfigDocumentsTheCollectors(t *testing.T) {
	c, err := Load(filepath.Join("testdata", "example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	co := c.Collectors
	p := co.Probes
	if co.BatchWindow != 25*time.Millisecond {
		t.Errorf("batch window = %s", co.BatchWindow)
	}
	if co.Concurrency != 300 || p.Interval != time.Minute || p.Timeout != 10*time.Second || p.MaxBodyBytes != 1<<20 ||
		p.MaxRedirects != 10 || p.Retention != 840*time.Hour || !p.Summary || p.RegistryPortals || len(p.Checks) != 4 {
		t.Errorf("probes = %+v", p)
	}
	if len(p.Targets) != 1 || p.Targets[0].URL != "https://langson.gov.vn/" || p.Targets[0].Agency != "P20" || p.Targets[0].Expect != "Lạng Sơn" {
		t.Errorf("targets = %+v", p.Targets)
	}
	if len(co.Feeds) != 1 {
		t.Fatalf("feeds = %+v", co.Feeds)
	}
	f := co.Feeds[0]
	if f.Name != "lang-son-kpi" || f.Format != "json" || f.Interval != 15*time.Minute || f.MaxBytes != 10<<20 ||
		f.Records != "data.values" || f.Fields.Indicator != "kpi" || f.Fields.Denominator != "den" {
		t.Errorf("feed = %+v", f)
	}
}

func TestEmptyCollectorsSectionTakesTheDefaults(t *testing.T) {
	c, err := Parse("goc.yaml", []byte("store: {path: goc.db}\n"), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if c.Collectors.Concurrency != 300 || c.Collectors.Probes.Interval != time.Minute || len(c.Collectors.Probes.Targets) != 0 {
		t.Errorf("collectors = %+v", c.Collectors)
	}
}

func TestBatchWindowIsOffOrAShortDuration(t *testing.T) {
	for _, tc := range []struct {
		in, problem string
		want        time.Duration
	}{
		{in: "", want: 0}, // the scheduler's default
		{in: "off", want: -1},
		{in: "0", want: -1},
		{in: "2ms", want: 2 * time.Millisecond},
		{in: "1s", want: time.Second},
		{in: "500us", problem: `:3: collectors.batch_window: "500us" is under 1ms`},
		{in: "2s", problem: `:3: collectors.batch_window: "2s" must be off or a duration from 1ms to 1s`},
		{in: "-5ms", problem: `:3: collectors.batch_window: "-5ms" must be off`},
		{in: "soon", problem: `:3: collectors.batch_window: "soon" must be off`},
	} {
		t.Run(tc.in, func(t *testing.T) {
			c, err := Parse("goc.yaml", []byte("store: {path: goc.db}\ncollectors:\n  batch_window: "+tc.in+"\n"), t.TempDir())
			if tc.problem != "" {
				if err == nil || !strings.Contains(err.Error(), "goc.yaml"+tc.problem) {
					t.Fatalf("error = %v, want one starting goc.yaml%s", err, tc.problem)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Collectors.BatchWindow != tc.want {
				t.Errorf("batch window = %s, want %s", c.Collectors.BatchWindow, tc.want)
			}
		})
	}
}

func TestEveryCollectorMistakeIsReportedWithItsLine(t *testing.T) {
	name := filepath.Join("testdata", "invalid-collectors.yml")
	_, err := Load(name)
	want := []string{
		`:4: collectors.concurrency: "-3" must be a whole number above 0`,
		`:7: collectors.probes.timeout: timeout 1m0s is longer than the interval 30s`,
		`:8: collectors.probes.resolver: "127.0.0.1" is not host:port`,
		`:9: collectors.probes.retention: "240h" is shorter than 32 days`,
		`:10: collectors.probes.checks: unknown check "ping"; known: http, https_redirect, ipv6, dnssec`,
		`:12: collectors.probes.targets[0].url: "ftp://langson.gov.vn/" is not an http:// or https:// address`,
		`:14: collectors.probes.targets[1].agency: required`,
		`:15: collectors.probes.targets[2].url: https://mof.gov.vn/ is listed twice; first at line 14`,
		`:17: collectors.probes.targets[2].http_url: "https://mof.gov.vn/" is not an http:// address`,
		`:18: collectors.probes.targets[2].intervl: unknown key; known keys here: agency, checks, expect, http_url, interval, url`,
		`:20: collectors.feeds[0].name: "Lang Son KPI": use lowercase letters`,
		`:22: collectors.feeds[0].format: unknown format "yaml"; known: json, csv, prometheus, xlsx`,
		`:23: collectors.feeds[0].period: `,
		`:25: collectors.feeds[0].fields.amount: unknown key`,
		`:26: collectors.feeds[1].url: required`,
	}
	ps := problemsOf(t, err)
	lines := strings.Split(err.Error(), "\n")
	if len(ps) != len(want) {
		t.Errorf("got %d problems, want %d:\n%v", len(ps), len(want), err)
	}
	for _, w := range want {
		found := false
		for _, l := range lines {
			if strings.HasPrefix(l, name+w) {
				found = true
			}
		}
		if !found {
			t.Errorf("missing %s%s…", name, w)
		}
	}
}

func TestUnknownAgencyOfATargetOrFeedIsReportedWithItsLine(t *testing.T) {
	c, err := Parse("goc.yaml", []byte(`store: {path: goc.db}
collectors:
  probes:
    targets:
      - url: https://langson.gov.vn/
        agency: P20
      - url: https://nowhere.gov.vn/
        agency: P99
  feeds:
    - name: kpi
      url: https://kpi.example.gov.vn/kpi.csv
      format: csv
      agency: X1
`), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	err = c.CheckAgencies(func(code string) bool { return code == "P20" })
	want := "goc.yaml:8: collectors.probes.targets[1].agency: unknown agency \"P99\"\ngoc.yaml:13: collectors.feeds[0].agency: unknown agency \"X1\""
	if err == nil || err.Error() != want {
		t.Fatalf("err =\n%v\nwant\n%s", err, want)
	}
}

// Each collector judges its own settings and names the place by path; the file's
// reader puts each at its line, reports no default in place of a value it could not
// read, and judges what spans the list itself.
func TestCollectorSettingsAreJudgedOnceEachAtItsLine(t *testing.T) {
	for _, c := range []struct {
		name, yaml string
		want       string
	}{
		{"unreadable probe interval: the timeout is not judged against the default", `store: {path: goc.db}
collectors:
  probes:
    interval: often
    timeout: 2m
`, `goc.yaml:4: collectors.probes.interval: "often" is not a duration; write e.g. 15s, 2m or 1h30m`},
		{"unreadable feed interval", `store: {path: goc.db}
collectors:
  feeds:
    - name: kpi
      url: https://kpi.example.gov.vn/kpi.csv
      format: csv
      interval: -1m
      timeout: 20m
`, `goc.yaml:7: collectors.feeds[0].interval: "-1m" must be positive`},
		{"a feed name twice, and a bad name twice reported as bad only", `store: {path: goc.db}
collectors:
  feeds:
    - {name: kpi, url: "https://a.gov.vn/k.csv", format: csv}
    - {name: kpi, url: "https://b.gov.vn/k.csv", format: csv}
    - {name: K P I, url: "https://c.gov.vn/k.csv", format: csv}
    - {name: K P I, url: "https://d.gov.vn/k.csv", format: csv}
`, `goc.yaml:5: collectors.feeds[1].name: "kpi" already names the feed at line 4
goc.yaml:6: collectors.feeds[2].name: "K P I": use lowercase letters, digits, '.', '_' and '-' (at most 63)
goc.yaml:7: collectors.feeds[3].name: "K P I": use lowercase letters, digits, '.', '_' and '-' (at most 63)`},
		{"a target with nothing: each missing key at the target's line", `store: {path: goc.db}
collectors:
  probes:
    targets:
      - expect: Lạng Sơn
        checks:
          - http
          - ping
`, `goc.yaml:5: collectors.probes.targets[0].url: required: the portal's address, such as https://langson.gov.vn
goc.yaml:5: collectors.probes.targets[0].agency: required: the code of the agency whose portal it is
goc.yaml:6: collectors.probes.targets[0].checks: unknown check "ping"; known: http, https_redirect, ipv6, dnssec`},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse("goc.yaml", []byte(c.yaml), t.TempDir())
			if err == nil || err.Error() != c.want {
				t.Errorf("err =\n%v\nwant\n%s", err, c.want)
			}
		})
	}
}
