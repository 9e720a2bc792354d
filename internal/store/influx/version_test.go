package influx

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/indicators/period"
	"github.com/g-oc/goc/internal/redistest"
	"github.com/g-oc/goc/internal/store"
)

// gated puts a reverse proxy in front of srv whose writes can be refused (503, which
// the flusher retries later) while reads pass: a store opened on its URL keeps what it
// acknowledges in its spool until the gate opens. A real influxd cannot be told to
// refuse writes while it answers queries; the proxy stands in for that moment only.
func gated(t *testing.T, srv string) (proxyURL string, gate *atomic.Bool) {
	t.Helper()
	proxyURL, gate, _ = gatedOrDown(t, srv)
	return proxyURL, gate
}

// gatedOrDown is gated with a second switch that refuses every request, reads too: what
// G-OC sees while InfluxDB is away, without stopping the shared influxd.
func gatedOrDown(t *testing.T, srv string) (proxyURL string, gate, down *atomic.Bool) {
	t.Helper()
	u, err := url.Parse(srv)
	if err != nil {
		t.Fatal(err)
	}
	gate, down = &atomic.Bool{}, &atomic.Bool{}
	rp := httputil.NewSingleHostReverseProxy(u)
	p := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if down.Load() {
			http.Error(w, "InfluxDB is away (the test)", http.StatusServiceUnavailable)
			return
		}
		if gate.Load() && strings.HasSuffix(r.URL.Path, "/write") {
			http.Error(w, "held by the test", http.StatusServiceUnavailable)
			return
		}
		// The request is read whole before it is passed on, as nginx does by default
		// (proxy_request_buffering): a Go proxy that streams it races the server's
		// discard of the body's end against its own copy when InfluxDB answers the
		// moment it has the query, and then cuts the answer short ("unexpected EOF"),
		// a fault of the test's proxy, not of G-OC or InfluxDB.
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(p.Close)
	return p.URL, gate, down
}

