package reports_test

import (
	"bytes"
	"context"
	"io"
	"runtime"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/indicators/period"
	"github.com/g-oc/goc/internal/query"
	"github.com/g-oc/goc/reports"
)

// Run with scripts/bench-reports.sh (or go test ./reports -run '^$' -bench . -benchtime 1x);
// results are in BENCHMARKS.md.

const exportRows = 1_000_000

// observations yields exportRows synthetic observations in batches of 5,000, the size of
// a large export chunk, reusing one batch so the source itself holds no memory.
func observations(fn func([]indicators.Observation)) { observationsN(exportRows, fn) }

func observationsN(total int, fn func([]indicators.Observation)) {
	batch := make([]indicators.Observation, 5000)
	received := time.Date(2026, 1, 15, 3, 4, 5, 0, time.UTC)
	n := 0
	for n < total {
		k := min(len(batch), total-n)
		for i := range k {
			num, den := float64((n+i)%997), float64(1000+(n+i)%13)
			batch[i] = indicators.Observation{
				SeriesKey: indicators.SeriesKey{
					Indicator: "dossiers_fully_online", Agency: "P" + strconv.Itoa(1+(n+i)%96),
					Period: period.Period{Kind: period.Month, Year: 2019 + (n+i)/40000%8, Index: 1 + (n+i)%12},
				},
				Value: 100 * num / den, Numerator: &num, Denominator: &den,
				Source: indicators.FromSubmission, Submitter: "so-tttt-bao-cao", ReceivedAt: received, Revision: 1,
				Batch: "0b9e6c1e-3f0a-4c53-9d8e-2f4f2a3c6d7e",
			}
		}
		fn(batch[:k])
		n += k
	}
}

// plainExport writes the same cells with excelize's StreamWriter and nothing else: the
// floor the export is measured against.
func plainExport(w io.Writer, names func(string) string, loc *time.Location) error {
	f := excelize.NewFile()
	defer f.Close()
	date, err := f.NewStyle(&excelize.Style{CustomNumFmt: ptrTo("yyyy-mm-dd hh:mm:ss")})
	if err != nil {
		return err
	}
	sw, err := f.NewStreamWriter("Sheet1")
	if err != nil {
		return err
	}
	head := make([]any, len(reports.ExportHeaders))
	for i, h := range reports.ExportHeaders {
		head[i] = h
	}
	if err := sw.SetRow("A1", head); err != nil {
		return err
	}
	row := 1
	cells := make([]any, len(reports.ExportHeaders))
	observations(func(obs []indicators.Observation) {
		for i := range obs {
			o := &obs[i]
			l := o.ReceivedAt.In(loc)
			cells[0], cells[1], cells[2], cells[3] = o.Indicator, o.Agency, names(o.Agency), o.Period.String()
			cells[4], cells[5], cells[6] = o.Value, *o.Numerator, *o.Denominator
			cells[7], cells[8] = string(o.Source), o.Submitter
			cells[9] = excelize.Cell{StyleID: date, Value: time.Date(l.Year(), l.Month(), l.Day(), l.Hour(), l.Minute(), l.Second(), 0, time.UTC)}
			cells[10], cells[11] = o.Revision, o.Batch
			row++
			if err == nil {
				err = sw.SetRow("A"+strconv.Itoa(row), cells)
			}
		}
	})
	if err != nil {
		return err
	}
	if err := sw.Flush(); err != nil {
		return err
	}
	return f.Write(w)
}

func gocExport(w io.Writer, names func(string) string, loc *time.Location) error {
	return gocExportN(exportRows, w, names, loc)
}

func gocExportN(rows int, w io.Writer, names func(string) string, loc *time.Location) error {
	x, err := reports.NewXLSXExport(w, reports.ExportMeta{Names: names, Location: loc, GeneratedAt: time.Now(), Query: "benchmark"})
	if err != nil {
		return err
	}
	observationsN(rows, func(obs []indicators.Observation) {
		if err == nil {
			err = x.Write(obs)
		}
	})
	if err != nil {
		return err
	}
	return x.Close()
}

func ptrTo[T any](v T) *T { return &v }

