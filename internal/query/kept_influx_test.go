package query_test

import (
	"context"
	"path/filepath"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/internal/demo"
	"github.com/g-oc/goc/internal/query"
	"github.com/g-oc/goc/internal/store"
	"github.com/g-oc/goc/internal/store/influx"
	"github.com/g-oc/goc/internal/store/influx/influxtest"
)

// The same property on a real InfluxDB 1.8 through G-OC's InfluxDB store, whose
// figures version comes from its spool (and the process's epoch): the demo history
// published as loaded and sent to InfluxDB, later submissions spooled and sent as the
// flusher goes. With latest values read through Flux (the reviewer's figures come
// from InfluxDB and the spool together) progress is compared; with latest values from
// the ledger every read compareReads compares, rankings and cards too.
func TestKeptFiguresOnInfluxDBEqualHistoryAfterRandomWritesApprovalsAndMergers(t *testing.T) {
	ctx := context.Background()
	srv := influxtest.Start(t)
	cat, reg := indicators.DefaultCatalogue(), indicators.DefaultRegistry()
	history := demo.History(cat, reg, testNow)
	for _, c := range []struct {
		name       string
		fromLedger bool
	}{{"latest through Flux", false}, {"latest from the ledger", true}} {
		t.Run(c.name, func(t *testing.T) {
			bucket := srv.NewDatabase(t)
			spool := filepath.Join(t.TempDir(), "spool.db")
			loaded, err := influx.Open(ctx, influx.Options{URL: srv.URL, Bucket: bucket, Spool: spool, AutoApprove: true})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := loaded.WriteObservations(ctx, history); err != nil {
				t.Fatal(err)
			}
			if err := loaded.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			if err := loaded.Close(); err != nil {
				t.Fatal(err)
			}
			st, err := influx.Open(ctx, influx.Options{URL: srv.URL, Bucket: bucket, Spool: spool, LatestFromLedger: c.fromLedger})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			clock := func() time.Time { return testNow }
			kept := query.New(st, cat, reg, clock)
			fresh := query.New(historyOnly{st}, cat, reg, clock)
			if c.fromLedger {
				codes := []string{"dossiers_fully_online", "work_records_online"}
				keptFiguresEqualHistory(t, st, codes, func(when string) { t.Helper(); compareReads(t, ctx, when, kept, fresh, codes) })
				return
			}
			// Rolled up from the history through Flux on every request, rankings and
			// cards take minutes on InfluxDB 1.8: progress of one indicator is compared.
			const code = "work_records_online"
			keptFiguresEqualHistory(t, st, []string{code}, func(when string) {
				t.Helper()
				for _, v := range []struct {
					name        string
					kept, fresh *query.Service
				}{
					{"public", kept.PublicView(), fresh.PublicView()},
					{"reviewer", kept.For(query.Audience{All: true}), fresh.For(query.Audience{All: true})},
				} {
					got, err := v.kept.ProgressOfAll(ctx, code, 2025, testNow)
					if err != nil {
						t.Fatal(err)
					}
					want, err := v.fresh.ProgressOfAll(ctx, code, 2025, testNow)
					if err != nil {
						t.Fatal(err)
					}
					sameJSON(t, when+", "+v.name+": every agency on "+code, got, want)
					gotVN, err := v.kept.Progress(ctx, code, "VN", 2025, indicators.Commune)
					if err != nil {
						t.Fatal(err)
					}
					wantVN, err := v.fresh.Progress(ctx, code, "VN", 2025, indicators.Commune)
					if err != nil {
						t.Fatal(err)
					}
					sameJSON(t, when+", "+v.name+": national commune figure of "+code, gotVN, wantVN)
				}
			})
		})
	}
}

// countingInflux counts the observation reads that reach the InfluxDB store.
type countingInflux struct {
	*influx.Store
	reads atomic.Int64
}

func (c *countingInflux) Observations(ctx context.Context, q store.Query) ([]indicators.Observation, error) {
	c.reads.Add(1)
	return c.Store.Observations(ctx, q)
}

