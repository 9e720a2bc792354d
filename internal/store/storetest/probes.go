package storetest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/internal/store"
)

var probeEpoch = time.Date(2025, 11, 3, 7, 0, 0, 0, time.UTC)

func probe(target string, at time.Time, ok bool) indicators.ProbeResult {
	r := indicators.ProbeResult{Target: target, Agency: agencyOf(target), Time: at, Success: ok, HTTPStatus: 200}
	if !ok {
		r.HTTPStatus, r.Error = 503, "HTTP 503"
	}
	return r
}

func agencyOf(target string) string {
	host := strings.TrimPrefix(target, "https://")
	return strings.ToUpper(strings.SplitN(host, ".", 2)[0])
}

func writeProbes(t *testing.T, s store.Store, rs ...indicators.ProbeResult) {
	t.Helper()
	if err := s.WriteProbeResults(context.Background(), rs); err != nil {
		t.Fatalf("WriteProbeResults: %v", err)
	}
}

func probeKey(r indicators.ProbeResult) string {
	return fmt.Sprintf("%s@%s", r.Target, r.Time.UTC().Format("15:04:05.000"))
}

func probeKeys(rs []indicators.ProbeResult) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = probeKey(r)
	}
	return out
}

func testLatestProbes(t *testing.T, open Opener) {
	s := open(t)
	at := func(min int) time.Time { return probeEpoch.Add(time.Duration(min) * time.Minute) }
	writeProbes(t, s, probe("https://hanoi.gov.vn", at(0), true), probe("https://angiang.gov.vn", at(0), true))
	writeProbes(t, s, probe("https://hanoi.gov.vn", at(1), false), probe("https://cantho.gov.vn", at(1), true),
		probe("https://angiang.gov.vn", at(1), true))
	writeProbes(t, s, probe("https://angiang.gov.vn", at(2), false))
	// A late arrival older than what is already stored must not become the latest.
	writeProbes(t, s, probe("https://cantho.gov.vn", at(0), false))

	got, err := s.LatestProbes(context.Background())
	if err != nil {
		t.Fatalf("LatestProbes: %v", err)
	}
	want := []string{"https://angiang.gov.vn@07:02:00.000", "https://cantho.gov.vn@07:01:00.000", "https://hanoi.gov.vn@07:01:00.000"}
	if !slices.Equal(probeKeys(got), want) {
		t.Fatalf("LatestProbes:\n got %v\nwant %v", probeKeys(got), want)
	}
	if got[0].Success || !got[1].Success || got[2].Success || got[2].HTTPStatus != 503 || got[2].Error != "HTTP 503" {
		t.Errorf("latest results carry the wrong outcome: %+v", got)
	}
	if got[2].Agency != "HANOI" {
		t.Errorf("agency = %q, want HANOI", got[2].Agency)
	}
}

func testProbeRange(t *testing.T, open Opener) {
	s := open(t)
	var rs []indicators.ProbeResult
	for i := range 5 {
		at := probeEpoch.Add(time.Duration(i) * time.Minute)
		rs = append(rs, probe("https://hue.gov.vn", at, i%2 == 0), probe("https://danang.gov.vn", at, true))
	}
	slices.Reverse(rs) // written newest first; read oldest first
	writeProbes(t, s, rs...)
	from, to := probeEpoch.Add(time.Minute), probeEpoch.Add(3*time.Minute)
	got, err := s.ProbeResults(context.Background(), "https://hue.gov.vn", from, to)
	if err != nil {
		t.Fatalf("ProbeResults: %v", err)
	}
	want := []string{"https://hue.gov.vn@07:01:00.000", "https://hue.gov.vn@07:02:00.000"}
	if !slices.Equal(probeKeys(got), want) {
		t.Fatalf("ProbeResults [07:01, 07:03):\n got %v\nwant %v", probeKeys(got), want)
	}
	if got[0].Success || !got[1].Success {
		t.Errorf("outcomes %v %v, want false true", got[0].Success, got[1].Success)
	}
	none, err := s.ProbeResults(context.Background(), "https://nowhere.gov.vn", from, to)
	if err != nil || len(none) != 0 {
		t.Errorf("unknown target gave %v, %v; want nothing, nil", probeKeys(none), err)
	}
}

