package probe_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/g-oc/goc/collectors/probe"
	"github.com/g-oc/goc/collectors/probe/probetest"
	"github.com/g-oc/goc/internal/outbound"
)

const portalPage = `<!doctype html><html lang="vi"><head><meta charset="utf-8">
<META content="width=device-width, initial-scale=1" NAME="Viewport">
<title>Cổng thông tin điện tử tỉnh Lạng Sơn</title></head>
<body><h1>Cổng thông tin điện tử</h1></body></html>`

const desktopPage = `<html><head><title>Portal</title></head><body>
<meta name="viewport" content="width=device-width"><p>late tags in the body do not count</p></body></html>`

func page(body string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, body)
	})
}

// world is a small Internet on loopback: a signed root-of-trust zone "test." with
// children that are signed, unsigned or broken, and the portals they point at.
type world struct {
	ca     *probetest.CA
	dns    *probetest.DNSServer
	anchor *dns.DS
}

func newWorld(t *testing.T) *world {
	t.Helper()
	w := &world{ca: probetest.NewCA(t), dns: probetest.StartDNS(t)}
	top := w.dns.Zone(t, "test.").Sign(t)
	w.anchor = top.DS()

	signed := w.dns.Zone(t, "signed.test.").Sign(t)
	top.Delegate(t, signed)
	signed.Add(t, "www.signed.test. 300 IN A 127.0.0.1", "www.signed.test. 300 IN AAAA ::1",
		"alias.signed.test. 300 IN CNAME www.signed.test.")

	w.dns.Zone(t, "unsigned.test.").Add(t, "www.unsigned.test. 300 IN A 127.0.0.1")

	bogus := w.dns.Zone(t, "bogus.test.").Sign(t)
	bogus.ExpiredSignatures = true
	top.Delegate(t, bogus)
	bogus.Add(t, "www.bogus.test. 300 IN A 127.0.0.1")

	island := w.dns.Zone(t, "island.test.").Sign(t) // signed, but test. has no DS for it
	island.Add(t, "www.island.test. 300 IN A 127.0.0.1")

	wrongDS := w.dns.Zone(t, "wrongds.test.").Sign(t)
	// A zone of the same name on another server: only its key is used, so the parent
	// points at a key the served zone does not have.
	stranger := probetest.StartDNS(t).Zone(t, "wrongds.test.").Sign(t)
	top.Delegate(t, stranger)
	wrongDS.Add(t, "www.wrongds.test. 300 IN A 127.0.0.1")

	noAAAA := w.dns.Zone(t, "v4only.test.").Sign(t)
	top.Delegate(t, noAAAA)
	noAAAA.Add(t, "www.v4only.test. 300 IN A 127.0.0.1", "dead6.v4only.test. 300 IN A 127.0.0.1",
		"dead6.v4only.test. 300 IN AAAA ::1")
	return w
}

func (w *world) prober(t *testing.T, o probe.Options) *probe.Prober {
	t.Helper()
	o.Resolver = w.dns.Addr
	o.RootCAs = w.ca.Pool()
	o.TrustAnchors = []*dns.DS{w.anchor}
	if o.Outbound == nil {
		// Every portal of these tests is a loopback server: allowed explicitly, as an
		// operator allows an internal portal.
		o.Outbound = outbound.MustPolicy("127.0.0.1/32", "::1/128")
	}
	if o.Timeout == 0 {
		o.Timeout = 5 * time.Second
	}
	p, err := probe.New(o)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestHealthyTLSPortalReportsEveryField(t *testing.T) {
	w := newWorld(t)
	cert := w.ca.Valid(t, "www.signed.test")
	port := probetest.DualStack(t, &cert, page(portalPage))
	plain := probetest.DualStack(t, nil, http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		http.Redirect(rw, r, fmt.Sprintf("https://www.signed.test:%d%s", port, r.URL.Path), http.StatusMovedPermanently)
	}))
	p := w.prober(t, probe.Options{})
	target := probe.Target{
		URL:     fmt.Sprintf("https://www.signed.test:%d/", port),
		HTTPURL: fmt.Sprintf("http://www.signed.test:%d/", plain),
		Agency:  "P20",
		Expect:  "Cổng thông tin điện tử",
	}
	r := p.Probe(context.Background(), target)

	if !r.Success || r.Error != "" {
		t.Fatalf("success = %v, error = %q", r.Success, r.Error)
	}
	if r.HTTPStatus != 200 || r.Agency != "P20" || r.Redirects != 0 || r.FinalURL != target.URL {
		t.Errorf("status %d, agency %q, redirects %d, final %q", r.HTTPStatus, r.Agency, r.Redirects, r.FinalURL)
	}
	ph := r.Phases
	for name, v := range map[string]float64{"resolve": ph.Resolve, "connect": ph.Connect, "tls": ph.TLS,
		"processing": ph.Processing, "transfer": ph.Transfer, "total": ph.Total} {
		if v < 0 || (v == 0 && name != "transfer") {
			t.Errorf("phase %s = %v, want > 0", name, v)
		}
	}
	if sum := ph.Resolve + ph.Connect + ph.TLS + ph.Processing; sum > ph.Total {
		t.Errorf("phases add up to %v, more than the total %v", sum, ph.Total)
	}
	if r.BodyBytes != int64(len(portalPage)) || r.BodyTruncated {
		t.Errorf("body %d bytes (truncated %v), want %d", r.BodyBytes, r.BodyTruncated, len(portalPage))
	}
	if r.ContentMatch == nil || !*r.ContentMatch || !r.MobileReady {
		t.Errorf("content match %v, mobile %v", r.ContentMatch, r.MobileReady)
	}
	if r.TLS == nil || r.TLS.Version != "TLS 1.3" || !r.TLS.CertValid || !r.TLS.CertExpiry.Equal(cert.Leaf.NotAfter) {
		t.Errorf("tls = %+v, want TLS 1.3, valid, expiring %s", r.TLS, cert.Leaf.NotAfter)
	}
	if h := r.HTTPSRedirect; !h.Checked || !h.OK || h.Status != 301 || !strings.HasPrefix(h.Location, "https://") {
		t.Errorf("https redirect = %+v", h)
	}
	if v6 := r.IPv6; !v6.Checked || !v6.AAAA || !v6.Reachable || !slices.Equal(v6.Addresses, []string{"::1"}) {
		t.Errorf("ipv6 = %+v", v6)
	}
	if d := r.DNSSEC; d.Status != probe.DNSSECValid || d.Zone != "signed.test." || !slices.Equal(d.Chain, []string{"signed.test.", "test."}) {
		t.Errorf("dnssec = %+v", d)
	}
	if len(r.Checks) != 4 {
		t.Errorf("checks = %v, want all four", r.Checks)
	}
	sr := r.ProbeResult()
	if !sr.Success || !sr.CertValid || !sr.IPv6 || !sr.HTTPSRedirect || sr.DNSSEC != "signed-valid" || !sr.Mobile ||
		sr.TLSVersion != "TLS 1.3" || sr.Phases["processing"] != ph.Processing || sr.Phases["resolve"] != ph.Resolve {
		t.Errorf("store result = %+v", sr)
	}
}