// On InfluxDB, whose spool keeps only the figures some reader has computed, a
// reviewer's first request after the first start (a new spool) would roll up the
// indicator's whole history through Flux (seconds at national scale): the warm-up
// computes a reviewer's figures too, so that after it progress of
// every agency and national progress, for the public and for a reviewer, read nothing,
// and what a reviewer gets equals the figures rolled up from the history, submissions
// waiting for review included.
func TestWarmUpOnInfluxDBLeavesAReviewersFirstRequestsNothingToRead(t *testing.T) {
	ctx := context.Background()
	srv := influxtest.Start(t)
	cat, reg := indicators.DefaultCatalogue(), indicators.DefaultRegistry()
	bucket := srv.NewDatabase(t)
	spool := filepath.Join(t.TempDir(), "spool.db")
	loaded, err := influx.Open(ctx, influx.Options{URL: srv.URL, Bucket: bucket, Spool: spool, AutoApprove: true})
	if err != nil {
		t.Fatal(err)
	}
	history := demo.History(cat, reg, testNow)
	if _, err := loaded.WriteObservations(ctx, history); err != nil {
		t.Fatal(err)
	}
	if err := loaded.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := loaded.Close(); err != nil {
		t.Fatal(err)
	}
	opened, err := influx.Open(ctx, influx.Options{URL: srv.URL, Bucket: bucket, Spool: spool})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { opened.Close() })
	// New revisions waiting for review: a reviewer's figures are not the public's.
	const code = "work_records_online"
	var waiting []indicators.Observation
	for _, o := range history {
		if o.Indicator == code && o.Period.Year == 2025 && len(waiting) < 20 {
			o.Revision, o.ReceivedAt, o.Batch, o.Submitter = 0, time.Time{}, "", "test"
			o.Value = 100 - o.Value
			waiting = append(waiting, o)
		}
	}
	if len(waiting) == 0 {
		t.Fatalf("the demo history has no %s in 2025", code)
	}
	if _, err := opened.WriteObservations(ctx, waiting); err != nil {
		t.Fatal(err)
	}
	st := &countingInflux{Store: opened}
	clock := func() time.Time { return testNow }
	q := query.New(st, cat, reg, clock)
	if err := q.WarmUp(ctx, indicators.DefaultRankingMethod()); err != nil {
		t.Fatal(err)
	}
	st.reads.Store(0)
	reviewer := q.For(query.Audience{All: true})
	var got []any
	for _, view := range []*query.Service{q.PublicView(), reviewer} {
		for _, ind := range cat.All() {
			all, err := view.ProgressOfAll(ctx, ind.Code, 2025, testNow)
			if err != nil {
				t.Fatal(err)
			}
			vn, err := view.Progress(ctx, ind.Code, reg.Root(), 2025, "")
			if err != nil {
				t.Fatal(err)
			}
			if view == reviewer && ind.Code == code {
				got = []any{all, vn}
			}
		}
	}
	if n := st.reads.Load(); n != 0 {
		t.Errorf("the first requests after the warm-up read InfluxDB %d times, want 0", n)
	}
	fresh := query.New(historyOnly{opened}, cat, reg, clock).For(query.Audience{All: true})
	wantAll, err := fresh.ProgressOfAll(ctx, code, 2025, testNow)
	if err != nil {
		t.Fatal(err)
	}
	wantVN, err := fresh.Progress(ctx, code, reg.Root(), 2025, "")
	if err != nil {
		t.Fatal(err)
	}
	sameJSON(t, "a reviewer's progress of every agency on "+code+" after the warm-up", got[0], wantAll)
	sameJSON(t, "a reviewer's national progress on "+code+" after the warm-up", got[1], wantVN)
	public, err := q.PublicView().ProgressOfAll(ctx, code, 2025, testNow)
	if err != nil {
		t.Fatal(err)
	}
	if reflect.DeepEqual(public, got[0]) {
		t.Error("the reviewer's progress equals the public's: the revisions waiting for review show nothing")
	}
}

// The restart property of the SQLite store's kept figures (keptAcrossRestarts) on
// InfluxDB, whose figures are kept in the spool: latest values through Flux, so a
// reviewer's figures are read from InfluxDB and the spool together, and the history
// sent to InfluxDB as the flusher goes. Rolled up from the whole history through Flux
// on every request, rankings and cards take minutes here: the kept figures are compared
// with the recomputed ones, and the reads they answer in the other InfluxDB test above.
func TestKeptFiguresInTheSpoolEqualHistoryAcrossRestartsWritesApprovalsAndMergers(t *testing.T) {
	ctx := context.Background()
	srv := influxtest.Start(t)
	bucket := srv.NewDatabase(t)
	spool := filepath.Join(t.TempDir(), "spool.db")
	loadInflux(t, srv, bucket, spool)
	keptAcrossRestarts(t, func() store.Store {
		st, err := influx.Open(ctx, influx.Options{URL: srv.URL, Bucket: bucket, Spool: spool})
		if err != nil {
			t.Fatal(err)
		}
		return st
	}, false)
}

