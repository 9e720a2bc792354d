package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/g-oc/goc/internal/config"
	"github.com/g-oc/goc/internal/opendata"
	"github.com/g-oc/goc/internal/query"
)

const exportUsage = `goc export opendata DIR [--config FILE | --data DIR]

Xuất mọi số liệu đã duyệt thành gói dữ liệu Frictionless trong DIR: datapackage.json (lược đồ
bảng, khoá chính, khoá ngoại, giấy phép), CSV và JSON của danh mục chỉ tiêu, mục tiêu, đơn vị,
sáp nhập và số liệu, và một tệp cho mỗi chỉ tiêu. Mỗi bản phát hành nằm trong
DIR/releases/PHIÊN-BẢN/; chỉ tạo bản mới khi số liệu đổi.
Exports every approved figure as a Frictionless data package in DIR: datapackage.json (table
schemas, primary and foreign keys, licence), CSV and JSON of the catalogue, targets,
agencies, mergers and observations, and one file per indicator. Each release is in
DIR/releases/VERSION/; a new one is made only when the data changed.`

func runExport(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		return usageError{"thiếu lệnh con: opendata / missing subcommand: opendata (see goc export --help)"}
	}
	switch args[0] {
	case "-h", "--help", "help":
		fmt.Fprintln(e.stdout, exportUsage)
		return nil
	case "opendata":
		return runExportOpenData(ctx, e, args[1:])
	}
	return usageError{fmt.Sprintf("lệnh con không tồn tại %q / unknown subcommand %q: want opendata", args[0], args[0])}
}

func runExportOpenData(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "export opendata", exportUsage)
	cfgPath := fs.String("config", "", "đọc kho của tệp cấu hình này / read the store of this config file")
	data := fs.String("data", "goc-demo-data", "thư mục dữ liệu của goc demo (khi không có --config) / goc demo's data directory (without --config)")
	// The directory may come before the flags, as the README writes it.
	var dir string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		dir, args = args[0], args[1:]
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if dir == "" && fs.NArg() == 1 {
		dir = fs.Arg(0)
	}
	if dir == "" || fs.NArg() > 1 || (dir != "" && fs.NArg() == 1 && fs.Arg(0) != dir) {
		return usageError{"cần đúng một thư mục DIR / give exactly one directory DIR"}
	}
	var cfg *config.Config
	if *cfgPath != "" {
		c, err := config.Load(*cfgPath)
		if err != nil {
			return invalid(err)
		}
		cfg = c
	} else {
		cfg = config.Default()
		cfg.Store.Path = filepath.Join(*data, "goc.db")
	}
	if p := cfg.Store.Path; cfg.Store.Backend == config.BackendSQLite && p != ":memory:" && !strings.HasPrefix(p, "file:") {
		// An export reads; it must not create an empty database and publish nothing.
		if _, err := os.Stat(p); err != nil {
			return fmt.Errorf("kho dữ liệu / store %s: %w (chạy goc demo trước, hoặc dùng --config / run goc demo first, or give --config)", p, err)
		}
	}
	a, err := newApp(ctx, cfg, e.stderr)
	if err != nil {
		return err
	}
	defer a.close()
	q := query.New(a.store, a.catalogue, a.registry, time.Now).PublicView()
	lic := cfg.OpenData.Licence
	fmt.Fprintf(e.stderr, "đang xuất dữ liệu mở vào %s / exporting open data into %s\n", dir, dir)
	rel, err := opendata.Write(ctx, q, dir, opendata.Options{Licence: opendata.Licence{Name: lic.Name, Title: lic.Title, Path: lic.Path}})
	if err != nil {
		return err
	}
	state := "bản phát hành mới / new release"
	if !rel.Changed {
		state = "số liệu không đổi, giữ bản cũ / data unchanged, release kept"
	}
	fmt.Fprintf(e.stdout, "%s: %s (%d số liệu / observations, %d chỉ tiêu / indicators, %s)\n%s\n",
		state, rel.Version, rel.Observations, rel.Indicators, rel.Hash, filepath.Join(dir, "datapackage.json"))
	return nil
}
