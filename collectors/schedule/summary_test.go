package schedule_test

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/g-oc/goc/collectors/probe"
	"github.com/g-oc/goc/collectors/schedule"
	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/indicators/period"
	"github.com/g-oc/goc/internal/store"
	"github.com/g-oc/goc/internal/store/sqlite"
)

var ict = time.FixedZone("ICT", 7*3600)

type portal struct {
	url, agency string
	probes, ok  int
	seconds     float64
	last        indicators.ProbeResult // the features of the portal's last probe
}

func writeMonth(t *testing.T, st *sqlite.Store, p portal) {
	t.Helper()
	start := time.Date(2026, 10, 1, 0, 0, 0, 0, ict)
	var rs []indicators.ProbeResult
	for i := range p.probes {
		r := p.last
		r.Target, r.Agency = p.url, p.agency
		r.Time = start.Add(time.Duration(i) * 7 * time.Hour)
		r.Success = i < p.ok
		r.HTTPStatus = 200
		if !r.Success {
			r.HTTPStatus = 503
		}
		r.Phases = map[string]float64{"total": p.seconds}
		rs = append(rs, r)
	}
	if err := st.WriteProbeResults(context.Background(), rs); err != nil {
		t.Fatal(err)
	}
}

// summaryStore is the adapter cmd/goc wires, over a real SQLite store.
type summaryStore struct{ *sqlite.Store }

func (s summaryStore) Summarised(ctx context.Context, indicator string, p period.Period) (bool, error) {
	done, err := s.Observations(ctx, store.Query{Indicators: []string{indicator},
		From: p.Start(nil), To: p.End(nil), Kinds: []period.Kind{period.Month},
		Sources: []indicators.Source{indicators.FromProbe}, Limit: 1})
	return len(done) > 0, err
}

func TestMonthlySummaryWritesPortalIndicatorsForEverySubtreeOnce(t *testing.T) {
	st := openStore(t)
	portals := []portal{
		{"https://langson.gov.vn", "P20", 100, 90, 0.2,
			indicators.ProbeResult{TLSVersion: "TLS 1.3", CertValid: true, HTTPSRedirect: true, DNSSEC: "signed-valid", Mobile: true}},
		{"https://tamthanh.langson.gov.vn", "P20-C01", 100, 100, 0.4,
			indicators.ProbeResult{TLSVersion: "TLS 1.2", IPv6: true, DNSSEC: "unsigned"}},
		{"http://mof.gov.vn", "BTC", 50, 25, 0.8, indicators.ProbeResult{Mobile: true}},
		// Bắc Giang (P24) merged into another province on 1 July 2025.
		{"https://bacgiang.gov.vn", "P24", 10, 10, 0.1, indicators.ProbeResult{}},
	}
	var targets []probe.Target
	for _, p := range portals {
		writeMonth(t, st, p)
		targets = append(targets, probe.Target{URL: p.url, Agency: p.agency})
	}
	// Just outside October in Hà Nội time: must not count.
	outside := []indicators.ProbeResult{
		{Target: portals[0].url, Agency: "P20", Time: time.Date(2026, 9, 30, 23, 30, 0, 0, ict)},
		{Target: portals[0].url, Agency: "P20", Time: time.Date(2026, 11, 1, 0, 0, 0, 0, ict)},
		{Target: portals[0].url, Agency: "P20", Time: time.Date(2026, 8, 1, 0, 0, 0, 0, ict)}, // for pruning
	}
	if err := st.WriteProbeResults(context.Background(), outside); err != nil {
		t.Fatal(err)
	}
	written := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "w"}, []string{"source"})
	sum := &schedule.Summarizer{Store: summaryStore{st}, Pruner: st, Catalogue: indicators.DefaultCatalogue(), Registry: indicators.DefaultRegistry(),
		Location: ict, Targets: targets, Retention: 60 * 24 * time.Hour, Written: written}
	now := time.Date(2026, 11, 15, 9, 0, 0, 0, ict)
	if err := sum.Run(context.Background(), now); err != nil {
		t.Fatal(err)
	}
	obs, err := st.Observations(context.Background(), store.Query{Indicators: probe.SummaryIndicators()})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, o := range obs {
		if o.Source != indicators.FromProbe || o.Period.String() != "2026-10" || o.Submitter != probe.SummarySubmitter {
			t.Errorf("%s %s: source %s, period %s, submitter %s", o.Indicator, o.Agency, o.Source, o.Period, o.Submitter)
		}
		s := fmt.Sprintf("%.4g", o.Value)
		if o.Numerator != nil {
			s = fmt.Sprintf("%g/%g", *o.Numerator, *o.Denominator)
		}
		got[o.Agency+" "+o.Indicator] = s
	}
	want := map[string]string{
		"P20-C01 portal_uptime": "100/100", "P20-C01 portal_https": "0/1", "P20-C01 portal_tls_valid": "0/1",
		"P20-C01 portal_ipv6": "1/1", "P20-C01 portal_dnssec": "0/1", "P20-C01 portal_mobile_ready": "0/1",
		// The province covers its own portal and its commune's.
		"P20 portal_uptime": "190/200", "P20 portal_https": "1/2", "P20 portal_tls_valid": "1/2",
		"P20 portal_ipv6": "1/2", "P20 portal_dnssec": "1/2", "P20 portal_mobile_ready": "1/2",
		"BTC portal_uptime": "25/50", "BTC portal_https": "0/1", "BTC portal_tls_valid": "0/1",
		"BTC portal_ipv6": "0/1", "BTC portal_dnssec": "0/1", "BTC portal_mobile_ready": "1/1",
		// The country covers all three; the merged province's portal is left out.
		"VN portal_uptime": "215/250", "VN portal_https": "1/3", "VN portal_tls_valid": "1/3",
		"VN portal_ipv6": "1/3", "VN portal_dnssec": "1/3", "VN portal_mobile_ready": "2/3",
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s = %q, want %q", k, got[k], w)
		}
	}
	// Medians: the commune's probes all took 0.4 s; the country's 215 successes are
	// 90 × 0.2, 100 × 0.4 and 25 × 0.8, so its median is 0.4.
	for _, o := range obs {
		if o.Indicator != probe.IndLatency {
			continue
		}
		want := map[string]float64{"P20-C01": 0.4, "P20": 0.4, "BTC": 0.8, "VN": 0.4}[o.Agency]
		if math.Abs(o.Value-want)/want > 0.01 || o.Denominator == nil {
			t.Errorf("%s median latency = %v (weight %v), want %v within 1%%", o.Agency, o.Value, o.Denominator, want)
		}
	}
	if n := len(obs); n != 28 {
		t.Errorf("%d observations, want 28 (7 indicators × P20-C01, P20, BTC, VN)", n)
	}
	// History older than the retention is gone; October stays.
	old, _ := st.ProbeResults(context.Background(), portals[0].url, time.Time{}, time.Date(2026, 9, 1, 0, 0, 0, 0, ict))
	if len(old) != 0 {
		t.Errorf("%d results from August survived the pruning", len(old))
	}
	// A second run (every hour) writes nothing: October is done.
	if err := sum.Run(context.Background(), now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	again, _ := st.Observations(context.Background(), store.Query{Indicators: probe.SummaryIndicators(), History: true})
	if len(again) != len(obs) {
		t.Errorf("second run: %d observations, want still %d", len(again), len(obs))
	}
}
