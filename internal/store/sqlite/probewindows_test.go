package sqlite

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/internal/store"
	"github.com/g-oc/goc/internal/store/storetest"
)

func windowResult(target string, at time.Time, ok bool, total float64) indicators.ProbeResult {
	r := indicators.ProbeResult{Target: target, Agency: "P20", Time: at, Success: ok, HTTPStatus: 200,
		Phases: map[string]float64{"total": total}}
	if !ok {
		r.HTTPStatus, r.Error, r.Phases = 0, "connection refused", nil
	}
	return r
}

func TestStatusGivesUptimeOverTheLastDayWeekAndMonth(t *testing.T) {
	end := time.Date(2026, 11, 30, 12, 30, 0, 0, time.UTC)
	s, _ := openTemp(t, WithClock(func() time.Time { return end }))
	ctx := context.Background()
	target := "https://langson.gov.vn/"
	var rs []indicators.ProbeResult
	// One probe an hour for 40 days; down for the whole of the 10th day back, and for
	// the two hours before the last one.
	for h := 40 * 24; h >= 0; h-- {
		at := end.Add(-time.Duration(h) * time.Hour)
		down := (!at.Before(end.AddDate(0, 0, -10)) && at.Before(end.AddDate(0, 0, -9))) || h == 1 || h == 2
		rs = append(rs, windowResult(target, at, !down, 0.2))
	}
	for len(rs) > 0 { // in the sink's batches, so the windows move as they would
		n := min(len(rs), 50)
		if err := s.WriteProbeResults(ctx, rs[:n]); err != nil {
			t.Fatal(err)
		}
		rs = rs[n:]
	}
	st, err := s.ProbeStatuses(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Statuses) != 1 || !st.AsOf.Equal(store.HourOf(end)) {
		t.Fatalf("statuses as of %s: %+v", st.AsOf, st.Statuses)
	}
	p := st.Statuses[0]
	// Day: the hours 12:00 back to 13:00 the day before, 24 probes, 2 down.
	// Week: 30 Nov and the 6 days before, 6×24 + 13 probes, 2 down.
	// Month: 1-30 Nov, 29×24 + 13, of which 24 + 2 down (the 10th day back is 20-21 Nov
	// at 12:30: 24 probes from 20 Nov 12:30 to 21 Nov 11:30).
	for _, c := range []struct {
		name           string
		w              store.ProbeWindow
		probes, failed int
	}{
		{"24 h", p.Day, 24, 2},
		{"7 d", p.Week, 6*24 + 13, 2},
		{"30 d", p.Month, 29*24 + 13, 24 + 2},
	} {
		if c.w.Probes != c.probes || c.w.Probes-c.w.Successes != c.failed {
			t.Errorf("%s window: %d probes, %d failed; want %d, %d", c.name, c.w.Probes, c.w.Probes-c.w.Successes, c.probes, c.failed)
		}
		if m := c.w.MedianSeconds(); m == nil || *m < 0.18 || *m > 0.22 {
			t.Errorf("%s median %v, want 0.2 s within 10%%", c.name, m)
		}
	}
	if !p.Latest.Success || !p.Latest.Time.Equal(end) {
		t.Errorf("latest %+v", p.Latest)
	}
}

// TestIncrementalProbeWindowsEqualRecomputed writes random batches (in order, late,
// older than every window, from a clock that jumps ahead) and checks after each that
// the windows kept as written equal those recomputed from the whole history, both by
// a plain count here and by RebuildProbeWindows.
func TestIncrementalProbeWindowsEqualRecomputed(t *testing.T) {
	start := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	end := start.AddDate(0, 0, 45)
	s, _ := openTemp(t, WithClock(func() time.Time { return end }))
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(12, 2026))
	targets := make([]string, 30)
	for i := range targets {
		targets[i] = fmt.Sprintf("https://p%02d.gov.vn/", i)
	}
	var written []indicators.ProbeResult
	now := start
	for step := 0; now.Before(end); step++ {
		now = now.Add(time.Duration(rng.IntN(7*60)) * time.Minute) // up to 7 h between batches
		var batch []indicators.ProbeResult
		for range 1 + rng.IntN(40) {
			at := now.Add(-time.Duration(rng.IntN(30)) * time.Minute)
			switch rng.IntN(20) {
			case 0: // late by up to 3 days
				at = now.Add(-time.Duration(rng.IntN(72*60)) * time.Minute)
			case 1: // older than every window
				at = now.AddDate(0, 0, -31-rng.IntN(5))
			case 2: // a bad clock far ahead: history only
				at = end.Add(48 * time.Hour)
			}
			batch = append(batch, windowResult(targets[rng.IntN(len(targets))], at, rng.IntN(10) != 0, 0.01+rng.Float64()*3))
		}
		if err := s.WriteProbeResults(ctx, batch); err != nil {
			t.Fatal(err)
		}
		written = append(written, batch...)
		if step%15 == 0 || !now.Before(end) {
			compareWindows(t, fmt.Sprintf("step %d (%s), kept as written", step, now.Format(time.DateTime)), s, written, end)
		}
	}
	if err := s.RebuildProbeWindows(ctx); err != nil {
		t.Fatal(err)
	}
	compareWindows(t, "after RebuildProbeWindows", s, written, end)
}

