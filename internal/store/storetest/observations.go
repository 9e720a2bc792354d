package storetest

import (
	"context"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/indicators/period"
	"github.com/g-oc/goc/internal/store"
)

func testWriteReadBack(t *testing.T, open Opener) {
	s := open(t)
	before := time.Now()
	in := []indicators.Observation{
		// A ratio in the DHIS2 period form, which must come back canonical.
		ratio("dossiers_online", "P01", "2025Q3", 600, 1000),
		// A plain value from a feed, without numerator or denominator.
		with(ob("satisfaction", "M02", "2025S1", 81.5), func(o *indicators.Observation) {
			o.Source, o.Submitter = indicators.FromFeed, "feed:vneid"
		}),
		// A zero numerator is a value, not an absent one.
		ratio("open_data", "P01", "202509", 0, 12),
	}
	got := write(t, s, in...)
	after := time.Now()

	batch := got[0].Batch
	if batch == "" {
		t.Fatal("store left Batch empty; want an id shared by the call")
	}
	for i, g := range got {
		if g.Revision != 1 {
			t.Errorf("%s: revision %d, want 1 for a first write", key(in[i]), g.Revision)
		}
		if g.Batch != batch {
			t.Errorf("%s: batch %q, want %q shared by one call", key(in[i]), g.Batch, batch)
		}
		if g.ReceivedAt.Before(before.Truncate(TimePrecision)) || g.ReceivedAt.After(after) {
			t.Errorf("%s: received at %s, want the store's clock between %s and %s", key(in[i]), g.ReceivedAt, before, after)
		}
		want := in[i]
		want.Revision, want.Batch, want.ReceivedAt = 1, batch, g.ReceivedAt
		if d := diffObservation(g, want); d != "" {
			t.Errorf("returned %s: %s", key(want), d)
		}
	}
	for i, canonical := range []string{"2025-Q3", "2025-H1", "2025-09"} {
		if p := got[i].Period.String(); p != canonical {
			t.Errorf("period of %s = %q, want canonical %q", key(in[i]), p, canonical)
		}
	}
	if got[1].Numerator != nil || got[1].Denominator != nil {
		t.Errorf("plain value came back with numerator %s, denominator %s; want both nil",
			ptrString(got[1].Numerator), ptrString(got[1].Denominator))
	}

	read := query(t, s, store.Query{})
	want := slices.Clone(got)
	slices.SortFunc(want, func(a, b indicators.Observation) int { return compareSeries(a, b) })
	checkSame(t, "read back", read, want)
	if len(read) == 3 && (read[1].Numerator == nil || *read[1].Numerator != 0) {
		t.Errorf("zero numerator read back as %s, want 0", ptrString(read[1].Numerator))
	}
}

func testCallerFieldsKept(t *testing.T, open Opener) {
	s := open(t)
	at := time.Date(2025, 10, 5, 8, 30, 15, 123_000_000, time.FixedZone("ICT", 7*3600))
	in := []indicators.Observation{
		with(ob("dossiers_online", "P01", "2025-09", 61), func(o *indicators.Observation) {
			o.ReceivedAt, o.Batch = at, "submission-42"
		}),
		// One with neither set gets the call's generated values, not the other's.
		ob("dossiers_online", "P02", "2025-09", 55),
	}
	got := write(t, s, in...)
	if !sameTime(got[0].ReceivedAt, at) || got[0].Batch != "submission-42" {
		t.Errorf("caller's received at/batch came back as %s/%q, want %s/%q", got[0].ReceivedAt, got[0].Batch, at, "submission-42")
	}
	if got[1].Batch == "" || got[1].Batch == "submission-42" {
		t.Errorf("observation without batch got %q, want a generated id", got[1].Batch)
	}
	read := query(t, s, store.Query{Agencies: []string{"P01"}})
	checkSame(t, "read back", read, got[:1])
}

func testEmptyBatch(t *testing.T, open Opener) {
	s := open(t)
	got, err := s.WriteObservations(context.Background(), nil)
	if err != nil {
		t.Fatalf("WriteObservations(nil): %v", err)
	}
	if len(got) != 0 {
		t.Errorf("WriteObservations(nil) returned %d observations", len(got))
	}
	if read := query(t, s, store.Query{History: true}); len(read) != 0 {
		t.Errorf("empty batch stored %v", keys(read))
	}
}

