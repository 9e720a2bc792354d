package indicators

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/g-oc/goc/indicators/period"
)

// testRegistry is the hierarchy drawn at the top of testdata/rollup/cases.yaml.
func testRegistry(t *testing.T) *Registry {
	t.Helper()
	date := func(s string) Date {
		d, err := ParseDate(s)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	ag := func(code string, kind AgencyKind, parent string) *Agency {
		return &Agency{Code: code, NameVI: "Đơn vị " + code, NameEN: "Unit " + code, Kind: kind, Parent: parent}
	}
	ended := func(a *Agency, succ ...string) *Agency {
		a.ValidTo, a.Successors = date("2025-06-30"), succ
		return a
	}
	formed := func(a *Agency) *Agency {
		a.ValidFrom = date("2025-07-01")
		return a
	}
	reg, err := NewRegistry([]*Agency{
		ag("VN", KindNational, ""),
		ag("M1", KindMinistry, "VN"),
		ag("M2", KindMinisterialAgency, "VN"),
		ag("P1", KindProvince, "VN"),
		ag("D1", KindDistrict, "P1"),
		ag("C11", KindCommune, "D1"),
		ag("C12", KindCommune, "D1"),
		ag("D2", KindDistrict, "P1"),
		ag("C21", KindCommune, "D2"),
		ag("C22", KindCommune, "D2"),
		ended(ag("P2", KindProvince, "VN"), "P4"),
		ended(ag("C20", KindCommune, "P2"), "C41"),
		ended(ag("P3", KindProvince, "VN"), "P4"),
		formed(ag("P4", KindProvince, "VN")),
		formed(ag("C41", KindCommune, "P4")),
	})
	if err != nil {
		t.Fatal(err)
	}
	return reg
}

type rollupCase struct {
	Name      string `yaml:"name"`
	Indicator struct {
		Unit         Unit        `yaml:"unit"`
		Aggregation  Aggregation `yaml:"aggregation"`
		LevelTargets bool        `yaml:"level_targets"`
	} `yaml:"indicator"`
	Agency string            `yaml:"agency"`
	Period string            `yaml:"period"`
	Level  Level             `yaml:"level"`
	Own    map[string]string `yaml:"own"`
	Want   struct {
		OK          bool     `yaml:"ok"`
		Value       *float64 `yaml:"value"`
		Numerator   *float64 `yaml:"numerator"`
		Denominator *float64 `yaml:"denominator"`
		Computed    bool     `yaml:"computed"`
		From        []string `yaml:"from"`
		Missing     []string `yaml:"missing"`
	} `yaml:"want"`
}

func (c rollupCase) indicator() *Indicator {
	ind := &Indicator{
		Code: "T", NameVI: "Chỉ tiêu thử", NameEN: "Test indicator", Unit: c.Indicator.Unit,
		Direction: HigherIsBetter, Periodicity: period.Year, Aggregation: c.Indicator.Aggregation,
		Levels: []Level{Ministry, Province, District, Commune},
	}
	if c.Indicator.LevelTargets {
		// Clause a.v: work records processed online, by level.
		for l, v := range map[Level]float64{Ministry: 90, Province: 90, District: 80, Commune: 60} {
			ind.Targets = append(ind.Targets, Target{Year: 2025, Level: l, Value: v, Clause: "a.v"})
		}
	} else {
		ind.Targets = []Target{{Year: 2025, Level: AnyLevel, Value: 80, Clause: "a.iv"}}
	}
	return ind
}

// parseOwn reads "91/102", "80" or "80 of 120" (see the YAML file's header).
func parseOwn(ind *Indicator, p period.Period, code, s string) (Observation, error) {
	o := Observation{SeriesKey: SeriesKey{Indicator: ind.Code, Agency: code, Period: p}, Source: FromSubmission}
	num := func(s string) (float64, error) { return strconv.ParseFloat(strings.TrimSpace(s), 64) }
	switch {
	case strings.Contains(s, "/"):
		ns, ds, _ := strings.Cut(s, "/")
		n, err1 := num(ns)
		d, err2 := num(ds)
		if err1 != nil || err2 != nil {
			return o, fmt.Errorf("own %s: %q is not numerator/denominator", code, s)
		}
		o.Numerator, o.Denominator = new(n), new(d)
		if d != 0 {
			o.Value = n / d
			if ind.Unit == Percent {
				o.Value *= 100
			}
		}
	case strings.Contains(s, " of "):
		vs, ws, _ := strings.Cut(s, " of ")
		v, err1 := num(vs)
		w, err2 := num(ws)
		if err1 != nil || err2 != nil {
			return o, fmt.Errorf("own %s: %q is not 'value of weight'", code, s)
		}
		o.Value, o.Denominator = v, new(w)
	default:
		v, err := num(s)
		if err != nil {
			return o, fmt.Errorf("own %s: %q is not a number", code, s)
		}
		o.Value = v
	}
	return o, nil
}

func TestRollUpFollowsTheSpecTable(t *testing.T) {
	reg := testRegistry(t)
	for _, c := range loadYAML[rollupCase](t, "../testdata/rollup/cases.yaml") {
		t.Run(c.Name, func(t *testing.T) {
			ind := c.indicator()
			p, err := period.Parse(c.Period)
			if err != nil {
				t.Fatal(err)
			}
			own := map[string]Observation{}
			for code, s := range c.Own {
				o, err := parseOwn(ind, p, code, s)
				if err != nil {
					t.Fatal(err)
				}
				own[code] = o
			}
			got, ok := RollUp(ind, reg, c.Agency, p, own, c.Level)
			if ok != c.Want.OK {
				t.Errorf("ok = %v, want %v (value %+v)", ok, c.Want.OK, got)
			}
			if got.Agency != c.Agency || got.Period != p {
				t.Errorf("value is for %s %s, want %s %s", got.Agency, got.Period, c.Agency, p)
			}
			if ok {
				if c.Want.Value == nil {
					t.Fatal("case gives no value to check")
				}
				checkFigure(t, "value", &got.Value, c.Want.Value)
			}
			checkFigure(t, "numerator", got.Numerator, c.Want.Numerator)
			checkFigure(t, "denominator", got.Denominator, c.Want.Denominator)
			if got.Computed != c.Want.Computed {
				t.Errorf("computed = %v, want %v", got.Computed, c.Want.Computed)
			}
			if !slices.Equal(got.From, c.Want.From) {
				t.Errorf("from = %v, want %v", got.From, c.Want.From)
			}
			if !slices.Equal(got.Missing, c.Want.Missing) {
				t.Errorf("missing = %v, want %v", got.Missing, c.Want.Missing)
			}
		})
	}
}

func ratioIndicator() *Indicator {
	return &Indicator{Code: "r", NameVI: "r", NameEN: "r", Unit: Percent, Direction: HigherIsBetter,
		Periodicity: period.Year, Aggregation: Ratio, Levels: []Level{Province, Commune},
		Targets: []Target{{Year: 2025, Level: AnyLevel, Value: 60, Clause: "a.iv"}}}
}

func obs(agency string, n, d float64) Observation {
	return Observation{SeriesKey: SeriesKey{Agency: agency}, Value: n / d * 100, Numerator: new(n), Denominator: new(d)}
}

func TestRollUpOfNationalRatioMatchesRatioOfAllLeafSums(t *testing.T) {
	// Whatever the tree, a ratio roll-up must equal sum(numerators)/sum(denominators) over
	// the agencies that reported: the property "ratio of sums" promises.
	reg := testRegistry(t)
	p := period.MustParse("2024")
	leaves := []string{"M1", "M2", "C11", "C12", "C21", "C22", "C20", "P3"}
	own := map[string]Observation{}
	var n, d float64
	for i, code := range leaves {
		num, den := float64(3*i+1), float64(7*i+11)
		own[code] = obs(code, num, den)
		n, d = n+num, d+den
	}
	got, ok := RollUp(ratioIndicator(), reg, "VN", p, own, "")
	if !ok {
		t.Fatal("no national figure")
	}
	if want := n / d * 100; math.Abs(got.Value-want) > 1e-9 {
		t.Errorf("national = %v, want %v", got.Value, want)
	}
	want := slices.Clone(leaves)
	slices.Sort(want)
	if !slices.Equal(got.From, want) || len(got.Missing) != 0 {
		t.Errorf("from %v missing %v, want from %v", got.From, got.Missing, want)
	}
}

func TestRollUpCannotApportionASplitPredecessor(t *testing.T) {
	date := func(s string) Date { d, _ := ParseDate(s); return d }
	reg, err := NewRegistry([]*Agency{
		{Code: "VN", NameVI: "Việt Nam", Kind: KindNational},
		{Code: "A", NameVI: "A", Kind: KindProvince, Parent: "VN", ValidTo: date("2025-06-30"), Successors: []string{"B", "C"}},
		{Code: "X", NameVI: "X", Kind: KindProvince, Parent: "VN", ValidTo: date("2025-06-30"), Successors: []string{"B"}},
		{Code: "B", NameVI: "B", Kind: KindProvince, Parent: "VN", ValidFrom: date("2025-07-01")},
		{Code: "C", NameVI: "C", Kind: KindProvince, Parent: "VN", ValidFrom: date("2025-07-01")},
	})
	if err != nil {
		t.Fatal(err)
	}
	own := map[string]Observation{"A": obs("A", 10, 100), "X": obs("X", 30, 100)}
	// B took part of A and all of X: A's figure cannot be divided, so only X counts.
	got, ok := RollUp(ratioIndicator(), reg, "B", period.MustParse("2024"), own, "")
	if !ok || got.Value != 30 || !slices.Equal(got.From, []string{"X"}) || !slices.Equal(got.Missing, []string{"A"}) {
		t.Errorf("B in 2024 = %+v, %v; want 30%% from X with A missing", got, ok)
	}
	// C's only predecessor was split: nothing to give.
	if got, ok := RollUp(ratioIndicator(), reg, "C", period.MustParse("2024"), own, ""); ok || !slices.Equal(got.Missing, []string{"A"}) {
		t.Errorf("C in 2024 = %+v, %v; want no figure with A missing", got, ok)
	}
}

func TestRollUpSurvivesASuccessionCycle(t *testing.T) {
	// A registry mistake (each listed as the other's successor) must not hang a report.
	date := func(s string) Date { d, _ := ParseDate(s); return d }
	reg, err := NewRegistry([]*Agency{
		{Code: "VN", NameVI: "Việt Nam", Kind: KindNational},
		{Code: "A", NameVI: "A", Kind: KindProvince, Parent: "VN", ValidFrom: date("2025-07-01"), ValidTo: date("2026-06-30"), Successors: []string{"B"}},
		{Code: "B", NameVI: "B", Kind: KindProvince, Parent: "VN", ValidFrom: date("2025-07-01"), ValidTo: date("2026-06-30"), Successors: []string{"A"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := RollUp(ratioIndicator(), reg, "A", period.MustParse("2024"), nil, ""); ok {
		t.Errorf("A = %+v, want no figure", got)
	}
}

func TestRollUpLevelOfTheFigureIsReported(t *testing.T) {
	reg := testRegistry(t)
	own := map[string]Observation{"C11": obs("C11", 1, 2)}
	got, ok := RollUp(ratioIndicator(), reg, "VN", period.MustParse("2024"), own, Commune)
	if !ok || got.Level != Commune {
		t.Errorf("level = %q (%v), want commune", got.Level, ok)
	}
	got, ok = RollUp(ratioIndicator(), reg, "D1", period.MustParse("2024"), own, "")
	if !ok || got.Level != District {
		t.Errorf("level = %q (%v), want the district's own", got.Level, ok)
	}
}

func TestHasLevelTargetsSpotsPerLevelTargets(t *testing.T) {
	if ratioIndicator().HasLevelTargets() {
		t.Error("a target for every level is not level-specific")
	}
	if rankIndicator().HasLevelTargets() {
		t.Error("a national target alone is not level-specific")
	}
	ind := ratioIndicator()
	ind.Targets = append(ind.Targets, Target{Year: 2025, Level: Commune, Value: 60, Clause: "a.v"})
	if !ind.HasLevelTargets() {
		t.Error("a commune target is level-specific")
	}
}
