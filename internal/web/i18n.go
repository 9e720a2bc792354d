package web

import (
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Lang is the language a page is shown in: Vietnamese by default, English when the
// reader chose it with the toggle (kept in the langCookie cookie).
type Lang string

// The two languages of every page.
const (
	Vietnamese Lang = "vi"
	English    Lang = "en"
)

// langCookie keeps the reader's language between pages; it holds "vi" or "en".
const langCookie = "goc_lang"

// langOf reads the reader's language from the cookie; Vietnamese unless it says "en".
func langOf(r *http.Request) Lang {
	if c, err := r.Cookie(langCookie); err == nil && c.Value == string(English) {
		return English
	}
	return Vietnamese
}

// Other is the language the toggle switches to.
func (l Lang) Other() Lang {
	if l == English {
		return Vietnamese
	}
	return English
}

// T is the label for key in l. A key missing from the table shows as "??key" so a
// test (and a reader) sees it at once instead of an empty label.
func (l Lang) T(key string) string {
	m, ok := messages[key]
	if !ok {
		return "??" + key
	}
	if l == English {
		return m.en
	}
	return m.vi
}

// Pick chooses between a Vietnamese and an English text (catalogue and registry names);
// the Vietnamese one when the English is empty.
func (l Lang) Pick(vi, en string) string {
	if l == English && en != "" {
		return en
	}
	return vi
}

// Num formats v with the given decimals in l's convention: 1.234,5 in Vietnamese,
// 1,234.5 in English. The figure is the API's, rounded for reading only.
func (l Lang) Num(v float64, decimals int) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "–"
	}
	s := strconv.FormatFloat(v, 'f', decimals, 64)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	intPart, frac, _ := strings.Cut(s, ".")
	thousands, decimal := ",", "."
	if l != English {
		thousands, decimal = ".", ","
	}
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteString(thousands)
		}
		b.WriteRune(c)
	}
	if frac != "" {
		b.WriteString(decimal)
		b.WriteString(frac)
	}
	return b.String()
}

// NumP formats an optional figure; a dash when there is none.
func (l Lang) NumP(v *float64, decimals int) string {
	if v == nil {
		return "–"
	}
	return l.Num(*v, decimals)
}

// Date formats a day as 06/12/2026 (Vietnamese) or 2026-12-06 (English).
func (l Lang) Date(t time.Time) string {
	if t.IsZero() {
		return "–"
	}
	if l == English {
		return t.Format("2006-01-02")
	}
	return t.Format("02/01/2006")
}

// DateTime formats a moment to the minute, in the time zone t carries.
func (l Lang) DateTime(t time.Time) string {
	if t.IsZero() {
		return "–"
	}
	if l == English {
		return t.Format("2006-01-02 15:04 MST")
	}
	return t.Format("15:04 02/01/2006 MST")
}

// msg is one label in both languages.
type msg struct{ vi, en string }

// messages is every fixed label of the pages, Vietnamese first. Pages name a key; data
// (indicator and agency names) comes from the catalogue and registry in both languages.
var messages = map[string]msg{
	"site.name":      {"G-OC · Giám sát Chính phủ số quốc gia", "G-OC · National digital-government monitor"},
	"site.short":     {"G-OC", "G-OC"},
	"skip":           {"Bỏ qua, đến nội dung chính", "Skip to main content"},
	"nav.label":      {"Điều hướng chính", "Main navigation"},
	"nav.scoreboard": {"Bảng tổng hợp", "Scoreboard"},
	"nav.rankings":   {"Xếp hạng", "Rankings"},
	"nav.status":     {"Trạng thái cổng", "Portal status"},
	"nav.api":        {"API", "API"},
	"lang.switch":    {"English", "Tiếng Việt"},
	"lang.switch.label": {
		"Chuyển sang tiếng Anh", "Switch to Vietnamese"},
	"footer.about": {
		"G-OC là phần mềm nguồn mở. Số liệu công khai là số liệu đã được duyệt.",
		"G-OC is open-source software. Public figures are approved figures."},
	"footer.api": {"Cùng số liệu dạng JSON", "The same figures as JSON"},

	"error.title":    {"Không tìm thấy trang", "Page not found"},
	"error.bad":      {"Yêu cầu không hợp lệ", "Invalid request"},
	"error.store":    {"Tạm thời không đọc được dữ liệu", "Data cannot be read right now"},
	"error.home":     {"Về bảng tổng hợp", "Back to the scoreboard"},
	"error.notfound": {"Không có trang nào ở địa chỉ này.", "There is no page at this address."},

	"scoreboard.title": {"Bảng tổng hợp quốc gia", "National scoreboard"},
	"scoreboard.lead": {
		"Tiến độ thực hiện các mục tiêu Chính phủ số năm 2025 và 2030, theo từng khoản của Nghị quyết.",
		"Progress toward the 2025 and 2030 digital-government targets, clause by clause."},
	"scoreboard.group.a": {"Mục tiêu đến năm 2025", "Targets for 2025"},
	"scoreboard.group.b": {"Mục tiêu đến năm 2030", "Targets for 2030"},
	"col.clause":         {"Khoản", "Clause"},
	"col.indicator":      {"Chỉ tiêu", "Indicator"},
	"col.level":          {"Cấp", "Level"},
	"col.value":          {"Giá trị toàn quốc", "National value"},
	"col.target":         {"Mục tiêu", "Target"},
	"col.gap":            {"Còn thiếu", "Gap"},
	"col.status":         {"Tình trạng", "Status"},
	"col.trend":          {"Xu hướng", "Trend"},
	"col.period":         {"Kỳ số liệu", "Period"},
	"col.updated":        {"Cập nhật", "Updated"},
	"col.reported":       {"Đơn vị báo cáo", "Agencies reported"},
	"summary.label":      {"Tóm tắt", "Summary"},

	"status.achieved":           {"Đã đạt", "Achieved"},
	"status.on_track":           {"Đúng tiến độ", "On track"},
	"status.needs_acceleration": {"Cần tăng tốc", "Needs acceleration"},
	"status.stagnating":         {"Chững lại", "Stagnating"},
	"status.regressing":         {"Đi xuống", "Regressing"},
	"status.insufficient_data":  {"Chưa đủ số liệu", "Insufficient data"},
	"status.no_target":          {"Không có mục tiêu", "No target"},

	"level.all":      {"Mọi cấp", "All levels"},
	"level.national": {"Quốc gia", "National"},
	"level.ministry": {"Bộ, ngành", "Ministries"},
	"level.province": {"Tỉnh", "Provinces"},
	"level.district": {"Huyện", "Districts"},
	"level.commune":  {"Xã", "Communes"},
	"trend.none":     {"Chưa có xu hướng", "No trend yet"},
	"trend.label":    {"Xu hướng theo năm", "Yearly trend"},
	"nodata":         {"Chưa có số liệu", "No data yet"},
}
