package intake

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// maxJSONDepth bounds nesting: a submission is three levels deep, a feed a few more.
const maxJSONDepth = 64

// jvalue is one decoded JSON value that remembers its path and the order of its keys.
// encoding/json's map decoding keeps the last of two equal keys silently; this tree
// keeps the first and reports the second.
type jvalue struct {
	kind  string // string, number, boolean, null, array, object
	text  string // a string, a number's literal, true or false
	path  string
	keys  []string
	field map[string]*jvalue
	items []*jvalue
}

// jsonDoc decodes a document token by token.
type jsonDoc struct {
	dec      *json.Decoder
	problems []Problem
	// bad is the offset of the first byte that is not UTF-8 (-1 when none), and badPath
	// the path of the token that holds it, once found.
	bad     int64
	badPath string
}

func (d *jsonDoc) token(path string) (json.Token, error) {
	start := d.dec.InputOffset()
	tok, err := d.dec.Token()
	if d.bad >= 0 && d.badPath == "" && d.bad >= start && d.bad < d.dec.InputOffset() {
		d.badPath = path
	}
	return tok, err
}

func (d *jsonDoc) value(path string, depth int) (*jvalue, error) {
	tok, err := d.token(path)
	if err != nil {
		return nil, err
	}
	return d.from(tok, path, depth)
}

func (d *jsonDoc) from(tok json.Token, path string, depth int) (*jvalue, error) {
	v := &jvalue{path: path}
	switch t := tok.(type) {
	case string:
		v.kind, v.text = "string", t
	case json.Number:
		v.kind, v.text = "number", t.String()
	case bool:
		v.kind, v.text = "boolean", strconv.FormatBool(t)
	case nil:
		v.kind = "null"
	case json.Delim:
		if depth >= maxJSONDepth {
			return nil, errTooDeep
		}
		switch t {
		case '{':
			v.kind, v.field = "object", map[string]*jvalue{}
			for d.dec.More() {
				kt, err := d.token(path)
				if err != nil {
					return nil, err
				}
				key, _ := kt.(string)
				kp := jsonPath(path, key)
				item, err := d.value(kp, depth+1)
				if err != nil {
					return nil, err
				}
				if _, dup := v.field[key]; dup {
					d.problems = append(d.problems, Problem{Place: Place{Path: kp}, Rule: ruleOf(msgJSONDuplicateKey),
						Reason: compose(msgJSONDuplicateKey, key), row: -1, col: colExtra})
					continue
				}
				v.keys = append(v.keys, key)
				v.field[key] = item
			}
		case '[':
			v.kind = "array"
			base := path
			if base == "" {
				base = "$" // a document that is itself a list: $[0]
			}
			for i := 0; d.dec.More(); i++ {
				item, err := d.value(base+"["+strconv.Itoa(i)+"]", depth+1)
				if err != nil {
					return nil, err
				}
				v.items = append(v.items, item)
			}
		}
		if _, err := d.token(path); err != nil { // the closing delimiter
			return nil, err
		}
	}
	return v, nil
}

var errTooDeep = errors.New("too deep")

// get follows a dotted path ("data.values") through nested objects.
func (v *jvalue) get(path string) *jvalue {
	if v == nil || v.kind != "object" {
		return nil
	}
	if f, ok := v.field[path]; ok {
		return f
	}
	cur := v
	for _, k := range strings.Split(path, ".") {
		if cur == nil || cur.kind != "object" {
			return nil
		}
		cur = cur.field[k]
	}
	return cur
}

