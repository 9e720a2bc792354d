package template

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/indicators/period"
	"github.com/g-oc/goc/internal/intake"
)

var now = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

// makeTemplate builds P20's template for a period with one previous value, as bytes.
func makeTemplate(t *testing.T, agency, per string) ([]byte, Spec) {
	t.Helper()
	cat, reg := indicators.DefaultCatalogue(), indicators.DefaultRegistry()
	a, _ := reg.Get(agency)
	p := period.MustParse(per)
	spec := Spec{
		Agency: a, Period: p, Indicators: ListIndicators(cat, a, p),
		Previous: map[string]indicators.Observation{
			"dossiers_fully_online": {Value: 51.2, Numerator: new(512.0), Denominator: new(1000.0)},
		},
		Deadline:  p.End(time.UTC).AddDate(0, 0, 15),
		Generated: now, Generator: "G-OC test",
	}
	var b bytes.Buffer
	if err := Write(&b, spec); err != nil {
		t.Fatal(err)
	}
	return b.Bytes(), spec
}

func open(t *testing.T, b []byte) *excelize.File {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// rowOf finds the data row of an indicator.
func rowOf(t *testing.T, f *excelize.File, code string) int {
	t.Helper()
	rows, err := f.GetRows(SheetData)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range rows {
		if len(r) >= colIndicator && r[colIndicator-1] == code {
			return i + 1
		}
	}
	t.Fatalf("no row for %s", code)
	return 0
}

func TestQuarterlyTemplateListsTheQuarterlyIndicatorsOfTheAgencysLevel(t *testing.T) {
	b, spec := makeTemplate(t, "P20", "2026-Q3")
	f := open(t, b)
	rows, _ := f.GetRows(SheetData)
	var codes []string
	for _, r := range rows[FirstRow-1:] {
		codes = append(codes, r[colIndicator-1])
	}
	if len(codes) != len(spec.Indicators) || len(codes) == 0 {
		t.Fatalf("rows list %v, want the %d quarterly province indicators", codes, len(spec.Indicators))
	}
	for _, c := range codes {
		ind, _ := indicators.DefaultCatalogue().Get(c)
		if ind.Periodicity != period.Quarter || !ind.ReportedAt(indicators.Province) {
			t.Errorf("%s (%s, levels %v) does not belong in a province's quarterly template", c, ind.Periodicity, ind.Levels)
		}
	}
	for _, yearly := range []string{"sat_digital_services", "egdi_rank", "open_data_agencies"} {
		for _, c := range codes {
			if c == yearly {
				t.Errorf("yearly indicator %s is in a quarterly template", yearly)
			}
		}
	}
	r := rowOf(t, f, "dossiers_fully_online")
	got := rows[r-1]
	if got[colUnit-1] != "% (tử số/mẫu số × 100)" || got[colBounds-1] != "[0, 100]" || got[colPrevious-1] != "51.2 (512/1000)" {
		t.Errorf("row of dossiers_fully_online shows unit %q, bounds %q, previous %q", got[colUnit-1], got[colBounds-1], got[colPrevious-1])
	}
	if h := rows[FirstRow-2][colPrevious-1]; !strings.Contains(h, "2026-Q2") {
		t.Errorf("previous-period header %q does not name 2026-Q2", h)
	}

	yb, _ := makeTemplate(t, "P20", "2025")
	yf := open(t, yb)
	if r := rowOf(t, yf, "sat_digital_services"); r < FirstRow {
		t.Error("the yearly template does not list sat_digital_services")
	}
}

func TestOnlyInputCellsAreUnlockedAndTheSheetIsProtected(t *testing.T) {
	b, _ := makeTemplate(t, "P20", "2026-Q3")
	f := open(t, b)
	prot, err := f.GetSheetProtection(SheetData)
	if err != nil {
		t.Fatal(err)
	}
	if !prot.SelectUnlockedCells || prot.InsertRows || prot.DeleteRows {
		t.Errorf("data sheet protection %+v: want unlocked cells selectable and rows fixed", prot)
	}
	locked := func(ref string) bool {
		id, err := f.GetCellStyle(SheetData, ref)
		if err != nil {
			t.Fatal(err)
		}
		st, err := f.GetStyle(id)
		if err != nil {
			t.Fatal(err)
		}
		// Excel locks a cell unless its style says otherwise.
		return st.Protection == nil || st.Protection.Locked
	}
	ratio := rowOf(t, f, "dossiers_fully_online")
	for _, c := range []struct {
		col    int
		row    int
		locked bool
	}{
		{colIndicator, ratio, true}, {colName, ratio, true}, {colPrevious, ratio, true}, {colBounds, ratio, true},
		{colNumerator, ratio, false}, {colDenominator, ratio, false}, {colValue, ratio, false}, {colStatus, ratio, false},
		{colNumerator, 3, true}, {colValue, 1, true},
	} {
		ref := cell(c.col, c.row)
		if got := locked(ref); got != c.locked {
			t.Errorf("%s!%s locked = %v, want %v", SheetData, ref, got, c.locked)
		}
	}
	for _, sh := range []string{SheetInstructions, SheetMeta} {
		if p, err := f.GetSheetProtection(sh); err != nil || p.SelectUnlockedCells && sh == SheetMeta {
			t.Errorf("%s protection %+v, %v", sh, p, err)
		}
	}
}

func TestStatusIsADropdownAndNumbersCarryTheirBounds(t *testing.T) {
	b, spec := makeTemplate(t, "P20", "2026-Q3")
	f := open(t, b)
	dvs, err := f.GetDataValidations(SheetData)
	if err != nil {
		t.Fatal(err)
	}
	last := FirstRow + len(spec.Indicators) - 1
	var list, value bool
	r := rowOf(t, f, "dossiers_fully_online")
	for _, dv := range dvs {
		switch {
		case dv.Type == "list" && dv.Sqref == cell(colStatus, FirstRow)+":"+cell(colStatus, last):
			list = strings.Contains(dv.Formula1, intake.StatusNoData)
		case dv.Sqref == cell(colValue, r):
			value = dv.Type == "decimal" && dv.Formula1 == "0" && dv.Formula2 == "100"
		}
	}
	if !list {
		t.Errorf("no status dropdown over K%d:K%d offering %q", FirstRow, last, intake.StatusNoData)
	}
	if !value {
		t.Errorf("the value cell of dossiers_fully_online does not limit input to 0-100")
	}
}

func TestHeaderPanesAreFrozenAndTheMetadataSheetIsVeryHidden(t *testing.T) {
	b, spec := makeTemplate(t, "P20", "2026-Q3")
	f := open(t, b)
	panes, err := f.GetPanes(SheetData)
	if err != nil {
		t.Fatal(err)
	}
	if !panes.Freeze || panes.YSplit != FirstRow-1 || panes.XSplit != colName {
		t.Errorf("panes = %+v: want the header rows and indicator columns frozen", panes)
	}
	if visible, _ := f.GetSheetVisible(SheetMeta); visible {
		t.Error("the metadata sheet is visible")
	}
	rows, err := f.GetRows(SheetMeta)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"template_version": Version, "agency": "P20", "period": "2026-Q3",
		"catalogue": Fingerprint(spec.Agency, spec.Period, spec.Indicators)}
	for _, r := range rows {
		if w, ok := want[r[0]]; ok && r[1] != w {
			t.Errorf("metadata %s = %q, want %q", r[0], r[1], w)
		}
		delete(want, r[0])
	}
	if len(want) > 0 {
		t.Errorf("metadata lacks %v", want)
	}
	ins, _ := f.GetRows(SheetInstructions)
	text := ""
	for _, r := range ins {
		text += strings.Join(r, " ") + "\n"
	}
	for _, w := range []string{"Hướng dẫn (tiếng Việt)", "Instructions (English)", "15/10/2026", "--confirm-outliers"} {
		if !strings.Contains(text, w) {
			t.Errorf("instructions lack %q", w)
		}
	}
}
