package template

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/indicators/period"
	"github.com/g-oc/goc/internal/submission"
)

// Options bound what Read accepts from an untrusted workbook.
type Options struct {
	// Catalogue and Registry are today's: a template made from other ones is stale.
	Catalogue *indicators.Catalogue
	Registry  *indicators.Registry
	// MaxUnzipped caps the workbook's total unpacked size (DefaultMaxUnzipped when 0),
	// and MaxPart every part but a worksheet (DefaultMaxPart when 0). Worksheets above
	// excelize's in-memory limit are unpacked to TempDir and streamed from there.
	MaxUnzipped, MaxPart int64
	// MaxRows caps the data rows of a table; DefaultMaxRows when 0.
	MaxRows int
	TempDir string
	// Progress, when set, is told how many rows have been read, every few thousand.
	Progress func(rows int)
}

// Limits used when Options leave them zero.
const (
	DefaultMaxUnzipped = 256 << 20
	DefaultMaxPart     = 16 << 20
	DefaultMaxRows     = 100_000
	// inMemorySheet is excelize's UnzipXMLSizeLimit: larger worksheets go to a temporary
	// file and are streamed.
	inMemorySheet = 16 << 20
	// templateSlack is how many rows past a template's own a data sheet may run before
	// it is refused as too large: room for stray notes, not for a million rows.
	templateSlack = 1000
	// blankSlack is how many blank rows past the limit a sheet may have.
	blankSlack = 10_000
)

// Read checks an untrusted workbook and feeds it to h: the template (found by its
// metadata sheet) or else a table on the first sheet whose first row is the CSV header.
// A file that cannot be read at all returns a *submission.FileError; problems inside it
// go to h.
func Read(r io.ReaderAt, size int64, o Options, h submission.Handler) (err error) {
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
	// excelize is not hardened against every malformed part; a panic on a hostile file
	// must be a refused file, not a dead server.
	defer func() {
		if v := recover(); v != nil {
			err = damaged(fmt.Errorf("excelize: %v", v))
		}
	}()
	f, err := excelize.OpenReader(io.NewSectionReader(r, 0, size), excelize.Options{
		UnzipSizeLimit:    o.MaxUnzipped,
		UnzipXMLSizeLimit: min(o.MaxUnzipped, inMemorySheet),
		RawCellValue:      true,
		TmpDir:            o.TempDir,
	})
	if err != nil {
		return damaged(err)
	}
	defer f.Close()
	rd := &reader{f: f, p: p, o: o, h: h}
	if _, ok := p.sheet(SheetMeta); ok {
		return rd.template()
	}
	return rd.table()
}

// ReadFile is Read for a file on disk.
func ReadFile(name string, o Options, h submission.Handler) error {
	fh, err := os.Open(name)
	if err != nil {
		return fmt.Errorf("open %s: %w", name, err)
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		return fmt.Errorf("open %s: %w", name, err)
	}
	return Read(fh, st.Size(), o, h)
}

type reader struct {
	f *excelize.File
	p *pkg
	o Options
	h submission.Handler
}

func (rd *reader) problem(at submission.Place, rule, vi, en string, args ...any) {
	rd.h.Problem(submission.Problem{Place: at, Rule: rule, Reason: fmt.Sprintf(vi, args...) + " / " + fmt.Sprintf(en, args...)})
}

