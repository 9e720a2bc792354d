package query

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/indicators/period"
	"github.com/g-oc/goc/internal/store"
	"github.com/g-oc/goc/internal/store/sqlite"
)

var figuresNow = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

// foreignReads is the real SQLite store with a count of the observations its reads
// returned for agencies outside the registry.
type foreignReads struct {
	*sqlite.Store
	reg     *indicators.Registry
	foreign int
}

func (s *foreignReads) Observations(ctx context.Context, q store.Query) ([]indicators.Observation, error) {
	obs, err := s.Store.Observations(ctx, q)
	for _, o := range obs {
		if _, ok := s.reg.Get(o.Agency); !ok {
			s.foreign++
		}
	}
	return obs, err
}

// The load test's store holds 10,417 agencies the registry does not know, and a real
// one may keep agencies a later registry dropped. No figure rolls up from them, so the
// memory of computing figures must not grow with them: before, a year of one indicator
// was read and held whole, every agency's observations at once. Now only the
// registry's agencies are read, a chunk of them at a time.
func TestFiguresReadAndHoldOnlyTheRegistrysAgenciesWhateverElseIsStored(t *testing.T) {
	ctx := context.Background()
	cat, reg := indicators.DefaultCatalogue(), indicators.DefaultRegistry()
	const code = "dossiers_fully_online"
	var known, unknown []indicators.Observation
	add := func(to *[]indicators.Observation, agency string, q period.Period, num float64) {
		*to = append(*to, indicators.Observation{
			SeriesKey: indicators.SeriesKey{Indicator: code, Agency: agency, Period: q},
			Value:     num, Numerator: new(num), Denominator: new(100.0),
			Source: indicators.FromSubmission, Submitter: "test", ReceivedAt: figuresNow.Add(-time.Hour),
		})
	}
	for y := 2024; y <= 2025; y++ {
		for i := 1; i <= 4; i++ {
			q := period.Period{Kind: period.Quarter, Year: y, Index: i}
			add(&known, "P20", q, float64(40+i))
			add(&known, "N79", q, float64(50+i))
			for u := range 300 {
				add(&unknown, fmt.Sprintf("U%05d", u), q, float64(60+u%30))
			}
		}
	}
	open := func(obs []indicators.Observation) *foreignReads {
		st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "goc.db"), sqlite.WithAutoApprove(true))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		if _, err := st.WriteObservations(ctx, obs); err != nil {
			t.Fatal(err)
		}
		return &foreignReads{Store: st, reg: reg}
	}
	crowded := open(append(slices.Clone(known), unknown...))
	clean := open(known)
	now := func() time.Time { return figuresNow }
	q := New(crowded, cat, reg, now)
	q.agencyChunk = 50
	want := New(clean, cat, reg, now)

	ind, _ := cat.Get(code)
	byPeriod, err := q.ownByPeriodIn(ctx, ind, time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	held := map[string]bool{}
	for _, m := range byPeriod {
		for a := range m {
			held[a] = true
		}
	}
	if len(held) != 2 || !held["P20"] || !held["N79"] {
		t.Errorf("figures held the observations of %d agencies, want only the registry's P20 and N79", len(held))
	}
	if crowded.foreign > 0 {
		t.Errorf("the reads returned %d observations of agencies outside the registry (the store holds %d of %s), want none",
			crowded.foreign, len(unknown), code)
	}

	// The figures are those of the store without the unknown agencies: through the kept
	// yearly figures (the public view) and read afresh (Series).
	for _, year := range []int{2025, 2030} {
		got, err := q.ProgressOfAll(ctx, code, year, figuresNow)
		if err != nil {
			t.Fatal(err)
		}
		exp, err := want.ProgressOfAll(ctx, code, year, figuresNow)
		if err != nil {
			t.Fatal(err)
		}
		sameFigures(t, "progress of every agency", got, exp)
	}
	for _, agency := range []string{"VN", "P20", "N79"} {
		_, got, err := q.Series(ctx, code, agency, "")
		if err != nil {
			t.Fatal(err)
		}
		_, exp, err := want.Series(ctx, code, agency, "")
		if err != nil {
			t.Fatal(err)
		}
		if len(exp.Values) == 0 {
			t.Fatalf("no series of %s in the clean store", agency)
		}
		sameFigures(t, "series of "+agency, got, exp)
	}
	// The ranking reads two years of every ranking indicator: the registry's too.
	for _, p := range []string{"2024", "2025"} {
		req := RankingRequest{Group: indicators.Provinces, Period: period.MustParse(p), Method: indicators.DefaultRankingMethod(), Trends: true}
		got, err := q.Ranking(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		exp, err := want.Ranking(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		sameFigures(t, "ranking of the provinces in "+p, got, exp)
	}
	if crowded.foreign > 0 {
		t.Errorf("figures, series and rankings read %d observations of agencies outside the registry, want none", crowded.foreign)
	}
}

func sameFigures(t *testing.T, what string, got, want any) {
	t.Helper()
	g, _ := json.Marshal(got)
	w, _ := json.Marshal(want)
	if string(g) != string(w) {
		t.Errorf("%s: differs from the store without unknown agencies:\n got %.400s\nwant %.400s", what, g, w)
	}
}
