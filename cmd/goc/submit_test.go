package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/g-oc/goc/indicators/period"
	"github.com/g-oc/goc/internal/auth"
	"github.com/g-oc/goc/reports/template"
)

// runGocEnv runs goc with extra environment variables.
func runGocEnv(t *testing.T, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, gocBin, args...)
	cmd.Env = append(os.Environ(), env...)
	var o, e strings.Builder
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return o.String(), e.String(), ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return o.String(), e.String(), 0
}

// site is a config with an embedded store and a token for Lang Son (P20).
type site struct {
	dir, config, token string
}

func newSite(t *testing.T) site {
	t.Helper()
	dir := t.TempDir()
	tok, err := auth.NewToken()
	if err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "goc.yaml")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`server:
  addr: 127.0.0.1:0
store:
  backend: sqlite
  path: goc.db
tokens:
  - name: lang-son-bao-cao
    agency: P20
    sha256: %s
`, auth.Hash(tok))), 0o600)
	return site{dir: dir, config: cfg, token: tok}
}

// history writes P20's dossiers processed fully online near 50% for eight quarters
// before the current one, as an operator's historical file.
func (s site) history(t *testing.T) (string, period.Period) {
	t.Helper()
	current := period.Of(period.Quarter, time.Now())
	var b strings.Builder
	b.WriteString("agency,period,indicator,value,numerator,denominator\n")
	for i := 8; i >= 1; i-- {
		fmt.Fprintf(&b, "P20,%s,dossiers_fully_online,,%d,1000\n", current.Add(-i), 495+i%3*5)
	}
	path := filepath.Join(s.dir, "history.csv")
	os.WriteFile(path, []byte(b.String()), 0o600)
	return path, current
}