func TestCertificateProblemsFailTheProbeWithTheReason(t *testing.T) {
	w := newWorld(t)
	strangerCA := probetest.NewCA(t)
	tests := []struct {
		name string
		make func() (certHosts []string, expired bool, ca *probetest.CA)
		want string
	}{
		{name: "expired", make: func() ([]string, bool, *probetest.CA) { return []string{"127.0.0.1"}, true, w.ca }, want: "expired"},
		{name: "wrong host", make: func() ([]string, bool, *probetest.CA) { return []string{"portal.example.gov.vn"}, false, w.ca }, want: "not for this host"},
		{name: "unknown authority", make: func() ([]string, bool, *probetest.CA) { return []string{"127.0.0.1"}, false, strangerCA }, want: "unknown authority"},
	}
	p := w.prober(t, probe.Options{Checks: []string{probe.CheckHTTP}})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hosts, expired, ca := tt.make()
			cert := ca.Valid(t, hosts...)
			if expired {
				cert = ca.Expired(t, hosts...)
			}
			srv := probetest.TLSServer(t, cert, page(portalPage))
			r := p.Probe(context.Background(), probe.Target{URL: srv.URL})
			if r.Success {
				t.Fatal("probe succeeded with a bad certificate")
			}
			if r.HTTPStatus != 200 || r.TLS == nil || r.TLS.CertValid || !strings.Contains(r.TLS.CertError, tt.want) ||
				!strings.Contains(r.Error, tt.want) {
				t.Fatalf("status %d, tls %+v, error %q; want the page, an invalid certificate and %q", r.HTTPStatus, r.TLS, r.Error, tt.want)
			}
			if !r.TLS.CertExpiry.Equal(cert.Leaf.NotAfter) {
				t.Errorf("cert expiry %s, want %s", r.TLS.CertExpiry, cert.Leaf.NotAfter)
			}
		})
	}
}

