package indicators

import (
	"slices"
	"time"

	"github.com/g-oc/goc/indicators/period"
)

// Value is a figure for one agency and period: either the agency's own observation or
// one computed from the observations of others. Every computed figure says which
// observations it came from and which expected ones were absent.
type Value struct {
	Agency string        `json:"agency"`
	Period period.Period `json:"period"`
	// Level is the tier the figure speaks for: the level asked for, or the agency's own
	// level when none was.
	Level Level   `json:"level"`
	Value float64 `json:"value"`
	// Numerator and Denominator are the sums behind a ratio; for a weighted mean,
	// Denominator is the total weight.
	Numerator   *float64 `json:"numerator,omitempty"`
	Denominator *float64 `json:"denominator,omitempty"`
	// Computed is true when the figure was rolled up rather than observed.
	Computed bool `json:"computed"`
	// From lists, sorted, the agencies whose own observations the figure came from.
	From []string `json:"from"`
	// Missing lists, sorted, the agencies expected to contribute that had no usable value.
	Missing []string `json:"missing,omitempty"`
}

// HasLevelTargets reports whether the indicator judges tiers of government against
// different targets (clause a.v: ministry/province 90%, district 80%, commune 60%). Such
// an indicator's figures are never mixed across tiers in a roll-up.
func (ind *Indicator) HasLevelTargets() bool {
	return slices.ContainsFunc(ind.Targets, func(t Target) bool {
		return t.Level != AnyLevel && t.Level != National && t.Level != ""
	})
}

// RollUp gives the indicator's figure for agency and period p. own maps an agency code to
// that agency's own latest observation for this indicator and period.
//
// The rules, applied to the agency and then to every contributor in turn:
//
//  1. An agency's own observation for the period wins.
//  2. Otherwise its children that were active on the last day of the period contribute,
//     each with its own value or, failing that, its own roll-up. Membership at the end of
//     the period is what keeps a merged province and its predecessors from being counted
//     twice: on 31 December 2025 only the merged province is a child of the country.
//  3. An agency that did not yet exist on the last day of the period (a province formed on
//     1 July 2025, asked for 2024) takes the roll-up of its predecessors instead. A
//     predecessor that was split among several successors cannot be apportioned: it is
//     listed in Missing. An agency that had already ceased by then has only its own
//     observation.
//  4. Contributions combine by the indicator's aggregation:
//     Ratio: sum of numerators / sum of denominators (×100 for percentages), never a mean
//     of ratios; a contributor without numerator and denominator is listed in Missing.
//     Sum: the sum of values. Mean: the plain mean of the contributors' values (each child
//     counts once). WeightedMean: the mean weighted by each contributor's Denominator (for
//     example respondents); a contributor without a weight is listed in Missing.
//     None: never rolls up; only an own observation is returned.
//  5. A missing value is never taken as zero. RollUp returns false when nothing
//     contributed (or a ratio's denominators sum to zero); the Value then still lists
//     what was Missing.
//
// Levels: when level is set (Commune, say), only agencies of that level contribute,
// found anywhere below the agency; agencies of other levels, and their own observations,
// are passed through. That is how the national commune-level figure for clause a.v is
// made, to be judged against the commune target. When level is empty and the indicator
// has level-specific targets (HasLevelTargets), the agency's own level is used, so levels
// are never mixed: a province's a.v figure is its own province-level observation (or, for
// a merged province, its predecessors' province-level figures), never one made from its
// communes, and the country's is its own national observation. When level is empty and
// the targets are the same for all, every active child contributes whatever its level.
//
// Missing lists the contributors at the level where they were expected: a child with no
// value at all is listed itself, not its whole subtree, while the Missing of a child
// that did have a partial figure is carried up.
func RollUp(ind *Indicator, reg *Registry, agency string, p period.Period, own map[string]Observation, level Level) (Value, bool) {
	a, ok := reg.Get(agency)
	if !ok || p.Kind.PerYear() == 0 {
		return Value{Agency: agency, Period: p, Level: level}, false
	}
	if level == "" && ind.HasLevelTargets() {
		level = a.Level()
	}
	r := &roller{
		ind:      ind,
		reg:      reg,
		p:        p,
		own:      own,
		lastDay:  p.End(time.UTC).AddDate(0, 0, -1),
		visiting: map[string]bool{},
	}
	return r.value(a, level)
}

