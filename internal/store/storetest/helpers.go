package storetest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/indicators/period"
	"github.com/g-oc/goc/internal/store"
)

// ob builds a submitted observation; per is any form period.Parse accepts.
func ob(indicator, agency, per string, value float64) indicators.Observation {
	return indicators.Observation{
		SeriesKey: indicators.SeriesKey{Indicator: indicator, Agency: agency, Period: period.MustParse(per)},
		Value:     value,
		Source:    indicators.FromSubmission,
		Submitter: "officer-" + strings.ToLower(agency),
	}
}

// ratio builds a submitted ratio observation with numerator and denominator.
func ratio(indicator, agency, per string, num, den float64) indicators.Observation {
	o := ob(indicator, agency, per, 100*num/den)
	o.Numerator, o.Denominator = new(num), new(den)
	return o
}

func with(o indicators.Observation, f func(*indicators.Observation)) indicators.Observation {
	f(&o)
	return o
}

func write(t *testing.T, s store.Store, obs ...indicators.Observation) []indicators.Observation {
	t.Helper()
	got, err := s.WriteObservations(context.Background(), obs)
	if err != nil {
		t.Fatalf("WriteObservations: %v", err)
	}
	if len(got) != len(obs) {
		t.Fatalf("WriteObservations returned %d observations for %d written", len(got), len(obs))
	}
	return got
}

func query(t *testing.T, s store.Store, q store.Query) []indicators.Observation {
	t.Helper()
	got, err := s.Observations(context.Background(), q)
	if err != nil {
		t.Fatalf("Observations(%+v): %v", q, err)
	}
	return got
}

// key is how failures name an observation: indicator/agency/period rN.
func key(o indicators.Observation) string {
	return fmt.Sprintf("%s/%s/%s r%d", o.Indicator, o.Agency, o.Period, o.Revision)
}

func keys(obs []indicators.Observation) []string {
	out := make([]string, len(obs))
	for i, o := range obs {
		out[i] = key(o)
	}
	return out
}

func sameTime(a, b time.Time) bool {
	return a.Truncate(TimePrecision).Equal(b.Truncate(TimePrecision))
}

func ptrString(f *float64) string {
	if f == nil {
		return "nil"
	}
	return fmt.Sprint(*f)
}

// diffObservation lists the fields where got differs from want, or "" when none do.
func diffObservation(got, want indicators.Observation) string {
	var d []string
	add := func(field string, g, w any) { d = append(d, fmt.Sprintf("%s = %v, want %v", field, g, w)) }
	if got.SeriesKey != want.SeriesKey {
		add("series", got.SeriesKey, want.SeriesKey)
	}
	if got.Period.String() != want.Period.String() {
		add("period", got.Period.String(), want.Period.String())
	}
	if got.Value != want.Value {
		add("value", got.Value, want.Value)
	}
	if ptrString(got.Numerator) != ptrString(want.Numerator) {
		add("numerator", ptrString(got.Numerator), ptrString(want.Numerator))
	}
	if ptrString(got.Denominator) != ptrString(want.Denominator) {
		add("denominator", ptrString(got.Denominator), ptrString(want.Denominator))
	}
	if got.Source != want.Source {
		add("source", got.Source, want.Source)
	}
	if got.Submitter != want.Submitter {
		add("submitter", got.Submitter, want.Submitter)
	}
	if !sameTime(got.ReceivedAt, want.ReceivedAt) {
		add("received at", got.ReceivedAt, want.ReceivedAt)
	}
	if got.Revision != want.Revision {
		add("revision", got.Revision, want.Revision)
	}
	if got.Batch != want.Batch {
		add("batch", got.Batch, want.Batch)
	}
	return strings.Join(d, "; ")
}

func checkSame(t *testing.T, what string, got, want []indicators.Observation) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: got %d observations %v, want %d %v", what, len(got), keys(got), len(want), keys(want))
	}
	for i := range got {
		if d := diffObservation(got[i], want[i]); d != "" {
			t.Errorf("%s: [%d] %s: %s", what, i, key(want[i]), d)
		}
	}
}
