package probe

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/g-oc/goc/internal/outbound"
)

// tracer gathers the phase timings of every request of one page fetch, and the TLS
// facts of every handshake. Requests of a redirect chain follow one another, but
// dual-stack dialling can run two connects at once, hence the lock.
type tracer struct {
	mu        sync.Mutex
	host      string // host of the request being made, for certificate checks
	dnsStart  time.Time
	connStart time.Time
	tlsStart  time.Time
	wrote     time.Time
	firstByte time.Time
	ph        Phases
	hops      []*TLSInfo
	lookup    *lookup // the first lookup, of the URL's host
}

func (t *tracer) trace() *httptrace.ClientTrace {
	lock := func(f func()) { t.mu.Lock(); f(); t.mu.Unlock() }
	return &httptrace.ClientTrace{
		GetConn: func(hostPort string) {
			lock(func() {
				if h, _, err := net.SplitHostPort(hostPort); err == nil {
					t.host = h
				} else {
					t.host = hostPort
				}
			})
		},
		DNSStart: func(httptrace.DNSStartInfo) { lock(func() { t.dnsStart = time.Now() }) },
		DNSDone: func(info httptrace.DNSDoneInfo) {
			lock(func() {
				if t.lookup == nil {
					t.lookup = &lookup{host: t.host, addrs: info.Addrs, err: info.Err}
				}
				if !t.dnsStart.IsZero() {
					t.ph.Resolve += time.Since(t.dnsStart).Seconds()
					t.dnsStart = time.Time{}
				}
			})
		},
		ConnectStart: func(string, string) {
			lock(func() {
				if t.connStart.IsZero() {
					t.connStart = time.Now()
				}
			})
		},
		ConnectDone: func(_, _ string, err error) {
			lock(func() {
				if err == nil && !t.connStart.IsZero() {
					t.ph.Connect += time.Since(t.connStart).Seconds()
					t.connStart = time.Time{}
				}
			})
		},
		TLSHandshakeStart: func() { lock(func() { t.tlsStart = time.Now() }) },
		TLSHandshakeDone: func(tls.ConnectionState, error) {
			lock(func() {
				if !t.tlsStart.IsZero() {
					t.ph.TLS += time.Since(t.tlsStart).Seconds()
					t.tlsStart = time.Time{}
				}
			})
		},
		WroteRequest: func(httptrace.WroteRequestInfo) { lock(func() { t.wrote = time.Now() }) },
		GotFirstResponseByte: func() {
			lock(func() {
				t.firstByte = time.Now()
				if !t.wrote.IsZero() {
					t.ph.Processing += t.firstByte.Sub(t.wrote).Seconds()
				}
			})
		},
	}
}

// noKeepAlive turns TCP keep-alive off on probe connections: a probe's connection
// lives one request, ended by the probe's timeout, and keep-alive's first packet
// would come after 15 s; setting it up is four setsockopt calls per connection.
const noKeepAlive = -1

// transport is a fresh transport for one probe: no connection is reused, so every
// probe pays (and measures) its own DNS lookup, connect and TLS handshake, as a
// first-time visitor does. Certificates are not checked by the handshake but by
// verify, so that an expired or misnamed certificate is reported with its facts
// instead of hiding the page behind a handshake error.
//
// The one exception, sessions (nil: none): the page fetch resumes the TLS session of
// the portal's previous probe, as a browser returning to a site does (see
// sessionCache), so a portal probed every minute makes a full handshake once an hour.
func (p *Prober) transport(verify func(tls.ConnectionState) error, dial func(ctx context.Context, network, addr string) (net.Conn, error), sessions tls.ClientSessionCache) *http.Transport {
	if dial == nil {
		dial = p.opts.Outbound.Dialer(&net.Dialer{Resolver: p.netRes, KeepAlive: noKeepAlive}).DialContext
	}
	return &http.Transport{
		Proxy:                  nil, // probe the portal itself, never a proxy in front of G-OC
		DialContext:            dial,
		DisableKeepAlives:      true,
		MaxResponseHeaderBytes: 256 << 10,
		// The request is one GET line and three headers: net/http's default 4 KiB
		// write buffer, allocated for every connection, was 5% of probing's garbage.
		WriteBufferSize: 1 << 10,
		TLSClientConfig: &tls.Config{
			InsecureSkipVerify: true, // checked by verify, with the facts kept
			VerifyConnection:   verify,
			MinVersion:         tls.VersionTLS10, // report old portals rather than refuse them
			ClientSessionCache: sessions,
			// One classical key share: Go's default adds ML-KEM hybrids, whose key
			// generation and decapsulation were a twelfth of national probing's CPU;
			// a server wanting another group asks for it (HelloRetryRequest).
			CurvePreferences: []tls.CurveID{tls.X25519, tls.CurveP256, tls.CurveP384, tls.CurveP521},
		},
	}
}

