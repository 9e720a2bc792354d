package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/g-oc/goc/internal/config"
	"github.com/g-oc/goc/internal/store"
	"github.com/g-oc/goc/internal/termbar"
)

const backupUsage = `goc backup --out FILE [--config FILE | --data DIR]

Sao lưu kho SQLite vào một tệp mới trong khi máy chủ vẫn chạy: bản sao nhất quán tại một
thời điểm, được kiểm tra toàn vẹn (PRAGMA integrity_check) trước khi mang tên FILE. Không ghi
đè tệp có sẵn. Khôi phục: dừng goc, chép FILE vào chỗ tệp kho (xoá tệp -wal và -shm cũ), chạy lại.
Backs the SQLite store up into a new file while the server keeps running: a consistent
snapshot, checked with SQLite's integrity check before it gets the name FILE. An existing
file is never overwritten. To restore: stop goc, copy FILE over the store's file (remove
its old -wal and -shm files), start goc again.
InfluxDB has its own tools: influx backup (2.x) or influxd backup -portable (1.8).`

func runBackup(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "backup", backupUsage)
	cfgPath := fs.String("config", "", "sao lưu kho của tệp cấu hình này / back up the store of this config file")
	data := fs.String("data", "goc-demo-data", "thư mục dữ liệu của goc demo (khi không có --config) / goc demo's data directory (without --config)")
	out := fs.String("out", "", "tệp sao lưu mới / the new backup file (required)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *out == "" {
		return usageError{"thiếu --out / --out is required"}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("đối số thừa / unexpected argument %q", fs.Arg(0))}
	}
	cfg := config.Default()
	cfg.Store.Path = filepath.Join(*data, "goc.db")
	if *cfgPath != "" {
		c, err := config.Load(*cfgPath)
		if err != nil {
			return invalid(err)
		}
		cfg = c
	}
	if cfg.Store.Backend != config.BackendSQLite {
		return errors.New("kho InfluxDB có công cụ riêng: influx backup (2.x) hoặc influxd backup -portable (1.8) / " +
			"the InfluxDB store has its own tools: influx backup (2.x) or influxd backup -portable (1.8)")
	}
	// A backup reads; it must not create an empty database and copy nothing.
	if _, err := os.Stat(cfg.Store.Path); err != nil {
		return fmt.Errorf("kho dữ liệu / store %s: %w (chạy goc demo trước, hoặc dùng --config / run goc demo first, or give --config)", cfg.Store.Path, err)
	}
	a, err := newApp(ctx, cfg, e.stderr)
	if err != nil {
		return err
	}
	defer a.close()
	b, ok := a.store.(store.Backuper)
	if !ok {
		return fmt.Errorf("kho %s không sao lưu được bằng goc / store backend %s cannot be backed up by goc", cfg.Store.Backend, cfg.Store.Backend)
	}
	var bar *termbar.Bar
	var shown int64
	info, err := b.Backup(ctx, *out, func(done, total int64) {
		if bar == nil {
			bar = termbar.New(e.stderr, "sao lưu / backing up (bytes)", total)
		}
		if done > shown {
			bar.Add(done - shown)
			shown = done
		}
	})
	if err != nil {
		return fmt.Errorf("chưa sao lưu, không ghi đè gì / no backup made, nothing overwritten: %w", err)
	}
	if bar != nil {
		bar.Done()
	}
	fmt.Fprintf(e.stdout, "đã sao lưu / backed up: %s (%d bytes, %d số liệu / observations, %d kết quả đo / probe results; kiểm tra toàn vẹn / integrity check: ok)\n",
		info.Path, info.Bytes, info.Observations, info.ProbeResults)
	return nil
}
