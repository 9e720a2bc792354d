package alerting_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/indicators/period"
	"github.com/g-oc/goc/internal/alerting"
	"github.com/g-oc/goc/internal/query"
	"github.com/g-oc/goc/internal/store/sqlite"
)

// TestGaugesSayWhoIsOverdueAndMatchTheProgressAPI: after the 2026-Q3 deadline, an
// agency that sent nothing has goc_submission_overdue_seconds (seconds since the
// deadline) and one that reported has none; each progress class is the status the
// progress API gives the same agency.
func TestGaugesSayWhoIsOverdueAndMatchTheProgressAPI(t *testing.T) {
	ctx := context.Background()
	// Automatic approval: the progress classes are of published figures, and this test
	// is about the gauges, not the review.
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "goc.db"), sqlite.WithAutoApprove(true))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cat, reg := indicators.DefaultCatalogue(), indicators.DefaultRegistry()
	loc := time.FixedZone("ICT", 7*3600)
	q := query.New(st, cat, reg, time.Now)
	due := map[period.Kind]int{period.Quarter: 15}
	q3 := period.MustParse("2026-Q3")
	now := time.Date(2026, 10, 20, 12, 0, 0, 0, loc) // 4.5 days past the 16 October deadline

	// Ha Noi reports 2026-Q3 and the years before, so it has a progress verdict.
	c, err := q.Completeness(ctx, q3, 15, loc, now, query.CompletenessFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var obs []indicators.Observation
	for _, a := range c.Agencies {
		if a.Agency != "P01" {
			continue
		}
		for _, code := range a.MissingIndicators {
			ind, _ := cat.Get(code)
			for i, p := range []string{"2024-Q3", "2025-Q3", "2026-Q3"} {
				v := 40 + 10*float64(i)
				o := indicators.Observation{SeriesKey: indicators.SeriesKey{Indicator: code, Agency: "P01", Period: period.MustParse(p)},
					Value: v, Source: indicators.FromSubmission, Submitter: "test"}
				if ind.IsRatio() {
					n, d := v, 100.0
					o.Numerator, o.Denominator = &n, &d
				}
				obs = append(obs, o)
			}
		}
	}
	if len(obs) == 0 {
		t.Fatal("Ha Noi has no quarterly indicator to report")
	}
	if _, err := st.WriteObservations(ctx, obs); err != nil {
		t.Fatal(err)
	}

	g := alerting.NewGauges(q, cat, reg, due, loc)
	r := prometheus.NewRegistry()
	r.MustRegister(g)
	if n := testutil.CollectAndCount(g); n != 0 {
		t.Fatalf("%d series before the first refresh, want none", n)
	}
	if err := g.Refresh(ctx, now); err != nil {
		t.Fatal(err)
	}
	mfs, err := r.Gather()
	if err != nil {
		t.Fatal(err)
	}
	overdue := map[string]float64{}
	class := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			l := map[string]string{}
			for _, lp := range m.GetLabel() {
				l[lp.GetName()] = lp.GetValue()
			}
			switch mf.GetName() {
			case "goc_submission_overdue_seconds":
				if l["period"] != "2026-Q3" || l["periodicity"] != "quarterly" {
					t.Errorf("overdue series for %v", l)
				}
				overdue[l["agency"]] = m.GetGauge().GetValue()
			case "goc_indicator_progress_status_class":
				class[l["indicator"]+" "+l["agency"]+" "+l["target_year"]] = m.GetGauge().GetValue()
			}
		}
	}
	if _, ok := overdue["P01"]; ok {
		t.Errorf("Ha Noi reported but is overdue")
	}
	if v, want := overdue["P20"], 4.5*86400; v != want {
		t.Errorf("Lang Son overdue %v s, want %v (4.5 days)", v, want)
	}
	checked := 0
	for key, v := range class {
		f := strings.Fields(key)
		if f[1] != "P01" {
			continue
		}
		rep, err := q.Progress(ctx, f[0], "P01", 2030, "")
		if err != nil {
			t.Fatal(err)
		}
		want, ok := alerting.StatusClass(rep.Status)
		if !ok || want != v {
			t.Errorf("%s: class %v, the progress API says %s", key, v, rep.Status)
		}
		checked++
	}
	if checked == 0 {
		t.Errorf("no progress class for Ha Noi: %v", class)
	}
}
