// Package template makes the Excel workbook a reporting officer fills in for one agency
// and period.
//
// The workbook has three sheets: instructions in Vietnamese and English ("Hướng dẫn"),
// the data sheet ("Dữ liệu") with one row per indicator the agency reports for the
// period, and a very hidden metadata sheet ("_goc") with the template version, agency,
// period and a fingerprint of the catalogue rows, so that a workbook for another agency
// or period, or one made before the catalogue changed, is caught on upload. On the data
// sheet only the yellow input cells are unlocked; enumerations (the status column) are
// dropdowns; numbers carry Excel data validation with the indicator's bounds; the
// header rows and the indicator columns are frozen.
//
// Reading a filled template back is intake's work (intake.ReadXLSX), like every other
// way a value comes in; this package only writes.
package template

import (
	"context"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/indicators/period"
	"github.com/g-oc/goc/internal/intake"
)

// Version is the template layout; the layout is declared in internal/intake, which
// reads the workbook back.
const Version = intake.TemplateVersion

// Sheet names.
const (
	SheetInstructions = intake.SheetInstructions
	SheetData         = intake.SheetData
	SheetMeta         = intake.SheetMeta
)

// FirstRow is the data sheet's first indicator row.
const FirstRow = intake.FirstRow

// Columns of the data sheet and rows of the metadata sheet, as intake declares them.
const (
	colNo          = intake.TemplateColNo
	colAgency      = intake.TemplateColAgency
	colIndicator   = intake.TemplateColIndicator
	colName        = intake.TemplateColName
	colUnit        = intake.TemplateColUnit
	colBounds      = intake.TemplateColBounds
	colPrevious    = intake.TemplateColPrevious
	colNumerator   = intake.TemplateColNumerator
	colDenominator = intake.TemplateColDenominator
	colValue       = intake.TemplateColValue
	colStatus      = intake.TemplateColStatus
	lastCol        = colStatus

	metaVersion   = intake.MetaVersion
	metaAgency    = intake.MetaAgency
	metaPeriod    = intake.MetaPeriod
	metaCatalogue = intake.MetaCatalogue
	metaFirstRow  = intake.MetaFirstRow
	metaRows      = intake.MetaRows
	metaGenerated = intake.MetaGenerated
	metaGenerator = intake.MetaGenerator
)

// Spec is what one template is made of.
type Spec struct {
	Agency *indicators.Agency
	Period period.Period
	// Indicators are the rows, from ListIndicators.
	Indicators []*indicators.Indicator
	// Previous holds the previous period's latest value of each indicator, by code.
	Previous map[string]indicators.Observation
	// Current, when set, prefills the input cells with what was already sent for this
	// period, by code: an officer correcting a returned report edits only what changes.
	Current map[string]indicators.Observation
	// Deadline is the first instant a report counts as late; zero when not known.
	Deadline time.Time
	// Generated is when the template was made; Generator names the G-OC that made it.
	Generated time.Time
	Generator string
}

// ListIndicators is what a template for an agency and period lists (see
// intake.TemplateIndicators).
func ListIndicators(cat *indicators.Catalogue, a *indicators.Agency, p period.Period) []*indicators.Indicator {
	return intake.TemplateIndicators(cat, a, p)
}

// Fingerprint sums what a template's rows depend on (see intake.TemplateFingerprint).
func Fingerprint(a *indicators.Agency, p period.Period, inds []*indicators.Indicator) string {
	return intake.TemplateFingerprint(a, p, inds)
}

// Write makes the workbook.
func Write(w io.Writer, s Spec) error {
	f := excelize.NewFile()
	defer f.Close()
	if err := build(f, s); err != nil {
		return fmt.Errorf("make template %s %s: %w", s.Agency.Code, s.Period, err)
	}
	if err := f.Write(w); err != nil {
		return fmt.Errorf("write template %s %s: %w", s.Agency.Code, s.Period, err)
	}
	return nil
}

// cell names a cell by column and row.
func cell(col, row int) string {
	name, _ := excelize.CoordinatesToCellName(col, row)
	return name
}

type styles struct {
	title, subtitle, header, text, wrap, input, inputNum, disabled, meta int
}

