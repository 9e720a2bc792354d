package feed

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/indicators/period"
)

// ratioTolerance is how far, in percentage points, a stated percentage may sit from
// 100 × numerator / denominator: the rule submissions follow.
const ratioTolerance = 0.5

// Checker holds a feed's values to the rules a submission is held to: known
// indicator and agency, a period that has started and that the agency lived through,
// the indicator's periodicity and levels, numerators and denominators for ratios,
// and the indicator's bounds.
type Checker struct {
	cat *indicators.Catalogue
	reg *indicators.Registry
	loc *time.Location
	now func() time.Time
}

// NewChecker builds a Checker. loc is the zone periods are judged in.
func NewChecker(cat *indicators.Catalogue, reg *indicators.Registry, loc *time.Location, now func() time.Time) *Checker {
	if loc == nil {
		loc = time.UTC
	}
	if now == nil {
		now = time.Now
	}
	return &Checker{cat: cat, reg: reg, loc: loc, now: now}
}

// Observations checks every row and returns the observations, or every problem.
func (c *Checker) Observations(f *Feed, rows []Row) ([]indicators.Observation, []Problem) {
	var out []indicators.Observation
	var probs []Problem
	seen := map[indicators.SeriesKey]string{}
	for i := range rows {
		r := &rows[i]
		var rp []Problem
		add := func(part, vi, en string, args ...any) {
			rp = append(rp, Problem{Where: r.place(part), Reason: fmt.Sprintf(vi+" / "+en, append(args, args...)...)})
		}
		if r.Indicator == "" {
			r.Indicator = f.Indicator
		}
		if r.Agency == "" {
			r.Agency = f.Agency
		}
		if r.Period == "" {
			r.Period = f.Period
		}
		ind, indOK := c.cat.Get(r.Indicator)
		switch {
		case r.Indicator == "":
			add("indicator", "thiếu mã chỉ tiêu", "no indicator")
		case !indOK:
			add("indicator", "mã chỉ tiêu %q không có trong danh mục", "indicator %q is not in the catalogue", r.Indicator)
		}
		a, agencyOK := c.reg.Get(r.Agency)
		switch {
		case r.Agency == "":
			add("agency", "thiếu mã đơn vị", "no agency")
		case !agencyOK:
			add("agency", "mã đơn vị %q không có trong danh mục", "agency %q is not in the registry", r.Agency)
		}
		var p period.Period
		periodOK := false
		if r.Period == "" {
			add("period", "thiếu kỳ báo cáo", "no period")
		} else if pp, err := period.Parse(r.Period); err != nil {
			add("period", "kỳ báo cáo không hợp lệ: %v", "invalid period: %v", err)
		} else if pp.Start(c.loc).After(c.now()) {
			add("period", "kỳ %s chưa bắt đầu", "period %s has not started yet", pp)
		} else {
			p, periodOK = pp, true
		}
		if agencyOK && periodOK && !a.ActiveDuring(p.Start(c.loc), p.End(c.loc)) {
			add("agency", "đơn vị %s không tồn tại trong kỳ %s", "agency %s did not exist during %s", r.Agency, p)
		}
		if indOK && agencyOK && !ind.ReportedAt(a.Level()) {
			add("indicator", "chỉ tiêu %s không do cấp %s báo cáo", "%s is not reported at %s level", ind.Code, a.Level())
		}
		if indOK && periodOK && ind.Periodicity != p.Kind {
			add("period", "chỉ tiêu %s báo cáo theo kỳ %s, kỳ đã gửi là %s", "%s is reported %s, the period sent is %s",
				ind.Code, ind.Periodicity, p.Kind)
		}
		var o indicators.Observation
		if indOK {
			var vp []Problem
			o, vp = value(ind, r)
			rp = append(rp, vp...)
		}
		if len(rp) > 0 {
			probs = append(probs, rp...)
			continue
		}
		o.SeriesKey = indicators.SeriesKey{Indicator: ind.Code, Agency: r.Agency, Period: p}
		if first, dup := seen[o.SeriesKey]; dup {
			probs = append(probs, Problem{Where: r.At, Reason: fmt.Sprintf("trùng với %s (cùng chỉ tiêu, đơn vị, kỳ) / duplicates %s (same indicator, agency and period)", first, first)})
			continue
		}
		seen[o.SeriesKey] = r.At
		o.Source, o.Submitter = indicators.FromFeed, f.Submitter()
		out = append(out, o)
	}
	return out, probs
}

// value reads the figures of one row for ind.
func value(ind *indicators.Indicator, r *Row) (indicators.Observation, []Problem) {
	var o indicators.Observation
	var probs []Problem
	addp := func(part, vi, en string, args ...any) {
		probs = append(probs, Problem{Where: r.place(part), Reason: fmt.Sprintf(vi+" / "+en, append(args, args...)...)})
	}
	if ind.IsRatio() {
		switch {
		case r.Numerator == nil:
			addp("numerator", "bắt buộc với chỉ tiêu tỷ lệ (để cộng dồn lên cấp trên)", "required for a ratio indicator (it is what rolls up)")
		case *r.Numerator < 0:
			addp("numerator", "không được âm", "must not be negative")
		}
		switch {
		case r.Denominator == nil:
			addp("denominator", "bắt buộc với chỉ tiêu tỷ lệ", "required for a ratio indicator")
		case *r.Denominator <= 0:
			addp("denominator", "phải lớn hơn 0", "must be greater than 0")
		}
		if len(probs) > 0 {
			return o, probs
		}
		num, den := *r.Numerator, *r.Denominator
		if num > den {
			addp("numerator", "tử số %g lớn hơn mẫu số %g", "numerator %g is larger than denominator %g", num, den)
			return o, probs
		}
		ratio := num / den
		if ind.Unit == indicators.Percent {
			ratio *= 100
		}
		if r.Value != nil && math.Abs(*r.Value-ratio) > ratioTolerance {
			addp("value", "giá trị %g không khớp tử số/mẫu số = %.2f", "value %g does not match numerator/denominator = %.2f", *r.Value, ratio)
			return o, probs
		}
		o.Value = ratio
		if r.Value != nil {
			o.Value = *r.Value
		}
		o.Numerator, o.Denominator = indicators.F(num), indicators.F(den)
	} else {
		if r.Numerator != nil {
			addp("numerator", "chỉ dùng cho chỉ tiêu tỷ lệ", "only ratio indicators take one")
		}
		if r.Denominator != nil && ind.Aggregation != indicators.WeightedMean {
			addp("denominator", "chỉ dùng cho chỉ tiêu tỷ lệ", "only ratio indicators take one")
		}
		if r.Value == nil {
			addp("value", "bắt buộc", "required")
		}
		if len(probs) > 0 {
			return o, probs
		}
		o.Value = *r.Value
		if r.Denominator != nil && ind.Aggregation == indicators.WeightedMean {
			o.Denominator = indicators.F(*r.Denominator)
		}
	}
	if !ind.InBounds(o.Value) {
		addp("value", "giá trị %s nằm ngoài khoảng cho phép %s", "value %s is outside the allowed range %s",
			strconv.FormatFloat(o.Value, 'g', -1, 64), boundsText(ind))
	}
	return o, probs
}

func boundsText(ind *indicators.Indicator) string {
	lo, hi := "-∞", "+∞"
	if ind.Bounds.Min != nil {
		lo = strconv.FormatFloat(*ind.Bounds.Min, 'g', -1, 64)
	}
	if ind.Bounds.Max != nil {
		hi = strconv.FormatFloat(*ind.Bounds.Max, 'g', -1, 64)
	}
	return "[" + lo + ", " + hi + "]"
}
