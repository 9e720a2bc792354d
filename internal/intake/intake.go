// Package intake is every way a value comes into G-OC: KPI feeds, API submissions,
// the upload page, the Excel template and bulk historical imports all go through the
// same readers and the same validator, as Telegraf shares one parser per format between
// its inputs.
//
// One reader per format (ReadCSV, ReadJSON, ReadXLSX for a table or the template,
// ReadPrometheus for feeds) turns a file into a Header and Rows whose every Field knows
// its Place: `Dữ liệu!I7`, a CSV line and column, a JSON path or a sample. Read picks the
// reader by format and is the one entry point; Check adds the Validator and collects
// what a whole file holds. One Validator checks rows of any source against the
// catalogue, the registry and the submitter's token, and reports every problem as
// {place, rule, reason}, the reason composed from one table of Vietnamese and English
// messages, so an officer can fix a whole file in one pass. A file is all-or-nothing:
// nothing is stored unless every row is good.
package intake

import (
	"cmp"
	"encoding/json"
	"strconv"
)

// Format is how a submission is written.
type Format string

// Formats G-OC reads.
const (
	JSON Format = "json"
	CSV  Format = "csv"
	XLSX Format = "xlsx"
	// Prometheus is the text exposition format, read from KPI feeds.
	Prometheus Format = "prometheus"
)

// Place says where in a submitted file something sits. Exactly one kind of locator is
// set: Sheet and Cell for a workbook, Line (and Column) for CSV, Path for JSON.
type Place struct {
	Sheet string `json:"sheet,omitempty"`
	Cell  string `json:"cell,omitempty"`
	// Line is the 1-based line in a CSV file; Column the 1-based field, named by
	// ColumnName from the header.
	Line       int    `json:"line,omitempty"`
	Column     int    `json:"column,omitempty"`
	ColumnName string `json:"column_name,omitempty"`
	// Path is a JSON path such as values[3].numerator, or $ for the whole document.
	Path string `json:"path,omitempty"`

	// col and row locate a workbook cell whose Cell name is built only when needed:
	// a million-row import names six million cells and reports none of them.
	col, row int
}

// CellPlace is the place of a workbook cell by its 1-based column and row.
func CellPlace(sheet string, col, row int) Place {
	return Place{Sheet: sheet, col: col, row: row}
}

// Resolve fills in Cell for a place made by CellPlace.
func (p Place) Resolve() Place {
	if p.Cell == "" && p.col > 0 && p.row > 0 {
		p.Cell = columnName(p.col) + strconv.Itoa(p.row)
	}
	return p
}

// columnName turns 1 into A, 27 into AA.
func columnName(col int) string {
	var b []byte
	for ; col > 0; col = (col - 1) / 26 {
		b = append([]byte{byte('A' + (col-1)%26)}, b...)
	}
	return string(b)
}

// String reads `Dữ liệu!I7`, `dòng/line 5, cột/column 4 (value)` or `values[3].numerator`.
func (p Place) String() string {
	p = p.Resolve()
	switch {
	case p.Sheet != "" || p.Cell != "":
		if p.Cell == "" {
			return p.Sheet
		}
		return p.Sheet + "!" + p.Cell
	case p.Line > 0:
		s := "dòng/line " + strconv.Itoa(p.Line)
		if p.Column > 0 {
			s += ", cột/column " + strconv.Itoa(p.Column)
			if p.ColumnName != "" {
				s += " (" + p.ColumnName + ")"
			}
		}
		return s
	}
	return p.Path
}

// Problem is one thing wrong with a submission, at its place. Rule is a stable name for
// the kind of mistake (bounds, required, formula...) that programs can match on; Reason
// says what is wrong in Vietnamese, then English.
type Problem struct {
	Place  Place
	Rule   string
	Reason string
	// Indicator and Previous are set on an outlier warning: the indicator of the value,
	// and the agency's figure of the period before, which the value was judged against.
	Indicator string
	Previous  *float64

	// row and col order problems as they appear in the file: header problems (row -1)
	// first, then by row, then by column.
	row, col int
}

// String reads "Dữ liệu!I7: reason".
func (p Problem) String() string {
	if s := p.Place.String(); s != "" {
		return s + ": " + p.Reason
	}
	return p.Reason
}

// MarshalJSON writes the place as `field` (what API clients already read) beside its
// parts, the rule and the reason.
func (p Problem) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Field string `json:"field"`
		Place
		Rule      string   `json:"rule"`
		Reason    string   `json:"reason"`
		Indicator string   `json:"indicator,omitempty"`
		Previous  *float64 `json:"previous,omitempty"`
	}{p.Place.String(), p.Place.Resolve(), p.Rule, p.Reason, p.Indicator, p.Previous})
}

