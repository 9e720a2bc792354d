package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/internal/auth"
	"github.com/g-oc/goc/internal/config"
	"github.com/g-oc/goc/internal/demo"
	"github.com/g-oc/goc/internal/store"
	"github.com/g-oc/goc/internal/termbar"
)

// demoTokenAgencies are the agencies `goc demo` prints submission tokens for: a
// province that kept its borders in 2025, a merged one, a ministry, and the country.
func demoTokenAgencies() []string { return []string{"P20", "N79", "BTC", "VN"} }

func runDemo(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "demo", `goc demo [--addr 127.0.0.1:8080] [--data DIR | --config FILE [--load-only]]

Chạy G-OC với kho nhúng (SQLite) và lịch sử mẫu 2019-2026 dựng từ các số liệu đã công bố,
in ra địa chỉ và mã truy cập nộp số liệu cho vài đơn vị mẫu. Ctrl-C để dừng.
Runs G-OC on the embedded store with a 2019-2026 sample history built from the published
figures, and prints the URL and submission tokens for a few demo agencies. Ctrl-C stops it.
Dữ liệu mẫu có nguồn "demo" / demo values carry source "demo".
Với --config, lịch sử mẫu được nạp vào kho trong tệp cấu hình (ví dụ InfluxDB).
With --config the sample history goes into the store that config file names (InfluxDB,
for example), and the server runs with that config; --load-only loads and exits.`)
	addr := fs.String("addr", config.DefaultAddr, "địa chỉ lắng nghe / listen address")
	data := fs.String("data", "goc-demo-data", "thư mục dữ liệu / data directory for the embedded store")
	cfgPath := fs.String("config", "", "dùng kho của tệp cấu hình này / use the store of this config file")
	loadOnly := fs.Bool("load-only", false, "chỉ nạp lịch sử mẫu rồi thoát / load the sample history and exit")
	portalAddr := fs.String("portal-addr", "127.0.0.1:8443", "địa chỉ cổng thông tin mẫu (HTTPS, loopback; rỗng: tắt) / the sample HTTPS portal's address (loopback; empty: off)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := demoConfig(fs, *cfgPath, *data, *addr, *loadOnly)
	if err != nil {
		return err
	}
	started := time.Now()
	a, err := newApp(ctx, cfg, e.stderr)
	if err != nil {
		return err
	}
	defer a.close()
	// The registry's portals are real .gov.vn sites: the demo must not probe them. It
	// probes its own /healthz on loopback instead, so /metrics and /api/v1/probes show
	// a live probe, and its portal indicators come from the sample history.
	a.selfProbe = true
	if err := loadDemoHistory(ctx, a, e); err != nil {
		return err
	}
	if *loadOnly {
		return flushDemo(ctx, a, e)
	}
	tokDir := demoTokenDir(*data, *cfgPath)
	portalURL, portal := "", demoPortalFiles{}
	if *portalAddr != "" {
		// A busy port (a second demo, a test beside it) costs the sample portal, not
		// the demo; a wrong address is a mistake on the command line.
		if portalURL, portal, err = startDemoPortal(ctx, *portalAddr, demoPortalDir(*data, *cfgPath), a.log); err != nil {
			var ue usageError
			if errors.As(err, &ue) {
				return err
			}
			a.log.Warn("cổng mẫu không chạy / sample portal not started", "err", err)
		}
	}
	entries, shown, err := demoTokens(a.registry, tokDir)
	if err != nil {
		return err
	}
	// The demo's reviewer approves or returns what the demo officers submit: approval
	// stays manual in the demo so that the workflow can be tried.
	reviewerToken, err := demoToken(tokDir, demoReviewer)
	if err != nil {
		return err
	}
	entries = append(entries, auth.Entry{Name: "demo-" + demoReviewer, Agency: a.registry.Root(), SHA256: auth.Hash(reviewerToken), Role: auth.Reviewer})
	tokens, err := auth.NewTokens(entries)
	if err != nil {
		return err
	}
	return a.serve(ctx, newKeyring(tokens, a.registry), e, func(url string) {
		fmt.Fprintf(e.stdout, "G-OC demo đang chạy / is serving at %s (khởi động/started in %s)\n", url, time.Since(started).Round(time.Millisecond))
		fmt.Fprintf(e.stdout, "  kho dữ liệu / store: %s\n", storeName(cfg))
		fmt.Fprintf(e.stdout, "  thử / try: curl '%s/api/v1/progress?indicator=dossiers_fully_online&year=2025'\n", url)
		fmt.Fprintf(e.stdout, "  cổng / portals: curl '%s/api/v1/probes' (bản trình diễn chỉ đo chính nó / the demo probes only itself)\n", url)
		if portalURL != "" {
			fmt.Fprintf(e.stdout, "  cổng mẫu / sample portal: %s (CA: %s): goc probe %s --ca-file %s\n", portalURL, portal.ca, portalURL, portal.ca)
		}
		fmt.Fprintf(e.stdout, "Mã truy cập nộp số liệu (giữ trong %s, dùng lại khi khởi động lại) / submission tokens (kept in %s across restarts):\n", tokDir, tokDir)
		for _, s := range shown {
			fmt.Fprintf(e.stdout, "  %-4s %-40s %s\n", s[0], s[1], s[2])
		}
		fmt.Fprintf(e.stdout, "Người duyệt (cả nước) / reviewer (whole country), %s: %s\n", filepath.Join(tokDir, demoReviewer), reviewerToken)
		fmt.Fprintf(e.stdout, "  export GOC_SERVER=%s GOC_TOKEN=$(cat %s)\n", url, filepath.Join(tokDir, "P20"))
		fmt.Fprintf(e.stdout, "Đăng nhập trang nộp và duyệt / sign in to submit and review: %s/signin\n", url)
		fmt.Fprintf(e.stdout, "  cán bộ báo cáo Lạng Sơn / officer of P20: %s; người duyệt / reviewer: %s\n",
			filepath.Join(tokDir, "P20"), filepath.Join(tokDir, demoReviewer))
		fmt.Fprintln(e.stdout, "Nhấn Ctrl-C để dừng / press Ctrl-C to stop.")
	})
}

