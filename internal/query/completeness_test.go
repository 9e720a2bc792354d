package query

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/indicators/period"
	"github.com/g-oc/goc/internal/store/sqlite"
)

func TestCompletenessSaysWhoIsOnTimeLateAndMissing(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "goc.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cat, reg := indicators.DefaultCatalogue(), indicators.DefaultRegistry()
	loc := time.FixedZone("ICT", 7*3600)
	p := period.MustParse("2026-Q2")
	deadline := Deadline(p, 15, loc) // 16 July 2026, 00:00 ICT
	if want := time.Date(2026, 7, 16, 0, 0, 0, 0, loc); !deadline.Equal(want) {
		t.Fatalf("deadline %v, want %v", deadline, want)
	}
	write := func(agency, code string, at time.Time, num float64) {
		t.Helper()
		_, err := st.WriteObservations(ctx, []indicators.Observation{{
			SeriesKey: indicators.SeriesKey{Indicator: code, Agency: agency, Period: p},
			Value:     num, Numerator: indicators.F(num), Denominator: indicators.F(100),
			Source: indicators.FromSubmission, Submitter: "test", ReceivedAt: at,
		}})
		if err != nil {
			t.Fatal(err)
		}
	}
	write("P20", "dossiers_fully_online", deadline.Add(-48*time.Hour), 40)
	write("P20", "dossiers_fully_online", deadline.Add(72*time.Hour), 41) // a late correction keeps P20 on time
	write("N79", "work_records_online", deadline.Add(time.Hour), 80)      // late
	write("BTC", "dossiers_fully_online", deadline.Add(-time.Hour), 30)   // on time

	q := New(st, cat, reg, nil)
	now := deadline.Add(30 * 24 * time.Hour)
	c, err := q.Completeness(ctx, p, 15, loc, now, CompletenessFilter{})
	if err != nil {
		t.Fatal(err)
	}
	by := map[string]AgencyReport{}
	for _, a := range c.Agencies {
		by[a.Agency] = a
	}
	for code, want := range map[string]ReportStatus{"P20": OnTime, "N79": Late, "BTC": OnTime, "P04": Missing} {
		if by[code].Status != want {
			t.Errorf("%s: %s, want %s", code, by[code].Status, want)
		}
	}
	if _, ok := by["P06"]; ok {
		t.Error("P06 was merged on 1 July 2025 and is not expected for 2026-Q2")
	}
	if _, ok := by["VN"]; ok {
		t.Error("the country reports no quarterly indicator and is not expected")
	}
	if r := by["P20"]; r.ReceivedAt == nil || !r.ReceivedAt.Equal(deadline.Add(-48*time.Hour)) || r.IndicatorsReceived != 1 || len(r.MissingIndicators) != r.IndicatorsExpected-1 {
		t.Errorf("P20 = %+v: want the first arrival and the indicators it lacks", r)
	}
	if c.OnTime != 2 || c.Late != 1 || c.Received != 3 || c.Missing != c.Expected-3 || c.Pending != 0 {
		t.Errorf("counts: expected %d received %d on time %d late %d missing %d pending %d", c.Expected, c.Received, c.OnTime, c.Late, c.Missing, c.Pending)
	}
	if c.ReportingRate != float64(3)/float64(c.Expected) {
		t.Errorf("reporting rate %v", c.ReportingRate)
	}
	// 34 provinces and the ministries and agencies that report quarterly indicators.
	if provinces := len(reg.OfKind(p.End(nil).AddDate(0, 0, -1), indicators.KindProvince)); c.Expected <= provinces {
		t.Errorf("expected %d reporters, more than the %d provinces", c.Expected, provinces)
	}

	before, err := q.Completeness(ctx, p, 15, loc, deadline.Add(-time.Hour), CompletenessFilter{Level: indicators.Province})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range before.Agencies {
		if a.Status == Missing || a.Kind != indicators.KindProvince {
			t.Errorf("before the deadline %s is %s (%s)", a.Agency, a.Status, a.Kind)
		}
	}
	if before.Pending != before.Expected-2 {
		t.Errorf("before the deadline: %d pending of %d", before.Pending, before.Expected)
	}
}
