package reports

import (
	"fmt"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/internal/query"
)

// Sheets of the ranking workbook, in order.
const (
	SheetCover = "Bìa - Cover"
	// SheetSummary is the one-page handout: ranks, scores and pillar scores, readable
	// when printed. SheetRanking adds the value and normalised score of every indicator.
	SheetSummary = "Tóm tắt - Summary"
	SheetRanking = "Xếp hạng - Ranking"
	SheetScores  = "Biểu đồ - Scores"
	SheetTrends  = "Xu hướng - Trends"
	SheetMethod  = "Phương pháp - Method"
	SheetData    = "Dữ liệu - Data"
)

// Layout of the ranking sheet: two title rows, a blank row, two header rows, then one
// row per member from RankingFirstRow.
const (
	rankingHeaderRow = 4
	// RankingFirstRow is the first member's row on the ranking sheet.
	RankingFirstRow = 6
)

// Fixed columns of the ranking sheet (1-based). The pillar scores follow, then two
// columns (value, normalised score) per indicator.
const (
	ColRank = iota + 1
	ColPreviousRank
	ColChange
	ColCode
	ColAgency
	ColScore
	ColCoverage
	ColFlag
	colFixed = ColFlag
)

// RankingColumns says where each figure of the ranking sheet is: the first pillar column,
// and for each indicator code its value column (its normalised score is the next one).
type RankingColumns struct {
	Pillars map[string]int
	Value   map[string]int
	Last    int
}

// Columns is the layout RankingWorkbook uses for rep.
func Columns(rep *query.RankingReport) RankingColumns {
	c := RankingColumns{Pillars: map[string]int{}, Value: map[string]int{}}
	col := colFixed
	for _, p := range rep.Pillars {
		col++
		c.Pillars[p.Pillar] = col
	}
	for _, ind := range rep.Indicators {
		if !shown(ind) {
			continue
		}
		c.Value[ind.Code] = col + 1
		col += 2
	}
	c.Last = col
	return c
}

// shown reports whether an indicator has columns on the ranking sheet: one that no
// member reported would be two empty columns; the method sheet lists it with the reason.
func shown(ind query.RankingIndicator) bool { return ind.Unused != indicators.UnusedNoData }

// RankingWorkbook writes the ranking workbook: a cover in Vietnamese and English, the
// ranking table with traffic lights against the 2025 and 2030 targets, a bar chart of
// the scores, line charts of the key national indicators with their targets, the method,
// and the observation behind every figure. rep must carry its provenance and trends
// (query.RankingRequest Provenance and Trends).
func RankingWorkbook(rep *query.RankingReport, loc *time.Location) (*excelize.File, error) {
	if loc == nil {
		loc = DefaultLocation()
	}
	f := excelize.NewFile()
	if err := f.SetSheetName("Sheet1", SheetCover); err != nil {
		return nil, fmt.Errorf("sheet %s: %w", SheetCover, err)
	}
	for _, s := range []string{SheetSummary, SheetRanking, SheetScores, SheetTrends, SheetMethod, SheetData} {
		if _, err := f.NewSheet(s); err != nil {
			return nil, fmt.Errorf("sheet %s: %w", s, err)
		}
	}
	st, err := newStyles(f)
	if err != nil {
		return nil, err
	}
	b := &rankingBook{f: f, rep: rep, loc: loc, st: st, cols: Columns(rep)}
	for _, step := range []func() error{b.cover, b.summary, b.table, b.scores, b.trends, b.method} {
		if err := step(); err != nil {
			f.Close()
			return nil, err
		}
	}
	// The cover opens first. Set before the Data sheet is streamed: SetActiveSheet reads
	// every sheet, and a streamed one it would parse back from its XML (tens of
	// thousands of rows, a third of the workbook's CPU at national size) only for the
	// parsed copy to be thrown away when the file is written.
	f.SetActiveSheet(0)
	for _, step := range []func() error{b.data, b.names} {
		if err := step(); err != nil {
			f.Close()
			return nil, err
		}
	}
	// Every sheet prints on A4 landscape: the cover, the scores chart and the Summary on
	// one page each (the Summary scaled to about 75%, its type 11 pt), the trends and the
	// method laid out to the page's width at 100%, and the two wide tables at 100% across
	// pages with their titles repeated.
	for _, s := range f.GetSheetList() {
		if s == SheetData {
			continue // streamed: laid out before its rows (see data)
		}
		onePage := s == SheetCover || s == SheetScores || s == SheetSummary
		minFont := 9.0 // the body styles
		switch s {
		case SheetRanking:
			minFont = 8 // its wrapped header row
		case SheetSummary:
			minFont = 11 // set larger so that it can be scaled to one page
		}
		if err := printSetup(f, s, true, onePage, minFont); err != nil {
			f.Close()
			return nil, err
		}
	}
	if err := f.SetDocProps(&excelize.DocProperties{
		Title:    fmt.Sprintf("Xếp hạng Chính phủ số %s %s / Digital government ranking", rep.GroupVI, rep.Period),
		Subject:  rep.GroupEN,
		Creator:  "G-OC",
		Language: "vi-VN",
		Created:  rep.GeneratedAt.UTC().Format(time.RFC3339),
	}); err != nil {
		f.Close()
		return nil, fmt.Errorf("document properties: %w", err)
	}
	return f, nil
}

type rankingBook struct {
	f    *excelize.File
	rep  *query.RankingReport
	loc  *time.Location
	st   *styles
	cols RankingColumns
	// weightsHeaderRow is the Method sheet's weights header, repeated on printed pages.
	weightsHeaderRow int
}

func (b *rankingBook) lastRow() int {
	return max(RankingFirstRow, RankingFirstRow+len(b.rep.Entries)-1)
}

