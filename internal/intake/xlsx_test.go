package intake_test

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"io"
	"math"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/unicode/norm"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/internal/intake"
	"github.com/g-oc/goc/reports/template"
)

// checked is what Read and the validator made of a workbook.
type checked struct {
	obs    []indicators.Observation
	places map[string]intake.Place // indicator → place of its figure
	res    intake.Result
	err    error
}

// readChecked reads a workbook through the real validator, as the API does, with the
// token of scope.
func readChecked(t *testing.T, b []byte, scope string, o intake.XLSXOptions) checked {
	t.Helper()
	var c checked
	c.places = map[string]intake.Place{}
	if o.Catalogue == nil {
		o.Catalogue, o.Registry = indicators.DefaultCatalogue(), indicators.DefaultRegistry()
	}
	v := intake.NewValidator(intake.Rules{
		Catalogue: o.Catalogue, Registry: o.Registry, Location: time.UTC, Now: now,
		Scope: scope, Token: "test-" + scope,
		Emit: func(ob indicators.Observation, at intake.Place) {
			c.obs = append(c.obs, ob)
			c.places[ob.Indicator] = at
		},
	})
	c.err = intake.ReadXLSX(bytes.NewReader(b), int64(len(b)), o, v)
	c.res = v.Finish()
	return c
}