// TestVerifiedChainIsCheckedAgainWhenItExpiresOrTheHostDiffers probes one portal
// again and again, as the scheduler does, on a clock the test moves: the prober keeps
// the chains that verified, and that must never hide a certificate that has expired
// since (here 30 minutes after it verified, well inside the hour a chain is kept) nor
// the same chain served for a name it was not issued for.
func TestVerifiedChainIsCheckedAgainWhenItExpiresOrTheHostDiffers(t *testing.T) {
	w := newWorld(t)
	start := time.Now()
	var clock atomic.Int64
	clock.Store(start.UnixNano())
	p := w.prober(t, probe.Options{Checks: []string{probe.CheckHTTP}, Now: func() time.Time { return time.Unix(0, clock.Load()) }})
	cert := w.ca.Issue(t, []string{"127.0.0.1"}, start.Add(-time.Hour), start.Add(30*time.Minute))
	srv := probetest.TLSServer(t, cert, page(portalPage))
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(srv.URL, "https://"))
	for _, step := range []struct {
		name  string
		at    time.Duration
		url   string
		valid bool
		want  string
	}{
		{name: "first probe", at: 0, url: srv.URL, valid: true},
		{name: "a minute later", at: time.Minute, url: srv.URL, valid: true},
		{name: "the same chain for another name", at: 2 * time.Minute, url: "https://www.unsigned.test:" + port + "/", want: "not for this host"},
		{name: "29 minutes later", at: 29 * time.Minute, url: srv.URL, valid: true},
		{name: "after the certificate expired", at: 31 * time.Minute, url: srv.URL, want: "expired"},
	} {
		clock.Store(start.Add(step.at).UnixNano())
		r := p.Probe(context.Background(), probe.Target{URL: step.url})
		if r.TLS == nil || r.TLS.CertValid != step.valid || r.Success != step.valid || !strings.Contains(r.TLS.CertError, step.want) {
			t.Fatalf("%s: success %v, tls %+v, error %q; want valid %v and %q", step.name, r.Success, r.TLS, r.Error, step.valid, step.want)
		}
	}
}

// TestTLSSessionIsResumedForAnHourAndItsCertificateStillChecked probes portals again
// and again on a clock the test moves, as the scheduler does a minute apart. The page
// fetch resumes the portal's TLS session (the server says whether it resumed), and
// that must never hide a certificate that expired since (checked at each probe's
// time), nor keep a certificate the server replaced for longer than an hour: the
// first probe an hour after the full handshake makes a full one again and reports
// the certificate the server now sends.
func TestTLSSessionIsResumedForAnHourAndItsCertificateStillChecked(t *testing.T) {
	w := newWorld(t)
	start := time.Now()
	var clock atomic.Int64
	clock.Store(start.UnixNano())
	p := w.prober(t, probe.Options{Checks: []string{probe.CheckHTTP}, Now: func() time.Time { return time.Unix(0, clock.Load()) }})
	other := w.prober(t, probe.Options{Checks: []string{probe.CheckHTTP}, Now: func() time.Time { return time.Unix(0, clock.Load()) }})

	// A portal that renews its certificate while sessions of the old one are about.
	first := w.ca.Issue(t, []string{"127.0.0.1"}, start.Add(-time.Hour), start.Add(3*time.Hour))
	renewed := w.ca.Issue(t, []string{"127.0.0.1"}, start.Add(-time.Hour), start.Add(5*time.Hour))
	var current atomic.Pointer[tls.Certificate]
	current.Store(&first)
	var resumedAt atomic.Bool // what the server saw on the last request
	seen := http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		resumedAt.Store(r.TLS.DidResume)
		page(portalPage).ServeHTTP(rw, r)
	})
	renewing := httptest.NewUnstartedServer(seen)
	renewing.Listener = tls.NewListener(renewing.Listener, &tls.Config{
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return current.Load(), nil }})
	renewing.Start()
	defer renewing.Close()
	renewingURL := "https://" + renewing.Listener.Addr().String()
	// A portal whose certificate expires 30 minutes in, inside the hour of its session.
	expiring := probetest.TLSServer(t, w.ca.Issue(t, []string{"127.0.0.1"}, start.Add(-time.Hour), start.Add(30*time.Minute)), seen)

	type step struct {
		name    string
		at      time.Duration
		url     string
		other   bool // probed by the second prober
		renew   bool // the portal serves the renewed certificate from now on
		resumed bool
		expiry  time.Time
		valid   bool
		want    string
	}
	for _, s := range []step{
		{name: "first probe: full handshake", at: 0, url: renewingURL, expiry: first.Leaf.NotAfter, valid: true},
		{name: "a minute later: resumed", at: time.Minute, url: renewingURL, resumed: true, expiry: first.Leaf.NotAfter, valid: true},
		{name: "renewed, resumed: the old certificate still reported", at: 30 * time.Minute, url: renewingURL, renew: true, resumed: true, expiry: first.Leaf.NotAfter, valid: true},
		{name: "59 minutes in: resumed", at: 59 * time.Minute, url: renewingURL, resumed: true, expiry: first.Leaf.NotAfter, valid: true},
		{name: "an hour after the full handshake: full again, the renewed certificate", at: 61 * time.Minute, url: renewingURL, expiry: renewed.Leaf.NotAfter, valid: true},
		{name: "and its session resumed", at: 62 * time.Minute, url: renewingURL, resumed: true, expiry: renewed.Leaf.NotAfter, valid: true},
		// Another prober: a session is kept by server name, and both portals are 127.0.0.1.
		{name: "expiring portal: full handshake", other: true, at: 0, url: expiring.URL, expiry: start.Add(30 * time.Minute), valid: true},
		{name: "expiring portal 29 minutes later: resumed", other: true, at: 29 * time.Minute, url: expiring.URL, resumed: true, expiry: start.Add(30 * time.Minute), valid: true},
		{name: "expiring portal once expired: resumed, and reported expired", other: true, at: 31 * time.Minute, url: expiring.URL, resumed: true, expiry: start.Add(30 * time.Minute), want: "expired"},
	} {
		if s.renew {
			current.Store(&renewed)
		}
		clock.Store(start.Add(s.at).UnixNano())
		prober := p
		if s.other {
			prober = other
		}
		r := prober.Probe(context.Background(), probe.Target{URL: s.url})
		if r.TLS == nil {
			t.Fatalf("%s: no TLS facts (%s)", s.name, r.Error)
		}
		if resumedAt.Load() != s.resumed || r.TLS.Resumed != s.resumed {
			t.Errorf("%s: the server saw a resumed session %v, the result says %v; want %v", s.name, resumedAt.Load(), r.TLS.Resumed, s.resumed)
		}
		if !r.TLS.CertExpiry.Equal(s.expiry.UTC().Truncate(time.Second)) || r.TLS.CertValid != s.valid || r.Success != s.valid || !strings.Contains(r.TLS.CertError, s.want) {
			t.Errorf("%s: success %v, tls %+v; want expiry %s, valid %v, %q", s.name, r.Success, r.TLS, s.expiry.UTC(), s.valid, s.want)
		}
	}
}