// Cover cells that defined names point at.
const (
	coverPeriodRow  = 7
	coverCutoffRow  = 9
	coverCreatedRow = 10
	coverValueCol   = 3
)

func (b *rankingBook) cover() error {
	rep, st := b.rep, b.st
	w := &sheetWriter{f: b.f, sheet: SheetCover}
	w.width(1, 1, 28)
	w.width(2, 2, 26)
	w.width(3, 3, 80)
	w.set(1, 1, "G-OC — Hệ thống giám sát quốc gia về Chính phủ số / national digital-government monitoring", st.subtitle)
	w.set(1, 3, "BẢNG XẾP HẠNG CHÍNH PHỦ SỐ", st.title)
	w.set(1, 4, "DIGITAL GOVERNMENT RANKING", st.title)
	ranked := fmt.Sprintf("%d / %d đơn vị được xếp hạng / members ranked", rep.Ranked, rep.Members)
	periodNote := ""
	if !rep.PeriodComplete {
		periodNote = " — kỳ chưa kết thúc, số liệu lũy kế đến nay / period not over yet: figures to date"
	}
	rows := [][3]string{
		{"Nhóm đơn vị", "Peer group", rep.GroupVI + " / " + rep.GroupEN},
		{"Kỳ xếp hạng", "Period", rep.Period.String() + periodNote},
		{"So sánh với kỳ", "Change measured from", rep.PreviousPeriod.String()},
		{"Số liệu nhận đến", "Data cut-off", cutoffText(rep.DataCutoff, b.loc)},
		{"Thời điểm lập", "Generated at", formatTime(rep.GeneratedAt, b.loc)},
		{"Số đơn vị", "Members", ranked},
		{"Phương pháp", "Method", methodSummary(rep)},
		{"Nguồn số liệu", "Sources", sourceList(rep.Sources)},
	}
	// Spreadsheets do not grow a row for wrapped text they did not type themselves, so
	// each row gets the height of its lines; the blank rows between blocks are thin, so
	// the cover prints on one landscape page at 100%.
	valueWidth := colPoints(80)
	for _, r := range []int{2, 5} {
		w.height(r, 6)
	}
	for i, r := range rows {
		row := 6 + i
		w.set(1, row, r[0], st.bold)
		w.set(2, row, r[1], st.subtitle)
		w.set(coverValueCol, row, r[2], st.wrap)
		w.height(row, linesHeight(textLines(r[2], valueWidth, 11), 11))
	}
	row := 6 + len(rows)
	w.height(row, 6)
	row++
	if hasDemo(rep.Sources) {
		w.set(1, row, demoNote, st.warn)
		w.height(row+1, 6)
		row += 2
	}
	notes := []string{
		"Chênh lệch nhỏ về điểm và thứ hạng không có ý nghĩa thống kê: các đơn vị có điểm gần nhau nên được xem là ngang nhau. " +
			"Small differences in scores and ranks are not significant: agencies with close scores should be read as level.",
		"Thay đổi = hạng kỳ trước − hạng kỳ này (▲ tăng hạng, ▼ giảm hạng). Hạng kỳ trước được tính lại cho chính các đơn vị này; " +
			"đơn vị hợp nhất năm 2025 dùng số liệu cộng gộp của các đơn vị tiền thân. " +
			"Change = previous rank − this rank (▲ up, ▼ down). The previous rank is recomputed for these same members; " +
			"units merged in 2025 use their predecessors' rolled-up figures.",
		"Màu giá trị: xanh — đạt mục tiêu 2030; vàng — đạt mục tiêu 2025; đỏ — chưa đạt mục tiêu 2025; ô trống là thiếu số liệu (không tính là 0). " +
			"Value colours: green meets the 2030 target, amber the 2025 target, red not even 2025; a blank is missing data, never a zero.",
	}
	for _, n := range notes {
		w.set(1, row, n, st.note)
		w.merge(1, row, 3, row)
		w.height(row, linesHeight(textLines(n, colPoints(28)+colPoints(26)+valueWidth, 9), 9))
		row++
	}
	w.height(row, 6)
	row++
	w.set(1, row, "Nội dung / Contents", st.bold)
	for i, s := range [][2]string{
		{SheetSummary, "thứ hạng, điểm tổng hợp và điểm trụ cột, in trên một trang / ranks, scores and pillar scores on one printed page"},
		{SheetRanking, "thứ hạng, điểm, giá trị và điểm chuẩn hóa từng chỉ tiêu / rank, score, value and normalised score per indicator"},
		{SheetScores, "biểu đồ điểm tổng hợp / bar chart of the scores"},
		{SheetTrends, "xu hướng toàn quốc của các chỉ tiêu chính so với mục tiêu / national trend of the key indicators against their targets"},
		{SheetMethod, "phương pháp và trọng số / method and weights"},
		{SheetData, "nguồn gốc từng số liệu: nguồn, lần sửa, thời điểm nộp / provenance of every figure: source, revision, submitted at"},
	} {
		w.set(2, row+1+i, s[0], st.text)
		w.set(3, row+1+i, s[1], st.wrap)
		w.height(row+1+i, linesHeight(textLines(s[1], valueWidth, 11), 11))
	}
	return w.err
}

func cutoffText(t *time.Time, loc *time.Location) string {
	if t == nil {
		return "— (không có số liệu / no data)"
	}
	return formatTime(*t, loc)
}

