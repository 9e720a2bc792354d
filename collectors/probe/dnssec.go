package probe

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
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
// in the answer for an apex, in the authority section otherwise.
func (v *dnssecRun) zoneOf(ctx context.Context, name string) (string, error) {
	name = dns.CanonicalName(name)
	in, err := v.p.query(ctx, name, dns.TypeSOA)
	if err != nil {
		return "", err
	}
	if len(records(in.Answer, name, dns.TypeCNAME)) > 0 && name != "." {
		// A CNAME never sits at a zone apex, so the zone holding it is the one that
		// holds its parent name; the SOA in the answer is the alias target's.
		return v.zoneOf(ctx, parentName(name))
	}
	for _, sec := range [][]dns.RR{in.Answer, in.Ns} {
		for _, rr := range sec {
			if soa, ok := rr.(*dns.SOA); ok && dns.IsSubDomain(dns.CanonicalName(soa.Hdr.Name), name) {
				return dns.CanonicalName(soa.Hdr.Name), nil
			}
		}
	}
	return "", fmt.Errorf("%s: %w", name, errNoZone)
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

// verifyAny reports whether some signature over rrset, made by one of keys and valid
// now, checks; otherwise why not.
func (v *dnssecRun) verifyAny(sigs []*dns.RRSIG, keys []*dns.DNSKEY, rrset []dns.RR) (bool, string) {
	if len(sigs) == 0 {
		return false, "không có chữ ký RRSIG / no RRSIG"
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
			return true, ""
		}
	}
	return false, why
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

// keys returns the zone's DNSKEYs once they are proven from a trust anchor down, or
// the status that stopped the proof. err is set only when the resolver failed.
func (v *dnssecRun) keys(ctx context.Context, zone string, depth int) ([]*dns.DNSKEY, string, string, error) {
	if depth > 16 {
		return nil, DNSSECBogus, "chuỗi tin cậy quá dài / chain of trust too long", nil
	}
	in, err := v.p.query(ctx, zone, dns.TypeDNSKEY)
	if err != nil {
		return nil, "", "", err
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
			return nil, DNSSECBogus, fmt.Sprintf("vùng %s có neo tin cậy nhưng không có DNSKEY / %s has a trust anchor but no DNSKEY", zone, zone), nil
		}
		if zone != "." {
			dsIn, err := v.p.query(ctx, zone, dns.TypeDS)
			if err != nil {
				return nil, "", "", err
			}
			if len(records(dsIn.Answer, zone, dns.TypeDS)) > 0 {
				return nil, DNSSECBogus, fmt.Sprintf("vùng cha có DS cho %s nhưng vùng không có DNSKEY / the parent has a DS for %s but the zone has no DNSKEY", zone, zone), nil
			}
		}
		return nil, DNSSECUnsigned, fmt.Sprintf("vùng %s không có DNSKEY / zone %s has no DNSKEY", zone, zone), nil
	}
	// The DNSKEY set must be signed by one of its own keys; those keys are the ones a
	// DS or a trust anchor may point at.
	var signers []*dns.DNSKEY
	var why string
	for _, k := range keys {
		if ok, w := v.verifyAny(signatures(in.Answer, zone, dns.TypeDNSKEY), []*dns.DNSKEY{k}, set); ok {
			signers = append(signers, k)
		} else if why == "" || !strings.HasPrefix(w, "không khóa") {
			why = w
		}
	}
	if len(signers) == 0 {
		return nil, DNSSECBogus, fmt.Sprintf("tập DNSKEY của %s không tự ký hợp lệ / the DNSKEY set of %s is not validly signed: %s", zone, zone, why), nil
	}
	v.chain = append(v.chain, zone)
	if len(anchors) > 0 {
		if matchDS(anchors, signers) {
			return keys, DNSSECValid, "", nil
		}
		return nil, DNSSECBogus, fmt.Sprintf("không khóa nào của %s khớp neo tin cậy / no key of %s matches the trust anchor", zone, zone), nil
	}
	if zone == "." {
		return nil, DNSSECBogus, "không có neo tin cậy cho vùng gốc / no trust anchor for the root", nil
	}
	dsIn, err := v.p.query(ctx, zone, dns.TypeDS)
	if err != nil {
		return nil, "", "", err
	}
	dsSet := records(dsIn.Answer, zone, dns.TypeDS)
	if len(dsSet) == 0 {
		return nil, DNSSECUnsigned, fmt.Sprintf("%s được ký nhưng vùng cha không có DS: không có chuỗi tin cậy / %s is signed but its parent publishes no DS: no chain of trust", zone, zone), nil
	}
	dss := make([]*dns.DS, len(dsSet))
	for i, rr := range dsSet {
		dss[i] = rr.(*dns.DS)
	}
	if !matchDS(dss, signers) {
		return nil, DNSSECBogus, fmt.Sprintf("DS ở vùng cha không khớp khóa nào của %s / no DS at the parent matches a key signing %s", zone, zone), nil
	}
	parent, err := v.zoneOf(ctx, parentName(zone))
	if err != nil {
		return nil, "", "", err
	}
	pkeys, pst, pdetail, err := v.keys(ctx, parent, depth+1)
	if err != nil || pst != DNSSECValid {
		return nil, pst, pdetail, err
	}
	if ok, w := v.verifyAny(signatures(dsIn.Answer, zone, dns.TypeDS), pkeys, dsSet); !ok {
		return nil, DNSSECBogus, fmt.Sprintf("DS của %s tại %s: %s / the DS of %s at %s: %s", zone, parent, w, zone, parent, w), nil
	}
	return keys, DNSSECValid, "", nil
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
	zone, err := v.zoneOf(ctx, name)
	if err != nil {
		info.Detail = err.Error()
		return
	}
	info.Zone = zone
	keys, st, detail, err := v.keys(ctx, zone, 0)
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
		if ok, why := v.verifyAny(signatures(in.Answer, name, rrType), keys, set); !ok {
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
