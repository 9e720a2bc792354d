package reports

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/g-oc/goc/indicators"
)

// ExportHeaders are the columns of a raw export, in Vietnamese and English.
var ExportHeaders = []string{
	"Chỉ tiêu / indicator", "Mã đơn vị / agency", "Đơn vị / agency name", "Kỳ / period",
	"Giá trị / value", "Tử số / numerator", "Mẫu số / denominator", "Nguồn / source",
	"Người nộp / submitter", "Thời điểm nhận / received at", "Lần sửa / revision", "Lô / batch",
}

// csvHeaders are the CSV column names: plain, stable keys for programs.
var csvHeaders = []string{
	"indicator", "agency", "agency_name", "period", "value", "numerator", "denominator",
	"source", "submitter", "received_at", "revision", "batch",
}

// ExportMeta describes an export for its About sheet.
type ExportMeta struct {
	// Names gives an agency's name for the agency-name column.
	Names func(code string) string
	// Location is the zone received-at times are shown in.
	Location *time.Location
	// Query describes what was asked for, e.g. "indicator=… from=2024 to=2025".
	Query       string
	GeneratedAt time.Time
}

func (m *ExportMeta) name(code string) string {
	if m.Names == nil {
		return ""
	}
	return m.Names(code)
}

// Exporter writes observations as they are read, one batch at a time, so an export of
// any size holds only the batch in memory. Close finishes the file.
type Exporter interface {
	Write(obs []indicators.Observation) error
	Close() error
	// Rows is how many observations were written.
	Rows() int64
}

// MaxSheetRows is how many data rows one sheet of an XLSX export holds: Excel's
// 1,048,576 rows less the header. Further rows go on a continuation sheet.
const MaxSheetRows = 1<<20 - 1

// SheetExport is the first data sheet of an XLSX export; continuation sheets add " (2)", " (3)".
const SheetExport = "Dữ liệu - Data"

// SheetExportAbout describes the export.
const SheetExportAbout = "Thông tin - About"

// XLSXExport streams observations into an XLSX file with excelize's StreamWriter: rows go
// to a temporary file as they are written, so memory stays bounded.
type XLSXExport struct {
	w     io.Writer
	meta  ExportMeta
	f     *excelize.File
	sw    *excelize.StreamWriter
	sheet int
	row   int // last row written on the current sheet
	rows  int64
	date  int
	head  int
	cells []any
	// maxRows is MaxSheetRows; tests lower it to see a continuation sheet.
	maxRows int
}

// NewXLSXExport starts an XLSX export that Close writes to w.
func NewXLSXExport(w io.Writer, meta ExportMeta) (*XLSXExport, error) {
	if meta.Location == nil {
		meta.Location = DefaultLocation()
	}
	f := excelize.NewFile()
	x := &XLSXExport{w: w, meta: meta, f: f, cells: make([]any, len(ExportHeaders)), maxRows: MaxSheetRows}
	var err error
	custom := "yyyy-mm-dd hh:mm:ss"
	if x.date, err = f.NewStyle(&excelize.Style{CustomNumFmt: &custom}); err != nil {
		return nil, fmt.Errorf("export style: %w", err)
	}
	if x.head, err = f.NewStyle(calibri(&excelize.Style{Font: &excelize.Font{Bold: true, Color: "FFFFFF"},
		Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"1F4E79"}}})); err != nil {
		return nil, fmt.Errorf("export style: %w", err)
	}
	if err := f.SetSheetName("Sheet1", SheetExport); err != nil {
		return nil, fmt.Errorf("export sheet: %w", err)
	}
	if err := x.startSheet(SheetExport); err != nil {
		f.Close()
		return nil, err
	}
	return x, nil
}

func (x *XLSXExport) startSheet(name string) error {
	if x.sheet > 0 {
		if _, err := x.f.NewSheet(name); err != nil {
			return fmt.Errorf("export sheet %s: %w", name, err)
		}
	}
	x.sheet++
	sw, err := x.f.NewStreamWriter(name)
	if err != nil {
		return fmt.Errorf("export sheet %s: %w", name, err)
	}
	x.sw = sw
	widths := []float64{26, 9, 26, 9, 12, 12, 12, 10, 16, 20, 8, 18}
	for i, wd := range widths {
		if err := sw.SetColWidth(i+1, i+1, wd); err != nil {
			return fmt.Errorf("export sheet %s: %w", name, err)
		}
	}
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return fmt.Errorf("export sheet %s: %w", name, err)
	}
	head := make([]any, len(ExportHeaders))
	for i, h := range ExportHeaders {
		head[i] = excelize.Cell{StyleID: x.head, Value: h}
	}
	_, off := x.meta.GeneratedAt.In(x.meta.Location).Zone()
	head[9] = excelize.Cell{StyleID: x.head, Value: fmt.Sprintf("Thời điểm nhận / received at (UTC%+d)", off/3600)}
	x.row = 1
	if err := sw.SetRow("A1", head); err != nil {
		return fmt.Errorf("export sheet %s: %w", name, err)
	}
	return nil
}