func TestTemplateSubmitAndImportCommandsAsAnOfficerAndOperatorUseThem(t *testing.T) {
	s := newSite(t)
	hist, current := s.history(t)

	// The operator loads history before the server starts.
	out, errOut, code := runGoc(t, "import", hist, "--config", s.config)
	if code != 0 || !strings.Contains(out, "8 phiên bản mới / new revisions") {
		t.Fatalf("import: exit %d\n%s\n%s", code, out, errOut)
	}
	out, _, code = runGoc(t, "import", hist, "--config", s.config)
	if code != 0 || !strings.Contains(out, "0 phiên bản mới / new revisions, 8 không đổi / unchanged") {
		t.Errorf("importing the same file again: exit %d %s", code, out)
	}

	srv := startGoc(t, "serve", "--config", s.config)
	env := []string{"GOC_TOKEN=" + s.token, "GOC_SERVER=" + srv.url}

	tmpl := filepath.Join(s.dir, "p20.xlsx")
	out, errOut, code = runGocEnv(t, env, "template", "--agency", "P20", "--period", current.String(), "-o", tmpl)
	if code != 0 || !strings.Contains(out, tmpl) {
		t.Fatalf("template: exit %d\n%s\n%s", code, out, errOut)
	}
	fill := func(name string, num map[string]any) string {
		t.Helper()
		x, err := excelize.OpenFile(tmpl)
		if err != nil {
			t.Fatal(err)
		}
		defer x.Close()
		rows, _ := x.GetRows(template.SheetData)
		for i, r := range rows {
			if i+1 < template.FirstRow {
				continue
			}
			n, ok := num[r[2]]
			if !ok {
				n = 60
			}
			x.SetCellValue(template.SheetData, "H"+strconv.Itoa(i+1), n)
			x.SetCellValue(template.SheetData, "I"+strconv.Itoa(i+1), 100)
		}
		path := filepath.Join(s.dir, name)
		if err := x.SaveAs(path); err != nil {
			t.Fatal(err)
		}
		return path
	}

	bad := fill("bad.xlsx", map[string]any{"ops_prefilled": 150, "ops_end_to_end": "năm mươi"})
	out, errOut, code = runGocEnv(t, env, "submit", bad)
	if code != 1 || !strings.Contains(errOut, "bad.xlsx: Dữ liệu!H") || strings.Count(errOut, "bad.xlsx: Dữ liệu!") != 2 || !strings.Contains(errOut, "2 lỗi") {
		t.Errorf("a workbook with two mistakes: exit %d\nstdout %s\nstderr %s", code, out, errOut)
	}

	outlier := fill("outlier.xlsx", map[string]any{"dossiers_fully_online": 95})
	_, errOut, code = runGocEnv(t, env, "submit", outlier)
	if code != 3 || !strings.Contains(errOut, "--confirm-outliers") || !strings.Contains(errOut, "dossiers_fully_online") {
		t.Errorf("an outlier: exit %d, want 3\n%s", code, errOut)
	}
	out, errOut, code = runGocEnv(t, env, "submit", outlier, "--confirm-outliers")
	if code != 0 || !strings.Contains(out, "đã lưu / stored") || !strings.Contains(out, "11 phiên bản mới / new revisions") {
		t.Errorf("a confirmed outlier: exit %d\n%s\n%s", code, out, errOut)
	}

	var c struct {
		Agencies []struct{ Agency, Status string } `json:"agencies"`
	}
	srv.getJSON(t, "/api/v1/completeness?period="+current.String()+"&within=P20", &c)
	if len(c.Agencies) == 0 || c.Agencies[0].Agency != "P20" || c.Agencies[0].Status != "on_time" {
		t.Errorf("completeness after the upload: %+v", c.Agencies)
	}

	_, errOut, code = runGocEnv(t, []string{"GOC_TOKEN=" + s.token}, "submit", outlier, "--server", "http://127.0.0.1:1")
	if code != 4 {
		t.Errorf("an unreachable server: exit %d, want 4\n%s", code, errOut)
	}
	for _, args := range [][]string{{"submit"}, {"submit", outlier, "--server", srv.url}, {"submit", "x.pdf", "--server", srv.url, "--token", "t"}, {"template", "--agency", "P20"}} {
		if _, errOut, code := runGocEnv(t, []string{"GOC_TOKEN="}, args...); code != 2 {
			t.Errorf("goc %v: exit %d, want 2 (%s)", args, code, errOut)
		}
	}
}

func TestImportRefusesAFileWithAnyMistakeAndStoresNothing(t *testing.T) {
	s := newSite(t)
	path := filepath.Join(s.dir, "bad.csv")
	os.WriteFile(path, []byte("agency,period,indicator,value,numerator,denominator\n"+
		"P20,2025-Q1,dossiers_fully_online,,40,100\n"+
		"P20,2025-Q2,dossiers_fully_online,,140,100\n"), 0o600)
	_, errOut, code := runGoc(t, "import", path, "--config", s.config)
	if code != 1 || !strings.Contains(errOut, "bad.csv: dòng/line 3, cột/column 5 (numerator)") || !strings.Contains(errOut, "không lưu gì / ") {
		t.Errorf("exit %d\n%s", code, errOut)
	}
	good := filepath.Join(s.dir, "good.xlsx")
	x := excelize.NewFile()
	x.SetSheetRow("Sheet1", "A1", &[]any{"agency", "period", "indicator", "value", "numerator", "denominator"})
	x.SetSheetRow("Sheet1", "A2", &[]any{"P20", "2025-Q1", "dossiers_fully_online", nil, 40, 100})
	x.SaveAs(good)
	out, errOut, code := runGoc(t, "import", good, "--config", s.config, "--dry-run")
	if code != 0 || !strings.Contains(out, "--dry-run") {
		t.Errorf("dry run: exit %d %s %s", code, out, errOut)
	}
	out, errOut, code = runGoc(t, "import", good, "--config", s.config)
	if code != 0 || !strings.Contains(out, "1 phiên bản mới / new revisions") {
		t.Errorf("xlsx import: exit %d %s %s", code, out, errOut)
	}
}
