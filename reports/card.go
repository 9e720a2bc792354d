package reports

import (
	"fmt"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/g-oc/goc/internal/query"
)

// Sheets of the report card.
const (
	SheetCard      = "Thẻ báo cáo - Card"
	SheetCardTrend = "Xu hướng - Trend data"
)

// Layout of the card sheet: four title rows, the header row, then one row per indicator
// from CardFirstRow, the portal indicators after a sub-heading row of their own.
const (
	cardHeaderRow = 5
	// CardFirstRow is the first indicator's row on the card sheet.
	CardFirstRow = 6
)

// Columns of the card sheet (1-based).
const (
	CardColIndicator = iota + 1
	CardColPeriod
	CardColLatest
	CardColTarget2025
	CardColStatus2025
	CardColTarget2030
	CardColStatus2030
	CardColTrend
	cardCols = CardColTrend
)

// Defined names of the report card.
const (
	NameCardTable = "CardTable"
	NameTrendData = "TrendData"
	NamePortals   = "Portals"
)

// CardWorkbook writes one agency's report card on one A4 page: each indicator's latest
// value against its 2025 and 2030 targets, with status and a small trend chart, the
// agency's rank in its peer group, and the uptime of its portals (or a plain statement
// that there is no probe data).
func CardWorkbook(card *query.Card, loc *time.Location) (*excelize.File, error) {
	if loc == nil {
		loc = DefaultLocation()
	}
	f := excelize.NewFile()
	if err := f.SetSheetName("Sheet1", SheetCard); err != nil {
		return nil, fmt.Errorf("sheet %s: %w", SheetCard, err)
	}
	if _, err := f.NewSheet(SheetCardTrend); err != nil {
		return nil, fmt.Errorf("sheet %s: %w", SheetCardTrend, err)
	}
	st, err := newStyles(f)
	if err != nil {
		return nil, err
	}
	if err := writeCard(f, card, loc, st); err != nil {
		f.Close()
		return nil, err
	}
	if err := printSetup(f, SheetCard, true, true, MinPrintPoints); err != nil {
		f.Close()
		return nil, err
	}
	if err := printSetup(f, SheetCardTrend, true, false, 11); err != nil {
		f.Close()
		return nil, err
	}
	// The trend figures are the charts' source, not a page of the card: hidden (not
	// very hidden, so a reader can still show them), the card prints as its one page.
	if err := f.SetSheetVisible(SheetCardTrend, false); err != nil {
		f.Close()
		return nil, fmt.Errorf("sheet %s: %w", SheetCardTrend, err)
	}
	if err := f.SetDocProps(&excelize.DocProperties{
		Title:    "Thẻ báo cáo Chính phủ số / Digital government report card: " + card.Agency.NameVI,
		Creator:  "G-OC",
		Language: "vi-VN",
		Created:  card.GeneratedAt.UTC().Format(time.RFC3339),
	}); err != nil {
		f.Close()
		return nil, fmt.Errorf("document properties: %w", err)
	}
	return f, nil
}

// Widths of the card's columns, in points: the indicator column holds a name in both
// languages on one line (the longest catalogue name is 318 points at 8 pt), and the
// eight columns fill a landscape A4 page at 100%, so nothing on the card prints under
// MinPrintPoints.
var cardWidths = [cardCols]float64{372, 36, 36, 50, 72, 50, 72, 70}

// Row heights of the card, in points, for one and two lines of 8 pt type.
const (
	cardLine1 = 11.25
	cardLine2 = 21
)

// textPoints estimates how wide text prints in Carlito (Calibri's metrics) at size
// points: 0.42 em a character is a little over the catalogue names' average, so the
// estimate errs on the side of wrapping.
func textPoints(s string, size float64) float64 {
	return float64(len([]rune(s))) * 0.42 * size
}

// fitsLine reports whether text prints on one line in a column of width points.
func fitsLine(text string, width float64) bool { return textPoints(text, 8)+6 <= width }

// cardStyles are the card's own 8 pt cell formats: the card is the one sheet laid out
// to print at 100% on one page, so its type is the printed type.
type cardStyles struct {
	title, line, bold, warn, header, name, text, value, footnote, section int
	tone                                                                  [4]int
}

