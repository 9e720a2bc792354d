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
	msgCount // keep last
)

var messages = [msgCount]message{
	msgUnknownFormat:       {"format", "định dạng %q không được hỗ trợ", "format %q is not supported"},
	msgJSONDuplicateKey:    {"duplicate_key", "khoá %q xuất hiện hai lần trong cùng một đối tượng", "key %q appears twice in the same object"},
	msgJSONEncoding:        {"encoding", "không phải UTF-8 (byte %d, dòng %d, cột %d); hãy lưu tệp dạng UTF-8", "not UTF-8 (byte %d, line %d, column %d); save the file as UTF-8"},
	msgJSONTooDeep:         {"syntax", "lồng nhau quá %d cấp", "nested more than %d levels deep"},
	msgJSONNotObject:       {"syntax", "phải là một đối tượng JSON, không phải %s", "must be a JSON object, not %s"},
	msgJSONRecordsMissing:  {"required", "không có trong tài liệu", "not found in the document"},
	msgJSONNotList:         {"not_list", "phải là một mảng", "must be an array"},
	msgJSONRequired:        {"required", "bắt buộc", "required"},
	msgJSONEmptyList:       {"empty", "không có giá trị nào", "is empty"},
	msgJSONRecordNotObject: {"not_object", "phải là một đối tượng", "must be an object"},
	msgJSONEmptyBody:       {"syntax", "nội dung rỗng", "empty body"},
	msgJSONTrailing:        {"syntax", "có nội dung thừa sau tài liệu JSON", "trailing data after the JSON document"},
	msgJSONSyntax:          {"syntax", "JSON không hợp lệ: %s", "invalid JSON: %s"},
	msgJSONSyntaxAt:        {"syntax", "JSON không hợp lệ ở dòng %d, cột %d: %s", "invalid JSON at line %d, column %d: %s"},
	msgPromSyntax:          {"syntax", "exposition không hợp lệ: %s", "invalid exposition: %s"},
	msgPromSyntaxAt:        {"syntax", "exposition không hợp lệ ở dòng %d: %s", "invalid exposition at line %d: %s"},
	msgPromType:            {"not_number", "chỉ nhận mẫu gauge, counter hoặc untyped", "only gauge, counter or untyped samples carry a figure"},
	msgPromDuplicate:       {"duplicate", "trùng mẫu (cùng chỉ tiêu, đơn vị, kỳ)", "duplicate sample for the same indicator, agency and period"},
	msgPromNotFinite:       {"not_number", "giá trị không hữu hạn: %s", "not a finite number: %s"},
}
