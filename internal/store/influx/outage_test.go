package influx

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/indicators/period"
	"github.com/g-oc/goc/internal/secret"
	"github.com/g-oc/goc/internal/store"
	"github.com/g-oc/goc/internal/store/influx/influxtest"
)

// traffic keeps submissions and probe results arriving from two goroutines, as
// reporting officers and the prober would, and records everything acknowledged.
type traffic struct {
	mu     sync.Mutex
	acked  map[revKey]indicators.Observation // every new revision acknowledged
	latest map[indicators.SeriesKey]indicators.Observation
	probes map[string]indicators.ProbeResult // target@time acknowledged
	round  int
	// probeRound numbers probe rounds; each is one second after the last.
	probeRound int
	failures   []error
}

type revKey struct {
	indicators.SeriesKey
	rev int
}

func newTraffic() *traffic {
	return &traffic{acked: map[revKey]indicators.Observation{}, latest: map[indicators.SeriesKey]indicators.Observation{},
		probes: map[string]indicators.ProbeResult{}}
}

// run writes until stop is closed, then returns.
func (tr *traffic) run(t *testing.T, s store.Store, stop <-chan struct{}) {
	var wg sync.WaitGroup
	ctx := context.Background()
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			tr.mu.Lock()
			round := tr.round
			tr.round++
			tr.mu.Unlock()
			batch := submission(round)
			got, err := s.WriteObservations(ctx, batch)
			tr.mu.Lock()
			if err != nil {
				tr.failures = append(tr.failures, fmt.Errorf("submission %d: %w", round, err))
			}
			for i, o := range got {
				prev, seen := tr.latest[o.SeriesKey]
				want := 1
				if seen {
					want = prev.Revision + 1
					if prev.SameContent(&batch[i]) {
						want = prev.Revision
					}
				}
				if o.Revision != want {
					tr.failures = append(tr.failures, fmt.Errorf("submission %d: %s/%s/%s got revision %d, want %d",
						round, o.Indicator, o.Agency, o.Period, o.Revision, want))
				}
				tr.latest[o.SeriesKey] = o
				tr.acked[revKey{o.SeriesKey, o.Revision}] = o
			}
			tr.mu.Unlock()
			time.Sleep(5 * time.Millisecond)
		}
	})
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			tr.mu.Lock()
			n := tr.probeRound
			tr.probeRound++
			tr.mu.Unlock()
			at := time.Date(2025, 11, 3, 7, 0, 0, 0, time.UTC).Add(time.Duration(n) * time.Second)
			var rs []indicators.ProbeResult
			for p := range 5 {
				rs = append(rs, indicators.ProbeResult{Target: fmt.Sprintf("https://xa-%d.gov.vn", p), Agency: "X", Time: at,
					Success: n%3 != 0, HTTPStatus: 200, Phases: map[string]float64{"total": float64(n) / 100}})
			}
			err := s.WriteProbeResults(ctx, rs)
			tr.mu.Lock()
			if err != nil {
				tr.failures = append(tr.failures, fmt.Errorf("probe round %d: %w", n, err))
			} else {
				for _, r := range rs {
					tr.probes[probeID(r)] = r
				}
			}
			tr.mu.Unlock()
			time.Sleep(5 * time.Millisecond)
		}
	})
	wg.Wait()
	for _, err := range tr.failures {
		t.Error(err)
	}
	tr.failures = nil
}

func probeID(r indicators.ProbeResult) string {
	return r.Target + "@" + r.Time.UTC().Format(time.RFC3339Nano)
}

// submission is round n of the officers' traffic: three communes report a new month,
// one corrects an earlier month (a new revision), and one resends an earlier month
// unchanged (a repeat, which must not become a revision).
func submission(n int) []indicators.Observation {
	per := period.MustParse("2020-01").Add(n)
	mk := func(agency string, p period.Period, v float64) indicators.Observation {
		return indicators.Observation{
			SeriesKey: indicators.SeriesKey{Indicator: "dossiers_fully_online", Agency: agency, Period: p},
			Value:     v, Numerator: new(v), Denominator: new(100.0),
			Source: indicators.FromSubmission, Submitter: "officer-" + agency,
		}
	}
	out := []indicators.Observation{mk("X1", per, 50), mk("X2", per, 60), mk("X3", per, 70)}
	if n > 0 {
		out = append(out, mk("X1", per.Add(-n/2-1), float64(51+n))) // a correction
		out = append(out, mk("X2", per.Add(-1), 60))                // a repeat of last round
	}
	return out
}

