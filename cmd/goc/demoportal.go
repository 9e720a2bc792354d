package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

// The demo's sample portal: a small HTTPS site on loopback, with a certificate from a CA
// the demo makes once and keeps in its data folder. It gives `goc probe` (and the
// README's probe example) a portal to probe without leaving the machine: the built-in
// registry's portals are real .gov.vn sites.

// demoPortalPage is what the sample portal serves: a page with the device-width viewport
// a mobile-ready portal has, and text an `expect` can look for.
const demoPortalPage = `<!doctype html>
<html lang="vi"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Cổng thông tin điện tử mẫu / sample portal</title></head>
<body><h1>Cổng thông tin điện tử tỉnh Lạng Sơn (mẫu / sample)</h1>
<p>Trang mẫu của bản trình diễn G-OC / a sample page served by the G-OC demo.</p></body></html>
`

// demoPortalFiles are the files the portal keeps in its folder.
type demoPortalFiles struct{ ca, cert, key string }

func portalFiles(dir string) demoPortalFiles {
	return demoPortalFiles{
		ca:   filepath.Join(dir, "ca.pem"),
		cert: filepath.Join(dir, "portal.pem"),
		key:  filepath.Join(dir, "portal-key.pem"),
	}
}

// demoPortalCert loads the portal's certificate from dir, or makes a CA and a
// certificate for 127.0.0.1, ::1 and localhost and keeps them there. A certificate
// within 30 days of expiry is made again, so a long-lived demo folder keeps working.
func demoPortalCert(dir string, now time.Time) (tls.Certificate, demoPortalFiles, error) {
	f := portalFiles(dir)
	if c, err := tls.LoadX509KeyPair(f.cert, f.key); err == nil && c.Leaf != nil && c.Leaf.NotAfter.After(now.Add(30*24*time.Hour)) {
		if _, err := os.Stat(f.ca); err == nil {
			return c, f, nil
		}
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return tls.Certificate{}, f, fmt.Errorf("demo portal certificate %s: %w (delete it to get a new one)", f.cert, err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return tls.Certificate{}, f, fmt.Errorf("demo portal folder: %w", err)
	}
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, f, fmt.Errorf("demo CA key: %w", err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(now.UnixNano()),
		Subject:               pkix.Name{CommonName: "G-OC demo CA", Organization: []string{"G-OC demo"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(5 * 365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return tls.Certificate{}, f, fmt.Errorf("demo CA: %w", err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return tls.Certificate{}, f, fmt.Errorf("demo CA: %w", err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, f, fmt.Errorf("demo portal key: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(now.UnixNano() + 1),
		Subject:      pkix.Name{CommonName: "127.0.0.1", Organization: []string{"G-OC demo"}},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(397 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		DNSNames:     []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return tls.Certificate{}, f, fmt.Errorf("demo portal certificate: %w", err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return tls.Certificate{}, f, fmt.Errorf("demo portal key: %w", err)
	}
	for _, w := range []struct {
		path, kind string
		der        []byte
		mode       os.FileMode
	}{
		{f.ca, "CERTIFICATE", caDER, 0o644},
		{f.cert, "CERTIFICATE", der, 0o644},
		{f.key, "EC PRIVATE KEY", keyDER, 0o600},
	} {
		if err := os.WriteFile(w.path, pem.EncodeToMemory(&pem.Block{Type: w.kind, Bytes: w.der}), w.mode); err != nil {
			return tls.Certificate{}, f, fmt.Errorf("demo portal: %w", err)
		}
	}
	c, err := tls.LoadX509KeyPair(f.cert, f.key)
	if err != nil {
		return tls.Certificate{}, f, fmt.Errorf("demo portal certificate: %w", err)
	}
	return c, f, nil
}

// startDemoPortal serves the sample portal on addr until ctx ends, and returns its URL.
// addr must be a loopback address: the demo serves nothing beyond the machine.
func startDemoPortal(ctx context.Context, addr, dir string, log *slog.Logger) (string, demoPortalFiles, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return "", demoPortalFiles{}, usageError{"--portal-addr: " + err.Error()}
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return "", demoPortalFiles{}, usageError{fmt.Sprintf("--portal-addr %s: cổng mẫu chỉ chạy trên loopback / the sample portal serves on loopback only (127.0.0.1 or ::1)", addr)}
	}
	cert, files, err := demoPortalCert(dir, time.Now())
	if err != nil {
		return "", files, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", files, fmt.Errorf("demo portal: listen on %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, demoPortalPage)
	})
	hs := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		TLSConfig:         &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	go func() {
		if err := hs.ServeTLS(ln, "", ""); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("demo portal", "err", err)
		}
	}()
	go func() {
		<-ctx.Done()
		shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		hs.Shutdown(shut)
	}()
	return "https://" + ln.Addr().String() + "/", files, nil
}
