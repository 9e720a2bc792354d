package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/indicators/period"
	"github.com/g-oc/goc/internal/store"
)

// BenchWriteObservations measures durable batch writes: each iteration writes one
// batch of size new series (one agency each, a fresh month per iteration), the shape
// of a month's reports arriving. It reports rows/s.
func BenchWriteObservations(b *testing.B, s store.Store, size int) {
	ctx := context.Background()
	first := period.MustParse("2015-01")
	batch := make([]indicators.Observation, size)
	n := 0
	for b.Loop() {
		per := first.Add(n)
		for i := range batch {
			batch[i] = indicators.Observation{
				SeriesKey:   indicators.SeriesKey{Indicator: "bench", Agency: AgencyCode(i), Period: per},
				Value:       float64(i%100) + 0.5,
				Numerator:   new(float64(i % 100)),
				Denominator: new(100.0),
				Source:      indicators.FromSubmission,
				Submitter:   "bench",
			}
		}
		if _, err := s.WriteObservations(ctx, batch); err != nil {
			b.Fatalf("write batch %d: %v", n, err)
		}
		n++
	}
	b.ReportMetric(float64(n*size)/b.Elapsed().Seconds(), "rows/s")
}

// BenchLatestOneIndicator loads agencies × periods monthly values of three
// indicators from 2025-01, revises one value in ten, then measures the latest values of
// one indicator for every agency: over all periods ("AllPeriods", agencies × periods
// rows) and for the last period alone ("OnePeriod", agencies rows), the progress
// page's queries. Each reports rows/s.
func BenchLatestOneIndicator(b *testing.B, s store.Store, agencies, periods int) {
	first := period.MustParse("2025-01")
	data := Bulk{Agencies: agencies, Indicators: 3, First: first, Periods: periods, Seed: 1}.Observations()
	Load(b, s, data, 5000)
	var revised []indicators.Observation
	for i := 0; i < len(data); i += 10 {
		o := data[i]
		o.Value, o.ReceivedAt = o.Value+1, time.Time{}
		revised = append(revised, o)
	}
	Load(b, s, revised, 5000)

	last := first.Add(periods - 1)
	b.Run("AllPeriods", func(b *testing.B) {
		benchQuery(b, s, store.Query{Indicators: []string{IndicatorCode(1)}}, agencies*periods)
	})
	b.Run("OnePeriod", func(b *testing.B) {
		benchQuery(b, s, store.Query{Indicators: []string{IndicatorCode(1)},
			From: last.Start(nil), To: last.End(nil)}, agencies)
	})
}

func benchQuery(b *testing.B, s store.Store, q store.Query, want int) {
	ctx := context.Background()
	rows := 0
	for b.Loop() {
		got, err := s.Observations(ctx, q)
		if err != nil {
			b.Fatalf("query: %v", err)
		}
		if len(got) != want {
			b.Fatalf("query gave %d rows, want %d", len(got), want)
		}
		rows += len(got)
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
}

// BenchLatestProbes loads rounds of results for targets portals and measures the
// latest state of every portal: the status page's query. It reports rows/s.
func BenchLatestProbes(b *testing.B, s store.Store, targets, rounds int) {
	ctx := context.Background()
	all := BulkProbes(targets, rounds, time.Date(2025, 11, 3, 7, 0, 0, 0, time.UTC), time.Minute)
	for i := 0; i < len(all); i += targets {
		if err := s.WriteProbeResults(ctx, all[i:i+targets]); err != nil {
			b.Fatalf("load probe round %d: %v", i/targets, err)
		}
	}
	rows := 0
	for b.Loop() {
		got, err := s.LatestProbes(ctx)
		if err != nil {
			b.Fatalf("latest probes: %v", err)
		}
		if len(got) != targets {
			b.Fatalf("latest probes gave %d, want %d", len(got), targets)
		}
		rows += len(got)
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
}