func testSecondRevision(t *testing.T, open Opener) {
	s := open(t)
	first := write(t, s, ratio("dossiers_online", "P01", "2025-09", 600, 1000), ob("egdi_rank", "VN", "2024", 71))
	second := write(t, s, ratio("dossiers_online", "P01", "2025-09", 650, 1000))
	if second[0].Revision != 2 {
		t.Fatalf("changed value got revision %d, want 2", second[0].Revision)
	}
	if second[0].Batch == first[0].Batch {
		t.Errorf("second call reused batch %q of the first", first[0].Batch)
	}
	checkSame(t, "latest", query(t, s, store.Query{}), []indicators.Observation{second[0], first[1]})
}

func testHistory(t *testing.T, open Opener) {
	s := open(t)
	t1 := time.Date(2025, 10, 2, 9, 0, 0, 0, time.UTC)
	t2 := t1.Add(26 * time.Hour)
	r1 := write(t, s, with(ob("work_records_online", "P05", "2025-Q3", 72), func(o *indicators.Observation) {
		o.Submitter, o.ReceivedAt = "alice", t1
	}))
	r2 := write(t, s, with(ob("work_records_online", "P05", "2025-Q3", 74.5), func(o *indicators.Observation) {
		o.Submitter, o.ReceivedAt = "bob", t2
	}))
	got := query(t, s, store.Query{History: true})
	checkSame(t, "history", got, []indicators.Observation{r1[0], r2[0]})
	if len(got) == 2 && (got[0].Submitter != "alice" || got[1].Submitter != "bob" ||
		!sameTime(got[0].ReceivedAt, t1) || !sameTime(got[1].ReceivedAt, t2)) {
		t.Errorf("history who/when = %s@%s, %s@%s; want alice@%s, bob@%s",
			got[0].Submitter, got[0].ReceivedAt, got[1].Submitter, got[1].ReceivedAt, t1, t2)
	}
}

func testRepeatIsIdempotent(t *testing.T, open Opener) {
	base := ratio("dossiers_online", "P01", "2025-09", 600, 1000)
	tests := []struct {
		name    string
		again   indicators.Observation
		wantRev int
	}{
		{"same figures from another submitter", with(base, func(o *indicators.Observation) { o.Submitter = "someone-else" }), 1},
		{"same figures with a caller batch", with(base, func(o *indicators.Observation) { o.Batch = "resend" }), 1},
		{"another value", with(base, func(o *indicators.Observation) { o.Value = 60.1 }), 2},
		{"another numerator", with(base, func(o *indicators.Observation) { o.Numerator = new(601.0) }), 2},
		{"no denominator", with(base, func(o *indicators.Observation) { o.Denominator = nil }), 2},
		{"another source", with(base, func(o *indicators.Observation) { o.Source = indicators.FromFeed }), 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			first := write(t, s, base)[0]
			got := write(t, s, tc.again)[0]
			if got.Revision != tc.wantRev {
				t.Fatalf("second write got revision %d, want %d", got.Revision, tc.wantRev)
			}
			hist := query(t, s, store.Query{History: true})
			if len(hist) != tc.wantRev {
				t.Fatalf("history holds %d revisions %v, want %d", len(hist), keys(hist), tc.wantRev)
			}
			if tc.wantRev == 1 {
				// The repeat is the stored revision, untouched by the second call.
				checkSame(t, "repeat", []indicators.Observation{got}, []indicators.Observation{first})
				checkSame(t, "history", hist, []indicators.Observation{first})
			}
		})
	}
}

func testOlderContentIsNewRevision(t *testing.T, open Opener) {
	s := open(t)
	a := ob("open_data", "M03", "2025", 50)
	b := with(a, func(o *indicators.Observation) { o.Value = 60 })
	var revs []int
	for _, o := range []indicators.Observation{a, b, a} {
		revs = append(revs, write(t, s, o)[0].Revision)
	}
	if !slices.Equal(revs, []int{1, 2, 3}) {
		t.Fatalf("writing 50, 60, 50 gave revisions %v, want [1 2 3]", revs)
	}
	if got := query(t, s, store.Query{}); len(got) != 1 || got[0].Value != 50 || got[0].Revision != 3 {
		t.Errorf("latest = %v, want value 50 at revision 3", keys(got))
	}
}

