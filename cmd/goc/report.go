package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/g-oc/goc/api/client"
	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/indicators/period"
	"github.com/g-oc/goc/internal/config"
	"github.com/g-oc/goc/internal/query"
	"github.com/g-oc/goc/internal/termbar"
	"github.com/g-oc/goc/reports"
)

const reportUsage = `goc report ranking|agency|export [tùy chọn/options]

Lập báo cáo Excel / writes Excel reports:
  ranking   bảng xếp hạng một nhóm đơn vị / the ranking workbook of a peer group
  agency    thẻ báo cáo một trang của một đơn vị / one agency's one-page report card
  export    xuất dữ liệu gốc ra .xlsx hoặc .csv / raw export of stored observations

Nguồn số liệu / where the data comes from (one of):
  --server URL    một máy chủ G-OC đang chạy, qua API JSON / a running G-OC server, through its JSON API
                  (mặc định / default: $GOC_SERVER)
  --config FILE   đọc thẳng kho dữ liệu trong tệp cấu hình / read the store a config file names directly

Mỗi lệnh con có --help / every subcommand has --help.`

func runReport(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		return usageError{"thiếu lệnh con: ranking, agency hoặc export / missing subcommand: ranking, agency or export (see goc report --help)"}
	}
	switch args[0] {
	case "-h", "--help", "help":
		fmt.Fprintln(e.stdout, reportUsage)
		return nil
	case "ranking":
		return runReportRanking(ctx, e, args[1:])
	case "agency":
		return runReportAgency(ctx, e, args[1:])
	case "export":
		return runReportExport(ctx, e, args[1:])
	}
	return usageError{fmt.Sprintf("lệnh con không tồn tại %q / unknown subcommand %q: want ranking, agency or export", args[0], args[0])}
}

// sourceFlags are the flags every report subcommand shares.
type sourceFlags struct {
	server, config, out *string
}

func addSourceFlags(e *env, fs interface {
	String(name, value, usage string) *string
}) sourceFlags {
	return sourceFlags{
		server: fs.String("server", e.getenv("GOC_SERVER"), "URL của máy chủ G-OC / URL of a running G-OC server, e.g. http://127.0.0.1:8080"),
		config: fs.String("config", "", "tệp cấu hình để đọc thẳng kho dữ liệu / config file whose store to read directly"),
		out:    fs.String("o", "", "tệp kết quả (- là stdout) / output file (- for stdout)"),
	}
}

func (f sourceFlags) check() error {
	switch {
	case *f.out == "":
		return usageError{"thiếu -o FILE / -o FILE is required"}
	case *f.server != "" && *f.config != "":
		return usageError{"chỉ dùng một trong --server và --config / give --server or --config, not both"}
	case *f.server == "" && *f.config == "":
		return usageError{"thiếu nguồn số liệu: --server URL hoặc --config FILE / no data source: give --server URL or --config FILE"}
	}
	return nil
}

// open connects to the data source the flags name.
func (f sourceFlags) open(ctx context.Context, e *env) (reportSource, error) {
	if *f.server != "" {
		c, err := apiClient(e, *f.server, "", 10*time.Minute)
		if err != nil {
			return nil, err
		}
		return &serverSource{api: c, loc: config.Default().Server.Location}, nil
	}
	cfg, err := config.Load(*f.config)
	if err != nil {
		return nil, invalid(err)
	}
	if p := cfg.Store.Path; cfg.Store.Backend == config.BackendSQLite && p != ":memory:" && !strings.HasPrefix(p, "file:") {
		// A report reads; it must not create an empty database and report on nothing.
		if _, err := os.Stat(p); err != nil {
			return nil, fmt.Errorf("kho dữ liệu / store.path %s: %w", p, err)
		}
	}
	a, err := newApp(ctx, cfg, e.stderr)
	if err != nil {
		return nil, err
	}
	return &localSource{app: a, q: query.New(a.store, a.catalogue, a.registry, time.Now)}, nil
}

