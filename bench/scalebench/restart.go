package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/indicators/period"
	"github.com/g-oc/goc/internal/query"
	"github.com/g-oc/goc/internal/store"
	"github.com/g-oc/goc/internal/store/influx"
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
	_, communes := nation(fraction)
	fi, _ := os.Stat(path)
	fmt.Printf("### First reads after a restart and after one new value: %d communes (%.0f%%), file %d MB\n\n", communes, 100*fraction, fileMB(path, fi))
	restartRounds(ctx, func() store.Store { return openObservations(ctx, path) }, fraction, rounds, false)
}

// influxRestarts is restarts on the InfluxDB store (`-influx URL -reuse -only
// restart`): the spool in dir and the database it describes, reopened each round, and
// a reviewer's first request too (every newest revision, through Flux where nothing is
// kept). With hideKept the query layer is not told that the store keeps figures: what
// G-OC did before the spool kept them, for a before-and-after in one session.
func influxRestarts(ctx context.Context, url, dir string, fraction float64, rounds int, hideKept bool) {
	spool := filepath.Join(dir, "spool.db")
	if !exists(spool) {
		log.Fatalf("-only restart needs %s from an earlier run with -keep", spool)
	}
	_, communes := nation(fraction)
	fmt.Printf("### InfluxDB 1.8.10: first reads after a restart and after one new value: %d communes (%.0f%%), figures kept in the spool: %v\n\n", communes, 100*fraction, !hideKept)
	restartRounds(ctx, func() store.Store {
		st, err := influx.Open(ctx, influx.Options{URL: url, Bucket: "goc/autogen", Spool: spool, Now: func() time.Time { return obsEnd }, AutoApprove: true})
		if err != nil {
			log.Fatal(err)
		}
		if hideKept {
			return versionedOnly{Store: st, s: st}
		}
		return st
	}, fraction, rounds, true)
}

// versionedOnly is an InfluxDB store that shows the query layer its figures version
// and how it likes to be read, and nothing of the figures it keeps (store.Store is
// embedded as an interface, so no other method of the store is promoted).
type versionedOnly struct {
	store.Store
	s *influx.Store
}

func (v versionedOnly) FiguresVersion(ctx context.Context) (string, error) {
	return v.s.FiguresVersion(ctx)
}

func (v versionedOnly) FewerLargerReads() bool { return v.s.FewerLargerReads() }

func restartRounds(ctx context.Context, open func() store.Store, fraction float64, rounds int, reviewer bool) {
	reg, _ := nation(fraction)
	cat := indicators.DefaultCatalogue()
	const code = "portal_uptime"
	clock := func() time.Time { return obsEnd }
	if *influxdPID > 0 {
		fmt.Println("| read | wall | CPU (s) | influxd CPU (s) | peak RSS (MB) | load average before |")
		fmt.Println("|---|---|---|---|---|---|")
	} else {
		fmt.Println("| read | wall | CPU (s) | peak RSS (MB) | load average before |")
		fmt.Println("|---|---|---|---|---|")
	}
	timed := func(name string, f func() error) {
		load := loadAverage()
		cpu0, server0, t0 := cpuSeconds(), processCPU(*influxdPID), time.Now()
		if err := f(); err != nil {
			log.Fatalf("%s: %v", name, err)
		}
		server := ""
		if *influxdPID > 0 {
			server = fmt.Sprintf(" %.2f |", processCPU(*influxdPID)-server0)
		}
		fmt.Printf("| %s | %s | %.2f |%s %d | %s |\n", name, ms(time.Since(t0)), cpuSeconds()-cpu0, server, peakRSSMB(), load)
	}
	for round := range rounds {
		var st store.Store
		var q, all *query.Service
		timed(fmt.Sprintf("round %d: open the store, then progress of every agency on one indicator (first request after a restart)", round+1), func() error {
			s := open()
			st = s
			svc := query.New(s, cat, reg, clock)
			q, all = svc.PublicView(), svc.For(query.Audience{All: true})
			_, err := q.ProgressOfAll(ctx, code, 2025, obsEnd)
			return err
		})
		if reviewer {
			timed(fmt.Sprintf("round %d: a reviewer's progress of every agency (first request after a restart)", round+1), func() error {
				_, err := all.ProgressOfAll(ctx, code, 2025, obsEnd)
				return err
			})
		}
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
		if reviewer {
			timed(fmt.Sprintf("round %d: a reviewer's progress of every agency, first request after one new value", round+1), func() error {
				_, err := all.ProgressOfAll(ctx, code, 2025, obsEnd)
				return err
			})
		}
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
