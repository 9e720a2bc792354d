package probetest

import (
	"crypto"
	"encoding/pem"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

func pemBlock(kind string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der})
}

// DNSServer is an authoritative-and-recursive-looking DNS server on 127.0.0.1 (UDP and
// TCP on one port) for the zones a test defines. Signed zones are signed on the fly
// with a key made for the test, as a real signer would sign them.
type DNSServer struct {
	// Addr is host:port, for the prober's Resolver option.
	Addr string

	mu      sync.Mutex
	zones   map[string]*Zone
	records map[rrKey]*rrEntry
	asked   map[string]int // "name TYPE" → questions received
}

// Asked is how many questions for name (fully qualified) and type the server has
// received, so a test can say which queries a probe made.
func (s *DNSServer) Asked(name string, qtype uint16) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.asked[dns.CanonicalName(name)+" "+dns.TypeToString[qtype]]
}

type rrKey struct {
	name  string
	rtype uint16
}

type rrEntry struct {
	rrs  []dns.RR
	zone *Zone // the zone whose key signs this set
}

// Zone is one zone of the server.
type Zone struct {
	Name string
	srv  *DNSServer
	key  *dns.DNSKEY
	priv crypto.Signer
	// ExpiredSignatures signs with a validity that ended yesterday: a bogus zone.
	ExpiredSignatures bool
	// KeyTTL is the TTL of the zone's DNSKEY and of the DS its parent publishes
	// (0: 3600); set it before Sign.
	KeyTTL uint32
}

// SetExpiredSignatures breaks (true) or mends (false) the zone's signatures while the
// server runs.
func (z *Zone) SetExpiredSignatures(expired bool) {
	z.srv.mu.Lock()
	defer z.srv.mu.Unlock()
	z.ExpiredSignatures = expired
}

// StartDNS starts the server; it stops when the test ends.
func StartDNS(t testing.TB) *DNSServer {
	t.Helper()
	s := &DNSServer{zones: map[string]*Zone{}, records: map[rrKey]*rrEntry{}, asked: map[string]int{}}
	// The port comes from the kernel, with no search: TCP's, since loopback TCP ports
	// are the ones other programs crowd; the UDP socket takes the same number.
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	pc, err := net.ListenPacket("udp4", l.Addr().String())
	if err != nil {
		l.Close()
		t.Fatalf("DNS server: UDP %s, the port the kernel gave for TCP: %v", l.Addr(), err)
	}
	s.Addr = pc.LocalAddr().String()
	for _, srv := range []*dns.Server{{PacketConn: pc, Handler: s}, {Listener: l, Handler: s}} {
		started := make(chan struct{})
		srv.NotifyStartedFunc = func() { close(started) }
		go srv.ActivateAndServe()
		<-started
		t.Cleanup(func() { srv.Shutdown() })
	}
	return s
}

// Zone adds a zone with its SOA. The root zone is "."; names are fully qualified.
func (s *DNSServer) Zone(t testing.TB, name string) *Zone {
	t.Helper()
	name = dns.CanonicalName(name)
	z := &Zone{Name: name, srv: s}
	s.mu.Lock()
	s.zones[name] = z
	s.mu.Unlock()
	z.Add(t, name+" 3600 IN SOA ns."+name+" hostmaster."+name+" 1 7200 900 1209600 300")
	return z
}

// Sign gives the zone one key (flags 257, ECDSA P-256) that signs every set, and
// publishes it as the zone's DNSKEY.
func (z *Zone) Sign(t testing.TB) *Zone {
	t.Helper()
	ttl := z.KeyTTL
	if ttl == 0 {
		ttl = 3600
	}
	k := &dns.DNSKEY{Hdr: dns.RR_Header{Name: z.Name, Rrtype: dns.TypeDNSKEY, Class: dns.ClassINET, Ttl: ttl},
		Flags: 257, Protocol: 3, Algorithm: dns.ECDSAP256SHA256}
	priv, err := k.Generate(256)
	if err != nil {
		t.Fatal(err)
	}
	z.key, z.priv = k, priv.(crypto.Signer)
	z.srv.add(z, k)
	return z
}

