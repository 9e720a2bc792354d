package intake

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"strings"
	"unicode/utf8"
)

// CSVColumns is the documented CSV header, in order. agency, period and indicator are
// required; value, numerator and denominator as each indicator needs.
var CSVColumns = []string{ColAgency, ColPeriod, ColIndicator, ColValue, ColNumerator, ColDenominator}

// CSVOptions limit what ReadCSV accepts.
type CSVOptions struct {
	// MaxRows stops the reader with a TooManyRows FileError; 0 means no limit.
	MaxRows int
	// Progress, when set, is told how many bytes have been read, every few thousand rows.
	Progress func(bytes int64)
	// Layout, when set, reads a feed: its columns are the ones the layout names, other
	// columns are ignored, and the layout's defaults fill what a row leaves out.
	Layout *Layout
}

// ReadCSV reads a CSV submission with the header
//
//	agency,period,indicator,value,numerator,denominator
//
// in any order and any letter case, one row per value. Commas separate fields; a file
// whose header is separated by semicolons (Excel's "CSV" in a Vietnamese locale) is read
// with semicolons, and then "95,5" means 95.5. A UTF-8 byte-order mark is skipped;
// other encodings are refused with advice. Places are lines and columns.
func ReadCSV(r io.Reader, opt CSVOptions, h Handler) error {
	counter := &countingReader{r: r}
	br := bufio.NewReaderSize(counter, 64<<10)
	head, _ := br.Peek(4)
	switch {
	case bytes.HasPrefix(head, []byte{0xEF, 0xBB, 0xBF}):
		br.Discard(3)
	case bytes.HasPrefix(head, []byte{0xFF, 0xFE}) || bytes.HasPrefix(head, []byte{0xFE, 0xFF}):
		return &FileError{Kind: NotSupported, Reason: compose(msgCSVUTF16)}
	case bytes.HasPrefix(head, []byte("%PDF")), bytes.HasPrefix(head, []byte("PK\x03\x04")):
		return &FileError{Kind: NotSupported, Reason: compose(msgCSVNotCSV)}
	}
	comma := sniffDelimiter(br)
	cr := csv.NewReader(br)
	cr.Comma = comma
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	hdr := Header{Format: CSV, RowPlace: func(line int) Place { return Place{Line: line} }}

	record, err := cr.Read()
	if err != nil {
		if err := h.Header(hdr); err != nil {
			return err
		}
		if errors.Is(err, io.EOF) {
			h.Problem(Problem{Place: Place{Line: 1}, Rule: ruleOf(msgCSVEmpty), Reason: compose(msgCSVEmpty, strings.Join(CSVColumns, ",")), row: -1})
			return nil
		}
		h.Problem(csvProblem(err))
		return nil
	}
	cols, index, headerProblems := readHeader(record, opt.Layout, func(col int, name string) Place {
		if col == 0 {
			return Place{Line: 1}
		}
		return Place{Line: 1, Column: col, ColumnName: Excerpt(name)}
	})
	if err := h.Header(hdr); err != nil {
		return err
	}
	for _, p := range headerProblems {
		h.Problem(p)
	}
	if len(headerProblems) > 0 {
		// Without a sound header no column means anything; the rows are not read.
		return nil
	}

	decimalComma := comma == ';'
	rows := 0
	for {
		record, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			// A broken quote leaves the rest of the file uncertain: report and stop.
			h.Problem(csvProblem(err))
			return nil
		}
		line, _ := cr.FieldPos(0)
		if allEmpty(record) {
			continue // Excel writes ",,,,," for rows it once formatted
		}
		rows++
		if opt.MaxRows > 0 && rows > opt.MaxRows {
			return &FileError{Kind: TooManyRows, Reason: compose(msgTooManyRows, opt.MaxRows)}
		}
		if opt.Progress != nil && rows%4096 == 0 {
			opt.Progress(counter.n)
		}
		if opt.Layout == nil && len(record) != len(cols) {
			h.Problem(Problem{Place: Place{Line: line}, Rule: ruleOf(msgFieldCount),
				Reason: compose(msgFieldCount, len(record), len(cols)), row: line})
			continue
		}
		row := Row{Place: Place{Line: line}, Ordinal: line}
		bad := false
		field := func(name string) Field {
			i, ok := index[name]
			if !ok {
				return Field{Place: Place{Line: line}}
			}
			f := Field{Place: Place{Line: line, Column: i + 1, ColumnName: Excerpt(cols[i])}, DecimalComma: decimalComma}
			if i >= len(record) {
				return f // a feed's short row: the missing cells are empty
			}
			s := record[i]
			if !utf8.ValidString(s) {
				h.Problem(Problem{Place: f.Place, Rule: ruleOf(msgCSVEncoding), Reason: compose(msgCSVEncoding), row: line, col: i})
				bad = true
				return f
			}
			if t := trimSpace(s); t != "" {
				f.Set, f.Text = true, t
			}
			return f
		}
		row.Agency = field(ColAgency)
		row.Period = field(ColPeriod)
		row.Indicator = field(ColIndicator)
		row.Value = field(ColValue)
		row.Numerator = field(ColNumerator)
		row.Denominator = field(ColDenominator)
		row.Status = field(ColStatus)
		if bad {
			continue
		}
		if opt.Layout != nil {
			opt.Layout.applyDefaults(&row)
		}
		if err := h.Row(row); err != nil {
			return err
		}
	}
	if rows == 0 {
		h.Problem(Problem{Place: Place{Line: 2}, Rule: ruleOf(msgNoDataRows), Reason: compose(msgNoDataRows), row: 2})
	}
	if opt.Progress != nil {
		opt.Progress(counter.n)
	}
	return nil
}

