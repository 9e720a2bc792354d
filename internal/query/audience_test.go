package query

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/indicators/period"
	"github.com/g-oc/goc/internal/store"
	"github.com/g-oc/goc/internal/store/sqlite"
)

// audienceStore is a real SQLite store holding, across agencies of the P20 subtree and
// outside it, series in every workflow state: approved once, approved then revised and
// waiting, returned, never approved, approved twice. Both indicators, a year and its
// quarters (so period kinds interleave in the order), several revisions per series.
func audienceStore(t *testing.T) *sqlite.Store {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "goc.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	agencies := []string{"BCA", "BQP", "N79", "P20", "P20-D01", "P20-D01-C01", "P20-D02", "P20-D02-C01"}
	inds := []string{"dossiers_fully_online", "sat_digital_services"}
	periods := []period.Period{period.MustParse("2025"), period.MustParse("2025-Q1"), period.MustParse("2025-Q2"), period.MustParse("2026")}
	write := func(round int, keep func(ai, pi int) bool) {
		t.Helper()
		var batch []indicators.Observation
		for ai, a := range agencies {
			for pi, p := range periods {
				if !keep(ai, pi) {
					continue
				}
				for ii, ind := range inds {
					v := float64(10*round + ai + pi + ii)
					batch = append(batch, indicators.Observation{
						SeriesKey: indicators.SeriesKey{Indicator: ind, Agency: a, Period: p},
						Value:     v, Numerator: new(v), Denominator: new(100.0),
						Source: indicators.FromSubmission, Submitter: "officer-" + a,
						ReceivedAt: figuresNow.Add(time.Duration(round) * time.Hour),
					})
				}
			}
		}
		if _, err := st.WriteObservations(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}
	review := func(decide func(ai, pi int) store.State) {
		t.Helper()
		waiting, err := st.Submissions(ctx, store.SubmissionQuery{States: []store.State{store.Submitted}})
		if err != nil {
			t.Fatal(err)
		}
		var rs []store.Review
		for _, s := range waiting {
			ai, pi := slices.Index(agencies, s.Agency), slices.IndexFunc(periods, func(p period.Period) bool { return p == s.Period })
			switch to := decide(ai, pi); to {
			case store.Approved, store.Returned:
				rs = append(rs, store.Review{Agency: s.Agency, Period: s.Period, To: to, Who: "reviewer", Comment: "kiểm tra lại / check"})
			}
		}
		if len(rs) > 0 {
			if _, err := st.Review(ctx, rs); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Round 1: everything but the last period of every third agency (kept for a series
	// that is only ever pending); most approved, some returned, some left waiting.
	write(1, func(ai, pi int) bool { return pi < 3 || ai%3 != 0 })
	review(func(ai, pi int) store.State {
		switch (ai + pi) % 4 {
		case 0, 1:
			return store.Approved
		case 2:
			return store.Returned
		}
		return store.Submitted
	})
	// Round 2: new revisions of about half the submissions; some approved.
	write(2, func(ai, pi int) bool { return (ai+2*pi)%2 == 0 })
	review(func(ai, pi int) store.State {
		if (ai*pi)%3 == 0 {
			return store.Approved
		}
		return store.Returned
	})
	// Round 3: a third revision waiting for review, and the pending-only series.
	write(3, func(ai, pi int) bool { return (ai+pi)%3 == 1 || (pi == 3 && ai%3 == 0) })
	return st
}

// TestSignedInReadsPageWithoutLosingOrRepeatingRows: an officer's or reviewer's read
// merges two store reads (approved figures of other agencies, newest figures of its
// own), each paged by the same cursor and limit. Paging through it with any page size,
// taking each next cursor from the last row of the merged page, must give exactly the
// unpaged answer: no row skipped where one part's page ends before the other's, none
// repeated where a series is in both parts, paging not ending early on a short page.
func TestSignedInReadsPageWithoutLosingOrRepeatingRows(t *testing.T) {
	ctx := context.Background()
	st := audienceStore(t)
	reg := indicators.DefaultRegistry()
	svc := New(st, indicators.DefaultCatalogue(), reg, func() time.Time { return figuresNow })
	scope := func(code string) Audience {
		return Audience{Sees: func(a string) bool { return reg.Within(a, code) }}
	}
	audiences := []struct {
		name string
		a    Audience
	}{
		{"public", Audience{}},
		{"officer of P20-D01", scope("P20-D01")},
		{"reviewer of P20", scope("P20")},
		{"officer of BQP", scope("BQP")},
		{"operator", Audience{All: true}},
	}
	queries := []struct {
		name string
		q    store.Query
	}{
		{"everything", store.Query{}},
		{"one indicator", store.Query{Indicators: []string{"sat_digital_services"}}},
		{"seen and unseen agencies named", store.Query{Agencies: []string{"N79", "P20-D01", "P20-D02-C01", "BQP"}}},
		{"quarters of 2025", store.Query{Kinds: []period.Kind{period.Quarter}, From: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}},
	}
	public := map[string][]indicators.Observation{}
	for _, au := range audiences {
		for _, qc := range queries {
			for _, history := range []bool{false, true} {
				name := fmt.Sprintf("%s/%s/history=%v", au.name, qc.name, history)
				t.Run(name, func(t *testing.T) {
					s := svc.For(au.a)
					q := qc.q
					q.History = history
					all, err := s.Observations(ctx, q)
					if err != nil {
						t.Fatal(err)
					}
					if len(all) < 8 {
						t.Fatalf("unpaged answer has %d rows; the case pages nothing", len(all))
					}
					// The signed-in answers must differ from the public one, or the
					// merge is not exercised.
					pk := fmt.Sprintf("%s/%v", qc.name, history)
					if au.a.public() {
						public[pk] = all
					} else if p, ok := public[pk]; ok && slices.EqualFunc(p, all, sameObservation) {
						t.Fatalf("answer equals the public one; the audience sees nothing unapproved here")
					}
					for _, size := range []int{1, 2, 3, 7} {
						got := pageThrough(t, s, q, size)
						if !slices.EqualFunc(got, all, sameObservation) {
							t.Errorf("paged by %d: %d rows, want the unpaged %d\n%s", size, len(got), len(all), diffRows(got, all))
						}
					}
				})
			}
		}
	}
}

// pageThrough reads q page by page as a client of the API does: a page of size rows,
// the next cursor the key of its last row, the end at a page shorter than size.
func pageThrough(t *testing.T, s *Service, q store.Query, size int) []indicators.Observation {
	t.Helper()
	var out []indicators.Observation
	q.Limit = size
	for pages := 0; ; pages++ {
		if pages > 1000 {
			t.Fatalf("paged by %d: no end after 1000 pages", size)
		}
		page, err := s.Observations(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) > size {
			t.Fatalf("paged by %d: a page of %d rows", size, len(page))
		}
		out = append(out, page...)
		if len(page) < size {
			return out
		}
		k := store.KeyOf(page[len(page)-1])
		q.After = &k
	}
}

func sameObservation(a, b indicators.Observation) bool {
	return store.KeyOf(a) == store.KeyOf(b) && a.Value == b.Value
}

func diffRows(got, want []indicators.Observation) string {
	key := func(o indicators.Observation) string {
		return fmt.Sprintf("%s/%s/%s r%d", o.Indicator, o.Agency, o.Period, o.Revision)
	}
	count := map[string]int{}
	for _, o := range want {
		count[key(o)]++
	}
	for _, o := range got {
		count[key(o)]--
	}
	var b strings.Builder
	for k, n := range count {
		switch {
		case n > 0:
			fmt.Fprintf(&b, "  missing %s\n", k)
		case n < 0:
			fmt.Fprintf(&b, "  repeated %s (%d extra)\n", k, -n)
		}
	}
	if b.Len() == 0 {
		b.WriteString("  same rows, different order\n")
	}
	return b.String()
}
