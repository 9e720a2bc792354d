package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"testing"
	"time"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/indicators/period"
	"github.com/g-oc/goc/internal/store"
	"github.com/g-oc/goc/internal/store/storetest"
)

func TestBulkLoadMatchesWriteObservations(t *testing.T) {
	ctx := context.Background()
	data := storetest.Bulk{Agencies: 50, Indicators: 3, First: period.MustParse("2025-01"), Periods: 6, Seed: 4}.Observations()
	plain, _ := openTemp(t)
	bulk, _ := openTemp(t)
	if _, err := plain.WriteObservations(ctx, data); err != nil {
		t.Fatal(err)
	}
	b, err := bulk.BeginBulk(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(data); i += 128 {
		if err := b.Write(ctx, data[i:min(i+128, len(data))]); err != nil {
			t.Fatal(err)
		}
	}
	created, err := b.Commit()
	if err != nil {
		t.Fatal(err)
	}
	if created != len(data) {
		t.Errorf("created %d, want %d", created, len(data))
	}
	for _, history := range []bool{false, true} {
		want, _ := plain.Observations(ctx, store.Query{History: history})
		got, _ := bulk.Observations(ctx, store.Query{History: history})
		if len(got) != len(want) {
			t.Fatalf("history=%v: %d rows, want %d", history, len(got), len(want))
		}
		for i := range want {
			w, g := want[i], got[i]
			w.Batch, g.Batch = "", ""
			if !w.SameContent(&g) || w.Revision != g.Revision || w.Submitter != g.Submitter || !w.ReceivedAt.Equal(g.ReceivedAt) {
				t.Fatalf("history=%v row %d: bulk %+v, plain %+v", history, i, g, w)
			}
		}
	}

	// A second load changes one value and repeats the rest: one new revision.
	changed := append([]indicators.Observation(nil), data...)
	changed[7].Value += 1
	b, _ = bulk.BeginBulk(ctx)
	if err := b.Write(ctx, changed); err != nil {
		t.Fatal(err)
	}
	if n, err := b.Commit(); err != nil || n != 1 {
		t.Fatalf("reload: created %d, err %v", n, err)
	}
	latest, _ := bulk.Observations(ctx, store.Query{Indicators: []string{changed[7].Indicator}, Agencies: []string{changed[7].Agency}, From: changed[7].Period.Start(nil), To: changed[7].Period.End(nil)})
	if len(latest) != 1 || latest[0].Revision != 2 || latest[0].Value != changed[7].Value {
		t.Errorf("latest after reload = %+v", latest)
	}
}

func TestBulkRollbackLeavesNothingAndReleasesTheWriter(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	data := storetest.Bulk{Agencies: 20, Indicators: 2, First: period.MustParse("2025-01"), Periods: 3, Seed: 1}.Observations()
	b, err := s.BeginBulk(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Write(ctx, data); err != nil {
		t.Fatal(err)
	}
	if err := b.Rollback(); err != nil {
		t.Fatal(err)
	}
	if err := b.Rollback(); err != nil {
		t.Errorf("a second Rollback: %v", err)
	}
	if err := b.Write(ctx, data); err == nil {
		t.Error("Write after Rollback succeeded")
	}
	if got, _ := s.Observations(ctx, store.Query{History: true}); len(got) != 0 {
		t.Errorf("%d observations after rollback", len(got))
	}
	// The write connection is free again.
	wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := s.WriteObservations(wctx, data[:1]); err != nil {
		t.Fatalf("write after rollback: %v", err)
	}
	// A load naming one series twice fails rather than guessing an order.
	b, _ = s.BeginBulk(ctx)
	b.Write(ctx, []indicators.Observation{data[1], data[1]})
	if _, err := b.Commit(); err == nil {
		t.Error("a load with the same series twice succeeded")
	}
}

func TestIdempotencyKeysKeepTheFirstAnswer(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	if _, _, _, found, err := s.IdempotentResponse(ctx, "tok", "k1"); err != nil || found {
		t.Fatalf("before any key: found %v, err %v", found, err)
	}
	fp, status, body, err := s.SaveIdempotentResponse(ctx, "tok", "k1", "fp1", 201, []byte(`{"a":1}`))
	if err != nil || fp != "fp1" || status != 201 || string(body) != `{"a":1}` {
		t.Fatalf("save: %q %d %q %v", fp, status, body, err)
	}
	// A racing twin saving second gets the first answer back.
	fp, _, body, err = s.SaveIdempotentResponse(ctx, "tok", "k1", "fp2", 201, []byte(`{"a":2}`))
	if err != nil || fp != "fp1" || string(body) != `{"a":1}` {
		t.Errorf("second save: %q %q %v", fp, body, err)
	}
	if fp, _, _, found, _ := s.IdempotentResponse(ctx, "tok", "k1"); !found || fp != "fp1" {
		t.Errorf("lookup: %q %v", fp, found)
	}
	if _, _, _, found, _ := s.IdempotentResponse(ctx, "other-token", "k1"); found {
		t.Error("a key is visible to another token")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, _, _, _, err := s.IdempotentResponse(ctx, "tok", "k1"); !errors.Is(err, store.ErrClosed) {
		t.Errorf("closed store: %v", err)
	}
}

// TestBulkLoadKeepsWhatWriteObservationsKeeps: a bulk load leaves the store as
// WriteObservations of the same rows does (history, latest and published figures,
// submissions and their trail), whether the store was empty, held at most half the
// load's rows (the merge then builds the secondary indexes anew) or more, with revisions of
// approved submissions, rows published without review, and automatic approval.
func TestBulkLoadKeepsWhatWriteObservationsKeeps(t *testing.T) {
	ctx := context.Background()
	all := storetest.Bulk{Agencies: 40, Indicators: 3, First: period.MustParse("2025-01"), Periods: 6, Seed: 9}.Observations()
	for i := range all {
		switch i % 17 { // some rows of sources published without review
		case 3:
			all[i].Source = indicators.FromProbe
		case 5:
			all[i].Source = indicators.FromComputed
		}
		// One row of each (agency, period) comes later from someone else: the
		// submission names its newest row's submitter.
		if i%3 == 1 {
			all[i].ReceivedAt = all[i].ReceivedAt.Add(time.Hour)
			all[i].Submitter = "deputy-" + all[i].Agency
		}
	}
	twoMonths := 2 * 3 * 40
	// revised repeats rows with every third value changed and received a day later.
	revised := func(obs []indicators.Observation) []indicators.Observation {
		out := append([]indicators.Observation(nil), obs...)
		for i := range out {
			if i%3 == 0 {
				out[i].Value += 0.5
				out[i].ReceivedAt = out[i].ReceivedAt.Add(24 * time.Hour)
			}
		}
		return out
	}
	// again repeats rows unchanged, sent by someone else for every other row: a
	// submission resubmitted unchanged names the first of its rows in the load.
	again := func(obs []indicators.Observation) []indicators.Observation {
		out := append([]indicators.Observation(nil), obs...)
		for i := range out {
			if i%2 == 0 {
				out[i].Submitter = "again-" + out[i].Agency
			}
		}
		return out
	}
	// revisedHalf is revised for the first half of the agencies (one series of each of
	// their submissions changes) and again for the rest (theirs stay as they are).
	revisedHalf := func(obs []indicators.Observation) []indicators.Observation {
		out, rev := again(obs), revised(obs)
		for i := range out {
			if i%40 < 20 {
				out[i] = rev[i]
			}
		}
		return out
	}
	cases := []struct {
		name    string
		before  []indicators.Observation // written first, by WriteObservations in both stores
		approve bool                     // approve every submission before the load
		ret     bool                     // return every submission before the load
		load    []indicators.Observation
		auto    bool
	}{
		{name: "empty store", load: all},
		{name: "empty store, automatic approval", load: all, auto: true},
		{name: "load over twice the store", before: all[:twoMonths], approve: true, load: revised(all)},
		{name: "load over twice the store, automatic approval", before: all[:twoMonths], load: revised(all), auto: true},
		{name: "load smaller than the store", before: all, approve: true, load: revised(all[:twoMonths])},
		{name: "returned, the same values loaded again", before: all, ret: true, load: again(all)},
		{name: "returned, some submissions changed", before: all, ret: true, load: revisedHalf(all)},
		{name: "returned, load over twice the store", before: all[:twoMonths], ret: true, load: again(all)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			clock := time.Date(2025, 9, 1, 8, 0, 0, 0, time.UTC)
			now := func() time.Time { return clock }
			plain, _ := openTemp(t, WithClock(now), WithAutoApprove(c.auto))
			bulk, bulkPath := openTemp(t, WithClock(now), WithAutoApprove(c.auto))
			for _, s := range []*Store{plain, bulk} {
				if len(c.before) == 0 {
					continue
				}
				if _, err := s.WriteObservations(ctx, c.before); err != nil {
					t.Fatal(err)
				}
				if c.approve || c.ret {
					subs, _ := s.Submissions(ctx, store.SubmissionQuery{States: []store.State{store.Submitted}})
					var rs []store.Review
					for _, sub := range subs {
						r := store.Review{Agency: sub.Agency, Period: sub.Period, To: store.Approved, Who: "reviewer"}
						if c.ret {
							r.To, r.Comment = store.Returned, "kiểm tra lại / check again"
						}
						rs = append(rs, r)
					}
					if _, err := s.Review(ctx, rs); err != nil {
						t.Fatal(err)
					}
				}
			}
			clock = clock.Add(time.Hour)
			had, _ := plain.Observations(ctx, store.Query{History: true})
			if _, err := plain.WriteObservations(ctx, c.load); err != nil {
				t.Fatal(err)
			}
			has, _ := plain.Observations(ctx, store.Query{History: true})
			b, err := bulk.BeginBulk(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < len(c.load); i += 100 {
				if err := b.Write(ctx, c.load[i:min(i+100, len(c.load))]); err != nil {
					t.Fatal(err)
				}
			}
			created, err := b.Commit()
			if err != nil {
				t.Fatal(err)
			}
			if created != len(has)-len(had) {
				t.Errorf("the load created %d revisions, WriteObservations %d", created, len(has)-len(had))
			}
			for _, q := range []store.Query{{}, {History: true}, {Published: true}, {Published: true, History: true}} {
				want, err := plain.Observations(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				got, err := bulk.Observations(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				if len(got) != len(want) {
					t.Fatalf("%+v: bulk has %d rows, WriteObservations %d", q, len(got), len(want))
				}
				for i := range want {
					w, g := want[i], got[i]
					if !w.SameContent(&g) || w.Revision != g.Revision || w.Submitter != g.Submitter || !w.ReceivedAt.Equal(g.ReceivedAt) {
						t.Fatalf("%+v row %d: bulk %+v, WriteObservations %+v", q, i, g, w)
					}
				}
			}
			wantSubs, _ := plain.Submissions(ctx, store.SubmissionQuery{})
			gotSubs, _ := bulk.Submissions(ctx, store.SubmissionQuery{})
			if len(gotSubs) != len(wantSubs) || len(wantSubs) == 0 {
				t.Fatalf("bulk has %d submissions, WriteObservations %d", len(gotSubs), len(wantSubs))
			}
			if c.ret { // the case is not vacuous: WriteObservations resubmitted some
				resubmitted := 0
				for _, w := range wantSubs {
					if w.State == store.Submitted && w.ChangedAt.Equal(clock) && w.Comment != "" {
						resubmitted++
					}
				}
				if resubmitted == 0 {
					t.Fatal("WriteObservations resubmitted nothing unchanged")
				}
			}
			for i := range wantSubs {
				// The trail numbers transitions in the order each write met the
				// submissions; everything else must match.
				w, g := wantSubs[i], gotSubs[i]
				w.Seq, g.Seq = 0, 0
				if w != g {
					t.Fatalf("submission %d: bulk %+v, WriteObservations %+v", i, g, w)
				}
				wt, _ := plain.Trail(ctx, w.Agency, w.Period)
				gt, _ := bulk.Trail(ctx, w.Agency, w.Period)
				if len(gt) != len(wt) {
					t.Fatalf("trail of %s/%s: bulk %+v, WriteObservations %+v", w.Agency, w.Period, gt, wt)
				}
				for j := range wt {
					wt[j].Seq, gt[j].Seq = 0, 0
					if wt[j] != gt[j] {
						t.Fatalf("trail of %s/%s, step %d: bulk %+v, WriteObservations %+v", w.Agency, w.Period, j, gt[j], wt[j])
					}
				}
			}
			// Every index is back, and agrees with its table.
			raw, err := sql.Open("sqlite", bulkPath+"?_pragma=query_only(1)")
			if err != nil {
				t.Fatal(err)
			}
			defer raw.Close()
			var indexes, check string
			if err := raw.QueryRowContext(ctx, "SELECT group_concat(name || ': ' || sql, '; ') FROM (SELECT name, sql FROM sqlite_schema WHERE type = 'index' AND sql IS NOT NULL ORDER BY name)").Scan(&indexes); err != nil {
				t.Fatal(err)
			}
			if indexes != schemaIndexes(t) {
				t.Errorf("indexes after the load:\n%s\nwant\n%s", indexes, schemaIndexes(t))
			}
			if err := raw.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
				t.Errorf("integrity check: %q, %v", check, err)
			}
		})
	}
}

// schemaIndexes lists the indexes of a new store, as the test above reads them.
func schemaIndexes(t *testing.T) string {
	t.Helper()
	_, path := openTemp(t)
	raw, err := sql.Open("sqlite", path+"?_pragma=query_only(1)")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var out string
	if err := raw.QueryRow("SELECT group_concat(name || ': ' || sql, '; ') FROM (SELECT name, sql FROM sqlite_schema WHERE type = 'index' AND sql IS NOT NULL ORDER BY name)").Scan(&out); err != nil {
		t.Fatal(err)
	}
	return out
}
