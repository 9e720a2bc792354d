package probe

import (
	"net"
	"net/url"
	"time"

	"github.com/g-oc/goc/indicators"
)

// Result is everything one probe found. Its JSON is what `goc probe --json` prints.
type Result struct {
	Target  string    `json:"target"`
	Agency  string    `json:"agency,omitempty"`
	Time    time.Time `json:"time"`
	Success bool      `json:"success"`
	// Error says why the probe failed; empty on success.
	Error string `json:"error,omitempty"`
	// HTTPStatus is the status of the last response, 0 when none came back.
	HTTPStatus int    `json:"http_status"`
	FinalURL   string `json:"final_url,omitempty"`
	// Phases of the page fetch, summed over every request of a redirect chain.
	Phases Phases `json:"phases"`
	// Seconds is the wall time of the whole probe, every check included.
	Seconds float64 `json:"seconds"`
	// BodyBytes is how much of the last response's body was read, at most the
	// prober's MaxBodyBytes; BodyTruncated says the body went on beyond that.
	BodyBytes     int64 `json:"body_bytes"`
	BodyTruncated bool  `json:"body_truncated"`
	Redirects     int   `json:"redirects"`
	// ContentMatch is whether the body contains the target's Expect text; null when
	// the target expects nothing.
	ContentMatch *bool `json:"content_match"`
	// MobileReady is true when the page has <meta name="viewport"> with
	// width=device-width, what makes a page lay out for a phone's screen.
	MobileReady bool `json:"mobile_ready"`
	// TLS describes the last connection; null when the page was not reached over TLS.
	TLS *TLSInfo `json:"tls"`
	// HTTPSRedirect answers "does http:// send visitors to https://?".
	HTTPSRedirect RedirectInfo `json:"https_redirect"`
	IPv6          IPv6Info     `json:"ipv6"`
	DNSSEC        DNSSECInfo   `json:"dnssec"`
	// Checks lists the checks that ran, with their durations.
	Checks map[string]CheckStatus `json:"checks"`

	// firstAnswer is the answer to the page fetch's first request, kept by checkHTTP
	// for checkHTTPSRedirect: for an http:// portal that request is the very one the
	// redirect check would make again.
	firstAnswer *answer
	// lookup is the page fetch's lookup of the URL's host (A and AAAA), kept by
	// checkHTTP for checkIPv6, which would ask for the AAAA records again.
	lookup *lookup
}

// lookup is what one name lookup returned.
type lookup struct {
	host  string
	addrs []net.IPAddr
	err   error
}

// answer is the part of one HTTP response the https_redirect check reads.
type answer struct {
	status   int
	location *url.URL // resolved against the request's URL; nil when the response has none
}

// Phases are durations in seconds, named as blackbox_exporter names them in
// probe_http_duration_seconds{phase}, with DNS as "resolve" and time to first byte
// as "processing": the names of indicators.PhaseResolve and its siblings, which every
// surface uses.
type Phases struct {
	// Resolve is the DNS lookup of the host (0 for an IP address).
	Resolve float64 `json:"resolve"`
	Connect float64 `json:"connect"`
	TLS     float64 `json:"tls"`
	// Processing runs from the request written to the first byte of the response.
	Processing float64 `json:"processing"`
	// Transfer runs from the first byte to the end of the body read.
	Transfer float64 `json:"transfer"`
	// Total is the whole page fetch, redirects included.
	Total float64 `json:"total"`
}

