// Package probe checks one agency portal: does it answer, how fast, over which TLS
// version and certificate, does plain HTTP redirect to HTTPS, does it answer over IPv6,
// is its DNS zone signed, is its page made for phones.
//
// As in blackbox_exporter, every check has the same shape (CheckFunc) and sits in one
// table (checks); adding a check is one file plus one entry there. One Prober serves
// any number of probes at once.
package probe

import (
	"bytes"
	"context"
	"crypto/x509"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"

	"github.com/g-oc/goc/collectors/probe/probeconfig"
	"github.com/g-oc/goc/internal/outbound"
	"github.com/g-oc/goc/internal/redact"
)

// Check names, as a target's `checks` list spells them; probeconfig holds them so
// that the configuration can be checked without the prober.
const (
	CheckHTTP          = probeconfig.CheckHTTP
	CheckHTTPSRedirect = probeconfig.CheckHTTPSRedirect
	CheckIPv6          = probeconfig.CheckIPv6
	CheckDNSSEC        = probeconfig.CheckDNSSEC
)

// CheckFunc is one kind of check. It fills its own part of r (no two checks write the
// same fields, so checks after the first run at the same time) and reports problems
// in r rather than returning them: a failed check is a finding, not an error.
type CheckFunc func(ctx context.Context, p *Prober, t Target, r *Result)

// checks is the table of every check, in the order they are listed and run.
var checks = []struct {
	name string
	fn   CheckFunc
}{
	{CheckHTTP, checkHTTP},
	{CheckHTTPSRedirect, checkHTTPSRedirect},
	{CheckIPv6, checkIPv6},
	{CheckDNSSEC, checkDNSSEC},
}

// CheckNames lists every check in the order they run.
func CheckNames() []string {
	out := make([]string, len(checks))
	for i, c := range checks {
		out[i] = c.name
	}
	return out
}

// Target is one portal to probe, as the configuration writes it.
type Target = probeconfig.Target

// Options configure a Prober.
type Options struct {
	// Timeout bounds one whole probe, every check included (default 10 s).
	Timeout time.Duration
	// MaxBodyBytes is how much of the page is read (default 1 MiB); the rest is left
	// unread and the result says the body was truncated.
	MaxBodyBytes int64
	// MaxRedirects is how many redirects are followed (default 10).
	MaxRedirects int
	// UserAgent is sent with every request.
	UserAgent string
	// Resolver is the DNS server (host:port) asked for A, AAAA and DNSSEC records.
	// Empty means the first nameserver of /etc/resolv.conf, and the system resolver
	// for the page fetch itself.
	Resolver string
	// RootCAs are the certificate authorities trusted for HTTPS (nil: the system's).
	RootCAs *x509.CertPool
	// TrustAnchors are the DS records DNSSEC validation starts from (nil: the IANA
	// root KSK-2017 and KSK-2024).
	TrustAnchors []*dns.DS
	// Checks is the default set of checks for targets that name none (nil: all).
	Checks []string
	// Now is the clock for certificate and signature validity (time.Now when nil).
	Now func() time.Time
	// Outbound lists the internal addresses probes may reach (loopback, private,
	// link-local...); nil allows none. Every connection, redirects included, is
	// checked at the address actually dialled.
	Outbound *outbound.Policy
}

// DefaultUserAgent names G-OC to portal operators reading their logs.
const DefaultUserAgent = probeconfig.DefaultUserAgent

// Prober runs probes. It holds settings and three bounded caches shared by its probes
// (chains that verified, TLS sessions to resume, DNSSEC keys proven above portals'
// zones), and is safe for concurrent use.
type Prober struct {
	opts     Options
	checks   []string
	resolver string        // miekg/dns queries go here
	netRes   *net.Resolver // page fetches resolve names here
	dns      *dns.Client
	bufs     chan *bytes.Buffer // page bodies' buffers, kept (see buffer)
	chains   verifiedChains
	sessions sessionCache
	proven   provenZones
}