func methodSummary(rep *query.RankingReport) string {
	m := rep.Method
	var norm string
	switch m.Normalisation {
	case indicators.ZScore:
		norm = "chuẩn hóa z-score rồi co giãn min-max điểm tổng hợp về 0-100 (như EGDI của Liên Hợp Quốc) / z-scores, composite min-max scaled to 0-100 (as the UN EGDI)"
	default:
		norm = "chuẩn hóa min-max trong nhóm về 0-100 / min-max within the group to 0-100"
		if m.TrimPercent > 0 {
			norm += fmt.Sprintf(", cắt ở bách phân vị %g và %g / censored at the %gth and %gth percentiles", m.TrimPercent, 100-m.TrimPercent, m.TrimPercent, 100-m.TrimPercent)
		}
	}
	return fmt.Sprintf("%s; trọng số bằng nhau trong trụ cột, các trụ cột ngang nhau (trừ khi cấu hình khác) / equal weights within pillars, pillars equal unless configured; "+
		"không xếp hạng đơn vị thiếu quá %.0f%% chỉ tiêu / agencies missing more than %.0f%% of the indicators are not ranked",
		norm, 100*m.MaxMissingShare, 100*m.MaxMissingShare)
}

func (b *rankingBook) summary() error { return b.writeTable(SheetSummary, false) }

func (b *rankingBook) table() error { return b.writeTable(SheetRanking, true) }

// writeTable writes the ranking table on sheet: the fixed columns and pillar scores, and
// with detail the value and normalised score of every indicator.
func (b *rankingBook) writeTable(sheet string, detail bool) error {
	rep, st, cols := b.rep, b.st, b.cols
	w := &sheetWriter{f: b.f, sheet: sheet}
	w.set(1, 1, fmt.Sprintf("XẾP HẠNG CHÍNH PHỦ SỐ — %s — %s / DIGITAL GOVERNMENT RANKING — %s — %s",
		strings.ToUpper(rep.GroupVI), rep.Period, rep.GroupEN, rep.Period), st.banner)
	sub := fmt.Sprintf("Số liệu đến / data cut-off %s · so với / change from %s · chênh lệch thứ hạng nhỏ không có ý nghĩa thống kê / small rank differences are not significant",
		cutoffText(rep.DataCutoff, b.loc), rep.PreviousPeriod)
	if hasDemo(rep.Sources) {
		sub = demoNote + " · " + sub
	}
	// The Summary prints on one page, scaled to about three quarters: its type is 11 pt
	// throughout, so that it prints at 8 pt or more; the Ranking sheet prints at 100%.
	subStyle, noteStyle, flagStyle, smallSize := st.bannerSub, st.note, st.small, 9.0
	if !detail {
		subStyle, noteStyle, flagStyle, smallSize = st.bannerSub11, st.note11, st.wrap, 11
	}
	w.set(1, 2, sub, subStyle)
	// The titles wrap within the table's width, so printing fits the table, not the titles.
	lastCol := colFixed + len(rep.Pillars)
	if detail {
		lastCol = cols.Last
	}
	w.merge(1, 1, lastCol, 1)
	w.merge(1, 2, lastCol, 2)
	w.height(1, 40)
	w.height(2, 28)
	if !detail {
		w.height(2, linesHeight(textLines(sub, summaryWidth(len(rep.Pillars)), smallSize), smallSize))
		w.height(3, 6)
	}
	h1, h2 := rankingHeaderRow, rankingHeaderRow+1
	fixed := []string{"Hạng\nRank", "Hạng kỳ trước\nPrevious rank", "Thay đổi\nChange", "Mã\nCode", "Đơn vị\nAgency", "Điểm\nScore", "Độ phủ\nCoverage", "Ghi chú\nFlag"}
	for i, h := range fixed {
		w.set(i+1, h1, h, st.header) // a merge keeps the top cell's value
		w.set(i+1, h2, nil, st.header)
		w.merge(i+1, h1, i+1, h2)
	}
	if len(rep.Pillars) > 0 {
		first := cols.Pillars[rep.Pillars[0].Pillar]
		w.set(first, h1, "Trụ cột (điểm 0-100) / Pillars (score)", st.header)
		for _, p := range rep.Pillars {
			w.set(cols.Pillars[p.Pillar], h1, nil, st.header)
			w.set(cols.Pillars[p.Pillar], h2, p.NameVI+"\n"+p.NameEN, st.header)
		}
		w.merge(first, h1, first+len(rep.Pillars)-1, h1)
	}
	normLabel := "Điểm chuẩn hóa\nNormalised"
	if rep.Method.Normalisation == indicators.ZScore {
		normLabel = "Điểm z\nz-score"
	}
	for _, ind := range rep.Indicators {
		if !detail {
			break
		}
		if !shown(ind) {
			continue
		}
		c := cols.Value[ind.Code]
		label := ind.NameVI + "\n" + ind.NameEN
		if !ind.Used {
			label += "\n(không dùng / not used: " + ind.Unused + ")"
		}
		w.set(c, h1, label, st.headerWrap)
		w.set(c+1, h1, nil, st.headerWrap)
		w.merge(c, h1, c+1, h1)
		w.set(c, h2, "Giá trị ("+unitLabel(ind.Unit)+")\nValue", st.header)
		w.set(c+1, h2, normLabel, st.header)
	}
	if detail {
		w.height(h1, 120)
		w.height(h2, 56)
	} else {
		w.height(h1, 20)
		w.height(h2, 64)
	}
	// Narrow enough that the Summary fits a landscape A4 page with little shrinking.
	w.width(ColRank, ColChange, 7)
	w.width(ColCode, ColCode, 7)
	w.width(ColAgency, ColAgency, 26)
	w.width(ColScore, ColCoverage, 9)
	w.width(ColFlag, ColFlag, 16)
	if len(rep.Pillars) > 0 {
		w.width(colFixed+1, colFixed+len(rep.Pillars), 10)
	}
	if !detail {
		// One line of flag, and pillar names in four lines at most, at 11 pt.
		w.width(ColFlag, ColFlag, summaryFlagWidth)
		w.width(colFixed+1, colFixed+len(rep.Pillars), summaryPillarWidth)
	}
	if detail && len(rep.Indicators) > 0 {
		for _, ind := range rep.Indicators {
			if shown(ind) {
				w.width(cols.Value[ind.Code], cols.Value[ind.Code], 7.5)
				w.width(cols.Value[ind.Code]+1, cols.Value[ind.Code]+1, 7)
			}
		}
	}
	used := 0
	for _, ind := range rep.Indicators {
		if ind.Used {
			used++
		}
	}
	normStyle := st.norm
	if rep.Method.Normalisation == indicators.ZScore {
		normStyle = st.z
	}
	for i, e := range rep.Entries {
		row := RankingFirstRow + i
		w.set(ColRank, row, intOrNil(e.Rank), st.integer)
		w.set(ColPreviousRank, row, ptrOrNil(e.PreviousRank), st.integer)
		w.set(ColChange, row, ptrOrNil(e.Change), st.change)
		w.set(ColCode, row, e.Agency, st.text)
		w.set(ColAgency, row, e.NameVI, st.text)
		w.set(ColScore, row, ptrOrNil(e.Score), st.score)
		w.set(ColCoverage, row, e.Coverage, st.percent0)
		if detail {
			w.set(ColFlag, row, flagText(e.Flag, len(e.Missing), used), flagStyle)
		} else {
			w.set(ColFlag, row, flagShort(e.Flag, len(e.Missing), used), flagStyle)
		}
		for _, p := range rep.Pillars {
			if v, ok := e.Pillars[p.Pillar]; ok {
				w.set(cols.Pillars[p.Pillar], row, v, normStyle)
			} else {
				w.set(cols.Pillars[p.Pillar], row, nil, normStyle)
			}
		}
		for _, ind := range rep.Indicators {
			if !detail {
				break
			}
			if !shown(ind) {
				continue
			}
			c := cols.Value[ind.Code]
			if v, ok := e.Values[ind.Code]; ok {
				w.set(c, row, v.Value, st.value)
			} else {
				w.set(c, row, nil, st.value)
			}
			if n, ok := e.Normalised[ind.Code]; ok {
				w.set(c+1, row, n, normStyle)
			} else {
				w.set(c+1, row, nil, normStyle)
			}
		}
	}
	if w.err != nil {
		return w.err
	}
	last := b.lastRow()
	for _, ind := range rep.Indicators {
		if !detail {
			break
		}
		if !shown(ind) {
			continue
		}
		c := cols.Value[ind.Code]
		rng := cell(c, RankingFirstRow) + ":" + cell(c, last)
		if err := trafficLight(b.f, sheet, rng, cell(c, RankingFirstRow), ind.Direction, ind.Target2025, ind.Target2030, st); err != nil {
			return err
		}
	}
	note := last + 2
	w.set(1, note, "Chênh lệch nhỏ về điểm và thứ hạng không có ý nghĩa thống kê. Ô trống: thiếu số liệu, không tính là 0. "+
		"Small differences in scores and ranks are not significant. A blank cell is missing data, never a zero.", noteStyle)
	w.merge(1, note, ColFlag, note)
	w.height(note, 30)
	if !detail {
		w.height(note-1, 6)
		w.height(note, linesHeight(2, smallSize))
	}
	w.do(b.f.SetPanes(sheet, &excelize.Panes{
		Freeze: true, XSplit: ColAgency, YSplit: RankingFirstRow - 1,
		TopLeftCell: cell(ColAgency+1, RankingFirstRow), ActivePane: "bottomRight",
	}))
	return w.err
}