// roller carries one RollUp call's inputs through the recursion.
type roller struct {
	ind      *Indicator
	reg      *Registry
	p        period.Period
	own      map[string]Observation
	lastDay  time.Time
	visiting map[string]bool // guards against cycles in succession links
}

// tally gathers contributions to one figure.
type tally struct {
	vals    []Value
	from    []string
	missing []string
}

func (r *roller) value(a *Agency, level Level) (Value, bool) {
	v := Value{Agency: a.Code, Period: r.p, Level: level}
	if v.Level == "" {
		v.Level = a.Level()
	}
	if level == "" || a.Level() == level {
		if o, ok := r.own[a.Code]; ok {
			v.Value, v.Numerator, v.Denominator = o.Value, o.Numerator, o.Denominator
			v.From = []string{a.Code}
			return v, true
		}
	}
	if r.ind.Aggregation == None || r.visiting[a.Code] {
		return v, false
	}
	r.visiting[a.Code] = true
	defer delete(r.visiting, a.Code)

	var t tally
	r.gather(a, level, &t)
	return r.combine(v, &t)
}

// contributors are the agencies whose figures make up a's: its children active on the
// last day of the period, or its predecessors if a did not exist yet. Split predecessors
// come back separately, as they cannot contribute.
func (r *roller) contributors(a *Agency) (list, split []*Agency) {
	if a.ActiveOn(r.lastDay) {
		for _, c := range r.reg.Children(a.Code) {
			if c.ActiveOn(r.lastDay) {
				list = append(list, c)
			}
		}
		return list, nil
	}
	if a.ValidFrom.IsZero() || !a.ValidFrom.After(r.lastDay) {
		return nil, nil // it had ceased by the end of the period
	}
	for _, code := range a.Predecessors {
		pred, ok := r.reg.Get(code)
		if !ok {
			continue
		}
		if len(pred.Successors) > 1 {
			split = append(split, pred)
			continue
		}
		list = append(list, pred)
	}
	return list, split
}

// gather adds a's contributors to t. With a level filter, agencies of other levels are
// looked through, not asked for a figure.
func (r *roller) gather(a *Agency, level Level, t *tally) {
	list, split := r.contributors(a)
	for _, s := range split {
		t.missing = append(t.missing, s.Code)
	}
	for _, c := range list {
		if r.visiting[c.Code] {
			continue
		}
		if level != "" && c.Level() != level {
			r.visiting[c.Code] = true
			r.gather(c, level, t)
			delete(r.visiting, c.Code)
			continue
		}
		cv, ok := r.value(c, level)
		if !ok {
			t.missing = append(t.missing, c.Code)
			continue
		}
		t.vals = append(t.vals, cv)
	}
}

func (r *roller) combine(v Value, t *tally) (Value, bool) {
	var used []Value
	var num, den, sum, wsum float64
	for _, c := range t.vals {
		switch r.ind.Aggregation {
		case Ratio:
			if c.Numerator == nil || c.Denominator == nil {
				t.missing = append(t.missing, c.Agency)
				continue
			}
			num += *c.Numerator
			den += *c.Denominator
		case WeightedMean:
			if c.Denominator == nil {
				t.missing = append(t.missing, c.Agency)
				continue
			}
			wsum += c.Value * *c.Denominator
			den += *c.Denominator
		case Sum, Mean:
			sum += c.Value
		default:
			continue
		}
		used = append(used, c)
		t.from = append(t.from, c.From...)
		t.missing = append(t.missing, c.Missing...)
	}
	v.Computed = true
	v.From = sortedSet(t.from)
	v.Missing = sortedSet(t.missing)
	if len(used) == 0 {
		return v, false
	}
	switch r.ind.Aggregation {
	case Ratio:
		if den == 0 {
			return v, false
		}
		v.Value = num / den
		if r.ind.Unit == Percent {
			v.Value *= 100
		}
		v.Numerator, v.Denominator = &num, &den
	case WeightedMean:
		if den == 0 {
			return v, false
		}
		v.Value = wsum / den
		v.Denominator = &den
	case Sum:
		v.Value = sum
	case Mean:
		v.Value = sum / float64(len(used))
	}
	return v, true
}

func sortedSet(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	s = slices.Clone(s)
	slices.Sort(s)
	return slices.Compact(s)
}
