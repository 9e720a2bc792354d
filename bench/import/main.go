// Command import measures `goc import` on a million-row file against a plain excelize
// Rows() read of the same workbook, with each one's wall time and peak resident memory
// (the child process's maximum RSS as the kernel counts it). scripts/bench-import.sh
// builds and runs it; the results go in BENCHMARKS.md.
//
// The data is shaped like G-OC's real load: 2,500 communes under 34 provinces, each
// reporting 10 monthly ratio indicators for 40 months, given to goc through a config
// whose registry and catalogue files describe them.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/g-oc/goc/indicators/period"
)

const (
	communes   = 2500
	provinces  = 34
	indicators = 10
	months     = 40
)

func main() {
	gocBin := flag.String("goc", "goc", "the goc binary to measure")
	dir := flag.String("dir", filepath.Join(os.TempDir(), "goc-bench-import"), "work folder: generated files and stores")
	runs := flag.Int("runs", 1, "runs of each measurement (the fastest is reported)")
	readXLSX := flag.String("read-xlsx", "", "internal: read this workbook with excelize Rows() and exit")
	flag.Parse()
	if *readXLSX != "" {
		if err := baseline(*readXLSX); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	if err := run(*gocBin, *dir, *runs); err != nil {
		fmt.Fprintln(os.Stderr, "bench import:", err)
		os.Exit(1)
	}
}

// baseline is the reference: open the workbook and read every row's raw values.
func baseline(name string) error {
	f, err := excelize.OpenFile(name, excelize.Options{UnzipXMLSizeLimit: 16 << 20, UnzipSizeLimit: 8 << 30})
	if err != nil {
		return err
	}
	defer f.Close()
	rows, err := f.Rows(f.GetSheetList()[0])
	if err != nil {
		return err
	}
	cells := 0
	for rows.Next() {
		c, err := rows.Columns(excelize.Options{RawCellValue: true})
		if err != nil {
			return err
		}
		cells += len(c)
	}
	if err := rows.Close(); err != nil {
		return err
	}
	fmt.Println(cells, "cells")
	return nil
}

type measured struct {
	wall   time.Duration
	cpu    time.Duration // user + system time of the child: steadier than wall time on a shared machine
	maxRSS int64         // bytes
	out    string
}

// measure runs a command and reports its wall time and peak RSS.
func measure(name string, args ...string) (measured, error) {
	cmd := exec.Command(name, args...)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	m := measured{wall: time.Since(start), out: out.String()}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		m.maxRSS = ru.Maxrss * 1024 // kilobytes on Linux
		m.cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	if err != nil {
		return m, fmt.Errorf("%s %v: %w\n%s", name, args, err, out.String())
	}
	return m, nil
}

func best(n int, f func() (measured, error)) (measured, error) {
	var b measured
	for i := range n {
		m, err := f()
		if err != nil {
			return m, err
		}
		fmt.Fprintf(os.Stderr, "   run %d: wall %.1f s, CPU %.1f s, peak RSS %d MB\n", i+1, m.wall.Seconds(), m.cpu.Seconds(), m.maxRSS>>20)
		if i == 0 || m.wall < b.wall {
			b = m
		}
	}
	return b, nil
}

func run(gocBin, dir string, runs int) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	csvPath, xlsxPath, cfgPath, err := generate(dir)
	if err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	fresh := func() error {
		for _, suffix := range []string{"", "-wal", "-shm"} {
			if err := os.Remove(filepath.Join(dir, "goc.db"+suffix)); err != nil && !os.IsNotExist(err) {
				return err
			}
		}
		return nil
	}
	type row struct {
		what string
		m    measured
	}
	var rows []row
	add := func(what string, f func() (measured, error)) error {
		fmt.Fprintf(os.Stderr, "== %s\n", what)
		m, err := best(runs, f)
		if err != nil {
			return err
		}
		rows = append(rows, row{what, m})
		return nil
	}
	if err := add("excelize Rows(), raw values (baseline)", func() (measured, error) { return measure(self, "-read-xlsx", xlsxPath) }); err != nil {
		return err
	}
	if err := add("goc import --dry-run (read + validate), XLSX", func() (measured, error) {
		return measure(gocBin, "import", xlsxPath, "--config", cfgPath, "--dry-run")
	}); err != nil {
		return err
	}
	if err := add("goc import into an empty store, XLSX", func() (measured, error) {
		if err := fresh(); err != nil {
			return measured{}, err
		}
		return measure(gocBin, "import", xlsxPath, "--config", cfgPath)
	}); err != nil {
		return err
	}
	if err := add("goc import again (every value unchanged), XLSX", func() (measured, error) {
		return measure(gocBin, "import", xlsxPath, "--config", cfgPath)
	}); err != nil {
		return err
	}
	if err := add("goc import into an empty store, CSV", func() (measured, error) {
		if err := fresh(); err != nil {
			return measured{}, err
		}
		return measure(gocBin, "import", csvPath, "--config", cfgPath)
	}); err != nil {
		return err
	}
	base := rows[0].m.wall
	fi, _ := os.Stat(xlsxPath)
	ci, _ := os.Stat(csvPath)
	fmt.Printf("%d rows; XLSX %.1f MB, CSV %.1f MB; best of %d run(s)\n\n", communes*indicators*months, float64(fi.Size())/1e6, float64(ci.Size())/1e6, runs)
	baseCPU := rows[0].m.cpu
	fmt.Println("| run | wall time | × baseline | CPU (user+sys) | × baseline CPU | peak RSS |")
	fmt.Println("|---|---|---|---|---|---|")
	for _, r := range rows {
		fmt.Printf("| %s | %.1f s | %.2f | %.1f s | %.2f | %d MB |\n", r.what, r.m.wall.Seconds(), r.m.wall.Seconds()/base.Seconds(),
			r.m.cpu.Seconds(), r.m.cpu.Seconds()/baseCPU.Seconds(), r.m.maxRSS>>20)
	}
	for _, r := range rows[1:] {
		if last := lastLine(r.m.out); last != "" {
			fmt.Fprintf(os.Stderr, "%s: %s\n", r.what, last)
		}
	}
	return nil
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

func commune(i int) (code, parent string) {
	p := i%provinces + 1
	return fmt.Sprintf("B%02d-C%04d", p, i), fmt.Sprintf("B%02d", p)
}

// generate writes the registry, the catalogue, the config and the two data files, once.
func generate(dir string) (csvPath, xlsxPath, cfgPath string, err error) {
	csvPath, xlsxPath = filepath.Join(dir, "history.csv"), filepath.Join(dir, "history.xlsx")
	cfgPath = filepath.Join(dir, "goc.yaml")
	if _, err := os.Stat(xlsxPath); err == nil {
		return csvPath, xlsxPath, cfgPath, nil
	}
	fmt.Fprintln(os.Stderr, "== generating", dir)
	var reg strings.Builder
	reg.WriteString("agencies:\n  - {code: VN, name_vi: Việt Nam, name_en: Viet Nam, kind: national}\n")
	for p := 1; p <= provinces; p++ {
		fmt.Fprintf(&reg, "  - {code: B%02d, name_vi: Tỉnh %d, name_en: Province %d, kind: province, parent: VN}\n", p, p, p)
	}
	for i := range communes {
		c, parent := commune(i)
		fmt.Fprintf(&reg, "  - {code: %s, name_vi: Xã %d, name_en: Commune %d, kind: commune, parent: %s}\n", c, i, i, parent)
	}
	var cat strings.Builder
	cat.WriteString("indicators:\n")
	for k := range indicators {
		fmt.Fprintf(&cat, `  - code: bench_m%02d
    name_vi: Chỉ tiêu tháng %d
    name_en: Monthly indicator %d
    unit: percent
    direction: higher
    periodicity: monthly
    aggregation: ratio
    bounds: {min: 0, max: 100}
    pillar: operations
    levels: [commune]
    targets: []
`, k, k, k)
	}
	for name, body := range map[string]string{
		"registry.yaml":  reg.String(),
		"catalogue.yaml": cat.String(),
		"goc.yaml":       "store: {backend: sqlite, path: goc.db}\nregistry: {file: registry.yaml}\ncatalogue: {file: catalogue.yaml}\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			return "", "", "", err
		}
	}

	cf, err := os.Create(csvPath)
	if err != nil {
		return "", "", "", err
	}
	defer cf.Close()
	cw := bufio.NewWriterSize(cf, 1<<20)
	x := excelize.NewFile()
	defer x.Close()
	sw, err := x.NewStreamWriter("Sheet1")
	if err != nil {
		return "", "", "", err
	}
	header := []string{"agency", "period", "indicator", "value", "numerator", "denominator"}
	io.WriteString(cw, strings.Join(header, ",")+"\n")
	hdr := make([]any, len(header))
	for i, h := range header {
		hdr[i] = h
	}
	if err := sw.SetRow("A1", hdr); err != nil {
		return "", "", "", err
	}
	first := period.MustParse("2022-01")
	r := 2
	vals := make([]any, 6)
	for m := range months {
		p := first.Add(m).String()
		for k := range indicators {
			ind := fmt.Sprintf("bench_m%02d", k)
			for i := range communes {
				c, _ := commune(i)
				den := 200 + (i*7+k*13)%800
				num := (den * (20 + (i+k+m)%70)) / 100
				fmt.Fprintf(cw, "%s,%s,%s,,%d,%d\n", c, p, ind, num, den)
				vals[0], vals[1], vals[2], vals[3], vals[4], vals[5] = c, p, ind, nil, num, den
				cell := "A" + strconv.Itoa(r)
				if err := sw.SetRow(cell, vals); err != nil {
					return "", "", "", err
				}
				r++
			}
		}
	}
	if err := cw.Flush(); err != nil {
		return "", "", "", err
	}
	if err := sw.Flush(); err != nil {
		return "", "", "", err
	}
	if err := x.SaveAs(xlsxPath); err != nil {
		return "", "", "", err
	}
	return csvPath, xlsxPath, cfgPath, nil
}