// ReadJSON reads a JSON document. With a nil layout it is a submission:
//
//	{"agency": "P20", "period": "2026-Q3", "values": [
//	  {"indicator": "dossiers_fully_online", "numerator": 5123, "denominator": 7410},
//	  {"indicator": "work_records_online", "agency": "X20001", "numerator": 70, "denominator": 100}]}
//
// With a feed's layout, it is the list at layout.Records, each record's parts at the
// keys the layout names, other keys ignored. Places are JSON paths
// (values[1].numerator). A document that is not JSON is one problem at $ naming its
// line and column; a key given twice is a problem at its path; bytes that are not UTF-8
// are an encoding problem at the path of the value that holds them. It returns only what
// the handler returns.
func ReadJSON(body []byte, layout *Layout, h Handler) error {
	d := &jsonDoc{dec: json.NewDecoder(bytes.NewReader(body)), bad: -1}
	d.dec.UseNumber()
	if !utf8.Valid(body) {
		d.bad = int64(firstInvalidUTF8(body))
	}
	rowPlace := func(i int) Place { return Place{Path: fmt.Sprintf("values[%d]", i)} }
	if layout != nil {
		base := layout.Records
		if base == "" {
			base = "$"
		}
		rowPlace = func(i int) Place { return Place{Path: fmt.Sprintf("%s[%d]", base, i)} }
	}
	root := Place{Path: "$"}
	fail := func(p Problem) error {
		if err := h.Header(Header{Format: JSON, RowPlace: rowPlace}); err != nil {
			return err
		}
		p.row = -1
		h.Problem(p)
		return nil
	}
	doc, err := d.value("", 0) // paths are written as submissions name them: values[0].agency
	if err == nil {
		if _, terr := d.dec.Token(); !errors.Is(terr, io.EOF) {
			err = errTrailing
		}
	}
	if d.bad >= 0 {
		// Whatever else is wrong, a file in another encoding is the first thing to fix.
		line, col := lineCol(body, d.bad)
		at := root
		if d.badPath != "" {
			at.Path = d.badPath
		}
		return fail(problemOf(at, msgJSONEncoding, d.bad, line, col))
	}
	switch {
	case errors.Is(err, errTrailing):
		return fail(problemOf(root, msgJSONTrailing))
	case errors.Is(err, errTooDeep):
		return fail(problemOf(root, msgJSONTooDeep, maxJSONDepth))
	case err != nil:
		return fail(jsonSyntaxProblem(body, d.dec.InputOffset(), err))
	}
	if layout != nil {
		return readJSONRecords(doc, d.problems, layout, rowPlace, h)
	}
	if doc.kind != "object" {
		return fail(problemOf(root, msgJSONNotObject, jsonKind(doc.kind)))
	}
	hdr := Header{Format: JSON, Defaults: true, RowPlace: rowPlace}
	for _, k := range doc.keys {
		switch k {
		case "agency", "period", "values":
		default:
			hdr.Extra = append(hdr.Extra, jsonField(doc.field[k], jsonPath("", k)))
		}
	}
	hdr.Agency = jsonField(doc.field["agency"], "agency")
	hdr.Period = jsonField(doc.field["period"], "period")
	if err := h.Header(hdr); err != nil {
		return err
	}
	for _, p := range d.problems {
		h.Problem(p)
	}
	values := Place{Path: "values"}
	list := doc.field["values"]
	switch {
	case list == nil || list.kind == "null":
		h.Problem(Problem{Place: values, Rule: ruleOf(msgJSONRequired), Reason: compose(msgJSONRequired), row: -1, col: colExtra})
		return nil
	case list.kind != "array":
		h.Problem(Problem{Place: values, Rule: ruleOf(msgJSONNotList), Reason: compose(msgJSONNotList), row: -1, col: colExtra})
		return nil
	case len(list.items) == 0:
		h.Problem(Problem{Place: values, Rule: ruleOf(msgJSONEmptyList), Reason: compose(msgJSONEmptyList), row: -1, col: colExtra})
		return nil
	}
	for i, item := range list.items {
		path := rowPlace(i).Path
		if item.kind != "object" {
			h.Problem(Problem{Place: Place{Path: path}, Rule: ruleOf(msgJSONRecordNotObject), Reason: compose(msgJSONRecordNotObject), row: i})
			continue
		}
		r := Row{Place: Place{Path: path}, Ordinal: i}
		for _, k := range item.keys {
			switch k {
			case "indicator", "agency", "value", "numerator", "denominator":
			default:
				r.Extra = append(r.Extra, jsonField(item.field[k], jsonPath(path, k)))
			}
		}
		r.Indicator = jsonField(item.field["indicator"], path+".indicator")
		r.Agency = jsonField(item.field["agency"], path+".agency")
		r.Value = jsonField(item.field["value"], path+".value")
		r.Numerator = jsonField(item.field["numerator"], path+".numerator")
		r.Denominator = jsonField(item.field["denominator"], path+".denominator")
		if err := h.Row(r); err != nil {
			return err
		}
	}
	return nil
}

