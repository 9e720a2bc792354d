package feed

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Row is one value as a payload gives it, before it is checked.
type Row struct {
	// At names the record: "data.values[3]", "row 4", "sheet KPI row 4", "line 12".
	At string
	// Where names the place of each part, by part (indicator, agency, period, value,
	// numerator, denominator), so a problem points at the cell or key to fix.
	Where map[string]string

	Indicator, Agency, Period     string
	Value, Numerator, Denominator *float64
}

func (r *Row) place(part string) string {
	if w := r.Where[part]; w != "" {
		return w
	}
	return r.At
}

// parseJSON reads the list at f.Records; each element is an object whose parts sit
// at the keys (or dotted paths) f.Fields names. Numbers must be JSON numbers; text
// where a number belongs is a problem, as in submissions.
func parseJSON(f *Feed, data []byte) ([]Row, []Problem) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil, []Problem{{Where: "$", Reason: jsonReason(data, err)}}
	}
	if dec.More() {
		return nil, []Problem{{Where: "$", Reason: "có nội dung thừa sau tài liệu JSON / trailing data after the JSON document"}}
	}
	list, path := doc, "$"
	if f.Records != "" {
		path = f.Records
		var ok bool
		if list, ok = lookup(doc, f.Records); !ok {
			return nil, []Problem{{Where: f.Records, Reason: "không có trong tài liệu / not found in the document"}}
		}
	}
	items, ok := list.([]any)
	if !ok {
		return nil, []Problem{{Where: path, Reason: "phải là một mảng bản ghi / must be an array of records"}}
	}
	fields := f.Fields.withDefaults()
	var rows []Row
	var probs []Problem
	for i, item := range items {
		at := fmt.Sprintf("%s[%d]", path, i)
		obj, ok := item.(map[string]any)
		if !ok {
			probs = append(probs, Problem{Where: at, Reason: "phải là một đối tượng / must be an object"})
			continue
		}
		r := Row{At: at, Where: map[string]string{}}
		text := func(part, key string, dst *string) {
			r.Where[part] = at + "." + key
			switch v := get(obj, key).(type) {
			case nil:
			case string:
				*dst = strings.TrimSpace(v)
			case json.Number:
				*dst = v.String() // a year written as a number: 2025
			default:
				probs = append(probs, Problem{Where: at + "." + key, Reason: "phải là chuỗi / must be a string"})
			}
		}
		number := func(part, key string, dst **float64) {
			r.Where[part] = at + "." + key
			switch v := get(obj, key).(type) {
			case nil:
			case json.Number:
				x, err := v.Float64()
				if err != nil || math.IsInf(x, 0) || math.IsNaN(x) {
					probs = append(probs, Problem{Where: at + "." + key, Reason: "số không hợp lệ / not a finite number: " + v.String()})
					return
				}
				*dst = &x
			default:
				probs = append(probs, Problem{Where: at + "." + key,
					Reason: fmt.Sprintf("phải là số, không phải %s / must be a number, not %s", jsonKind(v), jsonKind(v))})
			}
		}
		text("indicator", fields.Indicator, &r.Indicator)
		text("agency", fields.Agency, &r.Agency)
		text("period", fields.Period, &r.Period)
		number("value", fields.Value, &r.Value)
		number("numerator", fields.Numerator, &r.Numerator)
		number("denominator", fields.Denominator, &r.Denominator)
		rows = append(rows, r)
	}
	return rows, probs
}

// lookup follows a dotted path ("data.values") through nested objects.
func lookup(doc any, path string) (any, bool) {
	cur := doc
	for _, k := range strings.Split(path, ".") {
		obj, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = obj[k]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// get is lookup within one record; a missing key reads as nil.
func get(obj map[string]any, key string) any {
	if v, ok := obj[key]; ok {
		return v
	}
	if strings.Contains(key, ".") {
		v, _ := lookup(obj, key)
		return v
	}
	return nil
}

func jsonKind(v any) string {
	switch v.(type) {
	case string:
		return "text"
	case bool:
		return "true/false"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

// jsonReason turns a decoding error into one naming the line and column.
func jsonReason(data []byte, err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	off := int64(-1)
	switch {
	case errors.As(err, &se):
		off = se.Offset
	case errors.As(err, &te):
		off = te.Offset
	}
	if off < 0 {
		return "JSON không hợp lệ / invalid JSON: " + err.Error()
	}
	// Offset counts the bytes read, the offending one included.
	line, col := 1, 1
	for _, b := range data[:max(0, min(int(off)-1, len(data)))] {
		if b == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return "JSON không hợp lệ ở dòng " + strconv.Itoa(line) + " cột " + strconv.Itoa(col) +
		" / invalid JSON at line " + strconv.Itoa(line) + " column " + strconv.Itoa(col) + ": " + err.Error()
}
