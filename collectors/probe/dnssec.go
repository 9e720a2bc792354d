package probe

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// RootAnchors returns the IANA root zone trust anchors, KSK-2017 (key tag 20326) and
// KSK-2024 (key tag 38696), as published in root-anchors.xml.
func RootAnchors() []*dns.DS {
	var out []*dns.DS
	for _, s := range []string{
		". IN DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D",
		". IN DS 38696 8 2 683D2D0ACB8C9B712A1948B27F741219298D0A450D612C483AF444A4C0FB2B16",
	} {
		rr, err := dns.NewRR(s)
		if err != nil {
			panic("probe: built-in root anchor: " + err.Error()) // a typo in this file
		}
		out = append(out, rr.(*dns.DS))
	}
	return out
}

// ParseTrustAnchors reads DS records in zone-file form, one a line ("example. IN DS
// 12345 13 2 ABCD..."), as unbound's trust-anchor files hold them.
func ParseTrustAnchors(text string) ([]*dns.DS, error) {
	var out []*dns.DS
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, ";") {
			continue
		}
		rr, err := dns.NewRR(line)
		if err != nil {
			return nil, fmt.Errorf("trust anchor line %d: %w", i+1, err)
		}
		ds, ok := rr.(*dns.DS)
		if !ok {
			return nil, fmt.Errorf("trust anchor line %d: want a DS record, got %s", i+1, dns.TypeToString[rr.Header().Rrtype])
		}
		out = append(out, ds)
	}
	return out, nil
}

// query asks the resolver with DO (send signatures) and CD (do not validate for me:
// a validating resolver would hide a bogus zone behind SERVFAIL, and G-OC wants to
// say why it is bogus). A truncated UDP answer is asked again over TCP.
func (p *Prober) query(ctx context.Context, name string, qtype uint16) (*dns.Msg, error) {
	m := new(dns.Msg)
	m.SetQuestion(dns.CanonicalName(name), qtype)
	m.RecursionDesired = true
	m.CheckingDisabled = true
	m.SetEdns0(4096, true)
	in, _, err := p.dns.ExchangeContext(ctx, m, p.resolver)
	if err == nil && in.Truncated {
		tcp := *p.dns
		tcp.Net = "tcp"
		in, _, err = tcp.ExchangeContext(ctx, m, p.resolver)
	}
	if err != nil {
		return nil, fmt.Errorf("hỏi %s %s tại %s / query %s %s at %s: %w", dns.TypeToString[qtype], name, p.resolver,
			dns.TypeToString[qtype], name, p.resolver, err)
	}
	if in.Rcode != dns.RcodeSuccess && in.Rcode != dns.RcodeNameError {
		return nil, fmt.Errorf("%s %s: máy chủ DNS trả lời / resolver answered %s", dns.TypeToString[qtype], name, dns.RcodeToString[in.Rcode])
	}
	return in, nil
}

// records returns the RRs of type t owned by name in a section.
func records(section []dns.RR, name string, t uint16) []dns.RR {
	var out []dns.RR
	for _, rr := range section {
		h := rr.Header()
		if h.Rrtype == t && dns.CanonicalName(h.Name) == name {
			out = append(out, rr)
		}
	}
	return out
}

// signatures returns the RRSIGs over type t owned by name in a section.
func signatures(section []dns.RR, name string, t uint16) []*dns.RRSIG {
	var out []*dns.RRSIG
	for _, rr := range section {
		if s, ok := rr.(*dns.RRSIG); ok && s.TypeCovered == t && dns.CanonicalName(s.Hdr.Name) == name {
			out = append(out, s)
		}
	}
	return out
}

// dnssecRun validates one host; it keeps the chain of zones it has validated.
type dnssecRun struct {
	p     *Prober
	now   time.Time
	chain []string
}

// errNoZone is returned when no SOA says which zone a name is in.
var errNoZone = errors.New("không tìm thấy vùng (SOA) / no SOA names the zone")

