package demo

import (
	"testing"
	"time"

	"github.com/g-oc/goc/indicators"
)

func TestDemoPortalIndicatorsCoverEveryPortalAndAddUp(t *testing.T) {
	cat, reg := indicators.DefaultCatalogue(), indicators.DefaultRegistry()
	now := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)
	obs := probeHistory(cat, reg, now, now)
	type key struct{ ind, agency, period string }
	got := map[key]indicators.Observation{}
	for _, o := range obs {
		got[key{o.Indicator, o.Agency, o.Period.String()}] = o
		ind, _ := cat.Get(o.Indicator)
		if !ind.InBounds(o.Value) || o.Source != indicators.FromDemo {
			t.Fatalf("%s %s %s = %v (source %s): out of bounds or not marked demo", o.Indicator, o.Agency, o.Period, o.Value, o.Source)
		}
	}
	portals := 0
	for _, a := range reg.All() {
		if a.Portal != "" && a.ActiveOn(time.Date(2026, 10, 31, 0, 0, 0, 0, time.UTC)) {
			portals++
		}
	}
	for _, ind := range []string{"portal_uptime", "portal_latency_median", "portal_https", "portal_tls_valid",
		"portal_ipv6", "portal_dnssec", "portal_mobile_ready"} {
		for _, agency := range []string{"VN", "BTC", "P20", "N79"} {
			for _, p := range []string{"2025-07", "2026-10"} {
				if _, ok := got[key{ind, agency, p}]; !ok {
					t.Errorf("no demo %s for %s in %s", ind, agency, p)
				}
			}
		}
	}
	if _, ok := got[key{"portal_uptime", "VN", "2026-11"}]; ok {
		t.Error("the current month, not over yet, has a figure")
	}
	vn := got[key{"portal_https", "VN", "2026-10"}]
	if vn.Denominator == nil || int(*vn.Denominator) != portals {
		t.Errorf("the country's HTTPS share counts %v portals, want every one of the %d", vn.Denominator, portals)
	}
	var sum float64
	for _, a := range reg.Children("VN") {
		if o, ok := got[key{"portal_uptime", a.Code, "2026-10"}]; ok {
			sum += *o.Numerator
		}
	}
	if own := got[key{"portal_uptime", "VN", "2026-10"}]; sum >= *own.Numerator {
		t.Errorf("the country's successful probes %v must be its units' %v plus its own portal's", *own.Numerator, sum)
	}
}
