package demo

import (
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/indicators/period"
)

var now = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

func TestDemoHistoryIsWhatASubmissionCouldHaveSent(t *testing.T) {
	cat, reg := indicators.DefaultCatalogue(), indicators.DefaultRegistry()
	obs := History(cat, reg, now)
	if len(obs) < 10000 {
		t.Fatalf("demo history has only %d observations", len(obs))
	}
	for _, o := range obs {
		ind, ok := cat.Get(o.Indicator)
		if !ok {
			t.Fatalf("unknown indicator %s", o.Indicator)
		}
		a, ok := reg.Get(o.Agency)
		if !ok {
			t.Fatalf("unknown agency %s", o.Agency)
		}
		where := o.Indicator + "/" + o.Agency + "/" + o.Period.String()
		if o.Source != indicators.FromDemo || o.Submitter != Submitter {
			t.Errorf("%s is not labelled as demo data: %s by %s", where, o.Source, o.Submitter)
		}
		if !ind.ReportedAt(a.Level()) {
			t.Errorf("%s: %s level does not report %s", where, a.Level(), ind.Code)
		}
		if o.Period.Kind != ind.Periodicity {
			t.Errorf("%s: period kind %s, indicator is %s", where, o.Period.Kind, ind.Periodicity)
		}
		if !o.Period.Ended(now) {
			t.Errorf("%s: period has not ended on %s", where, now.Format(time.DateOnly))
		}
		if !a.ActiveOn(o.Period.End(nil).AddDate(0, 0, -1)) {
			t.Errorf("%s: agency did not exist at the end of the period", where)
		}
		if !ind.InBounds(o.Value) || math.IsNaN(o.Value) {
			t.Errorf("%s: value %v outside bounds", where, o.Value)
		}
		if ind.IsRatio() {
			if o.Numerator == nil || o.Denominator == nil || *o.Numerator > *o.Denominator || *o.Denominator <= 0 {
				t.Errorf("%s: ratio without a sound numerator/denominator", where)
			} else if math.Abs(100**o.Numerator / *o.Denominator - o.Value) > 0.01 {
				t.Errorf("%s: value %v disagrees with %v/%v", where, o.Value, *o.Numerator, *o.Denominator)
			}
		}
	}
}

func TestDemoHistoryKeepsThePublishedFigures(t *testing.T) {
	cat, reg := indicators.DefaultCatalogue(), indicators.DefaultRegistry()
	find := func(ind, agency, p string) *indicators.Observation {
		for _, o := range History(cat, reg, now) {
			if o.Indicator == ind && o.Agency == agency && o.Period == period.MustParse(p) {
				return &o
			}
		}
		return nil
	}
	// Seed 003: the Ministry of Natural Resources and Environment, 54 of 107 at level 4.
	if o := find("ops_level4_share", "BTNMT", "2020-Q4"); o == nil || *o.Numerator != 54 || *o.Denominator != 107 {
		t.Errorf("BTNMT level-4 share 2020-Q4 = %+v, want 54/107", o)
	}
	// Seeds 001 and 002: Viet Nam's EGDI rank.
	for p, want := range map[string]float64{"2014": 99, "2018": 88, "2020": 86} {
		if o := find("egdi_rank", "VN", p); o == nil || o.Value != want {
			t.Errorf("EGDI rank %s = %+v, want %v", p, o, want)
		}
	}
}

func TestDemoHistoryFollowsTheProvinceMerger(t *testing.T) {
	cat, reg := indicators.DefaultCatalogue(), indicators.DefaultRegistry()
	provinces := map[string]map[string]bool{}
	for _, o := range History(cat, reg, now) {
		a, _ := reg.Get(o.Agency)
		if o.Indicator != "sat_digital_services" || a.Kind != indicators.KindProvince {
			continue
		}
		if provinces[o.Period.String()] == nil {
			provinces[o.Period.String()] = map[string]bool{}
		}
		provinces[o.Period.String()][o.Agency] = true
	}
	if n := len(provinces["2024"]); n != 63 {
		t.Errorf("2024 is reported by %d provinces, want 63", n)
	}
	if n := len(provinces["2025"]); n != 34 {
		t.Errorf("2025 is reported by %d provinces, want 34 (those existing at the end of 2025)", n)
	}
}

func TestDemoHistoryIsDeterministic(t *testing.T) {
	cat, reg := indicators.DefaultCatalogue(), indicators.DefaultRegistry()
	if !reflect.DeepEqual(History(cat, reg, now), History(cat, reg, now)) {
		t.Error("two runs gave different histories; restarts would create revisions")
	}
}