func testAllOrNothing(t *testing.T, open Opener) {
	good := ob("dossiers_online", "P01", "2025-09", 61)
	tests := []struct {
		name string
		bad  func(*indicators.Observation)
	}{
		{"empty indicator", func(o *indicators.Observation) { o.Indicator = "" }},
		{"empty agency", func(o *indicators.Observation) { o.Agency = "" }},
		{"zero period", func(o *indicators.Observation) { o.Period = period.Period{} }},
		{"NaN value", func(o *indicators.Observation) { o.Value = math.NaN() }},
		{"infinite value", func(o *indicators.Observation) { o.Value = math.Inf(1) }},
		{"negative infinite value", func(o *indicators.Observation) { o.Value = math.Inf(-1) }},
		{"NaN numerator", func(o *indicators.Observation) { o.Numerator = new(math.NaN()) }},
		{"infinite denominator", func(o *indicators.Observation) { o.Denominator = new(math.Inf(1)) }},
		{"unknown source", func(o *indicators.Observation) { o.Source = "rumour" }},
		{"empty source", func(o *indicators.Observation) { o.Source = "" }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			stored := write(t, s, good)
			bad := with(ob("dossiers_online", "P03", "2025-09", 40), tc.bad)
			batch := []indicators.Observation{
				with(good, func(o *indicators.Observation) { o.Value = 62 }), // would be revision 2
				ob("dossiers_online", "P02", "2025-09", 55),
				bad,
				ob("dossiers_online", "P04", "2025-09", 58),
			}
			got, err := s.WriteObservations(context.Background(), batch)
			if err == nil {
				t.Fatalf("batch with %s was accepted as %v", tc.name, keys(got))
			}
			checkSame(t, "after rejected batch", query(t, s, store.Query{History: true}), stored)
		})
	}
}

// compareSeries orders observations as the store must: indicator, agency, period
// start, period kind (longer first), revision.
func compareSeries(a, b indicators.Observation) int {
	switch {
	case a.Indicator != b.Indicator:
		return cmpString(a.Indicator, b.Indicator)
	case a.Agency != b.Agency:
		return cmpString(a.Agency, b.Agency)
	}
	if c := a.Period.Start(nil).Compare(b.Period.Start(nil)); c != 0 {
		return c
	}
	if a.Period.Kind != b.Period.Kind {
		return int(a.Period.Kind) - int(b.Period.Kind)
	}
	return a.Revision - b.Revision
}

func cmpString(a, b string) int {
	if a < b {
		return -1
	}
	return 1
}

func testQueryFilters(t *testing.T, open Opener) {
	s := open(t)
	feed := func(o indicators.Observation) indicators.Observation {
		o.Source = indicators.FromFeed
		return o
	}
	computed := func(o indicators.Observation) indicators.Observation {
		o.Source = indicators.FromComputed
		return o
	}
	// Written out of order, so that order in the answers is the store's doing.
	write(t, s,
		ob("I2", "A3", "2025-01", 3),
		feed(ob("I1", "A2", "2025-01", 2)),
		ob("I1", "A1", "2025-02", 1),
		computed(ob("I2", "A3", "2025", 3)),
		ob("I1", "A1", "2024", 1),
		feed(ob("I1", "A2", "2025-Q1", 2)),
		ob("I2", "A1", "2025-H1", 1),
		ob("I1", "A1", "2025-01", 1),
	)
	jan, feb := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		q    store.Query
		want []string
	}{
		{"no filter gives every series in order", store.Query{}, []string{
			"I1/A1/2024 r1", "I1/A1/2025-01 r1", "I1/A1/2025-02 r1",
			"I1/A2/2025-Q1 r1", "I1/A2/2025-01 r1",
			"I2/A1/2025-H1 r1", "I2/A3/2025 r1", "I2/A3/2025-01 r1"}},
		{"one indicator", store.Query{Indicators: []string{"I2"}}, []string{
			"I2/A1/2025-H1 r1", "I2/A3/2025 r1", "I2/A3/2025-01 r1"}},
		{"two agencies", store.Query{Agencies: []string{"A3", "A2"}}, []string{
			"I1/A2/2025-Q1 r1", "I1/A2/2025-01 r1", "I2/A3/2025 r1", "I2/A3/2025-01 r1"}},
		{"indicator and agency", store.Query{Indicators: []string{"I1"}, Agencies: []string{"A1"}}, []string{
			"I1/A1/2024 r1", "I1/A1/2025-01 r1", "I1/A1/2025-02 r1"}},
		{"from bounds start inclusively", store.Query{From: feb}, []string{"I1/A1/2025-02 r1"}},
		{"to bounds start exclusively", store.Query{To: jan}, []string{"I1/A1/2024 r1"}},
		{"from and to", store.Query{From: jan, To: feb}, []string{
			"I1/A1/2025-01 r1", "I1/A2/2025-Q1 r1", "I1/A2/2025-01 r1",
			"I2/A1/2025-H1 r1", "I2/A3/2025 r1", "I2/A3/2025-01 r1"}},
		{"from in another zone is the same instant", store.Query{From: feb.In(time.FixedZone("ICT", 7*3600))},
			[]string{"I1/A1/2025-02 r1"}},
		{"monthly only", store.Query{Kinds: []period.Kind{period.Month}}, []string{
			"I1/A1/2025-01 r1", "I1/A1/2025-02 r1", "I1/A2/2025-01 r1", "I2/A3/2025-01 r1"}},
		{"yearly and quarterly", store.Query{Kinds: []period.Kind{period.Year, period.Quarter}}, []string{
			"I1/A1/2024 r1", "I1/A2/2025-Q1 r1", "I2/A3/2025 r1"}},
		{"one source", store.Query{Sources: []indicators.Source{indicators.FromFeed}}, []string{
			"I1/A2/2025-Q1 r1", "I1/A2/2025-01 r1"}},
		{"sources with indicator", store.Query{Indicators: []string{"I2"},
			Sources: []indicators.Source{indicators.FromComputed, indicators.FromDemo}}, []string{"I2/A3/2025 r1"}},
		{"unknown indicator", store.Query{Indicators: []string{"nope"}}, nil},
		{"empty range", store.Query{From: feb, To: jan}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, history := range []bool{false, true} {
				q := tc.q
				q.History = history
				got := keys(query(t, s, q))
				if !slices.Equal(got, tc.want) && !(len(got) == 0 && len(tc.want) == 0) {
					t.Errorf("history=%v:\n got %v\nwant %v", history, got, tc.want)
				}
			}
		})
	}
}