// New checks the options and builds a Prober.
func New(o Options) (*Prober, error) {
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = 1 << 20
	}
	if o.MaxRedirects < 0 {
		return nil, fmt.Errorf("probe: max redirects %d is negative", o.MaxRedirects)
	}
	if o.MaxRedirects == 0 {
		o.MaxRedirects = 10
	}
	if o.UserAgent == "" {
		o.UserAgent = DefaultUserAgent
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.TrustAnchors == nil {
		o.TrustAnchors = RootAnchors()
	}
	names, err := checkList(o.Checks)
	if err != nil {
		return nil, fmt.Errorf("probe: %w", err)
	}
	p := &Prober{opts: o, checks: names, netRes: net.DefaultResolver, bufs: make(chan *bytes.Buffer, keptBuffers),
		dns: &dns.Client{Net: "udp", UDPSize: 4096}}
	if o.Resolver != "" {
		if _, _, err := net.SplitHostPort(o.Resolver); err != nil {
			return nil, fmt.Errorf("probe: resolver %q is not host:port", o.Resolver)
		}
		p.resolver = o.Resolver
		d := &net.Dialer{}
		p.netRes = &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return d.DialContext(ctx, network, o.Resolver)
		}}
	} else if cc, err := dns.ClientConfigFromFile("/etc/resolv.conf"); err == nil && len(cc.Servers) > 0 {
		p.resolver = net.JoinHostPort(cc.Servers[0], cc.Port)
	} else {
		p.resolver = "127.0.0.1:53"
	}
	return p, nil
}

// checkList validates check names and puts them in table order, CheckHTTP first.
func checkList(names []string) ([]string, error) {
	if len(names) == 0 {
		return CheckNames(), nil
	}
	out := []string{CheckHTTP}
	for _, n := range names {
		if !slices.Contains(CheckNames(), n) {
			return nil, fmt.Errorf("unknown check %q; known: %s", n, strings.Join(CheckNames(), ", "))
		}
	}
	for _, c := range checks[1:] {
		if slices.Contains(names, c.name) {
			out = append(out, c.name)
		}
	}
	return out, nil
}

// Options returns the prober's settings after defaults were filled in.
func (p *Prober) Options() Options { return p.opts }

// Probe runs every check of t and returns what they found. It never returns an error:
// a portal that cannot be reached is a failed probe with its reason in Error.
func (p *Prober) Probe(ctx context.Context, t Target) *Result {
	// The result is shown everywhere (store, API, metrics labels, logs): it names the
	// target with any credentials in its URL hidden. Only the request uses t.URL.
	r := &Result{Target: redact.URL(t.URL), Agency: t.Agency, Time: p.opts.Now().UTC(), Checks: map[string]CheckStatus{}}
	defer func() {
		r.FinalURL = redact.URL(r.FinalURL)
		r.Error = redact.Text(r.Error)
	}()
	ctx, cancel := context.WithTimeout(ctx, p.opts.Timeout)
	defer cancel()
	u, err := url.Parse(t.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		r.Error = fmt.Sprintf("địa chỉ không hợp lệ / not an http(s) URL: %q", redact.URL(t.URL))
		return r
	}
	names := p.checks
	if len(t.Checks) > 0 {
		if names, err = checkList(t.Checks); err != nil {
			r.Error = err.Error()
			return r
		}
	}
	// The page fetch comes first and alone: its duration is the probe's headline
	// figure, and must not share the CPU with the other checks. The others are
	// independent lookups and run together.
	start := time.Now()
	timed(ctx, p, t, r, CheckHTTP, checkHTTP)
	var wg sync.WaitGroup
	var mu sync.Mutex // guards r.Checks only; each check owns its other fields
	for _, c := range checks[1:] {
		if !slices.Contains(names, c.name) {
			continue
		}
		wg.Go(func() {
			st := time.Now()
			c.fn(ctx, p, t, r)
			mu.Lock()
			r.Checks[c.name] = CheckStatus{Seconds: time.Since(st).Seconds()}
			mu.Unlock()
		})
	}
	wg.Wait()
	r.Seconds = time.Since(start).Seconds()
	r.Success = r.HTTPStatus >= 200 && r.HTTPStatus < 400 && r.Error == "" &&
		(r.TLS == nil || r.TLS.CertValid) && (r.ContentMatch == nil || *r.ContentMatch)
	if r.Error == "" && !r.Success {
		r.Error = r.failureReason()
	}
	return r
}

func timed(ctx context.Context, p *Prober, t Target, r *Result, name string, fn CheckFunc) {
	st := time.Now()
	fn(ctx, p, t, r)
	r.Checks[name] = CheckStatus{Seconds: time.Since(st).Seconds()}
}

// failureReason explains a probe that got an answer but still failed.
func (r *Result) failureReason() string {
	switch {
	case r.HTTPStatus < 200 || r.HTTPStatus >= 400:
		return fmt.Sprintf("mã trạng thái HTTP %d / HTTP status %d", r.HTTPStatus, r.HTTPStatus)
	case r.TLS != nil && !r.TLS.CertValid:
		return "chứng thư số không hợp lệ / invalid certificate: " + r.TLS.CertError
	case r.ContentMatch != nil && !*r.ContentMatch:
		return "trang không chứa nội dung mong đợi / page lacks the expected content"
	}
	return "thất bại / failed"
}

// hostOf is the URL's host name without port or IPv6 brackets.
func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Hostname()
}