func newStyles(f *excelize.File) (styles, error) {
	border := []excelize.Border{
		{Type: "left", Color: "BFBFBF", Style: 1}, {Type: "right", Color: "BFBFBF", Style: 1},
		{Type: "top", Color: "BFBFBF", Style: 1}, {Type: "bottom", Color: "BFBFBF", Style: 1},
	}
	locked := &excelize.Protection{Locked: true}
	unlocked := &excelize.Protection{Locked: false}
	var s styles
	for _, st := range []struct {
		dst *int
		def *excelize.Style
	}{
		{&s.title, &excelize.Style{Font: &excelize.Font{Bold: true, Size: 14}, Protection: locked}},
		{&s.subtitle, &excelize.Style{Font: &excelize.Font{Italic: true, Color: "595959"}, Protection: locked}},
		{&s.header, &excelize.Style{Font: &excelize.Font{Bold: true}, Border: border, Protection: locked,
			Fill:      excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"D9E1F2"}},
			Alignment: &excelize.Alignment{WrapText: true, Vertical: "center", Horizontal: "center"}}},
		{&s.text, &excelize.Style{Border: border, Protection: locked, Alignment: &excelize.Alignment{Vertical: "top"}}},
		{&s.wrap, &excelize.Style{Border: border, Protection: locked, Alignment: &excelize.Alignment{WrapText: true, Vertical: "top"}}},
		{&s.input, &excelize.Style{Border: border, Protection: unlocked,
			Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"FFF2CC"}}, Alignment: &excelize.Alignment{Vertical: "top"}}},
		{&s.inputNum, &excelize.Style{Border: border, Protection: unlocked, NumFmt: 0,
			Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"FFF2CC"}}, Alignment: &excelize.Alignment{Vertical: "top"}}},
		{&s.disabled, &excelize.Style{Border: border, Protection: locked,
			Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"EDEDED"}}}},
		{&s.meta, &excelize.Style{Protection: locked}},
	} {
		if st.def.Font != nil {
			// A font without a name prints in LibreOffice's default, DejaVu Serif, a
			// third wider than Calibri, and one without a size at its default size.
			st.def.Font.Family = "Calibri"
			st.def.Font.Size = max(st.def.Font.Size, 11)
		}
		id, err := f.NewStyle(st.def)
		if err != nil {
			return s, fmt.Errorf("style: %w", err)
		}
		*st.dst = id
	}
	return s, nil
}

func build(f *excelize.File, s Spec) error {
	st, err := newStyles(f)
	if err != nil {
		return err
	}
	if err := f.SetSheetName("Sheet1", SheetInstructions); err != nil {
		return err
	}
	if _, err := f.NewSheet(SheetData); err != nil {
		return err
	}
	if _, err := f.NewSheet(SheetMeta); err != nil {
		return err
	}
	if err := instructions(f, s, st); err != nil {
		return fmt.Errorf("instructions: %w", err)
	}
	if err := dataSheet(f, s, st); err != nil {
		return fmt.Errorf("data sheet: %w", err)
	}
	if err := metaSheet(f, s, st); err != nil {
		return fmt.Errorf("metadata: %w", err)
	}
	if err := printSetup(f, s); err != nil {
		return fmt.Errorf("print setup: %w", err)
	}
	idx, _ := f.GetSheetIndex(SheetData)
	f.SetActiveSheet(idx)
	return nil
}

// printSetup makes the template print on A4 landscape, scaled to one page wide (the
// data sheet's 11 columns at about 75%, so its 11 pt text prints above 8 pt), with the
// data sheet's title and header rows repeated on every page. The scale is written as a
// percentage, and the page footer set in the size that prints at 8 pt at that scale:
// LibreOffice shrinks the footer with the sheet. An office suite does not grow rows for
// wrapped text it reads from a file, so the wrapped rows get their height here.
func printSetup(f *excelize.File, s Spec) error {
	size, orient, fit, m := 9, "landscape", false, 0.4
	for _, sh := range []string{SheetInstructions, SheetData} {
		cols, err := f.GetCols(sh)
		if err != nil {
			return err
		}
		width := 0.0
		for c := range cols {
			name, _ := excelize.ColumnNumberToName(c + 1)
			w, err := f.GetColWidth(sh, name)
			if err != nil {
				return err
			}
			width += (w*7 + 5) * 0.75
		}
		// A4 landscape less the margins, with 3% slack for how an office suite
		// measures column widths.
		pct := uint(min(100, math.Floor(100*(841.9-2*m*72)/(width*1.03))))
		if err := f.SetPageLayout(sh, &excelize.PageLayoutOptions{Size: &size, Orientation: &orient, AdjustTo: &pct}); err != nil {
			return err
		}
		if err := f.SetSheetProps(sh, &excelize.SheetPropsOptions{FitToPage: &fit}); err != nil {
			return err
		}
		if err := f.SetPageMargins(sh, &excelize.PageLayoutMarginsOptions{Left: &m, Right: &m, Top: &m, Bottom: &m}); err != nil {
			return err
		}
		fs := int(math.Ceil(8 * 100 / float64(pct)))
		if err := f.SetHeaderFooter(sh, &excelize.HeaderFooterOptions{OddFooter: fmt.Sprintf("&L&%dG-OC&C&%d&A&R&%d&P / &N", fs, fs, fs)}); err != nil {
			return err
		}
	}
	if err := f.SetDefinedName(&excelize.DefinedName{
		Name: "_xlnm.Print_Titles", RefersTo: fmt.Sprintf("'%s'!$1:$%d", SheetData, FirstRow-1), Scope: SheetData,
	}); err != nil {
		return err
	}
	for i, ind := range s.Indicators {
		// The name column is 44 wide: about 48 characters of 11 pt text a line.
		lines := 0
		for _, name := range []string{ind.NameVI, ind.NameEN} {
			lines += max(1, (len([]rune(name))+47)/48)
		}
		if err := f.SetRowHeight(SheetData, FirstRow+i, float64(lines)*15+3); err != nil {
			return err
		}
	}
	return nil
}

