package main

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/netip"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/g-oc/goc/collectors/probe"
	"github.com/g-oc/goc/internal/config"
	"github.com/g-oc/goc/internal/outbound"
)

// errProbeFailed is returned when the portal failed its probe: exit code 1.
var errProbeFailed = errors.New("cổng không đạt / the portal failed its probe")

func runProbe(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "probe", `goc probe URL [--json] [tùy chọn/options]

Đo một cổng thông tin một lần và in kết quả: trạng thái HTTP, thời gian từng pha, TLS và
chứng thư, chuyển hướng http→https, IPv6, DNSSEC, hiển thị di động. Mã thoát 1 nếu không đạt.
Probes one portal once and prints what it found: HTTP status, phase timings, TLS and
certificate, http→https redirect, IPv6, DNSSEC, mobile viewport. Exit code 1 when the
probe fails.

Ví dụ / example:
  goc probe https://langson.gov.vn/
  goc probe https://127.0.0.1:8443/ --ca-file ca.pem --http-url http://127.0.0.1:8080/ --json`)
	asJSON := fs.Bool("json", false, "in JSON / print JSON")
	agency := fs.String("agency", "", "mã đơn vị sở hữu cổng / the agency code the portal belongs to")
	expect := fs.String("expect", "", "nội dung trang phải có / text the page must contain")
	httpURL := fs.String("http-url", "", "địa chỉ http:// để kiểm chuyển hướng sang https / the http:// address to check for a redirect to https")
	resolver := fs.String("resolver", "", "máy chủ DNS host:port (mặc định /etc/resolv.conf) / DNS server host:port (default: /etc/resolv.conf)")
	caFile := fs.String("ca-file", "", "tệp PEM các CA tin cậy thay cho của hệ thống / PEM file of CAs to trust instead of the system's")
	anchors := fs.String("trust-anchors", "", "tệp DS làm neo tin cậy DNSSEC (mặc định: gốc IANA) / DS records to start DNSSEC from (default: the IANA root)")
	timeout := fs.Duration("timeout", config.DefaultProbeTimeout, "giới hạn thời gian cả lần đo / limit for the whole probe")
	checks := fs.String("checks", "", "các phép kiểm, cách nhau dấu phẩy (mặc định: tất cả) / comma-separated checks (default: all): "+strings.Join(probe.CheckNames(), ","))
	maxBody := fs.String("max-body", "1MiB", "đọc tối đa / most of the page to read")
	maxRedirects := fs.Int("max-redirects", config.DefaultProbeMaxRedirects, "số lần chuyển hướng tối đa / most redirects to follow")
	var allow []string
	fs.Func("allow", "cho phép một địa chỉ nội bộ (CIDR, IP hoặc IP:cổng), lặp lại được; địa chỉ IP trong URL được phép sẵn / allow an internal network or address (CIDR, IP or IP:port), repeatable; an IP address written in the URL is allowed already",
		func(v string) error { allow = append(allow, v); return nil })
	var target string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		target, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err.Error()}
	}
	if target == "" && fs.NArg() > 0 {
		target = fs.Arg(0)
		if fs.NArg() > 1 {
			return usageError{fmt.Sprintf("đối số thừa / unexpected arguments: %v", fs.Args()[1:])}
		}
	} else if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("đối số thừa / unexpected arguments: %v", fs.Args())}
	}
	if target == "" {
		return usageError{"thiếu địa chỉ cổng / the portal URL is missing: goc probe URL"}
	}
	if *timeout <= 0 {
		return usageError{"--timeout phải dương / must be positive"}
	}
	body, err := config.ParseSize(*maxBody)
	if err != nil || body <= 0 {
		return usageError{fmt.Sprintf("--max-body %q: %v", *maxBody, err)}
	}
	o := probe.Options{Timeout: *timeout, MaxBodyBytes: body, MaxRedirects: *maxRedirects, Resolver: *resolver}
	// Whoever types an address on the command line means it: an IP address and port in
	// the URL (or --http-url) is allowed even when internal. A name is judged by where it
	// resolves, and a redirect elsewhere inside is refused unless --allow says so.
	for _, raw := range []string{target, *httpURL} {
		if u, err := url.Parse(raw); err == nil && u.Host != "" {
			if _, err := netip.ParseAddr(strings.Trim(u.Hostname(), "[]")); err == nil {
				port := u.Port()
				if port == "" {
					port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
				}
				allow = append(allow, net.JoinHostPort(u.Hostname(), port))
			}
		}
	}
	if o.Outbound, err = outbound.NewPolicy(allow); err != nil {
		return usageError{"--allow: " + err.Error()}
	}
	if *checks != "" {
		o.Checks = strings.Split(*checks, ",")
	}
	if *caFile != "" {
		pem, err := os.ReadFile(*caFile)
		if err != nil {
			return fmt.Errorf("--ca-file: %w", err)
		}
		o.RootCAs = x509.NewCertPool()
		if !o.RootCAs.AppendCertsFromPEM(pem) {
			return fmt.Errorf("--ca-file %s: không có chứng thư PEM nào / holds no PEM certificate", *caFile)
		}
	}
	if *anchors != "" {
		data, err := os.ReadFile(*anchors)
		if err != nil {
			return fmt.Errorf("--trust-anchors: %w", err)
		}
		if o.TrustAnchors, err = probe.ParseTrustAnchors(string(data)); err != nil {
			return fmt.Errorf("--trust-anchors %s: %w", *anchors, err)
		}
	}
	p, err := probe.New(o)
	if err != nil {
		return usageError{err.Error()}
	}
	r := p.Probe(ctx, probe.Target{URL: target, Agency: *agency, Expect: *expect, HTTPURL: *httpURL})
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(r); err != nil {
			return err
		}
	} else {
		printProbe(e.stdout, r)
	}
	if !r.Success {
		return fmt.Errorf("%w: %s", errProbeFailed, r.Error)
	}
	return nil
}

