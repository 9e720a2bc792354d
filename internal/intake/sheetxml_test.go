package intake

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

// The worksheet reader must give, cell for cell, what excelize's Rows() and Columns()
// with RawCellValue give for the same workbook: that is how every workbook was read
// before it. Each test here reads a workbook with both and compares every row.

// sheetRow is one row as a reader gave it.
type sheetRow struct {
	row   int
	cells []string
}

// ourRows reads the first sheet (or the named one) with readSheetRows.
func ourRows(t testing.TB, b []byte, sheet string) ([]sheetRow, map[[2]int]bool, error) {
	t.Helper()
	p, err := checkPackage(bytes.NewReader(b), int64(len(b)), XLSXOptions{MaxUnzipped: DefaultMaxUnzipped, MaxPart: DefaultMaxPart})
	if err != nil {
		return nil, nil, err
	}
	ref := p.sheets[0]
	if sheet != "" {
		ref, _ = p.sheet(sheet)
	}
	sst, err := p.readSharedStrings(t.TempDir())
	if err != nil {
		return nil, nil, err
	}
	defer sst.Close()
	zf, err := p.sheetPart(ref)
	if err != nil {
		return nil, nil, err
	}
	var rows []sheetRow
	formulas := map[[2]int]bool{}
	err = readSheetRows(zf, ref.name, sst, func(row int, cells []string, fcols []int) error {
		rows = append(rows, sheetRow{row, append([]string(nil), cells...)})
		for _, c := range fcols {
			formulas[[2]int{row, c}] = true
		}
		return nil
	})
	return rows, formulas, err
}

// excelizeRows reads the same sheet as the intake read it before: Rows, Columns, raw.
func excelizeRows(t testing.TB, b []byte, sheet string) []sheetRow {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(b), excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatalf("excelize cannot open the workbook: %v", err)
	}
	defer f.Close()
	if sheet == "" {
		sheet = f.GetSheetList()[0]
	}
	it, err := f.Rows(sheet)
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	var rows []sheetRow
	for n := 1; it.Next(); n++ {
		cells, err := it.Columns(excelize.Options{RawCellValue: true})
		if err != nil {
			t.Fatalf("excelize: row %d: %v", n, err)
		}
		rows = append(rows, sheetRow{n, cells})
	}
	if err := it.Error(); err != nil {
		t.Fatalf("excelize: %v", err)
	}
	return rows
}

// sameRows compares the two readings, an empty row being the same with no cells or nil.
func sameRows(t testing.TB, got, want []sheetRow) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%d rows, excelize reads %d\n got %v\nwant %v", len(got), len(want), excerptRows(got), excerptRows(want))
		return
	}
	for i := range want {
		g, w := got[i], want[i]
		if len(g.cells) == 0 && len(w.cells) == 0 && g.row == w.row {
			continue
		}
		if g.row != w.row || !reflect.DeepEqual(g.cells, w.cells) {
			t.Errorf("row %d: got %q (row %d), excelize reads %q", w.row, g.cells, g.row, w.cells)
			return
		}
	}
}

func excerptRows(r []sheetRow) []sheetRow { return r[:min(len(r), 8)] }

// differ reads b with both readers and compares.
func differ(t testing.TB, b []byte) map[[2]int]bool {
	t.Helper()
	got, formulas, err := ourRows(t, b, "")
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	sameRows(t, got, excelizeRows(t, b, ""))
	return formulas
}

// handMade is a workbook written byte by byte: the worksheet's <sheetData> content and,
// when sst is not empty, a shared string table's <si> items.
func handMade(t testing.TB, sheetData, sst string) []byte {
	t.Helper()
	return handMadeXML(t, `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>`+"\n"+`<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><dimension ref="A1"/><sheetData>`+sheetData+`</sheetData><pageMargins left="0.7"/></worksheet>`, sst)
}