func deadlineText(s Spec) string {
	if s.Deadline.IsZero() {
		return "—"
	}
	// The deadline is the first late instant; officers read the last day on time.
	return s.Deadline.Add(-time.Nanosecond).Format("02/01/2006")
}

func instructions(f *excelize.File, s Spec, st styles) error {
	sh := SheetInstructions
	lines := []struct {
		text  string
		style int
	}{
		{"Mẫu báo cáo chỉ tiêu Chính phủ số / Digital-government indicator report", st.title},
		{fmt.Sprintf("Đơn vị / Agency: %s — %s (%s)", s.Agency.Code, s.Agency.NameVI, s.Agency.NameEN), 0},
		{fmt.Sprintf("Kỳ báo cáo / Period: %s (%s)", s.Period, s.Period.Kind), 0},
		{fmt.Sprintf("Hạn nộp / Due: %s", deadlineText(s)), 0},
		{"", 0},
		{"Hướng dẫn (tiếng Việt)", st.title},
		{"1. Điền số liệu vào các ô màu vàng của trang \"" + SheetData + "\". Chỉ tiêu tỷ lệ: nhập tử số và mẫu số (số nguyên); ô giá trị có thể để trống, G-OC tự tính. Chỉ tiêu khác: nhập giá trị.", 0},
		{"2. Nhập số, không nhập công thức: ô có công thức bị từ chối. Không thêm dấu %.", 0},
		{"3. Nếu kỳ này không có số liệu cho một chỉ tiêu, chọn \"" + intake.StatusNoData + "\" ở cột Tình trạng và để trống các ô số.", 0},
		{"4. Các ô màu xám và trắng được khoá. Không đổi tên trang, không thêm hay xoá dòng; tải mẫu mới nếu danh mục thay đổi.", 0},
		{"5. Nộp: goc submit tệp.xlsx --server URL (mã truy cập trong biến GOC_TOKEN), hoặc POST /api/v1/submissions.", 0},
		{"6. G-OC kiểm tra cả tệp: nếu có lỗi thì không lưu gì và liệt kê mọi lỗi theo ô (ví dụ " + SheetData + "!H7). Sửa rồi nộp lại; mỗi lần sửa là một phiên bản mới, phiên bản cũ vẫn được giữ.", 0},
		{"7. Giá trị khác xa số liệu các kỳ trước của đơn vị là cảnh báo: kiểm tra lại; nếu đúng, nộp lại với xác nhận (--confirm-outliers).", 0},
		{"", 0},
		{"Instructions (English)", st.title},
		{"1. Fill in the yellow cells of the \"" + SheetData + "\" sheet. Ratio indicators: enter the numerator and the denominator (whole numbers); the value may stay empty, G-OC computes it. Other indicators: enter the value.", 0},
		{"2. Type numbers, not formulas: a cell holding a formula is rejected. Leave out the % sign.", 0},
		{"3. If there is no figure for an indicator this period, choose \"" + intake.StatusNoData + "\" in the Status column and leave its numbers empty.", 0},
		{"4. Grey and white cells are locked. Do not rename sheets or add or delete rows; download a new template when the catalogue changes.", 0},
		{"5. Submit: goc submit file.xlsx --server URL (token in the GOC_TOKEN variable), or POST /api/v1/submissions.", 0},
		{"6. G-OC checks the whole file: if anything is wrong nothing is stored, and every problem is listed by its cell (e.g. " + SheetData + "!H7). Fix and submit again; each correction is a new revision and earlier ones are kept.", 0},
		{"7. A value far from the agency's own earlier figures is a warning: check it, and if it is right submit again with confirmation (--confirm-outliers).", 0},
		{"", 0},
		{fmt.Sprintf("Mẫu phiên bản / template version %s, %s, %s", Version, s.Generator, s.Generated.Format(time.RFC3339)), st.subtitle},
	}
	// Long lines wrap within the column, which prints within the page width, instead of
	// running off the right edge of the paper.
	wrap, err := f.NewStyle(&excelize.Style{Alignment: &excelize.Alignment{WrapText: true, Vertical: "top"},
		Protection: &excelize.Protection{Locked: true}})
	if err != nil {
		return err
	}
	for i, l := range lines {
		ref := cell(1, i+1)
		if err := f.SetCellStr(sh, ref, l.text); err != nil {
			return err
		}
		style := l.style
		if style == 0 {
			style = wrap
			// Column A is 95 wide, well within a landscape page as LibreOffice measures
			// it: at least 90 characters of 11 pt text a line.
			if n := len([]rune(l.text)); n > 90 {
				if err := f.SetRowHeight(sh, i+1, float64((n+89)/90)*15+2); err != nil {
					return err
				}
			}
		}
		if err := f.SetCellStyle(sh, ref, ref, style); err != nil {
			return err
		}
	}
	if err := f.SetColWidth(sh, "A", "A", 95); err != nil {
		return err
	}
	return f.ProtectSheet(sh, &excelize.SheetProtectionOptions{SelectLockedCells: true, SelectUnlockedCells: true})
}