// template reads the metadata sheet, then the data rows.
func (rd *reader) template() error {
	meta, err := rd.meta()
	if err != nil {
		return err
	}
	at := func(row int) submission.Place { return submission.CellPlace(SheetMeta, 2, row) }
	hdr := submission.Header{
		Format:   submission.XLSX,
		Defaults: true,
		Agency:   textField(at(metaAgency), meta[metaAgency]),
		Period:   textField(at(metaPeriod), meta[metaPeriod]),
		RowPlace: func(row int) submission.Place { return submission.CellPlace(SheetData, 1, row) },
	}
	if err := rd.h.Header(hdr); err != nil {
		return err
	}
	if v := meta[metaVersion]; v != Version {
		rd.problem(at(metaVersion), "template_version", "mẫu phiên bản %q không được hỗ trợ (cần %s); hãy tải mẫu mới", "template version %q is not supported (want %s); download a new template", v, Version)
		return nil
	}
	rows, err := strconv.Atoi(meta[metaRows])
	first, err2 := strconv.Atoi(meta[metaFirstRow])
	if err != nil || err2 != nil || rows < 0 || rows > 10_000 || first != FirstRow {
		rd.problem(at(metaRows), "template_damaged", "siêu dữ liệu của mẫu bị sửa; hãy tải mẫu mới", "the template's metadata was changed; download a new template")
		return nil
	}
	rd.stale(at(metaCatalogue), meta)
	ref, ok := rd.p.sheet(SheetData)
	if !ok {
		rd.problem(submission.Place{Sheet: SheetData}, "template_damaged", "không tìm thấy trang %q; không đổi tên trang của mẫu", "sheet %q is missing; do not rename the template's sheets", SheetData)
		return nil
	}
	last := FirstRow + rows - 1
	return rd.rows(ref, last+templateSlack, func(row int, cells []string, field func(col int) submission.Field) error {
		if row < FirstRow {
			return nil
		}
		if row > last {
			for col := colNumerator; col <= colStatus; col++ {
				if f := field(col); f.Set {
					rd.problem(f.Place, "outside_template", "dòng %d không thuộc mẫu (mẫu có dòng %d–%d); không thêm dòng", "row %d is not part of the template (rows %d–%d); do not add rows", row, FirstRow, last)
				}
			}
			return nil
		}
		return rd.h.Row(submission.Row{
			Place:       submission.CellPlace(SheetData, 1, row),
			Ordinal:     row,
			Agency:      field(colAgency),
			Indicator:   field(colIndicator),
			Numerator:   field(colNumerator),
			Denominator: field(colDenominator),
			Value:       field(colValue),
			Status:      field(colStatus),
		})
	})
}

// meta reads the small metadata sheet whole.
func (rd *reader) meta() (map[int]string, error) {
	ref, _ := rd.p.sheet(SheetMeta)
	if zf := rd.p.parts[ref.part]; zf == nil || zf.UncompressedSize64 > uint64(rd.o.MaxPart) {
		return nil, damaged(fmt.Errorf("metadata sheet %s is missing or too large", ref.part))
	}
	rows, err := rd.f.GetRows(SheetMeta, excelize.Options{RawCellValue: true})
	if err != nil {
		return nil, damaged(err)
	}
	meta := map[int]string{}
	for i, r := range rows {
		if len(r) >= 2 {
			meta[i+1] = strings.TrimSpace(r[1])
		}
	}
	return meta, nil
}

// stale compares the workbook's catalogue fingerprint with today's.
func (rd *reader) stale(at submission.Place, meta map[int]string) {
	if rd.o.Catalogue == nil || rd.o.Registry == nil {
		return
	}
	a, ok := rd.o.Registry.Get(meta[metaAgency])
	p, err := period.Parse(meta[metaPeriod])
	if !ok || err != nil {
		return // the validator reports the agency or period itself
	}
	if want := Fingerprint(a, p, ListIndicators(rd.o.Catalogue, a, p)); meta[metaCatalogue] != want {
		rd.problem(at, "template_stale", "mẫu đã cũ: danh mục chỉ tiêu đã thay đổi từ khi tải mẫu (%s); hãy tải mẫu mới cho %s kỳ %s",
			"the template is stale: the indicator catalogue changed after it was made (%s); download a new template for %s, period %s", meta[metaGenerated], a.Code, p)
	}
}

// table reads a plain table: the first visible sheet, whose first row names the columns.
func (rd *reader) table() error {
	var ref sheetRef
	for _, s := range rd.p.sheets {
		if s.state == "" || s.state == "visible" {
			ref = s
			break
		}
	}
	hdr := submission.Header{Format: submission.XLSX,
		RowPlace: func(row int) submission.Place { return submission.CellPlace(ref.name, 1, row) }}
	if err := rd.h.Header(hdr); err != nil {
		return err
	}
	if ref.name == "" {
		rd.problem(submission.Place{}, "empty", "bảng tính không có trang nào", "the workbook has no sheet")
		return nil
	}
	cols := map[int]string{}
	index := map[string]int{}
	sawHeader := false
	headerOK := true
	data := 0
	return rd.rows(ref, rd.o.MaxRows+1, func(row int, cells []string, field func(col int) submission.Field) error {
		if !sawHeader {
			if len(cells) == 0 {
				return nil // blank lines above the header
			}
			sawHeader = true
			headerOK = rd.tableHeader(ref.name, row, cells, cols, index)
			return nil
		}
		if !headerOK {
			return errStop
		}
		data++
		get := func(name string) submission.Field {
			col, ok := index[name]
			if !ok {
				return submission.Field{Place: submission.CellPlace(ref.name, 1, row)}
			}
			return field(col)
		}
		return rd.h.Row(submission.Row{
			Place:       submission.CellPlace(ref.name, 1, row),
			Ordinal:     row,
			Agency:      get(submission.ColAgency),
			Period:      get(submission.ColPeriod),
			Indicator:   get(submission.ColIndicator),
			Value:       get(submission.ColValue),
			Numerator:   get(submission.ColNumerator),
			Denominator: get(submission.ColDenominator),
			Status:      get(submission.ColStatus),
		})
	})
}

