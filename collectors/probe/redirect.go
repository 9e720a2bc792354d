package probe

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
)

// plainURL is the http:// address whose redirect is checked, or "" with the reason
// when it cannot be known.
func plainURL(t Target) (string, string) {
	if t.HTTPURL != "" {
		return t.HTTPURL, ""
	}
	u, err := url.Parse(t.URL)
	if err != nil {
		return "", "địa chỉ không hợp lệ / bad URL"
	}
	if u.Scheme == "http" {
		return t.URL, ""
	}
	if p := u.Port(); p != "" && p != "443" {
		// Plain HTTP on the TLS port would only get "client sent an HTTP request to an
		// HTTPS server"; the plain port of a non-standard setup must be configured.
		return "", fmt.Sprintf("cổng %s không chuẩn: đặt http_url / non-standard port %s: set http_url to check", p, p)
	}
	u.Scheme = "http"
	u.Host = u.Hostname()
	if ip := net.ParseIP(u.Host); ip != nil && ip.To4() == nil {
		u.Host = "[" + u.Host + "]"
	}
	return u.String(), ""
}

// checkHTTPSRedirect asks the plain-HTTP address for the page, without following the
// answer, and looks for a redirect to https://.
func checkHTTPSRedirect(ctx context.Context, p *Prober, t Target, r *Result) {
	from, why := plainURL(t)
	if from == "" {
		r.HTTPSRedirect = RedirectInfo{Detail: why}
		return
	}
	info := RedirectInfo{Checked: true, From: from}
	defer func() { r.HTTPSRedirect = info }()
	if a := r.firstAnswer; a != nil && from == t.URL {
		// An http:// portal: the page fetch has just made this very request (GET of
		// the same URL, not followed yet), so its answer is read instead of asking
		// again, which would cost a second connection for the same answer. A fetch
		// that got no answer leaves the check to ask for itself below.
		judgeRedirect(&info, a.status, a.location)
		return
	}
	transport := p.transport(nil, nil, nil)
	defer transport.CloseIdleConnections()
	client := &http.Client{Transport: transport, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, from, nil)
	if err != nil {
		info.Detail = err.Error()
		return
	}
	req.Header.Set("User-Agent", p.opts.UserAgent)
	resp, err := client.Do(req)
	if err != nil {
		info.Detail = fetchReason(ctx, err, p.opts.Timeout)
		return
	}
	resp.Body.Close()
	a := answerOf(resp)
	judgeRedirect(&info, a.status, a.location)
}

// judgeRedirect fills info from the plain-HTTP answer: its status and where it sends
// the visitor (nil: nowhere).
func judgeRedirect(info *RedirectInfo, status int, loc *url.URL) {
	info.Status = status
	switch {
	case status < 300 || status > 399:
		info.Detail = fmt.Sprintf("http:// trả về %d, không chuyển hướng / http:// answered %d without redirecting", status, status)
	case loc == nil:
		info.Detail = "chuyển hướng không có Location / redirect without a Location"
	default:
		info.Location = loc.String()
		info.OK = loc.Scheme == "https"
		if !info.OK {
			info.Detail = "chuyển hướng nhưng không sang https:// / redirects, but not to https://"
		}
	}
}
