package main

import (
	"context"
	"fmt"

	"github.com/g-oc/goc/internal/config"
	"github.com/g-oc/goc/internal/store"
)

const rebuildUsage = `goc rebuild --config FILE

Tính lại từ lịch sử những gì kho giữ sẵn cho việc đọc: thời gian hoạt động 24 giờ / 7 ngày /
30 ngày và độ trễ trung vị của từng cổng. Dùng sau khi khôi phục hoặc sửa tay tệp dữ liệu.
Recomputes from the history what the store keeps ready for reads: each portal's 24 h /
7 d / 30 d uptime and median latency. Use it after restoring or editing the data file.
The store keeps these as results are written; a test checks that what it keeps equals
what this recomputes. Yearly figures of indicators are kept in memory by the server
and recomputed on their own when the data change.`

func runRebuild(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "rebuild", rebuildUsage)
	cfgPath := fs.String("config", "", "tệp cấu hình / config file (required)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *cfgPath == "" {
		return usageError{"thiếu --config / --config is required"}
	}
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		return invalid(err)
	}
	a, err := newApp(ctx, cfg, e.stderr)
	if err != nil {
		return err
	}
	defer a.close()
	rb, ok := a.store.(store.ProbeWindowRebuilder)
	if !ok {
		fmt.Fprintln(e.stdout, "kho này không giữ sẵn gì để tính lại / this store keeps nothing to recompute (InfluxDB computes uptime on the server)")
		return nil
	}
	if err := rb.RebuildProbeWindows(ctx); err != nil {
		return fmt.Errorf("tính lại / rebuild: %w", err)
	}
	fmt.Fprintln(e.stdout, "đã tính lại thời gian hoạt động của các cổng / portal uptime windows recomputed from history")
	return nil
}
