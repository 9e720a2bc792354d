package web

import (
	"fmt"

	"github.com/g-oc/goc/indicators"
)

// Value formats an indicator's figure with its unit for reading: one decimal for a
// percentage ("85,3 %"), none for a rank or a count. Tables also carry the figure
// unrounded in a data-value attribute, which is what tests compare with the API.
func (l Lang) Value(ind *indicators.Indicator, v float64) string {
	switch ind.Unit {
	case indicators.Percent:
		return l.Num(v, 1) + " %"
	case indicators.Rank:
		return l.Num(v, 0)
	case indicators.Count:
		if v == float64(int64(v)) {
			return l.Num(v, 0)
		}
		return l.Num(v, 1)
	case indicators.Seconds:
		return l.Num(v, 2) + " s"
	}
	return l.Num(v, 2)
}

// ValueP formats an optional figure; a dash when there is none.
func (l Lang) ValueP(ind *indicators.Indicator, v *float64) string {
	if v == nil {
		return "–"
	}
	return l.Value(ind, *v)
}

// Status is a progress status in words; the page also colours it, never colour alone.
func (l Lang) Status(st indicators.Status) string { return l.T("status." + string(st)) }

// Level names a tier of government.
func (l Lang) Level(lv indicators.Level) string {
	if lv == "" {
		return l.T("level.national")
	}
	return l.T("level." + string(lv))
}

// Change says a rank change in words: "tăng 2 bậc" / "up 2", never only an arrow.
func (l Lang) Change(c int) string {
	switch {
	case c > 0:
		return fmt.Sprintf(l.T("change.up"), c)
	case c < 0:
		return fmt.Sprintf(l.T("change.down"), -c)
	}
	return l.T("change.same")
}

// Pct formats a share between 0 and 1 as a percentage.
func (l Lang) Pct(share float64) string { return l.Num(100*share, 0) + " %" }

// Ms formats seconds as milliseconds.
func (l Lang) Ms(seconds float64) string { return l.Num(1000*seconds, 0) + " ms" }
