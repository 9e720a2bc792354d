package main

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sync/atomic"
	"time"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/internal/api"
	"github.com/g-oc/goc/internal/apiparts"
	"github.com/g-oc/goc/internal/query"
	"github.com/g-oc/goc/internal/store"
	"github.com/g-oc/goc/internal/store/influx"
)

// influxProbes (-influx URL -only probes) measures the portals' statuses on InfluxDB:
// portals results every `every` for days, written through the store's spool and sent
// to InfluxDB (-reuse: the spool in dir and the database it describes), then the
// statuses and a province's card cold (the first read after a start of the store) and
// warm, the probe list over HTTP, and a card while results arrive (every arrival moves
// the probes version, so each card reads the statuses again). Last, when the store
// keeps windows it can rebuild, one `goc rebuild` of them from InfluxDB's history.
func influxProbes(ctx context.Context, url, dir string, portals, days int, every time.Duration, requests int, reuse bool) {
	spool := filepath.Join(dir, "spool.db")
	fresh := !(reuse && exists(spool))
	var now atomic.Int64
	now.Store(obsEnd.UnixNano())
	clock := func() time.Time { return time.Unix(0, now.Load()).UTC() }
	open := func() *influx.Store {
		st, err := influx.Open(ctx, influx.Options{URL: url, Bucket: "goc/autogen", Spool: spool, Now: clock})
		if err != nil {
			log.Fatal(err)
		}
		return st
	}
	fmt.Printf("### InfluxDB 1.8.10: %d portals, one result every %s for %d days\n\n", portals, every, days)
	st := open()
	if fresh {
		t0 := time.Now()
		generateProbes(ctx, st, spool, portals, days, every, obsEnd)
		if err := st.Flush(ctx); err != nil {
			log.Fatal(err)
		}
		fmt.Printf("written and sent to InfluxDB in %s\n\n", time.Since(t0).Round(time.Second))
	} else {
		fmt.Printf("reused %s and the database it describes\n\n", spool)
	}
	st.Close()
	reg, _ := nation(0.01)
	cat := indicators.DefaultCatalogue()
	method := indicators.DefaultRankingMethod()
	// Statuses answered without their windows (the Flux read failed or timed out) are
	// counted, and said under the row.
	var windowless atomic.Int64
	statuses := func(st *influx.Store) error {
		got, err := st.ProbeStatuses(ctx)
		if err != nil {
			return err
		}
		if len(got.Statuses) != portals {
			return fmt.Errorf("%d statuses, want %d", len(got.Statuses), portals)
		}
		if got.Statuses[0].Month.Probes == 0 {
			windowless.Add(1)
		}
		return nil
	}
	note := func() {
		if n := windowless.Swap(0); n > 0 {
			fmt.Printf("| (%d of the reads above answered without windows) | | | | | | |\n", n)
		}
	}
	card := func(q *query.Service) error {
		_, err := q.AgencyCard(ctx, "P01", method)
		return err
	}
	header()
	coldRow("portal statuses (every portal, 24 h / 7 d / 30 d windows), cold: first read after a start", 3, open, statuses)
	note()
	coldRow("card of a province, cold: first read after a start", 3, open, func(st *influx.Store) error {
		return card(query.New(st, cat, reg, clock).PublicView())
	})
	st = open()
	defer st.Close()
	kept := query.New(st, cat, reg, clock).PublicView()
	load("portal statuses, warm (kept per probes version)", requests, func() error { return statuses(st) })
	note()
	load("card of a province, warm", requests, func() error { return card(kept) })
	srv := httptest.NewServer(api.New(api.Options{Query: kept, Writer: st, Pinger: st, Now: clock, ProbeListStale: 10 * time.Second,
		Workbooks: apiparts.Workbooks{}}).Handler())
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}, Timeout: 10 * time.Minute}
	load("GET /api/v1/probes (a page of 1,000, kept per probes version)", requests, probesPage(ctx, client, srv.URL, portals))

	// Results arriving: before each read a batch of a minute's share is written (not
	// timed) and the clock moves a second, so every read finds a new probes version.
	perSecond := portals/60 + 1
	arrivals := 0
	arrive := func() {
		at := time.Unix(0, now.Add(int64(time.Second))).UTC()
		batch := make([]indicators.ProbeResult, perSecond)
		for j := range batch {
			batch[j] = indicators.ProbeResult{Target: fmt.Sprintf("https://p%05d.gov.vn/", (arrivals*perSecond+j)%portals), Agency: "VN",
				Time: at, Success: true, HTTPStatus: 200, Phases: map[string]float64{"total": 0.2}}
		}
		arrivals++
		if err := st.WriteProbeResults(ctx, batch); err != nil {
			log.Fatal(err)
		}
	}
	const arriving = 5
	arrivingRow(fmt.Sprintf("card of a province, each after %d new results", perSecond), arriving, arrive, func() error { return card(kept) })
	arrivingRow(fmt.Sprintf("portal statuses, each after %d new results", perSecond), arriving, arrive, func() error { return statuses(st) })
	note()
	if err := st.Flush(ctx); err != nil {
		log.Fatal(err)
	}
	if rb, ok := any(st).(store.ProbeWindowRebuilder); ok {
		loadBy("goc rebuild of the windows from InfluxDB's history", 1, []int{1}, func() error { return rb.RebuildProbeWindows(ctx) })
	} else {
		fmt.Println("| goc rebuild of the windows | — | — | — | — | not kept by this store | | |")
	}
	fmt.Println()
}

// coldRow opens the store n times and times the first read after each opening (the
// opening itself is not timed), and prints a row as loadBy does.
func coldRow(name string, n int, open func() *influx.Store, read func(*influx.Store) error) {
	var lat []time.Duration
	var cpu, server float64
	for range n {
		st := open()
		cpu0, server0 := cpuSeconds(), processCPU(*influxdPID)
		t := time.Now()
		if err := read(st); err != nil {
			log.Fatalf("%s: %v", name, err)
		}
		lat = append(lat, time.Since(t))
		cpu += cpuSeconds() - cpu0
		server += processCPU(*influxdPID) - server0
		st.Close()
	}
	slices.Sort(lat)
	col := ""
	if *influxdPID > 0 {
		col = fmt.Sprintf(" %.1f |", server)
	}
	fmt.Printf("| %s | 1 | %d | %s | %s | %.1f |%s %d |\n", name, n, ms(lat[len(lat)/2]), ms(lat[len(lat)-1]), cpu, col, peakRSSMB())
}

// arrivingRow times n reads, each after a write that is not timed, and prints a row as
// loadBy does.
func arrivingRow(name string, n int, write func(), read func() error) {
	var lat []time.Duration
	var cpu, server float64
	for range n {
		write()
		cpu0, server0 := cpuSeconds(), processCPU(*influxdPID)
		t := time.Now()
		if err := read(); err != nil {
			log.Fatalf("%s: %v", name, err)
		}
		lat = append(lat, time.Since(t))
		cpu += cpuSeconds() - cpu0
		server += processCPU(*influxdPID) - server0
	}
	slices.Sort(lat)
	col := ""
	if *influxdPID > 0 {
		col = fmt.Sprintf(" %.1f |", server)
	}
	fmt.Printf("| %s | 1 | %d | %s | %s | %.1f |%s %d |\n", name, n, ms(lat[len(lat)/2]), ms(lat[len(lat)-1]), cpu, col, peakRSSMB())
}
