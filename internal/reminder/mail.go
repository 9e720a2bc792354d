package reminder

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/smtp"
	"os"
	"strings"
	"time"
)

// Mail is one reminder to one address.
type Mail struct {
	To      string
	Subject string
	Body    string
}

// SMTP sends mail through a relay with the standard library's net/smtp, always over
// STARTTLS: a relay that does not offer it is refused rather than sent the officers'
// addresses in clear.
type SMTP struct {
	// Addr is the relay's host:port.
	Addr string
	// From is the sender address.
	From string
	// Username and Password, when Username is set, authenticate with PLAIN (only ever
	// after STARTTLS).
	Username, Password string
	// RootCAs checks the relay's certificate; nil means the system roots.
	RootCAs *x509.CertPool
	// Timeout bounds one mail, connection included (30 s when zero).
	Timeout time.Duration
}

// LoadCAs reads a PEM bundle for RootCAs.
func LoadCAs(path string) (*x509.CertPool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("smtp ca_file: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(data) {
		return nil, fmt.Errorf("smtp ca_file %s: no PEM certificate in it", path)
	}
	return pool, nil
}

// errNoStartTLS is a relay that does not offer STARTTLS.
var errNoStartTLS = errors.New("the relay does not offer STARTTLS; G-OC sends no mail in clear")

// Send delivers one mail.
func (s *SMTP) Send(ctx context.Context, m Mail) error {
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	host, _, err := net.SplitHostPort(s.Addr)
	if err != nil {
		return fmt.Errorf("smtp %s: %w", s.Addr, err)
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", s.Addr)
	if err != nil {
		return fmt.Errorf("smtp %s: %w", s.Addr, err)
	}
	defer conn.Close()
	// net/smtp takes no context: the deadline of the whole exchange is the context's.
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		return fmt.Errorf("smtp %s: greeting: %w", s.Addr, err)
	}
	defer c.Close()
	if ok, _ := c.Extension("STARTTLS"); !ok {
		return fmt.Errorf("smtp %s: %w", s.Addr, errNoStartTLS)
	}
	if err := c.StartTLS(&tls.Config{ServerName: host, RootCAs: s.RootCAs, MinVersion: tls.VersionTLS12}); err != nil {
		return fmt.Errorf("smtp %s: starttls: %w", s.Addr, err)
	}
	if s.Username != "" {
		if err := c.Auth(smtp.PlainAuth("", s.Username, s.Password, host)); err != nil {
			return fmt.Errorf("smtp %s: auth: %w", s.Addr, err)
		}
	}
	if err := c.Mail(s.From); err != nil {
		return fmt.Errorf("smtp %s: MAIL FROM: %w", s.Addr, err)
	}
	if err := c.Rcpt(m.To); err != nil {
		return fmt.Errorf("smtp %s: RCPT TO %s: %w", s.Addr, m.To, err)
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("smtp %s: DATA: %w", s.Addr, err)
	}
	if _, err := w.Write(s.message(m)); err != nil {
		return fmt.Errorf("smtp %s: DATA: %w", s.Addr, err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("smtp %s: DATA: %w", s.Addr, err)
	}
	if err := c.Quit(); err != nil {
		return fmt.Errorf("smtp %s: QUIT: %w", s.Addr, err)
	}
	return nil
}

// message is the RFC 5322 text: UTF-8, quoted-printable, the subject encoded as
// RFC 2047 words so Vietnamese survives every relay.
func (s *SMTP) message(m Mail) []byte {
	var b bytes.Buffer
	id := make([]byte, 12)
	_, _ = rand.Read(id)
	domain := s.From[strings.LastIndex(s.From, "@")+1:]
	fmt.Fprintf(&b, "From: %s\r\n", s.From)
	fmt.Fprintf(&b, "To: %s\r\n", m.To)
	fmt.Fprintf(&b, "Subject: %s\r\n", mime.QEncoding.Encode("utf-8", m.Subject))
	fmt.Fprintf(&b, "Date: %s\r\n", time.Now().Format(time.RFC1123Z))
	fmt.Fprintf(&b, "Message-ID: <%s@%s>\r\n", hex.EncodeToString(id), domain)
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n")
	b.WriteString("Auto-Submitted: auto-generated\r\n\r\n")
	qp := quotedprintable.NewWriter(&b)
	_, _ = qp.Write([]byte(strings.ReplaceAll(m.Body, "\n", "\r\n")))
	_ = qp.Close()
	return b.Bytes()
}
