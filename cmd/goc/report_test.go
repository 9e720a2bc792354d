package main

import (
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/g-oc/goc/reports"
)

// TestReportsAgainstTheDemoAsANewUserWould runs `goc demo`, then each report command
// against it, over the API and straight from the store, and checks the workbooks against
// what /api/v1/rankings says.
func TestReportsAgainstTheDemoAsANewUserWould(t *testing.T) {
	data := t.TempDir()
	s := startGoc(t, "demo", "--addr", "127.0.0.1:0", "--data", data)
	out := t.TempDir()

	var api struct {
		Members int `json:"members"`
		Entries []struct {
			Agency       string   `json:"agency"`
			Rank         int      `json:"rank"`
			Score        *float64 `json:"score"`
			PreviousRank *int     `json:"previous_rank"`
			Change       *int     `json:"change"`
		} `json:"entries"`
	}
	s.getJSON(t, "/api/v1/rankings?group=provinces&period=2025", &api)
	if api.Members != 34 || len(api.Entries) != 34 {
		t.Fatalf("the API ranks %d provinces in 2025", api.Members)
	}

	cfg := filepath.Join(out, "goc.yaml")
	if err := os.WriteFile(cfg, []byte("store:\n  path: "+filepath.Join(data, "goc.db")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, source := range [][]string{{"--server", s.url}, {"--config", cfg}} {
		file := filepath.Join(out, "xep-hang-"+strings.TrimPrefix(source[0], "--")+".xlsx")
		stdout, stderr, code := runGoc(t, append([]string{"report", "ranking", "--period", "2025", "--group", "provinces", "-o", file}, source...)...)
		if code != 0 || !strings.Contains(stdout, file) || !strings.Contains(stdout, "34") {
			t.Fatalf("goc report ranking %v: exit %d\nstdout %s\nstderr %s", source, code, stdout, stderr)
		}
		f, err := excelize.OpenFile(file)
		if err != nil {
			t.Fatalf("%s does not open: %v", file, err)
		}
		merged := 0
		for i, e := range api.Entries {
			row := strconv.Itoa(reports.RankingFirstRow + i)
			cell := func(col string) string {
				v, _ := f.GetCellValue(reports.SheetRanking, col+row, excelize.Options{RawCellValue: true})
				return v
			}
			if cell("D") != e.Agency || cell("A") != strconv.Itoa(e.Rank) || cell("F") != strconv.FormatFloat(*e.Score, 'f', -1, 64) {
				t.Errorf("%v row %s: %s rank %s score %s; the API: %s rank %d score %v", source, row, cell("D"), cell("A"), cell("F"), e.Agency, e.Rank, *e.Score)
			}
			// A province formed by the 2025 merger (coded N) carries a change from last
			// year: its 2024 rank among the same 34, from its predecessors' figures.
			if strings.HasPrefix(e.Agency, "N") {
				merged++
				if e.PreviousRank == nil || *e.PreviousRank < 1 || *e.PreviousRank > 34 || e.Change == nil {
					t.Errorf("merged province %s: previous rank %v, change %v", e.Agency, e.PreviousRank, e.Change)
					continue
				}
				if cell("B") != strconv.Itoa(*e.PreviousRank) || cell("C") != strconv.Itoa(*e.Change) {
					t.Errorf("%v %s: workbook previous %s change %s; API %d %d", source, e.Agency, cell("B"), cell("C"), *e.PreviousRank, *e.Change)
				}
			}
		}
		if merged != 23 {
			t.Errorf("%d merged provinces in the ranking, want 23", merged)
		}
		f.Close()
	}

	card := filepath.Join(out, "the-bao-cao.xlsx")
	if stdout, stderr, code := runGoc(t, "report", "agency", "--server", s.url, "--agency", "N79", "-o", card); code != 0 {
		t.Fatalf("goc report agency: exit %d\n%s\n%s", code, stdout, stderr)
	}
	f, err := excelize.OpenFile(card)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := f.GetCellValue(reports.SheetCard, "A2"); v != "Thành phố Hồ Chí Minh (N79)" {
		t.Errorf("card title %q", v)
	}
	f.Close()

	var obs struct {
		Count int `json:"count"`
	}
	s.getJSON(t, "/api/v1/observations?indicator=dossiers_fully_online,egdi_rank&from=2024&to=2025-Q2", &obs)
	for _, name := range []string{"du-lieu.csv", "du-lieu.xlsx"} {
		file := filepath.Join(out, name)
		stdout, stderr, code := runGoc(t, "report", "export", "--server", s.url, "--indicator", "dossiers_fully_online,egdi_rank", "--from", "2024", "--to", "2025-Q2", "-o", file)
		if code != 0 || !strings.Contains(stdout, fmt.Sprintf("%d", obs.Count)) {
			t.Fatalf("goc report export %s: exit %d\nstdout %s\nstderr %s", name, code, stdout, stderr)
		}
		var rows int
		if strings.HasSuffix(name, ".csv") {
			fh, _ := os.Open(file)
			recs, err := csv.NewReader(fh).ReadAll()
			fh.Close()
			if err != nil {
				t.Fatal(err)
			}
			rows = len(recs) - 1
		} else {
			f, err := excelize.OpenFile(file)
			if err != nil {
				t.Fatal(err)
			}
			r, _ := f.GetRows(reports.SheetExport)
			rows = len(r) - 1
			f.Close()
		}
		if rows != obs.Count {
			t.Errorf("%s: %d rows, the API has %d", name, rows, obs.Count)
		}
	}
}

func TestReportCommandMistakesExitTwoAndWriteNothing(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "out.xlsx")
	cases := [][]string{
		{"report"},
		{"report", "rankings"},
		{"report", "ranking", "--group", "provinces", "-o", file},
		{"report", "ranking", "--server", "http://127.0.0.1:1", "--group", "communes", "-o", file},
		{"report", "ranking", "--server", "http://127.0.0.1:1", "--group", "provinces", "--period", "2025-Q9", "-o", file},
		{"report", "ranking", "--server", "http://127.0.0.1:1", "--config", "x.yaml", "--group", "provinces", "-o", file},
		{"report", "agency", "--server", "http://127.0.0.1:1", "-o", file},
		{"report", "export", "--server", "http://127.0.0.1:1", "--from", "2024", "-o", file},
		{"report", "export", "--server", "http://127.0.0.1:1", "--from", "2024", "--to", "2025", "-o", filepath.Join(dir, "out.pdf")},
	}
	for _, args := range cases {
		_, stderr, code := runGoc(t, args...)
		if code != 2 || strings.Count(strings.TrimSpace(stderr), "\n") > 0 || stderr == "" {
			t.Errorf("goc %v: exit %d, stderr %q; want 2 and one line", args, code, stderr)
		}
	}
	// An agency only the server can judge is still the user's mistake, and leaves no file.
	s := startGoc(t, "demo", "--addr", "127.0.0.1:0", "--data", t.TempDir())
	for _, args := range [][]string{
		{"report", "agency", "--server", s.url, "--agency", "P99", "-o", file},
		{"report", "export", "--server", s.url, "--agency", "P99", "--from", "2024", "--to", "2025", "-o", filepath.Join(dir, "out.csv")},
		{"report", "ranking", "--server", s.url, "--group", "provinces", "--period", "2099", "-o", file},
	} {
		_, stderr, code := runGoc(t, args...)
		if code != 2 || !strings.Contains(stderr, "/") {
			t.Errorf("goc %v: exit %d, stderr %q", args, code, stderr)
		}
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("failed reports left files behind: %v", left)
	}
	if _, stderr, code := runGoc(t, "report", "ranking", "--server", "http://127.0.0.1:1", "--group", "provinces", "--period", "2025", "-o", file); code != 1 || !strings.Contains(stderr, "cannot reach G-OC at http://127.0.0.1:1/api/v1/rankings") {
		t.Errorf("no server: exit %d, stderr %q; want 1", code, stderr)
	}
}
