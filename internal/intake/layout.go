package intake

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/indicators/period"
)

// The Excel template is a contract between the writer (reports/template) and the
// reader here: its version, sheet names, rows and columns are declared once, on the
// intake side, and the writer lays its workbook out by them.

// TemplateVersion is the template layout. A workbook of another version is refused
// with advice to download a new one.
const TemplateVersion = "1"

// Sheet names of the template.
const (
	SheetInstructions = "Hướng dẫn"
	SheetData         = "Dữ liệu"
	SheetMeta         = "_goc"
)

// Layout of the data sheet (version 1): three header rows, then one row per indicator.
const (
	FirstRow = 4

	TemplateColNo          = 1  // A
	TemplateColAgency      = 2  // B
	TemplateColIndicator   = 3  // C
	TemplateColName        = 4  // D
	TemplateColUnit        = 5  // E
	TemplateColBounds      = 6  // F
	TemplateColPrevious    = 7  // G
	TemplateColNumerator   = 8  // H
	TemplateColDenominator = 9  // I
	TemplateColValue       = 10 // J
	TemplateColStatus      = 11 // K
)

// Rows of the metadata sheet: key in column A, value in column B.
const (
	MetaVersion   = 1
	MetaAgency    = 2
	MetaPeriod    = 3
	MetaCatalogue = 4
	MetaFirstRow  = 5
	MetaRows      = 6
	MetaGenerated = 7
	MetaGenerator = 8
)

// TemplateIndicators is what a template for an agency and period lists: every
// indicator the agency's level reports at the period's periodicity, in catalogue order.
// A quarterly template therefore lists quarterly indicators only; yearly indicators
// have their own yearly template (period "2026"), due after the year ends.
func TemplateIndicators(cat *indicators.Catalogue, a *indicators.Agency, p period.Period) []*indicators.Indicator {
	var out []*indicators.Indicator
	for _, ind := range cat.All() {
		if ind.Periodicity == p.Kind && ind.ReportedAt(a.Level()) {
			out = append(out, ind)
		}
	}
	return out
}

// TemplateFingerprint sums what a template's rows depend on: agency, period and, for
// each indicator, its code, unit, aggregation, periodicity and bounds. A workbook whose
// fingerprint differs from today's was made from another catalogue: it is stale.
func TemplateFingerprint(a *indicators.Agency, p period.Period, inds []*indicators.Indicator) string {
	h := sha256.New()
	fmt.Fprintf(h, "v%s|%s|%s", TemplateVersion, a.Code, p)
	for _, ind := range inds {
		fmt.Fprintf(h, "|%s,%s,%s,%s,%s", ind.Code, ind.Unit, ind.Aggregation, ind.Periodicity, BoundsText(ind))
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}