func intOrNil(v int) any {
	if v == 0 {
		return nil
	}
	return v
}

func ptrOrNil[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

// Widths of the Summary's flag and pillar columns, in characters.
const (
	summaryFlagWidth   = 27
	summaryPillarWidth = 12
)

// summaryWidth is the Summary table's printed width, in points.
func summaryWidth(pillars int) float64 {
	return 3*colPoints(7) + colPoints(7) + colPoints(26) + 2*colPoints(9) + colPoints(summaryFlagWidth) + float64(pillars)*colPoints(summaryPillarWidth)
}

// flagShort is the Summary's one-line flag.
func flagShort(flag string, missing, used int) string {
	switch flag {
	case indicators.FlagPartial:
		return fmt.Sprintf("Thiếu %d/%d / missing %d of %d", missing, used, missing, used)
	case indicators.FlagInsufficient:
		return fmt.Sprintf("Không xếp hạng / not ranked (%d/%d)", missing, used)
	}
	return ""
}

func flagText(flag string, missing, used int) string {
	switch flag {
	case indicators.FlagPartial:
		return fmt.Sprintf("Thiếu %d/%d chỉ tiêu, xếp hạng trên số liệu có / missing %d of %d, ranked on what it has", missing, used, missing, used)
	case indicators.FlagInsufficient:
		return fmt.Sprintf("Không xếp hạng: thiếu %d/%d chỉ tiêu / not ranked: missing %d of %d", missing, used, missing, used)
	}
	return ""
}

func (b *rankingBook) scores() error {
	rep := b.rep
	w := &sheetWriter{f: b.f, sheet: SheetScores}
	w.set(1, 1, fmt.Sprintf("Điểm tổng hợp %s — %s / Composite scores, %s", rep.GroupVI, rep.Period, rep.Period), b.st.title)
	w.set(1, 2, "Chênh lệch nhỏ không có ý nghĩa thống kê / small differences are not significant", b.st.subtitle)
	if rep.Ranked == 0 {
		w.set(1, 4, "Không có đơn vị nào được xếp hạng / no member could be ranked", b.st.warn)
		return w.err
	}
	if w.err != nil {
		return w.err
	}
	last := RankingFirstRow + rep.Ranked - 1
	// As tall as the page leaves under the two title rows at 100% (480 points), so that
	// its 8 pt labels print at 8 pt.
	height := uint(min(640, max(360, 18*rep.Ranked+120)))
	return b.f.AddChart(SheetScores, "A4", &excelize.Chart{
		Type:       excelize.Bar,
		VaryColors: ptr(false),
		Series: []excelize.ChartSeries{{
			Name:       quote(SheetRanking) + "!$" + colName(ColScore) + "$" + fmt.Sprint(rankingHeaderRow),
			Categories: absRange(SheetRanking, ColAgency, RankingFirstRow, ColAgency, last),
			Values:     absRange(SheetRanking, ColScore, RankingFirstRow, ColScore, last),
			Fill:       excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"2E75B6"}},
		}},
		Title:     excelize.ChartTitle{Paragraph: []excelize.RichTextRun{{Text: fmt.Sprintf("Điểm tổng hợp / Composite score (0-100), %s", rep.Period)}}},
		Dimension: excelize.ChartDimension{Width: 900, Height: height},
		Legend:    excelize.ChartLegend{Position: "none"},
		XAxis:     excelize.ChartAxis{ReverseOrder: true, Font: excelize.Font{Size: 8}},
		YAxis:     excelize.ChartAxis{MajorGridLines: true, Minimum: ptr(0.0), Maximum: ptr(100.0)},
		PlotArea:  excelize.ChartPlotArea{ShowVal: true},
		Format:    excelize.GraphicOptions{AltText: "Biểu đồ điểm tổng hợp / bar chart of composite scores"},
	})
}

