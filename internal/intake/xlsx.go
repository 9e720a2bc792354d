package intake

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/indicators/period"
)

// XLSXOptions bound what ReadXLSX accepts from an untrusted workbook.
type XLSXOptions struct {
	// Catalogue and Registry are today's: a template made from other ones is stale.
	Catalogue *indicators.Catalogue
	Registry  *indicators.Registry
	// MaxUnzipped caps the workbook's total unpacked size (DefaultMaxUnzipped when 0),
	// and MaxPart every part but a worksheet (DefaultMaxPart when 0). Worksheets are
	// streamed from the zip; a shared string table above 16 MiB is kept in a temporary
	// file in TempDir (the system's when empty) while the workbook is read.
	MaxUnzipped, MaxPart int64
	// MaxRows caps the data rows of a table; DefaultMaxRows when 0.
	MaxRows int
	TempDir string
	// Progress, when set, is told how many rows have been read, every few thousand.
	Progress func(rows int)
	// Layout, when set, reads a feed's table: the layout's sheet and columns.
	Layout *Layout
}

// Limits used when Options leave them zero.
const (
	DefaultMaxUnzipped = 256 << 20
	DefaultMaxPart     = 16 << 20
	DefaultMaxRows     = 100_000
	// templateSlack is how many rows past a template's own a data sheet may run before
	// it is refused as too large: room for stray notes, not for a million rows.
	templateSlack = 1000
	// blankSlack is how many blank rows past the limit a sheet may have.
	blankSlack = 10_000
)

// ReadXLSX checks an untrusted workbook and feeds it to h: the template (found by its
// metadata sheet) or else a table on the first sheet whose first row is the CSV header.
// A file that cannot be read at all returns a *FileError; problems inside it
// go to h.
func ReadXLSX(r io.ReaderAt, size int64, o XLSXOptions, h Handler) (err error) {
	if o.MaxUnzipped <= 0 {
		o.MaxUnzipped = DefaultMaxUnzipped
	}
	if o.MaxPart <= 0 {
		o.MaxPart = DefaultMaxPart
	}
	if o.MaxRows <= 0 {
		o.MaxRows = DefaultMaxRows
	}
	p, err := checkPackage(r, size, o)
	if err != nil {
		return err
	}
	// A bug in reading a hostile file must be a refused file, not a dead server.
	defer func() {
		if v := recover(); v != nil {
			err = damaged(fmt.Errorf("reading the workbook: %v", v))
		}
	}()
	sst, err := p.readSharedStrings(o.TempDir)
	if err != nil {
		return err
	}
	defer sst.Close()
	rd := &reader{p: p, sst: sst, o: o, h: h}
	if _, ok := p.sheet(SheetMeta); ok && o.Layout == nil {
		return rd.template()
	}
	return rd.table()
}

// ReadXLSXFile is ReadXLSX for a file on disk.
func ReadXLSXFile(name string, o XLSXOptions, h Handler) error {
	fh, err := os.Open(name)
	if err != nil {
		return fmt.Errorf("open %s: %w", name, err)
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		return fmt.Errorf("open %s: %w", name, err)
	}
	return ReadXLSX(fh, st.Size(), o, h)
}

type reader struct {
	p   *pkg
	sst *sharedStrings
	o   XLSXOptions
	h   Handler
}

func (rd *reader) problem(at Place, id msgID, args ...any) {
	rd.h.Problem(problemOf(at, id, args...))
}

