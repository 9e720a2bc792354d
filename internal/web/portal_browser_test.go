package web_test

import (
	"bytes"
	"encoding/base64"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/xuri/excelize/v2"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/indicators/period"
	"github.com/g-oc/goc/internal/intake"
	"github.com/g-oc/goc/internal/store"
	"github.com/g-oc/goc/internal/web/webtest"
)

// The whole round in a real browser: an officer signs in, downloads the template,
// uploads it with one bad cell and sees the problem by its cell, corrects it and
// confirms an outlier, sees revision 2 in the history; the reviewer returns it with a
// comment; the officer sees the comment and resubmits; the reviewer approves; the new
// figure is public only then. Every page on the way passes axe-core.
func TestOfficerAndReviewerRoundInABrowser(t *testing.T) {
	p := newPortal(t)
	b := webtest.Start(t)
	shots := screenshotDir()
	const agency = "P20"
	per := period.MustParse("2026-Q3")
	ind := ratioIndicator(t, agency, per)
	before := publicValue(t, p, ind.Code, agency, per)

	tab := b.Open(t, p.URL+"/signin", webtest.Desktop)
	checkPage(t, tab, http.StatusOK, shots, "portal-signin")
	signInBrowser(t, tab, officerToken, "#upload-h")
	checkPage(t, tab, http.StatusOK, shots, "portal-reports")

	// The template, prefilled with what the agency sent, downloaded with the session.
	do(t, tab, chromedp.Navigate(p.URL+"/reports/P20/2026-Q3"))
	checkPage(t, tab, http.StatusOK, shots, "portal-period")
	tpl := fetchBytes(t, tab, "/reports/P20/2026-Q3/template")
	row := templateRow(t, tpl, ind.Code)
	if got := cellValue(t, tpl, intake.TemplateColValue, row); got == "" {
		t.Errorf("the template's value cell of %s is empty, want it prefilled with %v", ind.Code, before)
	}
	dir := t.TempDir()

	// One bad cell: a percentage above 100.
	bad := fillTemplate(t, tpl, dir, "bad.xlsx", row, 250)
	upload(t, tab, bad, ".error-summary")
	checkPage(t, tab, http.StatusUnprocessableEntity, shots, "portal-upload-problems")
	badCell := intake.SheetData + "!" + cellName(intake.TemplateColValue, row)
	places := texts(t, tab, "table.problems tbody th")
	if !containsString(places, badCell) {
		t.Fatalf("the problem table names %v, want %s", places, badCell)
	}
	if v := publicValue(t, p, ind.Code, agency, per); v != before {
		t.Fatalf("a rejected file changed the figure: %v, was %v", v, before)
	}

	// Corrected, but far from the agency's own history: a warning to confirm.
	newValue := 3.0
	good := fillTemplate(t, tpl, dir, "good.xlsx", row, newValue)
	upload(t, tab, good, "#confirm, .receipt, .error-summary")
	if n, _ := chromedp.Run(tab.Ctx, chromedp.Evaluate[int](`document.querySelectorAll("#confirm").length`)); n != 1 {
		main, _ := chromedp.Run(tab.Ctx, chromedp.Text[string]("main"))
		t.Fatalf("no outlier warning to confirm for %s at %v%%; the page says: %s", ind.Code, newValue, main)
	}
	checkPage(t, tab, http.StatusUnprocessableEntity, shots, "portal-upload-warnings")
	prev := texts(t, tab, "table.warnings td.num")
	if len(prev) == 0 || prev[0] == "–" {
		t.Errorf("the warning shows no previous value: %v", prev)
	}
	submitAndWait(t, tab, "#confirm", ".receipt")
	checkPage(t, tab, http.StatusOK, shots, "portal-receipt")
	receipt := texts(t, tab, ".receipt table.changes tbody tr")
	if len(receipt) != 1 || !strings.Contains(receipt[0], ind.Code) || !strings.Contains(receipt[0], "3 %") {
		t.Errorf("the receipt lists %q, want one change of %s at revision 2", receipt, ind.Code)
	}

	// History: upload 2 with its change, old to new.
	do(t, tab, chromedp.Navigate(p.URL+"/reports/P20/2026-Q3"))
	hist := texts(t, tab, "article.batch h3")
	if len(hist) != 2 || !strings.Contains(hist[0], "2") || !strings.Contains(hist[0], "p20-officer") {
		t.Errorf("history headings %q, want upload 2 by p20-officer first", hist)
	}
	diff := texts(t, tab, "article.batch:first-of-type table.changes tbody tr")
	if len(diff) != 1 || !strings.Contains(diff[0], ind.Code) {
		t.Errorf("upload 2 changed %q, want only %s", diff, ind.Code)
	}
	// The first upload, as it stood, downloads as a CSV in the submission format.
	first := string(fetchBytes(t, tab, "/reports/P20/2026-Q3/batches/1"))
	if !strings.HasPrefix(first, "agency,period,indicator,value,numerator,denominator\n") || !strings.Contains(first, "P20,2026-Q3,"+ind.Code+",,") {
		t.Errorf("upload 1 as CSV:\n%s", first)
	}
	if v := publicValue(t, p, ind.Code, agency, per); v != before {
		t.Fatalf("the figure is public before approval: %v, was %v", v, before)
	}

	// The reviewer returns it with a comment.
	signOutBrowser(t, tab)
	do(t, tab, chromedp.Navigate(p.URL+"/signin"))
	signInBrowser(t, tab, reviewerToken, "h1")
	checkPage(t, tab, http.StatusOK, shots, "portal-review")
	queue := texts(t, tab, "table tbody th")
	if !containsString(queue, "Tỉnh Lạng Sơn · 2026-Q3") {
		t.Fatalf("the review queue lists %q, want P20 2026-Q3", queue)
	}
	do(t, tab, chromedp.Navigate(p.URL+"/review/P20/2026-Q3"))
	checkPage(t, tab, http.StatusOK, shots, "portal-review-one")
	const comment = "Giá trị quá thấp, kiểm tra lại / value too low, check it"
	do(t, tab, chromedp.SendKeys[string]("#comment", comment))
	submitAndWait(t, tab, `button[value="return"]`, ".success")

	// The officer sees the comment and resubmits.
	signOutBrowser(t, tab)
	do(t, tab, chromedp.Navigate(p.URL+"/signin"))
	signInBrowser(t, tab, officerToken, "#upload-h")
	mine, err := chromedp.Run(tab.Ctx, chromedp.Text[string]("main table tbody"))
	if err != nil || !strings.Contains(mine, comment) || !strings.Contains(mine, "Bị trả lại") {
		t.Errorf("My reports does not show the return and its comment: %v", err)
	}
	finalValue := 4.0
	again := fillTemplate(t, tpl, dir, "again.xlsx", row, finalValue)
	upload(t, tab, again, "#confirm, .receipt, .error-summary")
	if n, _ := chromedp.Run(tab.Ctx, chromedp.Evaluate[int](`document.querySelectorAll("#confirm").length`)); n == 1 {
		submitAndWait(t, tab, "#confirm", ".receipt, .error-summary")
	}
	if n, _ := chromedp.Run(tab.Ctx, chromedp.Evaluate[int](`document.querySelectorAll(".receipt").length`)); n != 1 {
		main, _ := chromedp.Run(tab.Ctx, chromedp.Text[string]("main"))
		t.Fatalf("the resubmission was not stored; the page says: %s", main)
	}

	// The reviewer approves; only now is the figure public.
	signOutBrowser(t, tab)
	do(t, tab, chromedp.Navigate(p.URL+"/signin"))
	signInBrowser(t, tab, reviewerToken, "h1")
	do(t, tab, chromedp.Navigate(p.URL+"/review/P20/2026-Q3"))
	if n, _ := chromedp.Run(tab.Ctx, chromedp.Evaluate[int](`document.querySelectorAll('button[value="approve"]').length`)); n != 1 {
		main, _ := chromedp.Run(tab.Ctx, chromedp.Text[string]("main"))
		t.Fatalf("no approve button on the resubmitted report; the page says: %s", main)
	}
	if v := publicValue(t, p, ind.Code, agency, per); v != before {
		t.Fatalf("the figure is public before approval: %v, was %v", v, before)
	}
	submitAndWait(t, tab, `button[value="approve"]`, ".success")
	if v := publicValue(t, p, ind.Code, agency, per); v != finalValue {
		t.Errorf("after approval the public figure is %v, want %v", v, finalValue)
	}
	// And on the public agency page, as any reader sees it.
	pub := b.Open(t, p.URL+"/agencies/P20", webtest.Desktop)
	cells, err := chromedp.Run(pub.Ctx, chromedp.Text[string]("main"))
	if err != nil || !strings.Contains(cells, "4 %") {
		t.Errorf("the public agency page does not show %v %%: %v", finalValue, err)
	}
	tab.NoProblems(t)

	// Every signed-in page at a phone's size too.
	phone := b.Open(t, p.URL+"/review", webtest.Phone)
	for _, u := range []struct{ path, name string }{{"/review", "portal-review"}, {"/review/P20/2026-Q3", "portal-review-one"}} {
		do(t, phone, chromedp.Navigate(p.URL+u.path))
		checkPage(t, phone, http.StatusOK, shots, u.name)
	}
	signOutBrowser(t, phone)
	do(t, phone, chromedp.Navigate(p.URL+"/signin"))
	checkPage(t, phone, http.StatusOK, shots, "portal-signin")
	signInBrowser(t, phone, officerToken, "#upload-h")
	checkPage(t, phone, http.StatusOK, shots, "portal-reports")
	do(t, phone, chromedp.Navigate(p.URL+"/reports/P20/2026-Q3"))
	checkPage(t, phone, http.StatusOK, shots, "portal-period")
	upload(t, phone, bad, ".error-summary")
	checkPage(t, phone, http.StatusUnprocessableEntity, shots, "portal-upload-problems")
	// Back to the old level after the approved 4 %: a warning to confirm, then the
	// receipt, on a phone too.
	phoneValue := 60.0
	upload(t, phone, fillTemplate(t, tpl, dir, "phone.xlsx", row, phoneValue), "#confirm, .receipt, .error-summary")
	if n, _ := chromedp.Run(phone.Ctx, chromedp.Evaluate[int](`document.querySelectorAll("#confirm").length`)); n != 1 {
		main, _ := chromedp.Run(phone.Ctx, chromedp.Text[string]("main"))
		t.Fatalf("no outlier warning on the phone for %v%%; the page says: %s", phoneValue, main)
	}
	checkPage(t, phone, http.StatusUnprocessableEntity, shots, "portal-upload-warnings")
	submitAndWait(t, phone, "#confirm", ".receipt")
	checkPage(t, phone, http.StatusOK, shots, "portal-receipt")
	do(t, phone, chromedp.Navigate(p.URL+"/reports/P01"))
	checkPage(t, phone, http.StatusForbidden, shots, "portal-forbidden")
}