func unitText(ind *indicators.Indicator) string {
	switch {
	case ind.Unit == indicators.Percent && ind.IsRatio():
		return "% (tử số/mẫu số × 100)"
	case ind.Unit == indicators.Percent:
		return "%"
	case ind.Unit == indicators.Count:
		return "số lượng / count"
	case ind.Unit == indicators.Rank:
		return "thứ hạng / rank"
	case ind.Unit == indicators.Score:
		return "điểm / score"
	}
	return string(ind.Unit)
}

func previousText(o indicators.Observation, ok bool) string {
	if !ok {
		return "—"
	}
	s := strconv.FormatFloat(o.Value, 'f', -1, 64)
	if len(s) > 8 {
		s = strconv.FormatFloat(o.Value, 'f', 2, 64)
	}
	if o.Numerator != nil && o.Denominator != nil {
		s += fmt.Sprintf(" (%g/%g)", *o.Numerator, *o.Denominator)
	}
	return s
}

func dataSheet(f *excelize.File, s Spec, st styles) error {
	sh := SheetData
	prev := s.Period.Prev()
	set := func(col, row int, v string, style int) error {
		ref := cell(col, row)
		if v != "" {
			if err := f.SetCellStr(sh, ref, v); err != nil {
				return err
			}
		}
		return f.SetCellStyle(sh, ref, ref, style)
	}
	if err := set(1, 1, fmt.Sprintf("Báo cáo chỉ tiêu Chính phủ số — %s %s — kỳ %s", s.Agency.Code, s.Agency.NameVI, s.Period), st.title); err != nil {
		return err
	}
	if err := set(1, 2, fmt.Sprintf("Digital-government indicators — %s — period %s. Hạn nộp / due: %s. Ô vàng: nhập số liệu / yellow cells: your figures.",
		s.Agency.NameEN, s.Period, deadlineText(s)), st.subtitle); err != nil {
		return err
	}
	headers := []string{
		"STT\nNo.", "Mã đơn vị\nAgency", "Mã chỉ tiêu\nIndicator code", "Tên chỉ tiêu\nIndicator",
		"Đơn vị tính\nUnit", "Giới hạn\nAllowed range", "Kỳ trước (" + prev.String() + ")\nPrevious period",
		"Tử số\nNumerator", "Mẫu số\nDenominator", "Giá trị\nValue", "Tình trạng\nStatus",
	}
	for i, h := range headers {
		if err := set(i+1, 3, h, st.header); err != nil {
			return err
		}
	}
	for i, ind := range s.Indicators {
		row := FirstRow + i
		p, ok := s.Previous[ind.Code]
		for _, c := range []struct {
			col   int
			v     string
			style int
		}{
			{colNo, strconv.Itoa(i + 1), st.text},
			{colAgency, s.Agency.Code, st.text},
			{colIndicator, ind.Code, st.text},
			{colName, ind.NameVI + "\n" + ind.NameEN, st.wrap},
			{colUnit, unitText(ind), st.wrap},
			{colBounds, intake.BoundsText(ind), st.text},
			{colPrevious, previousText(p, ok), st.text},
		} {
			if err := set(c.col, row, c.v, c.style); err != nil {
				return err
			}
		}
		numStyle, denStyle := st.disabled, st.disabled
		if ind.IsRatio() {
			numStyle, denStyle = st.inputNum, st.inputNum
		} else if ind.Aggregation == indicators.WeightedMean {
			denStyle = st.inputNum
		}
		for _, c := range []struct{ col, style int }{{colNumerator, numStyle}, {colDenominator, denStyle}, {colValue, st.inputNum}, {colStatus, st.input}} {
			if err := set(c.col, row, "", c.style); err != nil {
				return err
			}
		}
		if cur, ok := s.Current[ind.Code]; ok {
			// Only the cells the officer may type in are prefilled.
			prefill := map[int]*float64{colValue: &cur.Value}
			if numStyle != st.disabled {
				prefill[colNumerator] = cur.Numerator
			}
			if denStyle != st.disabled {
				prefill[colDenominator] = cur.Denominator
			}
			for col, v := range prefill {
				if v == nil {
					continue
				}
				if err := f.SetCellFloat(sh, cell(col, row), *v, -1, 64); err != nil {
					return err
				}
			}
		}
		if err := validations(f, ind, row); err != nil {
			return err
		}
	}
	if len(s.Indicators) > 0 {
		last := FirstRow + len(s.Indicators) - 1
		dv := excelize.NewDataValidation(true)
		dv.SetSqref(cell(colStatus, FirstRow) + ":" + cell(colStatus, last))
		if err := dv.SetDropList([]string{intake.StatusReported, intake.StatusNoData}); err != nil {
			return err
		}
		dv.SetError(excelize.DataValidationErrorStyleStop, "Tình trạng / Status", "Chọn trong danh sách / choose from the list")
		if err := f.AddDataValidation(sh, dv); err != nil {
			return err
		}
	}
	for _, w := range []struct {
		col   string
		width float64
	}{{"A", 5}, {"B", 10}, {"C", 22}, {"D", 44}, {"E", 16}, {"F", 12}, {"G", 18}, {"H", 14}, {"I", 14}, {"J", 12}, {"K", 22}} {
		if err := f.SetColWidth(sh, w.col, w.col, w.width); err != nil {
			return err
		}
	}
	if err := f.SetRowHeight(sh, 3, 32); err != nil {
		return err
	}
	if err := f.SetPanes(sh, &excelize.Panes{Freeze: true, XSplit: colName, YSplit: FirstRow - 1,
		TopLeftCell: cell(colName+1, FirstRow), ActivePane: "bottomRight"}); err != nil {
		return err
	}
	return f.ProtectSheet(sh, &excelize.SheetProtectionOptions{
		SelectLockedCells: true, SelectUnlockedCells: true, FormatColumns: true, FormatRows: true,
	})
}

