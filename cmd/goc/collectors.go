package main

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"slices"
	"strconv"
	"time"

	"github.com/g-oc/goc/collectors/feed"
	"github.com/g-oc/goc/collectors/probe"
	"github.com/g-oc/goc/collectors/schedule"
	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/indicators/period"
	"github.com/g-oc/goc/internal/config"
	"github.com/g-oc/goc/internal/outbound"
	"github.com/g-oc/goc/internal/store"
)

// collectorSet is the probes and feeds a running server schedules. It is built before
// the API (which reports the feeds) and started once the server listens (the demo
// probes its own address).
type collectorSet struct {
	a      *app
	prober *probe.Prober
	opts   probe.Options // the prober's, for the demo to add its own address
	puller *feed.Puller
	sink   *schedule.Sink
	probes []schedule.ProbeJob
	feeds  []schedule.FeedJob
	sched  *schedule.Scheduler
}

// proberOptions turns the config's probe settings into the prober's.
func proberOptions(p config.Probes) (probe.Options, error) {
	o := probe.Options{Timeout: p.Timeout, MaxBodyBytes: p.MaxBodyBytes, MaxRedirects: p.MaxRedirects,
		UserAgent: p.UserAgent, Resolver: p.Resolver, Checks: p.Checks}
	if p.TrustAnchorsFile != "" {
		data, err := os.ReadFile(p.TrustAnchorsFile)
		if err != nil {
			return o, fmt.Errorf("collectors.probes.trust_anchors_file: %w", err)
		}
		if o.TrustAnchors, err = probe.ParseTrustAnchors(string(data)); err != nil {
			return o, fmt.Errorf("collectors.probes.trust_anchors_file %s: %w", p.TrustAnchorsFile, err)
		}
	}
	return o, nil
}

// probeJobs lists the configured portals, then (with registry_portals) the portal of
// every agency that exists today and is not listed already.
func (a *app) probeJobs(now time.Time) []schedule.ProbeJob {
	p := a.cfg.Collectors.Probes
	var jobs []schedule.ProbeJob
	listed := map[string]bool{}
	for _, t := range p.Targets {
		iv := t.Interval
		if iv == 0 {
			iv = p.Interval
		}
		jobs = append(jobs, schedule.ProbeJob{Interval: iv, Target: t})
		listed[t.URL] = true
	}
	if p.RegistryPortals {
		for _, ag := range a.registry.All() {
			if ag.Portal == "" || listed[ag.Portal] || !ag.ActiveOn(now) {
				continue
			}
			listed[ag.Portal] = true
			jobs = append(jobs, schedule.ProbeJob{Interval: p.Interval, Target: probe.Target{URL: ag.Portal, Agency: ag.Code}})
		}
	}
	return jobs
}

// feedJobs schedules the configured feeds; the puller takes each as it was written.
func feedJobs(fs []config.Feed) []schedule.FeedJob {
	out := make([]schedule.FeedJob, 0, len(fs))
	for _, f := range fs {
		out = append(out, schedule.FeedJob{Interval: f.Interval, Feed: new(feed.Feed(f))})
	}
	return out
}

// newCollectors builds the prober, the feed puller and the result sink; nothing is
// scheduled until start.
func (a *app) newCollectors() (*collectorSet, error) {
	opts, err := proberOptions(a.cfg.Collectors.Probes)
	if err != nil {
		return nil, err
	}
	opts.Outbound = a.cfg.Collectors.Policy()
	prober, err := probe.New(opts)
	if err != nil {
		return nil, fmt.Errorf("collectors.probes: %w", err)
	}
	checker := feed.NewChecker(a.catalogue, a.registry, a.cfg.Server.Location, time.Now)
	puller := feed.NewPuller(feed.PullerOptions{Checker: checker, Writer: a.store, Logger: a.log,
		Metrics: feed.NewMetrics(a.metrics.Registry), Outbound: a.cfg.Collectors.Policy()})
	c := &collectorSet{a: a, prober: prober, opts: opts, puller: puller, probes: a.probeJobs(time.Now()), feeds: feedJobs(a.cfg.Collectors.Feeds)}
	for _, f := range c.feeds {
		puller.Register(f.Feed)
	}
	return c, nil
}

