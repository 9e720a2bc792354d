package demo

import (
	"math"
	"math/rand/v2"
	"time"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/indicators/period"
)

// ProbeHistoryStart is the first month of the demo's portal indicators: as if G-OC had
// begun probing on 1 July 2025, the day the 34 provinces began.
func ProbeHistoryStart() period.Period {
	return period.Period{Kind: period.Month, Year: 2025, Index: 7}
}

// portalMonth is one portal's synthetic month, the figures a real month of probes
// would give (see collectors/probe.Summarise, whose rules this follows).
type portalMonth struct {
	probes, ok                             float64
	median                                 float64
	https, tls, ipv6, dnssec, mobile, seen float64
}

// probeHistory gives every agency with a portal in the registry a month-by-month
// history of the portal indicators, and sums it up the hierarchy as the monthly
// summary does: each agency's own figure covers every portal in its subtree, and the
// country's covers them all. Readiness improves over time (HTTPS first, DNSSEC and
// IPv6 last, as in most countries); a few portals have bad months.
func probeHistory(cat *indicators.Catalogue, reg *indicators.Registry, now, received time.Time) []indicators.Observation {
	if _, ok := cat.Get("portal_uptime"); !ok {
		return nil
	}
	var out []indicators.Observation
	for p := ProbeHistoryStart(); p.Ended(now); p = p.Next() {
		lastDay := p.End(nil).AddDate(0, 0, -1)
		sums := map[string]*portalMonth{}
		var order []string
		for _, a := range reg.All() {
			if a.Portal == "" || !a.ActiveOn(lastDay) {
				continue
			}
			pm := syntheticMonth(a.Code, p)
			for c := a; c != nil && c.ActiveOn(lastDay); {
				s := sums[c.Code]
				if s == nil {
					s = &portalMonth{}
					sums[c.Code] = s
					order = append(order, c.Code)
				}
				s.add(pm)
				if c.Parent == "" {
					break
				}
				c, _ = reg.Get(c.Parent)
			}
		}
		for _, code := range order {
			a, _ := reg.Get(code)
			s := sums[code]
			add := func(ind string, value float64, num, den *float64) {
				i, ok := cat.Get(ind)
				if !ok || !i.ReportedAt(a.Level()) {
					return
				}
				out = append(out, indicators.Observation{
					SeriesKey: indicators.SeriesKey{Indicator: ind, Agency: code, Period: p},
					Value:     value, Numerator: num, Denominator: den,
					Source: indicators.FromDemo, Submitter: Submitter, ReceivedAt: received,
				})
			}
			ratio := func(ind string, num, den float64) {
				add(ind, round2(100*num/den), new(num), new(den))
			}
			ratio("portal_uptime", s.ok, s.probes)
			add("portal_latency_median", math.Round(s.median/s.ok*1000)/1000, nil, new(s.ok))
			ratio("portal_https", s.https, s.seen)
			ratio("portal_tls_valid", s.tls, s.seen)
			ratio("portal_ipv6", s.ipv6, s.seen)
			ratio("portal_dnssec", s.dnssec, s.seen)
			ratio("portal_mobile_ready", s.mobile, s.seen)
		}
	}
	return out
}

// add sums a portal into an agency; median holds the probe-weighted sum of medians
// until it is divided by ok.
func (s *portalMonth) add(p portalMonth) {
	s.probes += p.probes
	s.ok += p.ok
	s.median += p.median * p.ok
	s.https += p.https
	s.tls += p.tls
	s.ipv6 += p.ipv6
	s.dnssec += p.dnssec
	s.mobile += p.mobile
	s.seen++
}

// syntheticMonth is one portal's month, probed every minute. Each portal adopts each
// feature at its own month and keeps it, except for an occasional lapsed certificate.
func syntheticMonth(agency string, p period.Period) portalMonth {
	months := float64(p.Sub(ProbeHistoryStart()))
	rng := rand.New(rand.NewPCG(seed("portal", agency), 11))
	adopt := func(mean float64) float64 { return mean + rng.NormFloat64()*8 } // month of adoption
	httpsAt, ipv6At, dnssecAt, mobileAt := adopt(2), adopt(14), adopt(18), adopt(4)
	speed := 0.25 + 0.5*rng.Float64() // this portal's typical median, seconds
	month := rand.New(rand.NewPCG(seed("portal", agency, p.String()), 13))
	probes := float64(24 * 60 * daysIn(p))
	down := 0.002 + 0.01*month.Float64()
	if month.Float64() < 0.05 { // a bad month: an outage of a day or two
		down += 0.03 + 0.04*month.Float64()
	}
	has := func(at float64) float64 {
		if months >= at {
			return 1
		}
		return 0
	}
	tls := has(httpsAt - 1)
	if month.Float64() < 0.03 {
		tls = 0 // the certificate lapsed at the month's last probe
	}
	return portalMonth{
		probes: probes,
		ok:     math.Round(probes * (1 - down)),
		median: speed * (1.1 - 0.2*math.Min(months/18, 1)) * (0.9 + 0.2*month.Float64()),
		https:  has(httpsAt), tls: tls, ipv6: has(ipv6At), dnssec: has(dnssecAt), mobile: has(mobileAt),
	}
}

func daysIn(p period.Period) int {
	return int(p.End(nil).Sub(p.Start(nil)).Hours() / 24)
}
