package influx

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/indicators/period"
	"github.com/g-oc/goc/internal/secret"
	"github.com/g-oc/goc/internal/store"
	"github.com/g-oc/goc/internal/store/influx/influxtest"
)

func obs(agency, per string, v float64) indicators.Observation {
	return indicators.Observation{
		SeriesKey: indicators.SeriesKey{Indicator: "dossiers_fully_online", Agency: agency, Period: period.MustParse(per)},
		Value:     v, Source: indicators.FromSubmission, Submitter: "officer",
	}
}

func mustWrite(t *testing.T, s store.Store, o ...indicators.Observation) []indicators.Observation {
	t.Helper()
	got, err := s.WriteObservations(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// unreachable is an InfluxDB URL nothing listens on: what G-OC sees while InfluxDB is
// down. (The fault test in outage_test.go stops a real influxd; the tests here only
// need it away, and starting influxd costs seconds.)
func unreachable(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}

// away opens the store on spool with InfluxDB unreachable.
func away(t testing.TB, bucket, spool string) *Store {
	t.Helper()
	s, err := Open(context.Background(), Options{URL: unreachable(t), Bucket: bucket, Spool: spool, Timeout: 2 * time.Second})
	if err != nil {
		t.Fatalf("Open with InfluxDB away and the ledger loaded: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestWhileInfluxDBIsDownLatestValuesComeFromTheLedgerAndHistoryFailsClearly(t *testing.T) {
	bucket, spool := server.NewDatabase(t), spoolPath(t)
	s := openOn(t, server, bucket, spool)
	ctx := context.Background()
	mustWrite(t, s, obs("P20", "2025-Q1", 40), obs("P20", "2025-Q2", 45), obs("N79", "2025-Q2", 70))
	flush(t, s)
	s.Close()

	down := away(t, bucket, spool)
	second := mustWrite(t, down, obs("P20", "2025-Q2", 47))
	if second[0].Revision != 2 {
		t.Fatalf("correction during the outage got revision %d, want 2", second[0].Revision)
	}
	latest, err := down.Observations(ctx, store.Query{Agencies: []string{"P20"}})
	if err != nil {
		t.Fatalf("latest values with InfluxDB down: %v", err)
	}
	if len(latest) != 2 || latest[1].Value != 47 || latest[1].Revision != 2 {
		t.Errorf("latest of P20 with InfluxDB down = %+v, want 2025-Q1 and 2025-Q2 r2 = 47", latest)
	}
	if _, err := down.Observations(ctx, store.Query{History: true}); err == nil || !strings.Contains(err.Error(), down.opt.URL) {
		t.Errorf("history with InfluxDB down = %v, want an error naming InfluxDB at %s", err, down.opt.URL)
	}
	down.Close()

	s = openOn(t, server, bucket, spool)
	flush(t, s)
	hist, err := s.Observations(ctx, store.Query{History: true, Agencies: []string{"P20"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 3 || hist[2].Revision != 2 || hist[1].Value != 45 {
		t.Errorf("history after the outage = %+v, want 2025-Q1 r1, 2025-Q2 r1 (45), 2025-Q2 r2", hist)
	}
}

func TestNewSpoolLearnsRevisionsFromTheBucket(t *testing.T) {
	bucket := server.NewDatabase(t)
	a := openOn(t, server, bucket, spoolPath(t))
	mustWrite(t, a, obs("P20", "2025-Q2", 45), obs("P20", "2025-Q2", 46))
	if err := a.WriteProbeResults(context.Background(), []indicators.ProbeResult{
		{Target: "https://langson.gov.vn", Agency: "P20", Time: time.Date(2025, 11, 3, 7, 0, 0, 0, time.UTC), Success: true}}); err != nil {
		t.Fatal(err)
	}
	flush(t, a)
	a.Close()

	// Another machine, another spool file, the same bucket.
	b := openOn(t, server, bucket, spoolPath(t))
	if got := mustWrite(t, b, obs("P20", "2025-Q2", 46)); got[0].Revision != 2 || got[0].Submitter != "officer" {
		t.Errorf("resending the latest value gave %+v, want the stored revision 2", got[0])
	}
	if got := mustWrite(t, b, obs("P20", "2025-Q2", 47)); got[0].Revision != 3 {
		t.Errorf("a correction gave revision %d, want 3", got[0].Revision)
	}
	// A result older than the target's newest stays out of the latest state.
	if err := b.WriteProbeResults(context.Background(), []indicators.ProbeResult{
		{Target: "https://langson.gov.vn", Agency: "P20", Time: time.Date(2025, 11, 3, 6, 0, 0, 0, time.UTC)}}); err != nil {
		t.Fatal(err)
	}
	flush(t, b)
	latest, err := b.LatestProbes(context.Background())
	if err != nil || len(latest) != 1 || !latest[0].Success {
		t.Errorf("LatestProbes = %+v, %v; want the 07:00 success", latest, err)
	}
}

func TestSpoolStillHoldingPointsForAnotherBucketIsRefused(t *testing.T) {
	first, second := server.NewDatabase(t), server.NewDatabase(t)
	spool := spoolPath(t)
	openOn(t, server, first, spool).Close()
	down := away(t, first, spool)
	mustWrite(t, down, obs("P20", "2025-Q2", 45))
	down.Close()
	_, err := Open(context.Background(), Options{URL: server.URL, Bucket: second, Spool: spool})
	if err == nil || !strings.Contains(err.Error(), "still holds 1 points") || !strings.Contains(err.Error(), first) {
		t.Fatalf("Open on another bucket with points spooled for %s: %v", first, err)
	}
	// Back on its own bucket it sends them.
	s := openOn(t, server, first, spool)
	flush(t, s)
}

func TestFirstOpenOfASpoolNeedsInfluxDB(t *testing.T) {
	_, err := Open(context.Background(), Options{URL: unreachable(t), Bucket: "goc/autogen", Spool: spoolPath(t), Timeout: 2 * time.Second})
	if err == nil || !strings.Contains(err.Error(), "InfluxDB must answer the first time") {
		t.Fatalf("first Open with InfluxDB down = %v, want the reason", err)
	}
}

// A batch InfluxDB refuses for good (here a field type conflict, made by writing a
// string where G-OC writes a number) is set aside, counted and logged; the batches
// after it still go through. Its revision leaves what reads see, so the years of the
// figures it was in are marked again: a set kept while it waited is not served.
func TestMalformedBatchIsSetAsideAndLaterBatchesStillFlow(t *testing.T) {
	bucket := server.NewDatabase(t)
	db, _, _ := strings.Cut(bucket, "/")
	poison := obs("P01", "2025-Q1", 1)
	line := fmt.Sprintf(`goc_observation,agency=P01,indicator=dossiers_fully_online,periodicity=quarterly,source=submission value="text" %d`,
		poison.Period.Start(nil).UnixNano())
	resp, err := http.Post(server.URL+"/write?db="+url.QueryEscape(db), "text/plain", strings.NewReader(line))
	if err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("write the conflicting point: %v %v", resp, err)
	}
	resp.Body.Close()
	reg := prometheus.NewRegistry()
	var logs syncBuffer
	proxy, held := gated(t, server.URL)
	held.Store(true)
	s := openOn(t, server, bucket, spoolPath(t), func(o *Options) {
		o.URL = proxy
		o.Registerer = reg
		o.Logger = newLogger(&logs)
	})
	mustWrite(t, s, poison)
	set := store.FigureSet{View: "all", Indicator: poison.Indicator}
	keepEmpty(t, s, set)
	held.Store(false)
	// In another shard: a field's type is fixed per measurement in each shard.
	mustWrite(t, s, obs("P02", "1995-Q1", 2))
	flush(t, s)
	if k, err := s.KeptFigures(context.Background(), set, "v1"); err != nil || !k.Valid || !slices.Equal(k.Stale, []int{1995, 2025}) {
		t.Errorf("figures kept while the refused revision waited: valid %v, years marked %v (%v), want 1995 and 2025", k.Valid, k.Stale, err)
	}
	if got := gauge(t, reg, "goc_spool_rejected_points_total"); got != 1 {
		t.Errorf("goc_spool_rejected_points_total = %v, want 1", got)
	}
	if !strings.Contains(logs.String(), "rejected") {
		t.Errorf("the refused batch was not logged:\n%s", logs.String())
	}
	got, err := s.Observations(context.Background(), store.Query{Agencies: []string{"P02"}, History: true})
	if err != nil || len(got) != 1 {
		t.Errorf("the batch after the refused one: %v, %v", got, err)
	}
	var kept int
	if err := s.sp.readers.QueryRow("SELECT count(*) FROM rejected WHERE error LIKE '%conflict%'").Scan(&kept); err != nil || kept != 1 {
		t.Errorf("rejected batches kept in the spool: %d (%v), want 1 naming the conflict", kept, err)
	}
}

func TestInfluxDB18WithAuthenticationTakesUserPasswordAsToken(t *testing.T) {
	srv := influxtest.Start(t, influxtest.WithAuth("admin", "admin-password"))
	bucket := srv.NewDatabase(t)
	db, _, _ := strings.Cut(bucket, "/")
	// Not an admin: a user with read and write on G-OC's database only, as the README
	// tells operators to create.
	for _, stmt := range []string{`CREATE USER "goc" WITH PASSWORD 'pa:ss\'word'`, fmt.Sprintf(`GRANT ALL ON %q TO "goc"`, db)} {
		if err := srv.Exec(context.Background(), stmt); err != nil {
			t.Fatal(err)
		}
	}
	s := openOn(t, srv, bucket, spoolPath(t), func(o *Options) { o.Token = secret.New("goc:pa:ss'word") })
	mustWrite(t, s, obs("P20", "2025-Q2", 45))
	flush(t, s)
	if got, err := s.Observations(context.Background(), store.Query{History: true}); err != nil || len(got) != 1 {
		t.Fatalf("read with credentials: %v, %v", got, err)
	}
	_, err := Open(context.Background(), Options{URL: srv.URL, Bucket: bucket, Spool: spoolPath(t),
		Token: secret.New("goc:wrong-password")})
	if err == nil {
		t.Fatal("Open with a wrong password succeeded")
	}
	if strings.Contains(err.Error(), "wrong-password") {
		t.Errorf("the error shows the token: %v", err)
	}
}

func TestUseAfterCloseIsErrClosedForFlushToo(t *testing.T) {
	s := openFresh(t)
	s.Close()
	if err := s.Flush(context.Background()); !errors.Is(err, store.ErrClosed) {
		t.Errorf("Flush after Close = %v, want store.ErrClosed", err)
	}
}

func newLogger(w *syncBuffer) *slog.Logger { return slog.New(slog.NewTextHandler(w, nil)) }

// Idempotency keys survive a restart of G-OC (they live in the spool file), and the
// first response to a key wins.
func TestIdempotencyKeyKeepsTheFirstResponseAcrossARestart(t *testing.T) {
	bucket, spool := server.NewDatabase(t), spoolPath(t)
	ctx := context.Background()
	s := openOn(t, server, bucket, spool)
	if _, _, _, found, err := s.IdempotentResponse(ctx, "lang-son", "k1"); err != nil || found {
		t.Fatalf("unknown key: found %v, %v", found, err)
	}
	fp, status, body, err := s.SaveIdempotentResponse(ctx, "lang-son", "k1", "sha-a", 201, []byte(`{"ok":1}`))
	if err != nil || fp != "sha-a" || status != 201 || string(body) != `{"ok":1}` {
		t.Fatalf("first save kept %q %d %s, %v", fp, status, body, err)
	}
	if fp, status, _, err := s.SaveIdempotentResponse(ctx, "lang-son", "k1", "sha-b", 422, []byte(`{}`)); err != nil || fp != "sha-a" || status != 201 {
		t.Errorf("second save kept %q %d, %v; want the first response", fp, status, err)
	}
	s.Close()
	s = openOn(t, server, bucket, spool)
	fp, status, body, found, err := s.IdempotentResponse(ctx, "lang-son", "k1")
	if err != nil || !found || fp != "sha-a" || status != 201 || string(body) != `{"ok":1}` {
		t.Errorf("after a restart: %q %d %s found=%v, %v", fp, status, body, found, err)
	}
	if _, _, _, found, _ := s.IdempotentResponse(ctx, "another-token", "k1"); found {
		t.Error("a key is visible to another token")
	}
}

// One acknowledged batch can be far larger than InfluxDB takes in one request (25 MB on
// 1.8): it is sent in several, and leaves the spool only when all have gone through.
func TestLargeBatchIsSentInSeveralRequests(t *testing.T) {
	s := openFresh(t, func(o *Options) { o.maxWriteBytes = 64 << 10; o.ChunkPoints = 100 })
	var batch []indicators.Observation
	for i := range 2000 {
		batch = append(batch, obs(fmt.Sprintf("X%04d", i), "2025-Q3", float64(i)))
	}
	mustWrite(t, s, batch...)
	flush(t, s)
	if n := fluxCount(t, s, measObservation); n != len(batch) {
		t.Errorf("InfluxDB holds %d revisions, want %d", n, len(batch))
	}
}
