package query_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/indicators/period"
	"github.com/g-oc/goc/internal/demo"
	"github.com/g-oc/goc/internal/query"
	"github.com/g-oc/goc/internal/store"
	"github.com/g-oc/goc/internal/store/sqlite"
)

// historyOnly hides every capability of the store but Observations: a Service over it
// rolls every figure up from the history on each request.
type historyOnly struct{ r query.Reader }

func (h historyOnly) Observations(ctx context.Context, q store.Query) ([]indicators.Observation, error) {
	return h.r.Observations(ctx, q)
}

func sameJSON(t *testing.T, what string, got, want any) {
	t.Helper()
	g, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	w, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	if string(g) != string(w) {
		t.Fatalf("%s: kept figures differ from those recomputed from history:\n got %.600s\nwant %.600s", what, g, w)
	}
}

// TestProgressKeptBetweenRequestsEqualsProgressRecomputed checks the figure cache
// against a Service that rolls up the whole history on every request, after random
// new revisions, and that a repeated request reads the store no more.
func TestProgressKeptBetweenRequestsEqualsProgressRecomputed(t *testing.T) {
	ctx := context.Background()
	cat, reg := indicators.DefaultCatalogue(), indicators.DefaultRegistry()
	st := openStore(t, demo.History(cat, reg, testNow))
	clock := func() time.Time { return testNow }
	kept := query.New(st, cat, reg, clock)
	fresh := query.New(historyOnly{st}, cat, reg, clock)
	// The public view shares the kept figures' cache with kept: its own must not mix.
	keptPublic := kept.PublicView()
	freshPublic := fresh.PublicView()
	codes := []string{"dossiers_fully_online", "work_records_online"}
	compare := func(when string) {
		for _, code := range codes {
			gotPub, err := keptPublic.ProgressOfAll(ctx, code, 2030, testNow)
			if err != nil {
				t.Fatal(err)
			}
			wantPub, err := freshPublic.ProgressOfAll(ctx, code, 2030, testNow)
			if err != nil {
				t.Fatal(err)
			}
			sameJSON(t, when+": every agency on "+code+", published figures", gotPub, wantPub)
			for _, year := range []int{2030} {
				got, err := kept.ProgressOfAll(ctx, code, year, testNow)
				if err != nil {
					t.Fatal(err)
				}
				want, err := fresh.ProgressOfAll(ctx, code, year, testNow)
				if err != nil {
					t.Fatal(err)
				}
				sameJSON(t, when+": every agency on "+code, got, want)
			}
			for _, agency := range []string{"VN", "P20", "N79"} {
				got, err := kept.Progress(ctx, code, agency, 2025, "")
				if err != nil {
					t.Fatal(err)
				}
				want, err := fresh.Progress(ctx, code, agency, 2025, "")
				if err != nil {
					t.Fatal(err)
				}
				sameJSON(t, when+": "+agency+" on "+code, got, want)
			}
			got, err := kept.Progress(ctx, code, "VN", 2025, indicators.Commune)
			if err != nil {
				t.Fatal(err)
			}
			want, err := fresh.Progress(ctx, code, "VN", 2025, indicators.Commune)
			if err != nil {
				t.Fatal(err)
			}
			sameJSON(t, when+": national commune figure of "+code, got, want)
		}
		got, err := kept.AgencyCard(ctx, "P20", indicators.DefaultRankingMethod())
		if err != nil {
			t.Fatal(err)
		}
		want, err := fresh.AgencyCard(ctx, "P20", indicators.DefaultRankingMethod())
		if err != nil {
			t.Fatal(err)
		}
		got.Portals, want.Portals = nil, nil // the plain reader keeps no probes
		got.ProbesAvailable, want.ProbesAvailable = false, false
		sameJSON(t, when+": card of P20", got, want)
		// A ranking's trends come from the kept figures when its period ends a year.
		for _, p := range []string{"2025", "2025-Q4", "2026-Q1"} {
			for _, g := range []indicators.PeerGroup{indicators.Provinces, indicators.Ministries} {
				req := query.RankingRequest{Group: g, Period: period.MustParse(p), Method: indicators.DefaultRankingMethod(), Trends: true, Provenance: true}
				got, err := kept.Ranking(ctx, req)
				if err != nil {
					t.Fatal(err)
				}
				want, err := fresh.Ranking(ctx, req)
				if err != nil {
					t.Fatal(err)
				}
				if len(want.Trends) == 0 {
					t.Fatalf("%s %s: no trends to compare", g, p)
				}
				sameJSON(t, when+": ranking of "+string(g)+" in "+p, got, want)
			}
		}
	}
	compare("demo history")

	reads := st.reads.Load()
	if _, err := kept.ProgressOfAll(ctx, codes[0], 2025, testNow); err != nil {
		t.Fatal(err)
	}
	if n := st.reads.Load() - reads; n != 0 {
		t.Errorf("a repeated request read the store %d times, want 0", n)
	}

	// New revisions of existing series and new series, on agencies of every level.
	existing, err := st.Observations(ctx, store.Query{Indicators: codes})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(12, 7))
	for round := range 2 {
		var batch []indicators.Observation
		for range 1 + rng.IntN(8) {
			o := existing[rng.IntN(len(existing))]
			o.Revision, o.ReceivedAt, o.Batch, o.Submitter = 0, time.Time{}, "", "test"
			if o.Numerator != nil && o.Denominator != nil {
				n := float64(rng.IntN(int(*o.Denominator) + 1))
				o.Numerator = &n
				o.Value = 100 * n / *o.Denominator
			} else {
				o.Value = rng.Float64() * 100
			}
			batch = append(batch, o)
		}
		if _, err := st.WriteObservations(ctx, batch); err != nil {
			t.Fatal(err)
		}
		compare("after round " + string(rune('1'+round)) + " of new revisions")
	}
}

