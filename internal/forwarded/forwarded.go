// Package forwarded takes a client's address and scheme from the X-Forwarded-For and
// X-Forwarded-Proto headers of a reverse proxy, and only from proxies the operator
// named. Behind nginx or a cloud load balancer every request comes from the proxy's
// address over plain HTTP; without this, per-client limits would count every citizen
// as one (five failed sign-ins anywhere would lock everyone out) and session cookies
// would lose their Secure flag. A header from anyone else is ignored, since a client
// can write whatever it likes in it.
package forwarded

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Proxies trusts the forwarding headers of requests whose peer is in one of its networks.
type Proxies struct {
	nets []netip.Prefix
}

// New trusts the proxies in nets; with none, every header is ignored.
func New(nets []netip.Prefix) *Proxies {
	return &Proxies{nets: nets}
}

type secureKey struct{}

// Secure reports whether the client reached G-OC over HTTPS: directly over TLS, or
// through a trusted proxy that said so in X-Forwarded-Proto.
func Secure(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	on, _ := r.Context().Value(secureKey{}).(bool)
	return on
}

func (p *Proxies) trusted(ip netip.Addr) bool {
	for _, n := range p.nets {
		if n.Contains(ip) {
			return true
		}
	}
	return false
}

// Handler rewrites r.RemoteAddr to the client's address and records the scheme for
// Secure when the request came through a trusted proxy; otherwise it passes r on as it
// came.
func (p *Proxies) Handler(next http.Handler) http.Handler {
	if len(p.nets) == 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		peer, ok := addrOf(r.RemoteAddr)
		if !ok || !p.trusted(peer) {
			next.ServeHTTP(w, r)
			return
		}
		client := p.client(peer, r.Header.Values("X-Forwarded-For"))
		r2 := r.WithContext(context.WithValue(r.Context(), secureKey{}, lastProto(r.Header.Values("X-Forwarded-Proto")) == "https"))
		r2.RemoteAddr = net.JoinHostPort(client.String(), "0")
		next.ServeHTTP(w, r2)
	})
}

// client walks X-Forwarded-For from the right, the hop nearest G-OC first: each
// trusted proxy appended the address it saw, so the first address that is not a
// trusted proxy is the client. Addresses left of it were written by the client and are
// not believed. A malformed entry ends the walk at the last address known good.
func (p *Proxies) client(peer netip.Addr, values []string) netip.Addr {
	var hops []string
	for _, v := range values {
		hops = append(hops, strings.Split(v, ",")...)
	}
	client := peer
	for i := len(hops) - 1; i >= 0; i-- {
		ip, ok := addrOf(strings.TrimSpace(hops[i]))
		if !ok {
			return client
		}
		client = ip
		if !p.trusted(ip) {
			return ip
		}
	}
	return client
}

// lastProto is the scheme the nearest proxy saw.
func lastProto(values []string) string {
	if len(values) == 0 {
		return ""
	}
	parts := strings.Split(values[len(values)-1], ",")
	return strings.ToLower(strings.TrimSpace(parts[len(parts)-1]))
}

// addrOf reads an address with or without a port, IPv6 in brackets or not.
func addrOf(s string) (netip.Addr, bool) {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap(), true
	}
	if ip, err := netip.ParseAddr(strings.Trim(s, "[]")); err == nil && ip.Zone() == "" {
		return ip.Unmap(), true
	}
	return netip.Addr{}, false
}

// ParsePrefix reads a network (10.0.0.0/8, fd00::/8) or a single address (a /32 or
// /128), as server.trusted_proxies lists them.
func ParsePrefix(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, err
		}
		return p.Masked(), nil
	}
	ip, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	ip = ip.Unmap()
	return netip.PrefixFrom(ip, ip.BitLen()), nil
}
