package reports_test

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"html"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/internal/demo"
	"github.com/g-oc/goc/internal/query"
	"github.com/g-oc/goc/internal/store/sqlite"
)

// testNow is fixed so the demo history and "the last complete year" do not move.
var testNow = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

// demoDB is a real SQLite file holding the demo history, written once for the package's
// tests (each test opens its own connection).
var demoDB string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "goc-reports-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	demoDB = filepath.Join(dir, "demo.db")
	if err := writeDemo(demoDB); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func writeDemo(path string) error {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, path, sqlite.WithAutoApprove(true)) // the demo history is published
	if err != nil {
		return err
	}
	defer st.Close()
	_, err = st.WriteObservations(ctx, demo.History(indicators.DefaultCatalogue(), indicators.DefaultRegistry(), testNow))
	return err
}

// demoService is the query layer over a connection to the demo store.
func demoService(t testing.TB) (*query.Service, *sqlite.Store) {
	t.Helper()
	st, err := sqlite.Open(context.Background(), demoDB)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return query.New(st, indicators.DefaultCatalogue(), indicators.DefaultRegistry(), func() time.Time { return testNow }), st
}

// reopen writes a workbook out and reads it back, as a user's office suite would.
func reopen(t *testing.T, f *excelize.File) (*excelize.File, []byte) {
	t.Helper()
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	f.Close()
	g, err := excelize.OpenReader(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatalf("the workbook does not open: %v", err)
	}
	t.Cleanup(func() { g.Close() })
	return g, buf.Bytes()
}

// raw is a cell's stored value, not its displayed text.
func raw(t *testing.T, f *excelize.File, sheet, ref string) string {
	t.Helper()
	v, err := f.GetCellValue(sheet, ref, excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatalf("%s!%s: %v", sheet, ref, err)
	}
	return v
}

func at(col, row int) string {
	c, _ := excelize.CoordinatesToCellName(col, row)
	return c
}

// num checks that a cell holds exactly the number v (or is blank when v is nil).
func num(t *testing.T, f *excelize.File, sheet string, col, row int, v *float64, what string) {
	t.Helper()
	got := raw(t, f, sheet, at(col, row))
	if v == nil {
		if got != "" {
			t.Errorf("%s!%s (%s) = %q, want blank", sheet, at(col, row), what, got)
		}
		return
	}
	// Spreadsheets keep 15 significant digits, as Excel does.
	x, err := strconv.ParseFloat(got, 64)
	if err != nil || math.Abs(x-*v) > 1e-14*math.Abs(*v) {
		t.Errorf("%s!%s (%s) = %q, want %v", sheet, at(col, row), what, got, *v)
	}
}

func fptr(v float64) *float64 { return &v }

func iptr(v int) *float64 {
	if v == 0 {
		return nil
	}
	return fptr(float64(v))
}

// zipEntries reads the parts of an OOXML file, to check what excelize cannot read back
// (charts).
func zipEntries(t *testing.T, data []byte) map[string]string {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("not a zip: %v", err)
	}
	out := map[string]string{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		out[f.Name] = html.UnescapeString(string(b))
	}
	return out
}

func charts(entries map[string]string) []string {
	var out []string
	for name, body := range entries {
		if strings.HasPrefix(name, "xl/charts/chart") && strings.HasSuffix(name, ".xml") {
			out = append(out, body)
		}
	}
	return out
}
