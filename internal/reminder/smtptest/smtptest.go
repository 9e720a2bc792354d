// Package smtptest is a real SMTP server for tests, on loopback: emersion/go-smtp
// offering STARTTLS with a certificate from a CA made for the test, keeping every mail
// it accepts and refusing any sent before STARTTLS.
package smtptest

import (
	"crypto/tls"
	"io"
	"log"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	gosmtp "github.com/emersion/go-smtp"

	"github.com/g-oc/goc/collectors/probe/probetest"
)

// Mail is one accepted message, decoded.
type Mail struct {
	To, Subject, Body string
	// TLS is whether the connection was under TLS when the mail came.
	TLS bool
}

// Server is a running SMTP server.
type Server struct {
	// Addr is its host:port on 127.0.0.1.
	Addr string
	// CA signed its certificate; trust it to reach the server.
	CA *probetest.CA

	mu    sync.Mutex
	mails []Mail
}

// Start serves SMTP on a free loopback port until the test ends. With tlsOn false the
// server offers no STARTTLS (a relay G-OC must refuse).
func Start(t testing.TB, tlsOn bool) *Server {
	t.Helper()
	s := &Server{CA: probetest.NewCA(t)}
	srv := gosmtp.NewServer(backend{s})
	srv.Domain = "localhost"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	// A client that hangs up at the end of the test is not news; the mails are.
	srv.ErrorLog = log.New(io.Discard, "", 0)
	if tlsOn {
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{s.CA.Valid(t, "127.0.0.1")}}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.Addr = ln.Addr().String()
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return s
}

// CAFile writes the CA certificate to a file in dir, for smtp.ca_file.
func (s *Server) CAFile(t testing.TB, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "smtp-ca.pem")
	if err := os.WriteFile(path, s.CA.PEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// Mails returns the mails accepted so far.
func (s *Server) Mails() []Mail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.mails)
}

type backend struct{ s *Server }

func (b backend) NewSession(c *gosmtp.Conn) (gosmtp.Session, error) {
	return &session{s: b.s, conn: c}, nil
}

type session struct {
	s    *Server
	conn *gosmtp.Conn
	to   string
}

func (x *session) Reset()        {}
func (x *session) Logout() error { return nil }

func (x *session) Mail(string, *gosmtp.MailOptions) error {
	if _, ok := x.conn.TLSConnectionState(); !ok {
		return &gosmtp.SMTPError{Code: 530, Message: "Must issue a STARTTLS command first"}
	}
	return nil
}

func (x *session) Rcpt(to string, _ *gosmtp.RcptOptions) error { x.to = to; return nil }

func (x *session) Data(r io.Reader) error {
	msg, err := mail.ReadMessage(r)
	if err != nil {
		return err
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		return err
	}
	body, err := io.ReadAll(quotedprintable.NewReader(msg.Body))
	if err != nil {
		return err
	}
	_, isTLS := x.conn.TLSConnectionState()
	x.s.mu.Lock()
	x.s.mails = append(x.s.mails, Mail{To: x.to, Subject: subject, Body: string(body), TLS: isTLS})
	x.s.mu.Unlock()
	return nil
}
