package storetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/indicators/period"
	"github.com/g-oc/goc/internal/store"
)

// Bulk describes a synthetic dataset shaped like G-OC's real load: every agency reports
// every indicator for consecutive periods, as a share with numerator and denominator,
// the way ministries, provinces and communes submit. The same Bulk always gives the
// same data.
type Bulk struct {
	Agencies   int // reporting units, coded by AgencyCode
	Indicators int // indicators, coded by IndicatorCode
	First      period.Period
	Periods    int // consecutive periods of First's kind
	Seed       uint64
}

// AgencyCode names the i-th synthetic agency (U00000, U00001, ...).
func AgencyCode(i int) string { return fmt.Sprintf("U%05d", i) }

// IndicatorCode names the i-th synthetic indicator (I00, I01, ...).
func IndicatorCode(i int) string { return fmt.Sprintf("I%02d", i) }

// Len is how many observations Observations returns.
func (b Bulk) Len() int { return b.Agencies * b.Indicators * b.Periods }

// Observations returns the dataset ordered by period, then indicator, then agency:
// the order in which a month's reports arrive.
func (b Bulk) Observations() []indicators.Observation {
	rng := rand.New(rand.NewPCG(b.Seed, 0x60c))
	out := make([]indicators.Observation, 0, b.Len())
	received := b.First.End(nil).Add(3 * 24 * time.Hour)
	for p := range b.Periods {
		per := b.First.Add(p)
		at := received.AddDate(0, p*12/b.First.Kind.PerYear(), 0)
		for ind := range b.Indicators {
			for ag := range b.Agencies {
				den := float64(20 + rng.IntN(2000))
				num := float64(rng.IntN(int(den) + 1))
				src := indicators.FromSubmission
				if ag%10 == 0 {
					src = indicators.FromFeed
				}
				out = append(out, indicators.Observation{
					SeriesKey:   indicators.SeriesKey{Indicator: IndicatorCode(ind), Agency: AgencyCode(ag), Period: per},
					Value:       100 * num / den,
					Numerator:   new(num),
					Denominator: new(den),
					Source:      src,
					Submitter:   "officer-" + AgencyCode(ag),
					ReceivedAt:  at.Add(time.Duration(ag) * time.Second),
				})
			}
		}
	}
	return out
}

// Load writes obs to s in batches of size, as a bulk import would.
func Load(tb testing.TB, s store.Store, obs []indicators.Observation, size int) {
	tb.Helper()
	for i := 0; i < len(obs); i += size {
		if _, err := s.WriteObservations(context.Background(), obs[i:min(i+size, len(obs))]); err != nil {
			tb.Fatalf("load observations %d-%d: %v", i, min(i+size, len(obs)), err)
		}
	}
}

// BulkProbes returns rounds of results for targets portals, one round every interval
// from start, about one in twenty failing: the shape of a minute-by-minute probe run.
func BulkProbes(targets, rounds int, start time.Time, every time.Duration) []indicators.ProbeResult {
	rng := rand.New(rand.NewPCG(uint64(targets), uint64(rounds)))
	out := make([]indicators.ProbeResult, 0, targets*rounds)
	for r := range rounds {
		at := start.Add(time.Duration(r) * every)
		for i := range targets {
			ok := rng.IntN(20) != 0
			res := indicators.ProbeResult{
				Target:  fmt.Sprintf("https://portal-%05d.gov.vn", i),
				Agency:  AgencyCode(i % 3400),
				Time:    at.Add(time.Duration(rng.IntN(int(every/time.Millisecond)+1)) * time.Millisecond / 2),
				Success: ok,
				Phases: map[string]float64{
					"resolve": rng.Float64() / 50, "connect": rng.Float64() / 20, "tls": rng.Float64() / 10,
					"processing": rng.Float64() / 2, "total": rng.Float64(),
				},
				HTTPStatus:    200,
				BodyBytes:     int64(rng.IntN(1 << 20)),
				TLSVersion:    "TLS 1.3",
				CertExpiry:    start.AddDate(0, 0, rng.IntN(365)),
				CertValid:     true,
				HTTPSRedirect: true,
				IPv6:          i%3 == 0,
				DNSSEC:        "unsigned",
				Mobile:        i%4 != 0,
			}
			if !ok {
				res.HTTPStatus, res.Error = 502, "HTTP 502"
			}
			out = append(out, res)
		}
	}
	return out
}
