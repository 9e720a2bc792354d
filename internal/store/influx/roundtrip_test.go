package influx

import (
	"context"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/indicators/period"
	"github.com/g-oc/goc/internal/store"
)

// Codes and texts with every character line protocol or Flux treats specially must
// come back from InfluxDB as written, not only from the spool.
func TestAwkwardCodesAndTextsRoundTripThroughInfluxDB(t *testing.T) {
	s := openFresh(t)
	ctx := context.Background()
	awkward := []string{
		`with space`, `comma,in`, `equals=in`, `quote"in`, `trailing space `, `#hash`,
		`${interpolation}`, `Sở Thông tin và Truyền thông`,
		// What a regular expression or its Flux literal would read as syntax: a list of
		// codes is asked for as one (see appendAny).
		`a.b`, `aXb`, `a/b`, `a|b`, `(group)`, `[class]`, `^caret$`, `star*`, `starr`, `q?`, `{1}`,
	}
	var obs []indicators.Observation
	var probes []indicators.ProbeResult
	at := time.Date(2025, 11, 3, 7, 0, 0, 0, time.UTC)
	for i, code := range awkward {
		obs = append(obs, indicators.Observation{
			SeriesKey: indicators.SeriesKey{Indicator: "ind " + code, Agency: code, Period: period.MustParse("2025-Q3")},
			Value:     float64(i) + 0.25,
			Source:    indicators.FromFeed,
			Submitter: "feed: " + code + "\nsecond line",
		})
		probes = append(probes, indicators.ProbeResult{
			Target: "https://x.gov.vn/" + code, Agency: code, Time: at.Add(time.Duration(i) * time.Second),
			Error: "said \"no\"\nthen " + code, Phases: map[string]float64{"total": 0.5, "odd phase,=": 0.25},
		})
	}
	// Numbers at the edges of what a float64 holds.
	obs = append(obs, indicators.Observation{
		SeriesKey: indicators.SeriesKey{Indicator: "edge", Agency: "A", Period: period.MustParse("2025")},
		Value:     1e300, Numerator: new(-1e-300), Denominator: new(0.1 + 0.2),
		Source: indicators.FromComputed,
	})
	written, err := s.WriteObservations(ctx, obs)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.WriteProbeResults(ctx, probes); err != nil {
		t.Fatal(err)
	}
	flush(t, s)

	for _, history := range []bool{false, true} {
		got, err := s.Observations(ctx, store.Query{History: history})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(written) {
			for _, o := range got {
				t.Logf("%q %q %s", o.Indicator, o.Agency, o.Period)
			}
			t.Fatalf("history=%v: read %d observations, wrote %d", history, len(got), len(written))
		}
		byKey := map[indicators.SeriesKey]indicators.Observation{}
		for _, o := range got {
			byKey[o.SeriesKey] = o
		}
		for _, w := range written {
			g, ok := byKey[w.SeriesKey]
			if !ok {
				t.Errorf("history=%v: %q/%q missing", history, w.Indicator, w.Agency)
				continue
			}
			if g.Value != w.Value || g.Submitter != w.Submitter || ptrString(g.Numerator) != ptrString(w.Numerator) ||
				ptrString(g.Denominator) != ptrString(w.Denominator) || !g.ReceivedAt.Equal(w.ReceivedAt) || g.Batch != w.Batch {
				t.Errorf("history=%v: %q/%q read back as %+v, wrote %+v", history, w.Indicator, w.Agency, g, w)
			}
		}
	}
	// Filtering by an awkward code must find exactly it.
	for _, code := range awkward {
		got, err := s.Observations(ctx, store.Query{Agencies: []string{code}, Indicators: []string{"ind " + code}})
		if err != nil {
			t.Fatalf("query agency %q: %v", code, err)
		}
		if len(got) != 1 || got[0].Agency != code {
			t.Errorf("query agency %q gave %v", code, got)
		}
		hist, err := s.ProbeResults(ctx, "https://x.gov.vn/"+code, time.Time{}, time.Time{})
		if err != nil {
			t.Fatalf("probe results of %q: %v", code, err)
		}
		if len(hist) != 1 || hist[0].Agency != code || !strings.HasSuffix(hist[0].Error, code) || hist[0].Phases["odd phase,="] != 0.25 {
			t.Errorf("probe results of %q gave %+v", code, hist)
		}
	}
	// And by a list of them: each with its neighbour, and all of them at once, for
	// latest values and for history.
	var indicatorsOf []string
	for _, code := range awkward {
		indicatorsOf = append(indicatorsOf, "ind "+code)
	}
	for _, history := range []bool{false, true} {
		for i, code := range awkward {
			next := awkward[(i+1)%len(awkward)]
			got, err := s.Observations(ctx, store.Query{Agencies: []string{code, next}, Indicators: indicatorsOf, History: history})
			if err != nil {
				t.Fatalf("query agencies %q and %q: %v", code, next, err)
			}
			var agencies []string
			for _, o := range got {
				agencies = append(agencies, o.Agency)
			}
			slices.Sort(agencies)
			if want := []string{min(code, next), max(code, next)}; !slices.Equal(agencies, want) {
				t.Errorf("history=%v: query agencies %q and %q gave %q", history, code, next, agencies)
			}
		}
		all, err := s.Observations(ctx, store.Query{Indicators: indicatorsOf, History: history})
		if err != nil {
			t.Fatal(err)
		}
		if len(all) != len(awkward) {
			t.Errorf("history=%v: query of every awkward indicator gave %d observations, want %d", history, len(all), len(awkward))
		}
	}
	latest, err := s.LatestProbes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(latest) != len(awkward) {
		t.Errorf("LatestProbes gave %d targets, want %d", len(latest), len(awkward))
	}
}