// validations add Excel's own checks to a row's input cells, with the indicator's
// definitions as input prompts. They help the officer; the server checks again.
func validations(f *excelize.File, ind *indicators.Indicator, row int) error {
	add := func(col int, lo, hi any, t excelize.DataValidationType, op excelize.DataValidationOperator, title, prompt, msg string) error {
		dv := excelize.NewDataValidation(true)
		dv.SetSqref(cell(col, row))
		if err := dv.SetRange(lo, hi, t, op); err != nil {
			return err
		}
		if prompt != "" {
			dv.SetInput(title, truncate(prompt, 250))
		}
		dv.SetError(excelize.DataValidationErrorStyleStop, title, msg)
		return f.AddDataValidation(SheetData, dv)
	}
	if ind.IsRatio() {
		if err := add(colNumerator, 0, 1e15, excelize.DataValidationTypeWhole, excelize.DataValidationOperatorBetween,
			"Tử số / Numerator", ind.Numerator, "Số nguyên không âm / a whole number, 0 or more"); err != nil {
			return err
		}
		if err := add(colDenominator, 1, 1e15, excelize.DataValidationTypeWhole, excelize.DataValidationOperatorBetween,
			"Mẫu số / Denominator", ind.Denominator, "Số nguyên lớn hơn 0 / a whole number above 0"); err != nil {
			return err
		}
	}
	lo, hi := -1e15, 1e15
	if ind.Bounds.Min != nil {
		lo = *ind.Bounds.Min
	}
	if ind.Bounds.Max != nil {
		hi = *ind.Bounds.Max
	}
	return add(colValue, lo, hi, excelize.DataValidationTypeDecimal, excelize.DataValidationOperatorBetween,
		"Giá trị / Value", ind.NameVI, fmt.Sprintf("Từ / from %g đến / to %g", lo, hi))
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

func metaSheet(f *excelize.File, s Spec, st styles) error {
	sh := SheetMeta
	kv := map[int][2]string{
		metaVersion:   {"template_version", Version},
		metaAgency:    {"agency", s.Agency.Code},
		metaPeriod:    {"period", s.Period.String()},
		metaCatalogue: {"catalogue", Fingerprint(s.Agency, s.Period, s.Indicators)},
		metaFirstRow:  {"first_row", strconv.Itoa(FirstRow)},
		metaRows:      {"rows", strconv.Itoa(len(s.Indicators))},
		metaGenerated: {"generated_at", s.Generated.UTC().Format(time.RFC3339)},
		metaGenerator: {"generator", s.Generator},
	}
	for row := metaVersion; row <= metaGenerator; row++ {
		for col, v := range kv[row] {
			// Strings, always: a yearly period "2026" must not become the number 2026.
			if err := f.SetCellStr(sh, cell(col+1, row), v); err != nil {
				return err
			}
		}
	}
	if err := f.ProtectSheet(sh, &excelize.SheetProtectionOptions{}); err != nil {
		return err
	}
	return f.SetSheetVisible(sh, false, true)
}

// FileName is the name a template is offered under.
func FileName(agency string, p period.Period) string {
	return "goc-" + strings.ToLower(agency) + "-" + p.String() + ".xlsx"
}

// SpecQuery is what SpecFor asks of the query layer.
type SpecQuery interface {
	Catalogue() *indicators.Catalogue
	Registry() *indicators.Registry
	PreviousValues(ctx context.Context, agency string, p period.Period, codes []string) (map[string]indicators.Observation, error)
}

// SpecError is a template that cannot be made: an unknown agency, a period that has not
// started, an agency that reports nothing at that periodicity.
type SpecError struct{ Field, Reason string }

func (e *SpecError) Error() string { return e.Field + ": " + e.Reason }

// SpecFor gathers what a template for an agency and period shows: its indicators, their
// previous-period values and the deadline (dueDays after the period ends, in loc).
func SpecFor(ctx context.Context, q SpecQuery, agency, per string, dueDays int, loc *time.Location, now time.Time) (Spec, error) {
	a, ok := q.Registry().Get(agency)
	if !ok {
		return Spec{}, &SpecError{"agency", fmt.Sprintf("mã đơn vị %q không có trong danh mục / agency %q is not in the registry", agency, agency)}
	}
	p, err := period.Parse(per)
	if err != nil {
		return Spec{}, &SpecError{"period", "kỳ báo cáo không hợp lệ / invalid period: " + err.Error()}
	}
	if loc == nil {
		loc = time.UTC
	}
	if p.Start(loc).After(now) {
		return Spec{}, &SpecError{"period", fmt.Sprintf("kỳ %s chưa bắt đầu / period %s has not started yet", p, p)}
	}
	if !a.ActiveDuring(p.Start(loc), p.End(loc)) {
		return Spec{}, &SpecError{"agency", fmt.Sprintf("đơn vị %s không tồn tại trong kỳ %s / agency %s did not exist during %s", a.Code, p, a.Code, p)}
	}
	inds := ListIndicators(q.Catalogue(), a, p)
	if len(inds) == 0 {
		return Spec{}, &SpecError{"period", fmt.Sprintf("cấp %s không báo cáo chỉ tiêu nào theo kỳ %s / %s level reports no %s indicator",
			a.Level(), p.Kind, a.Level(), p.Kind)}
	}
	codes := make([]string, len(inds))
	for i, ind := range inds {
		codes[i] = ind.Code
	}
	prev, err := q.PreviousValues(ctx, a.Code, p.Prev(), codes)
	if err != nil {
		return Spec{}, err
	}
	return Spec{
		Agency: a, Period: p, Indicators: inds, Previous: prev,
		Deadline:  p.End(loc).AddDate(0, 0, dueDays),
		Generated: now, Generator: "G-OC",
	}, nil
}