// printProbe writes a result for a person to read, one line per check.
func printProbe(w io.Writer, r *probe.Result) {
	ms := func(s float64) string { return fmt.Sprintf("%.1f ms", s*1000) }
	yes := func(b bool) string {
		if b {
			return "có / yes"
		}
		return "không / no"
	}
	state := "ĐẠT / UP"
	if !r.Success {
		state = "KHÔNG ĐẠT / DOWN"
	}
	fmt.Fprintf(w, "%s  %s  (%s)\n", r.Target, state, ms(r.Seconds))
	if r.Error != "" {
		fmt.Fprintf(w, "  %-24s %s\n", "lỗi / error", r.Error)
	}
	row := func(label, format string, args ...any) {
		fmt.Fprintf(w, "  %-24s %s\n", label, fmt.Sprintf(format, args...))
	}
	trunc := ""
	if r.BodyTruncated {
		trunc = " (cắt bớt / truncated)"
	}
	row("HTTP", "%d, %d chuyển hướng / redirects, %d byte%s", r.HTTPStatus, r.Redirects, r.BodyBytes, trunc)
	if r.FinalURL != "" && r.FinalURL != r.Target {
		row("địa chỉ cuối / final URL", "%s", r.FinalURL)
	}
	ph := r.Phases
	row("thời gian / timings", "dns %s · connect %s · tls %s · first byte %s · transfer %s · total %s",
		ms(ph.Resolve), ms(ph.Connect), ms(ph.TLS), ms(ph.Processing), ms(ph.Transfer), ms(ph.Total))
	if t := r.TLS; t != nil {
		valid := "hợp lệ / valid"
		if !t.CertValid {
			valid = "KHÔNG hợp lệ / INVALID: " + t.CertError
		}
		days := time.Until(t.CertExpiry).Hours() / 24
		row("TLS", "%s; chứng thư / certificate %s; hết hạn / expires %s (%.0f ngày / days); %s",
			t.Version, t.Subject, t.CertExpiry.Format("2006-01-02"), days, valid)
	} else if strings.HasPrefix(strings.ToLower(r.Target), "https://") {
		// An https address that never completed a handshake: say so, not "none".
		row("TLS", "không bắt tay được / no handshake (kết nối thất bại / the connection failed)")
	} else {
		row("TLS", "không / none (http://)")
	}
	h := r.HTTPSRedirect
	switch {
	case !h.Checked:
		row("http → https", "không kiểm / not checked: %s", h.Detail)
	case h.OK:
		row("http → https", "có / yes (%d → %s)", h.Status, h.Location)
	default:
		row("http → https", "không / no: %s", h.Detail)
	}
	v6 := r.IPv6
	switch {
	case !v6.Checked:
		row("IPv6", "không kiểm / not checked")
	case v6.Reachable:
		row("IPv6", "có / yes: AAAA %s, trả lời / answers %d", strings.Join(v6.Addresses, " "), v6.Status)
	default:
		row("IPv6", "không / no: %s", v6.Detail)
	}
	d := r.DNSSEC
	switch {
	case !d.Checked:
		row("DNSSEC", "không kiểm / not checked")
	case d.Status == "":
		row("DNSSEC", "không xác định / unknown: %s", d.Detail)
	case d.Status == probe.DNSSECValid:
		row("DNSSEC", "%s (%s)", d.Status, strings.Join(d.Chain, " → "))
	default:
		row("DNSSEC", "%s: %s", d.Status, d.Detail)
	}
	row("di động / mobile", "viewport width=device-width: %s", yes(r.MobileReady))
	if r.ContentMatch != nil {
		row("nội dung / content", "có nội dung mong đợi / expected text found: %s", yes(*r.ContentMatch))
	}
}