// sniffDelimiter picks ';' or '\t' over ',' when the header line uses it and no comma.
func sniffDelimiter(br *bufio.Reader) rune {
	line, _ := br.Peek(br.Size())
	if i := bytes.IndexByte(line, '\n'); i >= 0 {
		line = line[:i]
	}
	commas := bytes.Count(line, []byte{','})
	switch {
	case commas == 0 && bytes.Count(line, []byte{';'}) > 0:
		return ';'
	case commas == 0 && bytes.Count(line, []byte{'\t'}) > 0:
		return '\t'
	}
	return ','
}

func allEmpty(record []string) bool {
	for _, s := range record {
		if trimSpace(s) != "" {
			return false
		}
	}
	return true
}

// csvProblem places a CSV syntax error at its line and column.
func csvProblem(err error) Problem {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return Problem{Place: Place{Line: pe.Line, Column: pe.Column}, Rule: ruleOf(msgCSVSyntax),
			Reason: compose(msgCSVSyntax, pe.Err), row: pe.StartLine}
	}
	return Problem{Place: Place{Line: 1}, Rule: ruleOf(msgCSVUnreadable), Reason: compose(msgCSVUnreadable, err), row: -1}
}

// countingReader counts the bytes read through it, for progress bars.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// readHeader reads the header row of a CSV file or a workbook table: the name of each column, the column of each part, and
// what is wrong with it. A submission's header is strict: every column must be known
// and agency, period and indicator are required. A feed's columns are the ones its
// layout names; the others are ignored, and a part the feed gives a default for may be
// left out.
// at places a header cell by its 1-based column, or the whole header row for 0.
func readHeader(record []string, layout *Layout, at func(col int, name string) Place) (cols []string, index map[string]int, probs []Problem) {
	hdrPlace := at
	cols = make([]string, len(record))
	index = map[string]int{}
	names := map[string]string{} // header name → part
	fields := Fields{}.WithDefaults()
	if layout != nil {
		fields = layout.Fields.WithDefaults()
	}
	for _, p := range [][2]string{{ColAgency, fields.Agency}, {ColPeriod, fields.Period}, {ColIndicator, fields.Indicator},
		{ColValue, fields.Value}, {ColNumerator, fields.Numerator}, {ColDenominator, fields.Denominator}} {
		names[strings.ToLower(trimSpace(p[1]))] = p[0]
	}
	if layout == nil {
		names[ColStatus] = ColStatus
	}
	for i, name := range record {
		n := strings.ToLower(trimSpace(name))
		cols[i] = n
		if n == "" {
			continue // an empty column past the last, as spreadsheets leave
		}
		part, known := names[n]
		switch {
		case known:
			if j, dup := index[part]; dup {
				probs = append(probs, Problem{Place: hdrPlace(i+1, n), Rule: ruleOf(msgColumnTwice),
					Reason: compose(msgColumnTwice, Excerpt(n), j+1), row: -1, col: i})
				continue
			}
			index[part] = i
		case layout == nil:
			probs = append(probs, Problem{Place: hdrPlace(i+1, name), Rule: ruleOf(msgUnknownColumn),
				Reason: compose(msgUnknownColumn, Excerpt(name), strings.Join(CSVColumns, ",")), row: -1, col: i})
		}
	}
	for _, need := range []struct{ part, header, def string }{
		{ColAgency, fields.Agency, layoutDefault(layout, ColAgency)},
		{ColPeriod, fields.Period, layoutDefault(layout, ColPeriod)},
		{ColIndicator, fields.Indicator, layoutDefault(layout, ColIndicator)},
	} {
		if _, ok := index[need.part]; !ok && need.def == "" {
			probs = append(probs, Problem{Place: at(0, ""), Rule: ruleOf(msgMissingColumn),
				Reason: compose(msgMissingColumn, Excerpt(need.header), Excerpt(strings.Join(record, ","))), row: -1, col: len(cols)})
		}
	}
	_, hasValue := index[ColValue]
	_, hasNum := index[ColNumerator]
	if !hasValue && !hasNum {
		probs = append(probs, Problem{Place: at(0, ""), Rule: ruleOf(msgNoValueColumn),
			Reason: compose(msgNoValueColumn, Excerpt(fields.Value), Excerpt(fields.Numerator), Excerpt(fields.Denominator)), row: -1, col: len(cols)})
	}
	return cols, index, probs
}

// layoutDefault is the default a feed's layout gives a part, or "".
func layoutDefault(l *Layout, part string) string {
	if l == nil {
		return ""
	}
	switch part {
	case ColAgency:
		return l.Agency
	case ColPeriod:
		return l.Period
	case ColIndicator:
		return l.Indicator
	}
	return ""
}