func ptr[T any](v T) *T { return &v }

// Each key indicator's block on the trends sheet: a title row, a header row, one row per
// year (12 at most: 2019–2030) and a blank row, with its chart beside the table, below
// the title so the title is never behind it. Two blocks fill a landscape A4 page, and a
// page break before every second block keeps each chart whole on its page.
const trendBlockRows = 15

// trendChartCols is how many columns of the default width a trend chart spans.
const trendChartCols = 9

// trendsPerPage is how many trend blocks a printed page holds.
const trendsPerPage = 2

func (b *rankingBook) trends() error {
	rep, st := b.rep, b.st
	w := &sheetWriter{f: b.f, sheet: SheetTrends}
	// Laid out to print at 100% on landscape A4, two blocks a page: the titles wrap
	// within the blocks' width (the table, a narrow gap, the chart), so that nothing runs
	// past the page's right edge.
	w.set(1, 1, "Xu hướng toàn quốc của các chỉ tiêu chính so với mục tiêu 2025 và 2030 / National trend of the key indicators against the 2025 and 2030 targets", st.banner)
	w.width(1, 1, 8)
	w.width(2, 4, 14)
	w.width(5, 5, 2)
	blockWidth := colPoints(8) + 3*colPoints(14) + colPoints(2) + trendChartCols*colPoints(8.43)
	w.merge(1, 1, 5+trendChartCols, 1)
	w.height(1, linesHeight(textLines("Xu hướng toàn quốc của các chỉ tiêu chính so với mục tiêu 2025 và 2030 / National trend of the key indicators against the 2025 and 2030 targets", blockWidth, 14), 14))
	w.height(2, 6)
	if len(rep.Trends) == 0 {
		w.set(1, 3, "Không có số liệu xu hướng / no trend data", st.warn)
		return w.err
	}
	for i, tr := range rep.Trends {
		top := 3 + i*trendBlockRows
		if i > 0 && i%trendsPerPage == 0 {
			w.do(b.f.InsertPageBreak(SheetTrends, cell(1, top)))
		}
		title := tr.NameVI + " / " + tr.NameEN
		if tr.Level != indicators.National {
			title += fmt.Sprintf(" (cấp %s / %s level)", tr.Level, tr.Level)
		}
		w.set(1, top, title, st.boldWrap)
		w.merge(1, top, 5+trendChartCols, top)
		w.height(top, linesHeight(textLines(title, blockWidth, 11), 11))
		w.height(top+trendBlockRows-1, 6)
		for j, h := range []string{"Năm\nYear", "Toàn quốc\nNational", "Mục tiêu 2025\n2025 target", "Mục tiêu 2030\n2030 target"} {
			w.set(1+j, top+1, h, st.header)
		}
		w.height(top+1, 30)
		if len(tr.Points) == 0 {
			w.set(1, top+2, "Không có số liệu / no data", st.note)
			continue
		}
		first := tr.Points[0].Period.Year
		lastYear := max(2030, tr.Points[len(tr.Points)-1].Period.Year)
		if lastYear-first+1 > trendBlockRows-3 {
			first = lastYear - (trendBlockRows - 3) + 1
		}
		byYear := map[int]float64{}
		for _, p := range tr.Points {
			byYear[p.Period.Year] = p.Value
		}
		for y := first; y <= lastYear; y++ {
			row := top + 2 + (y - first)
			w.set(1, row, y, st.integer)
			if v, ok := byYear[y]; ok {
				w.set(2, row, v, st.value)
			} else {
				w.set(2, row, nil, st.value)
			}
			if tr.Target2025 != nil {
				w.set(3, row, tr.Target2025.Value, st.value)
			}
			if tr.Target2030 != nil {
				w.set(4, row, tr.Target2030.Value, st.value)
			}
		}
		if w.err != nil {
			return w.err
		}
		end := top + 2 + lastYear - first
		series := []excelize.ChartSeries{{
			Name:       quote(SheetTrends) + "!$B$" + fmt.Sprint(top+1),
			Categories: absRange(SheetTrends, 1, top+2, 1, end),
			Values:     absRange(SheetTrends, 2, top+2, 2, end),
			Line:       excelize.LineOptions{Width: 2.5, Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"1F4E79"}}},
			Marker:     excelize.ChartMarker{Symbol: "circle", Size: 6},
		}}
		for j, t := range []*indicators.Target{tr.Target2025, tr.Target2030} {
			if t == nil {
				continue
			}
			color := []string{"ED7D31", "70AD47"}[j]
			series = append(series, excelize.ChartSeries{
				Name:       quote(SheetTrends) + "!$" + colName(3+j) + "$" + fmt.Sprint(top+1),
				Categories: absRange(SheetTrends, 1, top+2, 1, end),
				Values:     absRange(SheetTrends, 3+j, top+2, 3+j, end),
				Line:       excelize.LineOptions{Width: 1.5, Dash: excelize.LineDashDash, Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{color}}},
				Marker:     excelize.ChartMarker{Symbol: "none"},
			})
		}
		yAxis := excelize.ChartAxis{MajorGridLines: true}
		if tr.Direction == indicators.LowerIsBetter {
			yAxis.ReverseOrder = true // rank 1 at the top: up is better, as on every other chart
		}
		if err := b.f.AddChart(SheetTrends, cell(6, top+1), &excelize.Chart{
			Type:         excelize.Line,
			Series:       series,
			Title:        excelize.ChartTitle{Paragraph: []excelize.RichTextRun{{Text: tr.NameVI}}},
			Dimension:    excelize.ChartDimension{Width: trendChartCols*64 - 8, Height: 280}, // the header row and 12 years
			Legend:       excelize.ChartLegend{Position: "bottom"},
			YAxis:        yAxis,
			ShowBlanksAs: "gap",
			Format:       excelize.GraphicOptions{AltText: tr.NameEN},
		}); err != nil {
			return fmt.Errorf("trend chart of %s: %w", tr.Indicator, err)
		}
	}
	return w.err
}

