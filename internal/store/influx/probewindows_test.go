package influx

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/internal/store"
	"github.com/g-oc/goc/internal/store/storetest"
)

// The windows the spool keeps count what the SQLite store keeps as it writes (the same
// probes as its TestStatusGivesUptimeOverTheLastDayWeekAndMonth).
func TestStatusGivesUptimeOverTheLastDayWeekAndMonthFromInfluxDB(t *testing.T) {
	s := openFresh(t)
	ctx := context.Background()
	end := time.Date(2026, 11, 30, 12, 30, 0, 0, time.UTC)
	target := "https://langson.gov.vn/"
	var rs []indicators.ProbeResult
	for h := 40 * 24; h >= 0; h-- {
		at := end.Add(-time.Duration(h) * time.Hour)
		down := (!at.Before(end.AddDate(0, 0, -10)) && at.Before(end.AddDate(0, 0, -9))) || h == 1 || h == 2
		r := indicators.ProbeResult{Target: target, Agency: "P20", Time: at, Success: !down, HTTPStatus: 200,
			Phases: map[string]float64{"total": 0.2}}
		if down {
			r.HTTPStatus, r.Error, r.Phases = 0, "connection refused", nil
		}
		rs = append(rs, r)
	}
	if err := s.WriteProbeResults(ctx, rs); err != nil {
		t.Fatal(err)
	}
	flush(t, s)
	st, err := s.ProbeStatuses(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Statuses) != 1 || !st.AsOf.Equal(store.HourOf(end)) {
		t.Fatalf("statuses as of %s: %+v", st.AsOf, st.Statuses)
	}
	p := st.Statuses[0]
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

func windowResult(target string, at time.Time, ok bool, total float64) indicators.ProbeResult {
	r := indicators.ProbeResult{Target: target, Agency: "P20", Time: at, Success: ok, HTTPStatus: 200,
		Phases: map[string]float64{"total": total}}
	if !ok {
		r.HTTPStatus, r.Error, r.Phases = 0, "connection refused", nil
	}
	return r
}

// TestKeptWindowsEqualTheHistoryInInfluxDB writes random batches (in order, late by up
// to 3 days, older than every window, from a clock far ahead), some held in the spool
// while InfluxDB refuses writes, with a restart of G-OC halfway (results still
// spooled across it), and checks that the windows kept in the spool equal the windows
// counted from the raw history read back from InfluxDB, and the counts InfluxDB's own
// Flux query gives; then again after RebuildProbeWindows, and after a rebuild of a
// spool that had lost its windows.
func TestKeptWindowsEqualTheHistoryInInfluxDB(t *testing.T) {
	start := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	end := start.AddDate(0, 0, 45)
	clock := func() time.Time { return end }
	proxy, held := gated(t, server.URL)
	bucket := server.NewDatabase(t)
	spool := filepath.Join(t.TempDir(), "spool.db")
	open := func() *Store {
		return openOn(t, server, bucket, spool, func(o *Options) { o.URL = proxy; o.Now = clock })
	}
	s := open()
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(7, 2026))
	targets := make([]string, 25)
	for i := range targets {
		targets[i] = fmt.Sprintf("https://p%02d.gov.vn/", i)
	}
	var written []indicators.ProbeResult
	now := start
	restarted := false
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
			// Distinct times per portal: InfluxDB keeps one point per series and time.
			at = at.Add(time.Duration(len(written)+len(batch)) * time.Microsecond)
			batch = append(batch, windowResult(targets[rng.IntN(len(targets))], at, rng.IntN(10) != 0, 0.01+rng.Float64()*3))
		}
		held.Store(rng.IntN(4) == 0) // now and then InfluxDB refuses writes: the batch stays spooled
		if err := s.WriteProbeResults(ctx, batch); err != nil {
			t.Fatal(err)
		}
		written = append(written, batch...)
		if !restarted && now.After(start.AddDate(0, 0, 22)) {
			held.Store(true)
			if err := s.WriteProbeResults(ctx, []indicators.ProbeResult{windowResult(targets[0], now, true, 0.5)}); err != nil {
				t.Fatal(err)
			}
			written = append(written, windowResult(targets[0], now, true, 0.5))
			if points, _ := s.Backlog(); points == 0 {
				t.Fatal("nothing spooled across the restart")
			}
			s.Close()
			held.Store(false)
			s = open()
			restarted = true
		}
		if step%20 == 0 {
			held.Store(false)
			compareWithHistory(t, fmt.Sprintf("step %d (%s)", step, now.Format(time.DateTime)), s, written, end)
		}
	}
	held.Store(false)
	compareWithHistory(t, "at the end, kept as written", s, written, end)
	if err := s.RebuildProbeWindows(ctx); err != nil {
		t.Fatal(err)
	}
	compareWithHistory(t, "after RebuildProbeWindows", s, written, end)
	// A spool whose windows are gone (as one written before they were kept):
	// InfluxDB computes them until a rebuild keeps them again.
	if _, err := s.sp.writer.ExecContext(ctx, `DELETE FROM probe_windows; DELETE FROM probe_hourly; DELETE FROM probe_daily;
		DELETE FROM probe_windows_state; DELETE FROM meta WHERE key = 'windows_of'`); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s = open()
	if kept, err := keepsWindows(ctx, s.sp.readers, s.windowsKey()); err != nil || kept {
		t.Fatalf("a spool with results and no windows claims to keep them: %v %v", kept, err)
	}
	if err := s.RebuildProbeWindows(ctx); err != nil {
		t.Fatal(err)
	}
	compareWithHistory(t, "after a rebuild of a spool without windows", s, written, end)
}

