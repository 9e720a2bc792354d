package indicators

import (
	"slices"

	"github.com/g-oc/goc/indicators/period"
)

// AnnualPoints reduces values of any periodicity to one per year, which is the time step
// the progress method is defined on: the yearly figure where there is one, otherwise the
// figure of the latest period in that year. For the current year that is the latest
// period reported so far (year to date), placed on the year axis at that period's end so
// growth rates stay honest about how much of the year has passed.
//
// Taking the latest period rather than a sum suits the catalogue's indicators, which are
// shares of a stock (services with a feature, officials trained) or ratios already
// computed over their own period.
func AnnualPoints(values []Value) []Value {
	byYear := map[int]Value{}
	for _, v := range values {
		cur, ok := byYear[v.Period.Year]
		if !ok || laterOrLonger(v, cur) {
			byYear[v.Period.Year] = v
		}
	}
	out := make([]Value, 0, len(byYear))
	for _, v := range byYear {
		out = append(out, v)
	}
	slices.SortFunc(out, func(a, b Value) int { return a.Period.Year - b.Period.Year })
	return out
}

// laterOrLonger prefers the yearly figure, then the period that ends last.
func laterOrLonger(v, cur Value) bool {
	if cur.Period.Kind == period.Year {
		return false
	}
	if v.Period.Kind == period.Year {
		return true
	}
	return v.Period.End(nil).After(cur.Period.End(nil))
}
