package outbound_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/g-oc/goc/internal/outbound"
)

func TestInternalAddressesAreRefusedWithTheirKind(t *testing.T) {
	p := outbound.MustPolicy("127.0.0.1:8080", "10.20.0.0/16", "192.168.1.7")
	for addr, want := range map[string]string{
		"127.0.0.1:8080":        "",
		"127.0.0.1:8081":        "loopback",
		"127.9.9.9:8080":        "loopback",
		"[::1]:8080":            "loopback",
		"[::ffff:127.0.0.1]:80": "loopback",
		"10.20.3.4:443":         "",
		"10.21.3.4:443":         "private network",
		"192.168.1.7:22":        "",
		"192.168.1.8:22":        "private network",
		"172.16.0.1:80":         "private network",
		"[fd12::1]:80":          "private network",
		"169.254.169.254:80":    "cloud metadata service",
		"[fd00:ec2::254]:80":    "cloud metadata service",
		"169.254.1.1:80":        "link-local",
		"[fe80::1]:80":          "link-local",
		"100.64.0.1:80":         "carrier-grade NAT",
		"224.0.0.1:80":          "multicast",
		"[ff02::1]:80":          "multicast",
		"0.0.0.0:80":            "unspecified",
		"[::]:80":               "unspecified",
		"[64:ff9b::7f00:1]:80":  "loopback through NAT64",
		"203.0.113.9:443":       "",
		"[2001:db8::1]:443":     "",
		"8.8.8.8:53":            "",
	} {
		err := p.Check(addr)
		switch {
		case want == "" && err != nil:
			t.Errorf("%s refused: %v", addr, err)
		case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
			t.Errorf("%s: %v, want refused as %s", addr, err, want)
		}
	}
	if _, err := outbound.NewPolicy([]string{"intranet.local:80", "10.0.0.0/33"}); err == nil ||
		!strings.Contains(err.Error(), "allow[0]") || !strings.Contains(err.Error(), "allow[1]") {
		t.Errorf("bad allowances: %v, want both named", err)
	}
}

// redirector answers every request with a redirect to to.
func redirector(t *testing.T, to string) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, to, http.StatusFound)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestRedirectFromAnAllowedPortToAnotherLoopbackPortOrIPv6LoopbackIsRefused(t *testing.T) {
	hits := 0
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits++ }))
	t.Cleanup(other.Close)
	_, otherPort, _ := net.SplitHostPort(other.Listener.Addr().String())
	for _, to := range []string{
		other.URL + "/internal.csv",
		"http://localhost:" + otherPort + "/internal.csv",
		"http://[::1]:" + otherPort + "/",
		"http://169.254.169.254/latest/meta-data/",
		"http://[fd00:ec2::254]/latest/meta-data/",
	} {
		start := redirector(t, to)
		p := outbound.MustPolicy(start.Listener.Addr().String())
		resp, err := p.Client(5 * time.Second).Get(start.URL + "/feed.csv")
		if err == nil {
			resp.Body.Close()
			t.Errorf("redirect to %s followed: %d", to, resp.StatusCode)
			continue
		}
		b, ok := outbound.Blocked(err)
		if !ok || !strings.Contains(err.Error(), "not in outbound.allow") {
			t.Errorf("redirect to %s: %v, want a refusal naming the address", to, err)
			continue
		}
		if b.Reason == "" {
			t.Errorf("redirect to %s: no reason", to)
		}
	}
	if hits != 0 {
		t.Errorf("the other loopback server got %d requests", hits)
	}
	// The allowed address itself answers.
	ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") }))
	t.Cleanup(ok.Close)
	resp, err := outbound.MustPolicy(ok.Listener.Addr().String()).Client(5 * time.Second).Get(ok.URL)
	if err != nil {
		t.Fatalf("allowed address refused: %v", err)
	}
	resp.Body.Close()
}

func TestRedirectToAnotherSchemeIsRefused(t *testing.T) {
	start := redirector(t, "file:///etc/passwd")
	_, err := outbound.MustPolicy(start.Listener.Addr().String()).Client(5 * time.Second).Get(start.URL)
	if err == nil || !strings.Contains(err.Error(), "only http and https") {
		t.Fatalf("redirect to file://: %v", err)
	}
}

// TestNameThatResolvesToLoopbackIsRefusedWhenDialled stands for DNS rebinding: a name
// that looked public when configured answers 127.0.0.1 when the request is made. The
// name is served by a DNS server on loopback (a real resolver cannot be made to lie).
func TestNameThatResolvesToLoopbackIsRefusedWhenDialled(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, m *dns.Msg) {
		r := new(dns.Msg)
		r.SetReply(m)
		if q := m.Question[0]; q.Qtype == dns.TypeA {
			r.Answer = append(r.Answer, &dns.A{Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 0},
				A: net.ParseIP("127.0.0.1")})
		}
		w.WriteMsg(r)
	})}
	go srv.ActivateAndServe()
	t.Cleanup(func() { srv.Shutdown() })

	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Error("the loopback server was reached through a public-looking name")
	}))
	t.Cleanup(target.Close)
	_, port, _ := net.SplitHostPort(target.Listener.Addr().String())

	p := outbound.MustPolicy() // nothing internal allowed
	d := p.Dialer(&net.Dialer{Resolver: &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "udp", pc.LocalAddr().String())
	}}})
	tr := p.Transport()
	tr.DialContext = d.DialContext
	client := &http.Client{Transport: tr, Timeout: 5 * time.Second}
	_, err = client.Get("http://portal.example.gov.vn:" + port + "/")
	if b, ok := outbound.Blocked(err); !ok || b.Reason != "loopback" {
		t.Fatalf("name resolving to 127.0.0.1: %v, want refused as loopback", err)
	}
}
