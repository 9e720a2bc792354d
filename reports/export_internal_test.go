package reports

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/indicators/period"
)

func TestExportContinuesOnANewSheetWhenOneIsFull(t *testing.T) {
	var buf bytes.Buffer
	x, err := NewXLSXExport(&buf, ExportMeta{GeneratedAt: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	x.maxRows = 5 // Excel's limit is 1,048,575 data rows; the rule is the same
	var obs []indicators.Observation
	for i := range 12 {
		obs = append(obs, indicators.Observation{
			SeriesKey: indicators.SeriesKey{Indicator: "x", Agency: fmt.Sprintf("A%02d", i), Period: period.MustParse("2025")},
			Value:     float64(i), Source: indicators.FromDemo, Revision: 1,
		})
	}
	if err := x.Write(obs[:7]); err != nil {
		t.Fatal(err)
	}
	if err := x.Write(obs[7:]); err != nil {
		t.Fatal(err)
	}
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	want := []string{SheetExport, SheetExport + " (2)", SheetExport + " (3)", SheetExportAbout}
	if got := f.GetSheetList(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("sheets %q, want %q", got, want)
	}
	next := 0
	for _, s := range want[:3] {
		rows, err := f.GetRows(s)
		if err != nil {
			t.Fatal(err)
		}
		if rows[0][0] != ExportHeaders[0] {
			t.Errorf("%s has no header row: %q", s, rows[0])
		}
		for _, r := range rows[1:] {
			if r[1] != obs[next].Agency {
				t.Fatalf("%s: row %q, want agency %s next", s, r, obs[next].Agency)
			}
			next++
		}
	}
	if next != len(obs) {
		t.Errorf("%d rows read back, %d written", next, len(obs))
	}
}
