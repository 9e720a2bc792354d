package intake

import (
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/indicators/period"
)

func TestRobustDeviationsUseTheMedianAndMAD(t *testing.T) {
	// Median 10, absolute deviations 0 1 1 2 2 → MAD 1, robust sd 1.4826.
	h := []float64{10, 9, 11, 8, 12}
	dev, med, mad, ok := RobustDeviations(16, h)
	if !ok || med != 10 || mad != 1 || math.Abs(dev-6/1.4826) > 1e-9 {
		t.Errorf("RobustDeviations(16) = %v, %v, %v, %v", dev, med, mad, ok)
	}
	// One wild earlier value does not move the median or MAD much: that is the point.
	// (Its standard deviation would be about 200, and 16 would look ordinary.)
	dev2, med2, mad2, _ := RobustDeviations(16, []float64{10, 9, 11, 8, 12, 500})
	if med2 != 10.5 || mad2 != 1.5 || math.Abs(dev2-5.5/(1.4826*1.5)) > 1e-9 {
		t.Errorf("with a wild value in history: median %v, MAD %v, deviations %v", med2, mad2, dev2)
	}
	// Over half the history equal: MAD is 0 and the mean absolute deviation stands in.
	dev3, _, mad3, ok3 := RobustDeviations(20, []float64{10, 10, 10, 10, 14})
	if !ok3 || mad3 != 0 || math.Abs(dev3-10/(1.2533*0.8)) > 1e-9 {
		t.Errorf("MAD 0: deviations %v, mad %v, ok %v", dev3, mad3, ok3)
	}
	if _, _, _, ok := RobustDeviations(20, []float64{10, 10, 10, 10}); ok {
		t.Error("a history without spread cannot judge")
	}
	if _, _, _, ok := RobustDeviations(20, []float64{10, 11, 12}); ok {
		t.Errorf("%d values are too few to judge", 3)
	}
}

func TestOutliersAreJudgedAgainstTheAgencysLastEightPeriods(t *testing.T) {
	// A steady climb from 3% to 55%: the next value, 57, is normal against the recent
	// level though far above the distant past.
	var climb []float64
	for i := range 20 {
		climb = append(climb, 3+float64(i)*52/19)
	}
	item := func(v float64) []Placed {
		return []Placed{{Obs: indicators.Observation{SeriesKey: indicators.SeriesKey{Indicator: "x", Agency: "A", Period: period.MustParse("2026-Q3")}, Value: v},
			At: Place{Path: "values[0].value"}}}
	}
	hist := func(indicators.Observation) []float64 { return climb }
	if w := Outliers(item(57), hist, 3); len(w) != 0 {
		t.Errorf("57 after a climb to 55 flagged: %v", w)
	}
	w := Outliers(item(95), hist, 3)
	if len(w) != 1 || w[0].Rule != "outlier" || w[0].Place.Path != "values[0].value" || !strings.Contains(w[0].Reason, "8") {
		t.Fatalf("95 after a climb to 55: %v", w)
	}
	// The warning names its indicator and the figure before it, for a page to show
	// beside the new value, in the JSON a client reads too.
	if w[0].Indicator != "x" || w[0].Previous == nil || *w[0].Previous != climb[len(climb)-1] {
		t.Errorf("the warning names indicator %q and previous %v; want x and %v", w[0].Indicator, w[0].Previous, climb[len(climb)-1])
	}
	b, err := json.Marshal(w[0])
	if err != nil {
		t.Fatal(err)
	}
	var back Problem
	if err := json.Unmarshal(b, &back); err != nil || back.Indicator != "x" || back.Previous == nil || *back.Previous != 55 {
		t.Errorf("the warning's JSON %s reads back as %+v (%v)", b, back, err)
	}
}