// zoneOf finds the zone a name lives in: the owner of the SOA the resolver returns,
// in the answer for an apex, in the authority section otherwise; and how long that
// answer may be kept (the SOA's TTL).
func (v *dnssecRun) zoneOf(ctx context.Context, name string) (string, uint32, error) {
	name = dns.CanonicalName(name)
	in, err := v.p.query(ctx, name, dns.TypeSOA)
	if err != nil {
		return "", 0, err
	}
	if len(records(in.Answer, name, dns.TypeCNAME)) > 0 && name != "." {
		// A CNAME never sits at a zone apex, so the zone holding it is the one that
		// holds its parent name; the SOA in the answer is the alias target's.
		return v.zoneOf(ctx, parentName(name))
	}
	for _, sec := range [][]dns.RR{in.Answer, in.Ns} {
		for _, rr := range sec {
			if soa, ok := rr.(*dns.SOA); ok && dns.IsSubDomain(dns.CanonicalName(soa.Hdr.Name), name) {
				return dns.CanonicalName(soa.Hdr.Name), soa.Hdr.Ttl, nil
			}
		}
	}
	return "", 0, fmt.Errorf("%s: %w", name, errNoZone)
}

func parentName(name string) string {
	if name == "." {
		return "."
	}
	i, end := dns.NextLabel(name, 0)
	if end {
		return "."
	}
	return name[i:]
}

// verifyAny returns a signature over rrset, made by one of keys and valid now, that
// checks; otherwise nil and why not.
func (v *dnssecRun) verifyAny(sigs []*dns.RRSIG, keys []*dns.DNSKEY, rrset []dns.RR) (*dns.RRSIG, string) {
	if len(sigs) == 0 {
		return nil, "không có chữ ký RRSIG / no RRSIG"
	}
	why := "không khóa nào khớp chữ ký / no key matches the signature"
	for _, s := range sigs {
		for _, k := range keys {
			if k.KeyTag() != s.KeyTag || k.Algorithm != s.Algorithm ||
				dns.CanonicalName(k.Hdr.Name) != dns.CanonicalName(s.SignerName) {
				continue
			}
			if err := s.Verify(k, rrset); err != nil {
				why = "chữ ký sai / signature does not verify: " + err.Error()
				continue
			}
			if !s.ValidityPeriod(v.now) {
				why = fmt.Sprintf("chữ ký hết hạn hoặc chưa hiệu lực / signature outside its validity %s–%s",
					dns.TimeToString(s.Inception), dns.TimeToString(s.Expiration))
				continue
			}
			return s, ""
		}
	}
	return nil, why
}

// keptUntil is how long a proven set may be kept: its TTL (at most provenFor) and not
// past the expiry of the signature that proved it.
func (v *dnssecRun) keptUntil(set []dns.RR, sig *dns.RRSIG) time.Time {
	ttl := uint32(provenFor / time.Second)
	for _, rr := range set {
		ttl = min(ttl, rr.Header().Ttl)
	}
	if sig != nil {
		ttl = min(ttl, sig.OrigTtl)
	}
	until := v.now.Add(time.Duration(ttl) * time.Second)
	if sig != nil {
		// Serial arithmetic (RFC 4034 3.1.5): the signature checked at now, so its
		// expiry is at most 2^31 s ahead.
		left := time.Duration(int32(sig.Expiration-uint32(v.now.Unix()))) * time.Second
		if t := v.now.Add(left); t.Before(until) {
			until = t
		}
	}
	return until
}

// matchDS reports whether one of the DS records is the digest of one of the keys.
func matchDS(dss []*dns.DS, keys []*dns.DNSKEY) bool {
	for _, ds := range dss {
		for _, k := range keys {
			if k.KeyTag() != ds.KeyTag || k.Algorithm != ds.Algorithm {
				continue
			}
			if d := k.ToDS(ds.DigestType); d != nil && strings.EqualFold(d.Digest, ds.Digest) {
				return true
			}
		}
	}
	return false
}

