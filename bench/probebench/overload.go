package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/g-oc/goc/collectors/probe"
	"github.com/g-oc/goc/collectors/schedule"
	"github.com/g-oc/goc/internal/outbound"
	"github.com/g-oc/goc/internal/store/sqlite"
)

type overloadConf struct {
	duration, hold, interval time.Duration
	runners                  int
	factor                   float64
}

// runOverload is the scheduler run in real time: portals that each hold a probe
// for a known time, so that the runners can finish runners/hold probes a second, and a
// schedule asking factor times that, for the whole duration. Every few seconds it prints
// the process's RSS, goroutines and heap, and the runs and missed slots so far: with
// bounded pending runs they stay flat however long the overload lasts.
func runOverload(oc overloadConf) error {
	dir, a, stop, err := startServers()
	if err != nil {
		return err
	}
	defer stop()
	capacity := float64(oc.runners) / oc.hold.Seconds()
	n := int(oc.factor * capacity * oc.interval.Seconds())
	st, err := sqlite.Open(context.Background(), filepath.Join(dir, "overload.db"))
	if err != nil {
		return err
	}
	defer st.Close()
	prober, err := probe.New(probe.Options{Checks: []string{probe.CheckHTTP}, Timeout: oc.hold + 10*time.Second,
		Outbound: outbound.MustPolicy("127.0.0.1/32", "::1/128")})
	if err != nil {
		return err
	}
	jobs := make([]schedule.ProbeJob, n)
	for i := range jobs {
		u := fmt.Sprintf("%s/portal/%05d/delay/%s?%05d", a.HTTP, i, oc.hold, i)
		jobs[i] = schedule.ProbeJob{Interval: oc.interval, Target: probe.Target{URL: u, Agency: "P20"}}
	}
	reg := prometheus.NewRegistry()
	sink := schedule.NewSink(st, time.Second, nil, nil)
	s, err := schedule.New(schedule.Options{Prober: prober, Probes: jobs, Sink: sink, Concurrency: oc.runners, Registerer: reg})
	if err != nil {
		return err
	}
	fmt.Printf("## Scheduler asked for %.1f× its capacity: %d portals every %s (%.0f probes/s asked), %d runners, each probe held %s (%.0f probes/s possible), for %s; %s, %d CPUs, %s, load average %s\n\n",
		oc.factor, n, oc.interval, float64(n)/oc.interval.Seconds(), oc.runners, oc.hold, capacity, oc.duration,
		runtime.Version(), runtime.NumCPU(), time.Now().UTC().Format("2006-01-02 15:04 UTC"), loadavg())
	fmt.Println("| elapsed | runs | missed slots | runs/s since last row | goroutines | heap in use | RSS | load avg |")
	fmt.Println("|---|---|---|---|---|---|---|---|")
	counter := func(name string) float64 {
		fams, _ := reg.Gather()
		var v float64
		for _, f := range fams {
			if f.GetName() == name {
				for _, m := range f.GetMetric() {
					v += m.GetCounter().GetValue()
				}
			}
		}
		return v
	}
	t0 := time.Now()
	s.Start()
	every := 10 * time.Second
	var lastRuns float64
	for elapsed := time.Duration(0); elapsed <= oc.duration; elapsed += every {
		if elapsed > 0 {
			time.Sleep(time.Until(t0.Add(elapsed)))
		}
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		runs, missed := counter("goc_collector_runs_total"), counter("goc_collector_missed_runs_total")
		fmt.Printf("| %s | %.0f | %.0f | %.0f | %d | %.1f MiB | %.1f MiB | %s |\n", elapsed.Round(time.Second), runs, missed,
			(runs-lastRuns)/every.Seconds(), runtime.NumGoroutine(), float64(ms.HeapInuse)/(1<<20), rssMiB(), loadavg())
		lastRuns = runs
		fmt.Fprintf(os.Stderr, "probebench: overload %s of %s\n", elapsed.Round(time.Second), oc.duration)
	}
	return s.Shutdown()
}

// rssMiB is this process's resident set now (VmRSS), in MiB.
func rssMiB() float64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}
