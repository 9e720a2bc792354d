// Package indicators is G-OC's domain core: the catalogue of digital-government
// indicators and their 2025/2030 targets, the agency hierarchy, observations, progress
// toward a target, and roll-up over the hierarchy. It does no I/O: everything here is a
// function of values handed in, so it can be read as the specification of the method.
package indicators

import (
	"fmt"
	"slices"
	"strings"

	"github.com/g-oc/goc/indicators/period"
)

// Unit is what an indicator's value measures.
type Unit string

// Units G-OC knows.
const (
	Percent Unit = "percent" // 0-100
	Count   Unit = "count"
	Rank    Unit = "rank" // 1 is best
	Score   Unit = "score"
	Seconds Unit = "seconds"
)

// Direction says which way is better.
type Direction string

// Directions.
const (
	HigherIsBetter Direction = "higher"
	LowerIsBetter  Direction = "lower"
)

// Aggregation says how values of several agencies combine into their parent's value.
type Aggregation string

// Aggregations.
const (
	// Ratio sums numerators and denominators and divides: never a mean of ratios.
	Ratio Aggregation = "ratio"
	Mean  Aggregation = "mean"
	// WeightedMean weights each value by its denominator (for example respondents).
	WeightedMean Aggregation = "weighted_mean"
	Sum          Aggregation = "sum"
	// None marks a figure that exists only for one agency (the country's EGDI rank).
	None Aggregation = "none"
)

// Level is the tier of government a value or a target belongs to.
type Level string

// Levels, from the top. Ministries, ministerial-level agencies and Government agencies
// share the ministry level, as the Resolution's targets do.
const (
	National Level = "national"
	Ministry Level = "ministry"
	Province Level = "province"
	District Level = "district"
	Commune  Level = "commune"
	// AnyLevel on a target means it applies to every agency and the country.
	AnyLevel Level = "all"
)

// ParseLevel reads a level name.
func ParseLevel(s string) (Level, error) {
	switch l := Level(strings.ToLower(strings.TrimSpace(s))); l {
	case National, Ministry, Province, District, Commune, AnyLevel:
		return l, nil
	}
	return "", fmt.Errorf("unknown level %q (want national, ministry, province, district, commune or all)", s)
}

// Target is one published goal: the value an indicator should reach by a year at a level,
// with the clause of the Resolution it comes from.
type Target struct {
	Year   int     `json:"year" yaml:"year"`
	Level  Level   `json:"level" yaml:"level"`
	Value  float64 `json:"value" yaml:"value"`
	Clause string  `json:"clause" yaml:"clause"`
	// Source names the document, when it is not the 2021-2025 Resolution draft.
	Source string `json:"source,omitempty" yaml:"source,omitempty"`
	Note   string `json:"note,omitempty" yaml:"note,omitempty"`
}

// Baseline is a published historical figure, kept with where it was published.
type Baseline struct {
	Period period.Period `json:"period" yaml:"period"`
	Value  float64       `json:"value" yaml:"value"`
	Source string        `json:"source" yaml:"source"`
}

// Bounds are the values a submission may carry; outside them it is rejected.
type Bounds struct {
	Min *float64 `json:"min,omitempty" yaml:"min,omitempty"`
	Max *float64 `json:"max,omitempty" yaml:"max,omitempty"`
}

// Indicator is one measure of digital government.
type Indicator struct {
	Code        string      `json:"code" yaml:"code"`
	NameVI      string      `json:"name_vi" yaml:"name_vi"`
	NameEN      string      `json:"name_en" yaml:"name_en"`
	Unit        Unit        `json:"unit" yaml:"unit"`
	Direction   Direction   `json:"direction" yaml:"direction"`
	Periodicity period.Kind `json:"periodicity" yaml:"periodicity"`
	Aggregation Aggregation `json:"aggregation" yaml:"aggregation"`
	Bounds      Bounds      `json:"bounds" yaml:"bounds"`
	Pillar      string      `json:"pillar,omitempty" yaml:"pillar,omitempty"`
	Numerator   string      `json:"numerator_vi,omitempty" yaml:"numerator_vi,omitempty"`
	Denominator string      `json:"denominator_vi,omitempty" yaml:"denominator_vi,omitempty"`
	Levels      []Level     `json:"levels" yaml:"levels"`
	Targets     []Target    `json:"targets" yaml:"targets"`
	Baselines   []Baseline  `json:"baselines,omitempty" yaml:"baselines,omitempty"`
	Notes       string      `json:"notes,omitempty" yaml:"notes,omitempty"`
	// Decimals is the precision values are published at; nil takes the unit's
	// (UnitDecimals). See RoundFor.
	Decimals    *int `json:"decimals,omitempty" yaml:"decimals,omitempty"`
	Qualitative bool `json:"qualitative,omitempty" yaml:"qualitative,omitempty"`
}

// IsRatio reports whether values carry a numerator and a denominator that roll up.
func (ind *Indicator) IsRatio() bool { return ind.Aggregation == Ratio }

// ReportedAt reports whether agencies of level l report this indicator.
func (ind *Indicator) ReportedAt(l Level) bool { return slices.Contains(ind.Levels, l) }