// selfTarget is the loopback address of this server's /healthz, for the demo, or ""
// when the server listens on a specific address that is not loopback: G-OC never
// probes anything else on its own account.
func selfTarget(addr net.Addr) string {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok || !(tcp.IP.IsUnspecified() || tcp.IP.IsLoopback()) {
		return ""
	}
	host := "127.0.0.1"
	if tcp.IP.To4() == nil && tcp.IP.IsLoopback() {
		host = "::1"
	}
	return "http://" + net.JoinHostPort(host, strconv.Itoa(tcp.Port)) + "/healthz"
}

// start schedules the probes and feeds; self, when not empty, is probed too (the
// demo watches itself).
func (c *collectorSet) start(self string) error {
	a := c.a
	probes := slices.Clone(c.probes)
	if self != "" {
		probes = append(probes, schedule.ProbeJob{Interval: 30 * time.Second,
			Target: probe.Target{URL: self, Checks: []string{probe.CheckHTTP, probe.CheckHTTPSRedirect}}})
		// The demo's own loopback address is allowed explicitly, and only it.
		u, _ := url.Parse(self)
		allowed, err := outbound.NewPolicy(append(slices.Clone(a.cfg.Collectors.AllowInternal), u.Host))
		if err != nil {
			return fmt.Errorf("allow %s: %w", u.Host, err)
		}
		opts := c.opts
		opts.Outbound = allowed
		if c.prober, err = probe.New(opts); err != nil {
			return fmt.Errorf("collectors.probes: %w", err)
		}
	}
	c.sink = schedule.NewSink(a.store, time.Second, a.metrics.StoreErrors, a.log)
	o := schedule.Options{
		Prober: c.prober, Probes: probes, Sink: c.sink, Puller: c.puller, Feeds: c.feeds,
		Concurrency: a.cfg.Collectors.Concurrency, BatchWindow: a.cfg.Collectors.BatchWindow, Registerer: a.metrics.Registry, Logger: a.log,
		Location: a.cfg.Server.Location,
	}
	if a.shared != nil {
		o.Locker = slotLocker(a.shared)
	}
	p := a.cfg.Collectors.Probes
	if p.Summary && len(c.probes) > 0 {
		targets := make([]probe.Target, len(c.probes))
		for i, j := range c.probes {
			targets[i] = j.Target
		}
		o.Summarizer = &schedule.Summarizer{Store: summaryStore{a.store}, Catalogue: a.catalogue, Registry: a.registry,
			Location: a.cfg.Server.Location, Targets: targets, Retention: p.Retention,
			Written: a.metrics.ObservationsWritten, Logger: a.log}
		if pr, ok := a.store.(store.ProbePruner); ok {
			o.Summarizer.Pruner = pr
		}
	}
	s, err := schedule.New(o)
	if err != nil {
		c.sink.Close()
		return err
	}
	c.sched = s
	s.Start()
	a.log.Info("đã lên lịch đo cổng và nguồn số liệu / collectors scheduled",
		"portals", len(probes), "feeds", len(c.feeds), "concurrency", o.Concurrency)
	return nil
}

// stop ends the schedule and writes the pending probe results.
func (c *collectorSet) stop() {
	if c.sched == nil {
		return
	}
	if err := c.sched.Shutdown(); err != nil {
		c.a.log.Warn("dừng bộ lập lịch / stopping the scheduler", "err", err)
	}
	c.sched = nil
}

// checkCollectors reports what only a built collector finds wrong in a config: a
// trust-anchors file that cannot be read. `goc validate` and `goc serve` both ask.
func checkCollectors(cfg *config.Config) error {
	if _, err := proberOptions(cfg.Collectors.Probes); err != nil {
		return err
	}
	return nil
}

// summaryStore answers the monthly probe summary's question in the store's terms, so
// that collectors/schedule need not know how a store is queried.
type summaryStore struct{ store.Store }

// Summarised reports whether month p has observations of indicator from the probes.
func (s summaryStore) Summarised(ctx context.Context, indicator string, p period.Period) (bool, error) {
	done, err := s.Observations(ctx, store.Query{Indicators: []string{indicator},
		From: p.Start(nil), To: p.End(nil), Kinds: []period.Kind{period.Month},
		Sources: []indicators.Source{indicators.FromProbe}, Limit: 1})
	return len(done) > 0, err
}
