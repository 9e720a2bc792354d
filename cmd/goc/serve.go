package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/g-oc/goc/internal/auth"
	"github.com/g-oc/goc/internal/config"
)

func runServe(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "serve", `goc serve --config FILE

Chạy máy chủ G-OC theo tệp cấu hình: API, /metrics, /healthz, /readyz.
Runs the G-OC server from a config file: the API, /metrics, /healthz, /readyz.
'goc validate --config FILE --example' in ra tệp mẫu / prints an example file.`)
	path := fs.String("config", "", "tệp cấu hình YAML / YAML config file (required)")
	addr := fs.String("addr", "", "ghi đè server.addr / override server.addr")
	pprofAddr := fs.String("pprof", "", "hồ sơ Go (pprof) tại địa chỉ loopback này, ghi đè server.pprof_addr / serve Go profiles on this loopback host:port, overrides server.pprof_addr")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *path == "" {
		return usageError{"thiếu --config / --config is required"}
	}
	cfg, err := config.Load(*path)
	if err != nil {
		return err
	}
	if *addr != "" {
		cfg.Server.Addr = *addr
	}
	if *pprofAddr != "" {
		if _, err := config.ParsePprofAddr(*pprofAddr); err != nil {
			return usageError{"--pprof: " + err.Error()}
		}
		cfg.Server.PprofAddr = *pprofAddr
	}
	a, err := newApp(ctx, cfg, e.stderr)
	if err != nil {
		return err
	}
	defer a.close()
	tokens, err := auth.NewTokens(tokenEntries(cfg.Tokens))
	if err != nil {
		return err
	}
	keys := newKeyring(tokens, a.registry)
	go reloadTokens(ctx, *path, keys, a.registry, 2*time.Second, a.log)
	return a.serve(ctx, keys, e, func(url string) {
		a.log.Info("G-OC đang chạy / serving", "url", url, "store", string(cfg.Store.Backend), "indicators", len(a.catalogue.All()), "agencies", len(a.registry.All()), "tokens", tokens.Len())
	})
}

func runValidate(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "validate", `goc validate --config FILE

Kiểm tra tệp cấu hình cùng danh mục chỉ tiêu và đơn vị nó trỏ tới; liệt kê mọi lỗi kèm dòng.
Checks a config file and the catalogue and registry files it points at; lists every
mistake with its line. Exit 0 when valid, 1 when not.`)
	path := fs.String("config", "", "tệp cấu hình YAML / YAML config file")
	example := fs.Bool("example", false, "in tệp cấu hình mẫu có chú thích / print a commented example config")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *example {
		fmt.Fprint(e.stdout, config.ExampleYAML())
		return nil
	}
	if *path == "" {
		return usageError{"thiếu --config / --config is required"}
	}
	cfg, err := config.Load(*path)
	if err != nil {
		return invalid(err)
	}
	cat, reg, err := loadDomain(cfg)
	if err != nil {
		return invalid(err)
	}
	fmt.Fprintf(e.stdout, "%s: hợp lệ / valid (%d chỉ tiêu/indicators, %d đơn vị/agencies, %d mã truy cập/tokens, kho/store %s)\n",
		*path, len(cat.All()), len(reg.All()), len(cfg.Tokens), cfg.Store.Backend)
	return nil
}

// invalid puts every problem on its own line after a one-line summary.
func invalid(err error) error {
	var ce *config.Error
	if errors.As(err, &ce) {
		return fmt.Errorf("cấu hình không hợp lệ / invalid configuration:\n%w", err)
	}
	return fmt.Errorf("không hợp lệ / invalid:\n%w", err)
}