// yearReads is the real store with a record of each observation read: the widest span
// of period starts it asked for and the most observations one read returned.
type yearReads struct {
	*countingStore
	mu      sync.Mutex
	unbound int // reads with no start or no end bound
	most    int
}

func (y *yearReads) Observations(ctx context.Context, q store.Query) ([]indicators.Observation, error) {
	obs, err := y.countingStore.Observations(ctx, q)
	y.mu.Lock()
	defer y.mu.Unlock()
	before2000 := q.From.IsZero() && !q.To.After(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC))
	if !before2000 && (q.From.IsZero() || q.To.IsZero() || q.To.Sub(q.From) > 366*24*time.Hour) {
		y.unbound++
	}
	y.most = max(y.most, len(obs))
	return obs, err
}

// TestKeptFiguresAreComputedAYearAtATime holds the memory of the yearly figures to a
// year of observations whatever the history: computing them reads the indicator one
// year of periods at a time (the current year open-ended, for figures dated ahead of
// the clock), never the whole history at once.
func TestKeptFiguresAreComputedAYearAtATime(t *testing.T) {
	ctx := context.Background()
	cat, reg := indicators.DefaultCatalogue(), indicators.DefaultRegistry()
	st := &yearReads{countingStore: openStore(t, demo.History(cat, reg, testNow))}
	q := query.New(st, cat, reg, func() time.Time { return testNow }).PublicView()
	const code = "dossiers_fully_online"
	all, err := st.Store.Observations(ctx, store.Query{Indicators: []string{code}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := q.ProgressOfAll(ctx, code, 2025, testNow)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) == 0 {
		t.Fatal("no progress computed")
	}
	// The demo's quarterly history runs 2019-2026: a year holds about an eighth of it.
	if st.most == 0 || st.most > len(all)/4 {
		t.Errorf("one read returned %d of the indicator's %d observations: the figures were not read a year at a time", st.most, len(all))
	}
	if st.unbound > 1 {
		t.Errorf("%d reads spanned more than a year (one, the current year onwards, may)", st.unbound)
	}
}

// TestWarmUpLeavesTheFirstRequestsAfterAStartNothingToRead: after WarmUp, progress of
// every agency, national progress per level, a province's card and last year's
// rankings are answered from what it kept, without one store read.
func TestWarmUpLeavesTheFirstRequestsAfterAStartNothingToRead(t *testing.T) {
	ctx := context.Background()
	cat, reg := indicators.DefaultCatalogue(), indicators.DefaultRegistry()
	st := openStore(t, demo.History(cat, reg, testNow))
	q := query.New(st, cat, reg, func() time.Time { return testNow })
	method := indicators.DefaultRankingMethod()
	if err := q.WarmUp(ctx, method); err != nil {
		t.Fatal(err)
	}
	st.reads.Store(0)
	pub := q.PublicView()
	for _, ind := range cat.All() {
		if _, err := pub.ProgressOfAll(ctx, ind.Code, 2025, testNow); err != nil {
			t.Fatal(err)
		}
		if _, err := pub.Progress(ctx, ind.Code, reg.Root(), 2025, ""); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := pub.AgencyCard(ctx, "P20", method); err != nil {
		t.Fatal(err)
	}
	for _, g := range indicators.PeerGroups() {
		if _, err := pub.Ranking(ctx, query.RankingRequest{Group: g, Period: period.MustParse("2025"), Method: method, Trends: true}); err != nil {
			t.Fatal(err)
		}
	}
	if n := st.reads.Load(); n != 0 {
		t.Errorf("the first requests after the warm-up read the store %d times, want 0", n)
	}
	// A cancelled warm-up stops and says so.
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := query.New(st, cat, reg, func() time.Time { return testNow }).WarmUp(cancelled, method); err == nil {
		t.Error("a cancelled warm-up returned no error")
	}
}

// TestKeptFiguresEqualHistoryAfterRandomWritesApprovalsAndMergers is the property
// behind keeping figures per data version: whatever is written, approved or left
// waiting, and whichever side of the 2025 merger a figure is for (an ended province,
// its successor, a new series for either), what is kept equals what is rolled up from
// the whole history, for the public (approved figures only) and for a reviewer (every
// newest revision).
func TestKeptFiguresEqualHistoryAfterRandomWritesApprovalsAndMergers(t *testing.T) {
	ctx := context.Background()
	cat, reg := indicators.DefaultCatalogue(), indicators.DefaultRegistry()
	path := filepath.Join(t.TempDir(), "goc.db")
	// The demo history is published as loaded; later submissions wait for review.
	loaded, err := sqlite.Open(ctx, path, sqlite.WithAutoApprove(true))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := loaded.WriteObservations(ctx, demo.History(cat, reg, testNow)); err != nil {
		t.Fatal(err)
	}
	loaded.Close()
	st, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	clock := func() time.Time { return testNow }
	kept := query.New(st, cat, reg, clock)
	fresh := query.New(historyOnly{st}, cat, reg, clock)
	codes := []string{"dossiers_fully_online", "work_records_online"}
	keptFiguresEqualHistory(t, st, codes, func(when string) { t.Helper(); compareReads(t, ctx, when, kept, fresh, codes) })
}

// keptFiguresEqualHistory runs the property on st, which holds the demo history,
// published, and keeps later submissions for review: compare checks what is kept
// against what is rolled up from the history, first as loaded, then after each of two
// rounds of random revisions of codes (some moved to another agency of the same level,
// across the 2025 merger) and of random approvals and returns. It is run for every
// store that keeps a figures version.
func keptFiguresEqualHistory(t *testing.T, st store.Store, codes []string, compare func(when string)) {
	t.Helper()
	if _, ok := st.(store.FiguresVersioner); !ok {
		t.Fatalf("%T keeps no figures version: nothing would be kept", st)
	}
	ctx := context.Background()
	reg := indicators.DefaultRegistry()
	compare("demo history")

	existing, err := st.Observations(ctx, store.Query{Indicators: codes})
	if err != nil {
		t.Fatal(err)
	}
	// Agencies by level, to move a figure to another agency of the same level: a new
	// series, for an ended province after its end or a merged one before it began.
	byLevel := map[indicators.Level][]string{}
	for _, a := range reg.All() {
		byLevel[a.Level()] = append(byLevel[a.Level()], a.Code)
	}
	rng := rand.New(rand.NewPCG(2025, 7))
	for round := range 2 {
		var batch []indicators.Observation
		for range 3 + rng.IntN(10) {
			o := existing[rng.IntN(len(existing))]
			o.Revision, o.ReceivedAt, o.Batch, o.Submitter, o.Source = 0, time.Time{}, "", "test", indicators.FromSubmission
			if a, ok := reg.Get(o.Agency); ok && rng.IntN(3) == 0 {
				peers := byLevel[a.Level()]
				o.Agency = peers[rng.IntN(len(peers))]
			}
			if o.Numerator != nil && o.Denominator != nil {
				n := float64(rng.IntN(int(*o.Denominator) + 1))
				o.Numerator = &n
				o.Value = 100 * n / *o.Denominator
			} else {
				o.Value = rng.Float64() * 100
			}
			batch = append(batch, o)
		}
		if _, err := st.WriteObservations(ctx, batch); err != nil {
			t.Fatal(err)
		}
		compare(fmt.Sprintf("round %d, written and waiting for review", round+1))
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
		compare(fmt.Sprintf("round %d, %d of %d submissions reviewed", round+1, len(reviews), len(waiting)))
	}
}

// compareReads checks that what a Service over kept figures answers (keptSvc) equals
// what one rolling everything up from the history answers (freshSvc), for the public
// (approved figures only) and for a reviewer (every newest revision): progress of every
// agency on codes, their national commune-level figures, the rankings of the provinces
// and the card of N79.
func compareReads(t *testing.T, ctx context.Context, when string, keptSvc, freshSvc *query.Service, codes []string) {
	t.Helper()
	views := []struct {
		name        string
		kept, fresh *query.Service
	}{
		{"public", keptSvc.PublicView(), freshSvc.PublicView()},
		{"reviewer", keptSvc.For(query.Audience{All: true}), freshSvc.For(query.Audience{All: true})},
	}
	for _, v := range views {
		for _, code := range codes {
			for _, year := range []int{2025, 2030} {
				got, err := v.kept.ProgressOfAll(ctx, code, year, testNow)
				if err != nil {
					t.Fatal(err)
				}
				want, err := v.fresh.ProgressOfAll(ctx, code, year, testNow)
				if err != nil {
					t.Fatal(err)
				}
				sameJSON(t, fmt.Sprintf("%s, %s: every agency on %s in %d", when, v.name, code, year), got, want)
			}
			got, err := v.kept.Progress(ctx, code, "VN", 2025, indicators.Commune)
			if err != nil {
				t.Fatal(err)
			}
			want, err := v.fresh.Progress(ctx, code, "VN", 2025, indicators.Commune)
			if err != nil {
				t.Fatal(err)
			}
			sameJSON(t, when+", "+v.name+": national commune figure of "+code, got, want)
		}
		for _, p := range []string{"2024", "2025"} {
			req := query.RankingRequest{Group: indicators.Provinces, Period: period.MustParse(p), Method: indicators.DefaultRankingMethod(), Trends: true}
			got, err := v.kept.Ranking(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			want, err := v.fresh.Ranking(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			sameJSON(t, when+", "+v.name+": ranking of the provinces in "+p, got, want)
		}
		got, err := v.kept.AgencyCard(ctx, "N79", indicators.DefaultRankingMethod())
		if err != nil {
			t.Fatal(err)
		}
		want, err := v.fresh.AgencyCard(ctx, "N79", indicators.DefaultRankingMethod())
		if err != nil {
			t.Fatal(err)
		}
		got.Portals, want.Portals = nil, nil // the plain reader keeps no probes
		got.ProbesAvailable, want.ProbesAvailable = false, false
		sameJSON(t, when+", "+v.name+": card of N79", got, want)
	}
}