// UnmarshalJSON reads what MarshalJSON writes, so clients such as `goc submit` can show
// a server's problems.
func (p *Problem) UnmarshalJSON(b []byte) error {
	var v struct {
		Place
		Rule      string   `json:"rule"`
		Reason    string   `json:"reason"`
		Indicator string   `json:"indicator"`
		Previous  *float64 `json:"previous"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*p = Problem{Place: v.Place, Rule: v.Rule, Reason: v.Reason, Indicator: v.Indicator, Previous: v.Previous}
	return nil
}

func compareProblems(a, b Problem) int {
	if c := cmp.Compare(a.row, b.row); c != 0 {
		return c
	}
	return cmp.Compare(a.col, b.col)
}

// Field is one value as written in a file.
type Field struct {
	Place Place
	// Set is true when something was written: a non-empty cell, or a JSON key with a
	// non-null value.
	Set bool
	// Text is the value as written; for a JSON number, its literal.
	Text string
	// JSONType is the JSON type of a value read from JSON (string, number, boolean,
	// array, object); empty for text formats, where every value is text.
	JSONType string
	// Formula is true for a workbook cell that holds a formula. G-OC evaluates nothing:
	// such a cell is rejected.
	Formula bool
	// DecimalComma accepts "95,5" for 95.5: CSV files saved by Excel in a Vietnamese
	// locale separate fields with semicolons and write decimals with a comma.
	DecimalComma bool

	// refused is set by the Validator once it has reported the text as unreadable (an
	// invisible character inside a code), so nothing else is said about it.
	refused bool
}

// Column names the columns of a row; CSV headers and the workbook table layout use them.
const (
	ColAgency      = "agency"
	ColPeriod      = "period"
	ColIndicator   = "indicator"
	ColValue       = "value"
	ColNumerator   = "numerator"
	ColDenominator = "denominator"
	ColStatus      = "status"
)

// Row is one value of one indicator for one agency and period, as submitted.
type Row struct {
	// Place is the row as a whole: a workbook row's first cell, a CSV line, values[i].
	Place Place
	// Ordinal is the row's number in its file (workbook row, CSV line, JSON index); it
	// orders problems and names the first of two duplicate rows.
	Ordinal int

	// Agency and Period default to the Header's when not Set.
	Agency, Period, Indicator     Field
	Value, Numerator, Denominator Field
	// Status is the template's dropdown: empty or "reported" for a value, "no data" to
	// report that there is none this period.
	Status Field
	// Extra lists fields the format does not know (JSON keys); each is a problem.
	Extra []Field
}

// Header is what a file says about all its rows.
type Header struct {
	Format Format
	// Defaults is true when the header names the agency and period of the submission
	// (JSON, the XLSX template): both are then required, and rows default to them.
	Defaults       bool
	Agency, Period Field
	// Extra lists unknown top-level fields.
	Extra []Field
	// RowPlace gives the place of a row by its Ordinal, for messages about duplicates.
	RowPlace func(ordinal int) Place
}

// Handler receives a parsed file: its Header first, then each Row in file order, and
// any Problem the reader itself finds (a broken line, an unknown column). An error from
// Header or Row stops the reader, which returns it.
type Handler interface {
	Header(h Header) error
	Row(r Row) error
	Problem(p Problem)
}

// FileErrorKind says why a file could not be read at all.
type FileErrorKind string

// Kinds of unreadable files.
const (
	// NotSupported: not the format it claims (a PDF renamed to .xlsx, UTF-16 text).
	NotSupported FileErrorKind = "not_supported"
	// Damaged: truncated or corrupt.
	Damaged FileErrorKind = "damaged"
	// TooLarge: unpacks to more than the limit (a zip bomb).
	TooLarge FileErrorKind = "too_large"
	// TooManyRows: more rows than a submission may carry.
	TooManyRows FileErrorKind = "too_many_rows"
)

// FileError is a file that cannot be read at all; nothing in it was checked.
type FileError struct {
	Kind   FileErrorKind
	Reason string // Vietnamese / English
	Err    error
}

func (e *FileError) Error() string {
	if e.Err != nil {
		return e.Reason + ": " + e.Err.Error()
	}
	return e.Reason
}

func (e *FileError) Unwrap() error { return e.Err }

// ForbiddenError is a submission naming an agency its token may not submit for.
type ForbiddenError struct {
	Token, Scope, Agency string
	Place                Place
}

func (e *ForbiddenError) Error() string {
	at := ""
	if s := e.Place.String(); s != "" {
		at = " (" + s + ")"
	}
	return compose(msgForbidden, e.Token, e.Scope, e.Agency, at)
}
