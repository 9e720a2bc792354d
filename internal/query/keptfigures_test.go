package query_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/indicators/period"
	"github.com/g-oc/goc/internal/demo"
	"github.com/g-oc/goc/internal/query"
	"github.com/g-oc/goc/internal/store"
	"github.com/g-oc/goc/internal/store/sqlite"
)

// withCommuneMerger is reg with one more merger, as an operator would add it to the
// registry override file: the first open commune of the first parent with two ends on
// 31 March 2026, taken over by its neighbour.
func withCommuneMerger(t *testing.T, reg *indicators.Registry) *indicators.Registry {
	t.Helper()
	var list []*indicators.Agency
	byParent := map[string][]*indicators.Agency{}
	var parents []string
	for _, a := range reg.All() {
		c := *a
		c.Successors = slices.Clone(a.Successors)
		list = append(list, &c)
		if c.Kind == indicators.KindCommune && c.ValidTo.IsZero() {
			if byParent[c.Parent] == nil {
				parents = append(parents, c.Parent)
			}
			byParent[c.Parent] = append(byParent[c.Parent], &c)
		}
	}
	for _, p := range parents {
		if cs := byParent[p]; len(cs) >= 2 {
			cs[0].ValidTo = indicators.Date{Time: time.Date(2026, 3, 31, 0, 0, 0, 0, time.UTC)}
			cs[0].Successors = []string{cs[1].Code}
			merged, err := indicators.NewRegistry(list)
			if err != nil {
				t.Fatal(err)
			}
			return merged
		}
	}
	t.Fatal("no two open communes of one district to merge")
	return nil
}

// compareKeptOnDisk checks the rows the store keeps for every agency's figures of codes
// against the same figures recomputed from the whole history, once reads have brought
// them up to date: computed under the registry in force, no year left marked.
func compareKeptOnDisk(t *testing.T, ctx context.Context, when string, svc *query.Service, codes []string) {
	t.Helper()
	for _, view := range []*query.Service{svc.PublicView(), svc.For(query.Audience{All: true})} {
		for _, code := range codes {
			kept, recomputed, valid, stale, err := query.KeptAndRecomputed(ctx, view, code, "")
			if err != nil {
				t.Fatal(err)
			}
			if !valid || len(stale) > 0 {
				t.Fatalf("%s: figures of %s (reviewer view %v): kept under this registry %v, years still marked %v", when, code, view.Audience().All, valid, stale)
			}
			if len(recomputed) == 0 {
				t.Fatalf("%s: no figures of %s to compare", when, code)
			}
			sameJSON(t, fmt.Sprintf("%s: figures of %s kept on disk", when, code), kept, recomputed)
		}
	}
}

// readAll reads the progress of every agency on codes for the public and for a
// reviewer, which brings their kept figures up to date, and returns svc.
func readAll(t *testing.T, ctx context.Context, svc *query.Service, codes []string) *query.Service {
	t.Helper()
	for _, view := range []*query.Service{svc.PublicView(), svc.For(query.Audience{All: true})} {
		for _, code := range codes {
			if _, err := view.ProgressOfAll(ctx, code, 2030, testNow); err != nil {
				t.Fatal(err)
			}
		}
	}
	return svc
}

// TestKeptFiguresOnDiskEqualHistoryAcrossRestartsWritesApprovalsAndMergers is the
// property behind keeping yearly figures in the SQLite file: see keptAcrossRestarts.
func TestKeptFiguresOnDiskEqualHistoryAcrossRestartsWritesApprovalsAndMergers(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "goc.db")
	loaded, err := sqlite.Open(ctx, path, sqlite.WithAutoApprove(true))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := loaded.WriteObservations(ctx, demo.History(indicators.DefaultCatalogue(), indicators.DefaultRegistry(), testNow)); err != nil {
		t.Fatal(err)
	}
	loaded.Close()
	keptAcrossRestarts(t, func() store.Store {
		st, err := sqlite.Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}, true)
}

