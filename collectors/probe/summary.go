package probe

import (
	"math"
	"slices"
	"time"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/indicators/period"
)

// The catalogue codes of the indicators probes feed (indicators/data/catalogue.yaml).
const (
	IndUptime  = "portal_uptime"
	IndLatency = "portal_latency_median"
	IndHTTPS   = "portal_https"
	IndTLS     = "portal_tls_valid"
	IndIPv6    = "portal_ipv6"
	IndDNSSEC  = "portal_dnssec"
	IndMobile  = "portal_mobile_ready"
)

// SummaryIndicators lists them in catalogue order.
func SummaryIndicators() []string {
	return []string{IndUptime, IndLatency, IndHTTPS, IndTLS, IndIPv6, IndDNSSEC, IndMobile}
}

// SummarySubmitter is the submitter of the observations a summary writes.
const SummarySubmitter = "goc-probe-summary"

// Latency histogram: buckets 2% wide from 0.1 ms to 2 minutes. A median read from it
// is within 1% of the exact one, and a month of a national deployment's probes (400
// million) fits in a few kilobytes per agency.
const (
	latBase  = 1e-4
	latRatio = 1.02
)

var latBuckets = int(math.Ceil(math.Log(120/latBase) / math.Log(latRatio)))

// Tally is one portal's probes over a period, or the sum of several portals'.
type Tally struct {
	Probes    int `json:"probes"`
	Successes int `json:"successes"`
	// Portals counts the portals summed in, and the others how many of them had each
	// feature at their last probe of the period.
	Portals, HTTPS, TLSValid, IPv6, DNSSEC, Mobile int
	latency                                        []uint32
	// last is the portal's latest probe that reached it (or its latest probe when none
	// did); only a single portal's tally has one.
	last *indicators.ProbeResult
}

// Add counts one probe of the portal. Results must come oldest first.
func (t *Tally) Add(r *indicators.ProbeResult) {
	t.Probes++
	if r.Success {
		t.Successes++
		if v, ok := r.Phases[indicators.PhaseTotal]; ok && v > 0 {
			if t.latency == nil {
				t.latency = make([]uint32, latBuckets)
			}
			i := int(math.Floor(math.Log(v/latBase) / math.Log(latRatio)))
			t.latency[min(max(i, 0), latBuckets-1)]++
		}
	}
	if r.HTTPStatus > 0 || t.last == nil || t.last.HTTPStatus == 0 {
		t.last = r
	}
}

// close turns a single portal's last probe into its feature counts.
func (t *Tally) close() {
	if t.last == nil || t.Portals > 0 {
		return
	}
	l := t.last
	t.Portals = 1
	t.HTTPS = btoi(l.TLSVersion != "" && l.HTTPSRedirect)
	t.TLSValid = btoi(l.TLSVersion != "" && l.CertValid)
	t.IPv6 = btoi(l.IPv6)
	t.DNSSEC = btoi(l.DNSSEC == DNSSECValid)
	t.Mobile = btoi(l.Mobile)
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (t *Tally) merge(o *Tally) {
	o.close()
	t.Probes += o.Probes
	t.Successes += o.Successes
	t.Portals += o.Portals
	t.HTTPS += o.HTTPS
	t.TLSValid += o.TLSValid
	t.IPv6 += o.IPv6
	t.DNSSEC += o.DNSSEC
	t.Mobile += o.Mobile
	if o.latency != nil {
		if t.latency == nil {
			t.latency = make([]uint32, latBuckets)
		}
		for i, c := range o.latency {
			t.latency[i] += c
		}
	}
}

// Median is the median duration of the successful probes, in seconds, read from the
// histogram; false when none succeeded.
func (t *Tally) Median() (float64, bool) {
	var n uint64
	for _, c := range t.latency {
		n += uint64(c)
	}
	if n == 0 {
		return 0, false
	}
	half := (n + 1) / 2
	var cum uint64
	for i, c := range t.latency {
		cum += uint64(c)
		if cum >= half {
			return latBase * math.Pow(latRatio, float64(i)+0.5), true
		}
	}
	return 0, false
}

// PortalTally is one portal's tally for a period.
type PortalTally struct {
	Target, Agency string
	Tally          *Tally
}

// Summarise turns a period's portal tallies into observations. Each portal counts for
// its agency and for every agency above it, so every agency's own figure covers its
// whole subtree: the country's uptime is that of every probed portal, the Government
// portal's own included. (Roll-up lets an agency's own figure win over its units';
// a province's own portal must not hide its communes', hence figures over subtrees.)
// Portals of agencies that did not exist at the end of the period are left out and
// returned.
//
// Per agency and period:
//   - portal_uptime: successful probes / probes;
//   - portal_latency_median: the median total time of successful probes, with the
//     number of those probes as the weight it rolls up with;
//   - portal_https, _tls_valid, _ipv6, _dnssec, _mobile_ready: portals with the
//     feature at their last probe of the period / portals probed.
func Summarise(p period.Period, loc *time.Location, cat *indicators.Catalogue, reg *indicators.Registry,
	portals []PortalTally, received time.Time) (obs []indicators.Observation, skipped []string) {
	lastDay := p.End(loc).Add(-time.Nanosecond)
	sums := map[string]*Tally{}
	var order []string
	for _, pt := range portals {
		if pt.Tally == nil || pt.Tally.Probes == 0 {
			continue
		}
		a, ok := reg.Get(pt.Agency)
		if !ok || !a.ActiveOn(lastDay) {
			skipped = append(skipped, pt.Target)
			continue
		}
		for seen := map[string]bool{}; a != nil && !seen[a.Code] && a.ActiveOn(lastDay); {
			seen[a.Code] = true
			s := sums[a.Code]
			if s == nil {
				s = &Tally{}
				sums[a.Code] = s
				order = append(order, a.Code)
			}
			s.merge(pt.Tally)
			a, _ = reg.Get(a.Parent)
		}
	}
	slices.Sort(order)
	for _, code := range order {
		s := sums[code]
		a, _ := reg.Get(code)
		add := func(ind string, value float64, num, den *float64) {
			i, ok := cat.Get(ind)
			if !ok || !i.ReportedAt(a.Level()) || i.Periodicity != p.Kind {
				return
			}
			obs = append(obs, indicators.Observation{
				SeriesKey: indicators.SeriesKey{Indicator: ind, Agency: code, Period: p},
				Value:     value, Numerator: num, Denominator: den,
				Source: indicators.FromProbe, Submitter: SummarySubmitter, ReceivedAt: received,
			})
		}
		ratio := func(ind string, num, den int) {
			if den > 0 {
				add(ind, round4(100*float64(num)/float64(den)), new(float64(num)), new(float64(den)))
			}
		}
		ratio(IndUptime, s.Successes, s.Probes)
		if m, ok := s.Median(); ok {
			add(IndLatency, round4(m), nil, new(float64(s.Successes)))
		}
		ratio(IndHTTPS, s.HTTPS, s.Portals)
		ratio(IndTLS, s.TLSValid, s.Portals)
		ratio(IndIPv6, s.IPv6, s.Portals)
		ratio(IndDNSSEC, s.DNSSEC, s.Portals)
		ratio(IndMobile, s.Mobile, s.Portals)
	}
	return obs, skipped
}

func round4(v float64) float64 { return math.Round(v*1e4) / 1e4 }
