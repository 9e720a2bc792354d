package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/indicators/period"
	"github.com/g-oc/goc/internal/query"
	"github.com/g-oc/goc/internal/store"
)

// restarts measures (`-only restart`, with -reuse on a folder a previous run kept) what
// the first reader of progress of every agency pays after a restart, and after one new
// value arrives: rounds times, each round reopening the store (closed in between, so
// nothing computed is left in this process's memory; the operating system's file cache
// stays warm, as it does across a real restart) and building a new query Service, as
// `goc serve` does at start. Then it writes one new value of a commune for a month of
// 2025 (a new revision, published) and measures the next request of the same Service.
// CPU is the process's user+system time during the request.
//
// It uses only what every version of G-OC since the figures cache has (sqlite.Open,
// query.New, WriteObservations, ProgressOfAll), so the same file measures the code
// before and after a change: copy the store first, since a newer schema cannot be
// opened by older code.
func restarts(ctx context.Context, path string, fraction float64, rounds int) {
	if !exists(path) {
		log.Fatalf("-only restart needs %s from an earlier run with -keep", path)
	}
	reg, communes := nation(fraction)
	cat := indicators.DefaultCatalogue()
	fi, _ := os.Stat(path)
	fmt.Printf("### First reads after a restart and after one new value: %d communes (%.0f%%), file %d MB\n\n", communes, 100*fraction, fileMB(path, fi))
	const code = "portal_uptime"
	clock := func() time.Time { return obsEnd }
	fmt.Println("| read | wall | CPU (s) | peak RSS (MB) | load average before |")
	fmt.Println("|---|---|---|---|---|")
	timed := func(name string, f func() error) {
		load := loadAverage()
		cpu0, t0 := cpuSeconds(), time.Now()
		if err := f(); err != nil {
			log.Fatalf("%s: %v", name, err)
		}
		fmt.Printf("| %s | %s | %.2f | %d | %s |\n", name, ms(time.Since(t0)), cpuSeconds()-cpu0, peakRSSMB(), load)
	}
	for round := range rounds {
		var st store.Store
		var q *query.Service
		timed(fmt.Sprintf("round %d: open the store, then progress of every agency on one indicator (first request after a restart)", round+1), func() error {
			s := openObservations(ctx, path)
			st, q = s, query.New(s, cat, reg, clock).PublicView()
			_, err := q.ProgressOfAll(ctx, code, 2025, obsEnd)
			return err
		})
		timed(fmt.Sprintf("round %d: the same again (kept in memory)", round+1), func() error {
			_, err := q.ProgressOfAll(ctx, code, 2025, obsEnd)
			return err
		})
		den, num := 1000.0, float64(100+round)
		o := indicators.Observation{SeriesKey: indicators.SeriesKey{Indicator: code, Agency: "X0001", Period: period.Period{Kind: period.Month, Year: 2025, Index: 6}},
			Value: 100 * num / den, Numerator: &num, Denominator: &den, Source: indicators.FromSubmission, Submitter: "bench"}
		if _, err := st.WriteObservations(ctx, []indicators.Observation{o}); err != nil {
			log.Fatal(err)
		}
		timed(fmt.Sprintf("round %d: progress of every agency, first request after one new value (X0001, 2025-06)", round+1), func() error {
			_, err := q.ProgressOfAll(ctx, code, 2025, obsEnd)
			return err
		})
		if err := st.Close(); err != nil {
			log.Fatal(err)
		}
	}
	fmt.Println()
}

// rebuildFigures measures (`-only rebuild`, with -reuse) what `goc rebuild` costs for
// the yearly figures: every indicator's, for the public and for reviewers, recomputed
// from the whole history and stored, replacing what was kept.
func rebuildFigures(ctx context.Context, path string, fraction float64) {
	if !exists(path) {
		log.Fatalf("-only rebuild needs %s from an earlier run with -keep", path)
	}
	reg, communes := nation(fraction)
	st := openObservations(ctx, path)
	defer st.Close()
	fi, _ := os.Stat(path)
	fmt.Printf("### Yearly figures recomputed from history (goc rebuild): %d communes (%.0f%%), file %d MB\n\n", communes, 100*fraction, fileMB(path, fi))
	q := query.New(st, indicators.DefaultCatalogue(), reg, func() time.Time { return obsEnd })
	cpu0, t0 := cpuSeconds(), time.Now()
	sets := 0
	if err := q.RebuildFigures(ctx, func(done, total int, _ store.FigureSet) { sets = total }); err != nil {
		log.Fatal(err)
	}
	fi, _ = os.Stat(path)
	fmt.Printf("| sets | wall | CPU (s) | peak RSS (MB) | file after (MB) |\n|---|---|---|---|---|\n| %d | %s | %.1f | %d | %d |\n\n",
		sets, ms(time.Since(t0)), cpuSeconds()-cpu0, peakRSSMB(), fileMB(path, fi))
}
