// Package reports writes G-OC's Excel workbooks: the ranking workbook a coordinating
// ministry hands out, one agency's one-page report card, and raw exports of stored
// observations (XLSX through excelize's StreamWriter, or CSV). It formats what the query
// layer computed; it computes no figure itself, so every number in a workbook is the
// number the API gives.
//
// Every user-facing label is in Vietnamese first with English beside it. Every sheet is
// set up to print on A4 with no type under MinPrintPoints.
package reports

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/g-oc/goc/indicators"
)

// DefaultLocation is the time zone times are shown in when none is given: Viet Nam's,
// UTC+7, which has had no daylight saving since 1975.
func DefaultLocation() *time.Location { return time.FixedZone("ICT", 7*3600) }

// formatTime shows a time in loc with its offset, so nobody has to guess the zone.
func formatTime(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return "—"
	}
	return t.In(loc).Format("2006-01-02 15:04:05 (UTC-07:00)")
}

// StatusLabel names a progress status in Vietnamese and English.
func StatusLabel(s indicators.Status) string {
	switch s {
	case indicators.Achieved:
		return "Đã đạt / achieved"
	case indicators.OnTrack:
		return "Đúng tiến độ / on track"
	case indicators.NeedsAcceleration:
		return "Cần tăng tốc / needs acceleration"
	case indicators.Stagnating:
		return "Chững lại / stagnating"
	case indicators.Regressing:
		return "Đi lùi / regressing"
	case indicators.InsufficientData:
		return "Chưa đủ số liệu / insufficient data"
	case indicators.NoTarget:
		return "Không có mục tiêu / no target"
	}
	return string(s)
}

// statusTone groups statuses into the traffic light: 1 green, 2 amber, 3 red, 0 none.
func statusTone(s indicators.Status) int {
	switch s {
	case indicators.Achieved, indicators.OnTrack:
		return 1
	case indicators.NeedsAcceleration:
		return 2
	case indicators.Stagnating, indicators.Regressing:
		return 3
	}
	return 0
}

// kindLabel names an agency kind in Vietnamese and English.
func kindLabel(k indicators.AgencyKind) string {
	switch k {
	case indicators.KindNational:
		return "Quốc gia / country"
	case indicators.KindMinistry:
		return "Bộ / ministry"
	case indicators.KindMinisterialAgency:
		return "Cơ quan ngang bộ / ministerial-level agency"
	case indicators.KindGovernmentAgency:
		return "Cơ quan thuộc Chính phủ / Government agency"
	case indicators.KindProvince:
		return "Tỉnh, thành phố / province or city"
	case indicators.KindDistrict:
		return "Huyện / district"
	case indicators.KindCommune:
		return "Xã, phường / commune or ward"
	}
	return string(k)
}

// unitLabel is the short unit shown beside a value.
func unitLabel(u indicators.Unit) string {
	switch u {
	case indicators.Percent:
		return "%"
	case indicators.Rank:
		return "hạng / rank"
	case indicators.Seconds:
		return "giây / s"
	case indicators.Count:
		return "số / count"
	case indicators.Score:
		return "điểm / score"
	}
	return string(u)
}

// demoNote is printed on every workbook built from demo data.
const demoNote = "DỮ LIỆU MẪU, KHÔNG PHẢI SỐ LIỆU CHÍNH THỨC / DEMO DATA, NOT OFFICIAL FIGURES"

func hasDemo(srcs []indicators.Source) bool {
	for _, s := range srcs {
		if s == indicators.FromDemo {
			return true
		}
	}
	return false
}

func sourceList(srcs []indicators.Source) string {
	if len(srcs) == 0 {
		return "—"
	}
	parts := make([]string, len(srcs))
	for i, s := range srcs {
		parts[i] = string(s)
	}
	return strings.Join(parts, ", ")
}

// quote makes a sheet name usable in a reference: 'Xếp hạng - Ranking'.
func quote(sheet string) string { return "'" + strings.ReplaceAll(sheet, "'", "''") + "'" }

// absRange is an absolute reference to a block of cells on a sheet.
func absRange(sheet string, col1, row1, col2, row2 int) string {
	a, _ := excelize.CoordinatesToCellName(col1, row1, true)
	b, _ := excelize.CoordinatesToCellName(col2, row2, true)
	return quote(sheet) + "!" + a + ":" + b
}