func newCardStyles(f *excelize.File) (*cardStyles, error) {
	border := []excelize.Border{
		{Type: "left", Color: "BFBFBF", Style: 1}, {Type: "right", Color: "BFBFBF", Style: 1},
		{Type: "top", Color: "BFBFBF", Style: 1}, {Type: "bottom", Color: "BFBFBF", Style: 1},
	}
	font := func(bold bool, color string) *excelize.Font {
		return &excelize.Font{Size: MinPrintPoints, Bold: bold, Color: color}
	}
	middle := &excelize.Alignment{Vertical: "center", WrapText: true}
	fill := func(c string) excelize.Fill { return excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{c}} }
	two := "0.00"
	cs := &cardStyles{}
	for _, d := range []struct {
		dst *int
		st  *excelize.Style
	}{
		{&cs.title, &excelize.Style{Font: &excelize.Font{Bold: true, Size: 13, Color: "1F3864"}}},
		{&cs.line, &excelize.Style{Font: font(false, "404040")}},
		{&cs.bold, &excelize.Style{Font: font(true, "000000")}},
		{&cs.warn, &excelize.Style{Font: font(true, "C00000")}},
		{&cs.header, &excelize.Style{Font: font(true, "FFFFFF"), Fill: fill("1F4E79"), Border: border,
			Alignment: &excelize.Alignment{Horizontal: "center", Vertical: "center", WrapText: true}}},
		{&cs.section, &excelize.Style{Font: font(true, "1F3864"), Fill: fill("DDEBF7"), Border: border, Alignment: middle}},
		{&cs.name, &excelize.Style{Font: font(false, "000000"), Border: border, Alignment: middle}},
		{&cs.text, &excelize.Style{Font: font(false, "000000"), Border: border, Alignment: middle}},
		{&cs.value, &excelize.Style{Font: font(false, "000000"), Border: border, Alignment: &excelize.Alignment{Vertical: "center"}, CustomNumFmt: &two}},
		{&cs.footnote, &excelize.Style{Font: &excelize.Font{Size: MinPrintPoints, Italic: true, Color: "404040"}, Alignment: &excelize.Alignment{Vertical: "top", WrapText: true}}},
		{&cs.tone[0], &excelize.Style{Font: font(false, "000000"), Border: border, Alignment: middle}},
		{&cs.tone[1], &excelize.Style{Font: font(false, "006100"), Fill: fill("C6EFCE"), Border: border, Alignment: middle}},
		{&cs.tone[2], &excelize.Style{Font: font(false, "9C5700"), Fill: fill("FFEB9C"), Border: border, Alignment: middle}},
		{&cs.tone[3], &excelize.Style{Font: font(false, "9C0006"), Fill: fill("FFC7CE"), Border: border, Alignment: middle}},
	} {
		id, err := f.NewStyle(calibri(d.st))
		if err != nil {
			return nil, fmt.Errorf("card style: %w", err)
		}
		*d.dst = id
	}
	return cs, nil
}