var errTrailing = errors.New("trailing data")

// readJSONRecords reads a feed's records: the list at layout.Records.
func readJSONRecords(doc *jvalue, problems []Problem, layout *Layout, rowPlace func(int) Place, h Handler) error {
	if err := h.Header(Header{Format: JSON, RowPlace: rowPlace}); err != nil {
		return err
	}
	for _, p := range problems {
		h.Problem(p)
	}
	list, at := doc, Place{Path: "$"}
	if layout.Records != "" {
		at = Place{Path: layout.Records}
		if list = doc.get(layout.Records); list == nil {
			h.Problem(Problem{Place: at, Rule: ruleOf(msgJSONRecordsMissing), Reason: compose(msgJSONRecordsMissing), row: -1})
			return nil
		}
	}
	if list.kind != "array" {
		h.Problem(Problem{Place: at, Rule: ruleOf(msgJSONNotList), Reason: compose(msgJSONNotList), row: -1})
		return nil
	}
	fields := layout.Fields.WithDefaults()
	for i, item := range list.items {
		rp := rowPlace(i)
		if item.kind != "object" {
			h.Problem(Problem{Place: rp, Rule: ruleOf(msgJSONRecordNotObject), Reason: compose(msgJSONRecordNotObject), row: i})
			continue
		}
		part := func(key string) Field { return jsonField(item.get(key), jsonPath(rp.Path, key)) }
		r := Row{Place: rp, Ordinal: i,
			Indicator: part(fields.Indicator), Agency: part(fields.Agency), Period: part(fields.Period),
			Value: part(fields.Value), Numerator: part(fields.Numerator), Denominator: part(fields.Denominator)}
		layout.applyDefaults(&r)
		if err := h.Row(r); err != nil {
			return err
		}
	}
	return nil
}

// applyDefaults gives a feed's record the agency, indicator and period of the feed
// when it names none.
func (l *Layout) applyDefaults(r *Row) {
	// Plain assignments: a table of pointers into r would move every row to the heap.
	if !r.Agency.Set && l.Agency != "" {
		r.Agency = Field{Place: r.Place, Set: true, Text: l.Agency}
	}
	if !r.Indicator.Set && l.Indicator != "" {
		r.Indicator = Field{Place: r.Place, Set: true, Text: l.Indicator}
	}
	if !r.Period.Set && l.Period != "" {
		r.Period = Field{Place: r.Place, Set: true, Text: l.Period}
	}
}

// jsonPath appends a key to a path: .name for plain names, ["odd key"] otherwise, so
// every key, even "", has a place. A long key is cut: a place is for reading.
func jsonPath(parent, key string) string {
	plain := key != "" && len(key) <= MaxExcerpt
	for i, c := range key {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9') {
			plain = false
			break
		}
	}
	switch {
	case !plain:
		return parent + "[" + strconv.Quote(Excerpt(key)) + "]"
	case parent == "":
		return key
	}
	return parent + "." + key
}

// jsonField turns a decoded JSON value into a Field; null or absent counts as absent.
func jsonField(v *jvalue, path string) Field {
	f := Field{Place: Place{Path: path}}
	if v == nil || v.kind == "null" {
		return f
	}
	f.Set, f.JSONType, f.Text = true, v.kind, v.text
	return f
}

// firstInvalidUTF8 is the offset of the first byte that does not start a valid UTF-8
// sequence.
func firstInvalidUTF8(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return len(b)
}

// lineCol turns a byte offset into a 1-based line and column.
func lineCol(body []byte, off int64) (line, col int) {
	line, col = 1, 1
	for _, b := range body[:min(int(max(off, 0)), len(body))] {
		if b == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return line, col
}

// jsonSyntaxProblem names the line and column of a JSON syntax error.
func jsonSyntaxProblem(body []byte, offset int64, err error) Problem {
	root := Place{Path: "$"}
	if errors.Is(err, io.EOF) && len(bytes.TrimSpace(body)) == 0 {
		return problemOf(root, msgJSONEmptyBody)
	}
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se):
		offset = se.Offset
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		offset = int64(len(body))
	}
	if offset < 0 {
		return problemOf(root, msgJSONSyntax, err)
	}
	line, col := lineCol(body, offset)
	return problemOf(root, msgJSONSyntaxAt, line, col, err)
}
