package web

import (
	"fmt"

	"github.com/g-oc/goc/indicators"
)

// Value formats an indicator's figure with its unit for reading, at the precision the
// API publishes it (indicators.RoundFor), in the reader's convention: the API's 89.22
// reads "89,22 %" in Vietnamese and "89.22 %" in English. Tables also carry the figure
// unrounded in a data-value attribute, for sorting.
func (l Lang) Value(ind *indicators.Indicator, v float64) string {
	s := l.Num(indicators.RoundFor(ind, v), -1)
	switch ind.Unit {
	case indicators.Percent:
		return s + " %"
	case indicators.Seconds:
		return s + " s"
	}
	return s
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