func writeCard(f *excelize.File, card *query.Card, loc *time.Location, st *styles) error {
	cs, err := newCardStyles(f)
	if err != nil {
		return err
	}
	a := card.Agency
	w := &sheetWriter{f: f, sheet: SheetCard}
	for i, pt := range cardWidths {
		w.width(i+1, i+1, (pt/0.75-5)/7)
	}
	w.set(1, 1, "THẺ BÁO CÁO CHÍNH PHỦ SỐ / DIGITAL GOVERNMENT REPORT CARD", cs.line)
	w.set(1, 2, fmt.Sprintf("%s (%s)", a.NameVI, a.Code), cs.title)
	w.set(1, 3, fmt.Sprintf("%s — %s · số liệu nhận đến / data cut-off: %s · lập lúc / generated: %s",
		a.NameEN, kindLabel(a.Kind), cutoffText(card.DataCutoff, loc), formatTime(card.GeneratedAt, loc)), cs.line)
	if hasDemo(card.Sources) {
		// Beside the agency's name, where the title leaves room: a line saved.
		w.set(2, 2, demoNote, cs.warn)
	}
	w.set(1, 4, rankText(card.Rank), cs.bold)
	w.height(1, cardLine1)
	w.height(2, 16)
	for r := 3; r <= 4; r++ {
		w.height(r, cardLine1)
	}
	for i, h := range []string{"Chỉ tiêu / Indicator", "Kỳ\nPeriod", "Giá trị\nLatest", "Mục tiêu\n2025 target", "Tình trạng 2025\n2025 status", "Mục tiêu\n2030 target", "Tình trạng 2030\n2030 status", "Xu hướng năm\nYearly trend"} {
		w.set(i+1, cardHeaderRow, h, cs.header)
	}
	w.height(cardHeaderRow, cardLine2)

	// The trend sheet holds one row per indicator, one column per year, for the charts.
	firstYear, lastYear := 0, 0
	for _, ci := range card.Indicators {
		for _, p := range ci.Trend {
			if firstYear == 0 || p.Period.Year < firstYear {
				firstYear = p.Period.Year
			}
			lastYear = max(lastYear, p.Period.Year)
		}
	}
	tw := &sheetWriter{f: f, sheet: SheetCardTrend}
	tw.set(1, 1, "Mã / Code", st.header)
	tw.set(2, 1, "Chỉ tiêu / Indicator", st.header)
	tw.width(2, 2, 40)
	for y := firstYear; firstYear > 0 && y <= lastYear; y++ {
		tw.set(3+y-firstYear, 1, y, st.header)
	}

	// The portal indicators (monthly, from probe history or the demo's sample) come last,
	// under a sub-heading of their own: the card's portal section.
	var main, portal []int
	for i, ci := range card.Indicators {
		if strings.HasPrefix(ci.Code, "portal_") {
			portal = append(portal, i)
		} else {
			main = append(main, i)
		}
	}
	// The portal section's heading says whether there are probe results: one line.
	probes := fmt.Sprintf("giám sát / probes %s đến / to %s", card.UptimeFrom.In(loc).Format("2006-01-02"), card.UptimeTo.In(loc).Format("2006-01-02"))
	switch {
	case !card.ProbesAvailable:
		probes += ": kho dữ liệu không lưu kết quả giám sát / the store keeps no probe results: no probe data"
	case len(card.Portals) == 0:
		probes += ": chưa có dữ liệu giám sát cổng thông tin của đơn vị này / no probe data for this agency's portals"
	}
	section := func(row int, text string) {
		w.set(1, row, text, cs.section)
		for c := 2; c <= cardCols; c++ {
			w.set(c, row, nil, cs.section)
		}
		w.merge(1, row, cardCols, row)
		w.height(row, cardLine1)
	}
	row := CardFirstRow
	portalTop := 0
	for n, i := range append(main, portal...) {
		ci := card.Indicators[i]
		if n == len(main) {
			portalTop = row
			section(row, "Cổng thông tin / Portals — chỉ tiêu theo tháng / monthly indicators · "+probes)
			row++
		}
		if w.writeCardIndicator(f, card, ci, i, row, firstYear, lastYear, cs, st); w.err != nil {
			return w.err
		}
		tw.set(1, i+2, ci.Code, 0)
		tw.set(2, i+2, ci.NameVI, 0)
		for _, p := range ci.Trend {
			tw.set(3+p.Period.Year-firstYear, i+2, p.Value, st.value)
		}
		if tw.err != nil {
			return tw.err
		}
		row++
	}
	lastInd := max(row-1, CardFirstRow)
	if portalTop == 0 {
		portalTop = row
		section(row, "Cổng thông tin / Portals — "+probes)
		row++
	}
	// The probed portals: the address and its state (with the error when it is down) in
	// the wide first column, the last probe across the two narrow ones, so that nothing
	// is clipped or wraps into its neighbour when printed.
	if len(card.Portals) > 0 {
		for i, h := range []string{"Cổng / Portal — trạng thái / state", "Lần đo cuối\nLast probe", "", "Hoạt động\nUptime", "Số lần đo\nProbes", "Phản hồi TV\nMedian (s)", "Hết hạn TLS\nTLS expiry", "IPv6 · DNSSEC"} {
			w.set(i+1, row, h, cs.header)
		}
		w.merge(2, row, 3, row)
		w.height(row, cardLine2)
		row++
	}
	percent, integer := 9, 1
	pct, err := f.NewStyle(calibri(&excelize.Style{Font: &excelize.Font{Size: MinPrintPoints}, NumFmt: percent, Border: []excelize.Border{{Type: "bottom", Color: "BFBFBF", Style: 1}}}))
	if err != nil {
		return fmt.Errorf("card style: %w", err)
	}
	cnt, err := f.NewStyle(calibri(&excelize.Style{Font: &excelize.Font{Size: MinPrintPoints}, NumFmt: integer, Border: []excelize.Border{{Type: "bottom", Color: "BFBFBF", Style: 1}}}))
	if err != nil {
		return fmt.Errorf("card style: %w", err)
	}
	for _, p := range card.Portals {
		lines := 1
		state, tone := p.Target+" — hoạt động / up", 1
		if !p.Latest.Success {
			state, tone = p.Target+" — không truy cập được / down", 3
			if p.Latest.Error != "" {
				state += "\n" + p.Latest.Error
				lines = 2
			}
		}
		w.set(1, row, state, cs.tone[tone])
		w.set(2, row, p.Latest.Time.In(loc).Format("2006-01-02 15:04"), cs.text)
		w.set(3, row, nil, cs.text)
		w.merge(2, row, 3, row)
		if p.Uptime != nil {
			w.set(4, row, *p.Uptime/100, pct)
		} else {
			w.set(4, row, nil, pct)
		}
		w.set(5, row, p.Probes, cnt)
		w.set(6, row, ptrOrNil(p.MedianSeconds), cs.value)
		expiry := "—"
		if !p.Latest.CertExpiry.IsZero() {
			expiry = p.Latest.CertExpiry.In(loc).Format("2006-01-02")
		}
		w.set(7, row, expiry, cs.text)
		dnssec := p.Latest.DNSSEC
		if dnssec == "" {
			dnssec = "—"
		}
		v6 := "IPv6 " + yesNo(p.Latest.IPv6)
		net := v6 + " · " + dnssec
		if !fitsLine(net, cardWidths[7]) {
			net, lines = v6+"\n"+dnssec, 2
		}
		w.set(8, row, net, cs.text)
		if lines == 2 {
			w.height(row, cardLine2)
		} else {
			w.height(row, cardLine1)
		}
		row++
	}
	portalEnd := row - 1
	w.set(1, row, "Tình trạng theo phương pháp tiến độ của Thống kê Liên Hợp Quốc (2023); màu giá trị: xanh đạt mục tiêu 2030, vàng đạt 2025, đỏ chưa đạt. "+
		"Status by the UN Statistics Division's 2023 progress method; value colour: green meets the 2030 target, amber 2025, red neither.", cs.footnote)
	w.merge(1, row, cardCols, row)
	w.height(row, cardLine2)
	if w.err != nil {
		return w.err
	}
	// A card too tall for one page at 100% goes on to a second rather than shrinking
	// (printSetup); the break goes before the portal section, so that its heading, its
	// indicators and its table print together.
	if h, err := sheetHeightPoints(f, SheetCard); err != nil {
		return err
	} else if h*1.01 > printShort && portalTop > CardFirstRow {
		if err := f.InsertPageBreak(SheetCard, cell(1, portalTop)); err != nil {
			return fmt.Errorf("card page break: %w", err)
		}
	}
	for _, d := range []struct{ n, ref, c string }{
		{NameCardTable, absRange(SheetCard, 1, cardHeaderRow, cardCols, lastInd), "chỉ tiêu / indicators"},
		{NameTrendData, absRange(SheetCardTrend, 1, 1, max(3, 3+lastYear-firstYear), max(2, len(card.Indicators)+1)), "số liệu xu hướng / trend data"},
		{NamePortals, absRange(SheetCard, 1, portalTop, cardCols, max(portalEnd, portalTop+1)), "cổng thông tin / portals"},
	} {
		if err := name(f, d.n, d.ref, d.c); err != nil {
			return err
		}
	}
	return nil
}