// The fault test, against a real influxd: stop InfluxDB while submissions and
// probe results keep arriving, restart G-OC's store too, start InfluxDB again, and
// check that every acknowledged observation and probe result is in InfluxDB exactly
// once, with revisions numbered as if InfluxDB had never gone.
func TestInfluxDBOutageAndRestartLoseNothingAndDuplicateNothing(t *testing.T) {
	srv := influxtest.Start(t)
	bucket := srv.NewDatabase(t)
	spool := spoolPath(t)
	var logs syncBuffer
	const token = "admin:s3cret-token-value"
	reg := prometheus.NewRegistry()
	open := func() *Store {
		s, err := Open(context.Background(), Options{URL: srv.URL, Bucket: bucket, Spool: spool,
			Token: secret.New(token), Registerer: reg, Timeout: 5 * time.Second,
			Logger: newLogger(&logs)})
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		return s
	}
	tr := newTraffic()
	phase := func(s store.Store, d time.Duration, during func()) {
		stop := make(chan struct{})
		done := make(chan struct{})
		go func() { tr.run(t, s, stop); close(done) }()
		time.Sleep(d / 2)
		if during != nil {
			during()
		}
		time.Sleep(d / 2)
		close(stop)
		<-done
	}
	count := func() (int, int) {
		tr.mu.Lock()
		defer tr.mu.Unlock()
		return len(tr.acked), len(tr.probes)
	}

	s := open()
	phase(s, 600*time.Millisecond, nil)
	obsUp, probesUp := count()

	// InfluxDB goes away while traffic keeps coming.
	phase(s, 800*time.Millisecond, func() {
		if err := srv.Stop(); err != nil {
			t.Fatal(err)
		}
	})
	obsDown1, probesDown1 := count()
	pending, age := s.Backlog()
	if pending == 0 {
		t.Fatal("nothing is spooled although InfluxDB is down")
	}
	perr := s.Ping(context.Background())
	if perr == nil || !strings.Contains(perr.Error(), "spool") {
		t.Errorf("Ping with InfluxDB down = %v, want an error that mentions the spool", perr)
	}
	if got := gauge(t, reg, "goc_spool_pending_points"); got != float64(pending) {
		t.Errorf("goc_spool_pending_points = %v, want %d", got, pending)
	}
	if got := gauge(t, reg, "goc_spool_oldest_age_seconds"); got <= 0 {
		t.Errorf("goc_spool_oldest_age_seconds = %v with %d points waiting %s, want > 0", got, pending, age)
	}

	// G-OC restarts while InfluxDB is still down, and traffic goes on.
	if err := s.Close(); err != nil {
		t.Fatalf("Close with InfluxDB down: %v", err)
	}
	s = open()
	t.Cleanup(func() { s.Close() })
	phase(s, 600*time.Millisecond, nil)
	obsDown2, probesDown2 := count()

	// InfluxDB comes back; the spool drains on its own.
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	flush(t, s)
	if got := gauge(t, reg, "goc_spool_pending_points"); got != 0 {
		t.Errorf("goc_spool_pending_points = %v after the spool drained, want 0", got)
	}
	if err := s.Ping(context.Background()); err != nil {
		t.Errorf("Ping after InfluxDB came back: %v", err)
	}

	obsTotal, probesTotal := count()
	t.Logf("acknowledged observations (new revisions): %d with InfluxDB up, %d while it was stopped and down, %d after G-OC restarted during the outage; %d in all",
		obsUp, obsDown1-obsUp, obsDown2-obsDown1, obsTotal)
	t.Logf("acknowledged probe results: %d with InfluxDB up, %d while it was stopped and down, %d after the restart; %d in all",
		probesUp, probesDown1-probesUp, probesDown2-probesDown1, probesTotal)
	if obsDown1 == obsUp || obsDown2 == obsDown1 {
		t.Fatal("no observation was acknowledged during the outage: the test did not test it")
	}

	// Count points in InfluxDB itself, not through the store's merge.
	inInflux := fluxCount(t, s, measObservation)
	latestInInflux := fluxCount(t, s, measObservationLatest)
	probesInInflux := fluxCount(t, s, measProbe)
	t.Logf("in InfluxDB: %d observation revisions, %d latest values, %d probe results", inInflux, latestInInflux, probesInInflux)
	if inInflux != obsTotal {
		t.Errorf("InfluxDB holds %d observation revisions, %d were acknowledged", inInflux, obsTotal)
	}
	if latestInInflux != len(tr.latest) {
		t.Errorf("InfluxDB holds %d latest values, %d series were written", latestInInflux, len(tr.latest))
	}
	if probesInInflux != probesTotal {
		t.Errorf("InfluxDB holds %d probe results, %d were acknowledged", probesInInflux, probesTotal)
	}

	// Every acknowledged revision reads back exactly once, as acknowledged.
	hist, err := s.Observations(context.Background(), store.Query{History: true})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[revKey]int{}
	for _, o := range hist {
		k := revKey{o.SeriesKey, o.Revision}
		seen[k]++
		want, ok := tr.acked[k]
		if !ok {
			t.Errorf("%s/%s/%s r%d is stored but was never acknowledged", o.Indicator, o.Agency, o.Period, o.Revision)
			continue
		}
		if o.Value != want.Value || o.Batch != want.Batch || !o.ReceivedAt.Equal(want.ReceivedAt) {
			t.Errorf("%s/%s/%s r%d reads back as %+v, acknowledged as %+v", o.Indicator, o.Agency, o.Period, o.Revision, o, want)
		}
	}
	for k := range tr.acked {
		if seen[k] != 1 {
			t.Errorf("%s/%s/%s r%d acknowledged, stored %d times", k.Indicator, k.Agency, k.Period, k.rev, seen[k])
		}
	}
	latest, err := s.Observations(context.Background(), store.Query{})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range latest {
		if want := tr.latest[o.SeriesKey]; o.Revision != want.Revision || o.Value != want.Value {
			t.Errorf("latest %s/%s/%s = r%d %v, want r%d %v", o.Indicator, o.Agency, o.Period, o.Revision, o.Value, want.Revision, want.Value)
		}
	}
	for target, want := range latestProbesOf(tr.probes) {
		got, err := s.ProbeResults(context.Background(), target, time.Time{}, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != want {
			t.Errorf("%s: %d results stored, %d acknowledged", target, len(got), want)
		}
	}
	if strings.Contains(logs.String(), "s3cret") || strings.Contains(fmt.Sprint(perr), "s3cret") {
		t.Errorf("the token leaked into logs or errors:\n%s", logs.String())
	}
	if !strings.Contains(logs.String(), "spooling") {
		t.Errorf("the outage was not logged:\n%s", logs.String())
	}
}

func latestProbesOf(probes map[string]indicators.ProbeResult) map[string]int {
	out := map[string]int{}
	for _, r := range probes {
		out[r.Target]++
	}
	return out
}

// fluxCount counts the points of one measurement in InfluxDB (one field each).
func fluxCount(t *testing.T, s *Store, meas string) int {
	t.Helper()
	field := recordField
	flux := fmt.Sprintf(`from(bucket: %s) |> range(start: 1900-01-01T00:00:00Z, stop: 2201-01-01T00:00:00Z)
	|> filter(fn: (r) => r._measurement == %s and r._field == %s) |> group() |> count()`,
		fluxString(s.opt.Bucket), fluxString(meas), fluxString(field))
	res, err := s.query.Query(context.Background(), flux)
	if err != nil {
		t.Fatalf("count %s: %v", meas, err)
	}
	defer res.Close()
	n := 0
	for res.Next() {
		n += int(asInt(res.Record().Value()))
	}
	if res.Err() != nil {
		t.Fatalf("count %s: %v", meas, res.Err())
	}
	return n
}

func gauge(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			m := mf.GetMetric()[0]
			if m.GetGauge() != nil {
				return m.GetGauge().GetValue()
			}
			return m.GetCounter().GetValue()
		}
	}
	t.Fatalf("metric %s is not registered", name)
	return 0
}

// syncBuffer is a bytes.Buffer safe for the flusher and the test at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
