package intake

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// msgID names one message of the table below. Several messages may share a rule: the
// rule is what programs match on, the message what the officer reads.
type msgID int

// message is a rule with its Vietnamese and English text; both take the same
// arguments, in the same order.
type message struct {
	rule, vi, en string
}

// compose writes a message in Vietnamese, then English. Every text argument is cut to
// a short excerpt first: an error reply quotes what it must to be understood, never a
// whole input (one 50 MiB code would otherwise be sent back twice).
func compose(id msgID, args ...any) string {
	m := messages[id]
	for i, a := range args {
		switch s := a.(type) {
		case string:
			args[i] = Excerpt(s)
		case fmt.Stringer:
			args[i] = Excerpt(s.String())
		case error:
			args[i] = Excerpt(s.Error())
		}
	}
	return fmt.Sprintf(m.vi, args...) + " / " + fmt.Sprintf(m.en, args...)
}

// ruleOf is the rule a message reports.
func ruleOf(id msgID) string { return messages[id].rule }

// problemOf builds a problem at a place from a message.
func problemOf(at Place, id msgID, args ...any) Problem {
	return Problem{Place: at, Rule: ruleOf(id), Reason: compose(id, args...)}
}

// MaxExcerpt is the most of one input value a reply quotes, in characters.
const MaxExcerpt = 40

