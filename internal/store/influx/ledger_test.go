package influx

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/indicators/period"
	"github.com/g-oc/goc/internal/redistest"
	"github.com/g-oc/goc/internal/store"
	"github.com/g-oc/goc/internal/store/redisstate"
	"github.com/g-oc/goc/internal/store/storetest"
)

// redisLedger connects, as a replica would, to rs and returns its shared state and
// ledger; both close when the test ends.
func redisLedger(t testing.TB, rs *redistest.Server, auto bool) (*redisstate.State, *redisstate.Ledger) {
	t.Helper()
	sh, err := redisstate.Open(context.Background(), redisstate.Options{Addr: rs.Addr})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sh.Close() })
	return sh, sh.Ledger(auto)
}

func withLedger(sh *redisstate.State, l *redisstate.Ledger) func(*Options) {
	return func(o *Options) { o.Shared, o.Ledger = sh, l }
}

// The conformance suite with the revision ledger and the workflow in a real Redis:
// what several replicas share must answer as one G-OC's spool does.
func TestConformanceWithTheLedgerInRedis(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		return openFresh(t, withLedger(redisLedger(t, redistest.Start(t, ""), false)))
	})
}

// Again with every write in InfluxDB before the next read: history and published
// history come from InfluxDB, filtered by the approvals in Redis.
func TestConformanceWithTheLedgerInRedisReadingFromInfluxDB(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		return flushing{openFresh(t, withLedger(redisLedger(t, redistest.Start(t, ""), false)))}
	})
}

func TestConformanceWithAutoApproveAndTheLedgerInRedis(t *testing.T) {
	storetest.RunAutoApprove(t, func(t *testing.T) store.Store {
		return openFresh(t, withLedger(redisLedger(t, redistest.Start(t, ""), true)))
	})
}

// replicas opens n stores on one bucket, each with its own spool, all on one Redis.
func replicas(t *testing.T, rs *redistest.Server, n int) []*Store {
	t.Helper()
	bucket := server.NewDatabase(t)
	out := make([]*Store, n)
	for i := range out {
		out[i] = openOn(t, server, bucket, filepath.Join(t.TempDir(), "spool.db"), withLedger(redisLedger(t, rs, false)))
	}
	return out
}