// A probe's handshake offers one classical key share (X25519): an ML-KEM share costs
// a key generation and a decapsulation a handshake, which was a twelfth of the CPU of
// probing 10,000 portals a minute, and what the probe reports (reachable, timings,
// certificate) does not depend on it. A portal that takes only P-256 is still
// reached, after one HelloRetryRequest.
func TestProbeOffersOneClassicalKeyShareAndReachesAP256OnlyPortal(t *testing.T) {
	w := newWorld(t)
	p := w.prober(t, probe.Options{Checks: []string{probe.CheckHTTP}})
	now := time.Now()
	for _, c := range []struct {
		name   string
		curves []tls.CurveID // the server's
	}{
		{"server with Go's defaults", nil},
		{"server with P-256 only", []tls.CurveID{tls.CurveP256}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var offered atomic.Pointer[[]tls.CurveID]
			srv := httptest.NewUnstartedServer(page(portalPage))
			cert := w.ca.Issue(t, []string{"127.0.0.1"}, now.Add(-time.Hour), now.Add(time.Hour))
			srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, CurvePreferences: c.curves,
				GetConfigForClient: func(chi *tls.ClientHelloInfo) (*tls.Config, error) {
					curves := slices.Clone(chi.SupportedCurves)
					offered.Store(&curves)
					return nil, nil
				}}
			srv.StartTLS()
			defer srv.Close()
			r := p.Probe(context.Background(), probe.Target{URL: srv.URL})
			if !r.Success || r.TLS == nil || r.TLS.Version != "TLS 1.3" {
				t.Fatalf("probe failed: success %v, tls %+v, %s", r.Success, r.TLS, r.Error)
			}
			got := *offered.Load()
			if slices.Contains(got, tls.X25519MLKEM768) || len(got) == 0 || got[0] != tls.X25519 {
				t.Errorf("the probe offered groups %v, want X25519 first and no ML-KEM", got)
			}
		})
	}
}

func TestFaultyServersFailTheProbeWithTheReason(t *testing.T) {
	w := newWorld(t)
	slow := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(3 * time.Second):
		case <-r.Context().Done():
		}
	}))
	defer slow.Close()
	failing := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		http.Error(rw, "database down", http.StatusInternalServerError)
	}))
	defer failing.Close()
	loop := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		http.Redirect(rw, r, "/again", http.StatusFound)
	}))
	defer loop.Close()
	huge := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		io.WriteString(rw, portalPage)
		chunk := strings.Repeat("x", 64<<10)
		for range 1600 { // 100 MiB unless the prober stops reading
			if _, err := io.WriteString(rw, chunk); err != nil {
				return
			}
		}
	}))
	defer huge.Close()
	plain := httptest.NewServer(page(`<html><head><title>x</title></head><body>no portal here</body></html>`))
	defer plain.Close()
	late := httptest.NewServer(page(desktopPage))
	defer late.Close()
	closed, _ := net.Listen("tcp", "127.0.0.1:0")
	refused := "http://" + closed.Addr().String() + "/"
	closed.Close()

	p := w.prober(t, probe.Options{Timeout: 400 * time.Millisecond, MaxRedirects: 3, MaxBodyBytes: 64 << 10,
		Checks: []string{probe.CheckHTTP}})
	tests := []struct {
		name    string
		target  probe.Target
		success bool
		status  int
		errHas  string
		check   func(t *testing.T, r *probe.Result)
	}{
		{name: "slow server times out", target: probe.Target{URL: slow.URL}, errHas: "timed out after 400ms"},
		{name: "failing server", target: probe.Target{URL: failing.URL}, status: 500, errHas: "HTTP status 500"},
		{name: "redirect loop", target: probe.Target{URL: loop.URL}, status: 302, errHas: "stopped after 3 redirects",
			check: func(t *testing.T, r *probe.Result) {
				if r.Redirects != 3 {
					t.Errorf("redirects = %d, want 3", r.Redirects)
				}
			}},
		{name: "huge body is read up to the cap", target: probe.Target{URL: huge.URL}, success: true, status: 200,
			check: func(t *testing.T, r *probe.Result) {
				if r.BodyBytes != 64<<10 || !r.BodyTruncated || !r.MobileReady {
					t.Errorf("body %d bytes, truncated %v, mobile %v; want 65536, true, true", r.BodyBytes, r.BodyTruncated, r.MobileReady)
				}
			}},
		{name: "refused connection", target: probe.Target{URL: refused}, errHas: "connection refused"},
		{name: "expected content missing", target: probe.Target{URL: plain.URL, Expect: "Cổng thông tin"}, status: 200,
			errHas: "lacks the expected content", check: func(t *testing.T, r *probe.Result) {
				if r.ContentMatch == nil || *r.ContentMatch || r.MobileReady {
					t.Errorf("content match %v, mobile %v", r.ContentMatch, r.MobileReady)
				}
			}},
		{name: "viewport outside the head is not mobile ready", target: probe.Target{URL: late.URL}, success: true, status: 200,
			check: func(t *testing.T, r *probe.Result) {
				if r.MobileReady || r.ContentMatch != nil || r.TLS != nil {
					t.Errorf("mobile %v, content match %v, tls %v", r.MobileReady, r.ContentMatch, r.TLS)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := p.Probe(context.Background(), tt.target)
			if r.Success != tt.success || r.HTTPStatus != tt.status || !strings.Contains(r.Error, tt.errHas) {
				t.Fatalf("success %v, status %d, error %q; want %v, %d, …%s…", r.Success, r.HTTPStatus, r.Error, tt.success, tt.status, tt.errHas)
			}
			if r.Phases.Total > 2 {
				t.Errorf("probe took %.2fs: limits were not enforced", r.Phases.Total)
			}
			if tt.check != nil {
				tt.check(t, r)
			}
		})
	}
}

