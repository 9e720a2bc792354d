package store

import (
	"math"
	"testing"
	"time"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/indicators/period"
)

func TestCheckObservationRefusesWhatNoBackendCanKeep(t *testing.T) {
	good := func() indicators.Observation {
		return indicators.Observation{
			SeriesKey: indicators.SeriesKey{Indicator: "dossiers_online", Agency: "P01", Period: period.MustParse("2025-09")},
			Value:     61, Numerator: new(61.0), Denominator: new(100.0),
			Source: indicators.FromSubmission, Submitter: "officer \"p01\"\nline two",
		}
	}
	if o := good(); CheckObservation(&o) != nil {
		t.Fatalf("a plain observation was refused: %v", CheckObservation(&o))
	}
	tests := []struct {
		name string
		bad  func(*indicators.Observation)
	}{
		{"empty indicator", func(o *indicators.Observation) { o.Indicator = " " }},
		{"empty agency", func(o *indicators.Observation) { o.Agency = "" }},
		{"line break in indicator", func(o *indicators.Observation) { o.Indicator = "a\nb" }},
		{"backslash in agency", func(o *indicators.Observation) { o.Agency = `P01\` }},
		{"no period", func(o *indicators.Observation) { o.Period = period.Period{} }},
		{"month 13", func(o *indicators.Observation) { o.Period = period.Period{Kind: period.Month, Year: 2025, Index: 13} }},
		{"unknown source", func(o *indicators.Observation) { o.Source = "rumour" }},
		{"NaN value", func(o *indicators.Observation) { o.Value = math.NaN() }},
		{"infinite numerator", func(o *indicators.Observation) { o.Numerator = new(math.Inf(1)) }},
		{"NaN denominator", func(o *indicators.Observation) { o.Denominator = new(math.NaN()) }},
		{"received in 1800", func(o *indicators.Observation) { o.ReceivedAt = time.Date(1800, 1, 1, 0, 0, 0, 0, time.UTC) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := good()
			tc.bad(&o)
			if err := CheckObservation(&o); err == nil {
				t.Errorf("%s was accepted", tc.name)
			}
		})
	}
}

func TestCheckProbeResultRefusesWhatNoBackendCanKeep(t *testing.T) {
	at := time.Date(2025, 11, 3, 7, 0, 0, 0, time.UTC)
	good := func() indicators.ProbeResult {
		return indicators.ProbeResult{Target: "https://hue.gov.vn/a b", Agency: "P46", Time: at,
			Error: "said \"no\"\n", Phases: map[string]float64{"total": 0.4, "redirect": 0}}
	}
	if r := good(); CheckProbeResult(&r) != nil {
		t.Fatalf("a plain result was refused: %v", CheckProbeResult(&r))
	}
	tests := []struct {
		name string
		bad  func(*indicators.ProbeResult)
	}{
		{"empty target", func(r *indicators.ProbeResult) { r.Target = "" }},
		{"line break in target", func(r *indicators.ProbeResult) { r.Target = "https://a\r\n.gov.vn" }},
		{"backslash in target", func(r *indicators.ProbeResult) { r.Target = `https://a.gov.vn\` }},
		{"tab in agency", func(r *indicators.ProbeResult) { r.Agency = "P\t46" }},
		{"no time", func(r *indicators.ProbeResult) { r.Time = time.Time{} }},
		{"time in 2300", func(r *indicators.ProbeResult) { r.Time = time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC) }},
		{"NaN phase", func(r *indicators.ProbeResult) { r.Phases["total"] = math.NaN() }},
		{"unnamed phase", func(r *indicators.ProbeResult) { r.Phases[""] = 0.1 }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := good()
			tc.bad(&r)
			if err := CheckProbeResult(&r); err == nil {
				t.Errorf("%s was accepted", tc.name)
			}
		})
	}
}
