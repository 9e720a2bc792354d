package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/internal/auth"
	"github.com/g-oc/goc/internal/config"
	"github.com/g-oc/goc/internal/demo"
	"github.com/g-oc/goc/internal/progress"
	"github.com/g-oc/goc/internal/store"
)

// demoTokenAgencies are the agencies `goc demo` prints submission tokens for: a
// province that kept its borders in 2025, a merged one, a ministry, and the country.
func demoTokenAgencies() []string { return []string{"P20", "N79", "BTC", "VN"} }

func runDemo(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "demo", `goc demo [--addr 127.0.0.1:8080] [--data DIR]

Chạy G-OC với kho nhúng (SQLite) và lịch sử mẫu 2019-2026 dựng từ các số liệu đã công bố,
in ra địa chỉ và mã truy cập nộp số liệu cho vài đơn vị mẫu. Ctrl-C để dừng.
Runs G-OC on the embedded store with a 2019-2026 sample history built from the published
figures, and prints the URL and submission tokens for a few demo agencies. Ctrl-C stops it.
Dữ liệu mẫu có nguồn "demo" / demo values carry source "demo".`)
	addr := fs.String("addr", config.DefaultAddr, "địa chỉ lắng nghe / listen address")
	data := fs.String("data", "goc-demo-data", "thư mục dữ liệu / data directory for the embedded store")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := os.MkdirAll(*data, 0o750); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	cfg := config.Default()
	cfg.Server.Addr = *addr
	cfg.Store.Path = filepath.Join(*data, "goc.db")
	started := time.Now()
	a, err := newApp(ctx, cfg, e.stderr)
	if err != nil {
		return err
	}
	defer a.close()
	if err := loadDemoHistory(ctx, a, e); err != nil {
		return err
	}
	entries, shown, err := demoTokens(a.registry)
	if err != nil {
		return err
	}
	tokens, err := auth.NewTokens(entries)
	if err != nil {
		return err
	}
	return a.serve(ctx, tokens, e, func(url string) {
		fmt.Fprintf(e.stdout, "G-OC demo đang chạy / is serving at %s (khởi động/started in %s)\n", url, time.Since(started).Round(time.Millisecond))
		fmt.Fprintf(e.stdout, "  kho dữ liệu / store: %s\n", cfg.Store.Path)
		fmt.Fprintf(e.stdout, "  thử / try: curl '%s/api/v1/progress?indicator=dossiers_fully_online&year=2025'\n", url)
		fmt.Fprintln(e.stdout, "Mã truy cập nộp số liệu (chỉ có hiệu lực đến khi dừng) / submission tokens (valid until this demo stops):")
		for _, s := range shown {
			fmt.Fprintf(e.stdout, "  %-4s %-40s %s\n", s[0], s[1], s[2])
		}
		fmt.Fprintln(e.stdout, "Nhấn Ctrl-C để dừng / press Ctrl-C to stop.")
	})
}

// demoTokens makes a fresh random token for each demo agency. Only their hashes are
// kept; the tokens themselves are printed once.
func demoTokens(reg *indicators.Registry) ([]auth.Entry, [][3]string, error) {
	var entries []auth.Entry
	var shown [][3]string
	for _, code := range demoTokenAgencies() {
		a, ok := reg.Get(code)
		if !ok {
			continue
		}
		tok, err := auth.NewToken()
		if err != nil {
			return nil, nil, err
		}
		entries = append(entries, auth.Entry{Name: "demo-" + code, Agency: code, SHA256: auth.Hash(tok)})
		shown = append(shown, [3]string{code, a.NameVI, tok})
	}
	return entries, shown, nil
}

// loadDemoHistory writes the sample history unless this data directory has it already,
// so a restart keeps what users submitted and starts fast.
func loadDemoHistory(ctx context.Context, a *app, e *env) error {
	have, err := a.store.Observations(ctx, store.Query{Indicators: []string{"egdi_rank"}, Sources: []indicators.Source{indicators.FromDemo}})
	if err != nil {
		return fmt.Errorf("check demo data: %w", err)
	}
	if len(have) > 0 {
		return nil
	}
	obs := demo.History(a.catalogue, a.registry, time.Now())
	bar := progress.New(e.stderr, "nạp dữ liệu mẫu / loading demo history", int64(len(obs)))
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
	return nil
}