// ratioIndicator is the first indicator of the agency's template for the period: a
// percentage from a numerator and a denominator.
func ratioIndicator(t *testing.T, agency string, per period.Period) *indicators.Indicator {
	t.Helper()
	a, _ := indicators.DefaultRegistry().Get(agency)
	for _, ind := range intake.TemplateIndicators(indicators.DefaultCatalogue(), a, per) {
		if ind.IsRatio() && ind.Unit == indicators.Percent {
			return ind
		}
	}
	t.Fatalf("no ratio in %s's template for %s", agency, per)
	return nil
}

// publicValue is the figure the public API gives (approved only).
func publicValue(t *testing.T, p *portal, code, agency string, per period.Period) float64 {
	t.Helper()
	obs, err := p.Query.PublicView().Observations(t.Context(), store.Query{Indicators: []string{code}, Agencies: []string{agency},
		From: per.Start(nil), To: per.End(nil), Kinds: []period.Kind{per.Kind}})
	if err != nil || len(obs) != 1 {
		t.Fatalf("public value of %s %s %s: %v %v", code, agency, per, obs, err)
	}
	return obs[0].Value
}

func do(t *testing.T, tab *webtest.Tab, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(tab.Ctx, actions...); err != nil {
		t.Fatal(err)
	}
}

