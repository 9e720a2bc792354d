package indicators

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/g-oc/goc/indicators/period"
)

// progressCase is one row of testdata/progress/cases.yaml; the file's header explains
// the fields for analysts.
type progressCase struct {
	Name          string            `yaml:"name"`
	Direction     Direction         `yaml:"direction"`
	Unit          Unit              `yaml:"unit"`
	Bounds        Bounds            `yaml:"bounds"`
	Series        []string          `yaml:"series"`
	TargetYear    int               `yaml:"target_year"`
	TargetForYear int               `yaml:"target_for_year"`
	Target        *float64          `yaml:"target"`
	Targets       map[Level]float64 `yaml:"targets"`
	Level         Level             `yaml:"level"`
	Want          struct {
		Status      Status   `yaml:"status"`
		Anticipated *float64 `yaml:"anticipated"`
		Gap         *float64 `yaml:"gap"`
		Attainment  *float64 `yaml:"attainment"`
		Score       *float64 `yaml:"score"`
		Adjustments []string `yaml:"adjustments"`
	} `yaml:"want"`
}

func loadYAML[T any](t *testing.T, path string) []T {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read spec table: %v", err)
	}
	var out []T
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	dec.KnownFields(true) // a misspelt field must not silently drop an expectation
	if err := dec.Decode(&out); err != nil {
		t.Fatalf("decode %s: %v", path, err)
	}
	if len(out) == 0 {
		t.Fatalf("%s has no cases", path)
	}
	return out
}

// parseSeries reads "2020-09=19.10" items.
func parseSeries(items []string) ([]Point, error) {
	var pts []Point
	for _, it := range items {
		ps, vs, ok := strings.Cut(it, "=")
		if !ok {
			return nil, fmt.Errorf("series item %q: want period=value", it)
		}
		p, err := period.Parse(ps)
		if err != nil {
			return nil, err
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(vs), 64)
		if err != nil {
			return nil, fmt.Errorf("series item %q: %w", it, err)
		}
		pts = append(pts, Point{Period: p, Value: v})
	}
	return pts, nil
}

func (c progressCase) indicator() *Indicator {
	ind := &Indicator{
		Code: "T", NameVI: "Chỉ tiêu thử", NameEN: "Test indicator",
		Unit: c.Unit, Direction: c.Direction, Periodicity: period.Year,
		Aggregation: Ratio, Bounds: c.Bounds, Levels: []Level{Province},
	}
	year := c.TargetYear
	if c.TargetForYear != 0 {
		year = c.TargetForYear
	}
	if c.Target != nil {
		ind.Targets = append(ind.Targets, Target{Year: year, Level: AnyLevel, Value: *c.Target, Clause: "test"})
	}
	for l, v := range c.Targets {
		ind.Targets = append(ind.Targets, Target{Year: year, Level: l, Value: v, Clause: "test"})
	}
	return ind
}

func TestProgressFollowsTheSpecTable(t *testing.T) {
	for _, c := range loadYAML[progressCase](t, "../testdata/progress/cases.yaml") {
		t.Run(c.Name, func(t *testing.T) {
			series, err := parseSeries(c.Series)
			if err != nil {
				t.Fatal(err)
			}
			got := ComputeProgress(c.indicator(), "A", c.Level, series, c.TargetYear)
			if got.Status != c.Want.Status {
				t.Errorf("status = %s, want %s", got.Status, c.Want.Status)
			}
			checkFigure(t, "anticipated", got.Anticipated, c.Want.Anticipated)
			checkFigure(t, "gap", got.Gap, c.Want.Gap)
			checkFigure(t, "attainment", got.Attainment, c.Want.Attainment)
			checkFigure(t, "score", got.Score, c.Want.Score)
			if !slices.Equal(got.Adjustments, c.Want.Adjustments) {
				t.Errorf("adjustments = %v, want %v", got.Adjustments, c.Want.Adjustments)
			}
			if got.Method != MethodUNSD2023 {
				t.Errorf("method = %q", got.Method)
			}
			if _, err := json.Marshal(got); err != nil {
				t.Errorf("progress does not encode as JSON: %v", err)
			}
		})
	}
}

func checkFigure(t *testing.T, name string, got, want *float64) {
	t.Helper()
	switch {
	case want == nil && got != nil:
		t.Errorf("%s = %.4f, want it left out (not computable)", name, *got)
	case want != nil && got == nil:
		t.Errorf("%s is missing, want %.4f", name, *want)
	case want != nil && math.Abs(*got-*want) > 0.005:
		t.Errorf("%s = %.4f, want %.4f", name, *got, *want)
	}
}