func testProbeRoundTrip(t *testing.T, open Opener) {
	s := open(t)
	match := false
	full := indicators.ProbeResult{
		Target:     "https://dichvucong.gov.vn",
		Agency:     "VPCP",
		Time:       probeEpoch.Add(123456789 * time.Nanosecond),
		Success:    true,
		HTTPStatus: 200,
		// The five phases named by indicators.ProbeResult, one a prober may add, and a
		// phase that took no time at all (present, not absent).
		Phases: map[string]float64{
			"resolve": 0.0123, "connect": 0.045, "tls": 0.081, "processing": 0.2345678, "total": 0.4,
			"transfer": 0.0871, "redirect": 0,
		},
		BodyBytes:     524288,
		Redirects:     2,
		TLSVersion:    "TLS 1.3",
		CertExpiry:    time.Date(2026, 3, 31, 23, 59, 59, 0, time.UTC),
		CertValid:     true,
		HTTPSRedirect: true,
		IPv6:          true,
		DNSSEC:        "signed-valid",
		Mobile:        true,
		ContentMatch:  &match,
	}
	// Plain HTTP that failed: no TLS facts, no phases, content not checked.
	bare := indicators.ProbeResult{
		Target: "http://xa-abc.gov.vn",
		Agency: "X00001",
		Time:   probeEpoch.In(time.FixedZone("ICT", 7*3600)),
		Error:  "dial tcp: connection refused",
		DNSSEC: "unsigned",
	}
	writeProbes(t, s, full, bare)
	latest, err := s.LatestProbes(context.Background())
	if err != nil {
		t.Fatalf("LatestProbes: %v", err)
	}
	if len(latest) != 2 {
		t.Fatalf("LatestProbes gave %v, want 2 results", probeKeys(latest))
	}
	// Ordered by target: "http://" sorts before "https://".
	checkProbe(t, "latest bare", latest[0], bare)
	checkProbe(t, "latest full", latest[1], full)
	hist, err := s.ProbeResults(context.Background(), full.Target, probeEpoch, probeEpoch.Add(time.Second))
	if err != nil {
		t.Fatalf("ProbeResults: %v", err)
	}
	if len(hist) != 1 {
		t.Fatalf("ProbeResults gave %v, want 1 result", probeKeys(hist))
	}
	checkProbe(t, "history full", hist[0], full)
}

func checkProbe(t *testing.T, what string, got, want indicators.ProbeResult) {
	t.Helper()
	if !sameTime(got.Time, want.Time) || !sameTime(got.CertExpiry, want.CertExpiry) {
		t.Errorf("%s: time %s, cert expiry %s; want %s, %s", what, got.Time, got.CertExpiry, want.Time, want.CertExpiry)
	}
	if got.CertExpiry.IsZero() != want.CertExpiry.IsZero() {
		t.Errorf("%s: cert expiry zero = %v, want %v", what, got.CertExpiry.IsZero(), want.CertExpiry.IsZero())
	}
	if !maps.Equal(got.Phases, want.Phases) { // nil and empty are equal here
		t.Errorf("%s: phases %v, want %v", what, got.Phases, want.Phases)
	}
	if (got.ContentMatch == nil) != (want.ContentMatch == nil) ||
		(got.ContentMatch != nil && *got.ContentMatch != *want.ContentMatch) {
		t.Errorf("%s: content match %v, want %v", what, got.ContentMatch, want.ContentMatch)
	}
	g, w := got, want
	g.Time, g.CertExpiry, g.Phases, g.ContentMatch = time.Time{}, time.Time{}, nil, nil
	w.Time, w.CertExpiry, w.Phases, w.ContentMatch = time.Time{}, time.Time{}, nil, nil
	if fmt.Sprintf("%+v", g) != fmt.Sprintf("%+v", w) {
		t.Errorf("%s:\n got %+v\nwant %+v", what, g, w)
	}
}

func testProbeAllOrNothing(t *testing.T, open Opener) {
	tests := []struct {
		name string
		bad  func(*indicators.ProbeResult)
	}{
		{"empty target", func(r *indicators.ProbeResult) { r.Target = "" }},
		{"NaN phase", func(r *indicators.ProbeResult) { r.Phases = map[string]float64{"total": math.NaN()} }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			bad := probe("https://hue.gov.vn", probeEpoch, true)
			tc.bad(&bad)
			err := s.WriteProbeResults(context.Background(), []indicators.ProbeResult{
				probe("https://danang.gov.vn", probeEpoch, true), bad})
			if err == nil {
				t.Fatalf("batch with %s was accepted", tc.name)
			}
			latest, err := s.LatestProbes(context.Background())
			if err != nil || len(latest) != 0 {
				t.Errorf("after rejected batch LatestProbes = %v, %v; want nothing", probeKeys(latest), err)
			}
		})
	}
}

