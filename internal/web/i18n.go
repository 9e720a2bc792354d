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
		if m, ok = portalMessages[key]; !ok {
			return "??" + key
		}
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

// Num formats v with the given decimals (-1: as few as show v exactly) in l's
// convention: 1.234,5 in Vietnamese, 1,234.5 in English.
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
	"col.agency":     {"Đơn vị", "Agency"},
	"col.rank":       {"Hạng", "Rank"},
	"col.latest":     {"Giá trị mới nhất", "Latest value"},
	"col.score":      {"Điểm", "Score"},
	"col.change":     {"Thay đổi", "Change"},
	"col.coverage":   {"Độ phủ số liệu", "Coverage"},
	"col.uptime24":   {"Hoạt động 24 giờ", "Uptime 24 h"},
	"col.uptime7":    {"Hoạt động 7 ngày", "Uptime 7 d"},
	"col.uptime30":   {"Hoạt động 30 ngày", "Uptime 30 d"},
	"col.latency":    {"Thời gian phản hồi (trung vị 24 giờ)", "Median latency (24 h)"},
	"col.cert":       {"Số ngày chứng thư số còn hạn", "Days until certificate expiry"},
	"col.readiness":  {"Mức sẵn sàng", "Readiness"},
	"filter.all":     {"Tất cả", "All"},
	"filter.apply":   {"Lọc", "Apply"},
	"change.up":      {"tăng %d bậc", "up %d"},
	"change.down":    {"giảm %d bậc", "down %d"},
	"change.same":    {"giữ nguyên", "no change"},
	"rank.none":      {"chưa xếp hạng", "not ranked"},

	"indicator.chart":      {"Giá trị toàn quốc theo thời gian, với các đường mục tiêu", "National value over time, with the target lines"},
	"indicator.chart.note": {"Các số liệu của biểu đồ có trong bảng dưới đây và trong API.", "The chart's figures are in the tables below and in the API."},
	"indicator.year":       {"Năm mục tiêu", "Target year"},
	"indicator.capped":     {"Bảng chỉ liệt kê các đơn vị đứng đầu:", "The table lists the leading agencies only:"},
	"method.title":         {"Cách tính", "How it is computed"},
	"method.progress": {
		"Tình trạng theo phương pháp biểu đồ tiến độ của Cục Thống kê Liên Hợp Quốc (2023): từ giá trị gốc và giá trị mới nhất, tính tốc độ tăng trưởng bình quân hằng năm, dự báo giá trị vào năm mục tiêu và so với mục tiêu. Đạt từ 95% quãng đường trở lên là đúng tiến độ; từ 10% đến 95% là cần tăng tốc; dưới 10% là chững lại; đi ngược lại là đi xuống. Cần ít nhất hai năm có số liệu.",
		"Status follows the UN Statistics Division's progress chart (2023): the yearly growth rate from the baseline to the latest value projects the value in the target year, which is compared with the target. Covering 95% of the way or more is on track; 10% to 95% needs acceleration; under 10% is stagnating; moving away is regressing. At least two years of data are needed."},
	"method.rank": {
		"Hạng theo giá trị mới nhất trong cùng cấp, tốt nhất trước theo chiều của chỉ tiêu; các giá trị bằng nhau cùng hạng (1, 2, 2, 4).",
		"Ranks are by latest value within a level, best first in the indicator's direction; equal values share a rank (1, 2, 2, 4)."},
	"method.provenance": {
		"Bấm vào một giá trị để xem các bản ghi số liệu đã lưu tạo nên nó: nguồn, người gửi, thời điểm và số lần sửa.",
		"Select a value to see the stored observations behind it: source, sender, time and revision."},
	"aggregation.ratio": {
		"Giá trị của một đơn vị cấp trên là tỷ lệ của tổng tử số trên tổng mẫu số của các đơn vị cấp dưới, không phải trung bình các tỷ lệ.",
		"A parent's value is the ratio of the sums of its units' numerators and denominators, not a mean of their ratios."},
	"aggregation.mean":          {"Giá trị của đơn vị cấp trên là trung bình cộng giá trị của các đơn vị cấp dưới.", "A parent's value is the mean of its units' values."},
	"aggregation.weighted_mean": {"Giá trị của đơn vị cấp trên là trung bình có trọng số (theo mẫu số) của các đơn vị cấp dưới.", "A parent's value is the mean of its units' values weighted by their denominators."},
	"aggregation.sum":           {"Giá trị của đơn vị cấp trên là tổng giá trị của các đơn vị cấp dưới.", "A parent's value is the sum of its units' values."},
	"aggregation.none":          {"Chỉ tiêu này chỉ có một giá trị quốc gia, không tổng hợp từ cấp dưới.", "This indicator has one national value; it does not roll up."},

	"obs.title":     {"Số liệu gốc", "Observations behind the figure"},
	"obs.lead":      {"Mọi bản ghi đã lưu của kỳ này, kể cả các lần sửa, với nguồn và người gửi.", "Every stored revision for this period, with its source and sender."},
	"obs.source":    {"Nguồn", "Source"},
	"obs.submitter": {"Người gửi", "Submitted by"},
	"obs.revision":  {"Lần sửa", "Revision"},
	"obs.received":  {"Thời điểm nhận", "Received"},

	"agency.kind":             {"Loại đơn vị", "Kind"},
	"agency.parent":           {"Trực thuộc", "Part of"},
	"agency.rank":             {"Xếp hạng", "Rank"},
	"agency.until":            {"Hoạt động đến", "Existed until"},
	"agency.merger":           {"Sáp nhập năm 2025", "The 2025 merger"},
	"agency.predecessors":     {"Hình thành từ", "Formed from"},
	"agency.successors":       {"Đã sáp nhập vào", "Merged into"},
	"agency.workbook":         {"Tải phiếu đánh giá (Excel)", "Download the report card (Excel)"},
	"agency.indicators":       {"Các chỉ tiêu", "Indicators"},
	"agency.indicators.short": {"chỉ tiêu", "indicators"},
	"agency.completeness":     {"Mức đầy đủ của báo cáo", "Reporting completeness"},
	"agency.portals":          {"Cổng thông tin", "Portals"},
	"agency.noportals":        {"Chưa có kết quả đo cổng thông tin nào của đơn vị.", "No portal of this agency has been probed yet."},
	"report.on_time":          {"Đúng hạn", "On time"},
	"report.late":             {"Trễ hạn", "Late"},
	"report.missing":          {"Chưa nộp", "Missing"},
	"report.pending":          {"Chưa đến hạn", "Not yet due"},
	"report.not_expected":     {"không phải báo cáo", "not expected"},
	"kind.national":           {"Quốc gia", "Country"},
	"kind.ministry":           {"Bộ", "Ministry"},
	"kind.ministerial_agency": {"Cơ quan ngang bộ", "Ministerial agency"},
	"kind.government_agency":  {"Cơ quan thuộc Chính phủ", "Government agency"},
	"kind.province":           {"Tỉnh, thành phố", "Province"},
	"kind.district":           {"Huyện", "District"},
	"kind.commune":            {"Xã", "Commune"},

	"rankings.title":    {"Xếp hạng", "Rankings"},
	"rankings.lead":     {"Chỉ số tổng hợp 0–100 của mỗi nhóm đơn vị cùng loại, hạng và thay đổi so với kỳ trước.", "The composite index (0–100) of each peer group, with ranks and the change since the previous period."},
	"rankings.group":    {"Nhóm", "Group"},
	"rankings.ranked":   {"được xếp hạng", "ranked"},
	"rankings.workbook": {"Tải bảng xếp hạng (Excel)", "Download the ranking workbook (Excel)"},
	"rankings.running":  {"Kỳ chưa kết thúc: số liệu tính đến nay.", "The period is still running: figures to date."},
	"rankings.note": {
		"Chênh lệch điểm nhỏ giữa các hạng không có ý nghĩa thống kê. Đơn vị thiếu quá 20% chỉ tiêu không được xếp hạng.",
		"Small score gaps between ranks are not significant. An agency missing more than 20% of the indicators is not ranked."},
	"flag.partial_data":      {"thiếu một phần số liệu", "partial data"},
	"flag.insufficient_data": {"không đủ số liệu", "insufficient data"},

	"status.title":   {"Trạng thái cổng thông tin", "Portal status"},
	"status.lead":    {"Kết quả đo mới nhất của mỗi cổng thông tin và tỷ lệ hoạt động.", "Each portal's newest probe and its uptime."},
	"status.asof":    {"Tỷ lệ hoạt động tính đến", "Uptime as of"},
	"status.matched": {"Khớp bộ lọc", "Matching"},
	"status.search":  {"Tìm theo địa chỉ hoặc tên đơn vị", "Search by address or agency name"},
	"status.agency":  {"Mã đơn vị (gồm cấp dưới)", "Agency code (with units below)"},
	"status.kind":    {"Loại đơn vị", "Kind of agency"},
	"status.state":   {"Trạng thái", "State"},
	"status.portal":  {"Cổng thông tin", "Portal"},
	"status.none":    {"Không có cổng nào khớp bộ lọc.", "No portal matches the filter."},
	"status.address": {"Địa chỉ", "Address"},
	"state.up":       {"Hoạt động", "Up"},
	"state.down":     {"Không truy cập được", "Down"},
	"badge.https":    {"Chuyển HTTPS", "HTTPS redirect"},
	"badge.tls":      {"Chứng thư hợp lệ", "Valid TLS"},
	"badge.mobile":   {"Hiển thị di động", "Mobile viewport"},
	"pager.label":    {"Phân trang", "Pages"},
	"pager.prev":     {"Trang trước", "Previous page"},
	"pager.next":     {"Trang sau", "Next page"},
	"pager.page":     {"Trang", "Page"},

	"portal.chart":      {"Tỷ lệ hoạt động theo giờ (cột) và thời gian phản hồi trung vị (đường) trong 30 ngày", "Hourly uptime (bars) and median latency (line) over 30 days"},
	"portal.chart.note": {"Cột màu đỏ là giờ có lần đo thất bại.", "Red bars are hours with a failed probe."},
	"portal.outages":    {"Các lần gián đoạn", "Outages"},
	"portal.nooutage":   {"Không có gián đoạn nào trong 30 ngày.", "No outage in 30 days."},
	"outage.start":      {"Bắt đầu", "Start"},
	"outage.end":        {"Kết thúc", "End"},
	"outage.ongoing":    {"đang diễn ra", "ongoing"},
	"outage.duration":   {"Kéo dài", "Duration"},
	"outage.reason":     {"Lý do", "Reason"},
}
