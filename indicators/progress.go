package indicators

import (
	"math"
	"slices"

	"github.com/g-oc/goc/indicators/period"
)

// Point is one value of a series, placed on the year axis at the end of its period
// (Period.YearFraction: 2020 sits at 2021.0, 2020-09 at 2020.75).
type Point struct {
	Period period.Period `json:"period"`
	Value  float64       `json:"value"`
}

// Status is the verdict on an agency's progress toward a target.
type Status string

// Statuses, best first. The thresholds are those of the UN Statistics Division's
// progress chart; see ComputeProgress.
const (
	// Achieved: the latest value already meets the target.
	Achieved Status = "achieved"
	// OnTrack: at the current pace the target will be met (score ≥ 0.95).
	OnTrack Status = "on_track"
	// NeedsAcceleration: moving toward the target, too slowly (0.10 ≤ score < 0.95).
	NeedsAcceleration Status = "needs_acceleration"
	// Stagnating: hardly moving (0 ≤ score < 0.10).
	Stagnating Status = "stagnating"
	// Regressing: moving away from the target (score < 0), or no longer meeting a target
	// the baseline met.
	Regressing Status = "regressing"
	// InsufficientData: fewer than two points, or values the growth-rate model cannot use.
	InsufficientData Status = "insufficient_data"
	// NoTarget: the indicator has no target for that year and level.
	NoTarget Status = "no_target"
)

// MethodUNSD2023 names the method ComputeProgress applies, for the Method field.
const MethodUNSD2023 = "unsd-progress-chart-2023"

// Adjustments ComputeProgress may record, so that a figure can be read with its caveats.
const (
	// AdjustZeroBase: the baseline was 0 and 0.001 stood in for it in the growth rate,
	// as Open SDG does.
	AdjustZeroBase = "zero_base_replaced_by_0.001"
	// AdjustCapped: the anticipated value ran past the indicator's bounds (above 100%,
	// below rank 1) and was held at the bound.
	AdjustCapped = "anticipated_capped_at_bound"
	// AdjustLaterPointsIgnored: points after the end of the target year were left out,
	// since they cannot show whether the target was met by that year.
	AdjustLaterPointsIgnored = "points_after_target_year_ignored"
	// AdjustNonPositive: a baseline or latest value below zero; compound growth is not
	// defined for it, so no anticipated value or score was computed.
	AdjustNonPositive = "negative_value_no_growth_rate"
)

// zeroStandIn replaces a zero baseline in the growth rate (Open SDG,
// docs/progress-methodology.md, "Special considerations for the base value").
const zeroStandIn = 0.001

// Progress is an agency's standing against one target of one indicator. Pointer fields
// are nil when they cannot be computed; nothing is guessed.
type Progress struct {
	Indicator  string  `json:"indicator"`
	Agency     string  `json:"agency"`
	Level      Level   `json:"level"`
	TargetYear int     `json:"target_year"`
	Target     *Target `json:"target,omitempty"`
	// Baseline is the first point of the series and Latest the last one (up to the end of
	// the target year). With a single point there is a Latest but no Baseline.
	Baseline *Point `json:"baseline,omitempty"`
	Latest   *Point `json:"latest,omitempty"`
	// Gap is what is still to go: target - latest when higher is better, latest - target
	// when lower is better. Zero or below means the target is met.
	Gap *float64 `json:"gap,omitempty"`
	// Attainment is the share of the baseline-to-target distance covered so far:
	// (latest - baseline)/(target - baseline). 1 is the whole way; below 0 is backwards.
	Attainment *float64 `json:"attainment,omitempty"`
	// CAGR is the compound annual growth rate actually observed between baseline and latest.
	CAGR *float64 `json:"cagr,omitempty"`
	// Anticipated is the value expected at the end of the target year if that growth goes on.
	Anticipated *float64 `json:"anticipated,omitempty"`
	// Score is (anticipated - baseline)/(target - baseline): 1 means the target is reached
	// on time.
	Score  *float64 `json:"score,omitempty"`
	Status Status   `json:"status"`
	// Method is the short name of the method applied (MethodUNSD2023).
	Method string `json:"method"`
	// Adjustments lists the Adjust* caveats that apply to these figures.
	Adjustments []string `json:"adjustments,omitempty"`
	// Points counts the distinct periods used.
	Points int `json:"points"`
}

