package api

import "github.com/g-oc/goc/indicators"

// revision is one stored revision with the figures it replaced: the audit view of
// GET /api/v1/observations?history=true (who changed what, when, from which value to
// which).
type revision struct {
	indicators.Observation
	PreviousValue       *float64 `json:"previous_value,omitempty"`
	PreviousNumerator   *float64 `json:"previous_numerator,omitempty"`
	PreviousDenominator *float64 `json:"previous_denominator,omitempty"`
	PreviousSubmitter   string   `json:"previous_submitter,omitempty"`
}

// withPrevious pairs each revision of a history answer with the one before it. The
// store answers history ordered by series and revision, so the one before is the
// preceding element of the same series. Latest-only answers are returned as they are.
func withPrevious(obs []indicators.Observation, history bool) any {
	if !history {
		return obs
	}
	out := make([]revision, len(obs))
	for i, o := range obs {
		out[i].Observation = o
		if i > 0 && obs[i-1].SeriesKey == o.SeriesKey && obs[i-1].Revision == o.Revision-1 {
			p := obs[i-1]
			out[i].PreviousValue = indicators.F(p.Value)
			out[i].PreviousNumerator, out[i].PreviousDenominator = p.Numerator, p.Denominator
			out[i].PreviousSubmitter = p.Submitter
		}
	}
	return out
}