// checkPage asserts the page's status and runs the accessibility check on it.
func checkPage(t *testing.T, tab *webtest.Tab, status int, shots, name string) {
	t.Helper()
	if got := tab.Status(); got != status {
		loc, _ := chromedp.Run(tab.Ctx, chromedp.Location())
		t.Errorf("%s (%s): HTTP %d, want %d", name, loc, got, status)
	}
	tab.AxeClean(t)
	tab.NoSidewaysScroll(t)
	if shots != "" {
		tab.Screenshot(t, filepath.Join(shots, name+"-"+tabSize(tab)+".png"))
	}
}

func tabSize(tab *webtest.Tab) string {
	w, _ := chromedp.Run(tab.Ctx, chromedp.Evaluate[int](`window.innerWidth`))
	if w < 600 {
		return "phone"
	}
	return "desktop"
}

// submitAndWait clicks a submit button and waits for the next page to show one of
// result (a comma-separated selector list), ignoring the page the click left: that
// page is marked stale first.
func submitAndWait(t *testing.T, tab *webtest.Tab, button, result string) {
	t.Helper()
	parts := strings.Split(result, ",")
	for i, p := range parts {
		parts[i] = "body:not([data-stale]) " + strings.TrimSpace(p)
	}
	do(t, tab, chromedp.Evaluate[chromedp.Void](`document.body.dataset.stale = "1"`),
		chromedp.Click[string](button), chromedp.WaitVisible[string](strings.Join(parts, ", ")))
}

