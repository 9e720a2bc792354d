package forwarded_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/netip"
	"net/url"
	"testing"

	"github.com/g-oc/goc/internal/forwarded"
	"github.com/g-oc/goc/internal/limit"
)

// clientFrom is an HTTP client whose connections leave from a chosen loopback address,
// so one machine can play a citizen (127.0.0.3), a proxy (127.0.0.2) and G-OC.
func clientFrom(t *testing.T, local string, tlsConf *tls.Config) *http.Client {
	t.Helper()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}}
	return &http.Client{Transport: &http.Transport{DialContext: d.DialContext, TLSClientConfig: tlsConf}}
}

// TestClientAddressAndSchemeComeFromTrustedProxiesOnly runs G-OC's handler behind a
// real reverse proxy (httputil.ReverseProxy over TLS, dialling from 127.0.0.2) and
// checks what the limits and the cookies would see: the citizen's own address and
// HTTPS through the proxy, and nothing a client writes in the headers itself.
func TestClientAddressAndSchemeComeFromTrustedProxiesOnly(t *testing.T) {
	seen := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s %v", limit.ClientAddr(r), forwarded.Secure(r))
	})
	proxyNet := netip.MustParsePrefix("127.0.0.2/32")
	goc := httptest.NewServer(forwarded.New([]netip.Prefix{proxyNet}).Handler(seen))
	defer goc.Close()
	target, _ := url.Parse(goc.URL)
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.SetXForwarded()
		},
		Transport: clientFrom(t, "127.0.0.2", nil).Transport,
	}
	proxy := httptest.NewTLSServer(rp)
	defer proxy.Close()

	get := func(c *http.Client, u string, header map[string]string) string {
		t.Helper()
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, u, nil)
		for k, v := range header {
			req.Header.Set(k, v)
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	trustProxy := &tls.Config{RootCAs: proxy.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs}
	citizen := clientFrom(t, "127.0.0.3", trustProxy)
	spoof := map[string]string{"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"}
	tests := []struct {
		name   string
		url    string
		header map[string]string
		want   string
	}{
		{"through the proxy over HTTPS", proxy.URL, nil, "127.0.0.3 true"},
		{"through the proxy, with a forged earlier hop", proxy.URL, spoof, "127.0.0.3 true"},
		{"straight to G-OC, headers forged", goc.URL, spoof, "127.0.0.3 false"},
		{"straight to G-OC", goc.URL, nil, "127.0.0.3 false"},
	}
	for _, tt := range tests {
		if got := get(citizen, tt.url, tt.header); got != tt.want {
			t.Errorf("%s: G-OC saw %q, want %q", tt.name, got, tt.want)
		}
	}

	// With no trusted proxy configured, the proxy is the client and plain HTTP is plain.
	bare := httptest.NewServer(forwarded.New(nil).Handler(seen))
	defer bare.Close()
	if got := get(clientFrom(t, "127.0.0.2", nil), bare.URL, spoof); got != "127.0.0.2 false" {
		t.Errorf("no trusted proxies: G-OC saw %q, want the peer and plain HTTP", got)
	}
}

func TestParsePrefix(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"10.0.0.0/8", "10.0.0.0/8", true},
		{"10.1.2.3/8", "10.0.0.0/8", true},
		{"192.0.2.10", "192.0.2.10/32", true},
		{" fd00::/8 ", "fd00::/8", true},
		{"::1", "::1/128", true},
		{"::ffff:192.0.2.10", "192.0.2.10/32", true},
		{"proxy.example.gov.vn", "", false},
		{"10.0.0.0/33", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		p, err := forwarded.ParsePrefix(tt.in)
		if (err == nil) != tt.ok || (tt.ok && p.String() != tt.want) {
			t.Errorf("ParsePrefix(%q) = %v, %v; want %q ok=%v", tt.in, p, err, tt.want, tt.ok)
		}
	}
}
