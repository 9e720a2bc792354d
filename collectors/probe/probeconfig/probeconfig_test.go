package probeconfig_test

import (
	"slices"
	"testing"
	"time"

	"github.com/g-oc/goc/collectors/probe/probeconfig"
)

func TestProbesValidateNamesEachMistakeByItsPath(t *testing.T) {
	ok := probeconfig.Target{URL: "https://langson.gov.vn/", Agency: "P20"}
	for _, c := range []struct {
		name string
		p    probeconfig.Probes
		want []string // "path: message"
	}{
		{"good", probeconfig.Probes{Interval: time.Minute, Timeout: 10 * time.Second, Targets: []probeconfig.Target{ok}}, nil},
		{"timeout over interval", probeconfig.Probes{Interval: 30 * time.Second, Timeout: time.Minute},
			[]string{"p.timeout: timeout 1m0s is longer than the interval 30s: a slow portal would miss every other probe"}},
		{"unknown checks", probeconfig.Probes{Interval: time.Minute, Checks: []string{"http", "ping", "hsts"}},
			[]string{`p.checks: unknown check "ping"; known: http, https_redirect, ipv6, dnssec`,
				`p.checks: unknown check "hsts"; known: http, https_redirect, ipv6, dnssec`}},
		{"target", probeconfig.Probes{Interval: time.Minute, Timeout: 20 * time.Second, Targets: []probeconfig.Target{ok,
			{Interval: 10 * time.Second, Checks: []string{"ipv7"}}}},
			[]string{"p.targets[1].url: required: the portal's address, such as https://langson.gov.vn",
				"p.targets[1].agency: required: the code of the agency whose portal it is",
				`p.targets[1].checks: unknown check "ipv7"; known: http, https_redirect, ipv6, dnssec`,
				"p.targets[1].interval: interval 10s is shorter than probes.timeout 20s"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var got []string
			for _, p := range c.p.Validate("p") {
				if p.Line != 0 || p.File != "" {
					t.Errorf("%v: Validate knows no file or line", p)
				}
				got = append(got, p.Path+": "+p.Message)
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("got\n%q\nwant\n%q", got, c.want)
			}
		})
	}
}