// keys returns the zone's DNSKEYs once they are proven from a trust anchor down, and
// until when that proof may be kept, or the status that stopped the proof. err is set
// only when the resolver failed.
func (v *dnssecRun) keys(ctx context.Context, zone string, depth int) ([]*dns.DNSKEY, time.Time, string, string, error) {
	var never time.Time
	if depth > 16 {
		return nil, never, DNSSECBogus, "chuỗi tin cậy quá dài / chain of trust too long", nil
	}
	in, err := v.p.query(ctx, zone, dns.TypeDNSKEY)
	if err != nil {
		return nil, never, "", "", err
	}
	set := records(in.Answer, zone, dns.TypeDNSKEY)
	keys := make([]*dns.DNSKEY, 0, len(set))
	for _, rr := range set {
		keys = append(keys, rr.(*dns.DNSKEY))
	}
	var anchors []*dns.DS
	for _, a := range v.p.opts.TrustAnchors {
		if dns.CanonicalName(a.Hdr.Name) == zone {
			anchors = append(anchors, a)
		}
	}
	if len(keys) == 0 {
		if len(anchors) > 0 {
			return nil, never, DNSSECBogus, fmt.Sprintf("vùng %s có neo tin cậy nhưng không có DNSKEY / %s has a trust anchor but no DNSKEY", zone, zone), nil
		}
		if zone != "." {
			dsIn, err := v.p.query(ctx, zone, dns.TypeDS)
			if err != nil {
				return nil, never, "", "", err
			}
			if len(records(dsIn.Answer, zone, dns.TypeDS)) > 0 {
				return nil, never, DNSSECBogus, fmt.Sprintf("vùng cha có DS cho %s nhưng vùng không có DNSKEY / the parent has a DS for %s but the zone has no DNSKEY", zone, zone), nil
			}
		}
		return nil, never, DNSSECUnsigned, fmt.Sprintf("vùng %s không có DNSKEY / zone %s has no DNSKEY", zone, zone), nil
	}
	// The DNSKEY set must be signed by one of its own keys; those keys are the ones a
	// DS or a trust anchor may point at.
	var signers []*dns.DNSKEY
	var why string
	until := v.now.Add(provenFor)
	for _, k := range keys {
		if sig, w := v.verifyAny(signatures(in.Answer, zone, dns.TypeDNSKEY), []*dns.DNSKEY{k}, set); sig != nil {
			signers = append(signers, k)
			if u := v.keptUntil(set, sig); u.Before(until) {
				until = u
			}
		} else if why == "" || !strings.HasPrefix(w, "không khóa") {
			why = w
		}
	}
	if len(signers) == 0 {
		return nil, never, DNSSECBogus, fmt.Sprintf("tập DNSKEY của %s không tự ký hợp lệ / the DNSKEY set of %s is not validly signed: %s", zone, zone, why), nil
	}
	v.chain = append(v.chain, zone)
	if len(anchors) > 0 {
		if matchDS(anchors, signers) {
			return keys, until, DNSSECValid, "", nil
		}
		return nil, never, DNSSECBogus, fmt.Sprintf("không khóa nào của %s khớp neo tin cậy / no key of %s matches the trust anchor", zone, zone), nil
	}
	if zone == "." {
		return nil, never, DNSSECBogus, "không có neo tin cậy cho vùng gốc / no trust anchor for the root", nil
	}
	dsIn, err := v.p.query(ctx, zone, dns.TypeDS)
	if err != nil {
		return nil, never, "", "", err
	}
	dsSet := records(dsIn.Answer, zone, dns.TypeDS)
	if len(dsSet) == 0 {
		return nil, never, DNSSECUnsigned, fmt.Sprintf("%s được ký nhưng vùng cha không có DS: không có chuỗi tin cậy / %s is signed but its parent publishes no DS: no chain of trust", zone, zone), nil
	}
	dss := make([]*dns.DS, len(dsSet))
	for i, rr := range dsSet {
		dss[i] = rr.(*dns.DS)
	}
	if !matchDS(dss, signers) {
		return nil, never, DNSSECBogus, fmt.Sprintf("DS ở vùng cha không khớp khóa nào của %s / no DS at the parent matches a key signing %s", zone, zone), nil
	}
	parent, pkeys, puntil, pst, pdetail, err := v.parentKeys(ctx, zone, depth)
	if err != nil || pst != DNSSECValid {
		return nil, never, pst, pdetail, err
	}
	sig, w := v.verifyAny(signatures(dsIn.Answer, zone, dns.TypeDS), pkeys, dsSet)
	if sig == nil {
		return nil, never, DNSSECBogus, fmt.Sprintf("DS của %s tại %s: %s / the DS of %s at %s: %s", zone, parent, w, zone, parent, w), nil
	}
	if u := v.keptUntil(dsSet, sig); u.Before(until) {
		until = u
	}
	if puntil.Before(until) {
		until = puntil
	}
	return keys, until, DNSSECValid, "", nil
}