// DS is the DS record (SHA-256) of the zone's key: a trust anchor, or what its parent
// publishes.
func (z *Zone) DS() *dns.DS { return z.key.ToDS(dns.SHA256) }

// Delegate publishes child's DS in z, signed by z: the link of the chain of trust.
func (z *Zone) Delegate(t testing.TB, child *Zone) {
	t.Helper()
	z.srv.add(z, child.DS())
}

// Add adds records in zone-file form to the zone.
func (z *Zone) Add(t testing.TB, lines ...string) *Zone {
	t.Helper()
	for _, line := range lines {
		rr, err := dns.NewRR(line)
		if err != nil {
			t.Fatalf("record %q: %v", line, err)
		}
		z.srv.add(z, rr)
	}
	return z
}

func (s *DNSServer) add(z *Zone, rr dns.RR) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := rrKey{dns.CanonicalName(rr.Header().Name), rr.Header().Rrtype}
	e := s.records[k]
	if e == nil {
		e = &rrEntry{zone: z}
		s.records[k] = e
	}
	e.rrs = append(e.rrs, rr)
}

func (z *Zone) sign(rrs []dns.RR) *dns.RRSIG {
	h := rrs[0].Header()
	incept, expire := time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour)
	if z.ExpiredSignatures {
		incept, expire = time.Now().Add(-72*time.Hour), time.Now().Add(-24*time.Hour)
	}
	sig := &dns.RRSIG{
		Hdr:         dns.RR_Header{Name: h.Name, Rrtype: dns.TypeRRSIG, Class: dns.ClassINET, Ttl: h.Ttl},
		TypeCovered: h.Rrtype, Algorithm: z.key.Algorithm, Labels: uint8(dns.CountLabel(h.Name)),
		OrigTtl: h.Ttl, Expiration: uint32(expire.Unix()), Inception: uint32(incept.Unix()),
		KeyTag: z.key.KeyTag(), SignerName: z.Name,
	}
	if err := sig.Sign(z.priv, rrs); err != nil {
		panic("probetest: sign: " + err.Error()) // a bug in the test setup
	}
	return sig
}

// enclosing is the deepest zone name is in; for a DS question at an apex it is the
// parent, which is where a DS lives.
func (s *DNSServer) enclosing(name string, qtype uint16) *Zone {
	var best *Zone
	for zn, z := range s.zones {
		if !dns.IsSubDomain(zn, name) || (qtype == dns.TypeDS && zn == name && zn != ".") {
			continue
		}
		if best == nil || dns.CountLabel(zn) > dns.CountLabel(best.Name) {
			best = z
		}
	}
	return best
}

// ServeDNS answers one question from the records, with signatures when DO is set.
func (s *DNSServer) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(req)
	m.Authoritative, m.RecursionAvailable = true, true
	if len(req.Question) != 1 {
		m.Rcode = dns.RcodeFormatError
		w.WriteMsg(m)
		return
	}
	q := req.Question[0]
	name := dns.CanonicalName(q.Name)
	do := false
	if opt := req.IsEdns0(); opt != nil {
		do = opt.Do()
		m.SetEdns0(4096, do)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.asked[name+" "+dns.TypeToString[q.Qtype]]++
	answer := func(e *rrEntry) {
		m.Answer = append(m.Answer, e.rrs...)
		if do && e.zone.key != nil {
			m.Answer = append(m.Answer, e.zone.sign(e.rrs))
		}
	}
	if e := s.records[rrKey{name, q.Qtype}]; e != nil {
		answer(e)
	} else if e := s.records[rrKey{name, dns.TypeCNAME}]; e != nil {
		answer(e)
	} else {
		exists := false
		for k := range s.records {
			if k.name == name || strings.HasSuffix(k.name, "."+name) {
				exists = true
				break
			}
		}
		if !exists {
			m.Rcode = dns.RcodeNameError
		}
		if z := s.enclosing(name, q.Qtype); z != nil {
			if e := s.records[rrKey{z.Name, dns.TypeSOA}]; e != nil {
				m.Ns = append(m.Ns, e.rrs...)
				if do && z.key != nil {
					m.Ns = append(m.Ns, z.sign(e.rrs))
				}
			}
		}
	}
	w.WriteMsg(m)
}
