package main

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"
)

// certReloader hands the TLS server the certificate in two files, loading them again
// when either file's modification time or size changes, so that a certificate renewed
// by certbot or an operator is served from the next handshake without a restart. A
// pair that fails to load (a half-written renewal) leaves the previous one in use.
type certReloader struct {
	certFile, keyFile string
	log               *slog.Logger

	mu   sync.Mutex
	cert *tls.Certificate
	seen [2]fileStamp
}

type fileStamp struct {
	mod  time.Time
	size int64
}

func stampOf(path string) (fileStamp, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return fileStamp{}, err
	}
	return fileStamp{fi.ModTime(), fi.Size()}, nil
}

func newCertReloader(certFile, keyFile string, log *slog.Logger) (*certReloader, error) {
	r := &certReloader{certFile: certFile, keyFile: keyFile, log: log}
	if err := r.load(); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *certReloader) load() error {
	c, errC := stampOf(r.certFile)
	k, errK := stampOf(r.keyFile)
	if errC != nil || errK != nil {
		return fmt.Errorf("tls: %w", firstErr(errC, errK))
	}
	if r.cert != nil && c == r.seen[0] && k == r.seen[1] {
		return nil
	}
	cert, err := tls.LoadX509KeyPair(r.certFile, r.keyFile)
	if err != nil {
		return fmt.Errorf("tls: load %s and %s: %w", r.certFile, r.keyFile, err)
	}
	r.cert, r.seen = &cert, [2]fileStamp{c, k}
	return nil
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// GetCertificate is tls.Config.GetCertificate: two stat calls per handshake, a load
// only when the files changed.
func (r *certReloader) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.load(); err != nil {
		r.log.Warn("chứng chỉ mới chưa đọc được, vẫn dùng chứng chỉ cũ / the new certificate could not be loaded; still serving the previous one", "err", err)
	}
	return r.cert, nil
}

func (r *certReloader) tlsConfig() *tls.Config {
	return &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: r.GetCertificate}
}
