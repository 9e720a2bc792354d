// Command goc is G-OC's one binary: it serves the API and pages, loads the demo, and
// (in later releases) submits, probes, and writes reports and Grafana dashboards.
//
// Exit codes: 0 success; 1 the command failed (bad config, store error, rejected
// submission); 2 the command line itself is wrong.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// usageError marks a mistake on the command line: exit code 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// command is one subcommand.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, env *env, args []string) error
}

// env is what a command may touch: its streams and environment, so tests can run
// commands in process.
type env struct {
	stdout, stderr io.Writer
	getenv         func(string) string
	// ready, when set, receives the address a server listens on (tests use it).
	ready func(addr string)
}

func commands() []command {
	return []command{
		{"demo", "chạy bản trình diễn với dữ liệu mẫu / run the demo with sample data on the embedded store", runDemo},
		{"serve", "chạy máy chủ theo tệp cấu hình / run the server from a config file", runServe},
		{"validate", "kiểm tra tệp cấu hình / check a config file and report every mistake", runValidate},
		{"template", "tạo mẫu báo cáo Excel cho một đơn vị và kỳ / make the Excel report template of an agency and period", runTemplate},
		{"submit", "nộp số liệu (xlsx, csv, json) lên máy chủ / submit figures (xlsx, csv, json) to a server", runSubmit},
		{"import", "nhập dữ liệu lịch sử lớn vào kho / bulk-import historical data into the store", runImport},
		{"rebuild", "tính lại từ lịch sử những gì kho giữ sẵn / recompute from history what the store keeps ready", runRebuild},
		{"backup", "sao lưu kho SQLite khi đang chạy / back the SQLite store up while it runs", runBackup},
		{"probe", "đo một cổng thông tin / probe one portal and print what it found", runProbe},
		{"report", "báo cáo Excel: xếp hạng, thẻ báo cáo, xuất dữ liệu / Excel reports: ranking, report card, raw export", runReport},
		{"export", "xuất dữ liệu mở (gói dữ liệu Frictionless) / export open data (Frictionless data package)", runExport},
		{"grafana", "bảng điều khiển và cấp phát Grafana / Grafana dashboards and provisioning", runGrafana},
		{"alerts", "quy tắc cảnh báo Prometheus và định tuyến Alertmanager / Prometheus alert rules and Alertmanager routing", runAlerts},
		{"version", "in phiên bản / print the version", runVersion},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, &env{stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv}, os.Args[1:])
	stop()
	os.Exit(code)
}

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func run(ctx context.Context, e *env, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		if len(args) > 1 {
			return run(ctx, e, []string{args[1], "--help"})
		}
		if len(args) == 0 {
			// Asked for nothing: a usage error, so the usage goes where errors go.
			printUsage(e.stderr)
			return 2
		}
		printUsage(e.stdout)
		return 0
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, e, args[1:])
		switch {
		case err == nil:
			return 0
		case errors.Is(err, flag.ErrHelp):
			return 0
		}
		fmt.Fprintf(e.stderr, "goc %s: %v\n", c.name, err)
		var ue usageError
		if errors.As(err, &ue) {
			return 2
		}
		// A command may give its own exit code (goc submit: 3 needs confirmation, 4
		// server unreachable).
		var ec interface{ ExitCode() int }
		if errors.As(err, &ec) {
			return ec.ExitCode()
		}
		return 1
	}
	fmt.Fprintf(e.stderr, "goc: lệnh không tồn tại %q / unknown command %q; xem / see 'goc --help'\n", args[0], args[0])
	return 2
}

func printUsage(w io.Writer) {
	fmt.Fprintf(w, `goc — Hệ thống giám sát quốc gia về Chính phủ số (G-OC)
       national digital-government monitoring and indicator reporting

Cách dùng / usage: goc <lệnh/command> [tùy chọn/options]

Lệnh / commands:
`)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, `
Mỗi lệnh có --help / every command has --help.
Mã thoát / exit codes: 0 thành công/success, 1 lỗi/failure, 2 sai cú pháp/usage error.
`)
}

// newFlags builds a flag set whose errors and help go where the env says.
func newFlags(e *env, name, usage string) *flag.FlagSet {
	fs := flag.NewFlagSet("goc "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(e.stdout, "%s\n\nTùy chọn / options:\n", usage)
		fs.SetOutput(e.stdout)
		fs.PrintDefaults()
		fs.SetOutput(e.stderr)
	}
	return fs
}

// parseFlags parses and turns flag mistakes into usage errors.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("đối số thừa / unexpected arguments: %v", fs.Args())}
	}
	return nil
}

func runVersion(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "version", "goc version — in phiên bản / print the version")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, "goc", version)
	return nil
}
