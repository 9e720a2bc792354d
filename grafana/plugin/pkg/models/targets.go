package models

import (
	"math"
	"slices"

	"github.com/g-oc/goc/indicators"
)

// Step is one threshold step: from Value upward (from minus infinity when Value is nil)
// a figure takes Color.
type Step struct {
	Value *float64
	Color string
}

// TargetsAt lists the indicator's targets that judge an agency of a level, one per year,
// by year.
func TargetsAt(ind *indicators.Indicator, level indicators.Level) []indicators.Target {
	var out []indicators.Target
	for _, y := range ind.TargetYears() {
		if t, ok := ind.TargetFor(y, level); ok {
			out = append(out, t)
		}
	}
	return out
}

// Thresholds colours a figure against its targets: red short of the first target,
// green at or past the last, and yellow (orange too with three) in between, so a gauge
// shows at a glance whether the 2025 target is met and how far 2030 is. For a
// lower-is-better indicator (a rank) the scale runs the other way, and a figure equal to
// a target counts as meeting it. Without a target the figure is plain blue.
func Thresholds(ind *indicators.Indicator, level indicators.Level) []Step {
	var vals []float64
	for _, t := range TargetsAt(ind, level) {
		if !slices.Contains(vals, t.Value) {
			vals = append(vals, t.Value)
		}
	}
	if len(vals) == 0 {
		return []Step{{Color: "blue"}}
	}
	slices.Sort(vals)
	palette := map[int][]string{
		1: {"red", "green"},
		2: {"red", "yellow", "green"},
		3: {"red", "orange", "yellow", "green"},
	}
	colors, ok := palette[len(vals)]
	if !ok {
		colors = make([]string, len(vals)+1)
		for i := range colors {
			colors[i] = "yellow"
		}
		colors[0], colors[len(colors)-1] = "red", "green"
	}
	steps := []Step{{Color: colors[0]}}
	if ind.Direction == indicators.LowerIsBetter {
		// Ascending values, worst last: green up to the best target, then worse colours
		// once a figure is strictly above each target.
		slices.Reverse(colors)
		steps[0].Color = colors[0]
		for i, v := range vals {
			// Just above the target: half a place for ranks and counts, which are whole.
			above := math.Nextafter(v, math.Inf(1))
			if ind.Unit == indicators.Rank || ind.Unit == indicators.Count {
				above = v + 0.5
			}
			steps = append(steps, Step{Value: &above, Color: colors[i+1]})
		}
		return steps
	}
	for i, v := range vals {
		steps = append(steps, Step{Value: &v, Color: colors[i+1]})
	}
	return steps
}

// GrafanaUnit is the Grafana unit ID that displays an indicator's values.
func GrafanaUnit(u indicators.Unit) string {
	switch u {
	case indicators.Percent:
		return "percent"
	case indicators.Seconds:
		return "s"
	case indicators.Count:
		return "short"
	}
	return "none"
}