// TLSInfo describes a TLS connection and its certificate.
type TLSInfo struct {
	Version string `json:"version"` // "TLS 1.3"
	// CertExpiry is the earliest NotAfter of the certificates the server sent, which
	// is blackbox_exporter's probe_ssl_earliest_cert_expiry.
	CertExpiry time.Time `json:"cert_expiry"`
	// CertValid is true when the chain leads to a trusted root, every certificate is
	// within its validity period and the leaf names the host, on every TLS hop.
	CertValid bool     `json:"cert_valid"`
	CertError string   `json:"cert_error,omitempty"`
	Subject   string   `json:"cert_subject,omitempty"`
	Issuer    string   `json:"cert_issuer,omitempty"`
	DNSNames  []string `json:"cert_dns_names,omitempty"`
	// Resumed is true when the handshake resumed the session of an earlier probe (the
	// certificates are then those of the full handshake it came from, checked at this
	// probe's time); a portal's sessions are resumed for at most an hour.
	Resumed bool `json:"resumed"`
}

// RedirectInfo is the outcome of the http:// → https:// check.
type RedirectInfo struct {
	// Checked is false when the check did not run or could not know which plain-HTTP
	// address to try; OK is then false too.
	Checked bool   `json:"checked"`
	OK      bool   `json:"ok"`
	From    string `json:"from,omitempty"`
	// Location is where plain HTTP sent the visitor, if anywhere.
	Location string `json:"location,omitempty"`
	Status   int    `json:"status,omitempty"`
	Detail   string `json:"detail,omitempty"`
}

// IPv6Info is the outcome of the IPv6 check.
type IPv6Info struct {
	Checked bool `json:"checked"`
	// AAAA is true when the host has at least one AAAA record.
	AAAA      bool     `json:"aaaa"`
	Addresses []string `json:"addresses,omitempty"`
	// Reachable is true when the page answered (2xx or 3xx) over IPv6.
	Reachable bool   `json:"reachable"`
	Status    int    `json:"status,omitempty"`
	Detail    string `json:"detail,omitempty"`
}

// DNSSEC statuses.
const (
	// DNSSECValid: the zone is signed and validates from a trust anchor down.
	DNSSECValid = "signed-valid"
	// DNSSECUnsigned: the zone has no DNSKEY, or no DS links it to its parent.
	DNSSECUnsigned = "unsigned"
	// DNSSECBogus: the zone claims to be signed but a signature or DS does not check.
	DNSSECBogus = "bogus"
)

// DNSSECInfo is the outcome of the DNSSEC check.
type DNSSECInfo struct {
	Checked bool `json:"checked"`
	// Status is signed-valid, unsigned or bogus; empty when it could not be told
	// (an IP address, or a resolver that did not answer).
	Status string `json:"status"`
	Zone   string `json:"zone,omitempty"`
	// Chain lists the zones validated, from the portal's up to the trust anchor.
	Chain  []string `json:"chain,omitempty"`
	Detail string   `json:"detail,omitempty"`
}

// CheckStatus is how long one check took.
type CheckStatus struct {
	Seconds float64 `json:"seconds"`
}

// ProbeResult is the result as the domain knows it: what is stored and served.
func (r *Result) ProbeResult() indicators.ProbeResult {
	out := indicators.ProbeResult{
		Target: r.Target, Agency: r.Agency, Time: r.Time, Success: r.Success, Error: r.Error,
		HTTPStatus: r.HTTPStatus,
		Phases: map[string]float64{
			indicators.PhaseResolve: r.Phases.Resolve, indicators.PhaseConnect: r.Phases.Connect,
			indicators.PhaseTLS: r.Phases.TLS, indicators.PhaseProcessing: r.Phases.Processing,
			indicators.PhaseTransfer: r.Phases.Transfer, indicators.PhaseTotal: r.Phases.Total,
		},
		BodyBytes:     r.BodyBytes,
		Redirects:     r.Redirects,
		HTTPSRedirect: r.HTTPSRedirect.OK,
		IPv6:          r.IPv6.Reachable,
		DNSSEC:        r.DNSSEC.Status,
		Mobile:        r.MobileReady,
		ContentMatch:  r.ContentMatch,
	}
	if r.TLS != nil {
		out.TLSVersion = r.TLS.Version
		out.CertExpiry = r.TLS.CertExpiry
		out.CertValid = r.TLS.CertValid
	}
	return out
}
