package feed

import (
	"bytes"
	"fmt"

	"github.com/xuri/excelize/v2"
)

// parseXLSX reads one sheet of a workbook (f.Sheet, or the first) laid out as CSV
// is: a header row, then one value per row. Cells are read raw, not as formatted, so
// 0.555 shown as "55.5%" reads as 0.555.
func parseXLSX(f *Feed, data []byte) ([]Row, []Problem) {
	// An XLSX is a zip: cap what it may unpack to, so a small file cannot claim
	// gigabytes of memory.
	limit := max(int64(len(data))*20, 64<<20)
	wb, err := excelize.OpenReader(bytes.NewReader(data), excelize.Options{
		RawCellValue: true, UnzipSizeLimit: limit, UnzipXMLSizeLimit: limit,
	})
	if err != nil {
		return nil, []Problem{{Reason: "không đọc được tệp XLSX / not a readable XLSX workbook: " + err.Error()}}
	}
	defer wb.Close()
	sheet := f.Sheet
	if sheet == "" {
		list := wb.GetSheetList()
		if len(list) == 0 {
			return nil, []Problem{{Reason: "tệp không có trang tính / the workbook has no sheet"}}
		}
		sheet = list[0]
	} else if idx, err := wb.GetSheetIndex(sheet); err != nil || idx < 0 {
		return nil, []Problem{{Where: "sheet " + sheet, Reason: fmt.Sprintf("không có trang tính này; có / no such sheet; the workbook has %v", wb.GetSheetList())}}
	}
	all, err := wb.GetRows(sheet, excelize.Options{RawCellValue: true})
	if err != nil {
		return nil, []Problem{{Where: "sheet " + sheet, Reason: "không đọc được / unreadable: " + err.Error()}}
	}
	if len(all) == 0 {
		return nil, []Problem{{Where: "sheet " + sheet, Reason: "trang tính rỗng, cần dòng tiêu đề / empty sheet: a header row is required"}}
	}
	t := table{header: all[0], rows: all[1:], first: 2,
		cell: func(row, col int) string {
			return fmt.Sprintf("sheet %s, cell %s%d (%s)", sheet, columnName(col), row, all[0][col])
		},
		record: func(row int) string { return fmt.Sprintf("sheet %s, row %d", sheet, row) },
	}
	return t.read(f)
}