func (b *rankingBook) method() error {
	rep, st := b.rep, b.st
	w := &sheetWriter{f: b.f, sheet: SheetMethod}
	// 16 + 40 + 8 × 10 characters: 752 points, a landscape A4 page at 100%.
	w.width(1, 1, 16)
	w.width(2, 2, 40)
	w.width(3, 10, 10)
	w.set(1, 1, "Phương pháp xếp hạng / How the ranking is computed", st.title)
	m := rep.Method
	paras := []string{
		"1. Nhóm so sánh: các đơn vị thuộc nhóm vào ngày cuối của kỳ (năm 2025: 34 tỉnh, thành phố; năm 2024: 63). " +
			"Peer group: the members on the last day of the period (2025: 34 provinces; 2024: 63).",
		"2. Số liệu: mỗi chỉ tiêu lấy số liệu của chính đơn vị, nếu không có thì cộng gộp từ các đơn vị trực thuộc hoặc tiền thân (tỷ lệ = tổng tử số / tổng mẫu số). " +
			"Với kỳ năm, dùng số liệu năm nếu có, nếu không thì kỳ báo cáo muộn nhất trong năm. " +
			"Figures: each indicator is the agency's own figure, or else rolled up from its units or predecessors (ratio = sum of numerators / sum of denominators). " +
			"For a yearly ranking the yearly figure is used, or else the latest period reported in the year.",
		"3. Chuẩn hóa: " + methodSummary(rep) + ".",
		"4. Điểm trụ cột = trung bình có trọng số điểm chuẩn hóa các chỉ tiêu có số liệu; điểm tổng hợp = trung bình có trọng số các trụ cột. Số liệu thiếu không bao giờ được tính là 0. " +
			"Pillar score = weighted mean of the normalised scores the agency has; composite = weighted mean of its pillars. A missing value is never taken as zero.",
		fmt.Sprintf("5. Đơn vị thiếu tối đa %.0f%% số chỉ tiêu được xếp hạng trên số liệu có và được đánh dấu; thiếu nhiều hơn thì không xếp hạng (quy tắc của Báo cáo Phát triển bền vững, SDR). "+
			"Agencies missing up to %.0f%% of the indicators are ranked on what they have and flagged; those missing more are not ranked (the Sustainable Development Report's rule).",
			100*m.MaxMissingShare, 100*m.MaxMissingShare),
		fmt.Sprintf("6. Điểm làm tròn %d chữ số thập phân; xếp hạng cạnh tranh chuẩn (1, 2, 2, 4): điểm bằng nhau thì cùng hạng. "+
			"Scores are rounded to %d decimals and ranked by standard competition ranking (1, 2, 2, 4): equal scores share a rank.", indicators.ScoreDecimals, indicators.ScoreDecimals),
		"7. Thay đổi so với kỳ trước tính trên cùng các đơn vị; đơn vị hợp nhất dùng số liệu cộng gộp của các đơn vị tiền thân. " +
			"Change from the previous period is computed for the same members; merged units use their predecessors' rolled-up figures.",
		"8. Chênh lệch nhỏ về điểm và thứ hạng không có ý nghĩa thống kê. Small differences in scores and ranks are not significant.",
		"9. Chỉ tiêu không dùng: trọng số 0 (zero_weight), không đơn vị nào có số liệu (no_data), mọi đơn vị cùng một giá trị (no_spread). " +
			"Indicators left out: weight 0 (zero_weight), no member has a value (no_data), every member has the same value (no_spread).",
	}
	row := 3
	for _, p := range paras {
		w.set(1, row, p, st.note)
		w.merge(1, row, 10, row)
		w.height(row, linesHeight(textLines(p, colPoints(16)+colPoints(40)+8*colPoints(10), 9), 9))
		row++
	}
	row++
	w.set(1, row, "Trọng số / Weights", st.bold)
	row++
	heads := []string{"Trụ cột\nPillar", "Chỉ tiêu\nIndicator", "Mã\nCode", "Chiều tốt\nBetter when", "Trọng số\nWeight", "Dùng\nUsed", "Số đơn vị có số liệu\nMembers with a value", "Cận dưới / TB\nLow / mean", "Cận trên / ĐLC\nHigh / SD", "Mục tiêu 2025 / 2030\nTargets"}
	for i, h := range heads {
		w.set(i+1, row, h, st.header)
	}
	w.height(row, 60)
	b.weightsHeaderRow = row
	for _, ind := range rep.Indicators {
		row++
		pvi, pen := indicators.PillarName(ind.Pillar)
		w.set(1, row, pvi+" / "+pen, st.small)
		w.set(2, row, ind.NameVI+" / "+ind.NameEN, st.small)
		w.set(3, row, ind.Code, st.small)
		dir := "cao hơn / higher"
		if ind.Direction == indicators.LowerIsBetter {
			dir = "thấp hơn / lower"
		}
		w.set(4, row, dir, st.small)
		w.set(5, row, ind.Weight, st.percent0)
		used := "có / yes"
		if !ind.Used {
			used = "không / no: " + ind.Unused
		}
		w.set(6, row, used, st.small)
		w.set(7, row, ind.Count, st.integer)
		lo, hi := ind.Low, ind.High
		if ind.Mean != nil {
			lo, hi = ind.Mean, ind.SD
		}
		w.set(8, row, ptrOrNil(lo), st.value)
		w.set(9, row, ptrOrNil(hi), st.value)
		w.set(10, row, targetsText(ind.Target2025, ind.Target2030), st.small)
		// An office suite does not grow a row for wrapped text it reads from a file, so
		// each row gets the height of its tallest cell, or its lines print over the next.
		w.height(row, wrappedHeight(wrapped{16, pvi + " / " + pen}, wrapped{40, ind.NameVI + " / " + ind.NameEN}, wrapped{10, used}, wrapped{10, targetsText(ind.Target2025, ind.Target2030)}))
	}
	return w.err
}