// Write appends observations.
func (x *XLSXExport) Write(obs []indicators.Observation) error {
	for i := range obs {
		o := &obs[i]
		if x.row-1 >= x.maxRows {
			if err := x.sw.Flush(); err != nil {
				return fmt.Errorf("export sheet %d: %w", x.sheet, err)
			}
			if err := x.startSheet(fmt.Sprintf("%s (%d)", SheetExport, x.sheet+1)); err != nil {
				return err
			}
		}
		c := x.cells
		c[0], c[1], c[2], c[3] = o.Indicator, o.Agency, x.meta.name(o.Agency), o.Period.String()
		c[4] = o.Value
		c[5], c[6] = nil, nil
		if o.Numerator != nil {
			c[5] = *o.Numerator
		}
		if o.Denominator != nil {
			c[6] = *o.Denominator
		}
		c[7], c[8] = string(o.Source), o.Submitter
		c[9] = excelize.Cell{StyleID: x.date, Value: wallClock(o.ReceivedAt, x.meta.Location)}
		c[10], c[11] = o.Revision, o.Batch
		x.row++
		if err := x.sw.SetRow("A"+strconv.Itoa(x.row), c); err != nil {
			return fmt.Errorf("export row %d: %w", x.row, err)
		}
		x.rows++
	}
	return nil
}

// Rows is how many observations were written.
func (x *XLSXExport) Rows() int64 { return x.rows }

// Close finishes the data sheets, adds the About sheet and writes the file.
func (x *XLSXExport) Close() error {
	defer x.f.Close()
	if err := x.sw.Flush(); err != nil {
		return fmt.Errorf("export sheet %d: %w", x.sheet, err)
	}
	if _, err := x.f.NewSheet(SheetExportAbout); err != nil {
		return fmt.Errorf("export sheet %s: %w", SheetExportAbout, err)
	}
	about := [][2]string{
		{"Xuất dữ liệu gốc G-OC / G-OC raw export", ""},
		{"Yêu cầu / query", x.meta.Query},
		{"Số dòng / rows", strconv.FormatInt(x.rows, 10)},
		{"Thời điểm lập / generated at", formatTime(x.meta.GeneratedAt, x.meta.Location)},
		{"Ghi chú / note", "Mỗi dòng là một lần nộp đã lưu, với nguồn, người nộp và lần sửa. Each row is one stored revision with its source, submitter and revision."},
	}
	for i, r := range about {
		if err := x.f.SetSheetRow(SheetExportAbout, "A"+strconv.Itoa(i+1), &[]any{r[0], r[1]}); err != nil {
			return fmt.Errorf("export sheet %s: %w", SheetExportAbout, err)
		}
	}
	if err := x.f.SetColWidth(SheetExportAbout, "A", "A", 30); err != nil {
		return err
	}
	if err := x.f.SetColWidth(SheetExportAbout, "B", "B", 90); err != nil {
		return err
	}
	for _, s := range x.f.GetSheetList() {
		if err := printSetup(x.f, s, true, false, 11); err != nil {
			return err
		}
	}
	if err := x.f.Write(x.w); err != nil {
		return fmt.Errorf("write export: %w", err)
	}
	return nil
}

// CSVExport writes observations as UTF-8 CSV with a header row; times are RFC 3339 with
// their offset.
type CSVExport struct {
	w    *csv.Writer
	meta ExportMeta
	rows int64
	rec  []string
}

// NewCSVExport starts a CSV export on w and writes the header.
func NewCSVExport(w io.Writer, meta ExportMeta) (*CSVExport, error) {
	if meta.Location == nil {
		meta.Location = DefaultLocation()
	}
	c := &CSVExport{w: csv.NewWriter(w), meta: meta, rec: make([]string, len(csvHeaders))}
	if err := c.w.Write(csvHeaders); err != nil {
		return nil, fmt.Errorf("write export: %w", err)
	}
	return c, nil
}

// Write appends observations.
func (c *CSVExport) Write(obs []indicators.Observation) error {
	for i := range obs {
		o := &obs[i]
		r := c.rec
		r[0], r[1], r[2], r[3] = o.Indicator, o.Agency, c.meta.name(o.Agency), o.Period.String()
		r[4] = strconv.FormatFloat(o.Value, 'f', -1, 64)
		r[5], r[6] = optFloat(o.Numerator), optFloat(o.Denominator)
		r[7], r[8] = string(o.Source), o.Submitter
		r[9] = o.ReceivedAt.In(c.meta.Location).Format(time.RFC3339Nano)
		r[10], r[11] = strconv.Itoa(o.Revision), o.Batch
		if err := c.w.Write(r); err != nil {
			return fmt.Errorf("write export: %w", err)
		}
		c.rows++
	}
	return nil
}

// Rows is how many observations were written.
func (c *CSVExport) Rows() int64 { return c.rows }

// Close flushes what is buffered.
func (c *CSVExport) Close() error {
	c.w.Flush()
	if err := c.w.Error(); err != nil {
		return fmt.Errorf("write export: %w", err)
	}
	return nil
}

func optFloat(f *float64) string {
	if f == nil {
		return ""
	}
	return strconv.FormatFloat(*f, 'f', -1, 64)
}

// ExportFormat picks the export format from a file name: .xlsx or .csv.
func ExportFormat(file string) (string, error) {
	switch {
	case strings.HasSuffix(strings.ToLower(file), ".xlsx"):
		return "xlsx", nil
	case strings.HasSuffix(strings.ToLower(file), ".csv"):
		return "csv", nil
	}
	return "", fmt.Errorf("tệp %q phải có đuôi .xlsx hoặc .csv / file %q must end in .xlsx or .csv", file, file)
}

// NewExporter starts an export of the given format ("xlsx" or "csv") on w.
func NewExporter(format string, w io.Writer, meta ExportMeta) (Exporter, error) {
	switch format {
	case "xlsx":
		return NewXLSXExport(w, meta)
	case "csv":
		return NewCSVExport(w, meta)
	}
	return nil, fmt.Errorf("unknown export format %q (want xlsx or csv)", format)
}