func rankIndicator() *Indicator {
	return &Indicator{
		Code: "egdi_rank", NameVI: "Xếp hạng EGDI", NameEN: "EGDI rank", Unit: Rank,
		Direction: LowerIsBetter, Periodicity: period.Year, Aggregation: None,
		Levels:  []Level{National},
		Targets: []Target{{Year: 2025, Level: National, Value: 70, Clause: "a.xi"}, {Year: 2030, Level: National, Value: 50, Clause: "b.ix"}},
	}
}

func pts(items ...string) []Point {
	p, err := parseSeries(items)
	if err != nil {
		panic(err)
	}
	return p
}

func TestProgressReportsBaselineLatestAndTargetItUsed(t *testing.T) {
	got := ComputeProgress(rankIndicator(), "VN", National, pts("2020=86", "2014=99", "2018=88"), 2025)
	if got.Baseline == nil || got.Baseline.Period.String() != "2014" || got.Baseline.Value != 99 {
		t.Errorf("baseline = %+v, want 2014=99", got.Baseline)
	}
	if got.Latest == nil || got.Latest.Period.String() != "2020" || got.Latest.Value != 86 {
		t.Errorf("latest = %+v, want 2020=86", got.Latest)
	}
	if got.Target == nil || got.Target.Clause != "a.xi" || got.Target.Value != 70 {
		t.Errorf("target = %+v, want clause a.xi value 70", got.Target)
	}
	if got.Points != 3 || got.Indicator != "egdi_rank" || got.Agency != "VN" || got.TargetYear != 2025 || got.Level != National {
		t.Errorf("identity = %+v", got)
	}
	// CAGR = (86/99)^(1/6) - 1
	if want := math.Pow(86.0/99, 1.0/6) - 1; got.CAGR == nil || math.Abs(*got.CAGR-want) > 1e-12 {
		t.Errorf("cagr = %v, want %v", got.CAGR, want)
	}
}

func TestProgressToThe2030TargetUsesTheLaterYear(t *testing.T) {
	got := ComputeProgress(rankIndicator(), "VN", National, pts("2018=88", "2020=86"), 2030)
	if got.Target == nil || got.Target.Value != 50 {
		t.Fatalf("target = %+v, want 50 by 2030", got.Target)
	}
	// anticipated at 2031.0: 86 * (86/88)^(10/2)
	want := 86 * math.Pow(86.0/88, 5)
	if got.Anticipated == nil || math.Abs(*got.Anticipated-want) > 1e-9 {
		t.Errorf("anticipated = %v, want %v", got.Anticipated, want)
	}
	if got.Status != NeedsAcceleration {
		t.Errorf("status = %s", got.Status)
	}
}

func TestProgressKeepsTheLastValueGivenForAPeriod(t *testing.T) {
	ind := &Indicator{Code: "x", Unit: Percent, Direction: HigherIsBetter, Periodicity: period.Year,
		Targets: []Target{{Year: 2025, Level: AnyLevel, Value: 60, Clause: "t"}}}
	got := ComputeProgress(ind, "A", "", pts("2021=40", "2023=45", "2023=50"), 2025)
	if got.Points != 2 || got.Latest.Value != 50 {
		t.Errorf("points = %d latest = %+v, want 2 points and the revised 50", got.Points, got.Latest)
	}
	if got.Anticipated == nil || math.Abs(*got.Anticipated-62.5) > 1e-9 {
		t.Errorf("anticipated = %v, want 62.5", got.Anticipated)
	}
}

func TestProgressOfACountWithoutBoundsStaysEncodable(t *testing.T) {
	// From a zero base with no upper bound the projection overflows: the status must still
	// be decided and the figures that cannot be represented are left out.
	ind := &Indicator{Code: "n", Unit: Count, Direction: HigherIsBetter, Periodicity: period.Month,
		Targets: []Target{{Year: 2025, Level: AnyLevel, Value: 1e28, Clause: "t"}}}
	// (1e27/0.001)^12 overflows float64.
	got := ComputeProgress(ind, "A", "", pts("2025-01=0", "2025-02=1e27"), 2025)
	if got.Status != OnTrack {
		t.Errorf("status = %s, want on_track", got.Status)
	}
	if got.CAGR != nil || got.Anticipated != nil || got.Score != nil {
		t.Errorf("cagr %v anticipated %v score %v, want all left out as infinite", got.CAGR, got.Anticipated, got.Score)
	}
	if got.Gap == nil || got.Attainment == nil {
		t.Errorf("gap %v attainment %v, want both", got.Gap, got.Attainment)
	}
	if _, err := json.Marshal(got); err != nil {
		t.Errorf("json: %v", err)
	}
}

func TestProgressWithoutAnyPointsHasNoFigures(t *testing.T) {
	got := ComputeProgress(rankIndicator(), "VN", National, nil, 2025)
	if got.Status != InsufficientData || got.Latest != nil || got.Baseline != nil || got.Gap != nil || got.Points != 0 {
		t.Errorf("got %+v", got)
	}
	if got.Target == nil {
		t.Error("target should still be shown")
	}
}
