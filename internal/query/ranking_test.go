package query_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/indicators/period"
	"github.com/g-oc/goc/internal/demo"
	"github.com/g-oc/goc/internal/query"
	"github.com/g-oc/goc/internal/store"
	"github.com/g-oc/goc/internal/store/sqlite"
)

var testNow = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

// countingStore is the real SQLite store with a count of its observation reads, to hold
// the ranking to one read per indicator however many agencies it ranks.
type countingStore struct {
	*sqlite.Store
	reads atomic.Int64
}

func (c *countingStore) Observations(ctx context.Context, q store.Query) ([]indicators.Observation, error) {
	c.reads.Add(1)
	return c.Store.Observations(ctx, q)
}

func openStore(t *testing.T, obs []indicators.Observation) *countingStore {
	t.Helper()
	// The fixtures are published figures: rankings are public.
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "goc.db"), sqlite.WithAutoApprove(true))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if len(obs) > 0 {
		if _, err := st.WriteObservations(context.Background(), obs); err != nil {
			t.Fatal(err)
		}
	}
	return &countingStore{Store: st}
}

func demoRanking(t *testing.T) (*query.Service, *countingStore) {
	t.Helper()
	cat, reg := indicators.DefaultCatalogue(), indicators.DefaultRegistry()
	st := openStore(t, demo.History(cat, reg, testNow))
	return query.New(st, cat, reg, func() time.Time { return testNow }), st
}