// wrapped is a cell's text and its column's width in characters of the default font.
type wrapped struct {
	width float64
	text  string
}

// wrappedHeight is the row height, in points, that shows every line of 9 pt text
// wrapped in cells of the given widths (in characters of the default font).
func wrappedHeight(cells ...wrapped) float64 {
	lines := 1
	for _, c := range cells {
		width, text := c.width, c.text
		// 9 pt Carlito fits about 1.3 characters per unit of column width.
		perLine := max(1, int(width*1.3))
		n := 0
		for _, para := range strings.Split(text, "\n") {
			n += max(1, (len([]rune(para))+perLine-1)/perLine)
		}
		lines = max(lines, n)
	}
	return float64(lines)*12 + 4
}

func targetsText(t2025, t2030 *indicators.Target) string {
	var parts []string
	for _, t := range []*indicators.Target{t2025, t2030} {
		if t != nil {
			parts = append(parts, fmt.Sprintf("%d: %g (%s)", t.Year, t.Value, t.Clause))
		}
	}
	if len(parts) == 0 {
		return "—"
	}
	return strings.Join(parts, "; ")
}

// Columns of the data (provenance) sheet.
var dataHeaders = []string{
	"Xếp hạng\nRanking", "Mã đơn vị\nAgency", "Đơn vị\nAgency name", "Chỉ tiêu\nIndicator", "Số liệu dùng\nFigure used",
	"Kỳ số liệu\nPeriod", "Đơn vị báo cáo\nReported by", "Tên đơn vị báo cáo\nReporter name", "Giá trị báo cáo\nReported value",
	"Tử số\nNumerator", "Mẫu số\nDenominator", "Nguồn\nSource", "Lần sửa\nRevision", "Người nộp\nSubmitter", "Thời điểm nhận\nReceived at",
}