// template reads the metadata sheet, then the data rows.
func (rd *reader) template() error {
	meta, err := rd.meta()
	if err != nil {
		return err
	}
	at := func(row int) Place { return CellPlace(SheetMeta, 2, row) }
	hdr := Header{
		Format:   XLSX,
		Defaults: true,
		Agency:   textField(at(MetaAgency), meta[MetaAgency]),
		Period:   textField(at(MetaPeriod), meta[MetaPeriod]),
		RowPlace: func(row int) Place { return CellPlace(SheetData, 1, row) },
	}
	if err := rd.h.Header(hdr); err != nil {
		return err
	}
	if v := meta[MetaVersion]; v != TemplateVersion {
		rd.problem(at(MetaVersion), msgTemplateVersion, v, TemplateVersion)
		return nil
	}
	rows, err := strconv.Atoi(meta[MetaRows])
	first, err2 := strconv.Atoi(meta[MetaFirstRow])
	if err != nil || err2 != nil || rows < 0 || rows > 10_000 || first != FirstRow {
		rd.problem(at(MetaRows), msgTemplateMetaChanged)
		return nil
	}
	rd.stale(at(MetaCatalogue), meta)
	ref, ok := rd.p.sheet(SheetData)
	if !ok {
		rd.problem(Place{Sheet: SheetData}, msgTemplateSheetMissing, SheetData)
		return nil
	}
	last := FirstRow + rows - 1
	return rd.rows(ref, last+templateSlack, func(row int, cells []string, field func(col int) Field) error {
		if row < FirstRow {
			return nil
		}
		if row > last {
			for col := TemplateColNumerator; col <= TemplateColStatus; col++ {
				if f := field(col); f.Set {
					rd.problem(f.Place, msgOutsideTemplate, row, FirstRow, last)
				}
			}
			return nil
		}
		return rd.h.Row(Row{
			Place:       CellPlace(SheetData, 1, row),
			Ordinal:     row,
			Agency:      field(TemplateColAgency),
			Indicator:   field(TemplateColIndicator),
			Numerator:   field(TemplateColNumerator),
			Denominator: field(TemplateColDenominator),
			Value:       field(TemplateColValue),
			Status:      field(TemplateColStatus),
		})
	})
}

// meta reads the small metadata sheet whole.
func (rd *reader) meta() (map[int]string, error) {
	ref, _ := rd.p.sheet(SheetMeta)
	if zf := rd.p.parts[ref.part]; zf == nil || zf.UncompressedSize64 > uint64(rd.o.MaxPart) {
		return nil, damaged(fmt.Errorf("metadata sheet %s is missing or too large", ref.part))
	}
	meta := map[int]string{}
	err := readSheetRows(rd.p.parts[ref.part], ref.name, rd.sst, func(row int, cells []string, _ []int) error {
		if len(cells) >= 2 {
			meta[row] = trimSpace(cells[1])
		}
		return nil
	})
	if errors.Is(err, errExcelRows) {
		return nil, damaged(fmt.Errorf("sheet %q: %w", ref.name, err))
	}
	return meta, err
}

// stale compares the workbook's catalogue fingerprint with today's.
func (rd *reader) stale(at Place, meta map[int]string) {
	if rd.o.Catalogue == nil || rd.o.Registry == nil {
		return
	}
	a, ok := rd.o.Registry.Get(meta[MetaAgency])
	p, err := period.Parse(meta[MetaPeriod])
	if !ok || err != nil {
		return // the validator reports the agency or period itself
	}
	if want := TemplateFingerprint(a, p, TemplateIndicators(rd.o.Catalogue, a, p)); meta[MetaCatalogue] != want {
		rd.problem(at, msgTemplateStale, meta[MetaGenerated], a.Code, p)
	}
}