func cell(col, row int) string {
	c, _ := excelize.CoordinatesToCellName(col, row)
	return c
}

func colName(col int) string {
	c, _ := excelize.ColumnNumberToName(col)
	return c
}

// styles are the cell formats a workbook uses, created once per file.
type styles struct {
	title, subtitle, header, headerWrap, text, wrap, small, bold, boldWrap, note, warn int
	banner, bannerSub, bannerSub11, note11                                             int // wrapped titles over a merged row, notes
	integer, change, score, percent0, value, norm, z, date                             int
	tone                                                                               [4]int // static fills: none, green, amber, red
	cfGreen, cfAmber, cfRed                                                            int    // conditional formats
}

func newStyles(f *excelize.File) (*styles, error) {
	s := &styles{}
	border := []excelize.Border{
		{Type: "left", Color: "BFBFBF", Style: 1}, {Type: "right", Color: "BFBFBF", Style: 1},
		{Type: "top", Color: "BFBFBF", Style: 1}, {Type: "bottom", Color: "BFBFBF", Style: 1},
	}
	custom := func(fmt string) *string { return &fmt }
	defs := []struct {
		dst *int
		st  *excelize.Style
	}{
		{&s.title, &excelize.Style{Font: &excelize.Font{Bold: true, Size: 16, Color: "1F3864"}}},
		{&s.subtitle, &excelize.Style{Font: &excelize.Font{Size: 11, Color: "404040"}}},
		{&s.banner, &excelize.Style{Font: &excelize.Font{Bold: true, Size: 14, Color: "1F3864"}, Alignment: &excelize.Alignment{WrapText: true, Vertical: "top"}}},
		{&s.bannerSub, &excelize.Style{Font: &excelize.Font{Size: 9, Color: "404040"}, Alignment: &excelize.Alignment{WrapText: true, Vertical: "top"}}},
		{&s.bannerSub11, &excelize.Style{Font: &excelize.Font{Size: 11, Color: "404040"}, Alignment: &excelize.Alignment{WrapText: true, Vertical: "top"}}},
		{&s.note11, &excelize.Style{Font: &excelize.Font{Italic: true, Size: 11, Color: "404040"}, Alignment: &excelize.Alignment{WrapText: true, Vertical: "top"}}},
		{&s.header, &excelize.Style{Font: &excelize.Font{Bold: true, Color: "FFFFFF"}, Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"1F4E79"}},
			Alignment: &excelize.Alignment{Horizontal: "center", Vertical: "center", WrapText: true}, Border: border}},
		{&s.headerWrap, &excelize.Style{Font: &excelize.Font{Bold: true, Size: 8}, Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"DDEBF7"}},
			Alignment: &excelize.Alignment{Horizontal: "center", Vertical: "center", WrapText: true}, Border: border}},
		{&s.text, &excelize.Style{Border: border, Alignment: &excelize.Alignment{Vertical: "center"}}},
		{&s.wrap, &excelize.Style{Border: border, Alignment: &excelize.Alignment{Vertical: "center", WrapText: true}}},
		{&s.small, &excelize.Style{Font: &excelize.Font{Size: 9}, Border: border, Alignment: &excelize.Alignment{Vertical: "center", WrapText: true}}},
		{&s.bold, &excelize.Style{Font: &excelize.Font{Bold: true}}},
		{&s.boldWrap, &excelize.Style{Font: &excelize.Font{Bold: true}, Alignment: &excelize.Alignment{WrapText: true, Vertical: "top"}}},
		{&s.note, &excelize.Style{Font: &excelize.Font{Italic: true, Size: 9, Color: "404040"}, Alignment: &excelize.Alignment{WrapText: true, Vertical: "top"}}},
		{&s.warn, &excelize.Style{Font: &excelize.Font{Bold: true, Color: "C00000"}}},
		{&s.integer, &excelize.Style{Border: border, NumFmt: 1, Alignment: &excelize.Alignment{Horizontal: "center"}}},
		{&s.change, &excelize.Style{Border: border, CustomNumFmt: custom(`"▲ "0;"▼ "0;"="`), Alignment: &excelize.Alignment{Horizontal: "center"}}},
		{&s.score, &excelize.Style{Border: border, CustomNumFmt: custom("0.000"), Font: &excelize.Font{Bold: true}}},
		{&s.percent0, &excelize.Style{Border: border, NumFmt: 9}},
		{&s.value, &excelize.Style{Border: border, CustomNumFmt: custom("0.00")}},
		{&s.norm, &excelize.Style{Border: border, CustomNumFmt: custom("0.0"), Font: &excelize.Font{Color: "595959"}}},
		{&s.z, &excelize.Style{Border: border, CustomNumFmt: custom("0.00"), Font: &excelize.Font{Color: "595959"}}},
		{&s.date, &excelize.Style{Border: border, CustomNumFmt: custom("yyyy-mm-dd hh:mm:ss")}},
		{&s.tone[0], &excelize.Style{Border: border, Alignment: &excelize.Alignment{Vertical: "center", WrapText: true}, Font: &excelize.Font{Size: 9}}},
		{&s.tone[1], &excelize.Style{Border: border, Alignment: &excelize.Alignment{Vertical: "center", WrapText: true}, Font: &excelize.Font{Size: 9, Color: "006100"}, Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"C6EFCE"}}}},
		{&s.tone[2], &excelize.Style{Border: border, Alignment: &excelize.Alignment{Vertical: "center", WrapText: true}, Font: &excelize.Font{Size: 9, Color: "9C5700"}, Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"FFEB9C"}}}},
		{&s.tone[3], &excelize.Style{Border: border, Alignment: &excelize.Alignment{Vertical: "center", WrapText: true}, Font: &excelize.Font{Size: 9, Color: "9C0006"}, Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"FFC7CE"}}}},
	}
	for _, d := range defs {
		id, err := f.NewStyle(calibri(d.st))
		if err != nil {
			return nil, fmt.Errorf("style: %w", err)
		}
		*d.dst = id
	}
	for _, c := range []struct {
		dst        *int
		font, fill string
	}{{&s.cfGreen, "006100", "C6EFCE"}, {&s.cfAmber, "9C5700", "FFEB9C"}, {&s.cfRed, "9C0006", "FFC7CE"}} {
		id, err := f.NewConditionalStyle(&excelize.Style{Font: &excelize.Font{Color: c.font}, Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{c.fill}}})
		if err != nil {
			return nil, fmt.Errorf("conditional style: %w", err)
		}
		*c.dst = id
	}
	return s, nil
}