func signInBrowser(t *testing.T, tab *webtest.Tab, token, landed string) {
	t.Helper()
	do(t, tab, chromedp.WaitVisible[string]("#token"), chromedp.SendKeys[string]("#token", token))
	submitAndWait(t, tab, `main form button[type="submit"]`, landed)
}

func signOutBrowser(t *testing.T, tab *webtest.Tab) {
	t.Helper()
	submitAndWait(t, tab, `form[action="/signout"] button`, `a[href="/signin"]`)
}

func upload(t *testing.T, tab *webtest.Tab, file, result string) {
	t.Helper()
	do(t, tab, chromedp.SetUploadFiles[string]("#file", []string{file}))
	submitAndWait(t, tab, `form[data-upload] button[type="submit"]`, result)
}

func texts(t *testing.T, tab *webtest.Tab, sel string) []string {
	t.Helper()
	out, err := chromedp.Run(tab.Ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll(`+strconv.Quote(sel)+`)].map(e => e.textContent.replace(/\s+/g, " ").trim())`))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// fetchBytes downloads a path with the tab's session, as its link would.
func fetchBytes(t *testing.T, tab *webtest.Tab, path string) []byte {
	t.Helper()
	b64, err := chromedp.Run(tab.Ctx, chromedp.Evaluate[string](`fetch(`+strconv.Quote(path)+`).then(r => { if (!r.ok) throw new Error("HTTP " + r.status); return r.arrayBuffer(); })
	.then(b => { let s = ""; new Uint8Array(b).forEach(c => s += String.fromCharCode(c)); return btoa(s); })`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("download %s: %v", path, err)
	}
	b, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func templateRow(t *testing.T, tpl []byte, code string) int {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(tpl))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := f.GetRows(intake.SheetData)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range rows {
		if len(r) >= intake.TemplateColIndicator && r[intake.TemplateColIndicator-1] == code {
			return i + 1
		}
	}
	t.Fatalf("no row for %s in the template", code)
	return 0
}

func cellName(col, row int) string {
	n, _ := excelize.CoordinatesToCellName(col, row)
	return n
}

func cellValue(t *testing.T, tpl []byte, col, row int) string {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(tpl))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	v, err := f.GetCellValue(intake.SheetData, cellName(col, row))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// fillTemplate writes the template with one percentage changed, as an officer in
// Excel: numerator and denominator for v%, and the value beside them.
// With bad, the value cell alone says 250%.
func fillTemplate(t *testing.T, tpl []byte, dir, name string, row int, v float64) string {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(tpl))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if v <= 100 {
		// Counts are whole numbers: v% as v*10 of 1,000.
		for col, x := range map[int]float64{intake.TemplateColNumerator: v * 10, intake.TemplateColDenominator: 1000} {
			if err := f.SetCellFloat(intake.SheetData, cellName(col, row), x, -1, 64); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := f.SetCellFloat(intake.SheetData, cellName(intake.TemplateColValue, row), v, -1, 64); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