func TestDNSSECStatusOfEachKindOfZone(t *testing.T) {
	w := newWorld(t)
	p := w.prober(t, probe.Options{Timeout: 2 * time.Second, Checks: []string{probe.CheckDNSSEC}})
	tests := []struct {
		host, status, detail string
	}{
		{"www.signed.test", probe.DNSSECValid, ""},
		{"alias.signed.test", probe.DNSSECValid, ""},
		{"www.unsigned.test", probe.DNSSECUnsigned, "has no DNSKEY"},
		{"www.island.test", probe.DNSSECUnsigned, "parent publishes no DS"},
		{"www.bogus.test", probe.DNSSECBogus, "validity"},
		{"www.wrongds.test", probe.DNSSECBogus, "no DS at the parent matches"},
		{"127.0.0.1", "", "IP address has no DNS zone"},
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			r := p.Probe(context.Background(), probe.Target{URL: "http://" + tt.host + ":1/"})
			if d := r.DNSSEC; !d.Checked || d.Status != tt.status || !strings.Contains(d.Detail, tt.detail) {
				t.Fatalf("dnssec = %+v, want status %q with …%s…", d, tt.status, tt.detail)
			}
		})
	}
}

func TestIPv6NeedsAnAAAARecordAndAnAnswerOverIPv6(t *testing.T) {
	w := newWorld(t)
	v4only := httptest.NewServer(page(portalPage)) // 127.0.0.1 only
	defer v4only.Close()
	_, port, _ := net.SplitHostPort(v4only.Listener.Addr().String())
	both := probetest.DualStack(t, nil, page(portalPage))
	p := w.prober(t, probe.Options{Checks: []string{probe.CheckIPv6}})
	tests := []struct {
		url             string
		aaaa, reachable bool
		detail          string
	}{
		{fmt.Sprintf("http://www.signed.test:%d/", both), true, true, ""},
		{fmt.Sprintf("http://www.v4only.test:%s/", port), false, false, "no AAAA record"},
		{fmt.Sprintf("http://dead6.v4only.test:%s/", port), true, false, "no answer over IPv6"},
		{fmt.Sprintf("http://[::1]:%d/", both), true, true, ""},
		{v4only.URL, false, false, "IPv4 address"},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			r := p.Probe(context.Background(), probe.Target{URL: tt.url})
			if v := r.IPv6; v.AAAA != tt.aaaa || v.Reachable != tt.reachable || !strings.Contains(v.Detail, tt.detail) {
				t.Fatalf("ipv6 = %+v, want aaaa %v reachable %v …%s…", v, tt.aaaa, tt.reachable, tt.detail)
			}
			if !r.Success {
				t.Errorf("the page itself failed: %s", r.Error)
			}
		})
	}
}

