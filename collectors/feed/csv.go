package feed

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// table is rows of cells with a header row, the shape CSV and XLSX share. cell names
// a cell for problems: "row 4, column value (E)" or "sheet KPI, cell E4".
type table struct {
	header []string
	rows   [][]string
	// first is the number of the first data row as the file counts it.
	first int
	cell  func(row, col int) string
	// record names a whole row.
	record func(row int) string
}

// parseCSV reads a CSV file with a header row; each part sits in the column whose
// header f.Fields names (case and spaces ignored).
func parseCSV(f *Feed, data []byte) ([]Row, []Problem) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")) // a BOM, as Excel writes one
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1 // short rows are reported per cell, not as a parse failure
	var all [][]string
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, []Problem{{Where: fmt.Sprintf("dòng/line %d, cột/column %d", pe.Line, pe.Column),
					Reason: "CSV không hợp lệ / invalid CSV: " + pe.Err.Error()}}
			}
			return nil, []Problem{{Reason: "CSV không hợp lệ / invalid CSV: " + err.Error()}}
		}
		all = append(all, rec)
	}
	if len(all) == 0 {
		return nil, []Problem{{Where: "row 1", Reason: "tệp rỗng, cần dòng tiêu đề / empty file: a header row is required"}}
	}
	t := table{header: all[0], rows: all[1:], first: 2,
		cell: func(row, col int) string {
			return fmt.Sprintf("row %d, column %s (%s)", row, all[0][col], columnName(col))
		},
		record: func(row int) string { return fmt.Sprintf("row %d", row) },
	}
	return t.read(f)
}

// columnName is the spreadsheet letter of a 0-based column: 0 → A, 26 → AA.
func columnName(col int) string {
	name := ""
	for col++; col > 0; col = (col - 1) / 26 {
		name = string(rune('A'+(col-1)%26)) + name
	}
	return name
}

func (t *table) read(f *Feed) ([]Row, []Problem) {
	fields := f.Fields.withDefaults()
	index := map[string]int{}
	for i, h := range t.header {
		index[strings.ToLower(strings.TrimSpace(h))] = i
	}
	col := func(name string) int {
		if i, ok := index[strings.ToLower(strings.TrimSpace(name))]; ok {
			return i
		}
		return -1
	}
	parts := []struct {
		part, header string
		fallback     string // the feed's default, which makes the column optional
	}{
		{"indicator", fields.Indicator, f.Indicator}, {"agency", fields.Agency, f.Agency},
		{"period", fields.Period, f.Period}, {"value", fields.Value, ""},
		{"numerator", fields.Numerator, ""}, {"denominator", fields.Denominator, ""},
	}
	cols := map[string]int{}
	var probs []Problem
	for _, p := range parts {
		cols[p.part] = col(p.header)
		if cols[p.part] < 0 && p.fallback == "" && (p.part == "indicator" || p.part == "agency" || p.part == "period") {
			probs = append(probs, Problem{Where: t.record(t.first - 1),
				Reason: fmt.Sprintf("thiếu cột %q / no column %q (headers: %s)", p.header, p.header, strings.Join(t.header, ", "))})
		}
	}
	if cols["value"] < 0 && (cols["numerator"] < 0 || cols["denominator"] < 0) {
		probs = append(probs, Problem{Where: t.record(t.first - 1),
			Reason: fmt.Sprintf("thiếu cột %q (hoặc %q và %q) / no column %q (or %q and %q)",
				fields.Value, fields.Numerator, fields.Denominator, fields.Value, fields.Numerator, fields.Denominator)})
	}
	if len(probs) > 0 {
		return nil, probs
	}
	var rows []Row
	for i, rec := range t.rows {
		n := t.first + i
		if blank(rec) {
			continue
		}
		r := Row{At: t.record(n), Where: map[string]string{}}
		cell := func(part string) (string, bool) {
			c := cols[part]
			if c < 0 {
				return "", false
			}
			r.Where[part] = t.cell(n, c)
			if c >= len(rec) {
				return "", true
			}
			return strings.TrimSpace(rec[c]), true
		}
		for _, t := range []struct {
			part string
			dst  *string
		}{{"indicator", &r.Indicator}, {"agency", &r.Agency}, {"period", &r.Period}} {
			if s, ok := cell(t.part); ok {
				*t.dst = s
			}
		}
		for _, num := range []struct {
			part string
			dst  **float64
		}{{"value", &r.Value}, {"numerator", &r.Numerator}, {"denominator", &r.Denominator}} {
			part, dst := num.part, num.dst
			s, ok := cell(part)
			if !ok || s == "" {
				continue
			}
			x, err := strconv.ParseFloat(s, 64)
			if err != nil || math.IsInf(x, 0) || math.IsNaN(x) {
				why := "không phải số / not a number"
				if strings.Contains(s, ",") {
					why += " (dùng dấu chấm thập phân / use a dot for decimals)"
				}
				probs = append(probs, Problem{Where: r.Where[part], Reason: fmt.Sprintf("%q: %s", s, why)})
				continue
			}
			*dst = &x
		}
		rows = append(rows, r)
	}
	return rows, probs
}

func blank(rec []string) bool {
	for _, c := range rec {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}
