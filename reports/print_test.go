package reports_test

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/indicators/period"
	"github.com/g-oc/goc/internal/query"
	"github.com/g-oc/goc/reports"
	"github.com/g-oc/goc/reports/template"
)

// minPrintedHeight is the smallest height, in points, of a word's box in the PDF text
// layer for type of reports.MinPrintPoints: LibreOffice's boxes are about 1.3 times the
// type size (11 pt text gives 14.3), so 8 pt gives 10.4. A little slack for rounding.
const minPrintedHeight = 10.2

// printedPage is one page of a PDF: its text, the sheet its footer names, and the
// smallest word box on it.
type printedPage struct {
	text   string
	sheet  string
	minBox float64
}

// TestWorkbooksPrintOnA4AsTheReadmeSays converts the ranking workbook, a report card and
// a submission template to PDF with LibreOffice, in one call, and checks what a reader
// of the printout sees: the pages each sheet takes, the headings, each trend chart on one
// page, and no type below 8 pt on any page.
func TestWorkbooksPrintOnA4AsTheReadmeSays(t *testing.T) {
	soffice := ""
	for _, name := range []string{"soffice", "libreoffice"} {
		if p, err := exec.LookPath(name); err == nil {
			soffice = p
			break
		}
	}
	if soffice == "" {
		t.Fatal("LibreOffice (soffice) is not installed; scripts/test.sh installs libreoffice-calc-nogui")
	}
	for _, tool := range []string{"pdftotext", "pdfinfo"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is not installed; scripts/test.sh installs poppler-utils", tool)
		}
	}
	q, _ := demoService(t)
	ctx := context.Background()
	cat := indicators.DefaultCatalogue()
	// GOC_PRINT_OUT keeps the workbooks and their PDFs in a folder, to look at.
	dir := os.Getenv("GOC_PRINT_OUT")
	if dir == "" {
		dir = t.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}

	rep, err := q.Ranking(ctx, query.RankingRequest{
		Group: indicators.Provinces, Period: period.Period{Kind: period.Year, Year: 2025, Index: 1},
		Method: indicators.DefaultRankingMethod(), Provenance: true, Trends: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	rep = rep.Rounded(cat)
	book, err := reports.RankingWorkbook(rep, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := book.SaveAs(filepath.Join(dir, "ranking.xlsx")); err != nil {
		t.Fatal(err)
	}
	card, err := q.AgencyCard(ctx, "N79", indicators.DefaultRankingMethod())
	if err != nil {
		t.Fatal(err)
	}
	cardBook, err := reports.CardWorkbook(card.Rounded(cat), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := cardBook.SaveAs(filepath.Join(dir, "card.xlsx")); err != nil {
		t.Fatal(err)
	}
	// The demo has no probe results; an agency with probed portals gets a table of them
	// under the portal heading, which must not shrink the card's type to fit one page.
	probed := card
	probed.ProbesAvailable = true
	probed.Portals = nil
	for i, host := range []string{"hochiminhcity.gov.vn", "dichvucong.hochiminhcity.gov.vn", "congbao.hochiminhcity.gov.vn"} {
		up, median := 99.5-float64(i), 0.25+float64(i)/10
		probed.Portals = append(probed.Portals, query.PortalUptime{
			Target: "https://" + host + "/",
			Latest: indicators.ProbeResult{Target: "https://" + host + "/", Time: testNow.Add(-time.Minute), Success: i != 2, Error: map[bool]string{true: "", false: "connect: connection refused"}[i != 2],
				CertExpiry: testNow.AddDate(0, 3, 0), IPv6: i == 0, DNSSEC: "signed-valid"},
			Probes: 43200, Successes: 43000, Uptime: &up, MedianSeconds: &median,
		})
	}
	probedBook, err := reports.CardWorkbook(probed.Rounded(cat), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := probedBook.SaveAs(filepath.Join(dir, "card-probed.xlsx")); err != nil {
		t.Fatal(err)
	}
	p20, _ := indicators.DefaultRegistry().Get("P20")
	q4 := period.Period{Kind: period.Quarter, Year: 2026, Index: 4}
	var tb bytes.Buffer
	if err := template.Write(&tb, template.Spec{Agency: p20, Period: q4, Indicators: template.ListIndicators(cat, p20, q4),
		Generated: testNow, Generator: "G-OC test"}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "template.xlsx"), tb.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}

	// One LibreOffice start for the three workbooks (it is the slow part), with a
	// profile of its own so a desktop session's LibreOffice neither blocks nor changes.
	cctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(cctx, soffice, "-env:UserInstallation=file://"+filepath.Join(dir, "profile"),
		"--headless", "--convert-to", "pdf", "--outdir", dir,
		filepath.Join(dir, "ranking.xlsx"), filepath.Join(dir, "card.xlsx"), filepath.Join(dir, "card-probed.xlsx"), filepath.Join(dir, "template.xlsx"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("LibreOffice: %v\n%s", err, out)
	}

	t.Run("ranking workbook", func(t *testing.T) {
		pages := readPDF(t, filepath.Join(dir, "ranking.pdf"))
		count := map[string]int{}
		for _, p := range pages {
			count[p.sheet]++
		}
		t.Logf("pages per sheet: %v", count)
		logTypeSizes(t, pages)
		trendPages := (len(rep.Trends) + 1) / 2
		for sheet, want := range map[string]int{reports.SheetCover: 1, reports.SheetSummary: 1, reports.SheetScores: 1, reports.SheetTrends: trendPages} {
			if count[sheet] != want {
				t.Errorf("%s prints on %d pages, want %d", sheet, count[sheet], want)
			}
		}
		for _, sheet := range []string{reports.SheetRanking, reports.SheetMethod, reports.SheetData} {
			if count[sheet] == 0 {
				t.Errorf("%s does not print", sheet)
			}
		}
		all := joinText(pages)
		top := rep.Entries[0]
		for _, want := range []string{"XẾP HẠNG CHÍNH PHỦ SỐ", "DIGITAL GOVERNMENT RANKING", "Phương pháp xếp hạng", "Trọng số / Weights",
			top.NameVI, strconv.FormatFloat(*top.Score, 'f', 3, 64), "không có ý nghĩa thống kê"} {
			if !strings.Contains(all, want) {
				t.Errorf("the printed ranking lacks %q", want)
			}
		}
		// The Summary's one page lists every province.
		for _, e := range rep.Entries {
			if !strings.Contains(sheetText(pages, reports.SheetSummary), e.NameVI) {
				t.Errorf("the printed summary lacks %s", e.NameVI)
			}
		}
		// Each trend chart, titled with its indicator, is whole on one page: its title is
		// on exactly one page, which also shows its legend.
		for _, tr := range rep.Trends {
			var on []int
			for i, p := range pages {
				if p.sheet == reports.SheetTrends && strings.Contains(squash(p.text), squash(tr.NameVI)) {
					on = append(on, i+1)
				}
			}
			if len(on) != 1 {
				t.Errorf("trend %s is on pages %v, want one page", tr.Indicator, on)
			}
		}
		// The tables that run over pages repeat their header rows on each (the Data
		// sheet's columns run over two pages across, so either half's header counts;
		// the Method sheet's weights table starts below its text, on its second page).
		seen := map[string]int{}
		for i, p := range pages {
			seen[p.sheet]++
			headers := map[string][]string{reports.SheetData: {"Numerator", "Revision"}, reports.SheetRanking: {"Agency"}, reports.SheetMethod: {"Pillar"}}[p.sheet]
			if len(headers) == 0 || (p.sheet == reports.SheetMethod && seen[p.sheet] == 1) {
				continue
			}
			if !slices.ContainsFunc(headers, func(h string) bool { return strings.Contains(p.text, h) }) {
				t.Errorf("page %d (%s) does not repeat its header (%s)", i+1, p.sheet, strings.Join(headers, " or "))
			}
		}
		noTypeUnder8(t, pages)
	})

	t.Run("report card", func(t *testing.T) {
		pages := readPDF(t, filepath.Join(dir, "card.pdf"))
		if len(pages) != 1 {
			t.Errorf("the card prints on %d pages, want 1", len(pages))
		}
		logTypeSizes(t, pages)
		noTypeUnder8(t, pages)
		all := joinText(pages)
		for _, want := range []string{"THẺ BÁO CÁO CHÍNH PHỦ SỐ", "Thành phố Hồ Chí Minh", "Cổng thông tin"} {
			if !strings.Contains(all, want) {
				t.Errorf("the printed card lacks %q", want)
			}
		}
		// The demo has portal indicators but no probe results: the portal section shows
		// the portal figures it has, each on the line of its name.
		uptime, _ := cat.Get("portal_uptime")
		var want string
		for _, ci := range card.Rounded(cat).Indicators {
			if ci.Code == uptime.Code && ci.Latest != nil {
				want = strconv.FormatFloat(ci.Latest.Value, 'f', 2, 64)
			}
		}
		portals := all[max(0, strings.Index(all, "Cổng thông tin / Portals")):]
		found := false
		for _, line := range strings.Split(portals, "\n") {
			if strings.Contains(squash(line), squash(uptime.NameEN)) && want != "" && strings.Contains(line, want) {
				found = true
			}
		}
		if !found {
			t.Errorf("the card's portal section does not show %s at %s:\n%s", uptime.NameEN, want, portals)
		}
	})

	t.Run("report card with probed portals", func(t *testing.T) {
		pages := readPDF(t, filepath.Join(dir, "card-probed.pdf"))
		if len(pages) < 1 || len(pages) > 2 {
			t.Errorf("the card with three probed portals prints on %d pages, want 1 or 2", len(pages))
		}
		logTypeSizes(t, pages)
		noTypeUnder8(t, pages)
		all := squash(joinText(pages))
		// Spilled to a second page, the portal section starts it whole: its heading and
		// table are not split from each other.
		if len(pages) == 2 {
			second := squash(pages[1].text)
			for _, want := range []string{"Cổng thông tin / Portals", "Cổng / Portal", "hochiminhcity.gov.vn"} {
				if !strings.Contains(second, squash(want)) {
					t.Errorf("the card's second page lacks %q: the portal section is split across the page break", want)
				}
			}
		}
		for _, want := range []string{"THẺ BÁO CÁO CHÍNH PHỦ SỐ", "dichvucong.hochiminhcity.gov.vn", "congbao.hochiminhcity.gov.vn", "connection refused"} {
			if !strings.Contains(all, squash(want)) {
				t.Errorf("the printed card lacks %q", want)
			}
		}
	})

	t.Run("submission template", func(t *testing.T) {
		pages := readPDF(t, filepath.Join(dir, "template.pdf"))
		count := map[string]int{}
		for _, p := range pages {
			count[p.sheet]++
		}
		t.Logf("pages per sheet: %v", count)
		logTypeSizes(t, pages)
		if n, d := count[template.SheetInstructions], count[template.SheetData]; n < 1 || n > 2 || d < 1 || d > 2 || len(pages) > 3 {
			t.Errorf("the template prints %v, want the instructions and the data on 1 or 2 pages each, 3 in all", count)
		}
		all := squash(joinText(pages))
		// The last words of the longest instruction lines, which ran off the right edge.
		for _, want := range []string{"Mẫu báo cáo chỉ tiêu Chính phủ số", "Báo cáo chỉ tiêu Chính phủ số", "phiên bản cũ vẫn được giữ", "earlier ones are kept"} {
			if !strings.Contains(all, squash(want)) {
				t.Errorf("the printed template lacks %q", want)
			}
		}
		noTypeUnder8(t, pages)
	})
}

var (
	bboxPage = regexp.MustCompile(`(?s)<page [^>]*>(.*?)</page>`)
	bboxWord = regexp.MustCompile(`<word xMin="[\d.]+" yMin="([\d.]+)" xMax="[\d.]+" yMax="([\d.]+)">([^<]*)</word>`)
	footer   = regexp.MustCompile(`G-OC\s+(.+?)\s+\d+\s*/\s*\d+\s*$`)
)

// readPDF reads each page's text and word boxes with poppler's pdftotext; the footer
// every G-OC sheet prints ("G-OC  sheet  page / pages") names the page's sheet.
func readPDF(t *testing.T, path string) []printedPage {
	t.Helper()
	info, err := exec.Command("pdfinfo", path).Output()
	if err != nil {
		t.Fatalf("pdfinfo %s: %v", path, err)
	}
	n := 0
	if m := regexp.MustCompile(`Pages:\s+(\d+)`).FindSubmatch(info); m != nil {
		n, _ = strconv.Atoi(string(m[1]))
	}
	bbox, err := exec.Command("pdftotext", "-bbox", path, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext -bbox %s: %v", path, err)
	}
	boxes := bboxPage.FindAllSubmatch(bbox, -1)
	if len(boxes) != n {
		t.Fatalf("%s: %d pages, %d in the text layer", path, n, len(boxes))
	}
	pages := make([]printedPage, n)
	for i := range pages {
		text, err := exec.Command("pdftotext", "-layout", "-f", fmt.Sprint(i+1), "-l", fmt.Sprint(i+1), path, "-").Output()
		if err != nil {
			t.Fatalf("pdftotext page %d of %s: %v", i+1, path, err)
		}
		p := printedPage{text: string(text), minBox: math.Inf(1)}
		for _, line := range strings.Split(strings.TrimRight(p.text, "\n\f "), "\n") {
			if m := footer.FindStringSubmatch(line); m != nil {
				p.sheet = strings.TrimSpace(m[1])
			}
		}
		for _, w := range bboxWord.FindAllSubmatch(boxes[i][1], -1) {
			lo, _ := strconv.ParseFloat(string(w[1]), 64)
			hi, _ := strconv.ParseFloat(string(w[2]), 64)
			p.minBox = min(p.minBox, hi-lo)
		}
		pages[i] = p
	}
	return pages
}

// noTypeUnder8 fails for each page whose smallest word, page footer and chart labels
// included, prints under reports.MinPrintPoints.
func noTypeUnder8(t *testing.T, pages []printedPage) {
	t.Helper()
	for i, p := range pages {
		if p.minBox < minPrintedHeight {
			t.Errorf("page %d (%s) prints type at %.1f pt, under %d pt", i+1, p.sheet, p.minBox/1.3, reports.MinPrintPoints)
		}
	}
}

// logTypeSizes logs the smallest type of each sheet, in points.
func logTypeSizes(t *testing.T, pages []printedPage) {
	t.Helper()
	smallest := map[string]float64{}
	for _, p := range pages {
		if v, ok := smallest[p.sheet]; !ok || p.minBox < v {
			smallest[p.sheet] = p.minBox
		}
	}
	for sheet, box := range smallest {
		t.Logf("%s: smallest type %.1f pt", sheet, box/1.3)
	}
}

func joinText(pages []printedPage) string {
	var b strings.Builder
	for _, p := range pages {
		b.WriteString(p.text)
	}
	return b.String()
}

func sheetText(pages []printedPage, sheet string) string {
	var b strings.Builder
	for _, p := range pages {
		if p.sheet == sheet {
			b.WriteString(p.text)
		}
	}
	return b.String()
}

// squash drops white space, so that words wrapped or spread over columns still match.
func squash(s string) string { return strings.Join(strings.Fields(s), "") }