// handMadeXML is handMade with the worksheet's whole XML.
func handMadeXML(t testing.TB, sheet, sst string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	put := func(name, body string) {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, body)
	}
	ct := `<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>`
	rels := `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>`
	if sst != "" {
		ct += `<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>`
		rels += `<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>`
		put("xl/sharedStrings.xml", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>`+"\r\n"+`<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">`+sst+`</sst>`)
	}
	put("[Content_Types].xml", ct+`</Types>`)
	put("_rels/.rels", `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`)
	put("xl/workbook.xml", `<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>`)
	put("xl/_rels/workbook.xml.rels", rels+`</Relationships>`)
	put("xl/worksheets/sheet1.xml", sheet)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestTheSheetReaderReadsHandWrittenWorksheetsAsExcelizeDoes(t *testing.T) {
	sst := `<si><t>plain</t></si>` +
		`<si><r><t>rich </t></r><r><rPr><b/><sz val="11"/></rPr><t xml:space="preserve"> text </t></r></si>` +
		`<si><t>own</t><r><t>+run</t></r><rPh sb="0" eb="1"><t>phonetic</t></rPh><phoneticPr fontId="1"/></si>` +
		`<si><t>A &amp; B &lt;C&gt; &quot;q&quot; &apos;a&apos; &#272;&#x1EA1;i</t></si>` +
		`<si><t>line one` + "\r\n" + `line two` + "\r" + `three&#13;&#10;four</t></si>` +
		`<si><t><![CDATA[<not a tag> & no entity]]></t></si>` +
		`<si><t>_x0041__x005F_x0042_ tab_x0009_end _x00zz_ _xD800_.</t></si>` +
		`<si><t/></si>` +
		`<si></si>` +
		`<si/>` +
		`<si><t>first</t><t>second</t></si>` +
		`<si><t xml:space="preserve">  padded  </t></si>` +
		`<si><t>Hà Nội – Đà Nẵng</t><!-- a comment --></si>`
	cases := []struct{ name, sheet, sst string }{
		{"shared strings, rich text, entities, CRLF, CDATA, escapes", func() string {
			var b strings.Builder
			for i := range 13 {
				fmt.Fprintf(&b, `<row r="%d"><c r="A%d" t="s"><v>%d</v></c><c r="B%d" t="s" s="3"><v> %d </v></c></row>`, i+1, i+1, i, i+1, i)
			}
			return b.String()
		}(), sst},
		{"no r attribute on rows or cells", `<row><c t="inlineStr"><is><t>a</t></is></c><c><v>1</v></c></row><row/><row><c/><c><v>2</v></c><c r="E3"><v>3</v></c><c><v>4</v></c></row>`, ""},
		{"inline strings with runs and odd text", `<row r="1"><c r="A1" t="inlineStr"><is><r><t>run </t></r><r><rPr><i/></rPr><t>two</t></r></is></c>` +
			`<c r="B1" t="inlineStr"><is><t xml:space="preserve"> x&amp;y&#x20;&#65; </t></is></c>` +
			`<c r="C1" t="inlineStr"><is><t>a` + "\r\n" + `b</t></is></c>` +
			`<c r="D1" t="inlineStr"><v>ignored v</v></c>` +
			`<c r="E1" t="inlineStr"><is/></c>` +
			`<c r="F1" t="inlineStr"><is><t>_x000D_carriage</t></is></c></row>`, ""},
		{"numbers, booleans, errors, dates, formula results", `<row r="2"><c r="A2"><v>42</v></c><c r="B2" t="n"><v>-0.000123</v></c><c r="C2"><v>1.2345678901234567E+20</v></c>` +
			`<c r="D2" t="b"><v>1</v></c><c r="E2" t="b"><v>0</v></c><c r="F2" t="e"><v>#DIV/0!</v></c><c r="G2" t="d"><v>2025-09-30T00:00:00Z</v></c>` +
			`<c r="H2" s="1"><v>45930</v></c><c r="I2" t="str"><f>A2&amp;"x"</f><v>42x</v></c><c r="J2"><f>1/0</f><v>#DIV/0!</v></c><c r="K2"><f>A2</f></c>` +
			`<c r="L2"><f t="shared" ref="L2:L3" si="0">A2*2</f><v>84</v></c></row><row r="3"><c r="L3"><f t="shared" si="0"/><v>0</v></c></row>`, ""},
		{"sparse rows and columns", `<row r="3"><c r="C3"><v>1</v></c><c r="Z3"><v>2</v></c></row><row r="7" spans="1:3" ht="20" customHeight="1"><c r="B7" s="2"/></row><row r="9"><c r="XFD9"><v>3</v></c></row><row r="12"><c r="aa12"><v>4</v></c><c r="$AB$12"><v>5</v></c></row>`, ""},
		{"empty cells and empty values", `<row r="1"><c r="A1"><v></v></c><c r="B1"><v/></c><c r="C1" t="s"><v></v></c><c r="D1" t="inlineStr"/><c r="E1"><v>0</v></c></row><row r="2"></row>`, ""},
		{"prefixed elements, single quotes, spaces around =", `<x:row r='1'><x:c r = "A1" t='inlineStr'><x:is><x:t>p</x:t></x:is></x:c><x:c r="B1"><x:v>7</x:v></x:c></x:row>`, ""},
		{"comments and processing instructions inside cells", `<row r="1"><!-- <row r="9"> --><c r="A1"><?pi x?><v>1<!-- 2 -->3</v></c><c r="B1"><v><![CDATA[4]]>5</v></c></row>`, ""},
		{"character reference in a cell reference", `<row r="2"><c r="&#68;2"><v>1</v></c><c r="&#x45;2" t="&#115;"><v>0</v></c></row>`, `<si><t>s0</t></si>`},
		{"rows out of order and repeated are merged as excelize merges them", `<row r="2"><c r="A2"><v>1</v></c></row><row r="2"><c r="B2"><v>2</v></c></row><row r="1"><c r="A1"><v>3</v></c></row><row r="4"><c r="C4"><v>4</v></c><c r="A4"><v>5</v></c></row>`, ""},
		{"a value in a nested element of a cell", `<row r="1"><c r="A1"><extLst><v>9</v></extLst></c><c r="B1"><v>1<b>2</b>3</v></c></row>`, ""},
		{"no rows", ``, ""},
		{"text that looks like markup inside attributes", `<row r="1" x:note="a > b"><c r="A1" x:note='"&gt;"'><v>1</v></c></row>`, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			differ(t, handMade(t, tc.sheet, tc.sst))
		})
	}
}