// peakHeap runs fn while sampling the heap every 20 ms, and returns the highest heap in
// use seen (bytes) above what was in use before.
func peakHeap(fn func() error) (time.Duration, uint64, error) {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse
	var peak atomic.Uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			if m.HeapInuse > peak.Load() {
				peak.Store(m.HeapInuse)
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	start := time.Now()
	err := fn()
	d := time.Since(start)
	close(stop)
	<-done
	p := peak.Load()
	if p < base {
		p = base
	}
	return d, p - base, err
}

// BenchmarkExport1M writes a 1,000,000-row XLSX export with the goc exporter and, in the
// same run, the same cells with a bare excelize StreamWriter. The two alternate three
// times each (plain, goc, goc, plain, plain, goc), so drift on a shared machine falls on
// both, and the medians, their ratio and each one's peak heap are reported.
func BenchmarkExport1M(b *testing.B) {
	reg := indicators.DefaultRegistry()
	names := func(c string) string {
		if a, ok := reg.Get(c); ok {
			return a.NameVI
		}
		return ""
	}
	loc := reports.DefaultLocation()
	run := map[bool]func() error{
		false: func() error { return plainExport(io.Discard, names, loc) },
		true:  func() error { return gocExport(io.Discard, names, loc) },
	}
	for b.Loop() {
		times := map[bool][]float64{}
		peaks := map[bool]uint64{}
		for _, goc := range []bool{false, true, true, false, false, true} {
			d, peak, err := peakHeap(run[goc])
			if err != nil {
				b.Fatal(err)
			}
			times[goc] = append(times[goc], d.Seconds())
			peaks[goc] = max(peaks[goc], peak)
		}
		plain, goc := median(times[false]), median(times[true])
		b.ReportMetric(plain, "plain-s")
		b.ReportMetric(goc, "goc-s")
		b.ReportMetric(goc/plain, "ratio")
		b.ReportMetric(float64(peaks[false])/(1<<20), "plain-peak-MiB")
		b.ReportMetric(float64(peaks[true])/(1<<20), "goc-peak-MiB")
	}
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

// BenchmarkExportMemory shows that the export's memory does not grow with its size: the
// peak heap of 100,000 and of 1,000,000 rows.
func BenchmarkExportMemory(b *testing.B) {
	for _, rows := range []int{100_000, exportRows} {
		b.Run(strconv.Itoa(rows), func(b *testing.B) {
			for b.Loop() {
				d, peak, err := peakHeap(func() error {
					return gocExportN(rows, io.Discard, func(string) string { return "Tỉnh Lạng Sơn" }, reports.DefaultLocation())
				})
				if err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(d.Seconds(), "s")
				b.ReportMetric(float64(peak)/(1<<20), "peak-MiB")
			}
		})
	}
}

// BenchmarkCSVExport1M is the same 1,000,000 rows as CSV.
func BenchmarkCSVExport1M(b *testing.B) {
	loc := reports.DefaultLocation()
	for b.Loop() {
		d, peak, err := peakHeap(func() error {
			c, err := reports.NewCSVExport(io.Discard, reports.ExportMeta{Location: loc})
			if err != nil {
				return err
			}
			observations(func(obs []indicators.Observation) {
				if err == nil {
					err = c.Write(obs)
				}
			})
			if err != nil {
				return err
			}
			return c.Close()
		})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(d.Seconds(), "s")
		b.ReportMetric(float64(peak)/(1<<20), "peak-MiB")
	}
}

// BenchmarkRankingWorkbook is what GET /api/v1/reports/ranking.xlsx does for every
// province (and for the 63 of 2024): rank from the SQLite store with provenance and
// national trends, build the workbook and write it.
func BenchmarkRankingWorkbook(b *testing.B) {
	q, _ := demoService(b)
	for _, p := range []string{"2025", "2024"} {
		b.Run("provinces-"+p, func(b *testing.B) {
			for b.Loop() {
				rep, err := q.Ranking(context.Background(), query.RankingRequest{Group: indicators.Provinces, Period: period.MustParse(p),
					Method: indicators.DefaultRankingMethod(), Provenance: true, Trends: true})
				if err != nil {
					b.Fatal(err)
				}
				f, err := reports.RankingWorkbook(rep, nil)
				if err != nil {
					b.Fatal(err)
				}
				var buf bytes.Buffer
				if err := f.Write(&buf); err != nil {
					b.Fatal(err)
				}
				f.Close()
				b.ReportMetric(float64(buf.Len())/1024, "KiB")
			}
		})
	}
}