// keptAcrossRestarts follows a store holding the demo history, opened by open, through
// restarts: it is closed and opened again between steps (nothing is kept in memory),
// the registry gains a commune merger and loses it again between restarts, and at each
// step random new values and revisions (one at a time, and in bulk where the store
// loads in bulk), approvals and returns are applied, and one more value is written
// and not read before the restart. After each, the figures kept on disk and updated a
// marked year at a time equal the figures rolled up from the whole history and, with
// reads, so do progress, the rankings and a card read through them.
func keptAcrossRestarts(t *testing.T, open func() store.Store, reads bool) {
	ctx := context.Background()
	cat, plain := indicators.DefaultCatalogue(), indicators.DefaultRegistry()
	merged := withCommuneMerger(t, plain)
	// A restart under the same registry, then under one with a merger added, and back
	// to the registry without it.
	registries := []*indicators.Registry{plain, plain, merged, plain}
	clock := func() time.Time { return testNow }
	codes := []string{"dossiers_fully_online", "work_records_online"}
	byLevel := map[indicators.Level][]string{}
	for _, a := range plain.All() {
		byLevel[a.Level()] = append(byLevel[a.Level()], a.Code)
	}
	rng := rand.New(rand.NewPCG(2026, 12))
	// randomValues are new values and revisions of existing series, some moved to
	// another agency of the same level (a new series, maybe of an ended agency), some
	// in a year with no figures yet.
	randomValues := func(existing []indicators.Observation) []indicators.Observation {
		var batch []indicators.Observation
		seen := map[indicators.SeriesKey]bool{}
		for range 3 + rng.IntN(10) {
			o := existing[rng.IntN(len(existing))]
			o.Revision, o.ReceivedAt, o.Batch, o.Submitter, o.Source = 0, time.Time{}, "", "test", indicators.FromSubmission
			if a, ok := plain.Get(o.Agency); ok && rng.IntN(3) == 0 {
				peers := byLevel[a.Level()]
				o.Agency = peers[rng.IntN(len(peers))]
			}
			if rng.IntN(6) == 0 {
				o.Period = period.Period{Kind: o.Period.Kind, Year: 2019, Index: o.Period.Index}
			}
			if o.Numerator != nil && o.Denominator != nil {
				n := float64(rng.IntN(int(*o.Denominator) + 1))
				o.Numerator = &n
				o.Value = 100 * n / *o.Denominator
			} else {
				o.Value = rng.Float64() * 100
			}
			if !seen[o.SeriesKey] { // a bulk load names each series once
				seen[o.SeriesKey] = true
				batch = append(batch, o)
			}
		}
		return batch
	}
	for step, reg := range registries {
		st := open()
		kept := query.New(st, cat, reg, clock)
		fresh := query.New(historyOnly{st}, cat, reg, clock)
		when := fmt.Sprintf("step %d, after a restart (merger %v)", step+1, reg == merged)
		if step == 0 && reads {
			compareReads(t, ctx, when, kept, fresh, codes)
		}
		compareKeptOnDisk(t, ctx, when, readAll(t, ctx, kept, codes), codes)

		existing, err := st.Observations(ctx, store.Query{Indicators: codes})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.WriteObservations(ctx, randomValues(existing)); err != nil {
			t.Fatal(err)
		}
		if bl, ok := st.(store.BulkLoader); ok {
			bulk, err := bl.BeginBulk(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if err := bulk.Write(ctx, randomValues(existing)); err != nil {
				t.Fatal(err)
			}
			if _, err := bulk.Commit(); err != nil {
				t.Fatal(err)
			}
		}
		when = fmt.Sprintf("step %d, written and loaded, waiting for review", step+1)
		compareKeptOnDisk(t, ctx, when, readAll(t, ctx, kept, codes), codes)

		waiting, err := st.Submissions(ctx, store.SubmissionQuery{States: []store.State{store.Submitted}})
		if err != nil {
			t.Fatal(err)
		}
		var reviews []store.Review
		for _, s := range waiting {
			switch rng.IntN(3) {
			case 0:
				reviews = append(reviews, store.Review{Agency: s.Agency, Period: s.Period, To: store.Approved, Who: "reviewer"})
			case 1:
				reviews = append(reviews, store.Review{Agency: s.Agency, Period: s.Period, To: store.Returned, Who: "reviewer", Comment: "check"})
			}
		}
		if len(reviews) > 0 {
			if _, err := st.Review(ctx, reviews); err != nil {
				t.Fatal(err)
			}
		}
		when = fmt.Sprintf("step %d, %d of %d submissions reviewed", step+1, len(reviews), len(waiting))
		if reads {
			compareReads(t, ctx, when, kept, fresh, codes)
		} else {
			readAll(t, ctx, kept, codes)
		}
		compareKeptOnDisk(t, ctx, when, kept, codes)
		// One more value written and not read before the restart: the next step must
		// find its year marked on disk.
		if _, err := st.WriteObservations(ctx, randomValues(existing)[:1]); err != nil {
			t.Fatal(err)
		}
		if err := st.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestAChangedRegistryInvalidatesKeptFigures checks that figures kept under one
// registry are not served under another: after a merger is added, the kept set is no
// longer valid for the new registry, the figures served are those of the new registry,
// and they are kept again under it.
func TestAChangedRegistryInvalidatesKeptFigures(t *testing.T) {
	ctx := context.Background()
	cat, plain := indicators.DefaultCatalogue(), indicators.DefaultRegistry()
	merged := withCommuneMerger(t, plain)
	path := filepath.Join(t.TempDir(), "goc.db")
	st, err := sqlite.Open(ctx, path, sqlite.WithAutoApprove(true))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.WriteObservations(ctx, demo.History(cat, plain, testNow)); err != nil {
		t.Fatal(err)
	}
	clock := func() time.Time { return testNow }
	codes := []string{"dossiers_fully_online"}
	before := query.New(st, cat, plain, clock)
	compareKeptOnDisk(t, ctx, "plain registry", readAll(t, ctx, before, codes), codes)

	after := query.New(st, cat, merged, clock)
	_, _, valid, _, err := query.KeptAndRecomputed(ctx, after.PublicView(), codes[0], "")
	if err != nil {
		t.Fatal(err)
	}
	if valid {
		t.Fatal("figures kept under the registry before the merger are valid under the registry with it")
	}
	kb, _, _, _, err := query.KeptAndRecomputed(ctx, before.PublicView(), codes[0], "")
	if err != nil {
		t.Fatal(err)
	}
	compareKeptOnDisk(t, ctx, "registry with a merger", readAll(t, ctx, after, codes), codes)
	ka, _, _, _, err := query.KeptAndRecomputed(ctx, after.PublicView(), codes[0], "")
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(ka) == fmt.Sprint(kb) {
		t.Fatal("the merger changed no kept figure: the test shows nothing")
	}
}

// TestAWriteNotYetReadBeforeACrashIsNotServedStale checks that figures kept before a
// write are never served after it, whatever stops in between: the write's marks are
// in its own transaction, so a reader that died after reading them and before storing
// its recomputation (here: it read the kept set, then the store was closed without
// it) leaves them for the next reader, which recomputes that year.
func TestAWriteNotYetReadBeforeACrashIsNotServedStale(t *testing.T) {
	ctx := context.Background()
	cat, reg := indicators.DefaultCatalogue(), indicators.DefaultRegistry()
	path := filepath.Join(t.TempDir(), "goc.db")
	st, err := sqlite.Open(ctx, path, sqlite.WithAutoApprove(true))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.WriteObservations(ctx, demo.History(cat, reg, testNow)); err != nil {
		t.Fatal(err)
	}
	clock := func() time.Time { return testNow }
	code := "dossiers_fully_online"
	if _, err := query.New(st, cat, reg, clock).ProgressOfAll(ctx, code, 2030, testNow); err != nil {
		t.Fatal(err)
	}
	obs, err := st.Observations(ctx, store.Query{Indicators: []string{code}, Agencies: []string{"P20"}})
	if err != nil || len(obs) == 0 {
		t.Fatalf("no figure of P20 to revise (%v)", err)
	}
	o := obs[len(obs)-1]
	o.Revision, o.ReceivedAt, o.Batch, o.Value = 0, time.Time{}, "", 100-o.Value
	if o.Numerator != nil && o.Denominator != nil {
		n := *o.Denominator - *o.Numerator
		o.Numerator, o.Value = &n, 100*n / *o.Denominator
	}
	if _, err := st.WriteObservations(ctx, []indicators.Observation{o}); err != nil {
		t.Fatal(err)
	}
	_, _, valid, stale, err := query.KeptAndRecomputed(ctx, query.New(st, cat, reg, clock).PublicView(), code, "")
	if err != nil {
		t.Fatal(err)
	}
	if !valid || !slices.Equal(stale, []int{o.Period.Year}) {
		t.Fatalf("after writing %s: kept valid %v, years marked %v, want %d", o.Period, valid, stale, o.Period.Year)
	}
	if err := st.Close(); err != nil { // the crash: no reader stored a recomputation
		t.Fatal(err)
	}
	st, err = sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	restarted := query.New(st, cat, reg, clock)
	got, err := restarted.ProgressOfAll(ctx, code, 2030, testNow)
	if err != nil {
		t.Fatal(err)
	}
	want, err := query.New(historyOnly{st}, cat, reg, clock).ProgressOfAll(ctx, code, 2030, testNow)
	if err != nil {
		t.Fatal(err)
	}
	sameJSON(t, "progress after the restart", got, want)
	compareKeptOnDisk(t, ctx, "after the restart", readAll(t, ctx, restarted, []string{code}), []string{code})
}

// TestAReaderDuringABulkLoadAnswersWithoutStoringFigures: a bulk load holds the
// store's only writer until it commits (an import of a million rows takes tens of
// seconds), so a reader whose year was marked answers from figures it recomputed
// without waiting to store them; the mark stays, and a reader after the load stores
// them.
func TestAReaderDuringABulkLoadAnswersWithoutStoringFigures(t *testing.T) {
	ctx := context.Background()
	cat, reg := indicators.DefaultCatalogue(), indicators.DefaultRegistry()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "goc.db"), sqlite.WithAutoApprove(true))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.WriteObservations(ctx, demo.History(cat, reg, testNow)); err != nil {
		t.Fatal(err)
	}
	clock := func() time.Time { return testNow }
	code := "dossiers_fully_online"
	readAll(t, ctx, query.New(st, cat, reg, clock), []string{code})
	o := indicators.Observation{SeriesKey: indicators.SeriesKey{Indicator: code, Agency: "P20", Period: period.MustParse("2026-Q2")},
		Value: 42, Source: indicators.FromSubmission, Submitter: "test"}
	if _, err := st.WriteObservations(ctx, []indicators.Observation{o}); err != nil {
		t.Fatal(err)
	}
	bulk, err := st.BeginBulk(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got, err := query.New(st, cat, reg, clock).ProgressOfAll(ctx, code, 2030, testNow)
	if err != nil {
		t.Fatal(err)
	}
	want, err := query.New(historyOnly{st}, cat, reg, clock).ProgressOfAll(ctx, code, 2030, testNow)
	if err != nil {
		t.Fatal(err)
	}
	sameJSON(t, "progress read while a bulk load is open", got, want)
	_, _, valid, stale, err := query.KeptAndRecomputed(ctx, query.New(st, cat, reg, clock).PublicView(), code, "")
	if err != nil {
		t.Fatal(err)
	}
	if !valid || !slices.Equal(stale, []int{2026}) {
		t.Fatalf("during the load: kept valid %v, years marked %v, want 2026 still marked", valid, stale)
	}
	if err := bulk.Rollback(); err != nil {
		t.Fatal(err)
	}
	compareKeptOnDisk(t, ctx, "after the load", readAll(t, ctx, query.New(st, cat, reg, clock), []string{code}), []string{code})
}