// calibri names the font of a style that sets one: a font element without a name makes
// LibreOffice print in its default, DejaVu Serif, which is a third wider than Calibri (or
// Carlito, its metric twin) and so wraps, clips and shrinks every sheet laid out for it.
// A font without a size is the default's 11 points.
func calibri(st *excelize.Style) *excelize.Style {
	if st.Font != nil {
		if st.Font.Family == "" {
			st.Font.Family = "Calibri"
		}
		if st.Font.Size == 0 {
			st.Font.Size = 11
		}
	}
	return st
}

// trafficLight colours the value cells of rng (first cell ref first) against the 2025
// and 2030 targets: green when the 2030 target is met, amber when the 2025 target is,
// red when not even that. With only one target, green meets it and red does not (a
// 2030 target alone gives no red: it is still ahead). Blank cells stay uncoloured:
// a missing value is not a failing one.
func trafficLight(f *excelize.File, sheet, rng, first string, dir indicators.Direction, t2025, t2030 *indicators.Target, st *styles) error {
	op := ">="
	if dir == indicators.LowerIsBetter {
		op = "<="
	}
	rule := func(target float64) string {
		return fmt.Sprintf("AND(ISNUMBER(%s),%s%s%s)", first, first, op, strconvFloat(target))
	}
	var rules []excelize.ConditionalFormatOptions
	add := func(criteria string, format int) {
		id := format
		rules = append(rules, excelize.ConditionalFormatOptions{Type: "formula", Criteria: criteria, Format: &id, StopIfTrue: true})
	}
	switch {
	case t2025 != nil && t2030 != nil:
		add(rule(t2030.Value), st.cfGreen)
		add(rule(t2025.Value), st.cfAmber)
		add(fmt.Sprintf("ISNUMBER(%s)", first), st.cfRed)
	case t2025 != nil:
		add(rule(t2025.Value), st.cfGreen)
		add(fmt.Sprintf("ISNUMBER(%s)", first), st.cfRed)
	case t2030 != nil:
		add(rule(t2030.Value), st.cfGreen)
	default:
		return nil
	}
	if err := f.SetConditionalFormat(sheet, rng, rules); err != nil {
		return fmt.Errorf("conditional format %s!%s: %w", sheet, rng, err)
	}
	return nil
}