func testHistoryOrder(t *testing.T, open Opener) {
	s := open(t)
	write(t, s, ob("I1", "A2", "2025-01", 1), ob("I1", "A1", "2025-03", 1))
	write(t, s, ob("I1", "A2", "2025-01", 2), ob("I1", "A1", "2025", 1))
	write(t, s, ob("I1", "A1", "2025-03", 2), ob("I0", "A9", "2030", 1))
	write(t, s, ob("I1", "A2", "2025-01", 3))
	want := []string{
		"I0/A9/2030 r1",
		"I1/A1/2025 r1", "I1/A1/2025-03 r1", "I1/A1/2025-03 r2",
		"I1/A2/2025-01 r1", "I1/A2/2025-01 r2", "I1/A2/2025-01 r3",
	}
	if got := keys(query(t, s, store.Query{History: true})); !slices.Equal(got, want) {
		t.Errorf("history order:\n got %v\nwant %v", got, want)
	}
	wantLatest := []string{"I0/A9/2030 r1", "I1/A1/2025 r1", "I1/A1/2025-03 r2", "I1/A2/2025-01 r3"}
	if got := keys(query(t, s, store.Query{})); !slices.Equal(got, wantLatest) {
		t.Errorf("latest order:\n got %v\nwant %v", got, wantLatest)
	}
	// A source filter applies to each series' latest revision, not to older ones.
	write(t, s, with(ob("I1", "A2", "2025-01", 4), func(o *indicators.Observation) { o.Source = indicators.FromComputed }))
	got := keys(query(t, s, store.Query{Agencies: []string{"A2"}, Sources: []indicators.Source{indicators.FromSubmission}}))
	if len(got) != 0 {
		t.Errorf("latest submitted values of A2 = %v, want none: its latest revision is computed", got)
	}
}

func testSameSeriesInBatch(t *testing.T, open Opener) {
	s := open(t)
	v := func(x float64) indicators.Observation { return ob("dossiers_online", "P01", "2025-09", x) }
	got := write(t, s, v(1), v(2), v(2), v(3), ob("dossiers_online", "P02", "2025-09", 9))
	var revs []int
	for _, g := range got {
		revs = append(revs, g.Revision)
	}
	if want := []int{1, 2, 2, 3, 1}; !slices.Equal(revs, want) {
		t.Fatalf("revisions returned %v, want %v (in order, repeats collapsed)", revs, want)
	}
	if got[2].Batch != got[1].Batch || got[3].Batch != got[0].Batch {
		t.Errorf("batches %q %q %q %q, want one shared by the call", got[0].Batch, got[1].Batch, got[2].Batch, got[3].Batch)
	}
	hist := query(t, s, store.Query{History: true, Agencies: []string{"P01"}})
	checkSame(t, "history", hist, []indicators.Observation{got[0], got[1], got[3]})
	latest := query(t, s, store.Query{Agencies: []string{"P01"}})
	checkSame(t, "latest", latest, got[3:4])
}