func TestHTTPSRedirectCheck(t *testing.T) {
	w := newWorld(t)
	tlsSrv := probetest.TLSServer(t, w.ca.Valid(t, "127.0.0.1"), page(portalPage))
	redirecting := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		http.Redirect(rw, r, tlsSrv.URL+"/", http.StatusMovedPermanently)
	}))
	defer redirecting.Close()
	staysPlain := httptest.NewServer(page(portalPage))
	defer staysPlain.Close()
	toOtherPlain := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		http.Redirect(rw, r, staysPlain.URL+"/home", http.StatusFound)
	}))
	defer toOtherPlain.Close()
	p := w.prober(t, probe.Options{Checks: []string{probe.CheckHTTPSRedirect}})
	tests := []struct {
		name        string
		target      probe.Target
		checked, ok bool
		detail      string
	}{
		{"http redirects to https", probe.Target{URL: tlsSrv.URL, HTTPURL: redirecting.URL}, true, true, ""},
		{"http target followed to https", probe.Target{URL: redirecting.URL}, true, true, ""},
		{"http answers itself", probe.Target{URL: tlsSrv.URL, HTTPURL: staysPlain.URL}, true, false, "without redirecting"},
		{"http redirects to http", probe.Target{URL: toOtherPlain.URL}, true, false, "not to https://"},
		{"https on a non-standard port without http_url", probe.Target{URL: tlsSrv.URL}, false, false, "set http_url"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := p.Probe(context.Background(), tt.target)
			if h := r.HTTPSRedirect; h.Checked != tt.checked || h.OK != tt.ok || !strings.Contains(h.Detail, tt.detail) {
				t.Fatalf("https redirect = %+v, want checked %v ok %v …%s…", h, tt.checked, tt.ok, tt.detail)
			}
			if !r.Success {
				t.Errorf("the page itself failed: %s", r.Error)
			}
		})
	}
}

// counting serves h and counts the requests that reached it.
func counting(h http.Handler) (*httptest.Server, *atomic.Int64) {
	var n atomic.Int64
	return httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		n.Add(1)
		h.ServeHTTP(rw, r)
	})), &n
}

func TestHTTPPortalHasItsRedirectReadFromThePageFetchWithOneRequest(t *testing.T) {
	w := newWorld(t)
	tlsSrv := probetest.TLSServer(t, w.ca.Valid(t, "127.0.0.1"), page(portalPage))
	redirecting, toHTTPS := counting(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		http.Redirect(rw, r, tlsSrv.URL+"/", http.StatusMovedPermanently)
	}))
	defer redirecting.Close()
	staysPlain, plain := counting(page(portalPage))
	defer staysPlain.Close()
	toOtherPlain, other := counting(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		http.Redirect(rw, r, staysPlain.URL+"/home", http.StatusFound)
	}))
	defer toOtherPlain.Close()
	// The first connection is hung up on before any answer: the page fetch fails, and
	// the redirect check, with no answer to read, asks for itself.
	var hungUp atomic.Bool
	flaky, flakyN := counting(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if hungUp.CompareAndSwap(false, true) {
			c, _, _ := rw.(http.Hijacker).Hijack()
			c.Close()
			return
		}
		http.Redirect(rw, r, tlsSrv.URL+"/", http.StatusMovedPermanently)
	}))
	defer flaky.Close()
	p := w.prober(t, probe.Options{Checks: []string{probe.CheckHTTPSRedirect}})
	tests := []struct {
		name        string
		target      probe.Target
		counter     *atomic.Int64
		requests    int64
		ok, success bool
		status      int
		location    string
		detail      string
	}{
		{"http portal redirected to https", probe.Target{URL: redirecting.URL}, toHTTPS, 1, true, true, 301, tlsSrv.URL + "/", ""},
		{"http portal answering itself", probe.Target{URL: staysPlain.URL}, plain, 1, false, true, 200, "", "without redirecting"},
		{"http portal redirected to http", probe.Target{URL: toOtherPlain.URL}, other, 1, false, true, 302, staysPlain.URL + "/home", "not to https://"},
		{"https portal asks its http_url itself", probe.Target{URL: tlsSrv.URL, HTTPURL: redirecting.URL}, toHTTPS, 1, true, true, 301, tlsSrv.URL + "/", ""},
		{"http portal whose page fetch got no answer", probe.Target{URL: flaky.URL}, flakyN, 2, true, false, 301, tlsSrv.URL + "/", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := tt.counter.Load()
			r := p.Probe(context.Background(), tt.target)
			h := r.HTTPSRedirect
			if !h.Checked || h.OK != tt.ok || h.Status != tt.status || h.Location != tt.location || !strings.Contains(h.Detail, tt.detail) {
				t.Errorf("https redirect = %+v, want ok %v, status %d, location %q, …%s…", h, tt.ok, tt.status, tt.location, tt.detail)
			}
			if r.Success != tt.success {
				t.Errorf("success = %v (%s), want %v", r.Success, r.Error, tt.success)
			}
			if got := tt.counter.Load() - before; got != tt.requests {
				t.Errorf("the plain-HTTP address got %d requests, want %d", got, tt.requests)
			}
		})
	}
}

func TestUnknownCheckIsRefused(t *testing.T) {
	if _, err := probe.New(probe.Options{Checks: []string{"ping"}}); err == nil || !strings.Contains(err.Error(), `unknown check "ping"`) {
		t.Fatalf("err = %v", err)
	}
}