func strconvFloat(v float64) string { return fmt.Sprintf("%g", v) }

// MinPrintPoints is the smallest type size a printed G-OC workbook may show: below it
// a page is unreadable, so a sheet too wide for one page at this size prints across
// several pages (with its titles repeated) rather than shrinking.
const MinPrintPoints = 8

// A4 less the 0.4 inch margins, in points: what LibreOffice prints a sheet's cells on.
const (
	printShort = 595.3 - 2*0.4*72
	printLong  = 841.9 - 2*0.4*72
)

// printSetup sets a sheet to print on A4, landscape or portrait. A sheet too wide for
// the page is scaled to its width when that keeps its smallest type (minFont points) at
// MinPrintPoints or more, and otherwise printed at 100% across as many pages as it needs.
// With onePage it is also scaled to fit one page tall (a cover, a chart), unless that
// too would take its type under MinPrintPoints. The scale is
// written as a percentage rather than as "fit to page": LibreOffice shrinks the page
// footer with the sheet (it ignores scaleWithDoc="false"), so the footer is set in the
// size that prints at MinPrintPoints at that scale.
func printSetup(f *excelize.File, sheet string, landscape, onePage bool, minFont float64) error {
	width, err := sheetWidthPoints(f, sheet)
	if err != nil {
		return err
	}
	return printSetupWidth(f, sheet, width, landscape, onePage, minFont)
}

// printSetupWidth is printSetup for a sheet whose used width (in points) is known: a
// sheet about to be streamed, whose rows cannot be read back.
func printSetupWidth(f *excelize.File, sheet string, width float64, landscape, onePage bool, minFont float64) error {
	size, orient := 9, "portrait" // 9 is A4 in the OOXML paper table
	across, down := printShort, printLong
	if landscape {
		orient = "landscape"
		across, down = printLong, printShort
	}
	// 3% slack for how an office suite measures column widths.
	scale := 1.0
	if w := width * 1.03; w > across && minFont*across/w >= MinPrintPoints {
		scale = across / w
	}
	if onePage {
		height, err := sheetHeightPoints(f, sheet)
		if err != nil {
			return err
		}
		// Row heights are exact points: 1% slack. A sheet that would shrink its type
		// under MinPrintPoints to fit one page prints on more pages instead: a card
		// with many probed portals takes a second page rather than small type.
		if hs := down / (height * 1.01); minFont*hs >= MinPrintPoints {
			scale = min(scale, hs)
		} else {
			onePage = false
		}
	}
	layout := &excelize.PageLayoutOptions{Size: &size, Orientation: &orient}
	pct := uint(math.Floor(scale * 100))
	fit := onePage && pct >= 100
	if fit {
		// Laid out to fit at 100%: "fit to one page" only guards against an office
		// suite that measures a little wider, and never enlarges.
		one := 1
		layout.FitToWidth, layout.FitToHeight = &one, &one
	} else {
		layout.AdjustTo = &pct
	}
	if err := f.SetPageLayout(sheet, layout); err != nil {
		return fmt.Errorf("page layout of %s: %w", sheet, err)
	}
	if err := f.SetSheetProps(sheet, &excelize.SheetPropsOptions{FitToPage: &fit}); err != nil {
		return fmt.Errorf("sheet properties of %s: %w", sheet, err)
	}
	m := 0.4
	if err := f.SetPageMargins(sheet, &excelize.PageLayoutMarginsOptions{Left: &m, Right: &m, Top: &m, Bottom: &m}); err != nil {
		return fmt.Errorf("margins of %s: %w", sheet, err)
	}
	fs := int(math.Ceil(MinPrintPoints * 100 / float64(min(pct, 100))))
	return f.SetHeaderFooter(sheet, &excelize.HeaderFooterOptions{OddFooter: fmt.Sprintf("&L&%dG-OC&C&%d&A&R&%d&P / &N", fs, fs, fs)})
}

// sheetHeightPoints is the printed height of a sheet's used rows, in points, from their
// heights (15 points where none is set).
func sheetHeightPoints(f *excelize.File, sheet string) (float64, error) {
	rows, err := f.GetRows(sheet)
	if err != nil {
		return 0, fmt.Errorf("rows of %s: %w", sheet, err)
	}
	total := 0.0
	for r := 1; r <= len(rows); r++ {
		h, err := f.GetRowHeight(sheet, r)
		if err != nil {
			return 0, fmt.Errorf("row height %s!%d: %w", sheet, r, err)
		}
		total += h
	}
	return total, nil
}