// writeCardIndicator writes one indicator's row of the card: its names in both languages,
// its latest value against the 2025 and 2030 targets, and its yearly trend chart. The
// row takes one line when the names and statuses fit on one, else two.
func (w *sheetWriter) writeCardIndicator(f *excelize.File, card *query.Card, ci query.CardIndicator, i, row, firstYear, lastYear int, cs *cardStyles, st *styles) {
	name := ci.NameVI + " / " + ci.NameEN
	lines := 1
	if !fitsLine(name, cardWidths[CardColIndicator-1]) {
		name, lines = ci.NameVI+"\n"+ci.NameEN, 2
	}
	w.set(CardColIndicator, row, name, cs.name)
	if ci.Latest != nil {
		w.set(CardColPeriod, row, ci.Latest.Period.String(), cs.text)
		w.set(CardColLatest, row, ci.Latest.Value, cs.value)
	} else {
		w.set(CardColPeriod, row, "—", cs.text)
		w.set(CardColLatest, row, nil, cs.value)
	}
	noTarget := ci.Progress2025.Target == nil && ci.Progress2030.Target == nil
	for j, pr := range []query.ProgressReport{ci.Progress2025, ci.Progress2030} {
		tcol := CardColTarget2025 + 2*j
		if pr.Target != nil {
			w.set(tcol, row, pr.Target.Value, cs.value)
		} else {
			w.set(tcol, row, nil, cs.value)
		}
		w.set(tcol+1, row, StatusLabel(pr.Status), cs.tone[statusTone(pr.Status)])
		if !noTarget && !fitsLine(StatusLabel(pr.Status), cardWidths[tcol]) {
			lines = 2
		}
	}
	if noTarget && ci.Progress2025.Status == ci.Progress2030.Status {
		// Neither target exists: one statement across the four target columns.
		w.set(CardColTarget2025, row, StatusLabel(ci.Progress2025.Status), cs.tone[0])
		w.merge(CardColTarget2025, row, CardColStatus2030, row)
	}
	w.set(CardColTrend, row, nil, cs.text)
	height := cardLine1
	if lines == 2 {
		height = cardLine2
	}
	w.height(row, height)
	if w.err != nil {
		return
	}
	if firstYear > 0 && len(ci.Trend) > 0 {
		// A small line chart rather than a sparkline: LibreOffice draws sparklines as
		// loose markers, and a chart prints the same in every office suite. Sized in
		// pixels to sit inside its cell.
		w.do(f.AddChart(SheetCard, cell(CardColTrend, row), &excelize.Chart{
			Type: excelize.Line,
			Series: []excelize.ChartSeries{{
				Name:       absRange(SheetCardTrend, 1, i+2, 1, i+2),
				Categories: absRange(SheetCardTrend, 3, 1, 3+lastYear-firstYear, 1),
				Values:     absRange(SheetCardTrend, 3, i+2, 3+lastYear-firstYear, i+2),
				Line:       excelize.LineOptions{Width: 1, Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"1F4E79"}}},
				Marker:     excelize.ChartMarker{Symbol: "circle", Size: 2},
			}},
			Dimension:    excelize.ChartDimension{Width: uint(cardWidths[CardColTrend-1]/0.75) - 4, Height: uint(height/0.75) - 3},
			Legend:       excelize.ChartLegend{Position: "none"},
			XAxis:        excelize.ChartAxis{None: true},
			YAxis:        excelize.ChartAxis{None: true},
			ShowBlanksAs: "gap",
			Format:       excelize.GraphicOptions{OffsetX: 2, OffsetY: 1, AltText: "Xu hướng / trend: " + ci.NameEN},
		}))
	}
	ref := cell(CardColLatest, row)
	w.do(trafficLight(f, SheetCard, ref+":"+ref, ref, ci.Direction, ci.Progress2025.Target, ci.Progress2030.Target, st))
}

