package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/internal/config"
	"github.com/g-oc/goc/internal/intake"
	"github.com/g-oc/goc/internal/store"
	"github.com/g-oc/goc/internal/submission"
	"github.com/g-oc/goc/internal/termbar"
)

const importUsage = `goc import FILE --config FILE [--dry-run] [--submitter NAME]

Nhập một tệp dữ liệu lịch sử lớn (CSV hoặc XLSX, đến hàng triệu dòng) thẳng vào kho dữ liệu
trong tệp cấu hình. Tệp được đọc theo luồng, kiểm tra từng dòng như một bài nộp, và chỉ
được lưu khi không có lỗi nào: với kho nhúng cả tệp là một giao dịch.
Bulk-imports a large historical file (CSV or XLSX, up to millions of rows) straight into
the store the config names. The file is streamed, every row is checked as a submission
is, and nothing is stored unless every row is good: on the embedded store the whole
file is one transaction. Memory stays bounded whatever the file's size.

Tiêu đề / header (CSV, or the first row of the XLSX's first sheet):
  agency,period,indicator,value,numerator,denominator

Giá trị khác thường không được kiểm tra ở đây (dữ liệu lịch sử của nhà vận hành).
Outliers are not checked here (an operator's historical data). Values equal to what is
stored add no revision, so importing the same file twice is safe.`

func runImport(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "import", importUsage)
	cfgPath := fs.String("config", "", "tệp cấu hình / config file (required)")
	dryRun := fs.Bool("dry-run", false, "chỉ kiểm tra, không lưu / check only, store nothing")
	submitter := fs.String("submitter", "goc-import", "người nộp ghi vào mỗi giá trị / submitter recorded on every value")
	format := fs.String("format", "", "csv hoặc/or xlsx (mặc định theo đuôi tệp / default: from the extension)")
	maxRows := fs.Int("max-rows", 5_000_000, "số dòng tối đa / most data rows accepted")
	approve := fs.Bool("approve", false, "duyệt và công bố luôn các kỳ vừa nhập (dữ liệu đã được kiểm duyệt ở nơi khác) / approve and publish the imported periods at once (data already reviewed elsewhere)")
	file, err := parseWithFile(fs, args)
	if err != nil {
		return err
	}
	if *cfgPath == "" {
		return usageError{"thiếu --config / --config is required"}
	}
	if *format == "" {
		*format = strings.TrimPrefix(strings.ToLower(filepath.Ext(file)), ".")
	}
	if *format != "csv" && *format != "xlsx" {
		return usageError{fmt.Sprintf("định dạng %q không được hỗ trợ; dùng --format csv|xlsx / format %q is not supported; use --format csv|xlsx", *format, *format)}
	}
	info, err := os.Stat(file)
	if err != nil {
		return fmt.Errorf("đọc / read %s: %w", file, err)
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

	var bar *termbar.Bar
	var last int64
	advance := func(n int64) {
		bar.Add(n - last)
		last = n
	}
	// The file goes through intake's one entry point, as a submission does; only the
	// limits are an operator's.
	fileFormat := intake.CSV
	bar = termbar.New(e.stderr, "nhập/importing "+filepath.Base(file)+" (bytes)", info.Size())
	if *format == "xlsx" {
		fileFormat = intake.XLSX
		bar = termbar.New(e.stderr, "nhập/importing "+filepath.Base(file)+" (rows)", 0)
	}
	read := func(h intake.Handler) error {
		f, err := os.Open(file)
		if err != nil {
			return fmt.Errorf("open %s: %w", file, err)
		}
		defer f.Close()
		last = 0
		return intake.Read(ctx, fileFormat, f, info.Size(), intake.Options{
			Catalogue: a.catalogue, Registry: a.registry,
			MaxUnzipped: 8 << 30, MaxPart: 256 << 20, MaxRows: *maxRows, Progress: advance,
		}, h)
	}
	opt := submission.ImportOptions{
		Rules: intake.Rules{
			Catalogue: a.catalogue, Registry: a.registry, Location: cfg.Server.Location, Now: time.Now(),
		},
		Read:      read,
		Writer:    a.store,
		Source:    indicators.FromSubmission,
		Submitter: *submitter,
		DryRun:    *dryRun,
	}
	// The embedded store loads the whole file in one transaction; other stores get the
	// file checked in full first, then written in chunks.
	if st, ok := a.store.(store.BulkLoader); ok {
		opt.Begin = func(ctx context.Context) (submission.Loader, error) { return st.BeginBulk(ctx) }
	}
	barDone := false
	opt.Storing = func() {
		bar.Done()
		barDone = true
		fmt.Fprintln(e.stderr, "đang ghi vào kho dữ liệu / writing to the store…")
	}
	start := time.Now()
	res, err := submission.Import(ctx, opt)
	if !barDone {
		bar.Done()
	}
	if err != nil {
		return err
	}
	if !res.OK() {
		for _, p := range res.Problems {
			fmt.Fprintf(e.stderr, "%s: %s\n", file, p)
		}
		more := ""
		if res.Total > len(res.Problems) {
			more = fmt.Sprintf(" (%d liệt kê / listed)", len(res.Problems))
		}
		return fmt.Errorf("%d lỗi%s, không lưu gì / %d problems%s, nothing stored", res.Total, more, res.Total, more)
	}
	elapsed := time.Since(start)
	if *dryRun {
		fmt.Fprintf(e.stdout, "%s: hợp lệ, không lưu (--dry-run) / valid, nothing stored (--dry-run): %d dòng/rows, %d không có số liệu/no data, %s\n",
			file, res.Rows, res.NoData, elapsed.Round(time.Millisecond))
		return nil
	}
	fmt.Fprintf(e.stdout, "%s: đã nhập / imported %d dòng/rows: %d phiên bản mới / new revisions, %d không đổi / unchanged; lô / batch %s; %s (%.0f dòng/giây, rows/s)\n",
		file, res.Rows, res.Created, res.Unchanged, res.Batch, elapsed.Round(time.Millisecond), float64(res.Rows)/elapsed.Seconds())
	if *approve {
		n, err := approveImported(ctx, a.store, *submitter)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "đã duyệt và công bố / approved and published %d kỳ báo cáo / submissions\n", n)
	}
	return nil
}

// approveImported approves every submission waiting for review whose newest revision
// came from this import (its submitter), as one all-or-nothing review recorded in the
// trail under that name.
func approveImported(ctx context.Context, st store.Store, submitter string) (int, error) {
	ap, ok := st.(store.Approvals)
	if !ok {
		return 0, errors.New("kho dữ liệu không có quy trình duyệt / the store keeps no review workflow")
	}
	subs, err := ap.Submissions(ctx, store.SubmissionQuery{States: []store.State{store.Submitted}})
	if err != nil {
		return 0, fmt.Errorf("list submissions: %w", err)
	}
	var rs []store.Review
	for _, s := range subs {
		if s.SubmittedBy == submitter {
			rs = append(rs, store.Review{Agency: s.Agency, Period: s.Period, To: store.Approved, Who: submitter,
				Comment: "duyệt khi nhập / approved on import", Seen: s.Seq})
		}
	}
	if len(rs) == 0 {
		return 0, nil
	}
	if _, err := ap.Review(ctx, rs); err != nil {
		return 0, fmt.Errorf("approve imported submissions: %w", err)
	}
	return len(rs), nil
}