// ComputeProgress judges a series against the indicator's target for targetYear at the
// given level (a level's own target wins over one for every level; see
// Indicator.TargetFor).
//
// The method is the one the UN Statistics Division uses for its SDG progress chart
// (UNSD, "The Sustainable Development Goals Report 2023: Progress Chart Technical Note",
// https://unstats.un.org/sdgs/files/report/2023/Progress_Chart_Technical_Note_2023.pdf),
// also used by UN ESCAP for its Asia-Pacific SDG progress reports:
//
//   - baseline vb at tb is the first point, latest vt at t the last point, both placed on
//     the year axis at the end of their periods (so 2025-H1 is 2025.5 and 2025 is 2026.0);
//   - observed growth CAGRa = (vt/vb)^(1/(t-tb)) - 1;
//   - anticipated value v^ = vt·(1+CAGRa)^(T-t), where T = targetYear+1 is the end of the
//     target year on that axis: a target "by 2025" is judged at 2026.0, where the yearly
//     figure for 2025 sits;
//   - score = (v^ - vb)/(vT - vb) with vT the target value.
//
// Status, in this order:
//   - no target for the year and level → no_target (Baseline, Latest, CAGR and
//     Anticipated are still filled when there are the points for them);
//   - the latest value meets the target (≥ for higher-is-better, ≤ for lower) → achieved,
//     even from a single point: meeting a target needs no trend;
//   - fewer than two periods → insufficient_data (Latest, Gap and Target are filled;
//     Baseline, Attainment and Score are not, since one point has no movement);
//   - the baseline met the target but the latest does not → regressing;
//   - otherwise by score: ≥ 0.95 on_track; 0.10–0.95 needs_acceleration; 0–0.10
//     stagnating; < 0 regressing.
//
// Adaptations, each recorded in Adjustments when it applies:
//   - a zero baseline is replaced by 0.001 in the growth rate, as Open SDG does
//     (open-sdg docs/progress-methodology.md, after Statistics Canada); the score still
//     uses the true baseline. A negative baseline or latest value has no compound growth
//     rate: the status is then insufficient_data unless the target is met.
//   - the anticipated value is held within the indicator's bounds, and within 0–100 for
//     percentages and ≥ 1 for ranks, because exponential growth from a low base runs past
//     100% and a falling rank runs below 1. Holding it at the bound keeps the score in
//     a range the target can mean.
//   - lower-is-better indicators (the EGDI rank) need no change to the formulas: the
//     score compares movement toward the target with the distance to it, and both are
//     negative when improving.
//   - points after the end of the target year are ignored; the same period given twice
//     keeps its last value.
//
// Attainment is (latest - baseline)/(target - baseline). It and Score are nil when the
// baseline already meets the target (target equal to baseline included): the distance to
// cover is then zero or backwards.
func ComputeProgress(ind *Indicator, agency string, level Level, series []Point, targetYear int) Progress {
	pr := Progress{Indicator: ind.Code, Agency: agency, Level: level, TargetYear: targetYear, Method: MethodUNSD2023}
	end := float64(targetYear + 1)

	pts, dropped := usablePoints(series, end)
	if dropped {
		pr.Adjustments = append(pr.Adjustments, AdjustLaterPointsIgnored)
	}
	pr.Points = len(pts)
	if len(pts) > 0 {
		l := pts[len(pts)-1]
		pr.Latest = &l
	}
	if len(pts) > 1 {
		b := pts[0]
		pr.Baseline = &b
	}

	tgt, hasTarget := ind.TargetFor(targetYear, level)
	if hasTarget {
		pr.Target = &tgt
	}
	lower := ind.Direction == LowerIsBetter
	meets := func(v float64) bool {
		if lower {
			return v <= tgt.Value
		}
		return v >= tgt.Value
	}

	// Growth and the anticipated value need no target, only two periods.
	var (
		anticipated float64
		canProject  bool
	)
	if len(pts) >= 2 {
		vb, vt := pr.Baseline.Value, pr.Latest.Value
		tb, t := pr.Baseline.Period.YearFraction(), pr.Latest.Period.YearFraction()
		switch {
		case vb < 0 || vt < 0:
			pr.Adjustments = append(pr.Adjustments, AdjustNonPositive)
		default:
			base := vb
			if base == 0 {
				base = zeroStandIn
				pr.Adjustments = append(pr.Adjustments, AdjustZeroBase)
			}
			cagr := math.Pow(vt/base, 1/(t-tb)) - 1
			anticipated = vt * math.Pow(1+cagr, end-t)
			if lo, hi := projectionBounds(ind); anticipated > hi || anticipated < lo {
				anticipated = math.Max(lo, math.Min(hi, anticipated))
				pr.Adjustments = append(pr.Adjustments, AdjustCapped)
			}
			canProject = !math.IsNaN(anticipated)
			pr.CAGR = finite(cagr)
			if canProject {
				pr.Anticipated = finite(anticipated)
			}
		}
	}

	if !hasTarget {
		pr.Status = NoTarget
		return pr
	}
	if pr.Latest == nil {
		pr.Status = InsufficientData
		return pr
	}

	vt, vT := pr.Latest.Value, tgt.Value
	gap := vT - vt
	if lower {
		gap = vt - vT
	}
	pr.Gap = &gap
	if pr.Baseline == nil {
		if meets(vt) {
			pr.Status = Achieved
		} else {
			pr.Status = InsufficientData
		}
		return pr
	}
	vb := pr.Baseline.Value
	// From a baseline already at or past the target, the distance to go is zero or
	// backwards, so neither attainment nor score has a meaning.
	baseMet := meets(vb)
	if !baseMet {
		pr.Attainment = finite((vt - vb) / (vT - vb))
	}
	var score float64
	if canProject && !baseMet {
		// +Inf or -Inf can come out of a runaway projection without bounds; they still
		// classify correctly below, but are not stored since JSON cannot carry them.
		score = (anticipated - vb) / (vT - vb)
		pr.Score = finite(score)
	}

	switch {
	case meets(vt):
		pr.Status = Achieved
	case baseMet:
		pr.Status = Regressing
	case !canProject:
		pr.Status = InsufficientData
	case score >= 0.95:
		pr.Status = OnTrack
	case score >= 0.10:
		pr.Status = NeedsAcceleration
	case score >= 0:
		pr.Status = Stagnating
	default:
		pr.Status = Regressing
	}
	return pr
}