// reportSource is where report commands get their figures: the query layer on a store,
// or a server's JSON API, which gives the same structures.
type reportSource interface {
	Ranking(ctx context.Context, req query.RankingRequest) (*query.RankingReport, error)
	Card(ctx context.Context, agency string) (*query.Card, error)
	ExportPlan(ctx context.Context, req query.ExportRequest) ([]exportChunk, error)
	ExportChunk(ctx context.Context, c exportChunk) ([]indicators.Observation, error)
	Names(ctx context.Context) (func(string) string, error)
	Location() *time.Location
	Close() error
}

// exportChunk is one read of an export: the query layer's chunk, and the same as API
// parameters.
type exportChunk struct {
	local    query.ExportChunk
	from, to period.Period
	req      query.ExportRequest
}

type localSource struct {
	app *app
	q   *query.Service
}

func (s *localSource) Ranking(ctx context.Context, req query.RankingRequest) (*query.RankingReport, error) {
	n := req.Method.Normalisation
	req.Method = s.app.cfg.Ranking.Method()
	if n != "" {
		req.Method.Normalisation = n
	}
	rep, err := s.q.Ranking(ctx, req)
	if err != nil {
		return nil, err
	}
	// Published as the API publishes it, so both sources give the same workbook.
	return rep.Rounded(s.app.catalogue), nil
}

func (s *localSource) Card(ctx context.Context, agency string) (*query.Card, error) {
	card, err := s.q.AgencyCard(ctx, agency, s.app.cfg.Ranking.Method())
	if err != nil {
		return nil, err
	}
	return card.Rounded(s.app.catalogue), nil
}

func (s *localSource) ExportPlan(ctx context.Context, req query.ExportRequest) ([]exportChunk, error) {
	plan, err := s.q.ExportPlan(req)
	if err != nil {
		return nil, err
	}
	out := make([]exportChunk, len(plan))
	for i, c := range plan {
		out[i] = exportChunk{local: c}
	}
	return out, nil
}

func (s *localSource) ExportChunk(ctx context.Context, c exportChunk) ([]indicators.Observation, error) {
	return s.q.ExportChunk(ctx, c.local)
}

func (s *localSource) Names(ctx context.Context) (func(string) string, error) {
	reg := s.app.registry
	return func(c string) string {
		if a, ok := reg.Get(c); ok {
			return a.NameVI
		}
		return ""
	}, nil
}

func (s *localSource) Location() *time.Location { return s.app.cfg.Server.Location }
func (s *localSource) Close() error             { return s.app.close() }

type serverSource struct {
	api *client.ClientWithResponses
	loc *time.Location
}

// userMistake turns a refusal of what the user typed (an unknown agency, a period not yet
// started, a bad range) into a usage error, exit code 2, whichever source refused it.
func userMistake(err error) error {
	var inv *query.InvalidError
	var nf *query.NotFoundError
	if st := client.StatusOf(err); errors.As(err, &inv) || errors.As(err, &nf) || st == http.StatusBadRequest || st == http.StatusNotFound {
		return usageError{err.Error()}
	}
	return err
}

func (s *serverSource) Ranking(ctx context.Context, req query.RankingRequest) (*query.RankingReport, error) {
	p := req.Period.String()
	params := &client.GetRankingsParams{Group: string(req.Group), Period: &p, Include: ptr("provenance,trends")}
	if req.Method.Normalisation != "" {
		params.Normalisation = ptr(client.GetRankingsParamsNormalisation(req.Method.Normalisation))
	}
	r, err := s.api.GetRankingsWithResponse(ctx, params)
	if err != nil {
		return nil, err
	}
	var rep query.RankingReport
	if err := client.Decode(r.HTTPResponse, r.Body, &rep); err != nil {
		return nil, err
	}
	return &rep, nil
}

func (s *serverSource) Card(ctx context.Context, agency string) (*query.Card, error) {
	r, err := s.api.GetAgencyCardWithResponse(ctx, agency)
	if err != nil {
		return nil, err
	}
	var card query.Card
	if err := client.Decode(r.HTTPResponse, r.Body, &card); err != nil {
		return nil, err
	}
	return &card, nil
}

