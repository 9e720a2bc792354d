package main

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/g-oc/goc/grafana/dashboards"
	"github.com/g-oc/goc/grafana/provision"
	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/internal/config"
)

const grafanaUsage = `goc grafana dashboards -o DIR [--config FILE]
goc grafana provision  -o DIR [--url URL] [--token-env NAME] [--plugin DIR] [--config FILE]

Bảng điều khiển Grafana sinh từ danh mục chỉ tiêu, và tệp cấp phát cho Grafana 11/12.
Grafana dashboards generated from the indicator catalogue, and provisioning for Grafana 11/12.

  dashboards  ghi 5 bảng điều khiển JSON / writes the five dashboards as JSON
  provision   ghi tệp cấp phát nguồn dữ liệu và bảng điều khiển, các bảng điều khiển và
              thư mục plugin / writes the data source and dashboard provisioning YAML,
              the dashboards and the plugin folder`

func runGrafana(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		fmt.Fprintln(e.stderr, grafanaUsage)
		return usageError{"thiếu lệnh con / missing subcommand: dashboards or provision"}
	}
	switch args[0] {
	case "dashboards":
		return runGrafanaDashboards(e, args[1:])
	case "provision":
		return runGrafanaProvision(e, args[1:])
	case "-h", "--help", "help":
		fmt.Fprintln(e.stdout, grafanaUsage)
		return nil
	}
	return usageError{fmt.Sprintf("lệnh con không có %q / unknown subcommand %q: want dashboards or provision", args[0], args[0])}
}

// grafanaDomain is the catalogue and registry dashboards are generated from: a config's
// (which may extend the catalogue) or the built-in ones.
func grafanaDomain(path string) (*indicators.Catalogue, *indicators.Registry, *config.Config, error) {
	if path == "" {
		return indicators.DefaultCatalogue(), indicators.DefaultRegistry(), config.Default(), nil
	}
	cfg, err := config.Load(path)
	if err != nil {
		return nil, nil, nil, err
	}
	cat, reg, err := loadDomain(cfg)
	if err != nil {
		return nil, nil, nil, err
	}
	return cat, reg, cfg, nil
}

func runGrafanaDashboards(e *env, args []string) error {
	fs := newFlags(e, "grafana dashboards", `goc grafana dashboards -o DIR [--config FILE]

Ghi các bảng điều khiển (tổng quan quốc gia, theo đơn vị, xếp hạng, cổng thông tin, nộp
báo cáo) sinh từ danh mục chỉ tiêu vào DIR.
Writes the dashboards (national overview, agency drill-down, rankings, portal probes,
submission completeness), generated from the indicator catalogue, into DIR.`)
	out := fs.String("o", "", "thư mục đích / output folder (required)")
	cfgPath := fs.String("config", "", "tệp cấu hình có danh mục riêng / config whose catalogue and registry to use")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *out == "" {
		return usageError{"thiếu -o DIR / -o DIR is required"}
	}
	cat, reg, _, err := grafanaDomain(*cfgPath)
	if err != nil {
		return err
	}
	paths, err := dashboards.Write(*out, cat, reg)
	if err != nil {
		return err
	}
	for _, p := range paths {
		fmt.Fprintln(e.stdout, p)
	}
	return nil
}

func runGrafanaProvision(e *env, args []string) error {
	fs := newFlags(e, "grafana provision", `goc grafana provision -o DIR [--url URL] [--token-env NAME] [--plugin DIR]

Ghi vào DIR mọi thứ quản trị viên Grafana cần: tệp cấp phát nguồn dữ liệu và bảng điều
khiển, các bảng điều khiển, thư mục plugin, grafana.ini và README.md hướng dẫn.
Writes into DIR everything a Grafana admin drops in: data source and dashboard
provisioning YAML, the dashboards, the plugin folder, a grafana.ini snippet and a
README.md saying where each goes. The plugin must be built first
(scripts/build-grafana-plugin.sh).`)
	out := fs.String("o", "", "thư mục đích / output folder (required)")
	url := fs.String("url", "", "địa chỉ G-OC mà máy chủ Grafana truy cập / G-OC's URL as the Grafana server reaches it (default http://<server.addr>)")
	tokenEnv := fs.String("token-env", "GOC_GRAFANA_TOKEN", "biến môi trường chứa mã truy cập khi Grafana khởi động; rỗng = chỉ đọc / environment variable Grafana reads the token from; empty = read-only")
	plugin := fs.String("plugin", filepath.Join("grafana", "plugin", "dist"), "thư mục plugin đã dựng / the built plugin folder")
	dashPath := fs.String("dashboards-path", "", "đường dẫn thư mục dashboards trên máy Grafana / where the dashboards folder will be on the Grafana host (default DIR/dashboards)")
	cfgPath := fs.String("config", "", "tệp cấu hình G-OC / G-OC config (catalogue, registry, server.addr)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *out == "" {
		return usageError{"thiếu -o DIR / -o DIR is required"}
	}
	cat, reg, cfg, err := grafanaDomain(*cfgPath)
	if err != nil {
		return err
	}
	if *url == "" {
		*url = "http://" + cfg.Server.Addr
	}
	paths, err := provision.Write(*out, provision.Options{
		GOCURL: *url, TokenEnv: *tokenEnv, DashboardsPath: *dashPath, PluginDist: *plugin,
	}, cat, reg)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%d tệp đã ghi vào / files written to %s; xem / see %s\n", len(paths), *out, filepath.Join(*out, "README.md"))
	return nil
}