func TestTheSheetReaderFindsEveryFormulaCell(t *testing.T) {
	b := handMade(t, `<row r="1"><c r="A1"><f>1+1</f><v>2</v></c><c r="B1"><v>3</v></c></row>`+
		`<row r="3"><c r="&#68;3"><f>A1</f></c><c><x:f/><v>5</v></c></row>`, "")
	got := differ(t, b)
	want := map[[2]int]bool{{1, 1}: true, {3, 4}: true, {3, 5}: true}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("formula cells %v, want %v", got, want)
	}
}

func TestTheSheetReaderReadsWorkbooksExcelizeWritesAsExcelizeDoes(t *testing.T) {
	date := time.Date(2025, 9, 30, 14, 30, 0, 0, time.UTC)
	cases := []struct {
		name string
		fill func(f *excelize.File) error
	}{
		{"values of every kind", func(f *excelize.File) error {
			vals := []any{"text", "Hà Nội", " spaced ", "a & b < c", "line\r\nbreak", "tab\there", "\x01control", "_x0041_ literal",
				42, -7, 3.14159, 0.1 + 0.2, 1e-20, math.MaxInt32, int64(1) << 53, true, false, date, nil, ""}
			for i, v := range vals {
				if err := f.SetCellValue("Sheet1", cellName(i%5+1, i/5+1), v); err != nil {
					return err
				}
			}
			return nil
		}},
		{"rich text", func(f *excelize.File) error {
			return f.SetCellRichText("Sheet1", "B2", []excelize.RichTextRun{{Text: "bold ", Font: &excelize.Font{Bold: true}}, {Text: "and plain"}})
		}},
		{"formulas", func(f *excelize.File) error {
			f.SetCellValue("Sheet1", "A1", 2)
			if err := f.SetCellFormula("Sheet1", "B1", "A1*2"); err != nil {
				return err
			}
			return f.SetCellFormula("Sheet1", "C3", `"x"&A1`)
		}},
		{"sparse, styled and empty rows", func(f *excelize.File) error {
			style, err := f.NewStyle(&excelize.Style{NumFmt: 14})
			if err != nil {
				return err
			}
			f.SetCellValue("Sheet1", "C5", date)
			f.SetCellStyle("Sheet1", "C5", "C5", style)
			f.SetCellStyle("Sheet1", "A8", "D8", style)
			f.SetRowHeight("Sheet1", 10, 30)
			return f.SetCellValue("Sheet1", "AB12", 1)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := excelize.NewFile()
			defer f.Close()
			if err := tc.fill(f); err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			if err := f.Write(&b); err != nil {
				t.Fatal(err)
			}
			differ(t, b.Bytes())
		})
	}
}

