// Package outbound decides which addresses G-OC's own requests (portal probes, KPI
// feed pulls) may reach. A target configured with a public name must never reach the
// machine G-OC runs on, its private network or a cloud metadata service, whether by
// its name resolving there (DNS rebinding included) or by a redirect.
//
// The check sits in the dialer's Control hook, which runs for the address actually
// being connected to, after name resolution and for every hop of a redirect chain: a
// name that resolves to a public address when configured and to 127.0.0.1 when dialled
// is caught, because only the dialled address is judged. Internal targets are allowed
// explicitly, by network (CIDR) or by exact address and port.
package outbound

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"syscall"
	"time"
)

// Policy is the set of internal addresses that may be reached; every public address
// may. The zero Policy allows no internal address. Safe for concurrent use (read only).
type Policy struct {
	nets  []netip.Prefix
	ports map[netip.AddrPort]bool
}

// NewPolicy builds a policy from allowance entries, each a network in CIDR form
// ("10.20.0.0/16"), one address ("10.20.0.5", any port), or one address and port
// ("127.0.0.1:8080", "[::1]:9090"). Names are refused: the dialer sees addresses, and a
// name's address is what an attacker who controls its DNS would change.
func NewPolicy(allow []string) (*Policy, error) {
	p := &Policy{ports: map[netip.AddrPort]bool{}}
	var errs []error
	for i, a := range allow {
		a = strings.TrimSpace(a)
		if pre, err := netip.ParsePrefix(a); err == nil {
			p.nets = append(p.nets, pre.Masked())
			continue
		}
		if ip, err := netip.ParseAddr(a); err == nil {
			p.nets = append(p.nets, netip.PrefixFrom(ip.Unmap(), ip.Unmap().BitLen()))
			continue
		}
		if ap, err := netip.ParseAddrPort(a); err == nil {
			p.ports[netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())] = true
			continue
		}
		errs = append(errs, fmt.Errorf("allow[%d] %q: không phải CIDR, địa chỉ IP hay IP:cổng / not a CIDR, an IP address or IP:port (names are not accepted: give the address)", i, a))
	}
	return p, errors.Join(errs...)
}

// MustPolicy is NewPolicy for fixed allowances in tests and wiring; it panics on a bad
// entry.
func MustPolicy(allow ...string) *Policy {
	p, err := NewPolicy(allow)
	if err != nil {
		panic(err)
	}
	return p
}

// BlockedError is a refused connection: which address, and why.
type BlockedError struct {
	Addr   string
	Reason string
}

func (e *BlockedError) Error() string {
	return fmt.Sprintf("địa chỉ %s bị chặn (%s), không có trong outbound.allow / address %s refused: %s, not in outbound.allow",
		e.Addr, e.Reason, e.Addr, e.Reason)
}

// Check returns a *BlockedError when address (IP:port, as the dialer gives it) is
// internal and not allowed.
func (p *Policy) Check(address string) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return &BlockedError{Addr: address, Reason: "not an IP address and port"}
	}
	ip := ap.Addr().Unmap()
	why := internal(ip)
	if why == "" {
		return nil
	}
	if p != nil {
		if p.ports[netip.AddrPortFrom(ip, ap.Port())] {
			return nil
		}
		for _, n := range p.nets {
			if n.Contains(ip) {
				return nil
			}
		}
	}
	return &BlockedError{Addr: address, Reason: why}
}

// Special ranges netip has no predicate for.
var (
	cgnat      = netip.MustParsePrefix("100.64.0.0/10")
	thisNet    = netip.MustParsePrefix("0.0.0.0/8")
	reserved   = netip.MustParsePrefix("240.0.0.0/4")
	benchmark  = netip.MustParsePrefix("198.18.0.0/15")
	ietf       = netip.MustParsePrefix("192.0.0.0/24")
	nat64      = netip.MustParsePrefix("64:ff9b::/96")
	metadataV4 = netip.MustParseAddr("169.254.169.254")
	metadataV6 = netip.MustParseAddr("fd00:ec2::254")
)

// internal names the kind of internal address ip is, or "" for a public one.
func internal(ip netip.Addr) string {
	switch {
	case !ip.IsValid():
		return "invalid address"
	case ip == metadataV4 || ip == metadataV6:
		return "cloud metadata service"
	case ip.IsLoopback():
		return "loopback"
	case ip.IsUnspecified() || thisNet.Contains(ip):
		return "unspecified"
	case ip.IsPrivate():
		return "private network"
	case ip.IsLinkLocalUnicast():
		return "link-local"
	case ip.IsMulticast() || ip.IsLinkLocalMulticast() || ip.IsInterfaceLocalMulticast():
		return "multicast"
	case cgnat.Contains(ip):
		return "carrier-grade NAT (100.64.0.0/10)"
	case reserved.Contains(ip) || benchmark.Contains(ip) || ietf.Contains(ip):
		return "reserved range"
	case nat64.Contains(ip):
		// A NAT64 address reaches the IPv4 address in its last 32 bits.
		b := ip.As16()
		if why := internal(netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]})); why != "" {
			return why + " through NAT64"
		}
	}
	return ""
}

// Control is a net.Dialer Control hook: it runs with the address about to be
// connected to, after name resolution, and refuses internal ones.
func (p *Policy) Control(_, address string, _ syscall.RawConn) error {
	return p.Check(address)
}

// Dialer returns a dialer that refuses internal addresses, based on d (a fresh one when
// nil). A Control already on d runs after the check.
func (p *Policy) Dialer(d *net.Dialer) *net.Dialer {
	out := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
	if d != nil {
		c := *d
		out = &c
	}
	prev := out.Control
	out.Control = func(network, address string, c syscall.RawConn) error {
		if err := p.Check(address); err != nil {
			return err
		}
		if prev != nil {
			return prev(network, address, c)
		}
		return nil
	}
	return out
}

// CheckScheme refuses any URL scheme but http and https, for an http.Client's
// CheckRedirect (the first request is checked where the URL is configured).
func CheckScheme(req *http.Request) error {
	if s := req.URL.Scheme; s != "http" && s != "https" {
		return fmt.Errorf("chuyển hướng tới %q bị từ chối, chỉ http và https / redirect to scheme %q refused: only http and https", s, s)
	}
	return nil
}

// Transport is an http.Transport for feed pulls and similar requests: dials through
// the policy, never through a proxy from the environment (the proxy's address is not
// the target's, so the check would judge the wrong address).
func (p *Policy) Transport() *http.Transport {
	d := p.Dialer(nil)
	return &http.Transport{
		Proxy:                  nil,
		DialContext:            d.DialContext,
		ForceAttemptHTTP2:      true,
		MaxIdleConns:           100,
		IdleConnTimeout:        90 * time.Second,
		TLSHandshakeTimeout:    10 * time.Second,
		ExpectContinueTimeout:  time.Second,
		MaxResponseHeaderBytes: 256 << 10,
	}
}

// Client is an http.Client through Transport that follows at most 10 redirects, each
// to http or https only.
func (p *Policy) Client(timeout time.Duration) *http.Client {
	return &http.Client{Transport: p.Transport(), Timeout: timeout, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if len(via) >= 10 {
			return errors.New("dừng sau 10 lần chuyển hướng / stopped after 10 redirects")
		}
		return CheckScheme(req)
	}}
}

// Blocked returns the BlockedError inside err, if any.
func Blocked(err error) (*BlockedError, bool) {
	var b *BlockedError
	ok := errors.As(err, &b)
	return b, ok
}