// Excerpt cuts s to MaxExcerpt characters, marking the cut with "…" and the length,
// and replaces bytes that are not UTF-8, so a reply quoting input stays short and valid.
func Excerpt(s string) string {
	if len(s) <= MaxExcerpt && utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	n := 0
	for _, r := range s {
		if n == MaxExcerpt {
			fmt.Fprintf(&b, "… (%d bytes)", len(s))
			return b.String()
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}

// The message table: every problem and file error G-OC's intake reports, by rule.
const (
	msgUnknownFormat msgID = iota
	msgJSONDuplicateKey
	msgJSONEncoding
	msgJSONTooDeep
	msgJSONNotObject
	msgJSONRecordsMissing
	msgJSONNotList
	msgJSONRequired
	msgJSONEmptyList
	msgJSONRecordNotObject
	msgJSONEmptyBody
	msgJSONTrailing
	msgJSONSyntax
	msgJSONSyntaxAt
	msgPromSyntax
	msgPromSyntaxAt
	msgPromType
	msgPromDuplicate
	msgPromNotFinite
	msgUnknownField
	msgRequired
	msgAgencyNotText
	msgUnknownAgency
	msgPeriodNotText
	msgAgencyInactive
	msgIndicatorNotText
	msgUnknownIndicator
	msgLevel
	msgPeriodicity
	msgStatusConflict
	msgStatus
	msgAgencyMismatch
	msgPeriodMismatch
	msgFormula
	msgNotNumberType
	msgNotNumberSeparator
	msgNotNumberPercent
	msgNumberOutOfRange
	msgNotNumber
	msgNotWhole
	msgRequiredNumerator
	msgRequiredDenominator
	msgNegative
	msgZeroDenominator
	msgNumeratorAboveDenominator
	msgValueMismatch
	msgNotRatio
	msgZeroWeight
	msgBounds
	msgDuplicate
	msgFieldCount
	msgCSVSyntax
	msgCSVUnreadable
	msgColumnTwice
	msgUnknownColumn
	msgMissingColumn
	msgNoValueColumn
	msgTemplateVersion
	msgTemplateMetaChanged
	msgTemplateSheetMissing
	msgOutsideTemplate
	msgTemplateStale
	msgNoSuchSheet
	msgNoSheet
	msgEmptySheet
	msgNoDataRows
	msgFormulaCells
	msgCSVUTF16
	msgCSVNotCSV
	msgCSVEmpty
	msgTooManyRows
	msgCSVEncoding
	msgForbidden
	msgPeriodInvalid
	msgPeriodFuture
	msgSheetDataPastLimit
	msgSheetRunsPastLimit
	msgSheetExcelLimit
	msgDamaged
	msgRenamedPDF
	msgOldXLS
	msgNotXLSX
	msgZipNotWorkbook
	msgTooManyParts
	msgTooLargeUnpacked
	msgOutlier
	msgOutlierAndChange
	msgNotNumberCommaSeparator
	msgAmbiguousNumber
	msgInvisibleCharacter
	msgCount // keep last
)

var messages = [msgCount]message{
	msgCSVUTF16:           {"not_supported", "tệp CSV mã hoá UTF-16; hãy lưu lại dạng \"CSV UTF-8\"", "the CSV file is UTF-16; save it again as \"CSV UTF-8\""},
	msgCSVNotCSV:          {"not_supported", "tệp không phải CSV (là PDF hoặc tệp nén/Excel)", "the file is not CSV (it is a PDF, or a zip/Excel workbook)"},
	msgCSVEmpty:           {"empty", "tệp rỗng; dòng đầu phải là tiêu đề %s", "the file is empty; the first line must be the header %s"},
	msgTooManyRows:        {"too_many_rows", "tệp có hơn %d dòng dữ liệu", "the file has more than %d data rows"},
	msgCSVEncoding:        {"encoding", "không phải UTF-8; hãy lưu tệp dạng \"CSV UTF-8\"", "not UTF-8; save the file as \"CSV UTF-8\""},
	msgForbidden:          {"forbidden", "mã truy cập %q chỉ được nộp cho %s và đơn vị trực thuộc, không cho %s%s", "token %q may submit only for %s and below, not for %s%s"},
	msgPeriodInvalid:      {"period_invalid", "kỳ báo cáo không hợp lệ: %s", "invalid period: %s"},
	msgPeriodFuture:       {"period_future", "kỳ %s chưa bắt đầu", "period %s has not started yet"},
	msgSheetDataPastLimit: {"too_many_rows", "trang %q có dữ liệu ở dòng %d, quá giới hạn %d dòng", "sheet %q has data on row %d, past the limit of %d rows"},
	msgSheetRunsPastLimit: {"too_many_rows", "trang %q kéo dài đến dòng %d, quá giới hạn %d dòng", "sheet %q runs past row %d, beyond the limit of %d rows"},
	msgSheetExcelLimit:    {"too_many_rows", "trang vượt quá 1.048.576 dòng", "the sheet exceeds 1,048,576 rows"},
	msgDamaged:            {"damaged", "tệp Excel bị hỏng hoặc bị cắt cụt; hãy lưu lại và gửi lại", "the workbook is damaged or truncated; save it again and resend"},
	msgRenamedPDF:         {"not_supported", "tệp là PDF (đổi đuôi thành .xlsx), không phải bảng tính Excel", "the file is a PDF renamed to .xlsx, not an Excel workbook"},
	msgOldXLS:             {"not_supported", "tệp là Excel 97-2003 (.xls) hoặc đã đặt mật khẩu; hãy lưu lại dạng .xlsx không mật khẩu", "the file is an Excel 97-2003 (.xls) or password-protected workbook; save it as .xlsx without a password"},
	msgNotXLSX:            {"not_supported", "tệp không phải bảng tính Excel (.xlsx)", "the file is not an Excel workbook (.xlsx)"},
	msgZipNotWorkbook:     {"not_supported", "tệp nén này không phải bảng tính Excel (thiếu xl/workbook.xml)", "this zip file is not an Excel workbook (no xl/workbook.xml)"},
	msgTooManyParts:       {"too_large", "bảng tính quá lớn (%d phần), có thể là \"zip bomb\"; hãy gửi tệp nhỏ hơn", "the workbook is too large (%d parts), perhaps a zip bomb; send a smaller file"},
	msgTooLargeUnpacked:   {"too_large", "bảng tính quá lớn (hơn %s khi giải nén), có thể là \"zip bomb\"; hãy gửi tệp nhỏ hơn", "the workbook is too large (more than %s unpacked), perhaps a zip bomb; send a smaller file"},
	msgOutlier: {"outlier",
		"giá trị %.4g của %s khác thường so với %d kỳ gần nhất của đơn vị (trung vị %.4g, MAD %.3g: lệch %.1f lần độ lệch chuẩn vững, ngưỡng %g); kiểm tra lại, nếu đúng hãy xác nhận (confirm_outliers)",
		"value %.4g of %s is unusual against the agency's last %d periods (median %.4g, MAD %.3g: %.1f robust deviations, threshold %g); check it, and if it is right confirm it (confirm_outliers)"},
	msgOutlierAndChange: {"outlier",
		"giá trị %.4g của %s khác thường so với %d kỳ gần nhất của đơn vị (trung vị %.4g, MAD %.3g: lệch %.1f lần độ lệch chuẩn vững, ngưỡng %g; thay đổi %+.4g so với kỳ trước, thường là %+.4g); kiểm tra lại, nếu đúng hãy xác nhận (confirm_outliers)",
		"value %.4g of %s is unusual against the agency's last %d periods (median %.4g, MAD %.3g: %.1f robust deviations, threshold %g; a change of %+.4g from the previous period, against a usual %+.4g); check it, and if it is right confirm it (confirm_outliers)"},
	msgNotNumberCommaSeparator: {"not_number", "%q không phải là số; tệp này dùng dấu phẩy thập phân: chỉ một dấu phẩy, và dấu chấm chỉ để phân cách hàng nghìn (ví dụ 1.234,5)",
		"%q is not a number; this file writes decimals with a comma: one comma at most, and dots only between thousands (e.g. 1.234,5)"},
	msgAmbiguousNumber: {"ambiguous_number", "%q không rõ nghĩa: tệp này dùng dấu phẩy thập phân, nên dấu chấm chỉ được phân cách hàng nghìn theo nhóm ba chữ số (1.234.567,5); viết 1,5 cho một phẩy năm hoặc 1.500 cho một nghìn năm trăm",
		"%q is ambiguous: this file writes decimals with a comma, so a dot may only separate thousands in groups of three digits (1.234.567,5); write 1,5 for one and a half or 1.500 for fifteen hundred"},
	msgInvisibleCharacter: {"invisible_character", "%q chứa ký tự ẩn %s ở vị trí %d (khoảng trắng không ngắt hoặc ký tự độ rộng 0, thường do sao chép); hãy gõ lại mã",
		"%q holds the invisible character %s at position %d (a no-break or zero-width space, usually from copy and paste); type the code again"},
	msgUnknownFormat:             {"format", "định dạng %q không được hỗ trợ", "format %q is not supported"},
	msgJSONDuplicateKey:          {"duplicate_key", "khoá %q xuất hiện hai lần trong cùng một đối tượng", "key %q appears twice in the same object"},
	msgJSONEncoding:              {"encoding", "không phải UTF-8 (byte %d, dòng %d, cột %d); hãy lưu tệp dạng UTF-8", "not UTF-8 (byte %d, line %d, column %d); save the file as UTF-8"},
	msgJSONTooDeep:               {"syntax", "lồng nhau quá %d cấp", "nested more than %d levels deep"},
	msgJSONNotObject:             {"syntax", "phải là một đối tượng JSON, không phải %s", "must be a JSON object, not %s"},
	msgJSONRecordsMissing:        {"required", "không có trong tài liệu", "not found in the document"},
	msgJSONNotList:               {"not_list", "phải là một mảng", "must be an array"},
	msgJSONRequired:              {"required", "bắt buộc", "required"},
	msgJSONEmptyList:             {"empty", "không có giá trị nào", "is empty"},
	msgJSONRecordNotObject:       {"not_object", "phải là một đối tượng", "must be an object"},
	msgJSONEmptyBody:             {"syntax", "nội dung rỗng", "empty body"},
	msgJSONTrailing:              {"syntax", "có nội dung thừa sau tài liệu JSON", "trailing data after the JSON document"},
	msgJSONSyntax:                {"syntax", "JSON không hợp lệ: %s", "invalid JSON: %s"},
	msgJSONSyntaxAt:              {"syntax", "JSON không hợp lệ ở dòng %d, cột %d: %s", "invalid JSON at line %d, column %d: %s"},
	msgPromSyntax:                {"syntax", "exposition không hợp lệ: %s", "invalid exposition: %s"},
	msgPromSyntaxAt:              {"syntax", "exposition không hợp lệ ở dòng %d: %s", "invalid exposition at line %d: %s"},
	msgPromType:                  {"not_number", "chỉ nhận mẫu gauge, counter hoặc untyped", "only gauge, counter or untyped samples carry a figure"},
	msgPromDuplicate:             {"duplicate", "trùng mẫu (cùng chỉ tiêu, đơn vị, kỳ)", "duplicate sample for the same indicator, agency and period"},
	msgPromNotFinite:             {"not_number", "giá trị không hữu hạn: %s", "not a finite number: %s"},
	msgUnknownField:              {"unknown_field", "trường không được hỗ trợ", "unknown field"},
	msgRequired:                  {"required", "bắt buộc", "required"},
	msgAgencyNotText:             {"not_code", "phải là mã đơn vị dạng chuỗi", "must be an agency code string"},
	msgUnknownAgency:             {"unknown_agency", "mã đơn vị %q không có trong danh mục", "agency %q is not in the registry"},
	msgPeriodNotText:             {"period_invalid", "phải là chuỗi như 2025-Q3", "must be a string such as 2025-Q3"},
	msgAgencyInactive:            {"agency_inactive", "đơn vị %s không tồn tại trong kỳ %s", "agency %s did not exist during %s"},
	msgIndicatorNotText:          {"not_code", "phải là mã chỉ tiêu dạng chuỗi", "must be an indicator code string"},
	msgUnknownIndicator:          {"unknown_indicator", "mã chỉ tiêu %q không có trong danh mục", "indicator %q is not in the catalogue"},
	msgLevel:                     {"level", "chỉ tiêu %s không do cấp %s báo cáo", "%s is not reported at %s level"},
	msgPeriodicity:               {"periodicity", "chỉ tiêu %s báo cáo theo kỳ %s, kỳ đã gửi là %s", "%s is reported %s, the period sent is %s"},
	msgStatusConflict:            {"status_conflict", "dòng ghi \"không có số liệu\" nhưng ô này có giá trị; xoá giá trị hoặc đổi tình trạng", "the row says \"no data\" but this cell has a value; clear it or change the status"},
	msgStatus:                    {"status", "tình trạng %q không hợp lệ; chọn %q hoặc %q trong danh sách", "status %q is not one of the list: %q or %q"},
	msgAgencyMismatch:            {"agency_mismatch", "đơn vị %s không thuộc %s mà bài nộp ghi ở đầu", "agency %s is not %s, which the submission is for, nor below it"},
	msgPeriodMismatch:            {"period_mismatch", "kỳ %s khác kỳ %s của bài nộp", "period %s differs from the submission's period %s"},
	msgFormula:                   {"formula", "ô chứa công thức; G-OC không tính công thức, hãy nhập giá trị", "the cell holds a formula; G-OC evaluates none, type the value instead"},
	msgNotNumberType:             {"not_number", "phải là số, không phải %s", "must be a number, not %s"},
	msgNotNumberSeparator:        {"not_number", "%q không phải là số; dùng dấu chấm thập phân và không dùng dấu phân cách hàng nghìn (ví dụ 1234.5)", "%q is not a number; use a dot for decimals and no thousands separators (e.g. 1234.5)"},
	msgNotNumberPercent:          {"not_number", "%q không phải là số; bỏ dấu %%", "%q is not a number; leave out the %% sign"},
	msgNumberOutOfRange:          {"not_number", "số %s không hợp lệ", "number %s is out of range"},
	msgNotNumber:                 {"not_number", "phải là số, không phải %q", "must be a number, not %q"},
	msgNotWhole:                  {"not_whole", "phải là số nguyên (số đếm), không phải %g", "must be a whole number (a count), not %g"},
	msgRequiredNumerator:         {"required", "bắt buộc với chỉ tiêu tỷ lệ (để cộng dồn lên cấp trên)", "required for a ratio indicator (it is what rolls up)"},
	msgRequiredDenominator:       {"required", "bắt buộc với chỉ tiêu tỷ lệ", "required for a ratio indicator"},
	msgNegative:                  {"negative", "không được âm", "must not be negative"},
	msgZeroDenominator:           {"zero_denominator", "phải lớn hơn 0", "must be greater than 0"},
	msgNumeratorAboveDenominator: {"numerator_above_denominator", "tử số %g lớn hơn mẫu số %g", "numerator %g is larger than denominator %g"},
	msgValueMismatch:             {"value_mismatch", "giá trị %g không khớp tử số/mẫu số = %.2f", "value %g does not match numerator/denominator = %.2f"},
	msgNotRatio:                  {"not_ratio", "chỉ dùng cho chỉ tiêu tỷ lệ", "only ratio indicators take one"},
	msgZeroWeight:                {"zero_denominator", "trọng số phải lớn hơn 0", "the weight must be greater than 0"},
	msgBounds:                    {"bounds", "giá trị %g nằm ngoài khoảng cho phép %s", "value %g is outside the allowed range %s"},
	msgDuplicate:                 {"duplicate", "trùng với %s (cùng chỉ tiêu, đơn vị và kỳ)", "duplicates %s (same indicator, agency and period)"},
	msgFieldCount:                {"column", "dòng có %d trường, tiêu đề có %d", "the line has %d fields, the header %d"},
	msgCSVSyntax:                 {"syntax", "CSV không hợp lệ: %v", "invalid CSV: %v"},
	msgCSVUnreadable:             {"syntax", "không đọc được CSV: %v", "cannot read CSV: %v"},
	msgColumnTwice:               {"column", "cột %q lặp lại (đã có ở cột %d)", "column %q appears twice (first as column %d)"},
	msgUnknownColumn:             {"column", "cột %q không được hỗ trợ; tiêu đề là %s", "unknown column %q; the header is %s"},
	msgMissingColumn:             {"column", "thiếu cột %q; tiêu đề là %s", "column %q is missing; the header is %s"},
	msgNoValueColumn:             {"column", "cần cột %s hoặc %s,%s", "a %s column, or %s and %s columns, is needed"},
	msgTemplateVersion:           {"template_version", "mẫu phiên bản %q không được hỗ trợ (cần %s); hãy tải mẫu mới", "template version %q is not supported (want %s); download a new template"},
	msgTemplateMetaChanged:       {"template_damaged", "siêu dữ liệu của mẫu bị sửa; hãy tải mẫu mới", "the template's metadata was changed; download a new template"},
	msgTemplateSheetMissing:      {"template_damaged", "không tìm thấy trang %q; không đổi tên trang của mẫu", "sheet %q is missing; do not rename the template's sheets"},
	msgOutsideTemplate:           {"outside_template", "dòng %d không thuộc mẫu (mẫu có dòng %d–%d); không thêm dòng", "row %d is not part of the template (rows %d–%d); do not add rows"},
	msgTemplateStale:             {"template_stale", "mẫu đã cũ: danh mục chỉ tiêu đã thay đổi từ khi tải mẫu (%s); hãy tải mẫu mới cho %s kỳ %s", "the template is stale: the indicator catalogue changed after it was made (%s); download a new template for %s, period %s"},
	msgNoSuchSheet:               {"empty", "không có trang tính này; bảng tính có %s", "no such sheet; the workbook has %s"},
	msgNoSheet:                   {"empty", "bảng tính không có trang nào", "the workbook has no sheet"},
	msgEmptySheet:                {"empty", "trang tính rỗng; dòng đầu phải là tiêu đề %s", "the sheet is empty; its first row must be the header %s"},
	msgNoDataRows:                {"empty", "không có dòng dữ liệu nào sau tiêu đề", "no data rows after the header"},
	msgFormulaCells:              {"formula", "trang có %d ô công thức; G-OC không tính công thức, hãy nhập giá trị", "the sheet holds %d formula cells; G-OC evaluates none, type the values instead"},
}