func rank(t *testing.T, q *query.Service, g indicators.PeerGroup, p string, trends bool) *query.RankingReport {
	t.Helper()
	rep, err := q.Ranking(context.Background(), query.RankingRequest{Group: g, Period: period.MustParse(p), Method: indicators.DefaultRankingMethod(), Trends: trends, Provenance: true})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func TestRankingOfProvincesAcrossThe2025Merger(t *testing.T) {
	q, st := demoRanking(t)
	ctx := context.Background()

	y2024 := rank(t, q, indicators.Provinces, "2024", false)
	if y2024.Members != 63 || y2024.Ranked != 63 {
		t.Fatalf("2024: %d members, %d ranked; want the 63 provinces", y2024.Members, y2024.Ranked)
	}
	if _, ok := entry(y2024, "N79"); ok {
		t.Error("2024 ranks N79, which was formed in July 2025")
	}

	// A year's ranking takes its figures and trends from the yearly figures kept for
	// the progress pages: with those kept, it reads only the observations behind its
	// figures (the provenance), one read per period a figure is for, and without
	// provenance nothing at all.
	inds := query.RankingIndicators(q.Catalogue(), indicators.Provinces)
	for _, ind := range append(inds, query.KeyIndicators(q.Catalogue(), indicators.Province)...) {
		if _, err := q.ProgressOfAll(ctx, ind.Code, 2025, testNow); err != nil {
			t.Fatal(err)
		}
		if ind.HasLevelTargets() {
			if _, err := q.Progress(ctx, ind.Code, q.Registry().Root(), 2025, indicators.Province); err != nil {
				t.Fatal(err)
			}
		}
	}
	st.reads.Store(0)
	y2025 := rank(t, q, indicators.Provinces, "2025", true)
	read := int(st.reads.Load())
	if y2025.Members != 34 || y2025.Ranked != 34 {
		t.Fatalf("2025: %d members, %d ranked; want the 34 provinces", y2025.Members, y2025.Ranked)
	}
	if n := len(inds); read == 0 || read > 2*n {
		t.Errorf("%d store reads for the provenance of %d indicators: want at most one per indicator and year, not one per agency", read, n)
	}
	st.reads.Store(0)
	if _, err := q.Ranking(ctx, query.RankingRequest{Group: indicators.Provinces, Period: period.MustParse("2025"), Method: indicators.DefaultRankingMethod(), Trends: true}); err != nil {
		t.Fatal(err)
	}
	if n := st.reads.Load(); n != 0 {
		t.Errorf("a ranking without provenance read the store %d times with every figure kept, want 0", n)
	}

	// Every member has a previous rank among the same 34, merged ones included.
	var prev []int
	for _, e := range y2025.Entries {
		if e.PreviousRank == nil || e.Change == nil {
			t.Fatalf("%s has no previous rank or change", e.Agency)
		}
		if *e.Change != *e.PreviousRank-e.Rank {
			t.Errorf("%s: change %d, previous %d, rank %d", e.Agency, *e.Change, *e.PreviousRank, e.Rank)
		}
		prev = append(prev, *e.PreviousRank)
	}
	slices.Sort(prev)
	if prev[0] != 1 || prev[len(prev)-1] > 34 {
		t.Errorf("previous ranks run %d..%d; they must rank the same 34 members", prev[0], prev[len(prev)-1])
	}

	// HCMC's 2024 dossier figure is the ratio of its predecessors' summed Q4 figures.
	n79, _ := entry(y2025, "N79")
	a, _ := q.Registry().Get("N79")
	obs, err := st.Store.Observations(ctx, store.Query{Indicators: []string{"dossiers_fully_online"}, Agencies: a.Predecessors,
		From: period.MustParse("2024-Q4").Start(nil), To: period.MustParse("2024-Q4").End(nil), Kinds: []period.Kind{period.Quarter}})
	if err != nil {
		t.Fatal(err)
	}
	if len(obs) != len(a.Predecessors) {
		t.Fatalf("%d predecessor observations for %v", len(obs), a.Predecessors)
	}
	var num, den float64
	for _, o := range obs {
		num += *o.Numerator
		den += *o.Denominator
	}
	var from []string
	for _, pr := range y2025.Provenance {
		if pr.Agency == "N79" && pr.Indicator == "dossiers_fully_online" && pr.Ranking == "previous" {
			from = append(from, pr.Observation.Agency)
			if want := 100 * num / den; pr.Figure != want {
				t.Errorf("N79's 2024 figure %v, want the predecessors' %v/%v = %v", pr.Figure, num, den, want)
			}
		}
	}
	slices.Sort(from)
	if want := slices.Sorted(slices.Values(a.Predecessors)); !slices.Equal(from, want) {
		t.Errorf("N79's 2024 figure comes from %v, want %v", from, want)
	}
	if n79.Values["dossiers_fully_online"].Period != period.MustParse("2025-Q4") || n79.Values["dossiers_fully_online"].Computed {
		t.Errorf("N79's 2025 figure %+v, want its own 2025-Q4 observation", n79.Values["dossiers_fully_online"])
	}
	if y2025.DataCutoff == nil || !y2025.DataCutoff.Equal(testNow) || !slices.Equal(y2025.Sources, []indicators.Source{indicators.FromDemo}) {
		t.Errorf("cut-off %v, sources %v", y2025.DataCutoff, y2025.Sources)
	}
	if len(y2025.Trends) < 5 {
		t.Errorf("%d national trends", len(y2025.Trends))
	}
}

func entry(rep *query.RankingReport, code string) (query.RankingEntry, bool) {
	for _, e := range rep.Entries {
		if e.Agency == code {
			return e, true
		}
	}
	return query.RankingEntry{}, false
}

func TestRankingFlagsMissingDataAndNeverCountsItAsZero(t *testing.T) {
	p := period.MustParse("2025")
	cat, reg := indicators.DefaultCatalogue(), indicators.DefaultRegistry()
	var obs []indicators.Observation
	add := func(agency, code string, v float64) {
		obs = append(obs, indicators.Observation{SeriesKey: indicators.SeriesKey{Indicator: code, Agency: agency, Period: p},
			Value: v, Numerator: new(v), Denominator: new(100.0), Source: indicators.FromSubmission, Submitter: "test"})
	}
	// Five yearly indicators; Lạng Sơn has all, Hà Nội misses one (20%), Cao Bằng three.
	codes := []string{"sat_digital_services", "ps_nonstate_delivery", "open_data_agencies", "inspections_digital", "officials_digital_skills"}
	for i, c := range codes {
		add("P20", c, 40)
		add("P04", c, 20)
		if i > 0 {
			add("P01", c, 80)
		}
	}
	st := openStore(t, obs)
	q := query.New(st, cat, reg, func() time.Time { return testNow })
	rep, err := q.Ranking(context.Background(), query.RankingRequest{Group: indicators.Provinces, Period: p, Method: indicators.DefaultRankingMethod()})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Ranked != 3 || rep.Members != 34 {
		t.Fatalf("%d of %d ranked, want the 3 with data", rep.Ranked, rep.Members)
	}
	hn, _ := entry(rep, "P01")
	if hn.Rank != 1 || *hn.Score != 100 || hn.Flag != indicators.FlagPartial || !slices.Equal(hn.Missing, []string{"sat_digital_services"}) {
		t.Errorf("Hà Nội: %+v, want rank 1 on the four it has, flagged", hn.RankEntry)
	}
	for _, e := range rep.Entries {
		if e.Rank == 0 && (e.Score != nil || e.Flag != indicators.FlagInsufficient) {
			t.Errorf("%s is unranked but scored %v / flagged %q", e.Agency, e.Score, e.Flag)
		}
	}
	for _, ind := range rep.Indicators {
		if !slices.Contains(codes, ind.Code) && ind.Used {
			t.Errorf("%s is used although no province reported it", ind.Code)
		}
	}
}

func TestRankingRefusesAPeriodThatHasNotStarted(t *testing.T) {
	st := openStore(t, nil)
	q := query.New(st, indicators.DefaultCatalogue(), indicators.DefaultRegistry(), func() time.Time { return testNow })
	_, err := q.Ranking(context.Background(), query.RankingRequest{Group: indicators.Provinces, Period: period.MustParse("2027"), Method: indicators.DefaultRankingMethod()})
	var inv *query.InvalidError
	if !errors.As(err, &inv) || inv.Field != "period" {
		t.Fatalf("2027 ranked in 2026: %v", err)
	}
	rep, err := q.Ranking(context.Background(), query.RankingRequest{Group: indicators.Provinces, Period: period.MustParse("2026"), Method: indicators.DefaultRankingMethod()})
	if err != nil || rep.PeriodComplete {
		t.Fatalf("2026 in November 2026: %v, complete=%v; want a year-to-date ranking", err, rep.PeriodComplete)
	}
}

func TestChangeFromLastYearComparesTheSameIndicators(t *testing.T) {
	cat, reg := indicators.DefaultCatalogue(), indicators.DefaultRegistry()
	var obs []indicators.Observation
	add := func(agency, code, p string, v float64) {
		obs = append(obs, indicators.Observation{SeriesKey: indicators.SeriesKey{Indicator: code, Agency: agency, Period: period.MustParse(p)},
			Value: v, Numerator: new(v), Denominator: new(100.0), Source: indicators.FromSubmission, Submitter: "test"})
	}
	// Officials trained: reported both years, Lạng Sơn ahead. Open data: reported in 2024
	// only, Cao Bằng far ahead; it must not decide the 2024 ranks the change is taken from.
	for _, y := range []string{"2024", "2025"} {
		add("P20", "officials_digital_skills", y, 80)
		add("P04", "officials_digital_skills", y, 60)
	}
	add("P20", "open_data_agencies", "2024", 10)
	add("P04", "open_data_agencies", "2024", 90)
	q := query.New(openStore(t, obs), cat, reg, func() time.Time { return testNow })
	m := indicators.DefaultRankingMethod()
	m.MaxMissingShare = 0.5
	rep, err := q.Ranking(context.Background(), query.RankingRequest{Group: indicators.Provinces, Period: period.MustParse("2025"), Method: m})
	if err != nil {
		t.Fatal(err)
	}
	for _, code := range []string{"P20", "P04"} {
		e, _ := entry(rep, code)
		if e.PreviousRank == nil || *e.PreviousRank != e.Rank || *e.Change != 0 {
			t.Errorf("%s: rank %d, previous %v: on the same indicator nothing changed", code, e.Rank, e.PreviousRank)
		}
	}
}

// TestRankingIsKeptUntilTheFiguresChange holds the rankings page, the ranking API and
// every province's card to one computation per data version: asked again with nothing
// new stored, the ranking reads nothing; a new revision of one figure is in the next
// answer. A ranking with provenance (the workbook's) is computed each time.
func TestRankingIsKeptUntilTheFiguresChange(t *testing.T) {
	q, st := demoRanking(t)
	ctx := context.Background()
	req := query.RankingRequest{Group: indicators.Provinces, Period: period.MustParse("2025"), Method: indicators.DefaultRankingMethod(), Trends: true}
	ranking := func() (*query.RankingReport, int64) {
		t.Helper()
		st.reads.Store(0)
		rep, err := q.Ranking(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		return rep, st.reads.Load()
	}

	first, reads := ranking()
	if reads == 0 {
		t.Fatal("the first ranking read nothing")
	}
	again, reads := ranking()
	if reads != 0 {
		t.Errorf("the same ranking with nothing new stored read the store %d times", reads)
	}
	if again.Ranked != first.Ranked || again.Entries[0].Agency != first.Entries[0].Agency {
		t.Errorf("the kept ranking differs: %d ranked, first %s; want %d, %s", again.Ranked, again.Entries[0].Agency, first.Ranked, first.Entries[0].Agency)
	}

	// A new revision of HCMC's 2025-Q4 dossier figure.
	obs, err := st.Store.Observations(ctx, store.Query{Indicators: []string{"dossiers_fully_online"}, Agencies: []string{"N79"},
		From: period.MustParse("2025-Q4").Start(nil), To: period.MustParse("2025-Q4").End(nil), Kinds: []period.Kind{period.Quarter}})
	if err != nil || len(obs) != 1 {
		t.Fatalf("N79's 2025-Q4 observation: %v, %d found", err, len(obs))
	}
	o := obs[0]
	num, den := *o.Denominator/4, *o.Denominator
	o.Numerator, o.Denominator, o.Value, o.Revision, o.ReceivedAt, o.Batch = &num, &den, 25, 0, testNow, ""
	if _, err := st.WriteObservations(ctx, []indicators.Observation{o}); err != nil {
		t.Fatal(err)
	}
	after, reads := ranking()
	if reads == 0 {
		t.Error("after a new revision the ranking read nothing: it answered from the old figures")
	}
	n79, _ := entry(after, "N79")
	if got := n79.Values["dossiers_fully_online"].Value; got != 25 {
		t.Errorf("N79's dossier figure after the new revision: %v, want 25", got)
	}

	req.Provenance = true
	for range 2 {
		if _, reads := ranking(); reads == 0 {
			t.Error("a ranking with provenance was answered from the cache")
		}
	}
}

// versionOnly is the real store with its figures version but without the figures it
// keeps on disk: a Service over it keeps figures in memory only.
type versionOnly struct{ st *countingStore }

func (v versionOnly) Observations(ctx context.Context, q store.Query) ([]indicators.Observation, error) {
	return v.st.Observations(ctx, q)
}

func (v versionOnly) FiguresVersion(ctx context.Context) (string, error) {
	return v.st.FiguresVersion(ctx)
}

// TestRankingFromKeptFiguresEqualsRankingFromObservations is the property behind taking
// a yearly ranking's figures from the kept yearly figures: on random data of every
// period length (years, halves, quarters and months of the same series, so that the
// year, the period ending last and the longer of two ending together are all chosen
// somewhere), random sources, receipt times and later revisions, for agencies of every
// level on both sides of the 2025 merger, each peer group's ranking of each year, with
// provenance and trends, equals the one computed from the observations of its two years.
func TestRankingFromKeptFiguresEqualsRankingFromObservations(t *testing.T) {
	ctx := context.Background()
	cat, reg := indicators.DefaultCatalogue(), indicators.DefaultRegistry()
	codes := []string{"dossiers_fully_online", "officials_digital_skills", "portal_latency_median", "work_records_online"}
	sources := []indicators.Source{indicators.FromSubmission, indicators.FromFeed, indicators.FromProbe, indicators.FromDemo}
	kinds := []period.Kind{period.Year, period.Half, period.Quarter, period.Month}
	agencies := reg.All()
	for seed := range uint64(3) {
		rng := rand.New(rand.NewPCG(seed, 12))
		random := func(code, agency string, p period.Period) indicators.Observation {
			o := indicators.Observation{SeriesKey: indicators.SeriesKey{Indicator: code, Agency: agency, Period: p},
				Source: sources[rng.IntN(len(sources))], Submitter: "test",
				ReceivedAt: p.End(nil).Add(time.Duration(rng.IntN(90*24)) * time.Hour)}
			den := float64(1 + rng.IntN(400))
			if code == "portal_latency_median" { // a weighted mean: value and weight
				o.Value, o.Denominator = 0.1+3*rng.Float64(), &den
				return o
			}
			num := float64(rng.IntN(int(den) + 1))
			o.Value, o.Numerator, o.Denominator = 100*num/den, &num, &den
			return o
		}
		var obs []indicators.Observation
		for _, code := range codes {
			for _, a := range agencies {
				if rng.IntN(3) == 0 {
					continue // some agencies report nothing: rolled up, or missing
				}
				for year := 2023; year <= 2026; year++ {
					for _, k := range kinds {
						if rng.IntN(3) != 0 {
							continue
						}
						for i := 1; i <= k.PerYear(); i++ {
							p := period.Period{Kind: k, Year: year, Index: i}
							if rng.IntN(2) == 0 && p.Ended(testNow) {
								obs = append(obs, random(code, a.Code, p))
							}
						}
					}
				}
			}
		}
		st := openStore(t, obs)
		// Later revisions of some series.
		var revised []indicators.Observation
		for range 200 {
			o := obs[rng.IntN(len(obs))]
			revised = append(revised, random(o.Indicator, o.Agency, o.Period))
		}
		if _, err := st.WriteObservations(ctx, revised); err != nil {
			t.Fatal(err)
		}
		clock := func() time.Time { return testNow }
		fresh := query.New(historyOnly{st}, cat, reg, clock)
		// Most indicators are missing: the ranking ranks on the four given.
		method := indicators.DefaultRankingMethod()
		method.MaxMissingShare = 0.99
		// Figures kept on disk (the SQLite store), and figures kept in memory only
		// (a store with a figures version alone), every indicator's kept as goc
		// serve's warm-up leaves them: the rankings take them from there.
		onDisk := query.New(st, cat, reg, clock)
		inMemory := query.New(versionOnly{st}, cat, reg, clock)
		for _, kept := range []*query.Service{onDisk, inMemory} {
			if err := kept.WarmUp(ctx, method); err != nil {
				t.Fatal(err)
			}
		}
		// And after a restart: the figures read back from disk.
		restarted := query.New(st, cat, reg, clock)
		ranked, asked := 0, 0
		for _, kept := range []*query.Service{onDisk, inMemory, restarted} {
			for _, g := range indicators.PeerGroups() {
				for _, p := range []string{"2024", "2025", "2026"} {
					for _, prov := range []bool{true, false} {
						req := query.RankingRequest{Group: g, Period: period.MustParse(p), Method: method, Trends: true, Provenance: prov}
						st.reads.Store(0)
						got, err := kept.Ranking(ctx, req)
						if err != nil {
							t.Fatal(err)
						}
						if n := st.reads.Load(); !prov && n > 0 {
							t.Fatalf("seed %d, %s in %s: the ranking read the store %d times with every figure kept", seed, g, p, n)
						}
						want, err := fresh.Ranking(ctx, req)
						if err != nil {
							t.Fatal(err)
						}
						if want.Ranked > 0 && (!prov || len(want.Provenance) > 0) {
							ranked++
						}
						sameJSON(t, fmt.Sprintf("seed %d, %s in %s, provenance %v", seed, g, p, prov), got, want)
						asked++
					}
				}
			}
		}
		if ranked < asked*3/4 {
			t.Fatalf("seed %d: only %d of %d rankings ranked anyone: too little to compare", seed, ranked, asked)
		}
		// New revisions of 2025 after the figures were kept: a restarted Service finds
		// 2025 marked and must not take its kept rows; 2023 and 2024 are still good.
		revised = revised[:0]
		for _, o := range obs {
			if o.Period.Year == 2025 && rng.IntN(20) == 0 {
				revised = append(revised, random(o.Indicator, o.Agency, o.Period))
			}
		}
		if _, err := st.WriteObservations(ctx, revised); err != nil {
			t.Fatal(err)
		}
		for _, p := range []string{"2024", "2025", "2026"} {
			req := query.RankingRequest{Group: indicators.Provinces, Period: period.MustParse(p), Method: method, Trends: true, Provenance: true}
			got, err := query.New(st, cat, reg, clock).Ranking(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			want, err := fresh.Ranking(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			sameJSON(t, fmt.Sprintf("seed %d, after new revisions of 2025, provinces in %s", seed, p), got, want)
		}
	}
}
