package intake

import (
	"archive/zip"
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// The worksheet reader: rows of cell values straight from a worksheet part's XML,
// scanned with xmlScanner. It gives the values excelize's Rows() and Columns() give
// with RawCellValue (the values this reader replaced; see sheetxml_test.go, which
// holds the two side by side): the stored text of numbers, booleans, errors, dates
// and formula results, shared strings and inline strings with their rich-text runs
// joined and _xHHHH_ escapes decoded; rows numbered by their r attribute or else one
// past the last, cells placed by theirs or else one past the last; a blank row between
// two written ones given as an empty row. Where excelize silently drops a value or
// stops reading (XML that is not well formed, a shared string index that is not in
// the table, a style that is not a number) this reader refuses the workbook and says
// where, since a value read wrong must not be stored.

// Excel's own limits.
const (
	excelRows    = 1_048_576
	excelColumns = 16_384
)

// errBadRef is a cell reference that names no cell.
var errBadRef = errors.New("invalid cell reference")

// errExcelRows is a row numbered past Excel's last.
var errExcelRows = errors.New("a row past row 1,048,576")

// sharedStrings is a workbook's shared string table, decoded. A large one is kept in
// a temporary file, as excelize keeps it, so that its size does not become memory.
type sharedStrings struct {
	data []byte
	file *os.File
	ends []int64 // where each string ends; each starts where the one before ends
}

// sstInMemory is the largest shared string part kept in memory.
const sstInMemory = 16 << 20

func (t *sharedStrings) get(i int) (string, bool) {
	if t == nil || i < 0 || i >= len(t.ends) {
		return "", false
	}
	var start int64
	if i > 0 {
		start = t.ends[i-1]
	}
	if t.file == nil {
		return string(t.data[start:t.ends[i]]), true
	}
	b := make([]byte, t.ends[i]-start)
	if _, err := t.file.ReadAt(b, start); err != nil {
		return "", false
	}
	return string(b), true
}

func (t *sharedStrings) Close() error {
	if t == nil || t.file == nil {
		return nil
	}
	err := t.file.Close()
	if rerr := os.Remove(t.file.Name()); err == nil {
		err = rerr
	}
	return err
}

// readSharedStrings decodes the shared string table of a package, if it has one.
func (p *pkg) readSharedStrings(tempDir string) (*sharedStrings, error) {
	zf := p.parts[p.sst]
	if zf == nil {
		return nil, nil
	}
	rc, err := zf.Open()
	if err != nil {
		return nil, damaged(err)
	}
	defer rc.Close()
	t := &sharedStrings{}
	var w *bufio.Writer
	if zf.UncompressedSize64 > sstInMemory {
		if t.file, err = os.CreateTemp(tempDir, "goc-sst-"); err != nil {
			return nil, fmt.Errorf("shared strings: %w", err)
		}
		w = bufio.NewWriterSize(t.file, 64<<10)
	}
	if err := t.decode(newXMLScanner(rc), w); err != nil {
		t.Close()
		return nil, damaged(fmt.Errorf("shared strings %s: %w", p.sst, err))
	}
	if w != nil {
		if err := w.Flush(); err != nil {
			t.Close()
			return nil, fmt.Errorf("shared strings: %w", err)
		}
	}
	return t, nil
}

// decode reads the <si> items that are children of the root, each the text of its
// own <t> and then of its runs' (<r><t>), as excelize joins them; phonetic runs
// (<rPh>) are not part of the text.
func (t *sharedStrings) decode(sc *xmlScanner, w *bufio.Writer) error {
	var text, run, out []byte
	var size int64
	for {
		k, err := sc.next()
		if err != nil {
			return err
		}
		if k == tokEOF {
			return nil
		}
		if k != tokStart {
			continue
		}
		depth := len(sc.open) // of the element just started: the root is 1
		if sc.selfClose {
			depth++
		}
		if depth != 2 || string(sc.name) != "si" {
			if depth >= 2 {
				if err := sc.skip(); err != nil {
					return err
				}
			}
			continue
		}
		if text, run, err = readRichText(sc, text[:0], run); err != nil {
			return err
		}
		out = appendUnescaped(out[:0], text)
		size += int64(len(out))
		if w != nil {
			w.Write(out)
		} else {
			t.data = append(t.data, out...)
		}
		t.ends = append(t.ends, size)
	}
}

// readRichText reads an <si> or <is> element whose start tag was just read and
// appends its text: its own <t> (the last one, if several) and then each run's <t>,
// decoded. scratch holds the runs meanwhile and is returned for reuse.
func readRichText(sc *xmlScanner, dst, scratch []byte) ([]byte, []byte, error) {
	if sc.selfClose {
		return dst, scratch, nil
	}
	runs := scratch[:0]
	own := len(dst)
	base := len(sc.open)
	for {
		k, err := sc.next()
		if err != nil {
			return dst, runs, err
		}
		switch {
		case k == tokEnd && len(sc.open) < base:
			return append(dst, runs...), runs, nil
		case k == tokEOF:
			return dst, runs, errSyntax("unexpected end of the part")
		case k != tokStart:
		case string(sc.name) == "t":
			if dst, err = sc.appendContent(dst[:own]); err != nil {
				return dst, runs, err
			}
			if err := checkChars(dst[own:]); err != nil {
				return dst, runs, err
			}
		case string(sc.name) == "r":
			if runs, err = readRun(sc, runs); err != nil {
				return dst, runs, err
			}
		default:
			if err := sc.skip(); err != nil {
				return dst, runs, err
			}
		}
	}
}

// readRun appends the text of one rich-text run (the last <t> among its children).
func readRun(sc *xmlScanner, dst []byte) ([]byte, error) {
	if sc.selfClose {
		return dst, nil
	}
	base := len(sc.open)
	start, end := len(dst), -1
	for {
		k, err := sc.next()
		if err != nil {
			return dst, err
		}
		switch {
		case k == tokEnd && len(sc.open) < base:
			if end < 0 {
				return dst[:start], nil
			}
			return dst, nil
		case k == tokEOF:
			return dst, errSyntax("unexpected end of the part")
		case k != tokStart:
		case string(sc.name) == "t":
			dst = dst[:start]
			if dst, err = sc.appendContent(dst); err != nil {
				return dst, err
			}
			if err := checkChars(dst[start:]); err != nil {
				return dst, err
			}
			end = len(dst)
		default:
			if err := sc.skip(); err != nil {
				return dst, err
			}
		}
	}
}

// appendUnescaped decodes the _xHHHH_ escapes Excel writes for characters XML cannot
// hold (and _x005F_ for an underscore), as excelize's bstrUnmarshal does: matches do
// not overlap, and a surrogate decodes to nothing.
func appendUnescaped(dst, s []byte) []byte {
	if !strings.Contains(string(s), "_x") {
		return append(dst, s...)
	}
	for i := 0; i < len(s); {
		if s[i] == '_' && i+7 <= len(s) && s[i+1] == 'x' && s[i+6] == '_' && isHex4(s[i+2:i+6]) {
			n, _ := strconv.ParseUint(string(s[i+2:i+6]), 16, 32)
			if r := rune(n); r < 0xD800 || r > 0xDFFF {
				dst = append(dst, string(r)...)
			}
			i += 7
			continue
		}
		dst = append(dst, s[i])
		i++
	}
	return dst
}

func isHex4(b []byte) bool {
	for _, c := range b {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// sheetRows is one pass over a worksheet's rows.
type sheetRows struct {
	sc    *xmlScanner
	sst   *sharedStrings
	sheet string

	// The row being read: its cells' text one after another in arena, where each
	// ends, and the columns holding a formula.
	arena []byte
	ends  []int
	fcols []int
	col   int
	cells []string
	// scratch
	v, is, run, ref, typ []byte
}

// readSheetRows streams the rows of a worksheet part to each, from row 1 to the last
// written row, blank rows included (as empty). cells holds the values of a row's
// cells from column A, up to its last non-empty or formula cell; formulas lists the
// columns whose cell holds a formula. Neither may be kept after each returns.
func readSheetRows(zf *zip.File, sheet string, sst *sharedStrings, each func(row int, cells []string, formulas []int) error) error {
	rc, err := zf.Open()
	if err != nil {
		return damaged(err)
	}
	defer rc.Close()
	rd := &sheetRows{sc: newXMLScanner(rc), sst: sst, sheet: sheet}
	return rd.walk(each)
}

func (rd *sheetRows) walk(each func(row int, cells []string, formulas []int) error) error {
	cur, seek := 0, 0 // excelize's curRow and seekRow: the last row number seen, the row being read
	emit := func(row int) error {
		if len(rd.ends) == 0 {
			return each(row, nil, rd.fcols)
		}
		s := string(rd.arena)
		rd.cells = rd.cells[:0]
		start := 0
		for _, e := range rd.ends {
			rd.cells = append(rd.cells, s[start:e])
			start = e
		}
		return each(row, rd.cells, rd.fcols)
	}
	for {
		k, err := rd.sc.next()
		if err != nil {
			return rd.fail(seek, "", err)
		}
		if k == tokEOF {
			break
		}
		if k == tokEnd && string(rd.sc.name) == "sheetData" {
			break
		}
		if k != tokStart {
			continue
		}
		switch string(rd.sc.name) {
		case "row":
			n := 0
			if v, ok := rd.sc.attr("r"); ok {
				rd.ref = attrBytes(rd.ref, v)
				var ok bool
				if n, ok = atoi(rd.ref); !ok || n < 0 {
					return rd.fail(seek, "", fmt.Errorf("row number %q", v))
				}
			}
			if n > excelRows {
				return errExcelRows
			}
			if n != 0 {
				cur = n
			} else {
				cur++
			}
			if seek != 0 && cur <= seek {
				// A row numbered at or before the one being read: excelize reads its
				// cells into that row, after the ones it has.
				continue
			}
			if seek != 0 {
				if err := emit(seek); err != nil {
					return err
				}
			}
			rd.arena, rd.ends, rd.fcols, rd.col = rd.arena[:0], rd.ends[:0], rd.fcols[:0], 0
			for r := seek + 1; r < cur; r++ {
				if err := emit(r); err != nil {
					return err
				}
			}
			seek = cur
		case "c":
			if seek == 0 {
				continue // a cell before any row: excelize skips it
			}
			if err := rd.cell(seek); err != nil {
				return err
			}
		}
	}
	if seek != 0 {
		return emit(seek)
	}
	return nil
}

// fail is a damaged workbook, with where the reading stopped.
func (rd *sheetRows) fail(row int, ref string, err error) error {
	switch {
	case ref != "":
		return damaged(fmt.Errorf("sheet %q, cell %s: %w", rd.sheet, ref, err))
	case row > 0:
		return damaged(fmt.Errorf("sheet %q, row %d: %w", rd.sheet, row, err))
	}
	return damaged(fmt.Errorf("sheet %q: %w", rd.sheet, err))
}

// attrBytes copies an attribute value, decoded, into dst: the value's own bytes are
// overwritten when the scanner reads on. A malformed reference stays as written, and
// then fails whatever parse the value was meant for.
func attrBytes(dst, v []byte) []byte {
	if out, err := appendText(dst[:0], v, false); err == nil {
		return out
	}
	return append(dst[:0], v...)
}

// atoi is strconv.Atoi for the short numbers of a worksheet, without making a string.
func atoi(b []byte) (int, bool) {
	neg := false
	if len(b) > 0 && (b[0] == '+' || b[0] == '-') {
		neg = b[0] == '-'
		b = b[1:]
	}
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}

// cell reads one <c> element, whose start tag was just read, into the row.
func (rd *sheetRows) cell(row int) error {
	sc := rd.sc
	rd.col++
	rd.ref, rd.typ = rd.ref[:0], rd.typ[:0]
	hasRef := false
	if v, ok := sc.attr("r"); ok {
		rd.ref, hasRef = attrBytes(rd.ref, v), true
	}
	if v, ok := sc.attr("t"); ok {
		rd.typ = attrBytes(rd.typ, v)
	}
	at := func() string {
		if hasRef {
			return string(rd.ref)
		}
		return CellPlace(rd.sheet, rd.col, row).Resolve().Cell
	}
	if v, ok := sc.attr("s"); ok {
		if _, ok := atoi(attrBytes(rd.v, v)); !ok {
			return rd.fail(row, at(), fmt.Errorf("style %q is not a number", v))
		}
	}
	if hasRef {
		col, err := columnOfRef(rd.ref)
		if err != nil {
			return rd.fail(row, "", fmt.Errorf("%w %q", err, rd.ref))
		}
		rd.col = col
	}
	if rd.col > excelColumns {
		return rd.fail(row, at(), fmt.Errorf("a cell past column XFD"))
	}
	formula, hasIS := false, false
	rd.v, rd.is = rd.v[:0], rd.is[:0]
	if !sc.selfClose {
		base := len(sc.open)
		for done := false; !done; {
			k, err := sc.next()
			if err != nil {
				return rd.fail(row, at(), err)
			}
			switch k {
			case tokEOF:
				return rd.fail(row, at(), errSyntax("unexpected end of the part"))
			case tokEnd:
				done = len(sc.open) < base
			case tokStart:
				switch string(sc.name) {
				case "v":
					if rd.v, err = sc.appendContent(rd.v[:0]); err == nil {
						err = checkChars(rd.v)
					}
				case "f":
					formula = true
					err = sc.skip()
				case "is":
					hasIS = true
					rd.is, rd.run, err = readRichText(sc, rd.is[:0], rd.run)
				}
				if err != nil {
					return rd.fail(row, at(), err)
				}
			}
		}
	}
	start := len(rd.arena)
	switch {
	case string(rd.typ) == "s" && len(rd.v) > 0:
		i, ok := atoi(bytes.TrimSpace(rd.v))
		if !ok {
			return rd.fail(row, at(), fmt.Errorf("shared string index %q", rd.v))
		}
		s, ok := rd.sst.get(i)
		if !ok {
			return rd.fail(row, at(), fmt.Errorf("shared string %d is not in the table", i))
		}
		rd.arena = append(rd.arena, s...)
	case string(rd.typ) == "inlineStr" && hasIS:
		rd.arena = appendUnescaped(rd.arena, rd.is)
	default:
		rd.arena = append(rd.arena, rd.v...)
	}
	if formula {
		rd.fcols = append(rd.fcols, rd.col)
	}
	if len(rd.arena) == start && !formula {
		return nil
	}
	// Columns skipped since the last value read as empty; a cell at or before it goes
	// after it, as excelize places it.
	for len(rd.ends)+1 < rd.col {
		rd.ends = append(rd.ends, start)
	}
	if len(rd.ends) >= excelColumns {
		return rd.fail(row, at(), fmt.Errorf("more than %d cells in a row", excelColumns))
	}
	rd.ends = append(rd.ends, len(rd.arena))
	return nil
}

// columnOfRef reads the column of a cell reference as excelize's CellNameToCoordinates
// does: letters (and any '$') then a row number from 1 to 1,048,576.
func columnOfRef(ref []byte) (int, error) {
	alpha := func(c byte) bool { return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || c == '$' }
	last := -1
	for i := 0; i < len(ref); i++ {
		if alpha(ref[i]) {
			last = i
		}
	}
	bad := errBadRef
	if len(ref) == 0 || !alpha(ref[0]) || last >= len(ref)-1 {
		return 0, bad
	}
	row, ok := atoi(ref[last+1:])
	if !ok || row < 1 {
		return 0, bad
	}
	if row > excelRows {
		return 0, bad
	}
	col := 0
	letters := 0
	for i := 0; i <= last; i++ {
		c := ref[i]
		if c == '$' {
			continue
		}
		if c >= 'a' {
			c -= 'a' - 'A'
		}
		col = col*26 + int(c-'A'+1)
		letters++
		if col > excelColumns {
			return 0, bad
		}
	}
	if letters == 0 {
		return 0, bad
	}
	return col, nil
}

// sheetPart opens nothing: it finds the zip entry of a sheet.
func (p *pkg) sheetPart(ref sheetRef) (*zip.File, error) {
	zf := p.parts[ref.part]
	if zf == nil {
		return nil, damaged(fmt.Errorf("sheet %q: its part %q is missing", ref.name, ref.part))
	}
	return zf, nil
}