// verifiedChains remembers the certificate chains that verified, so that a portal
// probed every minute has its unchanged chain checked once an hour instead of at every
// probe: chain verification was 8% of the CPU of 10,000 portals a minute
// (BENCHMARKS.md). A chain counts as verified again only for the same host, while the
// probe's time is inside the validity of every certificate of the chain that verified
// it, and for at most verifiedFor after that check; a chain that failed is never kept,
// so a failure is always found by a full check. The roots are the prober's and do not
// change. At most verifiedMax chains are kept (then all are forgotten at once), so
// memory stays bounded whatever servers send.
type verifiedChains struct {
	mu sync.Mutex
	m  map[chainKey]validity
}

const (
	verifiedFor = time.Hour
	verifiedMax = 50000
)

type chainKey struct {
	sum  [sha256.Size]byte // of every certificate sent, in order
	host string
}

type validity struct{ from, until time.Time }

func keyOf(certs []*x509.Certificate, host string) chainKey {
	h := sha256.New()
	var n [8]byte
	for _, c := range certs {
		binary.BigEndian.PutUint64(n[:], uint64(len(c.Raw)))
		h.Write(n[:])
		h.Write(c.Raw)
	}
	k := chainKey{host: host}
	h.Sum(k.sum[:0])
	return k
}

// ok reports whether the chain verified for this host at a time that covers now.
func (v *verifiedChains) ok(k chainKey, now time.Time) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	w, found := v.m[k]
	return found && !now.Before(w.from) && now.Before(w.until)
}

// keep records a chain that verified at now, good while now is inside every
// certificate's validity (of chain, the one Verify built) and for verifiedFor.
func (v *verifiedChains) keep(k chainKey, chain []*x509.Certificate, now time.Time) {
	w := validity{from: now, until: now.Add(verifiedFor)}
	for _, c := range chain {
		if c.NotBefore.After(w.from) {
			w.from = c.NotBefore // cannot happen for a chain that verified at now; kept for clarity
		}
		if c.NotAfter.Before(w.until) {
			w.until = c.NotAfter
		}
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.m == nil || len(v.m) >= verifiedMax {
		v.m = map[chainKey]validity{}
	}
	v.m[k] = w
}

// sessionCache keeps the TLS session of each server name the page fetch reached, so
// that the next probe resumes it instead of making a full handshake: the server sends
// no certificate and the prober neither parses one nor checks the server's signature
// over the handshake. The resumed connection still carries the certificates of the
// full handshake the session came from, and verifyCert checks them at the probe's
// time as always, so a certificate that expires is reported at the first probe after
// it expires. What resumption cannot see is a certificate the server changed since;
// so a session counts only for sessionFor after the full handshake it descends from
// (the new tickets of resumed connections keep that handshake's time), and then the
// next probe makes a full handshake and sees the certificate the server now sends: at
// least as often as a verified chain is checked again. A server that refuses the
// session gets a full handshake at once. At most verifiedMax sessions are kept (then
// all are forgotten at once), so memory stays bounded whatever servers send.
type sessionCache struct {
	mu sync.Mutex
	m  map[string]session
}

const sessionFor = verifiedFor

type session struct {
	cs   *tls.ClientSessionState
	born time.Time // of the full handshake this session descends from, by the prober's clock
}

func (c *sessionCache) get(key string) (session, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.m[key]
	return s, ok
}

func (c *sessionCache) put(key string, s session) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= verifiedMax {
		c.m = map[string]session{}
	}
	c.m[key] = s
}

func (c *sessionCache) drop(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, key)
}

// probeSessions is one page fetch's view of the prober's sessions, as a
// tls.ClientSessionCache: it knows the probe's time and whether its last handshake
// resumed, which the shared cache cannot tell from a new ticket.
type probeSessions struct {
	shared  *sessionCache
	now     time.Time
	mu      sync.Mutex
	resumed bool                 // the last handshake of this fetch resumed a session
	offered map[string]time.Time // the birth of each session this fetch offered, by key
}

