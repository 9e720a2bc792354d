// Package probetest gives tests the real parts a probe talks to, on loopback only: a
// certificate authority of their own (valid, expired and wrong-host certificates),
// HTTP servers on 127.0.0.1 and [::1], and a DNS server that answers signed and
// unsigned zones. Nothing here is a mock: the prober speaks real TLS, HTTP and DNS
// to them.
package probetest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// CA is a certificate authority made for one test.
type CA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool
	der  []byte
}

// NewCA makes a fresh CA valid from an hour ago for ten years.
func NewCA(t testing.TB) *CA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "G-OC test CA", Organization: []string{"G-OC tests"}},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().AddDate(10, 0, 0),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &CA{cert: cert, key: key, pool: pool, der: der}
}

// Pool is a pool holding only this CA: what the prober should trust.
func (ca *CA) Pool() *x509.CertPool { return ca.pool }

// PEM is the CA certificate in PEM form, for --ca-file.
func (ca *CA) PEM() []byte {
	return pemBlock("CERTIFICATE", ca.der)
}

// Issue makes a server certificate for hosts (names or IP addresses) valid from
// notBefore to notAfter, chained to the CA.
func (ca *CA) Issue(t testing.TB, hosts []string, notBefore, notAfter time.Time) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: hosts[0]},
		NotBefore:    notBefore,
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der, ca.der}, PrivateKey: key, Leaf: leaf}
}

// Valid issues a certificate for hosts valid from yesterday for 90 days.
func (ca *CA) Valid(t testing.TB, hosts ...string) tls.Certificate {
	return ca.Issue(t, hosts, time.Now().Add(-24*time.Hour), time.Now().Add(90*24*time.Hour))
}

// Expired issues a certificate for hosts that expired yesterday.
func (ca *CA) Expired(t testing.TB, hosts ...string) tls.Certificate {
	return ca.Issue(t, hosts, time.Now().Add(-90*24*time.Hour), time.Now().Add(-24*time.Hour))
}

// TLSServer starts an HTTPS server on 127.0.0.1 with the certificate; it stops when
// the test ends.
func TLSServer(t testing.TB, cert tls.Certificate, h http.Handler) *httptest.Server {
	t.Helper()
	s := httptest.NewUnstartedServer(h)
	s.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	s.StartTLS()
	t.Cleanup(s.Close)
	return s
}

// DualStack serves h on 127.0.0.1 and [::1] at the same port, with TLS when cert is
// not nil, and returns the port. It stops when the test ends.
//
// The port comes from the kernel, with no search: a listener on the wildcard address
// at port 0 gets a port that is free on every address of both families (a wildcard bind
// conflicts with any other bind of that port), and is closed at once, before it accepts
// anything. The two loopback listeners then take that port; only they ever serve.
func DualStack(t testing.TB, cert *tls.Certificate, h http.Handler) int {
	t.Helper()
	wild, err := net.Listen("tcp", "[::]:0")
	if err != nil {
		t.Fatalf("ask the kernel for a port free on IPv4 and IPv6: %v (the IPv6 tests need a dual-stack host)", err)
	}
	port := wild.Addr().(*net.TCPAddr).Port
	wild.Close()
	var ls []net.Listener
	for _, addr := range []string{fmt.Sprintf("127.0.0.1:%d", port), fmt.Sprintf("[::1]:%d", port)} {
		l, err := net.Listen("tcp", addr)
		if err != nil {
			for _, l := range ls {
				l.Close()
			}
			t.Fatalf("listen on %s, a port the kernel gave as free on both loopbacks: %v", addr, err)
		}
		ls = append(ls, l)
	}
	for _, l := range ls {
		s := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
		if cert != nil {
			s.TLSConfig = &tls.Config{Certificates: []tls.Certificate{*cert}}
			go s.ServeTLS(l, "", "")
		} else {
			go s.Serve(l)
		}
		t.Cleanup(func() { s.Close() })
	}
	return port
}