// usablePoints sorts the series by period end, keeps the last value given for a period,
// and drops points that end after the target year. Points whose periods end together
// (2025 and 2025-H2) are different periods but one place on the axis; the later one in
// the input wins, so that growth is never measured over zero years.
func usablePoints(series []Point, end float64) ([]Point, bool) {
	pts := make([]Point, 0, len(series))
	dropped := false
	for _, p := range series {
		if p.Period.Kind.PerYear() == 0 {
			continue // the zero period has no place on the axis
		}
		if p.Period.YearFraction() > end {
			dropped = true
			continue
		}
		if i := slices.IndexFunc(pts, func(q Point) bool { return q.Period.YearFraction() == p.Period.YearFraction() }); i >= 0 {
			pts[i] = p
			continue
		}
		pts = append(pts, p)
	}
	slices.SortStableFunc(pts, func(a, b Point) int {
		switch fa, fb := a.Period.YearFraction(), b.Period.YearFraction(); {
		case fa < fb:
			return -1
		case fa > fb:
			return 1
		}
		return 0
	})
	return pts, dropped
}

// projectionBounds is where an anticipated value must stay: the indicator's own bounds,
// narrowed by what its unit allows (a share is 0-100, a rank starts at 1, counts and
// durations are not negative).
func projectionBounds(ind *Indicator) (lo, hi float64) {
	lo, hi = math.Inf(-1), math.Inf(1)
	switch ind.Unit {
	case Percent:
		lo, hi = 0, 100
	case Rank:
		lo = 1
	case Count, Seconds:
		lo = 0
	}
	if ind.Bounds.Min != nil {
		lo = math.Max(lo, *ind.Bounds.Min)
	}
	if ind.Bounds.Max != nil {
		hi = math.Min(hi, *ind.Bounds.Max)
	}
	return lo, hi
}

func finite(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}
