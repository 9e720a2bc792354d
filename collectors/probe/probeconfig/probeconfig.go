// Package probeconfig is the probe collector's configuration: the settings of
// collectors.probes and its targets as goc.yaml writes them, and their validation
// (as blackbox_exporter keeps validation on the module type). It imports no network
// code, so internal/config composes it without linking the prober, and the prober
// takes its Target as it is.
package probeconfig

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/g-oc/goc/internal/problem"
)

// Check names, as a target's `checks` list spells them.
const (
	// CheckHTTP fetches the page: status, phase timings, body, expected content, TLS
	// facts and the viewport meta tag. Every probe runs it.
	CheckHTTP = "http"
	// CheckHTTPSRedirect asks whether plain http:// answers with a redirect to https://.
	CheckHTTPSRedirect = "https_redirect"
	// CheckIPv6 looks up AAAA records and fetches the page over IPv6.
	CheckIPv6 = "ipv6"
	// CheckDNSSEC validates the portal's DNS zone from a trust anchor down.
	CheckDNSSEC = "dnssec"
)

// CheckNames lists every check in the order they run; the prober's table of checks
// holds exactly these (a test of collectors/probe says so).
func CheckNames() []string {
	return []string{CheckHTTP, CheckHTTPSRedirect, CheckIPv6, CheckDNSSEC}
}

// DefaultUserAgent names G-OC to portal operators reading their logs.
const DefaultUserAgent = "G-OC-probe/1 (he-thong-giam-sat-chinh-phu-so)"

// Probes is collectors.probes: how portals are probed, and which.
type Probes struct {
	Interval     time.Duration
	Timeout      time.Duration
	MaxBodyBytes int64
	MaxRedirects int
	UserAgent    string
	// Resolver is the DNS server (host:port) for AAAA and DNSSEC lookups; empty means
	// the first nameserver of /etc/resolv.conf.
	Resolver string
	// TrustAnchorsFile holds DNSSEC trust anchors as DS records; empty means the IANA
	// root anchors. Resolved against the config file's folder.
	TrustAnchorsFile string
	// Checks are the checks run on every target that names none; empty means all.
	Checks []string
	// RegistryPortals adds the portal of every agency in the registry that exists today.
	RegistryPortals bool
	// Retention is how long probe history is kept (0: for ever).
	Retention time.Duration
	// Summary writes the monthly portal indicators from probe history.
	Summary bool
	Targets []Target
}

// Target is one portal to probe.
type Target struct {
	URL    string `json:"url"`
	Agency string `json:"agency,omitempty"`
	// Expect, when set, is text the page body must contain for the probe to succeed.
	Expect string `json:"expect,omitempty"`
	// HTTPURL is the plain-HTTP address whose redirect to HTTPS is checked. Empty means
	// the target URL with http:// and the default port, which is right for every portal
	// on standard ports; a test server on a random port names its own.
	HTTPURL string `json:"http_url,omitempty"`
	// Checks limits the probe to these checks (CheckHTTP always runs); empty means
	// every check the Prober has.
	Checks []string `json:"checks,omitempty"`
	// Interval overrides probes.interval when set; the scheduler's, not the prober's.
	Interval time.Duration `json:"-"`
}

// Validate reports what is wrong with the probe settings at path (such as
// "collectors.probes") and with each of their targets. Values that do not parse are
// the file reader's to report; Validate judges the values it is given.
func (p Probes) Validate(path string) []problem.Problem {
	var out []problem.Problem
	if p.Timeout > p.Interval {
		out = append(out, problem.At(path+".timeout",
			"timeout %s is longer than the interval %s: a slow portal would miss every other probe", p.Timeout, p.Interval).
			RestingOn(path+".interval"))
	}
	out = append(out, validateChecks(path+".checks", p.Checks)...)
	for i, t := range p.Targets {
		q := path + ".targets[" + strconv.Itoa(i) + "]"
		out = append(out, t.Validate(q)...)
		if t.Interval > 0 && p.Timeout > t.Interval {
			out = append(out, problem.At(q+".interval", "interval %s is shorter than probes.timeout %s", t.Interval, p.Timeout).
				RestingOn(path+".timeout"))
		}
	}
	return out
}

// Validate reports what is wrong with the target at path.
func (t Target) Validate(path string) []problem.Problem {
	var out []problem.Problem
	if t.URL == "" {
		out = append(out, problem.At(path+".url", "required: the portal's address, such as https://langson.gov.vn"))
	}
	if t.Agency == "" {
		out = append(out, problem.At(path+".agency", "required: the code of the agency whose portal it is"))
	}
	return append(out, validateChecks(path+".checks", t.Checks)...)
}

func validateChecks(path string, checks []string) []problem.Problem {
	var out []problem.Problem
	for _, c := range checks {
		if !slices.Contains(CheckNames(), c) {
			out = append(out, problem.At(path, "unknown check %q; known: %s", c, strings.Join(CheckNames(), ", ")))
		}
	}
	return out
}