func yesNo(b bool) string {
	if b {
		return "có / yes"
	}
	return "không / no"
}

func rankText(r *query.CardRank) string {
	if r == nil {
		return "Không thuộc nhóm xếp hạng / not in a ranked peer group"
	}
	g := r.Group
	if r.Rank == 0 {
		return fmt.Sprintf("Xếp hạng %s (%s): không xếp hạng, thiếu số liệu / ranking %s (%s): not ranked, too much data missing", r.Period, g.NameVI(), r.Period, g.NameEN())
	}
	change := ""
	if r.Change != nil {
		switch c := *r.Change; {
		case c > 0:
			change = fmt.Sprintf(" (▲%d so với / from %s)", c, r.PreviousPeriod)
		case c < 0:
			change = fmt.Sprintf(" (▼%d so với / from %s)", -c, r.PreviousPeriod)
		default:
			change = fmt.Sprintf(" (= so với / from %s)", r.PreviousPeriod)
		}
	}
	score := ""
	if r.Score != nil {
		score = fmt.Sprintf(", điểm / score %.3f", *r.Score)
	}
	return fmt.Sprintf("Xếp hạng / rank %s: %d/%d — %s / %s%s%s", r.Period, r.Rank, r.Ranked, g.NameVI(), g.NameEN(), change, score)
}
