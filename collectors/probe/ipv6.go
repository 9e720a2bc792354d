package probe

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// checkIPv6 looks up the host's AAAA records and asks for the page over the first of
// them, as an IPv6-only visitor would. The page fetch's lookup of the host asked for
// A and AAAA already: when it found AAAA records they are used; when it found none or
// failed, the AAAA records are asked apart, so the check still tells a name without
// AAAA from a lookup that failed.
func checkIPv6(ctx context.Context, p *Prober, t Target, r *Result) {
	info := IPv6Info{Checked: true}
	defer func() { r.IPv6 = info }()
	u, err := url.Parse(t.URL)
	if err != nil {
		info.Detail = err.Error()
		return
	}
	host := u.Hostname()
	if ip := net.ParseIP(host); ip != nil {
		if ip.To4() != nil {
			info.Detail = "địa chỉ IPv4, không có bản ghi AAAA / an IPv4 address has no AAAA record"
			return
		}
		info.AAAA, info.Addresses = true, []string{ip.String()}
	} else if v6 := r.lookup.v6(host); len(v6) > 0 {
		info.AAAA = true
		for _, ip := range v6 {
			info.Addresses = append(info.Addresses, ip.String())
		}
	} else {
		ips, err := p.netRes.LookupIP(ctx, "ip6", host)
		var dnsErr *net.DNSError
		switch {
		case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
			info.Detail = "không có bản ghi AAAA / no AAAA record"
			return
		case err != nil:
			info.Detail = "tra cứu AAAA lỗi / AAAA lookup failed: " + err.Error()
			return
		}
		for _, ip := range ips {
			info.Addresses = append(info.Addresses, ip.String())
		}
		info.AAAA = len(ips) > 0
		if !info.AAAA {
			info.Detail = "không có bản ghi AAAA / no AAAA record"
			return
		}
	}
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	addr := net.JoinHostPort(info.Addresses[0], port)
	d := p.opts.Outbound.Dialer(&net.Dialer{KeepAlive: noKeepAlive})
	transport := p.transport(nil, func(ctx context.Context, _, _ string) (net.Conn, error) {
		return d.DialContext(ctx, "tcp6", addr)
	}, nil)
	defer transport.CloseIdleConnections()
	client := &http.Client{Transport: transport, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse // a redirect is an answer
	}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.URL, nil)
	if err != nil {
		info.Detail = err.Error()
		return
	}
	req.Header.Set("User-Agent", p.opts.UserAgent)
	resp, err := client.Do(req)
	if err != nil {
		info.Detail = fmt.Sprintf("không truy cập được qua IPv6 %s / no answer over IPv6 at %s: %s", addr, addr, fetchReason(ctx, err, p.opts.Timeout))
		return
	}
	resp.Body.Close()
	info.Status = resp.StatusCode
	info.Reachable = resp.StatusCode >= 200 && resp.StatusCode < 400
	if !info.Reachable {
		info.Detail = fmt.Sprintf("qua IPv6 trả về %d / answered %d over IPv6", resp.StatusCode, resp.StatusCode)
	}
}

// v6 is the IPv6 addresses the lookup found for host; none when l is nil, of another
// host or failed.
func (l *lookup) v6(host string) []net.IP {
	if l == nil || l.err != nil || !strings.EqualFold(l.host, host) {
		return nil
	}
	var out []net.IP
	for _, a := range l.addrs {
		if a.IP.To4() == nil && a.IP.To16() != nil {
			out = append(out, a.IP)
		}
	}
	return out
}
