package main

import (
	"context"
	"fmt"
	"time"

	"github.com/g-oc/goc/internal/config"
	"github.com/g-oc/goc/internal/query"
	"github.com/g-oc/goc/internal/store"
)

const rebuildUsage = `goc rebuild --config FILE

Tính lại từ lịch sử những gì kho giữ sẵn cho việc đọc: thời gian hoạt động 24 giờ / 7 ngày /
30 ngày và độ trễ trung vị của từng cổng, và số liệu năm của mọi cơ quan theo từng chỉ tiêu
(công khai và cho người duyệt). Với InfluxDB: thời gian hoạt động và số liệu năm mà tệp
hàng đợi giữ, tính lại từ lịch sử trong InfluxDB và tệp hàng đợi. Dùng sau khi khôi phục
hoặc sửa tay tệp dữ liệu.
Tiến độ in ra stderr.
Recomputes from the history what the store keeps ready for reads: each portal's 24 h /
7 d / 30 d uptime and median latency, and every agency's yearly figures of every
indicator (as the public and as reviewers see them), rolled up under the configured
registry and catalogue. Use it after restoring or editing the data file; progress goes
to stderr. The store keeps these as data are written (a figure's year is marked by the
write and recomputed by the next read; a changed registry or catalogue makes the next
read recompute everything); tests check that what it keeps equals what this
recomputes. On InfluxDB it recomputes what its spool keeps: the uptime windows, from
the probe history in InfluxDB (with redis.addr, InfluxDB computes them and there is
nothing to recompute), and the yearly figures, from the history in InfluxDB and the
spool.`

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
	rb, windows := a.store.(store.ProbeWindowRebuilder)
	_, figures := a.store.(store.FigureKeeper)
	if !windows && !figures {
		fmt.Fprintln(e.stdout, "kho này không giữ sẵn gì để tính lại / this store keeps nothing to recompute")
		return nil
	}
	if windows {
		if err := rb.RebuildProbeWindows(ctx); err != nil {
			return fmt.Errorf("tính lại / rebuild: %w", err)
		}
		fmt.Fprintln(e.stdout, "đã tính lại thời gian hoạt động của các cổng / portal uptime windows recomputed from history")
	}
	if figures {
		start, sets := time.Now(), 0
		q := query.New(a.store, a.catalogue, a.registry, time.Now)
		err := q.RebuildFigures(ctx, func(done, total int, set store.FigureSet) {
			sets = total
			level := string(set.Level)
			if level == "" {
				level = "mọi cơ quan / every agency"
			}
			fmt.Fprintf(e.stderr, "số liệu năm / yearly figures %d/%d: %s, %s, %s (%s)\n", done, total, set.Indicator, set.View, level, time.Since(start).Round(time.Millisecond))
		})
		if err != nil {
			return fmt.Errorf("tính lại số liệu năm / rebuild yearly figures: %w", err)
		}
		fmt.Fprintf(e.stdout, "đã tính lại số liệu năm của %d chỉ tiêu × cấp × chế độ xem / yearly figures of %d indicator × level × view sets recomputed from history\n", sets, sets)
	}
	return nil
}
