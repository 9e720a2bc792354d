package indicators

import (
	"time"

	"github.com/g-oc/goc/indicators/period"
)

// Source says how a value reached G-OC.
type Source string

// Sources.
const (
	FromProbe      Source = "probe"
	FromFeed       Source = "feed"
	FromSubmission Source = "submission"
	FromComputed   Source = "computed"
	// FromDemo marks the synthetic history `goc demo` loads, so nobody mistakes it for
	// official data.
	FromDemo Source = "demo"
)

// Valid reports whether s is a known source.
func (s Source) Valid() bool {
	switch s {
	case FromProbe, FromFeed, FromSubmission, FromComputed, FromDemo:
		return true
	}
	return false
}

// SeriesKey identifies one series: an indicator's values for one agency and period.
// Every revision of a value shares its series key.
type SeriesKey struct {
	Indicator string        `json:"indicator"`
	Agency    string        `json:"agency"`
	Period    period.Period `json:"period"`
}

// Observation is one value of an indicator for an agency and period, as stored: every
// revision is kept, and each knows where it came from.
type Observation struct {
	SeriesKey
	Value float64 `json:"value"`
	// Numerator and Denominator are set for ratio indicators; they are what roll-up sums.
	Numerator   *float64 `json:"numerator,omitempty"`
	Denominator *float64 `json:"denominator,omitempty"`
	Source      Source   `json:"source"`
	// Submitter is who sent it: a token's name, a feed or probe job, "goc-demo".
	Submitter string `json:"submitter"`
	// ReceivedAt is when G-OC accepted it; set by the store if zero.
	ReceivedAt time.Time `json:"received_at"`
	// Revision counts from 1 within a series; the store assigns it.
	Revision int `json:"revision"`
	// Batch groups the observations accepted together (one submission); set by the store
	// if empty.
	Batch string `json:"batch,omitempty"`
}

// SameContent reports whether o and p carry the same figures from the same source, which
// is when a write is a repeat rather than a new revision.
func (o *Observation) SameContent(p *Observation) bool {
	return o.SeriesKey == p.SeriesKey && o.Value == p.Value && o.Source == p.Source &&
		eqPtr(o.Numerator, p.Numerator) && eqPtr(o.Denominator, p.Denominator)
}

func eqPtr(a, b *float64) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}