// loadInflux writes the demo history through a store on bucket and spool that publishes
// as it writes, sends it to InfluxDB and closes the store.
func loadInflux(t *testing.T, srv *influxtest.Server, bucket, spool string) {
	t.Helper()
	ctx := context.Background()
	loaded, err := influx.Open(ctx, influx.Options{URL: srv.URL, Bucket: bucket, Spool: spool, AutoApprove: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := loaded.WriteObservations(ctx, demo.History(indicators.DefaultCatalogue(), indicators.DefaultRegistry(), testNow)); err != nil {
		t.Fatal(err)
	}
	if err := loaded.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := loaded.Close(); err != nil {
		t.Fatal(err)
	}
}

// recordingInflux records the observation reads that reach the InfluxDB store.
type recordingInflux struct {
	*influx.Store
	mu    sync.Mutex
	reads []store.Query
}

func (r *recordingInflux) Observations(ctx context.Context, q store.Query) ([]indicators.Observation, error) {
	r.mu.Lock()
	r.reads = append(r.reads, q)
	r.mu.Unlock()
	return r.Store.Observations(ctx, q)
}

// taken returns the reads recorded so far and forgets them.
func (r *recordingInflux) taken() []store.Query {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.reads
	r.reads = nil
	return out
}

// What the spool keeps is what makes a restart cheap on InfluxDB: after one G-OC has
// computed the figures (as its warm-up does) and stopped, the next one's first
// requests, with no warm-up, read no observation at all, for the public or for a
// reviewer, from InfluxDB or the spool; a revision written and not read before the
// stop makes them read its indicator's year alone, and what they answer equals the
// figures rolled up from the history.
func TestAFirstReadAfterARestartOnInfluxDBReadsOnlyTheYearsWrittenSince(t *testing.T) {
	ctx := context.Background()
	srv := influxtest.Start(t)
	cat, reg := indicators.DefaultCatalogue(), indicators.DefaultRegistry()
	bucket := srv.NewDatabase(t)
	spool := filepath.Join(t.TempDir(), "spool.db")
	loadInflux(t, srv, bucket, spool)
	clock := func() time.Time { return testNow }
	open := func() *recordingInflux {
		t.Helper()
		st, err := influx.Open(ctx, influx.Options{URL: srv.URL, Bucket: bucket, Spool: spool})
		if err != nil {
			t.Fatal(err)
		}
		return &recordingInflux{Store: st}
	}
	const code = "work_records_online"
	// Progress of every agency and national progress of two indicators, one written
	// before the stop and one not, for the public and for a reviewer: what the first
	// visitors after a start ask for. (Every indicator would do the same, slower.)
	firstRequests := func(svc *query.Service) []any {
		t.Helper()
		var got []any
		for _, view := range []*query.Service{svc.PublicView(), svc.For(query.Audience{All: true})} {
			for _, ind := range []string{"dossiers_fully_online", code} {
				all, err := view.ProgressOfAll(ctx, ind, 2025, testNow)
				if err != nil {
					t.Fatal(err)
				}
				vn, err := view.Progress(ctx, ind, reg.Root(), 2025, "")
				if err != nil {
					t.Fatal(err)
				}
				if ind == code {
					got = append(got, all, vn)
				}
			}
		}
		return got
	}
	first := open()
	firstRequests(query.New(first, cat, reg, clock))
	// A reviewer's revision of 2025, spooled and not read before the stop.
	obs, err := first.Observations(ctx, store.Query{Indicators: []string{code}, Agencies: []string{"P20"},
		From: yearStartUTC(2025), To: yearStartUTC(2026)})
	if err != nil || len(obs) == 0 {
		t.Fatalf("no figure of P20 in 2025 to revise (%v)", err)
	}
	o := obs[len(obs)-1]
	o.Revision, o.ReceivedAt, o.Batch, o.Submitter, o.Value = 0, time.Time{}, "", "test", 100-o.Value
	o.Numerator, o.Denominator = nil, nil
	if _, err := first.WriteObservations(ctx, []indicators.Observation{o}); err != nil {
		t.Fatal(err)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}

	for _, c := range []struct {
		name    string
		written bool
	}{{"after a stop with a revision written since the figures were kept", true}, {"after a stop with nothing written since", false}} {
		st := open()
		got := firstRequests(query.New(st, cat, reg, clock))
		reads := st.taken()
		for _, q := range reads {
			if !c.written || !slices.Equal(q.Indicators, []string{code}) || q.From.Before(yearStartUTC(2025)) || q.To.IsZero() || q.To.After(yearStartUTC(2026)) {
				t.Errorf("%s: the first requests read %+v; want no read but of %s in 2025", c.name, q, code)
			}
		}
		if c.written && len(reads) == 0 {
			t.Errorf("%s: the first requests read nothing: the revision written before the stop is not in them", c.name)
		}
		t.Logf("%s: %d observation reads", c.name, len(reads))
		fresh := query.New(historyOnly{st.Store}, cat, reg, clock)
		var want []any
		for _, view := range []*query.Service{fresh.PublicView(), fresh.For(query.Audience{All: true})} {
			all, err := view.ProgressOfAll(ctx, code, 2025, testNow)
			if err != nil {
				t.Fatal(err)
			}
			vn, err := view.Progress(ctx, code, reg.Root(), 2025, "")
			if err != nil {
				t.Fatal(err)
			}
			want = append(want, all, vn)
		}
		sameJSON(t, c.name+": progress on "+code+", public then reviewer", got, want)
		if err := st.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func yearStartUTC(y int) time.Time { return time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC) }
