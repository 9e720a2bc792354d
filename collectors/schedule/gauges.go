package schedule

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/g-oc/goc/collectors/probe"
	"github.com/g-oc/goc/indicators"
)

// gauges exposes the latest probe of every portal under the names blackbox_exporter
// users know, with agency and target labels, so their dashboards and alerts
// (probe_success == 0, probe_ssl_earliest_cert_expiry - time() < 86400 * 14) work
// unchanged. They are computed at scrape time from the sink's latest results: one
// probe's figures never outlive the next probe of the same target.
//
// With replicas, each portal is probed by whichever replica claims its slot, and each
// replica knows only the results it made itself. A replica then exports a portal's
// result only while it is the newest one there can be: for one interval and a half
// after it was made (fresh, by target; nil exports everything, as one G-OC alone
// does). Otherwise a replica that probed a portal while it was down would go on
// reporting it down after another replica found it up again.
type gauges struct {
	sink  *Sink
	fresh map[string]time.Duration
	now   func() time.Time

	success, duration, phase, status, expiry, ssl, tlsInfo, redirects, body *prometheus.Desc
	certValid, httpsRedirect, ipv6, dnssec, mobile, last                    *prometheus.Desc
}

func newGauges(sink *Sink, fresh map[string]time.Duration, now func() time.Time) *gauges {
	l := []string{"agency", "target"}
	d := func(name, help string, extra ...string) *prometheus.Desc {
		return prometheus.NewDesc(name, help, append(append([]string{}, l...), extra...), nil)
	}
	return &gauges{
		sink:          sink,
		fresh:         fresh,
		now:           now,
		success:       d("probe_success", "Whether the last probe of the portal succeeded (1) or failed (0)."),
		duration:      d("probe_duration_seconds", "How long the last probe took, every check included."),
		phase:         d("probe_http_duration_seconds", "Duration of each phase of the last page fetch, summed over redirects.", "phase"),
		status:        d("probe_http_status_code", "HTTP status of the last response, 0 when none came."),
		expiry:        d("probe_ssl_earliest_cert_expiry", "Earliest expiry of the certificates the portal sent, unix seconds."),
		ssl:           d("probe_http_ssl", "Whether the final page was fetched over TLS."),
		tlsInfo:       d("probe_tls_version_info", "TLS version of the last connection.", "version"),
		redirects:     d("probe_http_redirects", "Redirects followed by the last probe."),
		body:          d("probe_http_uncompressed_body_length", "Bytes of the page body read (capped)."),
		certValid:     d("goc_probe_cert_valid", "Whether the certificate chain is trusted, current and names the host."),
		httpsRedirect: d("goc_probe_https_redirect", "Whether plain http:// redirects to https://."),
		ipv6:          d("goc_probe_ipv6_reachable", "Whether the portal has an AAAA record and answers over IPv6."),
		dnssec:        d("goc_probe_dnssec_valid", "Whether the portal's zone is signed and validates."),
		mobile:        d("goc_probe_mobile_ready", "Whether the page declares a device-width viewport."),
		last:          d("goc_probe_last_run_timestamp_seconds", "When the portal was last probed, unix seconds."),
	}
}

func (g *gauges) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{g.success, g.duration, g.phase, g.status, g.expiry, g.ssl, g.tlsInfo,
		g.redirects, g.body, g.certValid, g.httpsRedirect, g.ipv6, g.dnssec, g.mobile, g.last} {
		ch <- d
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func (g *gauges) Collect(ch chan<- prometheus.Metric) {
	// Copy the pointers and let go: probes keep recording while the scrape encodes.
	g.sink.mu.RLock()
	latest := make([]*probe.Result, 0, len(g.sink.latest))
	for _, r := range g.sink.latest {
		latest = append(latest, r)
	}
	g.sink.mu.RUnlock()
	if g.fresh != nil {
		now := g.now()
		kept := latest[:0]
		for _, r := range latest {
			if f, ok := g.fresh[r.Target]; !ok || now.Sub(r.Time) <= f {
				kept = append(kept, r)
			}
		}
		latest = kept
	}
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	for _, r := range latest {
		a, t := r.Agency, r.Target
		gauge(g.success, b2f(r.Success), a, t)
		gauge(g.duration, r.Seconds, a, t)
		for _, p := range []struct {
			name string
			v    float64
		}{{indicators.PhaseResolve, r.Phases.Resolve}, {indicators.PhaseConnect, r.Phases.Connect},
			{indicators.PhaseTLS, r.Phases.TLS}, {indicators.PhaseProcessing, r.Phases.Processing},
			{indicators.PhaseTransfer, r.Phases.Transfer}} {
			gauge(g.phase, p.v, a, t, p.name)
		}
		gauge(g.status, float64(r.HTTPStatus), a, t)
		gauge(g.ssl, b2f(r.TLS != nil), a, t)
		if r.TLS != nil {
			gauge(g.expiry, float64(r.TLS.CertExpiry.Unix()), a, t)
			gauge(g.tlsInfo, 1, a, t, r.TLS.Version)
			gauge(g.certValid, b2f(r.TLS.CertValid), a, t)
		}
		gauge(g.redirects, float64(r.Redirects), a, t)
		gauge(g.body, float64(r.BodyBytes), a, t)
		if r.HTTPSRedirect.Checked {
			gauge(g.httpsRedirect, b2f(r.HTTPSRedirect.OK), a, t)
		}
		if r.IPv6.Checked {
			gauge(g.ipv6, b2f(r.IPv6.Reachable), a, t)
		}
		if r.DNSSEC.Status != "" {
			gauge(g.dnssec, b2f(r.DNSSEC.Status == probe.DNSSECValid), a, t)
		}
		gauge(g.mobile, b2f(r.MobileReady), a, t)
		gauge(g.last, float64(r.Time.UnixNano())/1e9, a, t)
	}
}