// demoReviewer names the demo's reviewer account and its token file.
const demoReviewer = "reviewer"

// demoTokenDir is where the demo keeps its tokens: "tokens" in its data directory, or
// goc-demo-tokens beside the config file when it runs on a config's store.
func demoTokenDir(dataDir, cfgPath string) string {
	if cfgPath != "" {
		return filepath.Join(filepath.Dir(cfgPath), "goc-demo-tokens")
	}
	return filepath.Join(dataDir, "tokens")
}

// demoPortalDir is where the sample portal keeps its CA and certificate: the data
// directory, or goc-demo-portal beside the config file.
func demoPortalDir(dataDir, cfgPath string) string {
	if cfgPath != "" {
		return filepath.Join(filepath.Dir(cfgPath), "goc-demo-portal")
	}
	return dataDir
}

// demoTokens gives each demo agency its token, kept in dir so that tokens a user has
// exported keep working after a restart, as the data does.
func demoTokens(reg *indicators.Registry, dir string) ([]auth.Entry, [][3]string, error) {
	var entries []auth.Entry
	var shown [][3]string
	for _, code := range demoTokenAgencies() {
		a, ok := reg.Get(code)
		if !ok {
			continue
		}
		tok, err := demoToken(dir, code)
		if err != nil {
			return nil, nil, err
		}
		entries = append(entries, auth.Entry{Name: "demo-" + code, Agency: code, SHA256: auth.Hash(tok)})
		shown = append(shown, [3]string{code, a.NameVI, tok})
	}
	return entries, shown, nil
}

// demoToken returns the token kept in the file dir/name, making and keeping a new one
// when there is none. The demo keeps its tokens in plain text in its own data folder,
// readable by its user only: they are sample credentials for a loopback server, and a
// user must be able to read them again (`cat goc-demo-data/tokens/P20`). The demo's
// other accounts (an officer, a reviewer) keep theirs the same way, under their names.
func demoToken(dir, name string) (string, error) {
	path := filepath.Join(dir, name)
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		tok := strings.TrimSpace(string(b))
		if !strings.HasPrefix(tok, auth.Prefix) || strings.ContainsAny(tok, " \t\n") {
			return "", fmt.Errorf("demo token %s: not a G-OC token (want %s…); delete the file to get a new one", path, auth.Prefix)
		}
		return tok, nil
	case !errors.Is(err, fs.ErrNotExist):
		return "", fmt.Errorf("demo token: %w", err)
	}
	tok, err := auth.NewToken()
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("demo token folder: %w", err)
	}
	if err := os.WriteFile(path, []byte(tok+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("demo token: %w", err)
	}
	return tok, nil
}

