package reports_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"strconv"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/indicators/period"
	"github.com/g-oc/goc/internal/query"
	"github.com/g-oc/goc/internal/store"
	"github.com/g-oc/goc/reports"
)

// export runs an export plan through an exporter, as `goc report export` does.
func export(t *testing.T, q *query.Service, req query.ExportRequest, format string) ([]byte, int64) {
	t.Helper()
	plan, err := q.ExportPlan(req)
	if err != nil {
		t.Fatal(err)
	}
	reg := indicators.DefaultRegistry()
	var buf bytes.Buffer
	ex, err := reports.NewExporter(format, &buf, reports.ExportMeta{
		Names: func(c string) string {
			a, _ := reg.Get(c)
			return a.NameVI
		},
		Location: reports.DefaultLocation(), GeneratedAt: testNow, Query: "test",
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range plan {
		obs, err := q.ExportChunk(context.Background(), c)
		if err != nil {
			t.Fatal(err)
		}
		if err := ex.Write(obs); err != nil {
			t.Fatal(err)
		}
	}
	if err := ex.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), ex.Rows()
}

func storedRows(t *testing.T, st store.Store, codes []string, from, to string) map[string]indicators.Observation {
	t.Helper()
	obs, err := st.Observations(context.Background(), store.Query{Indicators: codes, From: period.MustParse(from).Start(nil), To: period.MustParse(to).End(nil)})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]indicators.Observation{}
	for _, o := range obs {
		out[o.Indicator+"|"+o.Agency+"|"+o.Period.String()] = o
	}
	return out
}

func TestExportWritesEveryStoredRowAsStored(t *testing.T) {
	q, st := demoService(t)
	codes := []string{"dossiers_fully_online", "egdi_rank", "officials_digital_skills"}
	want := storedRows(t, st, codes, "2023-Q2", "2025")
	req := query.ExportRequest{Indicators: codes, From: period.MustParse("2023-Q2"), To: period.MustParse("2025")}
	ict := reports.DefaultLocation()

	t.Run("xlsx", func(t *testing.T) {
		data, n := export(t, q, req, "xlsx")
		if int(n) != len(want) {
			t.Fatalf("%d rows exported, %d stored", n, len(want))
		}
		f, err := excelize.OpenReader(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		rows, err := f.GetRows(reports.SheetExport, excelize.Options{RawCellValue: true})
		if err != nil {
			t.Fatal(err)
		}
		if len(rows)-1 != len(want) {
			t.Fatalf("%d rows in the sheet, %d stored", len(rows)-1, len(want))
		}
		seenMerged := false
		for i, r := range rows[1:] {
			o, ok := want[r[0]+"|"+r[1]+"|"+r[3]]
			if !ok {
				t.Fatalf("row %d %q is not a stored observation", i+2, r)
			}
			v, _ := strconv.ParseFloat(r[4], 64)
			if v != o.Value || r[7] != string(o.Source) || r[8] != o.Submitter || r[10] != strconv.Itoa(o.Revision) || r[11] != o.Batch {
				t.Fatalf("row %d %q, stored %+v", i+2, r, o)
			}
			if o.Numerator != nil && r[5] != strconv.FormatFloat(*o.Numerator, 'f', -1, 64) {
				t.Fatalf("row %d numerator %q, stored %v", i+2, r[5], *o.Numerator)
			}
			shown, _ := f.GetCellValue(reports.SheetExport, at(10, i+2))
			if wantTime := o.ReceivedAt.In(ict).Format("2006-01-02 15:04:05"); shown != wantTime {
				t.Fatalf("row %d received at %q, want %q (UTC+7)", i+2, shown, wantTime)
			}
			if r[1] == "P74" {
				seenMerged = r[2] == "Tỉnh Bình Dương"
			}
		}
		if !seenMerged {
			t.Error("Bình Dương (P74), merged in 2025, is missing or misnamed")
		}
		panes, err := f.GetPanes(reports.SheetExport)
		if err != nil || !panes.Freeze || panes.YSplit != 1 {
			t.Errorf("header row is not frozen: %+v %v", panes, err)
		}
	})

	t.Run("csv", func(t *testing.T) {
		data, n := export(t, q, req, "csv")
		recs, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if int(n) != len(want) || len(recs)-1 != len(want) {
			t.Fatalf("%d rows exported (%d read back), %d stored", n, len(recs)-1, len(want))
		}
		for _, r := range recs[1:] {
			o, ok := want[r[0]+"|"+r[1]+"|"+r[3]]
			if !ok {
				t.Fatalf("row %q is not a stored observation", r)
			}
			at, err := time.Parse(time.RFC3339Nano, r[9])
			if err != nil || !at.Equal(o.ReceivedAt) {
				t.Fatalf("received_at %q, stored %v", r[9], o.ReceivedAt)
			}
			if v, _ := strconv.ParseFloat(r[4], 64); v != o.Value {
				t.Fatalf("value %q, stored %v", r[4], o.Value)
			}
		}
	})
}

func TestExportRefusesARangeThatEndsBeforeItStarts(t *testing.T) {
	q, _ := demoService(t)
	_, err := q.ExportPlan(query.ExportRequest{From: period.MustParse("2025"), To: period.MustParse("2024-Q4")})
	if err == nil {
		t.Fatal("2025 to 2024-Q4 was accepted")
	}
	if _, err := q.ExportPlan(query.ExportRequest{Indicators: []string{"no_such"}, From: period.MustParse("2024"), To: period.MustParse("2025")}); err == nil {
		t.Fatal("an unknown indicator was accepted")
	}
}

func TestExportPagesReadEveryRowOnceInSmallPages(t *testing.T) {
	q, _ := demoService(t)
	req := query.ExportRequest{From: period.MustParse("2019"), To: period.MustParse("2026"), History: true}
	plan, err := q.ExportPlan(req)
	if err != nil {
		t.Fatal(err)
	}
	var whole []indicators.Observation
	for _, c := range plan {
		obs, err := q.ExportChunk(context.Background(), c)
		if err != nil {
			t.Fatal(err)
		}
		whole = append(whole, obs...)
	}
	pages := q.ExportPages(plan, 7)
	var paged []indicators.Observation
	for {
		obs, done, err := pages.Next(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if done {
			break
		}
		if len(obs) > 7 || len(obs) == 0 {
			t.Fatalf("page of %d observations, want 1 to 7", len(obs))
		}
		paged = append(paged, obs...)
	}
	if len(paged) != len(whole) || len(whole) == 0 {
		t.Fatalf("pages gave %d observations, whole chunks %d", len(paged), len(whole))
	}
	for i := range whole {
		if store.KeyOf(paged[i]) != store.KeyOf(whole[i]) {
			t.Fatalf("observation %d: %+v in pages, %+v whole", i, store.KeyOf(paged[i]), store.KeyOf(whole[i]))
		}
	}
}