// data writes the observation behind every figure, one row each: at national scale
// tens of thousands of rows, so the sheet is streamed (excelize's StreamWriter) rather
// than held cell by cell. A streamed sheet is laid out before its rows: column widths
// and print setup first, panes before the first row, the filter before Flush.
func (b *rankingBook) data() error {
	rep, st, f := b.rep, b.st, b.f
	w := &sheetWriter{f: f, sheet: SheetData}
	// 195 characters wide in all: too wide to fit a landscape A4 page at 8 pt, so it
	// prints at 100% over two pages across, its header row repeated.
	w.width(1, 2, 9)
	w.width(3, 3, 20)
	w.width(4, 4, 20)
	w.width(5, 7, 10)
	w.width(8, 8, 18)
	w.width(9, 13, 11)
	w.width(10, 11, 12) // "Denominator" in bold on one line
	w.width(14, 14, 14)
	w.width(15, 15, 18)
	if w.err != nil {
		return w.err
	}
	width := 0.0
	for c := 1; c <= len(dataHeaders); c++ {
		cw, err := f.GetColWidth(SheetData, colName(c))
		if err != nil {
			return fmt.Errorf("column width %s!%s: %w", SheetData, colName(c), err)
		}
		width += colPoints(cw)
	}
	if err := printSetupWidth(f, SheetData, width, true, false, 11); err != nil { // 11: the default font
		return err
	}
	sw, err := f.NewStreamWriter(SheetData)
	if err != nil {
		return fmt.Errorf("sheet %s: %w", SheetData, err)
	}
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return fmt.Errorf("panes of %s: %w", SheetData, err)
	}
	_, off := rep.GeneratedAt.In(b.loc).Zone()
	header := make([]any, len(dataHeaders))
	for i, h := range dataHeaders {
		header[i] = excelize.Cell{StyleID: st.header, Value: h}
	}
	header[14] = excelize.Cell{StyleID: st.header, Value: fmt.Sprintf("Thời điểm nhận\nReceived at (UTC%+d)", off/3600)}
	if err := sw.SetRow("A1", header, excelize.RowOpts{Height: 32}); err != nil {
		return fmt.Errorf("%s!A1: %w", SheetData, err)
	}
	row := make([]any, len(dataHeaders))
	for i, p := range rep.Provenance {
		o := p.Observation
		kind := "kỳ này / current"
		if p.Ranking == "previous" {
			kind = "kỳ trước / previous"
		}
		row[0], row[1], row[2], row[3] = kind, p.Agency, rep.Names[p.Agency], p.Indicator
		row[4] = excelize.Cell{StyleID: st.value, Value: p.Figure}
		row[5], row[6], row[7] = o.Period.String(), o.Agency, rep.Names[o.Agency]
		row[8] = excelize.Cell{StyleID: st.value, Value: o.Value}
		row[9], row[10] = ptrOrNil(o.Numerator), ptrOrNil(o.Denominator)
		row[11], row[12], row[13] = string(o.Source), o.Revision, o.Submitter
		// Excel has no time zones: the wall-clock time in loc, with the zone in the header.
		row[14] = excelize.Cell{StyleID: st.date, Value: wallClock(o.ReceivedAt, b.loc)}
		ref := cell(1, i+2)
		if err := sw.SetRow(ref, row); err != nil {
			return fmt.Errorf("%s!%s: %w", SheetData, ref, err)
		}
	}
	last := max(2, len(rep.Provenance)+1)
	if err := f.AutoFilter(SheetData, "A1:"+cell(len(dataHeaders), last), nil); err != nil {
		return fmt.Errorf("filter of %s: %w", SheetData, err)
	}
	if err := sw.Flush(); err != nil {
		return fmt.Errorf("sheet %s: %w", SheetData, err)
	}
	return nil
}

// wallClock is t as the clock on the wall in loc reads it, for spreadsheet cells that
// cannot carry a zone.
func wallClock(t time.Time, loc *time.Location) time.Time {
	l := t.In(loc)
	return time.Date(l.Year(), l.Month(), l.Day(), l.Hour(), l.Minute(), l.Second(), l.Nanosecond(), time.UTC)
}

// Defined names of the ranking workbook.
const (
	NameRankingTable = "RankingTable"
	NameRanks        = "Ranks"
	NameScores       = "Scores"
	NameAgencies     = "Agencies"
	NamePeriod       = "ReportPeriod"
	NameDataCutoff   = "DataCutoff"
	NameGeneratedAt  = "GeneratedAt"
	NameProvenance   = "Provenance"
)

func (b *rankingBook) names() error {
	last := b.lastRow()
	defs := []struct{ n, ref, comment string }{
		{NameRankingTable, absRange(SheetRanking, 1, rankingHeaderRow+1, b.cols.Last, last), "bảng xếp hạng / the ranking table"},
		{NameRanks, absRange(SheetRanking, ColRank, RankingFirstRow, ColRank, last), "thứ hạng / ranks"},
		{NameScores, absRange(SheetRanking, ColScore, RankingFirstRow, ColScore, last), "điểm tổng hợp / composite scores"},
		{NameAgencies, absRange(SheetRanking, ColAgency, RankingFirstRow, ColAgency, last), "đơn vị / agencies"},
		{NamePeriod, absRange(SheetCover, coverValueCol, coverPeriodRow, coverValueCol, coverPeriodRow), "kỳ xếp hạng / period"},
		{NameDataCutoff, absRange(SheetCover, coverValueCol, coverCutoffRow, coverValueCol, coverCutoffRow), "số liệu đến / data cut-off"},
		{NameGeneratedAt, absRange(SheetCover, coverValueCol, coverCreatedRow, coverValueCol, coverCreatedRow), "thời điểm lập / generated at"},
		{NameProvenance, absRange(SheetData, 1, 1, len(dataHeaders), max(2, len(b.rep.Provenance)+1)), "nguồn gốc số liệu / provenance"},
	}
	for _, d := range defs {
		if err := name(b.f, d.n, d.ref, d.comment); err != nil {
			return err
		}
	}
	// Print the header rows and the rank-to-agency columns on every page.
	for _, sheet := range []string{SheetSummary, SheetRanking} {
		if err := b.f.SetDefinedName(&excelize.DefinedName{
			Name:     "_xlnm.Print_Titles",
			RefersTo: fmt.Sprintf("%s!$A:$%s,%s!$%d:$%d", quote(sheet), colName(ColAgency), quote(sheet), rankingHeaderRow, rankingHeaderRow+1),
			Scope:    sheet,
		}); err != nil {
			return fmt.Errorf("print titles of %s: %w", sheet, err)
		}
	}
	// The provenance header, and the weights table's header, on every page they run to.
	for sheet, row := range map[string]int{SheetData: 1, SheetMethod: b.weightsHeaderRow} {
		if row == 0 {
			continue
		}
		if err := b.f.SetDefinedName(&excelize.DefinedName{
			Name: "_xlnm.Print_Titles", RefersTo: fmt.Sprintf("%s!$%d:$%d", quote(sheet), row, row), Scope: sheet,
		}); err != nil {
			return fmt.Errorf("print titles of %s: %w", sheet, err)
		}
	}
	return nil
}