// Get offers a session younger than sessionFor; an older one is not offered, so the
// handshake is full.
func (s *probeSessions) Get(key string) (*tls.ClientSessionState, bool) {
	e, ok := s.shared.get(key)
	if !ok || s.now.Before(e.born) || !s.now.Before(e.born.Add(sessionFor)) {
		return nil, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.offered == nil {
		s.offered = map[string]time.Time{}
	}
	s.offered[key] = e.born
	return e.cs, true
}

// Put keeps a new ticket with the time of the full handshake it descends from: now
// after a full handshake, the offered session's after a resumed one.
func (s *probeSessions) Put(key string, cs *tls.ClientSessionState) {
	if cs == nil { // the server refused the session offered
		s.shared.drop(key)
		return
	}
	s.mu.Lock()
	born, offered := s.offered[key]
	resumed := s.resumed
	s.mu.Unlock()
	switch {
	case !resumed:
		born = s.now
	case !offered: // resumed a session this fetch did not offer: cannot happen; keep nothing
		return
	}
	s.shared.put(key, session{cs: cs, born: born})
}

func (s *probeSessions) handshake(resumed bool) {
	s.mu.Lock()
	s.resumed = resumed
	s.mu.Unlock()
}

// verifyCert checks the chain the server sent against the roots for host at now;
// chains, when not nil, spares the check of a chain that verified before.
func verifyCert(cs tls.ConnectionState, host string, roots *x509.CertPool, now time.Time, chains *verifiedChains) *TLSInfo {
	info := &TLSInfo{Version: tls.VersionName(cs.Version)}
	certs := cs.PeerCertificates
	if len(certs) == 0 {
		info.CertError = "máy chủ không gửi chứng thư / the server sent no certificate"
		return info
	}
	for _, c := range certs {
		if info.CertExpiry.IsZero() || c.NotAfter.Before(info.CertExpiry) {
			info.CertExpiry = c.NotAfter.UTC()
		}
	}
	leaf := certs[0]
	info.Subject, info.Issuer, info.DNSNames = leaf.Subject.String(), leaf.Issuer.String(), leaf.DNSNames
	var key chainKey
	if chains != nil {
		if key = keyOf(certs, host); chains.ok(key, now) {
			info.CertValid = true
			return info
		}
	}
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	built, err := leaf.Verify(x509.VerifyOptions{DNSName: host, Roots: roots, Intermediates: inter, CurrentTime: now})
	if err != nil {
		info.CertError = certReason(err)
		return info
	}
	info.CertValid = true
	if chains != nil && len(built) > 0 {
		chains.keep(key, built[0], now)
	}
	return info
}

func certReason(err error) string {
	var inv x509.CertificateInvalidError
	var host x509.HostnameError
	var unk x509.UnknownAuthorityError
	switch {
	case errors.As(err, &inv) && inv.Reason == x509.Expired:
		return "chứng thư hết hạn hoặc chưa có hiệu lực / certificate expired or not yet valid: " + err.Error()
	case errors.As(err, &host):
		return "chứng thư không cấp cho tên miền này / certificate is not for this host: " + err.Error()
	case errors.As(err, &unk):
		return "chứng thư do tổ chức không được tin cậy cấp / certificate signed by an unknown authority"
	}
	return err.Error()
}

// checkHTTP fetches the page and fills status, phases, body facts, TLS and mobile.
func checkHTTP(ctx context.Context, p *Prober, t Target, r *Result) {
	tr := &tracer{}
	now := p.opts.Now()
	sessions := &probeSessions{shared: &p.sessions, now: now}
	verify := func(cs tls.ConnectionState) error {
		sessions.handshake(cs.DidResume)
		tr.mu.Lock()
		host := tr.host
		tr.mu.Unlock()
		info := verifyCert(cs, host, p.opts.RootCAs, now, &p.chains)
		info.Resumed = cs.DidResume
		tr.mu.Lock()
		tr.hops = append(tr.hops, info)
		tr.mu.Unlock()
		return nil
	}
	transport := p.transport(verify, nil, sessions)
	defer transport.CloseIdleConnections()
	client := &http.Client{
		Transport: transport,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) == 1 && req.Response != nil { // the first request's answer sent us here
				r.firstAnswer = answerOf(req.Response)
			}
			if len(via) > p.opts.MaxRedirects {
				return fmt.Errorf("dừng sau %d lần chuyển hướng / stopped after %d redirects", p.opts.MaxRedirects, p.opts.MaxRedirects)
			}
			r.Redirects = len(via)
			return outbound.CheckScheme(req)
		},
	}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, tr.trace()), http.MethodGet, t.URL, nil)
	if err != nil {
		r.Error = fmt.Sprintf("yêu cầu không hợp lệ / bad request: %v", err)
		return
	}
	req.Header.Set("User-Agent", p.opts.UserAgent)
	req.Header.Set("Accept", "text/html,application/xhtml+xml,*/*;q=0.8")

	start := time.Now()
	resp, err := client.Do(req)
	if r.firstAnswer == nil && resp != nil {
		r.firstAnswer = answerOf(resp) // not redirected: the last answer is the first
	}
	finish := func() {
		tr.mu.Lock()
		defer tr.mu.Unlock()
		r.Phases = tr.ph
		r.lookup = tr.lookup
		r.Phases.Total = time.Since(start).Seconds()
		if !tr.firstByte.IsZero() && resp != nil {
			r.Phases.Transfer = time.Since(tr.firstByte).Seconds()
		}
		if len(tr.hops) > 0 && resp != nil && resp.Request.URL.Scheme == "https" {
			last := *tr.hops[len(tr.hops)-1]
			for _, h := range tr.hops { // one bad hop spoils the chain
				if !h.CertValid && last.CertValid {
					last.CertValid, last.CertError = false, h.CertError
				}
			}
			r.TLS = &last
		}
	}
	if err != nil {
		if resp != nil { // CheckRedirect refused: the last response is kept
			r.HTTPStatus = resp.StatusCode
			r.FinalURL = resp.Request.URL.String()
			resp.Body.Close()
		}
		r.Error = fetchReason(ctx, err, p.opts.Timeout)
		finish()
		return
	}
	defer resp.Body.Close()
	r.HTTPStatus = resp.StatusCode
	r.FinalURL = resp.Request.URL.String()

	buf := p.buffer()
	defer p.release(buf)
	n, rerr := buf.ReadFrom(io.LimitReader(resp.Body, p.opts.MaxBodyBytes+1))
	if n > p.opts.MaxBodyBytes {
		n = p.opts.MaxBodyBytes
		r.BodyTruncated = true
		buf.Truncate(int(n))
	}
	r.BodyBytes = n
	finish()
	if rerr != nil && !r.BodyTruncated {
		r.Error = "đọc nội dung trang lỗi / reading the body failed: " + fetchReason(ctx, rerr, p.opts.Timeout)
	}
	body := buf.Bytes()
	if t.Expect != "" {
		m := bytes.Contains(body, []byte(t.Expect))
		r.ContentMatch = &m
	}
	r.MobileReady = hasMobileViewport(body)
}

