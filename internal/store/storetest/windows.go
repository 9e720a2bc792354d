package storetest

import (
	"time"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/internal/store"
	"github.com/g-oc/goc/internal/store/uptime"
)

// WindowsCountedFrom counts each portal's 24 h, 7 d and 30 d windows from its results
// one by one, as a reader of the raw history would: the oracle the stores' tests hold
// their kept windows to. It also returns the hour the windows end in, the newest hour
// of a result not more than uptime.MaxAhead past now.
func WindowsCountedFrom(results []indicators.ProbeResult, now time.Time) (map[string]*uptime.Windows, time.Time) {
	limit := now.Add(uptime.MaxAhead)
	var cur time.Time
	for _, r := range results {
		if h := store.HourOf(r.Time); !r.Time.After(limit) && h.After(cur) {
			cur = h
		}
	}
	dayFrom, weekFrom, monthFrom := store.WindowBounds(cur)
	want := map[string]*uptime.Windows{}
	for i := range results {
		r := &results[i]
		if want[r.Target] == nil {
			want[r.Target] = &uptime.Windows{}
		}
		if r.Time.After(limit) {
			continue
		}
		d := want[r.Target]
		if !store.HourOf(r.Time).Before(dayFrom) {
			d.Day.Add(r)
		}
		if day := store.DayOf(r.Time); !day.Before(weekFrom) {
			d.Week.Add(r)
		}
		if day := store.DayOf(r.Time); !day.Before(monthFrom) {
			d.Month.Add(r)
		}
	}
	return want, cur
}
