package intake

import (
	"math"
	"slices"

	"github.com/g-oc/goc/indicators"
)

// Outlier detection: a value is unusual when it lies more than a threshold of robust
// standard deviations from the median of its agency's own recent values. The robust
// deviation is the median absolute deviation (MAD) scaled by 1.4826, which equals the
// standard deviation for normal data but is not pulled by the very outliers it looks
// for (Iglewicz and Hoaglin, "How to Detect and Handle Outliers", 1993; Leys et al.,
// "Detecting outliers: Do not use standard deviation around the mean, use absolute
// deviation around the median", 2013).
const (
	// DefaultOutlierDeviations is the threshold: more than 3 robust deviations.
	DefaultOutlierDeviations = 3.0
	// HistoryWindow is how many of the agency's latest earlier values are compared:
	// enough to be robust, few enough that a steady climb (3% to 55% over five years)
	// is judged against its recent level, not its distant past.
	HistoryWindow = 8
	// MinHistory is the fewest earlier values worth judging against.
	MinHistory = 4
)

// madScale turns a MAD into a standard deviation for normal data; meanADScale does the
// same for the mean absolute deviation, used when over half the history is one value.
const (
	madScale    = 1.4826
	meanADScale = 1.2533
)

// RobustDeviations says how many robust standard deviations x lies from the median of
// history. ok is false when history is shorter than MinHistory or has no spread at all.
func RobustDeviations(x float64, history []float64) (dev, median, mad float64, ok bool) {
	if len(history) < MinHistory {
		return 0, 0, 0, false
	}
	median = medianOf(slices.Clone(history))
	abs := make([]float64, len(history))
	sum := 0.0
	for i, h := range history {
		abs[i] = math.Abs(h - median)
		sum += abs[i]
	}
	mad = medianOf(abs)
	scale := madScale * mad
	if scale == 0 {
		scale = meanADScale * sum / float64(len(history))
	}
	if scale == 0 {
		return 0, median, 0, false
	}
	return math.Abs(x-median) / scale, median, mad, true
}

func medianOf(xs []float64) float64 {
	slices.Sort(xs)
	n := len(xs)
	if n%2 == 1 {
		return xs[n/2]
	}
	return (xs[n/2-1] + xs[n/2]) / 2
}

// Placed is an accepted observation with the place of its figure.
type Placed struct {
	Obs indicators.Observation
	At  Place
}

// Outliers returns a warning (rule "outlier") for each value far from its agency's own
// earlier values, which history gives oldest first. A value is an outlier when both
// hold:
//   - its level lies more than threshold robust deviations from the median of the last
//     HistoryWindow values, and
//   - its change from the previous value lies more than threshold robust deviations
//     from the median of the earlier changes.
//
// The second test keeps a steady trend from being flagged: a share climbing a point a
// quarter drifts away from its own two-year median, yet each step is ordinary. When the
// changes cannot be judged (too few, or all equal), the level alone decides. A
// threshold of 0 or less means DefaultOutlierDeviations.
func Outliers(items []Placed, history func(o indicators.Observation) []float64, threshold float64) []Problem {
	if threshold <= 0 {
		threshold = DefaultOutlierDeviations
	}
	var out []Problem
	for _, it := range items {
		h := history(it.Obs)
		if len(h) > HistoryWindow+1 {
			h = h[len(h)-HistoryWindow-1:]
		}
		level := h
		if len(level) > HistoryWindow {
			level = level[1:]
		}
		x := it.Obs.Value
		dev, med, mad, ok := RobustDeviations(x, level)
		if !ok || dev <= threshold {
			continue
		}
		diffs := make([]float64, 0, len(h))
		for i := 1; i < len(h); i++ {
			diffs = append(diffs, h[i]-h[i-1])
		}
		change := x - h[len(h)-1]
		cdev, cmed, _, cok := RobustDeviations(change, diffs)
		if cok && cdev <= threshold {
			continue // far from the median, but in step with its own trend
		}
		var pr Problem
		if cok {
			pr = problemOf(it.At, msgOutlierAndChange, x, it.Obs.Indicator, len(level), med, mad, dev, threshold, change, cmed)
		} else {
			pr = problemOf(it.At, msgOutlier, x, it.Obs.Indicator, len(level), med, mad, dev, threshold)
		}
		// A page shows the warning beside the figure it was judged against.
		pr.Indicator, pr.Previous = it.Obs.Indicator, new(h[len(h)-1])
		out = append(out, pr)
	}
	return out
}