// textLines estimates how many lines text wraps to in a column width points wide, in
// Carlito (Calibri's metrics) at size points: 0.45 em a character is a little over the
// average of G-OC's bilingual labels, so the estimate errs on the side of one line more.
func textLines(text string, width, size float64) int {
	perLine := max(1, int((width-6)/(0.45*size)))
	n := 0
	for _, para := range strings.Split(text, "\n") {
		n += max(1, (len([]rune(para))+perLine-1)/perLine)
	}
	return n
}

// linesHeight is the row height, in points, for lines of type at size points.
func linesHeight(lines int, size float64) float64 { return float64(lines)*size*1.25 + 3 }

// colPoints is the printed width of a column width w characters.
func colPoints(w float64) float64 { return (w*7 + 5) * 0.75 }

// sheetWidthPoints is the printed width of a sheet's used columns, in points: a column
// of width w characters is w·7+5 pixels of the default font, at 0.75 point a pixel.
func sheetWidthPoints(f *excelize.File, sheet string) (float64, error) {
	// The widest of the first rows (titles, headers, the first data rows) gives the
	// used columns; the dimension element is only written when the file is saved.
	rows, err := f.Rows(sheet)
	if err != nil {
		return 0, fmt.Errorf("rows of %s: %w", sheet, err)
	}
	col := 0
	for n := 0; n < 60 && rows.Next(); n++ {
		cells, err := rows.Columns()
		if err != nil {
			rows.Close()
			return 0, fmt.Errorf("rows of %s: %w", sheet, err)
		}
		col = max(col, len(cells))
	}
	if err := rows.Close(); err != nil {
		return 0, fmt.Errorf("rows of %s: %w", sheet, err)
	}
	total := 0.0
	for c := 1; c <= col; c++ {
		name, _ := excelize.ColumnNumberToName(c)
		w, err := f.GetColWidth(sheet, name)
		if err != nil {
			return 0, fmt.Errorf("column width %s!%s: %w", sheet, name, err)
		}
		total += (w*7 + 5) * 0.75
	}
	return total, nil
}

// sheetWriter writes cells of one sheet and remembers the first error, so a builder
// reads as a list of what goes where.
type sheetWriter struct {
	f     *excelize.File
	sheet string
	err   error
}

func (w *sheetWriter) set(col, row int, v any, style int) {
	if w.err != nil {
		return
	}
	ref := cell(col, row)
	if v != nil {
		if err := w.f.SetCellValue(w.sheet, ref, v); err != nil {
			w.err = fmt.Errorf("%s!%s: %w", w.sheet, ref, err)
			return
		}
	}
	if style != 0 {
		if err := w.f.SetCellStyle(w.sheet, ref, ref, style); err != nil {
			w.err = fmt.Errorf("style %s!%s: %w", w.sheet, ref, err)
		}
	}
}

func (w *sheetWriter) merge(col1, row1, col2, row2 int) {
	if w.err != nil || (col1 == col2 && row1 == row2) {
		return
	}
	if err := w.f.MergeCell(w.sheet, cell(col1, row1), cell(col2, row2)); err != nil {
		w.err = fmt.Errorf("merge %s!%s:%s: %w", w.sheet, cell(col1, row1), cell(col2, row2), err)
	}
}

func (w *sheetWriter) width(col1, col2 int, width float64) {
	if w.err != nil {
		return
	}
	if err := w.f.SetColWidth(w.sheet, colName(col1), colName(col2), width); err != nil {
		w.err = fmt.Errorf("column width %s: %w", w.sheet, err)
	}
}

func (w *sheetWriter) height(row int, h float64) {
	if w.err != nil {
		return
	}
	if err := w.f.SetRowHeight(w.sheet, row, h); err != nil {
		w.err = fmt.Errorf("row height %s: %w", w.sheet, err)
	}
}

func (w *sheetWriter) do(err error) {
	if w.err == nil && err != nil {
		w.err = err
	}
}

// name adds a workbook-wide defined name.
func name(f *excelize.File, n, refersTo, comment string) error {
	if err := f.SetDefinedName(&excelize.DefinedName{Name: n, RefersTo: refersTo, Comment: comment}); err != nil {
		return fmt.Errorf("defined name %s: %w", n, err)
	}
	return nil
}