// loadDemoHistory writes the sample history unless this data directory has it already,
// so a restart keeps what users submitted and starts fast.
func loadDemoHistory(ctx context.Context, a *app, e *env) error {
	have, err := a.store.Observations(ctx, store.Query{Indicators: []string{"egdi_rank"}, Sources: []indicators.Source{indicators.FromDemo}})
	if err != nil {
		return fmt.Errorf("check demo data: %w", err)
	}
	if len(have) > 0 {
		return approveDemoHistory(ctx, a)
	}
	obs := demo.History(a.catalogue, a.registry, time.Now())
	bar := termbar.New(e.stderr, "nạp dữ liệu mẫu / loading demo history", int64(len(obs)))
	const batch = 5000
	for i := 0; i < len(obs); i += batch {
		part := obs[i:min(i+batch, len(obs))]
		if _, err := a.store.WriteObservations(ctx, part); err != nil {
			return fmt.Errorf("load demo history: %w", err)
		}
		a.metrics.ObservationsWritten.WithLabelValues(string(indicators.FromDemo)).Add(float64(len(part)))
		bar.Add(int64(len(part)))
	}
	bar.Done()
	return approveDemoHistory(ctx, a)
}

// approveDemoHistory publishes the sample history: the demo keeps approval manual so
// that the workflow can be tried, but its own sample figures start out approved. It
// approves only what the demo itself submitted and nobody has touched since, and runs
// at every start, so a load interrupted before its approval is finished next time.
func approveDemoHistory(ctx context.Context, a *app) error {
	waiting, err := a.store.Submissions(ctx, store.SubmissionQuery{States: []store.State{store.Submitted}})
	if err != nil {
		return fmt.Errorf("approve demo history: %w", err)
	}
	var rs []store.Review
	for _, s := range waiting {
		if s.ChangedBy == demo.Submitter && s.SubmittedBy == demo.Submitter {
			rs = append(rs, store.Review{Agency: s.Agency, Period: s.Period, To: store.Approved, Who: demo.Submitter,
				Comment: "dữ liệu mẫu / sample data", Seen: s.Seq})
		}
	}
	if len(rs) == 0 {
		return nil
	}
	if _, err := a.store.Review(ctx, rs); err != nil {
		return fmt.Errorf("approve demo history: %w", err)
	}
	return nil
}

// demoConfig is the demo's configuration: the embedded store in dataDir, or the
// config file's, with --addr overriding its address when given.
func demoConfig(fs *flag.FlagSet, path, dataDir, addr string, loadOnly bool) (*config.Config, error) {
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	if path == "" {
		if loadOnly {
			return nil, usageError{"--load-only cần --config / --load-only needs --config"}
		}
		if err := os.MkdirAll(dataDir, 0o750); err != nil {
			return nil, fmt.Errorf("data directory: %w", err)
		}
		cfg := config.Default()
		cfg.Server.Addr = addr
		cfg.Store.Path = filepath.Join(dataDir, "goc.db")
		return cfg, nil
	}
	if given["data"] {
		return nil, usageError{"--data và --config không dùng cùng nhau / --data and --config cannot be used together"}
	}
	cfg, err := config.Load(path)
	if err != nil {
		return nil, err
	}
	if given["addr"] {
		cfg.Server.Addr = addr
	}
	return cfg, nil
}

// storeName says where the demo keeps its data, without secrets.
func storeName(cfg *config.Config) string {
	if cfg.Store.Backend == config.BackendInflux {
		return fmt.Sprintf("InfluxDB %s, bucket %s (spool %s)", cfg.Store.Influx.URL, cfg.Store.Influx.Bucket, cfg.Store.Influx.Spool)
	}
	return cfg.Store.Path
}

// flushDemo waits until a spooling store (InfluxDB) has sent what was loaded, so that
// --load-only ends with the history in InfluxDB, not only in the spool.
func flushDemo(ctx context.Context, a *app, e *env) error {
	f, ok := a.store.(store.Flusher)
	if ok {
		fmt.Fprintln(e.stderr, "đang gửi vào kho / sending to the store...")
		ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
		defer cancel()
		if err := f.Flush(ctx); err != nil {
			return err
		}
	}
	fmt.Fprintf(e.stdout, "đã nạp lịch sử mẫu vào / demo history loaded into %s\n", storeName(a.cfg))
	return nil
}
