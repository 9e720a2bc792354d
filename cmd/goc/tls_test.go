package main

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/g-oc/goc/collectors/probe/probetest"
	"github.com/g-oc/goc/internal/auth"
)

func writeKeyPair(t *testing.T, cert tls.Certificate, certFile, keyFile string) {
	t.Helper()
	var chain []byte
	for _, der := range cert.Certificate {
		chain = append(chain, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...)
	}
	key, err := x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	// The key first, as a renewal tool replacing both would leave a moment where they
	// disagree; the server must keep serving the old pair through it.
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: key}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certFile, chain, 0o644); err != nil {
		t.Fatal(err)
	}
}

// An operator serves G-OC over HTTPS itself, renews its certificate without a restart,
// and puts a reverse proxy in front: browsers are told to stay on HTTPS, session
// cookies are Secure, and one citizen's failed sign-ins behind the proxy do not lock
// out another.
func TestServeOverTLSRenewsCertificatesAndTrustsOnlyItsProxy(t *testing.T) {
	dir := t.TempDir()
	ca := probetest.NewCA(t)
	certFile, keyFile := filepath.Join(dir, "goc.crt"), filepath.Join(dir, "goc.key")
	first := ca.Valid(t, "127.0.0.1")
	writeKeyPair(t, first, certFile, keyFile)
	tok, _ := auth.NewToken()
	cfg := filepath.Join(dir, "goc.yaml")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`server:
  addr: 127.0.0.1:0
  trusted_proxies: [127.0.0.2]
  tls: {cert_file: goc.crt, key_file: goc.key}
store: {path: goc.db}
tokens:
  - {name: lang-son-bao-cao, agency: P20, sha256: %s}
`, auth.Hash(tok))), 0o600)
	s := startGoc(t, "serve", "--config", cfg)
	if !strings.HasPrefix(s.url, "https://") {
		t.Fatalf("serve printed %s, want an https:// address", s.url)
	}

	// A fresh connection each time, so each request sees the certificate served now.
	client := func(local string) *http.Client {
		d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}}
		return &http.Client{
			Transport:     &http.Transport{DialContext: d.DialContext, TLSClientConfig: &tls.Config{RootCAs: ca.Pool()}, DisableKeepAlives: true},
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	serial := func() string {
		t.Helper()
		res, err := client("127.0.0.1").Get(s.url + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.Header.Get("Strict-Transport-Security") == "" {
			t.Error("no Strict-Transport-Security over HTTPS")
		}
		return res.TLS.PeerCertificates[0].SerialNumber.String()
	}
	if got := serial(); got != first.Leaf.SerialNumber.String() {
		t.Fatalf("served certificate %s, want the configured one", got)
	}
	renewed := ca.Valid(t, "127.0.0.1")
	writeKeyPair(t, renewed, certFile, keyFile)
	if got := serial(); got != renewed.Leaf.SerialNumber.String() {
		t.Errorf("after renewal the server still shows certificate %s, want the renewed %s", got, renewed.Leaf.SerialNumber)
	}

	res, err := client("127.0.0.1").PostForm(s.url+"/signin", url.Values{"token": {tok}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if c := res.Header.Get("Set-Cookie"); res.StatusCode != http.StatusSeeOther || !strings.Contains(c, "Secure") || !strings.Contains(c, "HttpOnly") {
		t.Errorf("sign-in over HTTPS: %d, cookie %q; want a Secure, HttpOnly session", res.StatusCode, c)
	}

	// The proxy terminates its own connections and dials G-OC from 127.0.0.2.
	target, _ := url.Parse(s.url)
	proxy := httptest.NewServer(&httputil.ReverseProxy{
		Rewrite:   func(pr *httputil.ProxyRequest) { pr.SetURL(target); pr.SetXForwarded() },
		Transport: client("127.0.0.2").Transport,
	})
	defer proxy.Close()
	signIn := func(from, token string) int {
		t.Helper()
		res, err := client(from).PostForm(proxy.URL+"/signin", url.Values{"token": {token}})
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	codes := []int{}
	for range 6 {
		codes = append(codes, signIn("127.0.0.3", "not-a-token"))
	}
	if codes[0] != http.StatusUnauthorized || codes[5] != http.StatusTooManyRequests {
		t.Errorf("one citizen's failed sign-ins through the proxy: %v, want 401 then 429", codes)
	}
	if code := signIn("127.0.0.4", "not-a-token"); code != http.StatusUnauthorized {
		t.Errorf("another citizen behind the same proxy got %d, want 401: the limit counted the proxy, not the client", code)
	}
	if code := signIn("127.0.0.4", tok); code != http.StatusSeeOther {
		t.Errorf("the other citizen's good token through the proxy: %d, want 303", code)
	}
}