func (s *serverSource) ExportPlan(ctx context.Context, req query.ExportRequest) ([]exportChunk, error) {
	if req.From.IsZero() || req.To.IsZero() {
		return nil, usageError{"thiếu --from hoặc --to / --from and --to are required"}
	}
	codes := req.Indicators
	if len(codes) == 0 {
		r, err := s.api.ListIndicatorsWithResponse(ctx)
		if err == nil {
			err = client.Check(r.HTTPResponse, r.Body)
		}
		if err != nil {
			return nil, err
		}
		for _, ind := range r.JSON200.Indicators {
			codes = append(codes, ind.Code)
		}
	}
	first, last := req.From.Year, req.To.End(nil).Add(-time.Nanosecond).Year()
	var out []exportChunk
	for _, c := range codes {
		for y := first; y <= last; y++ {
			ch := exportChunk{from: period.Period{Kind: period.Year, Year: y, Index: 1}, to: period.Period{Kind: period.Year, Year: y, Index: 1}, req: req}
			ch.local.Indicator, ch.local.Year = c, y
			if y == first {
				ch.from = req.From
			}
			if y == last {
				ch.to = req.To
			}
			out = append(out, ch)
		}
	}
	return out, nil
}

func (s *serverSource) ExportChunk(ctx context.Context, c exportChunk) ([]indicators.Observation, error) {
	from, to := c.from.String(), c.to.String()
	params := &client.ListObservationsParams{Indicator: &c.local.Indicator, From: &from, To: &to, Limit: ptr(5000)}
	if len(c.req.Agencies) > 0 {
		params.Agency = ptr(strings.Join(c.req.Agencies, ","))
	}
	if c.req.History {
		params.History = ptr(true)
	}
	var out []indicators.Observation
	for {
		r, err := s.api.ListObservationsWithResponse(ctx, params)
		if err != nil {
			return nil, err
		}
		var body struct {
			Observations []indicators.Observation `json:"observations"`
			Next         string                   `json:"next"`
		}
		if err := client.Decode(r.HTTPResponse, r.Body, &body); err != nil {
			return nil, err
		}
		out = append(out, body.Observations...)
		if body.Next == "" {
			return out, nil
		}
		params.Cursor = &body.Next // the API answers in pages
	}
}

func (s *serverSource) Names(ctx context.Context) (func(string) string, error) {
	names := map[string]string{}
	params := &client.ListAgenciesParams{Limit: ptr(5000)}
	for {
		r, err := s.api.ListAgenciesWithResponse(ctx, params)
		if err == nil {
			err = client.Check(r.HTTPResponse, r.Body)
		}
		if err != nil {
			return nil, err
		}
		for _, a := range r.JSON200.Agencies {
			names[a.Code] = a.NameVi
		}
		if r.JSON200.Next == nil || *r.JSON200.Next == "" {
			break
		}
		params.Cursor = r.JSON200.Next
	}
	return func(c string) string { return names[c] }, nil
}

func (s *serverSource) Location() *time.Location { return s.loc }
func (s *serverSource) Close() error             { return nil }

