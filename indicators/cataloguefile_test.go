package indicators

import (
	"strings"
	"testing"
)

func TestBuiltinCatalogueCoversEveryClause(t *testing.T) {
	c := DefaultCatalogue()
	clauses := map[string]bool{}
	for _, ind := range c.All() {
		for _, tg := range ind.Targets {
			clauses[tg.Clause] = true
		}
	}
	// Clause a skips vii in the source document; every other clause must have a target.
	want := []string{"a.i", "a.ii", "a.iii", "a.iv", "a.v", "a.vi", "a.viii", "a.ix", "a.x", "a.xi",
		"b.i", "b.ii", "b.iii", "b.iv", "b.v", "b.vi", "b.vii", "b.viii", "b.ix"}
	for _, cl := range want {
		if !clauses[cl] {
			t.Errorf("clause %s has no target in the built-in catalogue", cl)
		}
	}
}

func TestBuiltinCatalogueLevelTargetsForWorkRecords(t *testing.T) {
	ind, ok := DefaultCatalogue().Get("work_records_online")
	if !ok {
		t.Fatal("work_records_online missing")
	}
	cases := []struct {
		year  int
		level Level
		want  float64
	}{
		{2025, Ministry, 90}, {2025, Province, 90}, {2025, District, 80}, {2025, Commune, 60},
		{2030, Ministry, 100}, {2030, Province, 100}, {2030, District, 90}, {2030, Commune, 70},
	}
	for _, tc := range cases {
		tg, ok := ind.TargetFor(tc.year, tc.level)
		if !ok || tg.Value != tc.want {
			t.Errorf("target %d %s = %v (found %v), want %v", tc.year, tc.level, tg.Value, ok, tc.want)
		}
		if _, ok := ind.TargetFor(tc.year, National); ok {
			t.Errorf("a.v has no national target, but one was found for %d", tc.year)
		}
	}
}

func TestBuiltinCatalogueEGDIRankIsLowerIsBetter(t *testing.T) {
	ind, _ := DefaultCatalogue().Get("egdi_rank")
	if ind == nil || ind.Direction != LowerIsBetter || ind.Unit != Rank {
		t.Fatalf("egdi_rank = %+v, want a rank where lower is better", ind)
	}
	for _, tc := range []struct {
		year   int
		want   float64
		clause string
	}{{2025, 70, "a.xi"}, {2030, 50, "b.ix"}} {
		tg, ok := ind.TargetFor(tc.year, National)
		if !ok || tg.Value != tc.want || tg.Clause != tc.clause {
			t.Errorf("EGDI %d target = %+v, want %v from %s", tc.year, tg, tc.want, tc.clause)
		}
	}
}

func TestCatalogueFileErrorsNameLineAndField(t *testing.T) {
	cases := []struct {
		name string
		yaml string
		want []string
	}{
		{"unknown field", `indicators:
  - code: x
    name_vi: X
    name_en: X
    unit: percent
    direction: higher
    periodicity: yearly
    aggregation: ratio
    levels: [province]
    colour: red
`, []string{"over.yaml:10:", "colour"}},
		{"bad unit and direction together", `indicators:
  - code: x
    name_vi: X
    name_en: X
    unit: furlongs
    direction: sideways
    periodicity: yearly
    aggregation: ratio
    levels: [province]
`, []string{"over.yaml:2: indicators[0] (x): unit \"furlongs\"", "direction \"sideways\""}},
		{"bad periodicity", `indicators:
  - code: x
    name_vi: X
    name_en: X
    unit: percent
    direction: higher
    periodicity: fortnightly
    aggregation: ratio
    levels: [province]
`, []string{"over.yaml:7:", "fortnightly"}},
		{"target without clause and out of bounds", `indicators:
  - code: x
    name_vi: X
    name_en: X
    unit: percent
    direction: higher
    periodicity: yearly
    aggregation: ratio
    bounds: {min: 0, max: 100}
    levels: [province]
    targets:
      - {year: 2025, level: all, value: 120}
`, []string{"targets[0]: clause is empty", "targets[0]: value 120 is outside"}},
		{"duplicate code", `indicators:
  - {code: x, name_vi: X, name_en: X, unit: count, direction: higher, periodicity: yearly, aggregation: sum, levels: [province]}
  - {code: x, name_vi: X, name_en: X, unit: count, direction: higher, periodicity: yearly, aggregation: sum, levels: [province]}
`, []string{"over.yaml:3: indicators[1] (x): code is also used at line 2"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseCatalogue("over.yaml", []byte(tc.yaml))
			if err == nil {
				t.Fatal("bad catalogue accepted")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestCatalogueOverrideReplacesAndExtends(t *testing.T) {
	over, err := ParseCatalogue("over.yaml", []byte(`indicators:
  - code: egdi_rank
    name_vi: Xếp hạng EGDI
    name_en: EGDI rank
    unit: rank
    direction: lower
    periodicity: yearly
    aggregation: none
    levels: [national]
    targets:
      - {year: 2030, level: national, value: 40, clause: local}
  - code: local_kpi
    name_vi: Chỉ tiêu riêng
    name_en: Local KPI
    unit: count
    direction: higher
    periodicity: monthly
    aggregation: sum
    levels: [province]
`))
	if err != nil {
		t.Fatal(err)
	}
	base := DefaultCatalogue()
	c, err := base.Merge(over)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.All()) != len(base.All())+1 {
		t.Errorf("merged catalogue has %d indicators, want %d", len(c.All()), len(base.All())+1)
	}
	ind, _ := c.Get("egdi_rank")
	if tg, _ := ind.TargetFor(2030, National); tg.Value != 40 {
		t.Errorf("override not applied: 2030 target %v", tg.Value)
	}
	if _, ok := c.Get("local_kpi"); !ok {
		t.Error("new indicator not added")
	}
}
