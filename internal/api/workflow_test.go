package api_test

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/indicators/period"
	"github.com/g-oc/goc/internal/api"
	"github.com/g-oc/goc/internal/intake"
	"github.com/g-oc/goc/internal/query"
	"github.com/g-oc/goc/internal/store"
	"github.com/g-oc/goc/internal/store/sqlite"
	"github.com/g-oc/goc/reports/template"
)

// The data sheet's columns, as an officer sees them.
const (
	colIndicator = "C"
	colPrevious  = "G"
	colNum       = "H"
	colDen       = "I"
	colValue     = "J"
	colStatus    = "K"
)

// getTemplate downloads a template as an officer does.
func (f *fixture) getTemplate(t *testing.T, agency, per string) []byte {
	t.Helper()
	resp, err := http.Get(f.srv.URL + "/api/v1/templates?agency=" + agency + "&period=" + per)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != api.ContentTypeXLSX ||
		!strings.Contains(resp.Header.Get("Content-Disposition"), template.FileName(agency, mustPeriod(t, per))) {
		t.Fatalf("GET template: %d %s %q: %.200s", resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Content-Disposition"), b)
	}
	return b
}

// post sends a file to the submissions endpoint.
func (f *fixture) post(t *testing.T, token, contentType string, body []byte, query string, header map[string]string) (int, map[string]any, http.Header) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, f.srv.URL+"/api/v1/submissions"+query, bytes.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Authorization", "Bearer "+token)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("answer is not JSON (%d): %.300s", resp.StatusCode, b)
	}
	return resp.StatusCode, out, resp.Header
}

// dataRows maps each indicator code to its row on the data sheet.
func dataRows(t *testing.T, x *excelize.File) map[string]int {
	t.Helper()
	rows, err := x.GetRows(template.SheetData)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for i, r := range rows {
		if i+1 >= template.FirstRow && len(r) > 2 {
			out[r[2]] = i + 1
		}
	}
	return out
}