// TargetFor returns the target for a year and level: a level's own target wins over one
// for every level. The bool is false when no target applies.
func (ind *Indicator) TargetFor(year int, l Level) (Target, bool) {
	var any Target
	found := false
	for _, t := range ind.Targets {
		if t.Year != year {
			continue
		}
		if t.Level == l {
			return t, true
		}
		if t.Level == AnyLevel {
			any, found = t, true
		}
	}
	return any, found
}

// TargetYears lists the years the indicator has targets for, ascending.
func (ind *Indicator) TargetYears() []int {
	var ys []int
	for _, t := range ind.Targets {
		if !slices.Contains(ys, t.Year) {
			ys = append(ys, t.Year)
		}
	}
	slices.Sort(ys)
	return ys
}

// InBounds checks v against the indicator's bounds.
func (ind *Indicator) InBounds(v float64) bool {
	if ind.Bounds.Min != nil && v < *ind.Bounds.Min {
		return false
	}
	if ind.Bounds.Max != nil && v > *ind.Bounds.Max {
		return false
	}
	return true
}

// Catalogue is the set of indicators G-OC tracks, in a stable order.
type Catalogue struct {
	list  []*Indicator
	index map[string]*Indicator
}

// NewCatalogue checks the indicators and indexes them by code.
func NewCatalogue(list []*Indicator) (*Catalogue, error) {
	c := &Catalogue{index: make(map[string]*Indicator, len(list))}
	var errs []string
	for i, ind := range list {
		for _, msg := range ind.check() {
			errs = append(errs, fmt.Sprintf("indicators[%d] (%s): %s", i, ind.Code, msg))
		}
		if _, dup := c.index[ind.Code]; dup {
			errs = append(errs, fmt.Sprintf("indicators[%d]: code %q is used twice", i, ind.Code))
			continue
		}
		c.index[ind.Code] = ind
		c.list = append(c.list, ind)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("catalogue: %s", strings.Join(errs, "; "))
	}
	return c, nil
}

func (ind *Indicator) check() []string {
	var errs []string
	if ind.Code == "" {
		errs = append(errs, "code is empty")
	}
	if ind.NameVI == "" || ind.NameEN == "" {
		errs = append(errs, "name_vi and name_en are both required")
	}
	switch ind.Unit {
	case Percent, Count, Rank, Score, Seconds:
	default:
		errs = append(errs, fmt.Sprintf("unit %q is not one of percent, count, rank, score, seconds", ind.Unit))
	}
	if ind.Decimals != nil && (*ind.Decimals < 0 || *ind.Decimals > 6) {
		errs = append(errs, fmt.Sprintf("decimals %d is not between 0 and 6", *ind.Decimals))
	}
	switch ind.Direction {
	case HigherIsBetter, LowerIsBetter:
	default:
		errs = append(errs, fmt.Sprintf("direction %q is not higher or lower", ind.Direction))
	}
	switch ind.Aggregation {
	case Ratio, Mean, WeightedMean, Sum, None:
	default:
		errs = append(errs, fmt.Sprintf("aggregation %q is not ratio, mean, weighted_mean, sum or none", ind.Aggregation))
	}
	if ind.Periodicity.PerYear() == 0 {
		errs = append(errs, "periodicity is missing")
	}
	if len(ind.Levels) == 0 {
		errs = append(errs, "levels is empty: say who reports it")
	}
	if ind.Bounds.Min != nil && ind.Bounds.Max != nil && *ind.Bounds.Min > *ind.Bounds.Max {
		errs = append(errs, "bounds.min is above bounds.max")
	}
	for j, t := range ind.Targets {
		if t.Clause == "" {
			errs = append(errs, fmt.Sprintf("targets[%d]: clause is empty", j))
		}
		if t.Year < period.MinYear || t.Year > period.MaxYear {
			errs = append(errs, fmt.Sprintf("targets[%d]: year %d is out of range", j, t.Year))
		}
		if _, err := ParseLevel(string(t.Level)); err != nil {
			errs = append(errs, fmt.Sprintf("targets[%d]: %v", j, err))
		}
		if !ind.Qualitative && !ind.InBounds(t.Value) {
			errs = append(errs, fmt.Sprintf("targets[%d]: value %g is outside the indicator's bounds", j, t.Value))
		}
	}
	return errs
}

// All lists the indicators in catalogue order.
func (c *Catalogue) All() []*Indicator { return c.list }

// Get finds an indicator by code.
func (c *Catalogue) Get(code string) (*Indicator, bool) {
	ind, ok := c.index[code]
	return ind, ok
}

// Merge returns a catalogue where the indicators of over replace those with the same code
// and new codes are added at the end: how an operator overrides or extends the built-in one.
func (c *Catalogue) Merge(over []*Indicator) (*Catalogue, error) {
	list := slices.Clone(c.list)
	for _, o := range over {
		if i := slices.IndexFunc(list, func(x *Indicator) bool { return x.Code == o.Code }); i >= 0 {
			list[i] = o
		} else {
			list = append(list, o)
		}
	}
	return NewCatalogue(list)
}