func TestProbeOfAnAllowedLoopbackPortalRedirectedElsewhereOnLoopbackFailsWithTheReason(t *testing.T) {
	w := newWorld(t)
	other := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		t.Errorf("the probe reached %s, which is not allowed", r.Host)
	}))
	defer other.Close()
	_, otherPort, _ := net.SplitHostPort(other.Listener.Addr().String())
	for _, to := range []string{other.URL + "/api/v1/whoami", "http://[::1]:" + otherPort + "/", "http://169.254.169.254/latest/meta-data/"} {
		start := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			http.Redirect(rw, r, to, http.StatusFound)
		}))
		p := w.prober(t, probe.Options{Checks: []string{probe.CheckHTTP}, Outbound: outbound.MustPolicy(start.Listener.Addr().String())})
		r := p.Probe(context.Background(), probe.Target{URL: start.URL})
		start.Close()
		if r.Success || !strings.Contains(r.Error, "not in outbound.allow") {
			t.Errorf("redirect to %s: success %v, error %q; want a failed probe saying the address is refused", to, r.Success, r.Error)
		}
	}
	// A name is judged by the address it resolves to: www.signed.test is 127.0.0.1 in
	// this world's DNS, and nothing internal is allowed here.
	srv := httptest.NewServer(page(portalPage))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	p := w.prober(t, probe.Options{Checks: []string{probe.CheckHTTP}, Outbound: outbound.MustPolicy()})
	r := p.Probe(context.Background(), probe.Target{URL: "http://www.signed.test:" + port + "/"})
	if r.Success || !strings.Contains(r.Error, "loopback") {
		t.Errorf("public-looking name resolving to loopback: success %v, error %q", r.Success, r.Error)
	}
}

func TestProbeResultNamesItsTargetWithoutCredentials(t *testing.T) {
	w := newWorld(t)
	srv := httptest.NewServer(page(portalPage))
	defer srv.Close()
	p := w.prober(t, probe.Options{Checks: []string{probe.CheckHTTP}})
	u := strings.Replace(srv.URL, "http://", "http://admin:hunter2@", 1) + "/?token=topsecret&lang=vi"
	r := p.Probe(context.Background(), probe.Target{URL: u})
	shown, _ := json.Marshal(r)
	if strings.Contains(string(shown), "hunter2") || strings.Contains(string(shown), "topsecret") {
		t.Fatalf("probe result shows a credential: %s", shown)
	}
	if !r.Success || !strings.Contains(r.Target, "REDACTED@") || !strings.Contains(r.Target, "token=REDACTED") {
		t.Fatalf("success %v, target %q: want the probe made with the credentials and the target shown redacted", r.Success, r.Target)
	}
}