// answerOf keeps what the https_redirect check needs of a response.
func answerOf(resp *http.Response) *answer {
	a := &answer{status: resp.StatusCode}
	if loc, err := resp.Location(); err == nil {
		a.location = loc
	}
	return a
}

// fetchReason turns a client error into a reason an operator can act on.
func fetchReason(ctx context.Context, err error, timeout time.Duration) string {
	var dnsErr *net.DNSError
	var ue *url.Error
	var blocked *outbound.BlockedError
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) || os.IsTimeout(err):
		return fmt.Sprintf("hết thời gian chờ %s / timed out after %s", timeout, timeout)
	case errors.As(err, &blocked):
		return blocked.Error()
	case errors.As(err, &dnsErr):
		return "không phân giải được tên miền / DNS lookup failed: " + dnsErr.Error()
	case errors.Is(err, syscall.ECONNREFUSED):
		return "máy chủ từ chối kết nối / connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "máy chủ ngắt kết nối / connection reset"
	case errors.As(err, &ue):
		return strings.TrimPrefix(ue.Err.Error(), "net/http: ")
	}
	return err.Error()
}

// keptBuffers is how many body buffers a Prober keeps between probes: enough for the
// probes that run at once in a batch, and at most 32 MiB (see release).
const keptBuffers = 32

// buffer and release recycle body buffers: at thousands of probes a minute, a fresh
// buffer grown to the page's size each time would keep the garbage collector busy.
// They are kept in a bounded list rather than a sync.Pool, which empties at every
// collection: at 10,000 probes a minute that is every two seconds, and the buffers
// were regrown at a rate of 84 MB a minute.
func (p *Prober) buffer() *bytes.Buffer {
	select {
	case b := <-p.bufs:
		return b
	default:
		return new(bytes.Buffer)
	}
}

func (p *Prober) release(b *bytes.Buffer) {
	if b.Cap() > 1<<20 { // at most 32 MiB kept; a larger page gets a fresh buffer
		return
	}
	b.Reset()
	select {
	case p.bufs <- b:
	default:
	}
}