// table reads a plain table: the first visible sheet (or the layout's sheet), whose
// first non-blank row names the columns, as a CSV header does.
func (rd *reader) table() error {
	var ref sheetRef
	l := rd.o.Layout
	for _, s := range rd.p.sheets {
		if l != nil && l.Sheet != "" {
			if s.name == l.Sheet {
				ref = s
				break
			}
			continue
		}
		if s.state == "" || s.state == "visible" {
			ref = s
			break
		}
	}
	hdr := Header{Format: XLSX,
		RowPlace: func(row int) Place { return CellPlace(ref.name, 1, row) }}
	if err := rd.h.Header(hdr); err != nil {
		return err
	}
	switch {
	case ref.name == "" && l != nil && l.Sheet != "":
		names := make([]string, len(rd.p.sheets))
		for i, s := range rd.p.sheets {
			names[i] = s.name
		}
		rd.problem(Place{Sheet: Excerpt(l.Sheet)}, msgNoSuchSheet, strings.Join(names, ", "))
		return nil
	case ref.name == "":
		rd.problem(Place{}, msgNoSheet)
		return nil
	}
	var index map[string]int
	sawHeader, headerBad, headerRow := false, false, 0
	data := 0
	err := rd.rows(ref, rd.o.MaxRows+1, func(row int, cells []string, field func(col int) Field) error {
		if !sawHeader {
			if blank(cells) {
				return nil // blank lines above the header
			}
			sawHeader, headerRow = true, row
			var probs []Problem
			_, index, probs = readHeader(cells, l, func(col int, _ string) Place { return CellPlace(ref.name, max(col, 1), row) })
			for _, p := range probs {
				rd.h.Problem(p)
			}
			if len(probs) > 0 {
				headerBad = true
				return errStop // without a sound header no column means anything
			}
			return nil
		}
		if blank(cells) {
			return nil
		}
		data++
		get := func(name string) Field {
			col, ok := index[name]
			if !ok {
				return Field{Place: CellPlace(ref.name, 1, row)}
			}
			return field(col + 1)
		}
		r := Row{
			Place:       CellPlace(ref.name, 1, row),
			Ordinal:     row,
			Agency:      get(ColAgency),
			Period:      get(ColPeriod),
			Indicator:   get(ColIndicator),
			Value:       get(ColValue),
			Numerator:   get(ColNumerator),
			Denominator: get(ColDenominator),
			Status:      get(ColStatus),
		}
		if l != nil {
			l.applyDefaults(&r)
		}
		return rd.h.Row(r)
	})
	if err != nil {
		return err
	}
	switch {
	case !sawHeader:
		rd.problem(CellPlace(ref.name, 1, 1), msgEmptySheet, strings.Join(CSVColumns, ","))
	case data == 0 && !headerBad:
		rd.problem(CellPlace(ref.name, 1, headerRow+1), msgNoDataRows)
	}
	return nil
}

// errStop ends a row walk early without an error.
var errStop = fmt.Errorf("stop")

// rows streams a sheet's rows with their raw values and formula cells. maxRow is the
// last row that may hold anything; a non-empty row past it stops the walk with a
// TooManyRows error, before the rest of a huge sheet is read.
func (rd *reader) rows(ref sheetRef, maxRow int, each func(row int, cells []string, field func(col int) Field) error) error {
	zf, err := rd.p.sheetPart(ref)
	if err != nil {
		return err
	}
	var cells []string
	var formulas []int
	row := 0
	field := func(col int) Field {
		f := Field{Place: CellPlace(ref.name, col, row)}
		if col-1 < len(cells) {
			if t := trimSpace(cells[col-1]); t != "" {
				f.Set, f.Text = true, t
			}
		}
		if slices.Contains(formulas, col) {
			f.Set, f.Formula = true, true
		}
		return f
	}
	// Formulas on blank rows past maxRow reach no field, but none may pass unseen: they
	// are counted and named for the whole sheet.
	late := 0
	err = readSheetRows(zf, ref.name, rd.sst, func(r int, c []string, fc []int) error {
		row, cells, formulas = r, c, fc
		if row > maxRow && !blank(cells) {
			return &FileError{Kind: TooManyRows, Reason: compose(msgSheetDataPastLimit, ref.name, row, maxRow)}
		}
		// Blank rows past the limit are stray formatting, but not a million of them:
		// walking them costs time whatever they hold.
		if row > maxRow+blankSlack {
			return &FileError{Kind: TooManyRows, Reason: compose(msgSheetRunsPastLimit, ref.name, row-1, maxRow)}
		}
		if row > maxRow {
			late += len(formulas)
			formulas = nil
		}
		if rd.o.Progress != nil && row%4096 == 0 {
			rd.o.Progress(row)
		}
		return each(row, cells, field)
	})
	switch {
	case errors.Is(err, errStop):
		return nil
	case errors.Is(err, errExcelRows):
		return &FileError{Kind: TooManyRows, Reason: compose(msgSheetExcelLimit)}
	case err != nil:
		return err
	}
	if late > 0 {
		rd.problem(Place{Sheet: ref.name}, msgFormulaCells, late)
	}
	if rd.o.Progress != nil {
		rd.o.Progress(row)
	}
	return nil
}

func blank(cells []string) bool {
	for _, c := range cells {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}

func textField(at Place, v string) Field {
	return Field{Place: at, Set: v != "", Text: v}
}
