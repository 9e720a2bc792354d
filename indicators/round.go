package indicators

import "math"

// UnitDecimals is the precision figures of each unit are published at, unless an
// indicator's own `decimals` in the catalogue says otherwise. Figures are stored and
// computed at full precision; only what is shown (JSON, pages, workbooks) is rounded.
//   - percent: two decimals (89.22%), enough to tell a ratio of thousands apart;
//   - count: one decimal, because a rolled-up mean of counts may fall between whole numbers;
//   - rank: one decimal, because an anticipated rank is a projection (81.2);
//   - score: two decimals;
//   - seconds: three decimals (milliseconds).
func UnitDecimals(u Unit) int {
	switch u {
	case Percent, Score:
		return 2
	case Count, Rank:
		return 1
	case Seconds:
		return 3
	}
	return 2
}

// ShareDecimals is the precision of the dimensionless figures of progress (attainment,
// score, growth rate): four decimals, so 0.2 prints as 0.2, not 0.20000000000000004.
const ShareDecimals = 4

// OutputDecimals is the precision this indicator's values are published at: the
// catalogue's `decimals` when set, else its unit's (UnitDecimals).
func (ind *Indicator) OutputDecimals() int {
	if ind.Decimals != nil {
		return *ind.Decimals
	}
	return UnitDecimals(ind.Unit)
}

// RoundFor rounds v for output as a value of ind (halves away from zero). This is the
// one rounding rule every presenter applies: the JSON API, the pages, the workbooks.
// NaN and infinities pass through unchanged.
func RoundFor(ind *Indicator, v float64) float64 {
	if ind == nil {
		return v
	}
	return roundFinite(v, ind.OutputDecimals())
}

func roundFinite(v float64, d int) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return v
	}
	return Round(v, d)
}

func roundPtr(p *float64, d int) *float64 {
	if p == nil {
		return nil
	}
	v := roundFinite(*p, d)
	return &v
}

// Rounded is p as it is published: values of the indicator (latest, baseline, gap,
// anticipated) at the indicator's precision, attainment, score and growth rate at
// ShareDecimals. The status was judged on the unrounded figures and is kept.
func (p Progress) Rounded(ind *Indicator) Progress {
	d := ind.OutputDecimals()
	if p.Baseline != nil {
		b := *p.Baseline
		b.Value = roundFinite(b.Value, d)
		p.Baseline = &b
	}
	if p.Latest != nil {
		l := *p.Latest
		l.Value = roundFinite(l.Value, d)
		p.Latest = &l
	}
	p.Gap = roundPtr(p.Gap, d)
	p.Anticipated = roundPtr(p.Anticipated, d)
	p.Attainment = roundPtr(p.Attainment, ShareDecimals)
	p.Score = roundPtr(p.Score, ShareDecimals)
	p.CAGR = roundPtr(p.CAGR, ShareDecimals)
	return p
}

// Rounded is v as it is published: its value at the indicator's precision. Numerators
// and denominators are sums of counts and are kept as they are.
func (v Value) Rounded(ind *Indicator) Value {
	v.Value = RoundFor(ind, v.Value)
	return v
}
