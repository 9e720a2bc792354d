package intake_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/indicators/period"
	"github.com/g-oc/goc/internal/intake"
	"github.com/g-oc/goc/reports/template"
)

var now = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

// makeTemplate builds an agency's template for a period with one previous value, as
// the writer in reports/template makes it for an officer.
func makeTemplate(t testing.TB, agency, per string) ([]byte, template.Spec) {
	t.Helper()
	cat, reg := indicators.DefaultCatalogue(), indicators.DefaultRegistry()
	a, _ := reg.Get(agency)
	p := period.MustParse(per)
	spec := template.Spec{
		Agency: a, Period: p, Indicators: template.ListIndicators(cat, a, p),
		Previous: map[string]indicators.Observation{
			"dossiers_fully_online": {Value: 51.2, Numerator: new(512.0), Denominator: new(1000.0)},
		},
		Deadline:  p.End(time.UTC).AddDate(0, 0, 15),
		Generated: now, Generator: "G-OC test",
	}
	var b bytes.Buffer
	if err := template.Write(&b, spec); err != nil {
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
	rows, err := f.GetRows(intake.SheetData)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range rows {
		if len(r) >= intake.TemplateColIndicator && r[intake.TemplateColIndicator-1] == code {
			return i + 1
		}
	}
	t.Fatalf("no row for %s", code)
	return 0
}

// cell names a cell by column and row.
func cell(col, row int) string {
	name, _ := excelize.CoordinatesToCellName(col, row)
	return name
}
