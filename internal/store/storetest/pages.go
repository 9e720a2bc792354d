package storetest

import (
	"slices"
	"testing"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/internal/store"
)

// testPagesWalkTheWholeAnswer checks keyset pagination: reading page after page with
// Limit and After (the key of the last observation read) gives exactly the answer of
// one unlimited query, in order, with no repeat and no gap, for latest values and
// history, with filters; and a page never holds more than Limit observations.
func testPagesWalkTheWholeAnswer(t *testing.T, open Opener) {
	s := open(t)
	computed := func(o indicators.Observation) indicators.Observation {
		o.Source = indicators.FromComputed
		return o
	}
	write(t, s, ob("I2", "A3", "2025-01", 3), ob("I1", "A1", "2025-02", 1), ob("I1", "A1", "2024", 1),
		ob("I1", "A2", "2025-Q1", 2), ob("I2", "A1", "2025-H1", 1), ob("I1", "A1", "2025-01", 1),
		ob("I1", "A2", "2025-01", 2), ob("I2", "A3", "2025", 3), ob("I0", "A9", "2030", 1))
	write(t, s, ob("I1", "A1", "2025-02", 2), ob("I1", "A2", "2025-Q1", 3), computed(ob("I2", "A3", "2025", 4)))
	write(t, s, ob("I1", "A1", "2025-02", 3), computed(ob("I1", "A2", "2025-01", 5)))
	queries := map[string]store.Query{
		"everything":           {},
		"one indicator":        {Indicators: []string{"I1"}},
		"two agencies":         {Agencies: []string{"A1", "A2"}},
		"submitted only":       {Sources: []indicators.Source{indicators.FromSubmission}},
		"computed only":        {Sources: []indicators.Source{indicators.FromComputed}},
		"unknown indicator":    {Indicators: []string{"nope"}},
		"agency and indicator": {Indicators: []string{"I1"}, Agencies: []string{"A1"}},
	}
	for name, base := range queries {
		for _, history := range []bool{false, true} {
			base.History = history
			want := keys(query(t, s, base))
			for _, limit := range []int{1, 2, 3, 100} {
				var got []string
				q := base
				q.Limit = limit
				for pages := 0; ; pages++ {
					if pages > 50 {
						t.Fatalf("%s history=%v limit %d: more than 50 pages for %d observations", name, history, limit, len(want))
					}
					page := query(t, s, q)
					if len(page) > limit {
						t.Fatalf("%s history=%v: page of %d observations, limit %d", name, history, len(page), limit)
					}
					got = append(got, keys(page)...)
					if len(page) < limit {
						break
					}
					k := store.KeyOf(page[len(page)-1])
					q.After = &k
				}
				if !slices.Equal(got, want) {
					t.Errorf("%s history=%v limit %d: pages gave\n %v\nwant %v", name, history, limit, got, want)
				}
			}
		}
	}
	// A key past the end gives an empty page, not an error.
	end := store.KeyOf(ob("I9", "Z", "2030", 1))
	if got := query(t, s, store.Query{After: &end, Limit: 10}); len(got) != 0 {
		t.Errorf("page after the last key = %v, want none", keys(got))
	}
}