// writeOutput writes a file through a temporary file in the same folder that is renamed
// into place only when everything was written, so a failed report leaves nothing behind
// and never half-overwrites an older report. "-" writes to stdout.
func writeOutput(e *env, path string, write func(w io.Writer) error) error {
	if path == "-" {
		return write(e.stdout)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if err := write(tmp); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

func writeWorkbook(e *env, path string, f *excelize.File) error {
	defer f.Close()
	return writeOutput(e, path, func(w io.Writer) error {
		if err := f.Write(w); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
		return nil
	})
}

// done tells the user where the report went, on stdout unless the report itself did.
func done(e *env, path, format string, args ...any) {
	w := e.stdout
	if path == "-" {
		w = e.stderr
	}
	fmt.Fprintf(w, format+"\n", args...)
}

func runReportRanking(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "report ranking", `goc report ranking --period 2025 --group provinces -o xep-hang.xlsx (--server URL | --config FILE)

Bảng xếp hạng Chính phủ số của một nhóm đơn vị: bìa, bảng tóm tắt, bảng xếp hạng đầy đủ có
tô màu theo mục tiêu 2025/2030, biểu đồ điểm, xu hướng toàn quốc, phương pháp và nguồn gốc số liệu.
The digital-government ranking workbook of a peer group: cover, one-page summary, full
ranking table coloured against the 2025/2030 targets, score chart, national trends,
method, and the provenance of every figure.
Nhóm / groups: ministries, government_agencies, provinces.`)
	src := addSourceFlags(e, fs)
	per := fs.String("period", "", "kỳ xếp hạng, ví dụ 2025 hoặc 2025-Q3 / ranking period, e.g. 2025 or 2025-Q3 (default: last year)")
	group := fs.String("group", "", "nhóm đơn vị / peer group: ministries, government_agencies, provinces")
	norm := fs.String("normalisation", "", "minmax hoặc zscore (mặc định theo cấu hình) / minmax or zscore (default: the server's or config's)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := src.check(); err != nil {
		return err
	}
	req := query.RankingRequest{Provenance: true, Trends: true}
	g, err := indicators.ParsePeerGroup(*group)
	if err != nil {
		return usageError{"--group: " + err.Error()}
	}
	req.Group = g
	if *per == "" {
		req.Period = period.Period{Kind: period.Year, Year: time.Now().Year() - 1, Index: 1}
	} else if req.Period, err = period.Parse(*per); err != nil {
		return usageError{"--period: " + err.Error()}
	}
	if *norm != "" {
		n, err := indicators.ParseNormalisation(*norm)
		if err != nil {
			return usageError{"--normalisation: " + err.Error()}
		}
		req.Method.Normalisation = n
	}
	s, err := src.open(ctx, e)
	if err != nil {
		return err
	}
	defer s.Close()
	rep, err := s.Ranking(ctx, req)
	if err != nil {
		return userMistake(fmt.Errorf("ranking: %w", err))
	}
	f, err := reports.RankingWorkbook(rep, s.Location())
	if err != nil {
		return err
	}
	if err := writeWorkbook(e, *src.out, f); err != nil {
		return err
	}
	done(e, *src.out, "%s: xếp hạng %s %s, %d/%d đơn vị / ranked %d of %d members", *src.out, rep.Group, rep.Period, rep.Ranked, rep.Members, rep.Ranked, rep.Members)
	return nil
}

func runReportAgency(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "report agency", `goc report agency --agency CODE -o the-bao-cao.xlsx (--server URL | --config FILE)

Thẻ báo cáo một trang của một đơn vị: giá trị mới nhất từng chỉ tiêu so với mục tiêu 2025 và 2030,
tình trạng, biểu đồ xu hướng, thứ hạng trong nhóm, và tình trạng hoạt động cổng thông tin.
One agency's one-page report card: each indicator's latest value against the 2025 and 2030
targets with status and a trend chart, its rank in its peer group, and its portals' uptime.`)
	src := addSourceFlags(e, fs)
	agency := fs.String("agency", "", "mã đơn vị, ví dụ P20 / agency code, e.g. P20")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := src.check(); err != nil {
		return err
	}
	if *agency == "" {
		return usageError{"thiếu --agency / --agency is required"}
	}
	s, err := src.open(ctx, e)
	if err != nil {
		return err
	}
	defer s.Close()
	card, err := s.Card(ctx, *agency)
	if err != nil {
		return userMistake(fmt.Errorf("report card: %w", err))
	}
	f, err := reports.CardWorkbook(card, s.Location())
	if err != nil {
		return err
	}
	if err := writeWorkbook(e, *src.out, f); err != nil {
		return err
	}
	done(e, *src.out, "%s: thẻ báo cáo / report card of %s (%s)", *src.out, card.Agency.Code, card.Agency.NameVI)
	return nil
}

