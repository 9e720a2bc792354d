package submission

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/indicators/period"
	"github.com/g-oc/goc/internal/intake"
	"github.com/g-oc/goc/internal/store"
	"github.com/g-oc/goc/internal/store/sqlite"
)

// history writes n monthly-style rows: every province-level quarterly ratio indicator
// for P20 and its former neighbours, quarter by quarter from 2019.
func historyCSV(quarters int, extra string) string {
	var b strings.Builder
	b.WriteString(header)
	p := period.MustParse("2019-Q1")
	for q := range quarters {
		for _, code := range []string{"dossiers_fully_online", "work_records_online", "ops_prefilled", "ops_level4_share"} {
			for _, a := range []string{"P20", "P04", "P11"} {
				fmt.Fprintf(&b, "%s,%s,%s,,%d,1000\n", a, p.Add(q), code, 100+q*10)
			}
		}
	}
	b.WriteString(extra)
	return b.String()
}

const header = "agency,period,indicator,value,numerator,denominator\n"

var testNow = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

func rules(scope string) intake.Rules {
	return intake.Rules{
		Catalogue: indicators.DefaultCatalogue(), Registry: indicators.DefaultRegistry(),
		Location: time.UTC, Now: testNow, Scope: scope, Token: "test-" + scope,
	}
}

func openStore(t *testing.T) *sqlite.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "goc.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func importCSV(t *testing.T, st *sqlite.Store, body string, bulk bool) (ImportResult, error) {
	t.Helper()
	o := ImportOptions{
		Rules:     rules(""),
		Read:      func(h intake.Handler) error { return intake.ReadCSV(strings.NewReader(body), intake.CSVOptions{}, h) },
		Writer:    st,
		Chunk:     100, // many chunks, so rollback across them is tested
		Submitter: "goc-import",
	}
	if bulk {
		o.Begin = func(ctx context.Context) (Loader, error) { return st.BeginBulk(ctx) }
	}
	return Import(context.Background(), o)
}

func count(t *testing.T, st *sqlite.Store) int {
	t.Helper()
	obs, err := st.Observations(context.Background(), store.Query{History: true})
	if err != nil {
		t.Fatal(err)
	}
	return len(obs)
}

func TestImportStoresEveryRowOnceAndAgainNothing(t *testing.T) {
	for _, bulk := range []bool{true, false} {
		t.Run(fmt.Sprintf("bulk=%v", bulk), func(t *testing.T) {
			st := openStore(t)
			body := historyCSV(30, "")
			res, err := importCSV(t, st, body, bulk)
			if err != nil || !res.OK() {
				t.Fatalf("err %v, problems %v", err, res.Problems)
			}
			if res.Rows != 360 || res.Created != 360 || res.Unchanged != 0 {
				t.Errorf("rows %d, created %d, unchanged %d; want 360 new", res.Rows, res.Created, res.Unchanged)
			}
			again, err := importCSV(t, st, body, bulk)
			if err != nil || again.Created != 0 || again.Unchanged != 360 {
				t.Errorf("second import: err %v, created %d, unchanged %d", err, again.Created, again.Unchanged)
			}
			changed := strings.Replace(body, "P20,2019-Q1,dossiers_fully_online,,100,1000", "P20,2019-Q1,dossiers_fully_online,,105,1000", 1)
			third, err := importCSV(t, st, changed, bulk)
			if err != nil || third.Created != 1 {
				t.Fatalf("a corrected value: err %v, created %d", err, third.Created)
			}
			hist, _ := st.Observations(context.Background(), store.Query{History: true, Indicators: []string{"dossiers_fully_online"}, Agencies: []string{"P20"},
				From: period.MustParse("2019-Q1").Start(nil), To: period.MustParse("2019-Q1").End(nil)})
			if len(hist) != 2 || hist[0].Value != 10 || hist[1].Value != 10.5 || hist[1].Revision != 2 || hist[1].Submitter != "goc-import" {
				t.Errorf("history of the corrected value = %+v", hist)
			}
			latest, _ := st.Observations(context.Background(), store.Query{Indicators: []string{"dossiers_fully_online"}, Agencies: []string{"P20"}})
			if len(latest) != 30 || latest[0].Value != 10.5 || latest[0].Revision != 2 {
				t.Errorf("latest table after the bulk load: %d rows, first %+v", len(latest), latest[0])
			}
		})
	}
}

func TestAnImportWithOneBadRowAtTheEndStoresNothing(t *testing.T) {
	for _, bulk := range []bool{true, false} {
		t.Run(fmt.Sprintf("bulk=%v", bulk), func(t *testing.T) {
			st := openStore(t)
			// 360 good rows (several chunks already sent to the store), then a bad one
			// and a duplicate of the first row.
			body := historyCSV(30, "P20,2026-Q3,dossiers_fully_online,,1200,1000\nP20,2019-Q1,dossiers_fully_online,,100,1000\n")
			res, err := importCSV(t, st, body, bulk)
			if err != nil {
				t.Fatal(err)
			}
			if res.OK() || res.Total != 2 || res.Created != 0 {
				t.Errorf("total %d, created %d: %v", res.Total, res.Created, res.Problems)
			}
			if n := count(t, st); n != 0 {
				t.Errorf("a rejected import left %d observations", n)
			}
		})
	}
}

func TestImportDryRunStoresNothing(t *testing.T) {
	st := openStore(t)
	o := ImportOptions{Rules: rules(""), DryRun: true, Writer: st,
		Read: func(h intake.Handler) error {
			return intake.ReadCSV(bytes.NewReader([]byte(historyCSV(2, ""))), intake.CSVOptions{}, h)
		}}
	res, err := Import(context.Background(), o)
	if err != nil || !res.OK() || res.Rows != 24 || count(t, st) != 0 {
		t.Errorf("dry run: err %v, rows %d, stored %d", err, res.Rows, count(t, st))
	}
}