func testConcurrentWriters(t *testing.T, open Opener) {
	s := open(t)
	const writers, batches, perBatch = 8, 15, 10
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 2*writers+1)
	stop := make(chan struct{})
	// A reader runs alongside: reads must not fail while writes go on.
	var readerDone sync.WaitGroup
	readerDone.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := s.Observations(ctx, store.Query{Indicators: []string{"concurrency"}}); err != nil {
				errs <- fmt.Errorf("read during writes: %w", err)
				return
			}
			if _, err := s.LatestProbes(ctx); err != nil {
				errs <- fmt.Errorf("read probes during writes: %w", err)
				return
			}
		}
	})
	for w := range writers {
		wg.Go(func() {
			agency := fmt.Sprintf("W%02d", w)
			for b := range batches {
				batch := make([]indicators.Observation, perBatch)
				for i := range batch {
					// Each writer owns its agency; each batch its own months.
					batch[i] = ob("concurrency", agency, "2020-01", float64(b*perBatch+i))
					batch[i].Period = batch[i].Period.Add(b*perBatch + i)
				}
				if _, err := s.WriteObservations(ctx, batch); err != nil {
					errs <- fmt.Errorf("writer %d batch %d: %w", w, b, err)
					return
				}
				target := fmt.Sprintf("https://w%02d.gov.vn", w)
				if err := s.WriteProbeResults(ctx, []indicators.ProbeResult{probe(target, probeEpoch.Add(time.Duration(b)*time.Minute), true)}); err != nil {
					errs <- fmt.Errorf("writer %d probe %d: %w", w, b, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	readerDone.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	got := query(t, s, store.Query{History: true})
	if len(got) != writers*batches*perBatch {
		t.Fatalf("stored %d observations, want %d", len(got), writers*batches*perBatch)
	}
	for _, o := range got {
		if o.Revision != 1 {
			t.Fatalf("%s: concurrent writes of distinct series made revision %d", key(o), o.Revision)
		}
	}
	latest, err := s.LatestProbes(ctx)
	if err != nil {
		t.Fatalf("LatestProbes: %v", err)
	}
	if len(latest) != writers {
		t.Fatalf("LatestProbes gave %d targets, want %d", len(latest), writers)
	}
	for _, r := range latest {
		if !r.Time.Equal(probeEpoch.Add((batches - 1) * time.Minute)) {
			t.Errorf("%s: latest at %s, want the last written", r.Target, r.Time)
		}
		hist, err := s.ProbeResults(ctx, r.Target, probeEpoch, probeEpoch.Add(time.Hour))
		if err != nil || len(hist) != batches {
			t.Errorf("%s: %d results in history (%v), want %d", r.Target, len(hist), err, batches)
		}
	}
}

func testCancelled(t *testing.T, open Opener) {
	s := open(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if got, err := s.WriteObservations(ctx, []indicators.Observation{ob("I1", "A1", "2025-01", 1)}); err == nil {
		t.Errorf("WriteObservations with a cancelled context succeeded with %v", keys(got))
	}
	if err := s.WriteProbeResults(ctx, []indicators.ProbeResult{probe("https://hue.gov.vn", probeEpoch, true)}); err == nil {
		t.Error("WriteProbeResults with a cancelled context succeeded")
	}
	if got := query(t, s, store.Query{History: true}); len(got) != 0 {
		t.Errorf("cancelled write stored %v", keys(got))
	}
	latest, err := s.LatestProbes(context.Background())
	if err != nil || len(latest) != 0 {
		t.Errorf("cancelled write stored probes %v (%v)", probeKeys(latest), err)
	}
}

func testClose(t *testing.T, open Opener) {
	s := open(t)
	ctx := context.Background()
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("Ping on an open store: %v", err)
	}
	write(t, s, ob("I1", "A1", "2025-01", 1))
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	calls := map[string]func() error{
		"Ping": func() error { return s.Ping(ctx) },
		"WriteObservations": func() error {
			_, err := s.WriteObservations(ctx, []indicators.Observation{ob("I1", "A1", "2025-02", 1)})
			return err
		},
		"Observations": func() error { _, err := s.Observations(ctx, store.Query{}); return err },
		"WriteProbeResults": func() error {
			return s.WriteProbeResults(ctx, []indicators.ProbeResult{probe("https://hue.gov.vn", probeEpoch, true)})
		},
		"LatestProbes": func() error { _, err := s.LatestProbes(ctx); return err },
		"ProbeResults": func() error {
			_, err := s.ProbeResults(ctx, "https://hue.gov.vn", probeEpoch, probeEpoch.Add(time.Hour))
			return err
		},
		"Close": s.Close,
	}
	for _, name := range slices.Sorted(maps.Keys(calls)) {
		if err := calls[name](); !errors.Is(err, store.ErrClosed) {
			t.Errorf("%s after Close = %v, want an error wrapping store.ErrClosed", name, err)
		}
	}
}
