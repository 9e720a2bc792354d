package storetest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/indicators/period"
	"github.com/g-oc/goc/internal/store"
)

func figureObs(ind, agency, p string, v float64) indicators.Observation {
	return indicators.Observation{
		SeriesKey: indicators.SeriesKey{Indicator: ind, Agency: agency, Period: period.MustParse(p)},
		Value:     v, Source: indicators.FromSubmission, Submitter: "test",
	}
}

// testFigureMarks follows kept figures of one
// indicator through the writes that may change them or not: each step's marked years
// are what a reader would recompute.
func testFigureMarks(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	keeper := s.(store.FigureKeeper)
	bulkLoader, canBulk := s.(store.BulkLoader)
	// A keeper whose marks see only some of the writes (InfluxDB with a shared ledger:
	// other replicas' never pass through its spool) may instead make a set invalid
	// after any change, or mark more years than changed (a retried write); a set it
	// still calls valid must have every year that changed marked.
	exact := true
	if m, ok := s.(interface{ FigureMarksExact() bool }); ok {
		exact = m.FigureMarksExact()
	}
	set := store.FigureSet{View: "public", Indicator: "x"}
	keepNow := func() {
		t.Helper()
		k, err := keeper.KeptFigures(ctx, set, "v1")
		if err != nil {
			t.Fatal(err)
		}
		if ok, err := keeper.KeepFigures(ctx, set, store.FigureUpdate{Stamp: "v1", Base: k, All: true}); err != nil || !ok {
			t.Fatalf("keep: %v %v", ok, err)
		}
	}
	keepNow()
	steps := []struct {
		name  string
		bulk  bool // needs a BulkLoader
		do    func() error
		stale []int
	}{
		{"new values of two years", false, func() error {
			_, err := s.WriteObservations(ctx, []indicators.Observation{figureObs("x", "A", "2024-03", 1), figureObs("x", "A", "2025-Q1", 2)})
			return err
		}, []int{2024, 2025}},
		{"the same values again", false, func() error {
			_, err := s.WriteObservations(ctx, []indicators.Observation{figureObs("x", "A", "2024-03", 1)})
			return err
		}, nil},
		{"another indicator", false, func() error {
			_, err := s.WriteObservations(ctx, []indicators.Observation{figureObs("y", "A", "2023-03", 1)})
			return err
		}, nil},
		{"a returned submission", false, func() error {
			_, err := s.Review(ctx, []store.Review{{Agency: "A", Period: period.MustParse("2024-03"), To: store.Returned, Who: "r", Comment: "check"}})
			return err
		}, nil},
		{"an approved submission", false, func() error {
			_, err := s.Review(ctx, []store.Review{{Agency: "A", Period: period.MustParse("2025-Q1"), To: store.Approved, Who: "r"}})
			return err
		}, []int{2025}},
		{"a bulk load rolled back", true, func() error {
			b, err := bulkLoader.BeginBulk(ctx)
			if err != nil {
				return err
			}
			if err := b.Write(ctx, []indicators.Observation{figureObs("x", "B", "2021", 5)}); err != nil {
				return err
			}
			return b.Rollback()
		}, nil},
		{"a bulk load committed", true, func() error {
			b, err := bulkLoader.BeginBulk(ctx)
			if err != nil {
				return err
			}
			if err := b.Write(ctx, []indicators.Observation{figureObs("x", "B", "2021", 5), figureObs("x", "B", "1998-H2", 5)}); err != nil {
				return err
			}
			_, err = b.Commit()
			return err
		}, []int{1998, 2021}},
	}
	for _, st := range steps {
		if st.bulk && !canBulk {
			continue
		}
		if err := st.do(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		k, err := keeper.KeptFigures(ctx, set, "v1")
		if err != nil {
			t.Fatal(err)
		}
		missing := slices.ContainsFunc(st.stale, func(y int) bool { return !slices.Contains(k.Stale, y) })
		if !exact && (!k.Valid || !missing) {
			// Recomputed whole, or more years than needed: never stale, only slower.
			keepNow()
			continue
		}
		if !k.Valid || missing || !slices.Equal(k.Stale, st.stale) {
			t.Errorf("after %s: valid %v, years marked %v, want %v", st.name, k.Valid, k.Stale, st.stale)
		}
		keepNow()
	}
}

// testKeepFigures checks the round trip of kept figures and the rule that keeps two readers from undoing each other: an update
// computed from a set that changed since is dropped, a forced one (goc rebuild) is not,
// and another stamp reads as nothing kept.
func testKeepFigures(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t).(store.FigureKeeper)
	set := store.FigureSet{View: "all", Indicator: "x", Level: indicators.Commune}
	num := 3.0
	year := func(agency string, y int, v float64) store.YearFigures {
		return store.YearFigures{Agency: agency, Year: y,
			Annual:  []indicators.Value{{Agency: agency, Period: period.Period{Kind: period.Year, Year: y, Index: 1}, Level: indicators.Commune, Value: v, Numerator: &num, Computed: true, From: []string{"C1", "C2"}}},
			Sources: []indicators.Source{indicators.FromSubmission, indicators.FromProbe},
			Cutoff:  time.Date(y, 5, 6, 7, 8, 9, 10, time.UTC)}
	}
	base, err := s.KeptFigures(ctx, set, "v1")
	if err != nil || base.Valid {
		t.Fatalf("an empty store keeps figures: %+v, %v", base, err)
	}
	want := []store.YearFigures{year("A", 2024, 1.5), year("A", 2025, 2.5), year("B", 2024, 0.1)}
	if ok, err := s.KeepFigures(ctx, set, store.FigureUpdate{Stamp: "v1", Base: base, All: true, Years: want}); err != nil || !ok {
		t.Fatalf("keep: %v %v", ok, err)
	}
	// A second reader that read the empty set too stores nothing over the first.
	if ok, err := s.KeepFigures(ctx, set, store.FigureUpdate{Stamp: "v1", Base: base, All: true}); err != nil || ok {
		t.Fatalf("an update from a set that changed since was stored: %v %v", ok, err)
	}
	got, err := s.KeptFigures(ctx, set, "v1")
	if err != nil || !got.Valid {
		t.Fatalf("read back: %+v, %v", got, err)
	}
	if !slices.EqualFunc(got.Years, want, func(a, b store.YearFigures) bool {
		return a.Agency == b.Agency && a.Year == b.Year && a.Cutoff.Equal(b.Cutoff) && slices.Equal(a.Sources, b.Sources) &&
			len(a.Annual) == 1 && a.Annual[0].Value == b.Annual[0].Value && *a.Annual[0].Numerator == num &&
			a.Annual[0].Period == b.Annual[0].Period && slices.Equal(a.Annual[0].From, b.Annual[0].From) && a.Annual[0].Computed
	}) {
		t.Fatalf("kept figures read back differ:\n got %+v\nwant %+v", got.Years, want)
	}
	// Replacing one year keeps the others.
	if ok, err := s.KeepFigures(ctx, set, store.FigureUpdate{Stamp: "v1", Base: got, Recomputed: []int{2024}, Years: []store.YearFigures{year("A", 2024, 9)}}); err != nil || !ok {
		t.Fatalf("keep one year: %v %v", ok, err)
	}
	got, err = s.KeptFigures(ctx, set, "v1")
	if err != nil || len(got.Years) != 2 || got.Years[0].Annual[0].Value != 9 || got.Years[1].Year != 2025 {
		t.Fatalf("after replacing 2024: %+v, %v", got.Years, err)
	}
	if other, err := s.KeptFigures(ctx, set, "v2"); err != nil || other.Valid || other.Stored != "v1" {
		t.Fatalf("figures kept under v1 read under v2: %+v, %v", other, err)
	}
	if ok, err := s.KeepFigures(ctx, set, store.FigureUpdate{Stamp: "v2", All: true, Force: true}); err != nil || !ok {
		t.Fatalf("a forced update was not stored: %v %v", ok, err)
	}
	if got, err := s.KeptFigures(ctx, set, "v2"); err != nil || !got.Valid || len(got.Years) != 0 {
		t.Fatalf("after the forced update: %+v, %v", got, err)
	}
}
