package indicators

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestPublishedFiguresAreRoundedToTheUnitsPrecision(t *testing.T) {
	cat := DefaultCatalogue()
	pct, _ := cat.Get("dossiers_fully_online")
	if got := RoundFor(pct, 27.810000000000002); got != 27.81 {
		t.Errorf("percent 27.810000000000002 → %v, want 27.81", got)
	}
	if got := RoundFor(pct, 89.21568627); got != 89.22 {
		t.Errorf("percent 89.21568627 → %v, want 89.22", got)
	}
	gap, att := 27.810000000000002, 0.20000000000000004
	p := Progress{Gap: &gap, Attainment: &att, Latest: &Point{Value: 62.189999999999998}}
	b, err := json.Marshal(p.Rounded(pct))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"gap":27.81`, `"attainment":0.2,`, `"value":62.19`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("rounded progress %s lacks %s", b, want)
		}
	}
	if gap != 27.810000000000002 {
		t.Error("Rounded changed the figure it was given")
	}
}

func TestCatalogueDecimalsOverrideTheUnitAndAreChecked(t *testing.T) {
	list, err := ParseCatalogue("c.yaml", []byte(`indicators:
  - {code: x, name_vi: x, name_en: x, unit: percent, direction: higher, periodicity: yearly, aggregation: mean, levels: [national], decimals: 0}
`))
	if err != nil {
		t.Fatal(err)
	}
	if got := RoundFor(list[0], 51.7); got != 52 {
		t.Errorf("decimals 0: 51.7 → %v, want 52", got)
	}
	_, err = ParseCatalogue("c.yaml", []byte(`indicators:
  - {code: x, name_vi: x, name_en: x, unit: percent, direction: higher, periodicity: yearly, aggregation: mean, levels: [national], decimals: 9}
`))
	if err == nil || !strings.Contains(err.Error(), "c.yaml:2") || !strings.Contains(err.Error(), "decimals 9") {
		t.Errorf("decimals 9: error %v, want one naming c.yaml:2 and decimals 9", err)
	}
}