// Two replicas revising one series at once hand out distinct revision numbers, and
// every revision either acknowledged is in InfluxDB with the figure it was sent with:
// none overwrote another.
func TestTwoReplicasRevisingOneSeriesAtOnceNeverShareARevision(t *testing.T) {
	rs := redistest.Start(t, "")
	r := replicas(t, rs, 2)
	ctx := context.Background()
	const each = 40
	var mu sync.Mutex
	sent := map[int]float64{} // revision -> value acknowledged with it
	var wg sync.WaitGroup
	for i, s := range r {
		wg.Go(func() {
			for k := range each {
				v := float64(1000*(i+1) + k)
				out, err := s.WriteObservations(ctx, []indicators.Observation{{
					SeriesKey: indicators.SeriesKey{Indicator: "open_data", Agency: "P20", Period: period.MustParse("2025-09")},
					Value:     v, Source: indicators.FromSubmission, Submitter: fmt.Sprint("replica-", i)}})
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				if prev, dup := sent[out[0].Revision]; dup {
					t.Errorf("revision %d handed out twice: %v and %v", out[0].Revision, prev, v)
				}
				sent[out[0].Revision] = v
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(sent) != 2*each {
		t.Fatalf("%d distinct revisions for %d acknowledged writes", len(sent), 2*each)
	}
	for _, s := range r {
		if err := s.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	for i, s := range r {
		hist, err := s.Observations(ctx, store.Query{History: true})
		if err != nil {
			t.Fatal(err)
		}
		if len(hist) != 2*each {
			t.Errorf("replica %d reads %d revisions from InfluxDB, want %d", i, len(hist), 2*each)
		}
		for _, o := range hist {
			if sent[o.Revision] != o.Value {
				t.Errorf("replica %d: revision %d holds %v, acknowledged with %v", i, o.Revision, o.Value, sent[o.Revision])
			}
		}
		latest, err := s.Observations(ctx, store.Query{})
		if err != nil || len(latest) != 1 || latest[0].Revision != 2*each {
			t.Errorf("replica %d: latest = %+v, %v; want revision %d", i, latest, err, 2*each)
		}
	}
}

// A submission taken by one replica is approved on another, and every replica then
// shows the same public figure and the same trail.
func TestAReviewerApprovesOnAnotherReplicaThanTheOneThatTookTheSubmission(t *testing.T) {
	rs := redistest.Start(t, "")
	r := replicas(t, rs, 3)
	ctx := context.Background()
	p := period.MustParse("2025-Q3")
	got, err := r[0].WriteObservations(ctx, []indicators.Observation{{
		SeriesKey: indicators.SeriesKey{Indicator: "open_data", Agency: "P20", Period: p},
		Value:     41, Source: indicators.FromSubmission, Submitter: "lang-son"}})
	if err != nil {
		t.Fatal(err)
	}
	subs, err := r[1].Submissions(ctx, store.SubmissionQuery{States: []store.State{store.Submitted}})
	if err != nil || len(subs) != 1 {
		t.Fatalf("replica 1 sees %+v, %v; want the submission replica 0 took", subs, err)
	}
	if _, err := r[1].Review(ctx, []store.Review{{Agency: "P20", Period: p, To: store.Approved, Who: "btttt", Seen: subs[0].Seq}}); err != nil {
		t.Fatal(err)
	}
	// The same approval again, on the third replica, conflicts: it is approved already.
	if _, err := r[2].Review(ctx, []store.Review{{Agency: "P20", Period: p, To: store.Approved, Who: "btttt"}}); !errors.Is(err, store.ErrConflict) {
		t.Errorf("a second approval on replica 2: %v, want a conflict", err)
	}
	for i, s := range r {
		pub, err := s.Observations(ctx, store.Query{Published: true})
		if err != nil || len(pub) != 1 || pub[0].Value != 41 || pub[0].Revision != got[0].Revision {
			t.Errorf("replica %d publishes %+v, %v", i, pub, err)
		}
		tr, err := s.Trail(ctx, "P20", p)
		if err != nil || len(tr) != 2 || tr[1].To != store.Approved || tr[1].Who != "btttt" {
			t.Errorf("replica %d trail %+v, %v", i, tr, err)
		}
	}
}

// With Redis down nothing is acknowledged: the write fails with store.ErrUnavailable
// (the API's 503) and the spool queues nothing; /readyz says not ready. Redis run as
// the README asks (appendfsync always) keeps, through a SIGKILL, every revision it
// acknowledged, so numbering carries on where it was.
func TestWithRedisDownWritesAreRefusedAndAfterItsRestartNumberingCarriesOn(t *testing.T) {
	rs := redistest.StartDurable(t, "")
	s := replicas(t, rs, 1)[0]
	ctx := context.Background()
	obs := func(v float64) []indicators.Observation {
		return []indicators.Observation{{SeriesKey: indicators.SeriesKey{Indicator: "open_data", Agency: "P20", Period: period.MustParse("2025")},
			Value: v, Source: indicators.FromSubmission, Submitter: "lang-son"}}
	}
	if _, err := s.WriteObservations(ctx, obs(1)); err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	rs.Stop()
	if _, err := s.WriteObservations(ctx, obs(2)); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("write with Redis down: %v, want store.ErrUnavailable", err)
	}
	if points, _ := s.Backlog(); points != 0 {
		t.Errorf("a refused write left %d points in the spool", points)
	}
	if err := s.Ping(ctx); err == nil {
		t.Error("Ping passes with Redis down")
	}
	if _, err := s.Review(ctx, []store.Review{{Agency: "P20", Period: period.MustParse("2025"), To: store.Approved, Who: "btttt"}}); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("review with Redis down: %v, want store.ErrUnavailable", err)
	}
	if err := rs.Restart(); err != nil {
		t.Fatal(err)
	}
	// The client's pool redials within a second or so of Redis answering again.
	var out []indicators.Observation
	var err error
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		if out, err = s.WriteObservations(ctx, obs(2)); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil || out[0].Revision != 2 {
		t.Fatalf("after Redis restarted: %+v, %v; want revision 2", out, err)
	}
}

// Should Redis lose its data, replicas refuse to number against an empty ledger
// (which would hand out revision 1 again and overwrite InfluxDB's); a replica started
// again loads the ledger from InfluxDB, and numbering carries on after it.
func TestALostLedgerIsRefusedThenLoadedAgainFromInfluxDB(t *testing.T) {
	rs := redistest.Start(t, "")
	bucket := server.NewDatabase(t)
	sh, l := redisLedger(t, rs, false)
	spool := filepath.Join(t.TempDir(), "spool.db")
	a := openOn(t, server, bucket, spool, withLedger(sh, l))
	ctx := context.Background()
	obs := func(v float64) []indicators.Observation {
		return []indicators.Observation{{SeriesKey: indicators.SeriesKey{Indicator: "open_data", Agency: "P20", Period: period.MustParse("2025")},
			Value: v, Source: indicators.FromSubmission, Submitter: "lang-son"}}
	}
	for v := range 3 {
		if _, err := a.WriteObservations(ctx, obs(float64(v))); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := sh.Client().FlushDB(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := a.WriteObservations(ctx, obs(9)); !errors.Is(err, redisstate.ErrNotLoaded) {
		t.Fatalf("write after Redis lost the ledger: %v, want ErrNotLoaded", err)
	}
	// Replica a started again on its spool: the spool's copy of the ledger stopped when
	// sharing began, so the ledger comes from InfluxDB's history.
	a.Close()
	a = openOn(t, server, bucket, spool, withLedger(redisLedger(t, rs, false)))
	out, err := a.WriteObservations(ctx, obs(9))
	if err != nil || out[0].Revision != 4 {
		t.Fatalf("after reloading: %+v, %v; want revision 4", out, err)
	}
	if pub, err := a.Observations(ctx, store.Query{Published: true}); err != nil || len(pub) != 1 || pub[0].Revision != 3 {
		t.Errorf("published after reloading: %+v, %v; want revision 3, published as loaded", pub, err)
	}
}

// One G-OC that becomes several replicas carries its spool's ledger and workflow into
// Redis: what waited for review still waits (and is not public), what was approved
// stays published with its trail, and numbering carries on, on every replica.
func TestASingleGOCBecomingReplicasCarriesItsReviewsIntoRedis(t *testing.T) {
	bucket := server.NewDatabase(t)
	spool := filepath.Join(t.TempDir(), "spool.db")
	one := openOn(t, server, bucket, spool)
	ctx := context.Background()
	ob := func(per string, v float64) []indicators.Observation {
		return []indicators.Observation{{SeriesKey: indicators.SeriesKey{Indicator: "open_data", Agency: "P20", Period: period.MustParse(per)},
			Value: v, Source: indicators.FromSubmission, Submitter: "lang-son"}}
	}
	for _, w := range []struct {
		per string
		v   float64
	}{{"2025-Q1", 10}, {"2025-Q1", 11}, {"2025-Q2", 20}} {
		if _, err := one.WriteObservations(ctx, ob(w.per, w.v)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := one.Review(ctx, []store.Review{{Agency: "P20", Period: period.MustParse("2025-Q1"), To: store.Approved, Who: "btttt"}}); err != nil {
		t.Fatal(err)
	}
	one.Close()

	rs := redistest.Start(t, "")
	a := openOn(t, server, bucket, spool, withLedger(redisLedger(t, rs, false)))
	b := openOn(t, server, bucket, filepath.Join(t.TempDir(), "spool.db"), withLedger(redisLedger(t, rs, false)))
	for name, s := range map[string]*Store{"a (the former single G-OC)": a, "b (new)": b} {
		pub, err := s.Observations(ctx, store.Query{Published: true})
		if err != nil || len(pub) != 1 || pub[0].Period.String() != "2025-Q1" || pub[0].Value != 11 {
			t.Errorf("replica %s publishes %+v, %v; want 2025-Q1 = 11 only", name, pub, err)
		}
		waiting, err := s.Submissions(ctx, store.SubmissionQuery{States: []store.State{store.Submitted}})
		if err != nil || len(waiting) != 1 || waiting[0].Period.String() != "2025-Q2" {
			t.Errorf("replica %s: waiting %+v, %v; want 2025-Q2", name, waiting, err)
		}
		tr, err := s.Trail(ctx, "P20", period.MustParse("2025-Q1"))
		if err != nil || len(tr) != 3 || tr[2].To != store.Approved {
			t.Errorf("replica %s: trail of 2025-Q1 %+v, %v; want submitted, submitted, approved", name, tr, err)
		}
	}
	out, err := b.WriteObservations(ctx, ob("2025-Q1", 12))
	if err != nil || out[0].Revision != 3 {
		t.Fatalf("next revision of 2025-Q1 through b: %+v, %v; want 3", out, err)
	}
	subs, err := a.Review(ctx, []store.Review{{Agency: "P20", Period: period.MustParse("2025-Q2"), To: store.Approved, Who: "btttt"}})
	if err != nil {
		t.Fatal(err)
	}
	// Steps taken in Redis are numbered after the spool's.
	tr, err := b.Trail(ctx, "P20", period.MustParse("2025-Q1"))
	if err != nil || len(tr) != 4 {
		t.Fatalf("trail of 2025-Q1 after the new revision: %+v, %v", tr, err)
	}
	if !(tr[2].Seq < tr[3].Seq && tr[3].Seq < subs[0].Seq) {
		t.Errorf("step numbers do not grow: approval %d, revision through b %d, approval of 2025-Q2 %d", tr[2].Seq, tr[3].Seq, subs[0].Seq)
	}
}
