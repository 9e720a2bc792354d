package main

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/g-oc/goc/internal/store"
	"github.com/g-oc/goc/internal/store/sqlite"
)

// An operator backs up a running store, then restores the copy as a new store file: every
// revision is there, the copy is refused when its name is taken, and nothing is
// overwritten.
func TestBackupCopiesEveryRevisionAndNeverOverwrites(t *testing.T) {
	s := newSite(t)
	hist, _ := s.history(t)
	if out, errOut, code := runGoc(t, "import", hist, "--config", s.config); code != 0 {
		t.Fatalf("import: exit %d\n%s\n%s", code, out, errOut)
	}
	// The server's store stays open during the backup, as it would be while goc serve runs.
	ctx := context.Background()
	live, err := sqlite.Open(ctx, filepath.Join(s.dir, "goc.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()
	want, err := live.Observations(ctx, store.Query{})
	if err != nil || len(want) != 8 {
		t.Fatalf("stored before the backup: %d, %v", len(want), err)
	}

	dest := filepath.Join(t.TempDir(), "goc-backup.db")
	out, errOut, code := runGoc(t, "backup", "--config", s.config, "--out", dest)
	if code != 0 || !strings.Contains(out, "8 số liệu / observations") || !strings.Contains(out, "integrity check: ok") {
		t.Fatalf("backup: exit %d\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(errOut, "backing up (bytes)") {
		t.Errorf("no progress on stderr:\n%s", errOut)
	}

	restored, err := sqlite.Open(ctx, dest)
	if err != nil {
		t.Fatal(err)
	}
	got, err := restored.Observations(ctx, store.Query{})
	restored.Close()
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("restored copy holds %d observations (%v), want the %d stored", len(got), err, len(want))
	}

	before, _ := os.ReadFile(dest)
	_, errOut, code = runGoc(t, "backup", "--config", s.config, "--out", dest)
	if code != 1 || !strings.Contains(errOut, dest) || !strings.Contains(errOut, "file already exists") || !strings.Contains(errOut, "không ghi đè") {
		t.Errorf("backup over an existing file: exit %d, want 1 naming the file\n%s", code, errOut)
	}
	if after, _ := os.ReadFile(dest); !reflect.DeepEqual(before, after) {
		t.Error("the existing backup was changed")
	}
	leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(dest), ".*partial*"))
	if len(leftovers) != 0 {
		t.Errorf("partial files left behind: %v", leftovers)
	}

	for _, c := range []struct {
		args []string
		code int
		says string
	}{
		{[]string{"backup", "--config", s.config}, 2, "--out is required"},
		{[]string{"backup", "--data", t.TempDir(), "--out", filepath.Join(t.TempDir(), "x.db")}, 1, "run goc demo first"},
		{[]string{"backup", "--config", s.config, "--out", filepath.Join(s.dir, "goc.db")}, 1, "that is the database itself"},
	} {
		_, errOut, code := runGoc(t, c.args...)
		if code != c.code || !strings.Contains(errOut, c.says) {
			t.Errorf("%v: exit %d, want %d saying %q\n%s", c.args, code, c.code, c.says, errOut)
		}
	}
}