func cellName(col, row int) string {
	n, _ := excelize.CoordinatesToCellName(col, row)
	return n
}

// randomValue is a cell value of any kind an officer's workbook holds.
func randomValue(r *rand.Rand) any {
	switch r.IntN(9) {
	case 0:
		return r.IntN(2_000_000) - 1_000_000
	case 1:
		return r.NormFloat64() * math.Pow(10, float64(r.IntN(30)-15))
	case 2:
		return r.IntN(2) == 0
	case 3:
		return time.Date(1990+r.IntN(60), time.Month(1+r.IntN(12)), 1+r.IntN(28), r.IntN(24), r.IntN(60), 0, 0, time.UTC)
	default:
		alphabet := []rune("abcXYZ019 _-.,;&<>\"'\t\r\nàáạảãĐđơưếộ–…€😀\u00a0x_x00")
		n := r.IntN(12)
		s := make([]rune, n)
		for i := range s {
			s[i] = alphabet[r.IntN(len(alphabet))]
		}
		return string(s)
	}
}

func TestTheSheetReaderReadsRandomWorkbooksAsExcelizeDoes(t *testing.T) {
	for seed := range uint64(40) {
		r := rand.New(rand.NewPCG(seed, 12))
		f := excelize.NewFile()
		stream := seed%2 == 1
		var b bytes.Buffer
		if stream {
			sw, err := f.NewStreamWriter("Sheet1")
			if err != nil {
				t.Fatal(err)
			}
			row := 1
			for range 1 + r.IntN(60) {
				row += r.IntN(3)
				vals := make([]any, r.IntN(8))
				for i := range vals {
					if r.IntN(4) > 0 {
						vals[i] = randomValue(r)
					}
					if r.IntN(15) == 0 {
						vals[i] = excelize.Cell{Formula: "1+1", Value: randomValue(r)}
					}
				}
				if err := sw.SetRow(cellName(1+r.IntN(3), row), vals); err != nil {
					t.Fatal(err)
				}
				row++
			}
			if err := sw.Flush(); err != nil {
				t.Fatal(err)
			}
		} else {
			for range r.IntN(200) {
				at := cellName(1+r.IntN(30), 1+r.IntN(80))
				var err error
				if r.IntN(15) == 0 {
					err = f.SetCellFormula("Sheet1", at, "SUM(A1:B2)")
				} else {
					err = f.SetCellValue("Sheet1", at, randomValue(r))
				}
				if err != nil {
					t.Fatal(err)
				}
			}
		}
		if err := f.Write(&b); err != nil {
			t.Fatal(err)
		}
		f.Close()
		t.Run(fmt.Sprintf("seed %d stream %v", seed, stream), func(t *testing.T) { differ(t, b.Bytes()) })
	}
}

