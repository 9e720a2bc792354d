package indicators

import "time"

// Probe phases: the durations of a page fetch, named as blackbox_exporter names them in
// probe_http_duration_seconds{phase}, so that one name means one thing in
// `goc probe --json`, /metrics, /api/v1/probes and the stores. Total is G-OC's own:
// the whole fetch, redirects included.
const (
	// PhaseResolve is the DNS lookup of the host (0 for an IP address).
	PhaseResolve = "resolve"
	// PhaseConnect is the TCP connection.
	PhaseConnect = "connect"
	// PhaseTLS is the TLS handshake.
	PhaseTLS = "tls"
	// PhaseProcessing runs from the request written to the first byte of the response.
	PhaseProcessing = "processing"
	// PhaseTransfer runs from the first byte to the end of the body read.
	PhaseTransfer = "transfer"
	// PhaseTotal is the whole page fetch, redirects included.
	PhaseTotal = "total"
)

// ProbeResult is the outcome of one probe of one portal, as it is kept and served: the
// domain value a prober hands to whatever stores it.
type ProbeResult struct {
	Target  string    `json:"target"` // the URL probed
	Agency  string    `json:"agency"`
	Time    time.Time `json:"time"`
	Success bool      `json:"success"`
	Error   string    `json:"error,omitempty"`
	// HTTPStatus is 0 when no response came back.
	HTTPStatus int `json:"http_status"`
	// Phases are durations in seconds by phase name (PhaseResolve ... PhaseTotal).
	Phases map[string]float64 `json:"phases"`
	// BodyBytes is how much of the body was read (capped by the prober).
	BodyBytes int64 `json:"body_bytes"`
	Redirects int   `json:"redirects"`
	// TLS facts; empty when the portal was not reached over TLS.
	TLSVersion    string    `json:"tls_version,omitempty"`
	CertExpiry    time.Time `json:"cert_expiry,omitzero"`
	CertValid     bool      `json:"cert_valid"`
	HTTPSRedirect bool      `json:"https_redirect"`
	IPv6          bool      `json:"ipv6"`
	DNSSEC        string    `json:"dnssec,omitempty"` // "signed-valid", "unsigned", "bogus", ""
	Mobile        bool      `json:"mobile_ready"`
	ContentMatch  *bool     `json:"content_match,omitempty"`
}