// TestDNSSECChainAboveThePortalsZoneIsKeptForItsTTL: the keys of the zones above a
// portal's zone are proven once per TTL, as a validating resolver keeps them; the
// portal's own zone is asked at every probe; a parent that breaks is found once its
// TTL runs out, and a failed proof is never kept.
func TestDNSSECChainAboveThePortalsZoneIsKeptForItsTTL(t *testing.T) {
	srv := probetest.StartDNS(t)
	top := srv.Zone(t, "test.").Sign(t) // DNSKEY TTL 3600
	gov := srv.Zone(t, "gov.test.")
	gov.KeyTTL = 600 // its DNSKEY, and its DS in test.
	gov.Sign(t)
	top.Delegate(t, gov)
	portal := srv.Zone(t, "portal.gov.test.").Sign(t)
	gov.Delegate(t, portal)
	portal.Add(t, "www.portal.gov.test. 300 IN A 127.0.0.1")

	t0 := time.Now()
	now := t0
	p, err := probe.New(probe.Options{Resolver: srv.Addr, TrustAnchors: []*dns.DS{top.DS()},
		Checks: []string{probe.CheckDNSSEC}, Timeout: 2 * time.Second, Now: func() time.Time { return now },
		Outbound: outbound.MustPolicy("127.0.0.1/32", "::1/128")})
	if err != nil {
		t.Fatal(err)
	}
	type q struct {
		name  string
		qtype uint16
	}
	above := []q{{"gov.test.", dns.TypeSOA}, {"gov.test.", dns.TypeDNSKEY}, {"gov.test.", dns.TypeDS},
		{"test.", dns.TypeSOA}, {"test.", dns.TypeDNSKEY}}
	own := []q{{"www.portal.gov.test.", dns.TypeSOA}, {"portal.gov.test.", dns.TypeDNSKEY},
		{"portal.gov.test.", dns.TypeDS}}
	counts := func(qs []q) []int {
		out := make([]int, len(qs))
		for i, x := range qs {
			out[i] = srv.Asked(x.name, x.qtype)
		}
		return out
	}
	plus := func(a []int, n int) []int {
		out := slices.Clone(a)
		for i := range out {
			out[i] += n
		}
		return out
	}
	probeAt := func(d time.Duration, status, detail string) {
		t.Helper()
		now = t0.Add(d)
		r := p.Probe(context.Background(), probe.Target{URL: "http://www.portal.gov.test:1/"})
		if g := r.DNSSEC; g.Status != status || !strings.Contains(g.Detail, detail) {
			t.Fatalf("at %v: dnssec = %+v, want %q with …%s…", d, g, status, detail)
		}
		if status == probe.DNSSECValid && !slices.Equal(r.DNSSEC.Chain, []string{"portal.gov.test.", "gov.test.", "test."}) {
			t.Fatalf("at %v: chain = %v", d, r.DNSSEC.Chain)
		}
	}

	probeAt(0, probe.DNSSECValid, "")
	firstAbove, firstOwn := counts(above), counts(own)
	if slices.Contains(firstAbove, 0) {
		t.Fatalf("first probe asked %v of %v; every one should be asked", firstAbove, above)
	}

	probeAt(5*time.Minute, probe.DNSSECValid, "")
	if got := counts(above); !slices.Equal(got, firstAbove) {
		t.Errorf("within the TTL the zones above were asked again: %v, then %v (%v)", firstAbove, got, above)
	}
	if got := counts(own); !slices.Equal(got, plus(firstOwn, 1)) {
		t.Errorf("the portal's own zone should be asked at every probe: %v, then %v (%v)", firstOwn, got, own)
	}

	// test. breaks: its signature over the DS of gov.test. expires. The proof of
	// gov.test. was kept for its 600 s TTL, so the break shows after it, not before.
	top.SetExpiredSignatures(true)
	probeAt(9*time.Minute, probe.DNSSECValid, "")
	probeAt(10*time.Minute+time.Second, probe.DNSSECBogus, "the DS of gov.test. at test.")
	afterBreak := counts(above)
	if got, want := afterBreak[1], firstAbove[1]+1; got != want {
		t.Errorf("after its TTL, DNSKEY gov.test. asked %d times, want %d", got, want)
	}
	if got, want := afterBreak[4], firstAbove[4]; got != want {
		t.Errorf("DNSKEY test. (TTL 3600) asked %d times before its TTL ran out, want %d", got, want)
	}
	// A failed proof is not kept: the next probe asks again and still finds it.
	probeAt(10*time.Minute+2*time.Second, probe.DNSSECBogus, "the DS of gov.test. at test.")
	if got, want := srv.Asked("gov.test.", dns.TypeDNSKEY), afterBreak[1]+1; got != want {
		t.Errorf("after a bogus proof, DNSKEY gov.test. asked %d times, want %d", got, want)
	}
	// Mended, it validates at once.
	top.SetExpiredSignatures(false)
	probeAt(10*time.Minute+3*time.Second, probe.DNSSECValid, "")
	// test.'s own proof runs out after its hour.
	before := srv.Asked("test.", dns.TypeDNSKEY)
	probeAt(61*time.Minute, probe.DNSSECValid, "")
	if got := srv.Asked("test.", dns.TypeDNSKEY); got != before+1 {
		t.Errorf("after its hour, DNSKEY test. asked %d times, want %d", got, before+1)
	}
}

// TestIPv6CheckUsesThePageFetchsLookup counts the questions the DNS server receives: the
// page fetch's lookup asks A and AAAA once, and the ipv6 check uses its AAAA answer
// rather than asking again. A name without AAAA is asked apart, so that the check
// can still tell a missing record from a failed lookup.
func TestIPv6CheckUsesThePageFetchsLookup(t *testing.T) {
	w := newWorld(t)
	v4only := httptest.NewServer(page(portalPage))
	defer v4only.Close()
	_, port, _ := net.SplitHostPort(v4only.Listener.Addr().String())
	both := probetest.DualStack(t, nil, page(portalPage))
	p := w.prober(t, probe.Options{Checks: []string{probe.CheckIPv6}})
	tests := []struct {
		url, host          string
		a, aaaa            int // questions a probe asks
		aaaaFound, reached bool
	}{
		{fmt.Sprintf("http://www.signed.test:%d/", both), "www.signed.test.", 1, 1, true, true},
		{fmt.Sprintf("http://www.v4only.test:%s/", port), "www.v4only.test.", 1, 2, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			a, aaaa := w.dns.Asked(tt.host, dns.TypeA), w.dns.Asked(tt.host, dns.TypeAAAA)
			r := p.Probe(context.Background(), probe.Target{URL: tt.url})
			if !r.Success || r.IPv6.AAAA != tt.aaaaFound || r.IPv6.Reachable != tt.reached {
				t.Fatalf("success %v (%s), ipv6 %+v", r.Success, r.Error, r.IPv6)
			}
			if tt.aaaaFound && !slices.Equal(r.IPv6.Addresses, []string{"::1"}) {
				t.Errorf("ipv6 addresses = %v, want [::1]", r.IPv6.Addresses)
			}
			if got := w.dns.Asked(tt.host, dns.TypeA) - a; got != tt.a {
				t.Errorf("A asked %d times, want %d", got, tt.a)
			}
			if got := w.dns.Asked(tt.host, dns.TypeAAAA) - aaaa; got != tt.aaaa {
				t.Errorf("AAAA asked %d times, want %d", got, tt.aaaa)
			}
		})
	}
}