// randomSheetXML writes rows excelize never writes: cells and rows without r, jumps,
// repeats, odd entities and text, self-closing cells.
func randomSheetXML(r *rand.Rand) (string, string) {
	texts := []string{"a", "&amp;", "&#272;", "&#x1F600;", "x" + "\r\n" + "y", " ", "_x0041_", "<![CDATA[&]]>", "Đà", "&lt;&gt;"}
	var sst strings.Builder
	for i := range 5 {
		fmt.Fprintf(&sst, `<si><t>s%d%s</t></si>`, i, texts[r.IntN(len(texts))])
	}
	var b strings.Builder
	row := 0
	for range r.IntN(30) {
		row += 1 + r.IntN(3)
		if r.IntN(4) == 0 {
			b.WriteString(`<row>`)
			row = -1 // unknown from here: no more row numbers
		} else if row > 0 {
			fmt.Fprintf(&b, `<row r="%d">`, row)
		} else {
			b.WriteString(`<row>`)
		}
		col := 0
		for range r.IntN(6) {
			col += 1 + r.IntN(3)
			ref := ""
			if r.IntN(3) > 0 && row > 0 {
				ref = fmt.Sprintf(` r="%s"`, cellName(col, row))
			}
			switch r.IntN(7) {
			case 0:
				fmt.Fprintf(&b, `<c%s t="s"><v>%d</v></c>`, ref, r.IntN(5))
			case 1:
				fmt.Fprintf(&b, `<c%s t="inlineStr"><is><t>%s</t></is></c>`, ref, texts[r.IntN(len(texts))])
			case 2:
				fmt.Fprintf(&b, `<c%s t="inlineStr"><is><r><t>%s</t></r><r><t>%s</t></r></is></c>`, ref, texts[r.IntN(len(texts))], texts[r.IntN(len(texts))])
			case 3:
				fmt.Fprintf(&b, `<c%s/>`, ref)
			case 4:
				fmt.Fprintf(&b, `<c%s><f>1</f><v>%d</v></c>`, ref, r.IntN(9))
			default:
				fmt.Fprintf(&b, `<c%s><v>%s</v></c>`, ref, []string{"1", "-2.5", "1E+30", "", " 7 "}[r.IntN(5)])
			}
		}
		b.WriteString(`</row>`)
	}
	return b.String(), sst.String()
}

func TestTheSheetReaderReadsRandomHandWrittenSheetsAsExcelizeDoes(t *testing.T) {
	for seed := range uint64(200) {
		sheet, sst := randomSheetXML(rand.New(rand.NewPCG(seed, 7)))
		t.Run(fmt.Sprint(seed), func(t *testing.T) { differ(t, handMade(t, sheet, sst)) })
	}
}

func TestTheSheetReaderRefusesWhatExcelizeWouldDropNamingTheCell(t *testing.T) {
	cases := []struct{ name, sheet, sst, want string }{
		{"shared string past the table", `<row r="1"><c r="A1" t="s"><v>5</v></c></row>`, `<si><t>a</t></si>`, `sheet "Sheet1", cell A1: shared string 5 is not in the table`},
		{"shared string index that is not a number", `<row r="2"><c r="B2" t="s"><v>x</v></c></row>`, `<si><t>a</t></si>`, `cell B2: shared string index`},
		{"style that is not a number", `<row r="1"><c r="C1" s="x"><v>1</v></c></row>`, "", `cell C1: style`},
		{"cell reference that names no cell", `<row r="1"><c r="1A"><v>1</v></c></row>`, "", `row 1: invalid cell reference "1A"`},
		{"unknown entity", `<row r="1"><c r="A1" t="inlineStr"><is><t>&nbsp;</t></is></c></row>`, "", `cell A1: XML: invalid character entity &nbsp;`},
		{"mismatched tags", `<row r="1"><c r="A1"><v>1</c></row>`, "", `cell A1: XML: element <v> closed by </c>`},
		{"control character", `<row r="1"><c r="A1"><v>&#1;</v></c></row>`, "", `cell A1: XML: illegal character code U+0001`},
		{"row number that is not a number", `<row r="x"><c><v>1</v></c></row>`, "", `row number "x"`},
		{"invalid UTF-8", "<row r=\"1\"><c r=\"A1\"><v>\xff</v></c></row>", "", `cell A1: XML: invalid UTF-8`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := ourRows(t, handMade(t, tc.sheet, tc.sst), "")
			var fe *FileError
			if !errors.As(err, &fe) || fe.Kind != Damaged || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want a damaged workbook error with %q", err, tc.want)
			}
		})
	}
	t.Run("truncated worksheet", func(t *testing.T) {
		// The XML ends inside row 2: excelize stops there without a word.
		b := handMadeXML(t, `<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1"><v>1</v></c></row><row r="2"><c r="A2"><v>2`, "")
		_, _, err := ourRows(t, b, "")
		var fe *FileError
		if !errors.As(err, &fe) || fe.Kind != Damaged || !strings.Contains(err.Error(), `cell A2: XML: unexpected end`) {
			t.Errorf("err = %v, want a damaged workbook error at A2", err)
		}
	})
}