// versionOf reads a figures (or, probes, probes) version, failing the test on error.
func versionOf(t *testing.T, s *Store, probes bool) string {
	t.Helper()
	var v string
	var err error
	if probes {
		v, err = s.ProbesVersion(context.Background())
	} else {
		v, err = s.FiguresVersion(context.Background())
	}
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// every read a figure can come from: latest, published latest, history, published
// history.
func readEverything(t *testing.T, s store.Store) {
	t.Helper()
	for _, q := range []store.Query{{}, {Published: true}, {History: true}, {History: true, Published: true}} {
		if _, err := s.Observations(context.Background(), q); err != nil {
			t.Fatal(err)
		}
	}
}

func review(t *testing.T, s store.Store, agency, per string, to store.State) {
	t.Helper()
	r := store.Review{Agency: agency, Period: period.MustParse(per), To: to, Who: "reviewer"}
	if to == store.Returned {
		r.Comment = "kiểm tra lại / check"
	}
	if _, err := s.Review(context.Background(), []store.Review{r}); err != nil {
		t.Fatal(err)
	}
}

// The figures version of one G-OC on InfluxDB moves with every new revision and every
// review, and with nothing else: not with reads, not with a repeat, not when the spool
// sends what it holds to InfluxDB (reads saw it already).
func TestFiguresVersionMovesWithEveryRevisionAndReviewOnly(t *testing.T) {
	for _, c := range []struct {
		name string
		opt  func(*Options)
	}{{"latest from InfluxDB", func(*Options) {}}, {"latest from the ledger", func(o *Options) { o.LatestFromLedger = true }}} {
		t.Run(c.name, func(t *testing.T) {
			s := openFresh(t, c.opt)
			ctx := context.Background()
			seen := map[string]string{}
			step := func(what string, moves bool, prev string) string {
				t.Helper()
				v := versionOf(t, s, false)
				if moves && v == prev {
					t.Fatalf("%s: the version stayed %q", what, v)
				}
				if !moves && v != prev {
					t.Fatalf("%s: the version moved from %q to %q", what, prev, v)
				}
				if moves {
					if earlier, ok := seen[v]; ok {
						t.Fatalf("%s: version %q was given before, after %s", what, v, earlier)
					}
					seen[v] = what
				}
				return v
			}
			v := versionOf(t, s, false)
			seen[v] = "opening"
			readEverything(t, s)
			v = step("reads", false, v)
			mustWrite(t, s, obs("P20", "2026-Q1", 61), obs("P01", "2026-Q1", 40))
			v = step("a submission", true, v)
			readEverything(t, s)
			v = step("reads after it", false, v)
			if err := s.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			v = step("sending the spool to InfluxDB", false, v)
			mustWrite(t, s, obs("P20", "2026-Q1", 61))
			v = step("a repeat of the latest content", false, v)
			review(t, s, "P20", "2026-Q1", store.Approved)
			v = step("an approval", true, v)
			review(t, s, "P01", "2026-Q1", store.Returned)
			v = step("a return", true, v)
			mustWrite(t, s, obs("P01", "2026-Q1", 40))
			v = step("the returned submission sent again unchanged", true, v)
			mustWrite(t, s, obs("P20", "2026-Q1", 62))
			v = step("a new revision", true, v)
			if err := s.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			readEverything(t, s)
			step("sending and reading again", false, v)
		})
	}
}

// A restart never gives back a version given before it: the data may have changed
// meanwhile (InfluxDB restored, another G-OC writing).
func TestFiguresVersionAfterARestartIsNew(t *testing.T) {
	bucket := server.NewDatabase(t)
	spool := filepath.Join(t.TempDir(), "spool.db")
	first := openOn(t, server, bucket, spool)
	mustWrite(t, first, obs("P20", "2026-Q1", 61))
	before, probesBefore := versionOf(t, first, false), versionOf(t, first, true)
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	again := openOn(t, server, bucket, spool)
	if v := versionOf(t, again, false); v == before {
		t.Errorf("figures version %q again after a restart", v)
	}
	if v := versionOf(t, again, true); v == probesBefore {
		t.Errorf("probes version %q again after a restart", v)
	}
}

// While InfluxDB is away, latest values come from the spool's ledger, which need not be
// what InfluxDB holds: figures made from them are never kept, because each such read
// moves the version.
func TestFiguresReadWhileInfluxDBIsAwayAreNeverKept(t *testing.T) {
	bucket := server.NewDatabase(t)
	spool := filepath.Join(t.TempDir(), "spool.db")
	s := openOn(t, server, bucket, spool)
	mustWrite(t, s, obs("P20", "2026-Q1", 61))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	off := away(t, bucket, spool)
	v := versionOf(t, off, false)
	got, err := off.Observations(context.Background(), store.Query{})
	if err != nil || len(got) != 1 {
		t.Fatalf("latest while InfluxDB is away: %v, %v", got, err)
	}
	if after := versionOf(t, off, false); after == v {
		t.Fatalf("the version stayed %q over a read answered from the ledger", v)
	}
	// Published latest values never need InfluxDB: reading them keeps the version.
	v = versionOf(t, off, false)
	if _, err := off.Observations(context.Background(), store.Query{Published: true}); err != nil {
		t.Fatal(err)
	}
	if after := versionOf(t, off, false); after != v {
		t.Fatalf("the version moved from %q to %q over a published read from the spool", v, after)
	}
}

// The probes version moves when a result is stored (the spool's windows count it at
// once) and again when it reaches InfluxDB (where other replicas' statuses count it),
// and stays over reads.
func TestProbesVersionMovesWhenAResultIsStoredAndWhenItIsSent(t *testing.T) {
	proxy, held := gated(t, server.URL)
	s := openFresh(t, func(o *Options) { o.URL = proxy })
	ctx := context.Background()
	at := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
	v := versionOf(t, s, true)
	if _, err := s.ProbeStatuses(ctx); err != nil {
		t.Fatal(err)
	}
	if after := versionOf(t, s, true); after != v {
		t.Fatalf("reading moved the probes version from %q to %q", v, after)
	}
	held.Store(true)
	if err := s.WriteProbeResults(ctx, []indicators.ProbeResult{{Target: "https://hanoi.gov.vn", Agency: "P01", Time: at, Success: true, HTTPStatus: 200,
		Phases: map[string]float64{"total": 0.2}}}); err != nil {
		t.Fatal(err)
	}
	stored := versionOf(t, s, true)
	if stored == v {
		t.Fatal("a stored result left the probes version")
	}
	if st, err := s.ProbeStatuses(ctx); err != nil || len(st.Statuses) != 1 || st.Statuses[0].Day.Probes != 1 {
		t.Fatalf("statuses while the result waits in the spool: %+v, %v", st, err)
	}
	if after := versionOf(t, s, true); after != stored {
		t.Fatalf("reading moved the probes version from %q to %q", stored, after)
	}
	held.Store(false)
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	sent := versionOf(t, s, true)
	if sent == stored {
		t.Fatal("a result sent to InfluxDB left the probes version where it was when the result was only spooled")
	}
	st, err := s.ProbeStatuses(ctx)
	if err != nil || len(st.Statuses) != 1 || st.Statuses[0].Day.Probes != 1 {
		t.Fatalf("statuses after sending: %+v, %v", st, err)
	}
	if after := versionOf(t, s, true); after != sent {
		t.Fatalf("reading moved the probes version from %q to %q", sent, after)
	}
	if f := versionOf(t, s, false); f == "" {
		t.Fatal("no figures version")
	}
}

// Replicas sharing a bucket through the ledger in Redis: what one stores, reviews or
// sends to InfluxDB moves the other's version, which its own reads leave alone.
func TestFiguresVersionMovesWithAnotherReplicasChangesThroughRedis(t *testing.T) {
	rs := redistest.Start(t, "")
	bucket := server.NewDatabase(t)
	proxy, held := gated(t, server.URL)
	// a writes through the gate: its revisions can be held in its spool, in Redis but not
	// yet in InfluxDB.
	a := openOn(t, server, bucket, filepath.Join(t.TempDir(), "a.db"), withLedger(redisLedger(t, rs, false)), func(o *Options) { o.URL = proxy })
	b := openOn(t, server, bucket, filepath.Join(t.TempDir(), "b.db"), withLedger(redisLedger(t, rs, false)))
	ctx := context.Background()
	v := versionOf(t, b, false)
	readEverything(t, b)
	if after := versionOf(t, b, false); after != v {
		t.Fatalf("b's own reads moved its version from %q to %q", v, after)
	}
	held.Store(true)
	mustWrite(t, a, obs("P20", "2026-Q1", 61))
	written := versionOf(t, b, false)
	if written == v {
		t.Fatal("a's new revision left b's version")
	}
	if got, err := b.Observations(ctx, store.Query{}); err != nil || len(got) != 1 {
		t.Fatalf("b reads the latest %v, %v; want a's revision, from Redis", got, err)
	}
	if got, err := b.Observations(ctx, store.Query{History: true}); err != nil || len(got) != 0 {
		t.Fatalf("b reads the history %v, %v; want nothing while a holds it", got, err)
	}
	if after := versionOf(t, b, false); after != written {
		t.Fatalf("b's reads moved its version from %q to %q", written, after)
	}
	held.Store(false)
	if err := a.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	sent := versionOf(t, b, false)
	if sent == written {
		t.Fatal("a's revision reaching InfluxDB (where b's history reads find it) left b's version")
	}
	if got, err := b.Observations(ctx, store.Query{History: true}); err != nil || len(got) != 1 {
		t.Fatalf("b's history: %v, %v", got, err)
	}
	review(t, a, "P20", "2026-Q1", store.Approved)
	approved := versionOf(t, b, false)
	if approved == sent {
		t.Fatal("an approval on a left b's version")
	}
	readEverything(t, b)
	if after := versionOf(t, b, false); after != approved {
		t.Fatalf("b's reads moved its version from %q to %q", approved, after)
	}
	// A probe result a sends moves b's probes version: b's statuses read InfluxDB.
	pv := versionOf(t, b, true)
	held.Store(true)
	if err := a.WriteProbeResults(ctx, []indicators.ProbeResult{{Target: "https://hanoi.gov.vn", Agency: "P01",
		Time: time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC), Success: true, HTTPStatus: 200}}); err != nil {
		t.Fatal(err)
	}
	if after := versionOf(t, b, true); after != pv {
		t.Fatalf("a's result, held in a's spool where b cannot read it, moved b's probes version from %q to %q", pv, after)
	}
	held.Store(false)
	if err := a.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if after := versionOf(t, b, true); after == pv {
		t.Fatal("a's probe result in InfluxDB left b's probes version")
	}
}

