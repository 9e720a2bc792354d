package query

import (
	"context"
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
			Value:     num, Numerator: new(num), Denominator: new(100.0),
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

// agencyRecordingStore is the real SQLite store, recording what each observation read
// asked for and returned.
type agencyRecordingStore struct {
	*sqlite.Store
	reads    int
	unscoped int // reads that named no agencies: they would read every agency's rows
	most     int // the most agencies one read named
	foreign  int // rows returned for agencies outside the registry
	reg      *indicators.Registry
}

func (s *agencyRecordingStore) Observations(ctx context.Context, q store.Query) ([]indicators.Observation, error) {
	s.reads++
	if len(q.Agencies) == 0 {
		s.unscoped++
	}
	s.most = max(s.most, len(q.Agencies))
	obs, err := s.Store.Observations(ctx, q)
	for _, o := range obs {
		if _, ok := s.reg.Get(o.Agency); !ok {
			s.foreign++
		}
	}
	return obs, err
}

func TestCompletenessReadsReportsByChunksOfAgenciesAndPagesTheList(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "goc.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	cat, reg := indicators.DefaultCatalogue(), indicators.DefaultRegistry()
	loc := time.FixedZone("ICT", 7*3600)
	p := period.MustParse("2026-Q2")
	deadline := Deadline(p, 15, loc)
	// Reports from P20 (on time) and N79 (late), and from 300 agencies the registry
	// does not know (a store grown beyond it): those must not be read.
	var obs []indicators.Observation
	add := func(agency string, at time.Time) {
		obs = append(obs, indicators.Observation{
			SeriesKey: indicators.SeriesKey{Indicator: "dossiers_fully_online", Agency: agency, Period: p},
			Value:     50, Numerator: new(50.0), Denominator: new(100.0),
			Source: indicators.FromSubmission, Submitter: "test", ReceivedAt: at,
		})
	}
	add("P20", deadline.Add(-time.Hour))
	add("N79", deadline.Add(time.Hour))
	for i := range 300 {
		add(fmt.Sprintf("U%05d", i), deadline.Add(-time.Hour))
	}
	if _, err := db.WriteObservations(ctx, obs); err != nil {
		t.Fatal(err)
	}
	st := &agencyRecordingStore{Store: db, reg: reg}
	q := New(st, cat, reg, nil)
	q.agencyChunk = 7
	now := deadline.Add(30 * 24 * time.Hour)
	whole, err := q.Completeness(ctx, p, 15, loc, now, CompletenessFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if whole.More || whole.OnTime != 1 || whole.Late != 1 || whole.Missing != whole.Expected-2 {
		t.Fatalf("whole list: more %t, on time %d, late %d, missing %d of %d", whole.More, whole.OnTime, whole.Late, whole.Missing, whole.Expected)
	}
	if st.unscoped > 0 || st.most > 7 || st.foreign > 0 {
		t.Errorf("store reads: %d without agencies, at most %d agencies in one (want 7), %d rows of agencies outside the registry",
			st.unscoped, st.most, st.foreign)
	}
	if want := (whole.Expected + 6) / 7; st.reads != want {
		t.Errorf("%d store reads for %d agencies, want one per chunk of 7: %d", st.reads, whole.Expected, want)
	}

	tests := []struct {
		name   string
		status ReportStatus
		limit  int
	}{
		{"pages of 10", "", 10},
		{"missing, pages of 9", Missing, 9},
		{"late, pages of 1", Late, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var want []string
			for _, a := range whole.Agencies {
				if tt.status == "" || a.Status == tt.status {
					want = append(want, a.Agency)
				}
			}
			var got []string
			after := ""
			for pages := 0; ; pages++ {
				if pages > len(want) {
					t.Fatal("more pages than agencies")
				}
				c, err := q.Completeness(ctx, p, 15, loc, now, CompletenessFilter{Status: tt.status, After: after, Limit: tt.limit})
				if err != nil {
					t.Fatal(err)
				}
				if len(c.Agencies) > tt.limit {
					t.Fatalf("page of %d agencies, limit %d", len(c.Agencies), tt.limit)
				}
				if c.Expected != whole.Expected || c.OnTime != whole.OnTime || c.Missing != whole.Missing {
					t.Errorf("counts on a page: expected %d on time %d missing %d, want the whole list's %d %d %d",
						c.Expected, c.OnTime, c.Missing, whole.Expected, whole.OnTime, whole.Missing)
				}
				for _, a := range c.Agencies {
					got = append(got, a.Agency)
				}
				if !c.More {
					break
				}
				after = c.Agencies[len(c.Agencies)-1].Agency
			}
			if !slices.Equal(got, want) {
				t.Errorf("pages gave %d agencies %v…, want %d in registry order", len(got), got[:min(5, len(got))], len(want))
			}
		})
	}
}