func edit(t *testing.T, b []byte, do func(x *excelize.File, rows map[string]int)) []byte {
	t.Helper()
	x, err := excelize.OpenReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	do(x, dataRows(t, x))
	var out bytes.Buffer
	if err := x.Write(&out); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func set(t *testing.T, x *excelize.File, col string, row int, v any) {
	t.Helper()
	if err := x.SetCellValue(template.SheetData, col+strconv.Itoa(row), v); err != nil {
		t.Fatal(err)
	}
}

var previousRatio = regexp.MustCompile(`\((\d+)/(\d+)\)`)

// fillLikeLastTime fills every row from the previous period shown in column G, a few
// more dossiers each time, as an officer with steady figures would.
func fillLikeLastTime(t *testing.T, x *excelize.File, rows map[string]int) {
	t.Helper()
	for _, r := range rows {
		prev, _ := x.GetCellValue(template.SheetData, colPrevious+strconv.Itoa(r))
		num, den := 50, 100
		if m := previousRatio.FindStringSubmatch(prev); m != nil {
			num, _ = strconv.Atoi(m[1])
			den, _ = strconv.Atoi(m[2])
			num = min(num+den/200, den)
		}
		set(t, x, colNum, r, num)
		set(t, x, colDen, r, den)
	}
}

func TestOfficerFillsTheTemplateUploadsItAndProgressChanges(t *testing.T) {
	f := newFixture(t, true)
	tmpl := f.getTemplate(t, "P20", "2026-Q4")
	path := "/api/v1/progress?indicator=dossiers_fully_online&agency=P20&year=2030"
	var before progressBody
	if code := f.get(t, path, &before); code != 200 || before.Latest == nil || before.Latest.Period != "2026-Q3" {
		t.Fatalf("progress before: %d %+v", code, before.Latest)
	}
	var shown string
	filled := edit(t, tmpl, func(x *excelize.File, rows map[string]int) {
		shown, _ = x.GetCellValue(template.SheetData, colPrevious+strconv.Itoa(rows["dossiers_fully_online"]))
		fillLikeLastTime(t, x, rows)
	})
	if !previousRatio.MatchString(shown) {
		t.Errorf("the template shows %q as the previous period's dossiers, want its figures", shown)
	}
	code, out, _ := f.post(t, f.tokens["P20"], api.ContentTypeXLSX, filled, "", nil)
	if code != 201 {
		t.Fatalf("upload: %d %v", code, out)
	}
	if out["format"] != "xlsx" || out["agency"] != "P20" || out["period"] != "2026-Q4" || out["created"].(float64) != 11 {
		t.Errorf("answer = %v, want 11 new values for P20 2026-Q4", out)
	}
	var after progressBody
	f.get(t, path, &after)
	if after.Latest == nil || after.Latest.Period != "2026-Q4" || after.Latest.Value == before.Latest.Value {
		t.Errorf("progress after upload: latest %+v (before %+v)", after.Latest, before.Latest)
	}
}

func TestTemplateWithTenMistakesGetsAllTenBackWithTheirCellsAndNothingStored(t *testing.T) {
	f := newFixture(t, false)
	tmpl := f.getTemplate(t, "P20", "2026-Q3")
	type mistake struct {
		indicator string
		cells     map[string]any // column → what the officer typed
		rule, col string
	}
	mistakes := []mistake{
		{"ops_single_sign_on", map[string]any{colNum: 120, colDen: 100}, "numerator_above_denominator", colNum},
		{"ops_digital_payment", map[string]any{colNum: "ninety", colDen: 100}, "not_number", colNum},
		{"ops_end_to_end", map[string]any{colNum: 5}, "required", colDen},
		{"ops_multi_device", map[string]any{colNum: "=40+2", colDen: 100}, "formula", colNum},
		{"ops_ai_assisted", map[string]any{colNum: 12.5, colDen: 100}, "not_whole", colNum},
		{"ops_prefilled", map[string]any{colNum: -3, colDen: 100}, "negative", colNum},
		{"ops_level4_share", map[string]any{colNum: 0, colDen: 0}, "zero_denominator", colDen},
		{"ops_with_dossiers", map[string]any{colNum: 50, colDen: 100, colValue: 80}, "value_mismatch", colValue},
		{"dossiers_fully_online", map[string]any{colNum: 50, colDen: 100, colStatus: "Chưa rõ"}, "status", colStatus},
		{"work_records_online", map[string]any{colNum: 7, colStatus: intake.StatusNoData}, "status_conflict", colNum},
	}
	var want []string
	filled := edit(t, tmpl, func(x *excelize.File, rows map[string]int) {
		set(t, x, colNum, rows["edocs_electronic_share"], 900) // the one good row
		set(t, x, colDen, rows["edocs_electronic_share"], 1000)
		for _, m := range mistakes {
			r := rows[m.indicator]
			for col, v := range m.cells {
				if s, ok := v.(string); ok && strings.HasPrefix(s, "=") {
					x.SetCellFormula(template.SheetData, col+strconv.Itoa(r), s)
					continue
				}
				set(t, x, col, r, v)
			}
			want = append(want, fmt.Sprintf("%s %s!%s%d", m.rule, template.SheetData, m.col, r))
		}
	})
	before := f.count(t)
	code, out, _ := f.post(t, f.tokens["P20"], api.ContentTypeXLSX, filled, "", nil)
	if code != http.StatusUnprocessableEntity {
		t.Fatalf("status %d, want 422: %v", code, out)
	}
	var got []string
	for _, p := range out["problems"].([]any) {
		m := p.(map[string]any)
		got = append(got, fmt.Sprintf("%s %s", m["rule"], m["field"]))
		if m["sheet"] != template.SheetData || m["cell"] == "" || !strings.Contains(m["reason"].(string), " / ") {
			t.Errorf("problem %v lacks its sheet, cell or bilingual reason", m)
		}
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("problems:\n%s\nwant, in file order:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if out["total_problems"].(float64) != 10 {
		t.Errorf("total_problems = %v, want 10", out["total_problems"])
	}
	if n := f.count(t); n != before {
		t.Errorf("a rejected workbook stored %d observations", n-before)
	}
}

func TestCorrectedResubmissionShowsBothRevisionsWithWhoWhenAndTheValueBefore(t *testing.T) {
	f := newFixture(t, false)
	tmpl := f.getTemplate(t, "P20", "2026-Q3")
	send := func(num int) map[string]any {
		filled := edit(t, tmpl, func(x *excelize.File, rows map[string]int) {
			for code, r := range rows {
				if code == "dossiers_fully_online" {
					set(t, x, colNum, r, num)
				} else {
					set(t, x, colNum, r, 50)
				}
				set(t, x, colDen, r, 100)
			}
		})
		code, out, _ := f.post(t, f.tokens["P20"], api.ContentTypeXLSX, filled, "", nil)
		if code != 201 {
			t.Fatalf("status %d: %v", code, out)
		}
		return out
	}
	send(40)
	second := send(45)
	if second["created"].(float64) != 1 || second["unchanged"].(float64) != 10 {
		t.Errorf("the correction: %v, want 1 new revision and 10 unchanged", second)
	}
	var hist struct {
		Observations []struct {
			Value         float64  `json:"value"`
			Revision      int      `json:"revision"`
			Submitter     string   `json:"submitter"`
			ReceivedAt    string   `json:"received_at"`
			PreviousValue *float64 `json:"previous_value"`
			PreviousNum   *float64 `json:"previous_numerator"`
		} `json:"observations"`
	}
	f.get(t, "/api/v1/observations?indicator=dossiers_fully_online&agency=P20&from=2026-Q3&to=2026-Q3&history=true", &hist)
	h := hist.Observations
	if len(h) != 2 || h[0].Value != 40 || h[0].PreviousValue != nil || h[1].Value != 45 || h[1].Revision != 2 {
		t.Fatalf("history = %+v", h)
	}
	if h[1].PreviousValue == nil || *h[1].PreviousValue != 40 || *h[1].PreviousNum != 40 || h[1].Submitter != "test-P20" || h[1].ReceivedAt == "" {
		t.Errorf("revision 2 does not say who changed what, when, from what: %+v", h[1])
	}
}

func TestTheSameContentOrTheSameIdempotencyKeyMakesOneRevision(t *testing.T) {
	f := newFixture(t, false)
	body := []byte(`{"agency":"P20","period":"2026-Q3","values":[{"indicator":"dossiers_fully_online","numerator":40,"denominator":100}]}`)
	key := map[string]string{"Idempotency-Key": "p20-2026q3-attempt-1"}
	code, first, _ := f.post(t, f.tokens["P20"], api.ContentTypeJSON, body, "", key)
	if code != 201 || first["created"].(float64) != 1 {
		t.Fatalf("first: %d %v", code, first)
	}
	code, replay, hdr := f.post(t, f.tokens["P20"], api.ContentTypeJSON, body, "", key)
	if code != 201 || hdr.Get("Idempotent-Replayed") != "true" || replay["batch"] != first["batch"] {
		t.Errorf("a retry with the same key: %d %v (replayed %q), want the first answer again", code, replay, hdr.Get("Idempotent-Replayed"))
	}
	code, again, _ := f.post(t, f.tokens["P20"], api.ContentTypeJSON, body, "", nil)
	if code != 201 || again["created"].(float64) != 0 || again["unchanged"].(float64) != 1 {
		t.Errorf("the same content without a key: %d %v, want nothing new", code, again)
	}
	other := bytes.Replace(body, []byte(`"numerator":40`), []byte(`"numerator":41`), 1)
	code, reused, _ := f.post(t, f.tokens["P20"], api.ContentTypeJSON, other, "", key)
	if code != http.StatusUnprocessableEntity || !strings.Contains(reused["error"].(string), "Idempotency-Key") {
		t.Errorf("a key reused for other content: %d %v", code, reused)
	}
	if n := f.count(t); n != 1 {
		t.Errorf("%d revisions stored, want 1", n)
	}
}

func TestAnOutlierIsAWarningThatNeedsConfirmation(t *testing.T) {
	f := newFixture(t, true)
	// P20's dossiers processed fully online have been near 52% for two years.
	body := []byte(`{"agency":"P20","period":"2026-Q4","values":[{"indicator":"dossiers_fully_online","numerator":950,"denominator":1000}]}`)
	before := f.count(t)
	code, out, _ := f.post(t, f.tokens["P20"], api.ContentTypeJSON, body, "", nil)
	if code != http.StatusUnprocessableEntity || out["needs_confirmation"] != true || len(out["problems"].([]any)) != 0 {
		t.Fatalf("unconfirmed outlier: %d %v", code, out)
	}
	w := out["warnings"].([]any)[0].(map[string]any)
	if w["rule"] != "outlier" || w["field"] != "values[0].numerator" || !strings.Contains(w["reason"].(string), "MAD") {
		t.Errorf("warning = %v", w)
	}
	if f.count(t) != before {
		t.Error("an unconfirmed outlier was stored")
	}
	code, out, _ = f.post(t, f.tokens["P20"], api.ContentTypeJSON, body, "?confirm_outliers=true", nil)
	if code != 201 || out["created"].(float64) != 1 || len(out["confirmed_warnings"].([]any)) != 1 {
		t.Errorf("confirmed outlier: %d %v", code, out)
	}
}

func TestCompletenessShowsWhoIsMissing(t *testing.T) {
	f := newFixture(t, false)
	// testNow is 23 November 2026: 2026-Q3 was due on 15 October.
	if code, out := f.submit(t, f.tokens["P20"], `{"agency":"P20","period":"2026-Q3","values":[
		{"indicator":"dossiers_fully_online","numerator":40,"denominator":100}]}`); code != 201 {
		t.Fatalf("submit: %d %v", code, out)
	}
	var c struct {
		Period   string `json:"period"`
		Expected int    `json:"expected"`
		Received int    `json:"received"`
		Late     int    `json:"late"`
		Missing  int    `json:"missing"`
		Rate     float64
		Agencies []struct {
			Agency string `json:"agency"`
			Status string `json:"status"`
		} `json:"agencies"`
	}
	if code := f.get(t, "/api/v1/completeness?period=2026-Q3&level=province", &c); code != 200 {
		t.Fatalf("status %d", code)
	}
	status := map[string]string{}
	for _, a := range c.Agencies {
		status[a.Agency] = a.Status
	}
	if c.Expected != 34 || c.Received != 1 || c.Late != 1 || c.Missing != 33 || status["P20"] != "late" || status["N79"] != "missing" {
		t.Errorf("completeness = %+v", c)
	}
	var missing struct {
		Agencies []struct{ Agency string } `json:"agencies"`
	}
	f.get(t, "/api/v1/completeness?period=2026-Q3&level=province&status=missing", &missing)
	if len(missing.Agencies) != 33 {
		t.Errorf("status=missing lists %d agencies, want 33", len(missing.Agencies))
	}
	var bad map[string]any
	if code := f.get(t, "/api/v1/completeness?period=2026-Q9", &bad); code != 400 {
		t.Errorf("a bad period: %d", code)
	}

	resp, err := http.Get(f.srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var all struct{ Expected, Missing int }
	f.get(t, "/api/v1/completeness?period=2026-Q3", &all)
	want := fmt.Sprintf(`goc_submissions_missing{period="2026-Q3",periodicity="quarterly"} %d`, all.Missing)
	if !bytes.Contains(b, []byte(want)) {
		t.Errorf("/metrics lacks %s", want)
	}
	if n := bytes.Count(b, []byte("goc_submissions_missing{")); n > 4 {
		t.Errorf("%d missing-report series; at most one per periodicity", n)
	}
}

func TestCSVAndMultipartUploadsAreReadLikeTheTemplate(t *testing.T) {
	f := newFixture(t, false)
	csvBody := []byte("agency,period,indicator,value,numerator,denominator\n" +
		"P20,2026-Q3,dossiers_fully_online,,40,100\n" +
		"P20,2026-Q3,work_records_online,,130,100\n")
	code, out, _ := f.post(t, f.tokens["P20"], api.ContentTypeCSV, csvBody, "", nil)
	if code != 422 {
		t.Fatalf("CSV with a mistake: %d %v", code, out)
	}
	p := out["problems"].([]any)[0].(map[string]any)
	if p["line"].(float64) != 3 || p["column"].(float64) != 5 || p["column_name"] != "numerator" || p["rule"] != "numerator_above_denominator" {
		t.Errorf("CSV problem = %v", p)
	}
	good := bytes.Replace(csvBody, []byte(",130,100"), []byte(",70,100"), 1)
	if code, out, _ := f.post(t, f.tokens["P20"], "text/csv; charset=utf-8", good, "", nil); code != 201 || out["created"].(float64) != 2 || out["format"] != "csv" {
		t.Errorf("good CSV: %d %v", code, out)
	}

	tmpl := f.getTemplate(t, "P20", "2026-Q3")
	filled := edit(t, tmpl, func(x *excelize.File, rows map[string]int) {
		for _, r := range rows {
			set(t, x, colNum, r, 60)
			set(t, x, colDen, r, 100)
		}
	})
	var form bytes.Buffer
	mw := multipart.NewWriter(&form)
	fw, _ := mw.CreateFormFile("file", "lang-son-2026-q3.xlsx")
	fw.Write(filled)
	mw.WriteField("confirm_outliers", "false")
	mw.Close()
	if code, out, _ := f.post(t, f.tokens["P20"], mw.FormDataContentType(), form.Bytes(), "", nil); code != 201 || out["format"] != "xlsx" || out["created"].(float64) != 11 {
		t.Errorf("multipart upload: %d %v", code, out)
	}
}

func TestHostileFilesGetAClear4xxAndStoreNothing(t *testing.T) {
	f := newFixture(t, false)
	tmpl := f.getTemplate(t, "P20", "2026-Q3")
	var bomb bytes.Buffer
	zw := zip.NewWriter(&bomb)
	zw.RegisterCompressor(zip.Deflate, fastDeflate)
	w, _ := zw.Create("xl/worksheets/sheet1.xml")
	zeros := make([]byte, 1<<20)
	for range 300 {
		w.Write(zeros)
	}
	zw.Close()
	million := replacePart(t, tmpl, "xl/worksheets/sheet2.xml", func(w io.Writer) {
		io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>`)
		for r := 1; r <= 1_048_576; r++ {
			fmt.Fprintf(w, `<row r="%d"><c r="H%d"><v>1</v></c></row>`, r, r)
		}
		io.WriteString(w, `</sheetData></worksheet>`)
	})
	formulas := edit(t, tmpl, func(x *excelize.File, rows map[string]int) {
		for _, r := range rows {
			x.SetCellFormula(template.SheetData, colNum+strconv.Itoa(r), "=RAND()*100")
			x.SetCellFormula(template.SheetData, colDen+strconv.Itoa(r), "=100")
		}
	})
	cases := []struct {
		name string
		ct   string
		body []byte
		code int
		want string
	}{
		{"zip bomb", api.ContentTypeXLSX, bomb.Bytes(), 413, "zip bomb"},
		{"truncated workbook", api.ContentTypeXLSX, tmpl[:len(tmpl)-200], 400, "truncated"},
		{"1,048,576-row data sheet", api.ContentTypeXLSX, million, 413, "1014"},
		{"renamed PDF", "application/octet-stream", []byte("%PDF-1.7\n%âãÏÓ\n1 0 obj\n<<>>\nendobj\n"), 415, "PDF"},
		{"sheet full of formulas", api.ContentTypeXLSX, formulas, 422, "formula"},
		{"larger than the limit", api.ContentTypeCSV, bytes.Repeat([]byte("x"), 11<<20), 413, "exceeds"},
		{"unknown content type", "image/png", []byte("\x89PNG"), 415, "image/png"},
	}
	before := f.count(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, out, _ := f.post(t, f.tokens["P20"], tc.ct, tc.body, "", nil)
			text := fmt.Sprint(out)
			if code != tc.code || !strings.Contains(text, tc.want) {
				t.Errorf("status %d, want %d with %q: %.400s", code, tc.code, tc.want, text)
			}
		})
	}
	if f.count(t) != before {
		t.Error("a hostile file stored something")
	}
}

func TestTemplateRequestsAreChecked(t *testing.T) {
	f := newFixture(t, false)
	for _, tc := range []struct {
		query string
		code  int
	}{
		{"agency=P20", 400},
		{"agency=P99&period=2026-Q3", 404},
		{"agency=P20&period=2027-Q1", 400},
		{"agency=N79&period=2024-Q1", 404},
		{"agency=VN&period=2026-Q3", 400}, // the country reports no quarterly indicator
		{"agency=VN&period=2025", 200},
	} {
		resp, err := http.Get(f.srv.URL + "/api/v1/templates?" + tc.query)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.code {
			t.Errorf("%s: %d, want %d", tc.query, resp.StatusCode, tc.code)
		}
	}
}

// replacePart rewrites one part of a workbook's zip.
func replacePart(t *testing.T, b []byte, name string, write func(w io.Writer)) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	zw.RegisterCompressor(zip.Deflate, fastDeflate)
	found := false
	for _, f := range zr.File {
		w, err := zw.Create(f.Name)
		if err != nil {
			t.Fatal(err)
		}
		if f.Name == name {
			write(w)
			found = true
			continue
		}
		rc, _ := f.Open()
		io.Copy(w, rc)
		rc.Close()
	}
	zw.Close()
	if !found {
		t.Fatalf("no part %s", name)
	}
	return out.Bytes()
}

func mustPeriod(t *testing.T, s string) period.Period {
	t.Helper()
	p, err := period.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// fastDeflate keeps building hostile test files quick.
func fastDeflate(w io.Writer) (io.WriteCloser, error) { return flate.NewWriter(w, flate.BestSpeed) }

// readCounter is the real store with a count of its observation reads.
type readCounter struct {
	*sqlite.Store
	reads *atomic.Int64
}

func (r readCounter) Observations(ctx context.Context, q store.Query) ([]indicators.Observation, error) {
	r.reads.Add(1)
	return r.Store.Observations(ctx, q)
}

// TestMetricsKeepTheCompletenessCountsForHalfAMinute: the completeness gauges are
// computed by the first scrape and kept for 30 s, so a scrape of a busy server does not
// wait for a store connection each time (in the load test every /metrics took 5 s, its
// timeout, and then lacked the gauges).
func TestMetricsKeepTheCompletenessCountsForHalfAMinute(t *testing.T) {
	var now atomic.Int64
	now.Store(testNow.UnixNano())
	clock := func() time.Time { return time.Unix(0, now.Load()).UTC() }
	var reads atomic.Int64
	f := newFixture(t, true, func(o *api.Options) {
		st := o.Writer.(*sqlite.Store)
		o.Now = clock
		o.Query = query.New(readCounter{st, &reads}, indicators.DefaultCatalogue(), indicators.DefaultRegistry(), clock)
	})
	scrape := func() (string, int64) {
		t.Helper()
		reads.Store(0)
		resp, err := http.Get(f.srv.URL + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b), reads.Load()
	}
	first, n := scrape()
	if n == 0 || !strings.Contains(first, "goc_submissions_missing{") {
		t.Fatalf("the first scrape read the store %d times and shows no missing reports", n)
	}
	now.Add(int64(29 * time.Second))
	again, n := scrape()
	if n != 0 {
		t.Errorf("a scrape 29 s later read the store %d times", n)
	}
	if !strings.Contains(again, "goc_submissions_missing{") {
		t.Error("the kept counts are missing from the second scrape")
	}
	now.Add(int64(2 * time.Second))
	if _, n := scrape(); n == 0 {
		t.Error("a scrape 31 s after the first did not count again")
	}
}