// compareWindows checks the store's windows against a count over every result written.
func compareWindows(t *testing.T, when string, s *Store, written []indicators.ProbeResult, clock time.Time) {
	t.Helper()
	want, cur := storetest.WindowsCountedFrom(written, clock)
	got, err := s.ProbeStatuses(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !got.AsOf.Equal(cur) {
		t.Errorf("%s: windows as of %s, want %s", when, got.AsOf, cur)
	}
	if len(got.Statuses) != len(want) {
		t.Fatalf("%s: %d portals, want %d", when, len(got.Statuses), len(want))
	}
	for _, st := range got.Statuses {
		w := want[st.Latest.Target]
		for _, c := range []struct {
			name      string
			got, want store.ProbeWindow
		}{{"24 h", st.Day, w.Day}, {"7 d", st.Week, w.Week}, {"30 d", st.Month, w.Month}} {
			if c.got != c.want {
				t.Errorf("%s: %s %s: %d/%d probes (latency %v), want %d/%d (%v)", when, st.Latest.Target, c.name,
					c.got.Successes, c.got.Probes, c.got.Latency.Counts, c.want.Successes, c.want.Probes, c.want.Latency.Counts)
			}
		}
	}
}

// TestProbesVersionMovesWithEveryResultAndRebuild: the probe list is kept while the
// version holds, so every change of what it shows must move it, and a read must not.
func TestProbesVersionMovesWithEveryResultAndRebuild(t *testing.T) {
	end := time.Date(2026, 11, 30, 12, 30, 0, 0, time.UTC)
	s, _ := openTemp(t, WithClock(func() time.Time { return end }))
	ctx := context.Background()
	version := func() string {
		t.Helper()
		v, err := s.ProbesVersion(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	seen := map[string]string{}
	saw := func(v, when string) {
		t.Helper()
		if before, ok := seen[v]; ok {
			t.Errorf("%s: version %s, the same as %s", when, v, before)
		}
		seen[v] = when
	}
	saw(version(), "empty store")
	steps := []struct {
		name string
		do   func() error
	}{
		{"a result", func() error {
			return s.WriteProbeResults(ctx, []indicators.ProbeResult{windowResult("https://a.gov.vn/", end.Add(-time.Hour), true, 0.2)})
		}},
		{"a late result (history and windows only)", func() error {
			return s.WriteProbeResults(ctx, []indicators.ProbeResult{windowResult("https://a.gov.vn/", end.Add(-3*time.Hour), false, 0)})
		}},
		{"the windows rebuilt", func() error { return s.RebuildProbeWindows(ctx) }},
		{"pruned to nothing, then a result", func() error {
			if _, err := s.PruneProbeResults(ctx, end.Add(time.Hour)); err != nil {
				return err
			}
			return s.WriteProbeResults(ctx, []indicators.ProbeResult{windowResult("https://b.gov.vn/", end, true, 0.3)})
		}},
	}
	for _, st := range steps {
		if err := st.do(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		v := version()
		saw(v, st.name)
		if _, err := s.ProbeStatuses(ctx); err != nil {
			t.Fatal(err)
		}
		if again := version(); again != v {
			t.Errorf("after %s: a read moved the version from %s to %s", st.name, v, again)
		}
	}
}