func (rd *reader) tableHeader(sheet string, row int, cells []string, cols map[int]string, index map[string]int) bool {
	ok := true
	for i, c := range cells {
		name := strings.ToLower(strings.TrimSpace(c))
		if name == "" {
			continue
		}
		at := submission.CellPlace(sheet, i+1, row)
		switch name {
		case submission.ColAgency, submission.ColPeriod, submission.ColIndicator, submission.ColValue,
			submission.ColNumerator, submission.ColDenominator, submission.ColStatus:
			if _, dup := index[name]; dup {
				rd.problem(at, "column", "cột %q lặp lại", "column %q appears twice", name)
				ok = false
				continue
			}
			index[name], cols[i+1] = i+1, name
		default:
			rd.problem(at, "column", "cột %q không được hỗ trợ; dòng tiêu đề là %s", "unknown column %q; the header row is %s", c, strings.Join(submission.CSVColumns, ","))
			ok = false
		}
	}
	for _, need := range []string{submission.ColAgency, submission.ColPeriod, submission.ColIndicator} {
		if _, has := index[need]; !has {
			rd.problem(submission.CellPlace(sheet, 1, row), "column", "thiếu cột %q; dòng tiêu đề là %s", "column %q is missing; the header row is %s", need, strings.Join(submission.CSVColumns, ","))
			ok = false
		}
	}
	return ok
}

// errStop ends a row walk early without an error.
var errStop = fmt.Errorf("stop")

// rows streams a sheet with excelize's Rows and raw values, after finding its formula
// cells. maxRow is the last row that may hold anything; a non-empty row past it stops
// the walk with a TooManyRows error, before the rest of a huge sheet is read.
func (rd *reader) rows(ref sheetRef, maxRow int, each func(row int, cells []string, field func(col int) submission.Field) error) error {
	formulas, total, err := rd.p.formulas(ref.part, maxRow)
	if err != nil {
		return err
	}
	if total > len(formulas) {
		rd.problem(submission.Place{Sheet: ref.name}, "formula", "trang có %d ô công thức; G-OC không tính công thức, hãy nhập giá trị",
			"the sheet holds %d formula cells; G-OC evaluates none, type the values instead", total)
	}
	it, err := rd.f.Rows(ref.name)
	if err != nil {
		return damaged(err)
	}
	defer it.Close()
	var cells []string
	row := 0
	field := func(col int) submission.Field {
		f := submission.Field{Place: submission.CellPlace(ref.name, col, row)}
		if col-1 < len(cells) {
			if t := strings.TrimSpace(cells[col-1]); t != "" {
				f.Set, f.Text = true, t
			}
		}
		if len(formulas) > 0 {
			if _, ok := formulas[cellKey(col, row)]; ok {
				f.Set, f.Formula = true, true
			}
		}
		return f
	}
	for it.Next() {
		row++
		cells, err = it.Columns(excelize.Options{RawCellValue: true})
		if err != nil {
			return damaged(err)
		}
		if row > maxRow && !blank(cells) {
			return &submission.FileError{Kind: submission.TooManyRows,
				Reason: fmt.Sprintf("trang %q có dữ liệu ở dòng %d, quá giới hạn %d dòng / sheet %q has data on row %d, past the limit of %d rows", ref.name, row, maxRow, ref.name, row, maxRow)}
		}
		// Blank rows past the limit are stray formatting, but not a million of them:
		// walking them costs time whatever they hold.
		if row > maxRow+blankSlack {
			return &submission.FileError{Kind: submission.TooManyRows,
				Reason: fmt.Sprintf("trang %q kéo dài đến dòng %d, quá giới hạn %d dòng / sheet %q runs past row %d, beyond the limit of %d rows", ref.name, row, maxRow, ref.name, row-1, maxRow)}
		}
		if rd.o.Progress != nil && row%4096 == 0 {
			rd.o.Progress(row)
		}
		if err := each(row, cells, field); err != nil {
			if err == errStop {
				return nil
			}
			return err
		}
	}
	if err := it.Error(); err != nil {
		if err == excelize.ErrMaxRows {
			return &submission.FileError{Kind: submission.TooManyRows, Reason: "trang vượt quá 1.048.576 dòng / the sheet exceeds 1,048,576 rows"}
		}
		return damaged(err)
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

func textField(at submission.Place, v string) submission.Field {
	return submission.Field{Place: at, Set: v != "", Text: v}
}