// compareWithHistory checks the statuses against the windows counted from every result
// InfluxDB holds (after sending the spool) and against Flux's own counts.
func compareWithHistory(t *testing.T, when string, s *Store, written []indicators.ProbeResult, clock time.Time) {
	t.Helper()
	ctx := context.Background()
	got, err := s.ProbeStatuses(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if kept, err := keepsWindows(ctx, s.sp.readers, s.windowsKey()); err != nil || !kept {
		t.Fatalf("%s: the spool does not keep the windows (%v)", when, err)
	}
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	targets := map[string]bool{}
	for _, r := range written {
		targets[r.Target] = true
	}
	var history []indicators.ProbeResult
	for target := range targets {
		rs, err := s.ProbeResults(ctx, target, time.Time{}, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		history = append(history, rs...)
	}
	if len(history) != len(written) {
		t.Fatalf("%s: InfluxDB holds %d results, %d were written", when, len(history), len(written))
	}
	want, cur := storetest.WindowsCountedFrom(history, clock)
	if !got.AsOf.Equal(cur) {
		t.Errorf("%s: windows as of %s, the history's newest hour is %s", when, got.AsOf, cur)
	}
	if len(got.Statuses) != len(want) {
		t.Fatalf("%s: %d portals, want %d", when, len(got.Statuses), len(want))
	}
	flux, err := s.fluxWindows(ctx, cur)
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range got.Statuses {
		w, fw := want[st.Latest.Target], flux[st.Latest.Target]
		for _, c := range []struct {
			name            string
			got, want, flux store.ProbeWindow
		}{{"24 h", st.Day, w.Day, fw.Day}, {"7 d", st.Week, w.Week, fw.Week}, {"30 d", st.Month, w.Month, fw.Month}} {
			if c.got.Probes != c.want.Probes || c.got.Successes != c.want.Successes || c.got.Latency != c.want.Latency {
				t.Errorf("%s: %s %s: kept %d/%d probes (latency %v), history %d/%d (%v)", when, st.Latest.Target, c.name,
					c.got.Successes, c.got.Probes, c.got.Latency.Counts, c.want.Successes, c.want.Probes, c.want.Latency.Counts)
			}
			if c.got.Probes != c.flux.Probes || c.got.Successes != c.flux.Successes {
				t.Errorf("%s: %s %s: kept %d/%d probes, InfluxDB's Flux counts %d/%d", when, st.Latest.Target, c.name,
					c.got.Successes, c.got.Probes, c.flux.Successes, c.flux.Probes)
			}
		}
	}
}

// Where InfluxDB computes the windows (a spool that has not kept them from its first
// result, as under a shared ledger), a Flux read of them that fails or outlasts its
// caller is not run again by every later caller: callers of one probes version share
// one read, which goes on when they give up; after a failure the statuses carry the
// last windows read, and the read is tried again only after windowsRetry.
func TestWindowsReadThatFailsIsNotRunAgainByEveryCaller(t *testing.T) {
	u, err := url.Parse(server.URL)
	if err != nil {
		t.Fatal(err)
	}
	var reads atomic.Int64
	var fail atomic.Bool
	slow := make(chan struct{})
	var slowOn atomic.Bool
	rp := httputil.NewSingleHostReverseProxy(u)
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/query") {
			body, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(body))
			if bytes.Contains(body, []byte("reduce(")) { // the windows' query
				reads.Add(1)
				if slowOn.Load() {
					<-slow
				}
				if fail.Load() {
					http.Error(w, "the windows' query failed (the test)", http.StatusInternalServerError)
					return
				}
			}
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(proxy.Close)
	now := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	var clock atomic.Pointer[time.Time]
	clock.Store(&now)
	s := openFresh(t, func(o *Options) { o.URL = proxy.URL; o.Now = func() time.Time { return *clock.Load() } })
	ctx := context.Background()
	if _, err := s.sp.writer.ExecContext(ctx, "DELETE FROM meta WHERE key = 'windows_of'"); err != nil {
		t.Fatal(err)
	}
	write := func(at time.Time) {
		t.Helper()
		if err := s.WriteProbeResults(ctx, []indicators.ProbeResult{windowResult("https://hanoi.gov.vn", at, true, 0.2)}); err != nil {
			t.Fatal(err)
		}
		if err := s.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	dayProbes := func(ctx context.Context) (int, error) {
		st, err := s.ProbeStatuses(ctx)
		if err != nil {
			return 0, err
		}
		if len(st.Statuses) != 1 {
			t.Fatalf("statuses %+v", st)
		}
		return st.Statuses[0].Day.Probes, nil
	}
	write(now.Add(-time.Hour))
	if n, err := dayProbes(ctx); err != nil || n != 1 || reads.Load() != 1 {
		t.Fatalf("first read: %d probes in the day (%v), %d windows queries; want 1, 1", n, err, reads.Load())
	}

	// A caller that gives up does not stop the read: the next caller takes its answer.
	write(now.Add(-30 * time.Minute))
	slowOn.Store(true)
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	if _, err := dayProbes(short); err == nil {
		t.Fatal("a caller whose context ended got an answer while the windows were still being read")
	}
	cancel()
	close(slow) // the server answers, after the caller left
	if n, err := dayProbes(ctx); err != nil || n != 2 || reads.Load() != 2 {
		t.Fatalf("after a caller gave up: %d probes (%v), %d windows queries; want 2, 2", n, err, reads.Load())
	}
	slowOn.Store(false)

	// The query fails: one try, then the last windows until windowsRetry has passed.
	fail.Store(true)
	write(now.Add(-10 * time.Minute))
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if n, err := dayProbes(ctx); err != nil || n != 2 {
				t.Errorf("while the windows cannot be read: %d probes (%v), want the 2 read before", n, err)
			}
		}()
	}
	wg.Wait()
	for range 20 {
		if n, err := dayProbes(ctx); err != nil || n != 2 {
			t.Fatalf("while the windows cannot be read: %d probes (%v), want the 2 read before", n, err)
		}
	}
	if got := reads.Load(); got != 3 {
		t.Fatalf("%d windows queries after the failure, want 3 (one try for 40 callers)", got)
	}
	fail.Store(false)
	later := now.Add(windowsRetry)
	clock.Store(&later)
	if n, err := dayProbes(ctx); err != nil || n != 3 || reads.Load() != 4 {
		t.Fatalf("after windowsRetry: %d probes (%v), %d windows queries; want 3, 4", n, err, reads.Load())
	}
}
