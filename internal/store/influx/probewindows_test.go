package influx

import (
	"context"
	"testing"
	"time"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/internal/store"
)

// InfluxDB computes the windows on the server; they must count what the SQLite store
// keeps as it writes (the same probes as its TestStatusGivesUptimeOverTheLastDayWeekAndMonth).
func TestStatusGivesUptimeOverTheLastDayWeekAndMonthFromInfluxDB(t *testing.T) {
	s := openFresh(t)
	ctx := context.Background()
	end := time.Date(2026, 11, 30, 12, 30, 0, 0, time.UTC)
	target := "https://langson.gov.vn/"
	var rs []indicators.ProbeResult
	for h := 40 * 24; h >= 0; h-- {
		at := end.Add(-time.Duration(h) * time.Hour)
		down := (!at.Before(end.AddDate(0, 0, -10)) && at.Before(end.AddDate(0, 0, -9))) || h == 1 || h == 2
		r := indicators.ProbeResult{Target: target, Agency: "P20", Time: at, Success: !down, HTTPStatus: 200,
			Phases: map[string]float64{"total": 0.2}}
		if down {
			r.HTTPStatus, r.Error, r.Phases = 0, "connection refused", nil
		}
		rs = append(rs, r)
	}
	if err := s.WriteProbeResults(ctx, rs); err != nil {
		t.Fatal(err)
	}
	flush(t, s)
	st, err := s.ProbeStatuses(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Statuses) != 1 || !st.AsOf.Equal(store.HourOf(end)) {
		t.Fatalf("statuses as of %s: %+v", st.AsOf, st.Statuses)
	}
	p := st.Statuses[0]
	for _, c := range []struct {
		name           string
		w              store.ProbeWindow
		probes, failed int
	}{
		{"24 h", p.Day, 24, 2},
		{"7 d", p.Week, 6*24 + 13, 2},
		{"30 d", p.Month, 29*24 + 13, 24 + 2},
	} {
		if c.w.Probes != c.probes || c.w.Probes-c.w.Successes != c.failed {
			t.Errorf("%s window: %d probes, %d failed; want %d, %d", c.name, c.w.Probes, c.w.Probes-c.w.Successes, c.probes, c.failed)
		}
		if m := c.w.MedianSeconds(); m == nil || *m != 0.2 {
			t.Errorf("%s median %v, want 0.2 s", c.name, m)
		}
	}
	if !p.Latest.Success || !p.Latest.Time.Equal(end) {
		t.Errorf("latest %+v", p.Latest)
	}
}
