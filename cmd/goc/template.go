package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"time"

	"github.com/g-oc/goc/api/client"
	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/indicators/period"
	"github.com/g-oc/goc/internal/config"
	"github.com/g-oc/goc/internal/query"
	"github.com/g-oc/goc/internal/store"
	"github.com/g-oc/goc/reports/template"
)

const templateUsage = `goc template --agency CODE --period P [-o FILE.xlsx] [--server URL | --config FILE]

Tạo mẫu báo cáo Excel cho một đơn vị và một kỳ: trang hướng dẫn (Việt, Anh), trang số liệu
liệt kê các chỉ tiêu cấp của đơn vị báo cáo theo kỳ đó, với đơn vị tính, giới hạn và số
liệu kỳ trước; chỉ các ô nhập liệu được mở khoá.
Makes the Excel report template of an agency and period: instructions (Vietnamese,
English) and a data sheet listing the indicators the agency's level reports at that
periodicity, with units, bounds and the previous period's figures; only input cells are
unlocked. A quarterly period lists quarterly indicators; yearly ones have their own
template (--period 2026).

Số liệu kỳ trước lấy từ / previous figures come from:
  --server URL    một máy chủ G-OC đang chạy / a running G-OC server (default $GOC_SERVER)
  --config FILE   kho dữ liệu trong tệp cấu hình / the store a config file names
  (không có / neither: danh mục có sẵn, không có số liệu kỳ trước / the built-in catalogue, no previous figures)`

func runTemplate(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "template", templateUsage)
	agency := fs.String("agency", "", "mã đơn vị / agency code, e.g. P20 (required)")
	per := fs.String("period", "", "kỳ báo cáo / period, e.g. 2026-Q3, 2026-09, 2026 (required)")
	out := fs.String("o", "", "tệp kết quả / output file (default goc-AGENCY-PERIOD.xlsx; - for stdout)")
	server := fs.String("server", e.getenv("GOC_SERVER"), "máy chủ G-OC / G-OC server URL")
	cfgPath := fs.String("config", "", "tệp cấu hình / config file (reads the store directly)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *agency == "" || *per == "" {
		return usageError{"cần --agency và --period / --agency and --period are required"}
	}
	p, err := period.Parse(*per)
	if err != nil {
		return usageError{"--period: " + err.Error()}
	}
	if *out == "" {
		*out = template.FileName(*agency, p)
	}
	var data []byte
	var note string
	switch {
	case *cfgPath != "":
		data, err = templateFromStore(ctx, e, *cfgPath, *agency, *per)
	case *server != "":
		data, err = templateFromServer(ctx, e, *server, *agency, *per)
	default:
		data, err = templateBuiltIn(ctx, *agency, *per)
		note = " — không có số liệu kỳ trước (dùng --server hoặc --config) / no previous figures (use --server or --config)"
	}
	if err != nil {
		return err
	}
	if *out == "-" {
		_, err := e.stdout.Write(data)
		return err
	}
	if err := os.WriteFile(*out, data, 0o644); err != nil {
		return fmt.Errorf("ghi / write %s: %w", *out, err)
	}
	fmt.Fprintf(e.stdout, "%s: mẫu cho / template for %s, %s%s\n", *out, *agency, p, note)
	return nil
}

func templateFromServer(ctx context.Context, e *env, server, agency, per string) ([]byte, error) {
	c, err := apiClient(e, server, "", time.Minute)
	if err != nil {
		return nil, err
	}
	r, err := c.GetTemplateWithResponse(ctx, &client.GetTemplateParams{Agency: agency, Period: per})
	if err == nil {
		err = client.Check(r.HTTPResponse, r.Body)
	}
	if err != nil {
		return nil, unreachable(err)
	}
	return r.Body, nil
}

func templateFromStore(ctx context.Context, e *env, cfgPath, agency, per string) ([]byte, error) {
	cfg, err := config.Load(cfgPath)
	if err != nil {
		return nil, invalid(err)
	}
	a, err := newApp(ctx, cfg, e.stderr)
	if err != nil {
		return nil, err
	}
	defer a.close()
	q := query.New(a.store, a.catalogue, a.registry, time.Now)
	return makeTemplate(ctx, q, cfg.Submissions, cfg.Server.Location, agency, per)
}

func templateBuiltIn(ctx context.Context, agency, per string) ([]byte, error) {
	cfg := config.Default()
	q := query.New(noHistory{}, indicators.DefaultCatalogue(), indicators.DefaultRegistry(), time.Now)
	return makeTemplate(ctx, q, cfg.Submissions, cfg.Server.Location, agency, per)
}

func makeTemplate(ctx context.Context, q *query.Service, sub config.Submissions, loc *time.Location, agency, per string) ([]byte, error) {
	due := 0
	if p, err := period.Parse(per); err == nil {
		due = sub.DueDays[p.Kind]
	}
	spec, err := template.SpecFor(ctx, q, agency, per, due, loc, time.Now())
	if err != nil {
		return nil, err
	}
	spec.Generator = "G-OC " + version
	var b bytes.Buffer
	if err := template.Write(&b, spec); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// noHistory is a store with nothing in it, for templates made without one.
type noHistory struct{}

func (noHistory) Observations(context.Context, store.Query) ([]indicators.Observation, error) {
	return nil, nil
}
