package reports

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/internal/query"
)

// Sheets of the report card.
const (
	SheetCard      = "Thẻ báo cáo - Card"
	SheetCardTrend = "Xu hướng - Trend data"
)

// Layout of the card sheet.
const (
	cardHeaderRow = 7
	// CardFirstRow is the first indicator's row on the card sheet.
	CardFirstRow = 8
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
	if err := printSetup(f, SheetCard, false, true, 9); err != nil {
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

func writeCard(f *excelize.File, card *query.Card, loc *time.Location, st *styles) error {
	a := card.Agency
	w := &sheetWriter{f: f, sheet: SheetCard}
	w.width(CardColIndicator, CardColIndicator, 44)
	w.width(CardColPeriod, CardColPeriod, 9)
	w.width(CardColLatest, CardColLatest, 10)
	w.width(CardColTarget2025, CardColTarget2025, 9)
	w.width(CardColStatus2025, CardColStatus2025, 16)
	w.width(CardColTarget2030, CardColTarget2030, 9)
	w.width(CardColStatus2030, CardColStatus2030, 16)
	w.width(CardColTrend, CardColTrend, 18)
	w.set(1, 1, "THẺ BÁO CÁO CHÍNH PHỦ SỐ / DIGITAL GOVERNMENT REPORT CARD", st.subtitle)
	w.set(1, 2, fmt.Sprintf("%s (%s)", a.NameVI, a.Code), st.title)
	w.set(1, 3, fmt.Sprintf("%s — %s", a.NameEN, kindLabel(a.Kind)), st.subtitle)
	w.set(1, 4, fmt.Sprintf("Số liệu nhận đến / data cut-off: %s · lập lúc / generated: %s", cutoffText(card.DataCutoff, loc), formatTime(card.GeneratedAt, loc)), st.subtitle)
	w.set(1, 5, rankText(card.Rank), st.bold)
	if hasDemo(card.Sources) {
		w.set(1, 6, demoNote, st.warn)
	}
	for i, h := range []string{"Chỉ tiêu / Indicator", "Kỳ\nPeriod", "Giá trị\nLatest", "Mục tiêu 2025\nTarget", "Tình trạng 2025\nStatus", "Mục tiêu 2030\nTarget", "Tình trạng 2030\nStatus", "Xu hướng theo năm\nYearly trend"} {
		w.set(i+1, cardHeaderRow, h, st.header)
	}
	w.height(cardHeaderRow, 40)

	// The trend sheet holds one row per indicator, one column per year, for the sparklines.
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

	for i, ci := range card.Indicators {
		row := CardFirstRow + i
		w.set(CardColIndicator, row, ci.NameVI+"\n"+ci.NameEN, st.small)
		w.height(row, 40)
		if ci.Latest != nil {
			w.set(CardColPeriod, row, ci.Latest.Period.String(), st.text)
			w.set(CardColLatest, row, ci.Latest.Value, st.value)
		} else {
			w.set(CardColPeriod, row, "—", st.text)
			w.set(CardColLatest, row, nil, st.value)
		}
		for j, pr := range []query.ProgressReport{ci.Progress2025, ci.Progress2030} {
			tcol := CardColTarget2025 + 2*j
			if pr.Target != nil {
				w.set(tcol, row, pr.Target.Value, st.value)
			} else {
				w.set(tcol, row, nil, st.value)
			}
			w.set(tcol+1, row, StatusLabel(pr.Status), st.tone[statusTone(pr.Status)])
		}
		w.set(CardColTrend, row, nil, st.text)
		tw.set(1, i+2, ci.Code, 0)
		tw.set(2, i+2, ci.NameVI, 0)
		for _, p := range ci.Trend {
			tw.set(3+p.Period.Year-firstYear, i+2, p.Value, st.value)
		}
		if w.err != nil || tw.err != nil {
			break
		}
		if firstYear > 0 && len(ci.Trend) > 0 {
			// A small line chart rather than a sparkline: LibreOffice draws sparklines as
			// loose markers, and a chart prints the same in every office suite.
			w.do(f.AddChart(SheetCard, cell(CardColTrend, row), &excelize.Chart{
				Type: excelize.Line,
				Series: []excelize.ChartSeries{{
					Name:       absRange(SheetCardTrend, 1, i+2, 1, i+2),
					Categories: absRange(SheetCardTrend, 3, 1, 3+lastYear-firstYear, 1),
					Values:     absRange(SheetCardTrend, 3, i+2, 3+lastYear-firstYear, i+2),
					Line:       excelize.LineOptions{Width: 1.25, Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"1F4E79"}}},
					Marker:     excelize.ChartMarker{Symbol: "circle", Size: 3},
				}},
				Dimension:    excelize.ChartDimension{Width: 124, Height: 52},
				Legend:       excelize.ChartLegend{Position: "none"},
				XAxis:        excelize.ChartAxis{None: true},
				YAxis:        excelize.ChartAxis{None: true},
				ShowBlanksAs: "gap",
				Format:       excelize.GraphicOptions{OffsetX: 2, OffsetY: 2, AltText: "Xu hướng / trend: " + ci.NameEN},
			}))
		}
		var t2025, t2030 *indicators.Target
		if ci.Progress2025.Target != nil {
			t2025 = ci.Progress2025.Target
		}
		if ci.Progress2030.Target != nil {
			t2030 = ci.Progress2030.Target
		}
		ref := cell(CardColLatest, row)
		w.do(trafficLight(f, SheetCard, ref+":"+ref, ref, ci.Direction, t2025, t2030, st))
	}
	if w.err != nil {
		return w.err
	}
	if tw.err != nil {
		return tw.err
	}
	lastInd := CardFirstRow + max(len(card.Indicators), 1) - 1

	row := lastInd + 2
	w.set(1, row, fmt.Sprintf("Cổng thông tin — %s đến %s / Portals, %s to %s",
		card.UptimeFrom.In(loc).Format("2006-01-02"), card.UptimeTo.In(loc).Format("2006-01-02"),
		card.UptimeFrom.In(loc).Format("2006-01-02"), card.UptimeTo.In(loc).Format("2006-01-02")), st.bold)
	row++
	portalTop := row
	for i, h := range []string{"Cổng / Portal", "Lần đo cuối\nLast probe", "Trạng thái\nState", "Hoạt động\nUptime", "Số lần đo\nProbes", "Phản hồi TV (s)\nMedian (s)", "Hết hạn TLS\nTLS expiry", "IPv6 / DNSSEC"} {
		w.set(i+1, row, h, st.header)
	}
	w.height(row, 40)
	if len(card.Portals) == 0 {
		row++
		msg := "Chưa có dữ liệu giám sát cổng thông tin của đơn vị này / no probe data for this agency's portals"
		if !card.ProbesAvailable {
			msg = "Kho dữ liệu không lưu kết quả giám sát / the store keeps no probe results: no probe data"
		}
		w.set(1, row, msg, st.note)
		w.merge(1, row, cardCols, row)
		// The monthly portal indicators (written from probe history, or the demo's
		// sample) still say how the portals did: the section shows what it has.
		for _, ci := range card.Indicators {
			if !strings.HasPrefix(ci.Code, "portal_") || ci.Latest == nil {
				continue
			}
			row++
			unit := "%"
			if ci.Unit == indicators.Seconds {
				unit = " s"
			}
			w.set(1, row, fmt.Sprintf("%s / %s: %s%s (%s)", ci.NameVI, ci.NameEN,
				strconv.FormatFloat(ci.Latest.Value, 'f', -1, 64), unit, ci.Latest.Period), st.small)
			w.merge(1, row, cardCols, row)
		}
	}
	for _, p := range card.Portals {
		row++
		w.set(1, row, p.Target, st.small)
		w.set(2, row, formatTime(p.Latest.Time, loc), st.small)
		state, tone := "Hoạt động / up", 1
		if !p.Latest.Success {
			state, tone = "Không truy cập được / down", 3
			if p.Latest.Error != "" {
				state += ": " + p.Latest.Error
			}
		}
		w.set(3, row, state, st.tone[tone])
		if p.Uptime != nil {
			w.set(4, row, *p.Uptime/100, st.percent0)
		} else {
			w.set(4, row, nil, st.percent0)
		}
		w.set(5, row, p.Probes, st.integer)
		w.set(6, row, ptrOrNil(p.MedianSeconds), st.value)
		expiry := "—"
		if !p.Latest.CertExpiry.IsZero() {
			expiry = p.Latest.CertExpiry.In(loc).Format("2006-01-02")
		}
		w.set(7, row, expiry, st.small)
		dnssec := p.Latest.DNSSEC
		if dnssec == "" {
			dnssec = "—"
		}
		w.set(8, row, fmt.Sprintf("IPv6 %s · DNSSEC %s", yesNo(p.Latest.IPv6), dnssec), st.small)
	}
	portalEnd := row
	row += 2
	w.set(1, row, "Tình trạng theo phương pháp đánh giá tiến độ của Cơ quan Thống kê Liên Hợp Quốc (2023); màu giá trị: xanh đạt mục tiêu 2030, vàng đạt mục tiêu 2025, đỏ chưa đạt. "+
		"Status by the UN Statistics Division's 2023 progress method; value colour: green meets the 2030 target, amber 2025, red neither.", st.note)
	w.merge(1, row, cardCols, row)
	w.height(row, 30)
	if w.err != nil {
		return w.err
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