// fill sets cells of the data sheet the way an officer does in Excel: typed numbers
// and text in the yellow cells.
func fill(t *testing.T, b []byte, set func(f *excelize.File)) []byte {
	t.Helper()
	f := open(t, b)
	set(f)
	var out bytes.Buffer
	if err := f.Write(&out); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func setNum(t *testing.T, f *excelize.File, col, row int, v any) {
	t.Helper()
	if err := f.SetCellValue(intake.SheetData, cell(col, row), v); err != nil {
		t.Fatal(err)
	}
}

// fillAll gives every ratio row a good numerator and denominator.
func fillAll(t *testing.T, f *excelize.File, spec template.Spec) {
	for i, ind := range spec.Indicators {
		row := intake.FirstRow + i
		if ind.IsRatio() {
			setNum(t, f, intake.TemplateColNumerator, row, 40+i)
			setNum(t, f, intake.TemplateColDenominator, row, 100)
		} else {
			setNum(t, f, intake.TemplateColValue, row, 50)
		}
	}
}

func TestAFilledTemplateReadsBackAsOneObservationPerRow(t *testing.T) {
	b, spec := makeTemplate(t, "P20", "2026-Q3")
	filled := fill(t, b, func(f *excelize.File) {
		fillAll(t, f, spec)
		r := rowOf(t, f, "dossiers_fully_online")
		setNum(t, f, intake.TemplateColNumerator, r, 5123)
		setNum(t, f, intake.TemplateColDenominator, r, 7410)
		setNum(t, f, intake.TemplateColValue, r, 69.1) // optional, within 0.5 points of 69.14
	})
	c := readChecked(t, filled, "P20", intake.XLSXOptions{})
	if c.err != nil || !c.res.OK() {
		t.Fatalf("err %v, problems %v", c.err, c.res.Problems)
	}
	if len(c.obs) != len(spec.Indicators) {
		t.Fatalf("%d observations, want %d", len(c.obs), len(spec.Indicators))
	}
	for _, o := range c.obs {
		if o.Agency != "P20" || o.Period.String() != "2026-Q3" {
			t.Errorf("%s is for %s %s", o.Indicator, o.Agency, o.Period)
		}
		// The typed 69.1 is checked against the parts; what is stored is computed from them.
		if o.Indicator == "dossiers_fully_online" && (math.Abs(o.Value-100*5123.0/7410) > 1e-9 || *o.Numerator != 5123 || *o.Denominator != 7410) {
			t.Errorf("dossiers_fully_online = %v (%v/%v)", o.Value, *o.Numerator, *o.Denominator)
		}
	}
	if p := c.places["dossiers_fully_online"].String(); !strings.HasPrefix(p, intake.SheetData+"!J") {
		t.Errorf("the figure's place is %q, want the value cell in column J", p)
	}
}

func TestNoDataStatusSkipsARowAndARowLeftEmptyIsRequired(t *testing.T) {
	b, spec := makeTemplate(t, "P20", "2026-Q3")
	filled := fill(t, b, func(f *excelize.File) {
		fillAll(t, f, spec)
		ai := rowOf(t, f, "ops_ai_assisted")
		f.SetCellValue(intake.SheetData, cell(intake.TemplateColNumerator, ai), nil)
		f.SetCellValue(intake.SheetData, cell(intake.TemplateColDenominator, ai), nil)
		f.SetCellStr(intake.SheetData, cell(intake.TemplateColStatus, ai), intake.StatusNoData)
		pf := rowOf(t, f, "ops_prefilled")
		f.SetCellValue(intake.SheetData, cell(intake.TemplateColDenominator, pf), nil)
	})
	c := readChecked(t, filled, "P20", intake.XLSXOptions{})
	if c.res.NoData != 1 {
		t.Errorf("no-data rows = %d, want 1", c.res.NoData)
	}
	if len(c.res.Problems) != 1 || c.res.Problems[0].Rule != "required" || !strings.HasPrefix(c.res.Problems[0].Place.String(), intake.SheetData+"!I") {
		t.Errorf("problems = %v, want one: the empty denominator of ops_prefilled", c.res.Problems)
	}
}

func TestTemplateForAnotherPeriodOrAStaleCatalogueIsCaught(t *testing.T) {
	b, spec := makeTemplate(t, "P20", "2026-Q3")
	filled := fill(t, b, func(f *excelize.File) { fillAll(t, f, spec) })

	// The catalogue changed after the template was made: a quarterly indicator was added.
	changed, err := indicators.DefaultCatalogue().Merge([]*indicators.Indicator{{
		Code: "ops_chatbot", NameVI: "Tỷ lệ DVCTT có trợ lý ảo", NameEN: "Online services with a chatbot",
		Unit: indicators.Percent, Direction: indicators.HigherIsBetter, Periodicity: spec.Period.Kind,
		Aggregation: indicators.Ratio, Levels: []indicators.Level{indicators.Province},
	}})
	if err != nil {
		t.Fatal(err)
	}
	c := readChecked(t, filled, "P20", intake.XLSXOptions{Catalogue: changed, Registry: indicators.DefaultRegistry()})
	if !hasRule(c.res, "template_stale", intake.SheetMeta+"!B4") {
		t.Errorf("stale template not caught: %v", c.res.Problems)
	}

	// Someone edited the hidden metadata to reuse the workbook for another quarter.
	moved := fill(t, filled, func(f *excelize.File) { f.SetCellStr(intake.SheetMeta, "B3", "2026-Q2") })
	c = readChecked(t, moved, "P20", intake.XLSXOptions{})
	if !hasRule(c.res, "template_stale", intake.SheetMeta+"!B4") {
		t.Errorf("a template for 2026-Q3 relabelled 2026-Q2 was not caught: %v", c.res.Problems)
	}

	old := fill(t, filled, func(f *excelize.File) { f.SetCellStr(intake.SheetMeta, "B1", "0") })
	c = readChecked(t, old, "P20", intake.XLSXOptions{})
	if !hasRule(c.res, "template_version", intake.SheetMeta+"!B1") {
		t.Errorf("an old template version was not caught: %v", c.res.Problems)
	}
}

func TestTemplateOfAnotherAgencyIsForbidden(t *testing.T) {
	b, spec := makeTemplate(t, "P20", "2026-Q3")
	filled := fill(t, b, func(f *excelize.File) { fillAll(t, f, spec) })
	c := readChecked(t, filled, "N79", intake.XLSXOptions{})
	var fb *intake.ForbiddenError
	if !errors.As(c.err, &fb) || fb.Agency != "P20" {
		t.Fatalf("err = %v, want forbidden for P20", c.err)
	}
}

func TestARowAgencyThatIsNotTheTemplatesIsAMismatch(t *testing.T) {
	b, spec := makeTemplate(t, "P20", "2026-Q3")
	filled := fill(t, b, func(f *excelize.File) {
		fillAll(t, f, spec)
		f.SetCellStr(intake.SheetData, cell(intake.TemplateColAgency, intake.FirstRow), "VN")
	})
	c := readChecked(t, filled, "VN", intake.XLSXOptions{})
	if !hasRule(c.res, "agency_mismatch", fmt.Sprintf("%s!B%d", intake.SheetData, intake.FirstRow)) {
		t.Errorf("problems = %v, want an agency mismatch at B%d", c.res.Problems, intake.FirstRow)
	}
}

func TestATableWorkbookReadsLikeCSV(t *testing.T) {
	f := excelize.NewFile()
	defer f.Close()
	rows := [][]any{
		{"agency", "period", "indicator", "value", "numerator", "denominator"},
		{"P20", "2026-Q2", "dossiers_fully_online", nil, 40, 100},
		{"P20", "2026-Q2", "work_records_online", nil, 130, 100},
		{"P20", "2025", "egdi_rank", 86, nil, nil},
	}
	for i, r := range rows {
		cellRef, _ := excelize.CoordinatesToCellName(1, i+1)
		f.SetSheetRow("Sheet1", cellRef, &r)
	}
	var b bytes.Buffer
	f.Write(&b)
	c := readChecked(t, b.Bytes(), "", intake.XLSXOptions{})
	if c.err != nil {
		t.Fatal(c.err)
	}
	if !hasRule(c.res, "numerator_above_denominator", "Sheet1!E3") || !hasRule(c.res, "level", "Sheet1!C4") || c.res.Total != 2 {
		t.Errorf("problems = %v", c.res.Problems)
	}
	if len(c.obs) != 1 || c.obs[0].Indicator != "dossiers_fully_online" || c.obs[0].Value != 40 {
		t.Errorf("observations = %+v", c.obs)
	}
}

func hasRule(r intake.Result, rule, place string) bool {
	for _, p := range r.Problems {
		if p.Rule == rule && p.Place.String() == place {
			return true
		}
	}
	return false
}

// rawSheet is one worksheet of a workbook built byte by byte, for files excelize would
// never write.
type rawSheet struct {
	name string
	body func(w io.Writer) // writes <sheetData> content
}

// rawXLSX builds the smallest workbook excelize opens, with the given sheets.
func rawXLSX(t testing.TB, sheets ...rawSheet) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) { return flate.NewWriter(w, flate.BestSpeed) })
	put := func(name string, write func(w io.Writer)) {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		write(w)
	}
	str := func(s string) func(io.Writer) { return func(w io.Writer) { io.WriteString(w, s) } }
	var ct, wb, rels strings.Builder
	ct.WriteString(`<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>`)
	wb.WriteString(`<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>`)
	rels.WriteString(`<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">`)
	for i, s := range sheets {
		fmt.Fprintf(&ct, `<Override PartName="/xl/worksheets/sheet%d.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>`, i+1)
		fmt.Fprintf(&wb, `<sheet name="%s" sheetId="%d" r:id="rId%d"/>`, s.name, i+1, i+1)
		fmt.Fprintf(&rels, `<Relationship Id="rId%d" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet%d.xml"/>`, i+1, i+1)
	}
	ct.WriteString(`</Types>`)
	wb.WriteString(`</sheets></workbook>`)
	rels.WriteString(`</Relationships>`)
	put("[Content_Types].xml", str(ct.String()))
	put("_rels/.rels", str(`<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`))
	put("xl/workbook.xml", str(wb.String()))
	put("xl/_rels/workbook.xml.rels", str(rels.String()))
	for i, s := range sheets {
		put(fmt.Sprintf("xl/worksheets/sheet%d.xml", i+1), func(w io.Writer) {
			io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>`)
			s.body(w)
			io.WriteString(w, `</sheetData></worksheet>`)
		})
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// heapPeak runs fn and returns how far the live heap (what the collector found
// reachable, garbage left out) rose above where it started, read at the end of every
// collection during fn: what "bounded memory" means for a hostile file. Collections
// run at every 10% of growth meanwhile, so a peak cannot hide between two of them, and
// the answer does not depend on when the collector happens to run, as a sampled
// HeapAlloc (garbage included) did.
func heapPeak(fn func()) uint64 {
	defer debug.SetGCPercent(debug.SetGCPercent(10))
	runtime.GC()
	base := liveHeap()
	var peak atomic.Uint64
	var done atomic.Bool
	record := func() {
		if l := liveHeap(); l > base && l-base > peak.Load() {
			peak.Store(l - base)
		}
	}
	// A finalizer that sets itself again runs once after every collection.
	type sentinel struct{ _ [64]byte }
	var again func(*sentinel)
	again = func(s *sentinel) {
		record()
		if !done.Load() {
			runtime.SetFinalizer(s, again)
		}
	}
	runtime.SetFinalizer(&sentinel{}, again)
	fn()
	runtime.GC() // the last collection sees what fn left reachable at its end
	record()
	done.Store(true)
	return peak.Load()
}

// liveHeap is the heap the last collection found reachable.
func liveHeap() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

const tableHeader = `<row r="1"><c r="A1" t="inlineStr"><is><t>agency</t></is></c><c r="B1" t="inlineStr"><is><t>period</t></is></c><c r="C1" t="inlineStr"><is><t>indicator</t></is></c><c r="D1" t="inlineStr"><is><t>value</t></is></c></row>`

func TestHostileWorkbooksAreRefusedWithAReasonInBoundedMemory(t *testing.T) {
	good, spec := makeTemplate(t, "P20", "2026-Q3")

	// An honest zip bomb: a worksheet of zeros that packs 1,000 to 1.
	bomb := rawXLSX(t, rawSheet{"Sheet1", func(w io.Writer) {
		zeros := make([]byte, 1<<20)
		for range 300 {
			w.Write(zeros)
		}
	}})
	// A lying one: its directory claims 1 KiB, its data inflates to 64 MiB.
	liar := lyingBomb(t)
	// Every row Excel allows, each with a value.
	million := rawXLSX(t, rawSheet{"Sheet1", func(w io.Writer) {
		io.WriteString(w, tableHeader)
		for r := 2; r <= 1_048_576; r++ {
			fmt.Fprintf(w, `<row r="%d"><c r="D%d"><v>1</v></c></row>`, r, r)
		}
	}})
	// The template with a formula in every input cell.
	formulas := fill(t, good, func(f *excelize.File) {
		for i := range spec.Indicators {
			for col := intake.TemplateColNumerator; col <= intake.TemplateColValue; col++ {
				f.SetCellFormula(intake.SheetData, cell(col, intake.FirstRow+i), "=1+1")
			}
		}
	})
	// A table of 20,000 rows of formulas.
	formulaTable := rawXLSX(t, rawSheet{"Sheet1", func(w io.Writer) {
		io.WriteString(w, tableHeader)
		for r := 2; r <= 20_001; r++ {
			fmt.Fprintf(w, `<row r="%d"><c r="A%d"><f>"P"&amp;20</f><v>P20</v></c><c r="B%d"><f>"2026-Q"&amp;3</f></c><c r="C%d"><f>A1</f></c><c r="D%d"><f>RAND()</f><v>0.5</v></c></row>`, r, r, r, r, r)
		}
	}})

	cases := []struct {
		name string
		file []byte
		kind intake.FileErrorKind
		want string // in the reason
	}{
		{"zip bomb", bomb, intake.TooLarge, "zip bomb"},
		{"lying zip bomb", liar, intake.Damaged, "damaged"},
		{"truncated file", good[:len(good)/2], intake.Damaged, "truncated"},
		{"renamed PDF", []byte("%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"), intake.NotSupported, "PDF"},
		{"old .xls", append([]byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}, make([]byte, 512)...), intake.NotSupported, ".xls"},
		{"zip that is not a workbook", zipOf(t, "hello.txt", "hi"), intake.NotSupported, "workbook.xml"},
		{"1,048,576 rows", million, intake.TooManyRows, "100001"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var c checked
			peak := heapPeak(func() { c = readChecked(t, tc.file, "P20", intake.XLSXOptions{MaxUnzipped: 256 << 20}) })
			var fe *intake.FileError
			if !errors.As(c.err, &fe) || fe.Kind != tc.kind || !strings.Contains(fe.Error(), tc.want) {
				t.Fatalf("err = %v, want a %s file error mentioning %q", c.err, tc.kind, tc.want)
			}
			if !strings.Contains(fe.Reason, " / ") {
				t.Errorf("reason %q is not in Vietnamese and English", fe.Reason)
			}
			if peak > 64<<20 {
				t.Errorf("reading it raised the heap by %d MiB", peak>>20)
			}
		})
	}

	t.Run("template full of formulas", func(t *testing.T) {
		c := readChecked(t, formulas, "P20", intake.XLSXOptions{})
		if c.err != nil {
			t.Fatal(c.err)
		}
		want := 3 * len(spec.Indicators)
		n := 0
		for _, p := range c.res.Problems {
			if p.Rule == "formula" {
				n++
			}
		}
		// Numerators and denominators of ratio rows, values of every row: each formula
		// that sits in a cell G-OC reads is named; none is evaluated.
		if n < 2*len(spec.Indicators) || n > want || len(c.obs) != 0 {
			t.Errorf("%d formula problems (want about %d), %d observations: %v", n, want, len(c.obs), c.res.Problems[:min(5, len(c.res.Problems))])
		}
		if p := c.res.Problems[0]; p.Rule != "formula" || !strings.HasPrefix(p.Place.String(), intake.SheetData+"!") {
			t.Errorf("first problem %v is not a formula at its cell", p)
		}
	})
	t.Run("table full of formulas", func(t *testing.T) {
		var c checked
		peak := heapPeak(func() { c = readChecked(t, formulaTable, "P20", intake.XLSXOptions{}) })
		if c.err != nil {
			t.Fatal(c.err)
		}
		if c.res.Total != 80_000 || len(c.res.Problems) != intake.DefaultMaxProblems || c.res.Problems[0].Place.String() != "Sheet1!A2" || len(c.obs) != 0 {
			t.Errorf("total %d, listed %d, first %v", c.res.Total, len(c.res.Problems), c.res.Problems[0])
		}
		if peak > 64<<20 {
			t.Errorf("reading it raised the heap by %d MiB", peak>>20)
		}
	})
}

func zipOf(t *testing.T, name, content string) []byte {
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	w, _ := zw.Create(name)
	io.WriteString(w, content)
	zw.Close()
	return b.Bytes()
}

// lyingBomb writes a worksheet whose directory entry understates its size.
func lyingBomb(t *testing.T) []byte {
	t.Helper()
	honest := rawXLSX(t, rawSheet{"Sheet1", func(w io.Writer) {
		io.WriteString(w, tableHeader)
		pad := bytes.Repeat([]byte(" "), 1<<20)
		for range 64 {
			w.Write(pad)
		}
	}})
	zr, err := zip.NewReader(bytes.NewReader(honest), int64(len(honest)))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, f := range zr.File {
		raw, err := f.OpenRaw()
		if err != nil {
			t.Fatal(err)
		}
		h := f.FileHeader
		if strings.HasPrefix(f.Name, "xl/worksheets/") {
			h.UncompressedSize64 = 1024
		}
		w, err := zw.CreateRaw(&h)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(w, raw)
	}
	zw.Close()
	return b.Bytes()
}

func TestAFormulaWhoseCellIsWrittenWithACharacterReferenceIsCaught(t *testing.T) {
	// r="&#68;2" is valid XML for D2: Excel and excelize read the cell as D2, and so
	// must the formula check, or the formula's cached value is stored.
	b := rawXLSX(t, rawSheet{"Sheet1", func(w io.Writer) {
		io.WriteString(w, tableHeader+`<row r="2"><c r="A2" t="inlineStr"><is><t>VN</t></is></c><c r="B2" t="inlineStr"><is><t>2025</t></is></c>`+
			`<c r="C2" t="inlineStr"><is><t>egdi_rank</t></is></c><c r="&#68;2"><f>40+40</f><v>80</v></c></row>`)
	}})
	c := readChecked(t, b, "VN", intake.XLSXOptions{})
	if c.err != nil {
		t.Fatal(c.err)
	}
	if !hasRule(c.res, "formula", "Sheet1!D2") || len(c.obs) != 0 {
		t.Errorf("problems %v, observations %+v: want the formula in D2 refused", c.res.Problems, c.obs)
	}
}

func TestAHeaderOnlyWorkbookListsAProblem(t *testing.T) {
	b := rawXLSX(t, rawSheet{"Sheet1", func(w io.Writer) { io.WriteString(w, tableHeader) }})
	c := readChecked(t, b, "VN", intake.XLSXOptions{})
	if c.err != nil {
		t.Fatal(c.err)
	}
	if c.res.OK() || !hasRule(c.res, "empty", "Sheet1!A2") {
		t.Errorf("problems %v: want one saying there are no data rows", c.res.Problems)
	}
}

func TestATemplateStatusInDecomposedUnicodeReadsAsNoData(t *testing.T) {
	b, spec := makeTemplate(t, "P20", "2026-Q3")
	filled := fill(t, b, func(f *excelize.File) {
		fillAll(t, f, spec)
		ai := rowOf(t, f, "ops_ai_assisted")
		f.SetCellValue(intake.SheetData, cell(intake.TemplateColNumerator, ai), nil)
		f.SetCellValue(intake.SheetData, cell(intake.TemplateColDenominator, ai), nil)
		f.SetCellStr(intake.SheetData, cell(intake.TemplateColStatus, ai), norm.NFD.String(intake.StatusNoData)+"\u00a0")
	})
	c := readChecked(t, filled, "P20", intake.XLSXOptions{})
	if c.err != nil || !c.res.OK() || c.res.NoData != 1 {
		t.Errorf("err %v, problems %v, no data %d", c.err, c.res.Problems, c.res.NoData)
	}
}
