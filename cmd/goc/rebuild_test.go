package main

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

func TestRebuildRecomputesThePortalWindowsOfTheConfiguredStore(t *testing.T) {
	s := newSite(t)
	out, errOut, code := runGoc(t, "rebuild", "--config", s.config)
	if code != 0 || !strings.Contains(out, "portal uptime windows recomputed from history") {
		t.Errorf("exit %d\n%s\n%s", code, out, errOut)
	}
	if _, errOut, code := runGoc(t, "rebuild"); code != 2 || !strings.Contains(errOut, "--config is required") {
		t.Errorf("without --config: exit %d, want 2\n%s", code, errOut)
	}
}

// TestRebuildRecomputesKeptYearlyFiguresAfterTheFileWasEdited: a kept figure edited by
// hand in the data file (or restored from elsewhere) is what reads would serve, since
// no write marked its year; `goc rebuild` puts back what the history says, with its
// progress on stderr.
func TestRebuildRecomputesKeptYearlyFiguresAfterTheFileWasEdited(t *testing.T) {
	s := newSite(t)
	hist, _ := s.history(t)
	if out, errOut, code := runGoc(t, "import", hist, "--config", s.config, "--approve"); code != 0 {
		t.Fatalf("import: exit %d\n%s\n%s", code, out, errOut)
	}
	out, errOut, code := runGoc(t, "rebuild", "--config", s.config)
	if code != 0 || !strings.Contains(out, "indicator × level × view sets recomputed from history") ||
		!strings.Contains(errOut, "yearly figures 1/") {
		t.Fatalf("rebuild: exit %d\n%s\n%s", code, out, errOut)
	}
	db, err := sql.Open("sqlite", filepath.Join(s.dir, "goc.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	const row = "view = 'public' AND indicator = 'dossiers_fully_online' AND level = '' AND agency = 'P20'"
	read := func() string {
		t.Helper()
		var b strings.Builder
		rows, err := db.Query("SELECT year, annual FROM figures WHERE " + row + " ORDER BY year")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var y int
			var annual string
			if err := rows.Scan(&y, &annual); err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&b, "%d %s\n", y, annual)
		}
		return b.String()
	}
	want := read()
	if !strings.Contains(want, `"agency":"P20"`) {
		t.Fatalf("no yearly figure of P20 kept after the rebuild:\n%s", want)
	}
	if _, err := db.Exec("UPDATE figures SET annual = '[]' WHERE " + row); err != nil {
		t.Fatal(err)
	}
	if out, errOut, code := runGoc(t, "rebuild", "--config", s.config); code != 0 {
		t.Fatalf("rebuild: exit %d\n%s\n%s", code, out, errOut)
	}
	if got := read(); got != want {
		t.Errorf("after the edit and a rebuild, P20's kept figures are\n%s\nwant\n%s", got, want)
	}
}