// parentKeys proves the keys of the zone above zone, or takes them from the prober's
// kept proofs when a probe proved them less than their TTL ago: every portal under
// gov.vn. shares the proof of gov.vn., vn. and the root, which a validating resolver
// keeps for its TTL too. The zone's own DNSKEY and DS are asked at every probe.
func (v *dnssecRun) parentKeys(ctx context.Context, zone string, depth int) (string, []*dns.DNSKEY, time.Time, string, string, error) {
	var never time.Time
	name := parentName(zone)
	if e, ok := v.p.proven.get(name, v.now); ok {
		v.chain = append(v.chain, e.chain...)
		return e.zone, e.keys, e.until, DNSSECValid, "", nil
	}
	parent, ttl, err := v.zoneOf(ctx, name)
	if err != nil {
		return "", nil, never, "", "", err
	}
	from := len(v.chain)
	keys, until, st, detail, err := v.keys(ctx, parent, depth+1)
	if err != nil || st != DNSSECValid {
		return parent, nil, never, st, detail, err
	}
	if u := v.now.Add(time.Duration(ttl) * time.Second); u.Before(until) {
		until = u
	}
	v.p.proven.keep(name, provenZone{zone: parent, keys: keys, chain: slices.Clone(v.chain[from:]), from: v.now, until: until})
	return parent, keys, until, DNSSECValid, "", nil
}

// provenZones keeps the zones above portals' zones whose keys were proven from a
// trust anchor down, by the name whose zone was asked, each until the earliest TTL or
// signature expiry of the answers that proved it and for at most provenFor. Only
// proofs that succeeded are kept, so a broken or bogus parent is found by the next
// probe after the TTL of its last good answer. At most provenMax are kept (then all
// are forgotten at once), so memory stays bounded whatever zones portals sit in.
type provenZones struct {
	mu sync.Mutex
	m  map[string]provenZone
}

const (
	provenFor = time.Hour
	provenMax = 10000
)

// provenZone is read-only once kept; probes share its slices.
type provenZone struct {
	zone        string
	keys        []*dns.DNSKEY
	chain       []string
	from, until time.Time
}

func (c *provenZones) get(name string, now time.Time) (provenZone, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[name]
	return e, ok && !now.Before(e.from) && now.Before(e.until)
}

func (c *provenZones) keep(name string, e provenZone) {
	if !e.from.Before(e.until) {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= provenMax {
		c.m = map[string]provenZone{}
	}
	c.m[name] = e
}

// checkDNSSEC proves the host's zone from a trust anchor down and checks the
// signature on the host's own address record. The absence of a DS or DNSKEY is taken
// as the resolver reports it; NSEC/NSEC3 denial proofs are not checked, because the
// question is whether an agency deployed DNSSEC, not whether someone forged a denial.
func checkDNSSEC(ctx context.Context, p *Prober, t Target, r *Result) {
	info := DNSSECInfo{Checked: true}
	defer func() { r.DNSSEC = info }()
	host := hostOf(t.URL)
	if net.ParseIP(host) != nil {
		info.Detail = "địa chỉ IP, không có vùng DNS / an IP address has no DNS zone"
		return
	}
	v := &dnssecRun{p: p, now: p.opts.Now()}
	name := dns.CanonicalName(host)
	zone, _, err := v.zoneOf(ctx, name)
	if err != nil {
		info.Detail = err.Error()
		return
	}
	info.Zone = zone
	keys, _, st, detail, err := v.keys(ctx, zone, 0)
	info.Chain = v.chain
	if err != nil {
		info.Detail = err.Error()
		return
	}
	if st != DNSSECValid {
		info.Status, info.Detail = st, detail
		return
	}
	for _, qt := range []uint16{dns.TypeA, dns.TypeAAAA} {
		in, err := p.query(ctx, name, qt)
		if err != nil {
			info.Detail = err.Error()
			return
		}
		rrType := qt
		set := records(in.Answer, name, qt)
		if cn := records(in.Answer, name, dns.TypeCNAME); len(cn) > 0 {
			rrType, set = dns.TypeCNAME, cn
		}
		if len(set) == 0 {
			continue
		}
		if sig, why := v.verifyAny(signatures(in.Answer, name, rrType), keys, set); sig == nil {
			info.Status = DNSSECBogus
			info.Detail = fmt.Sprintf("bản ghi %s của %s: %s / the %s record of %s: %s",
				dns.TypeToString[rrType], host, why, dns.TypeToString[rrType], host, why)
			return
		}
		info.Status = DNSSECValid
		return
	}
	info.Status = DNSSECValid
	info.Detail = "vùng hợp lệ; tên không có bản ghi địa chỉ để kiểm / the zone validates; the name has no address record to check"
}