func flush(t testing.TB, s *Store) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.Backlog(); n != 0 {
		t.Fatalf("after Flush %d points are still spooled", n)
	}
}

func ptrString(f *float64) string {
	if f == nil {
		return "nil"
	}
	return strconv.FormatFloat(*f, 'g', -1, 64)
}

// spoolPath is a new spool file in the test's temporary folder.
func spoolPath(t testing.TB) string { return filepath.Join(t.TempDir(), "spool.db") }

// A bucket written before the phases took blackbox_exporter's names holds records with
// "dns" and "first_byte"; they must read back as resolve and processing, so that the
// API and the pages show one vocabulary over old and new history alike.
func TestProbeRecordsWithOldPhaseNamesReadBackUnderBlackboxNames(t *testing.T) {
	r, err := decodeProbe(`{"target":"https://hue.gov.vn","time":"2026-05-01T00:00:00Z","success":true,` +
		`"phases":{"dns":0.01,"connect":0.02,"first_byte":0.3,"total":0.5}}`)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{"resolve": 0.01, "connect": 0.02, "processing": 0.3, "total": 0.5}
	if !maps.Equal(r.Phases, want) {
		t.Fatalf("phases = %v, want %v", r.Phases, want)
	}
}

// A read naming more agencies than a Flux query names (the figures read every agency
// of the registry at once) is filtered after InfluxDB answers: it must still find
// exactly the agencies named, in InfluxDB and in the spool, latest and history.
func TestAReadNamingManyAgenciesFindsExactlyThem(t *testing.T) {
	s := openFresh(t)
	ctx := context.Background()
	n := 2*maxAgenciesInFlux + 20
	var sent, spooled []indicators.Observation
	for i := range n {
		o := indicators.Observation{
			SeriesKey: indicators.SeriesKey{Indicator: "ind", Agency: fmt.Sprintf("A%04d", i), Period: period.MustParse("2025-03")},
			Value:     float64(i), Source: indicators.FromSubmission,
		}
		sent = append(sent, o)
		o.Value++ // a second revision of every other series, left in the spool
		if i%2 == 0 {
			spooled = append(spooled, o)
		}
	}
	if _, err := s.WriteObservations(ctx, sent); err != nil {
		t.Fatal(err)
	}
	flush(t, s)
	// Not flushed: read from the spool, or from InfluxDB once the flusher has sent them.
	if _, err := s.WriteObservations(ctx, spooled); err != nil {
		t.Fatal(err)
	}
	// Every agency but the first ten and every third.
	var asked []string
	for i := 10; i < n; i++ {
		if i%3 != 0 {
			asked = append(asked, fmt.Sprintf("A%04d", i))
		}
	}
	if len(asked) <= maxAgenciesInFlux {
		t.Fatalf("asked for %d agencies, not more than %d: the test shows nothing", len(asked), maxAgenciesInFlux)
	}
	for _, history := range []bool{false, true} {
		got, err := s.Observations(ctx, store.Query{Indicators: []string{"ind"}, Agencies: asked, History: history})
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for _, a := range asked {
			want = append(want, a)
			if i, _ := strconv.Atoi(a[1:]); history && i%2 == 0 {
				want = append(want, a) // both revisions
			}
		}
		var agencies []string
		for _, o := range got {
			agencies = append(agencies, o.Agency)
			i, _ := strconv.Atoi(o.Agency[1:])
			newest := float64(i)
			if i%2 == 0 {
				newest++
			}
			if !history && o.Value != newest {
				t.Errorf("latest of %s is %v (revision %d), want the newest revision", o.Agency, o.Value, o.Revision)
			}
		}
		if !slices.Equal(agencies, want) {
			t.Errorf("history=%v: read %d observations of %q, want %d of %q", history, len(agencies), agencies, len(want), want)
		}
	}
}
