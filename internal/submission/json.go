package submission

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
)

// ReadJSON reads a JSON submission:
//
//	{"agency": "P20", "period": "2026-Q3", "values": [
//	  {"indicator": "dossiers_fully_online", "numerator": 5123, "denominator": 7410},
//	  {"indicator": "work_records_online", "agency": "X20001", "numerator": 70, "denominator": 100}]}
//
// Places are JSON paths (values[1].numerator). A document that is not JSON is one problem
// at $ naming its line and column. It returns only what the handler returns.
func ReadJSON(body []byte, h Handler) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var doc any
	err := dec.Decode(&doc)
	root := Place{Path: "$"}
	hdr := Header{Format: JSON, Defaults: true, RowPlace: func(i int) Place { return Place{Path: fmt.Sprintf("values[%d]", i)} }}
	fail := func(reason string) error {
		if err := h.Header(Header{Format: JSON, RowPlace: hdr.RowPlace}); err != nil {
			return err
		}
		h.Problem(Problem{Place: root, Rule: "syntax", Reason: reason, row: -1})
		return nil
	}
	if err != nil {
		return fail(jsonSyntaxReason(body, err))
	}
	if dec.More() {
		return fail("có nội dung thừa sau đối tượng JSON / trailing data after the JSON object")
	}
	obj, ok := doc.(map[string]any)
	if !ok {
		return fail(bilingual("phải là một đối tượng JSON, không phải %s", "must be a JSON object, not %s", jsonKind(jsonType(doc))))
	}
	for _, k := range sortedKeys(obj) {
		switch k {
		case "agency", "period", "values":
		default:
			hdr.Extra = append(hdr.Extra, jsonField(jsonPath("", k), obj[k]))
		}
	}
	hdr.Agency = jsonField("agency", obj["agency"])
	hdr.Period = jsonField("period", obj["period"])
	if err := h.Header(hdr); err != nil {
		return err
	}
	raw, isList := obj["values"].([]any)
	values := Place{Path: "values"}
	switch {
	case obj["values"] == nil:
		h.Problem(Problem{Place: values, Rule: "required", Reason: "bắt buộc / required", row: -1, col: colExtra})
		return nil
	case !isList:
		h.Problem(Problem{Place: values, Rule: "not_list", Reason: "phải là một mảng / must be an array", row: -1, col: colExtra})
		return nil
	case len(raw) == 0:
		h.Problem(Problem{Place: values, Rule: "empty", Reason: "không có giá trị nào / is empty", row: -1, col: colExtra})
		return nil
	}
	for i, item := range raw {
		path := fmt.Sprintf("values[%d]", i)
		m, ok := item.(map[string]any)
		if !ok {
			h.Problem(Problem{Place: Place{Path: path}, Rule: "not_object", Reason: "phải là một đối tượng / must be an object", row: i})
			continue
		}
		r := Row{Place: Place{Path: path}, Ordinal: i}
		for _, k := range sortedKeys(m) {
			switch k {
			case "indicator", "agency", "value", "numerator", "denominator":
			default:
				r.Extra = append(r.Extra, jsonField(jsonPath(path, k), m[k]))
			}
		}
		r.Indicator = jsonField(path+".indicator", m["indicator"])
		r.Agency = jsonField(path+".agency", m["agency"])
		r.Value = jsonField(path+".value", m["value"])
		r.Numerator = jsonField(path+".numerator", m["numerator"])
		r.Denominator = jsonField(path+".denominator", m["denominator"])
		if err := h.Row(r); err != nil {
			return err
		}
	}
	return nil
}

// jsonPath appends a key to a path: .name for plain names, ["odd key"] otherwise, so
// every key, even "", has a place.
func jsonPath(parent, key string) string {
	plain := key != ""
	for i, c := range key {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9') {
			plain = false
			break
		}
	}
	switch {
	case !plain:
		return parent + "[" + strconv.Quote(key) + "]"
	case parent == "":
		return key
	}
	return parent + "." + key
}

// jsonField turns a decoded JSON value into a Field; null counts as absent.
func jsonField(path string, v any) Field {
	f := Field{Place: Place{Path: path}}
	if v == nil {
		return f
	}
	f.Set, f.JSONType = true, jsonType(v)
	switch x := v.(type) {
	case string:
		f.Text = x
	case json.Number:
		f.Text = x.String()
	case bool:
		f.Text = fmt.Sprint(x)
	}
	return f
}

func jsonType(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case json.Number, float64:
		return "number"
	case bool:
		return "boolean"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", v)
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// jsonSyntaxReason names the line and column of a JSON syntax error.
func jsonSyntaxReason(body []byte, err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	off := int64(-1)
	switch {
	case errors.As(err, &se):
		off = se.Offset
	case errors.As(err, &te):
		off = te.Offset
	}
	if errors.Is(err, io.EOF) {
		return "nội dung rỗng / empty body"
	}
	if off < 0 {
		return "JSON không hợp lệ / invalid JSON: " + err.Error()
	}
	line, col := 1, 1
	for _, b := range body[:min(int(off), len(body))] {
		if b == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return fmt.Sprintf("JSON không hợp lệ ở dòng %d, cột %d / invalid JSON at line %d, column %d: %v", line, col, line, col, err)
}