func runReportExport(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "report export", `goc report export --from 2024 --to 2025 [--indicator a,b] [--agency X,Y] [--history] -o du-lieu.xlsx|du-lieu.csv (--server URL | --config FILE)

Xuất dữ liệu gốc đã lưu (mỗi dòng một lần nộp, kèm nguồn, người nộp, lần sửa), đọc từng khối
một chỉ tiêu × một năm nên bộ nhớ có giới hạn; thanh tiến độ khi chạy trên terminal.
Exports stored observations (one row per revision, with source, submitter and revision),
reading one indicator-year at a time so memory stays bounded; a progress bar on a terminal.
Định dạng theo đuôi tệp / format from the file name: .xlsx or .csv (with -o -: --format).`)
	src := addSourceFlags(e, fs)
	inds := fs.String("indicator", "", "mã chỉ tiêu, cách nhau bởi dấu phẩy (mặc định: tất cả) / indicator codes, comma-separated (default: all)")
	agencies := fs.String("agency", "", "mã đơn vị, cách nhau bởi dấu phẩy (mặc định: tất cả) / agency codes, comma-separated (default: all)")
	from := fs.String("from", "", "kỳ đầu, ví dụ 2024 / first period, e.g. 2024")
	to := fs.String("to", "", "kỳ cuối, ví dụ 2025-Q4 / last period, e.g. 2025-Q4")
	history := fs.Bool("history", false, "xuất mọi lần sửa / export every revision, not only the latest")
	formatFlag := fs.String("format", "", "xlsx hoặc csv khi -o - / xlsx or csv when writing to stdout")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := src.check(); err != nil {
		return err
	}
	req := query.ExportRequest{Indicators: splitFlag(*inds), Agencies: splitFlag(*agencies), History: *history}
	var err error
	if *from == "" || *to == "" {
		return usageError{"thiếu --from hoặc --to / --from and --to are required"}
	}
	if req.From, err = period.Parse(*from); err != nil {
		return usageError{"--from: " + err.Error()}
	}
	if req.To, err = period.Parse(*to); err != nil {
		return usageError{"--to: " + err.Error()}
	}
	format := *formatFlag
	if format == "" {
		if format, err = reports.ExportFormat(*src.out); err != nil {
			return usageError{"-o: " + err.Error()}
		}
	} else if format != "xlsx" && format != "csv" {
		return usageError{fmt.Sprintf("--format %q: want xlsx or csv", format)}
	}
	s, err := src.open(ctx, e)
	if err != nil {
		return err
	}
	defer s.Close()
	plan, err := s.ExportPlan(ctx, req)
	if err != nil {
		return userMistake(err)
	}
	names, err := s.Names(ctx)
	if err != nil {
		return err
	}
	var rows int64
	if len(plan) > 0 {
		// Ask for the first chunk before creating the file, so an unknown agency or
		// indicator that only the server can judge is a usage error and leaves no file.
		if _, err := s.ExportChunk(ctx, plan[0]); err != nil {
			return userMistake(err)
		}
	}
	err = writeOutput(e, *src.out, func(w io.Writer) error {
		ex, err := reports.NewExporter(format, w, reports.ExportMeta{
			Names: names, Location: s.Location(), GeneratedAt: time.Now(),
			Query: fmt.Sprintf("indicator=%s agency=%s from=%s to=%s history=%t", *inds, *agencies, req.From, req.To, req.History),
		})
		if err != nil {
			return err
		}
		bar := termbar.New(e.stderr, "xuất dữ liệu, khối chỉ tiêu×năm / exporting, indicator-year chunks", int64(len(plan)))
		for _, c := range plan {
			obs, err := s.ExportChunk(ctx, c)
			if err != nil {
				return err
			}
			if err := ex.Write(obs); err != nil {
				return err
			}
			bar.Add(1)
		}
		if err := ex.Close(); err != nil {
			return err
		}
		bar.Done()
		rows = ex.Rows()
		return nil
	})
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	done(e, *src.out, "%s: %d dòng / rows", *src.out, rows)
	return nil
}

func splitFlag(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func ptr[T any](v T) *T { return &v }