// The portals' statuses are kept in the spool as results are written and read from it:
// with InfluxDB away they still count every result, the new ones too.
func TestProbeStatusesAreKeptPerProbesVersion(t *testing.T) {
	proxy, _, down := gatedOrDown(t, server.URL)
	s := openFresh(t, func(o *Options) { o.URL = proxy; o.Timeout = 2 * time.Second })
	ctx := context.Background()
	at := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
	result := func(at time.Time) []indicators.ProbeResult {
		return []indicators.ProbeResult{{Target: "https://hanoi.gov.vn", Agency: "P01", Time: at, Success: true, HTTPStatus: 200,
			Phases: map[string]float64{"total": 0.2}}}
	}
	if err := s.WriteProbeResults(ctx, result(at)); err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	dayProbes := func(what string) int {
		t.Helper()
		st, err := s.ProbeStatuses(ctx)
		if err != nil || len(st.Statuses) != 1 {
			t.Fatalf("%s: statuses %+v, %v", what, st, err)
		}
		return st.Statuses[0].Day.Probes
	}
	if n := dayProbes("InfluxDB up"); n != 1 {
		t.Fatalf("InfluxDB up: %d probes in the day's window, want 1", n)
	}
	down.Store(true)
	if n := dayProbes("InfluxDB away, nothing new"); n != 1 {
		t.Fatalf("InfluxDB away, nothing new: %d probes in the day's window, want the 1 read before (kept)", n)
	}
	if err := s.WriteProbeResults(ctx, result(at.Add(time.Minute))); err != nil {
		t.Fatal(err)
	}
	if n := dayProbes("InfluxDB away, a new result"); n != 2 {
		t.Fatalf("InfluxDB away, a new result: %d probes in the day's window, want 2 (counted in the spool)", n)
	}
	down.Store(false)
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if n := dayProbes("InfluxDB back"); n != 2 {
		t.Fatalf("InfluxDB back: %d probes in the day's window, want 2", n)
	}
}
