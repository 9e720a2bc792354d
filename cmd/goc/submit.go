package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/g-oc/goc/api/client"
	"github.com/g-oc/goc/internal/api"
	"github.com/g-oc/goc/internal/intake"
	"github.com/g-oc/goc/internal/termbar"
)

// Exit codes of goc submit beyond 0 (stored), 1 (refused: fix the file) and 2 (usage).
const (
	exitNeedsConfirmation = 3 // values are outliers: check them, then --confirm-outliers
	exitUnreachable       = 4 // the server could not be reached or failed: try again later
)

// exitError ends a command with its own exit code.
type exitError struct {
	code int
	msg  string
}

func (e exitError) Error() string { return e.msg }
func (e exitError) ExitCode() int { return e.code }

const submitUsage = `goc submit FILE [--server URL] [--token T] [--confirm-outliers]

Nộp một tệp số liệu lên máy chủ G-OC: mẫu Excel (.xlsx), CSV hoặc JSON, và in kết quả.
Sends one file of figures to a G-OC server: the Excel template (.xlsx), CSV or JSON, and
prints the outcome: what was stored, or every problem with its cell, line or JSON path.

CSV header / tiêu đề CSV: agency,period,indicator,value,numerator,denominator

Mã thoát / exit codes:
  0  đã lưu / stored
  1  bị từ chối, không lưu gì: sửa tệp / refused, nothing stored: fix the file
  2  sai cú pháp lệnh / usage error
  3  có giá trị khác thường: kiểm tra rồi gửi lại với --confirm-outliers /
     unusual values: check them, then send again with --confirm-outliers
  4  không liên lạc được máy chủ hoặc máy chủ lỗi: thử lại sau /
     the server could not be reached or failed: try again later`

func runSubmit(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "submit", submitUsage)
	server := fs.String("server", e.getenv("GOC_SERVER"), "địa chỉ máy chủ / server URL (mặc định/default $GOC_SERVER)")
	token := fs.String("token", "", "mã truy cập / token (mặc định/default $GOC_TOKEN; biến môi trường an toàn hơn / the variable is safer: not in the process list)")
	format := fs.String("format", "", "xlsx, csv hoặc/or json (mặc định theo đuôi tệp / default: from the file's extension)")
	confirm := fs.Bool("confirm-outliers", false, "xác nhận các giá trị khác thường / confirm unusual values")
	key := fs.String("idempotency-key", "", "khoá chống gửi trùng / Idempotency-Key (mặc định: khoá mới, dùng lại khi tự gửi lại / default: a fresh key, reused by this command's own retries)")
	timeout := fs.Duration("timeout", 5*time.Minute, "thời gian chờ tối đa / how long to wait in all")
	file, err := parseWithFile(fs, args)
	if err != nil {
		return err
	}
	if *server == "" {
		return usageError{"thiếu --server (hoặc $GOC_SERVER) / --server (or $GOC_SERVER) is required"}
	}
	if *token == "" {
		*token = e.getenv("GOC_TOKEN")
	}
	if *token == "" {
		return usageError{"thiếu mã truy cập: đặt $GOC_TOKEN hoặc --token / no token: set $GOC_TOKEN or --token"}
	}
	ct, err := contentType(file, *format)
	if err != nil {
		return err
	}
	body, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("đọc / read %s: %w", file, err)
	}
	if *key == "" {
		var b [16]byte
		rand.Read(b[:])
		*key = hex.EncodeToString(b[:])
	}
	c, err := apiClient(e, *server, *token, 0)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	params := &client.PostSubmissionParams{IdempotencyKey: key}
	if *confirm {
		params.ConfirmOutliers = confirm
	}
	r, err := c.PostSubmissionWithBodyWithResponse(ctx, params, ct, bytes.NewReader(body), progress(e, file, len(body)))
	if err != nil {
		return unreachable(err)
	}
	return report(e, file, r.HTTPResponse, r.Body)
}

// parseWithFile parses flags around one positional FILE, which may come before or after
// them (goc submit data.xlsx --server URL, or goc submit --server URL data.xlsx).
func parseWithFile(fs *flag.FlagSet, args []string) (string, error) {
	var file string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		file, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return "", err
		}
		return "", usageError{err.Error()}
	}
	rest := fs.Args()
	if file == "" && len(rest) > 0 {
		file, rest = rest[0], rest[1:]
	}
	if len(rest) > 0 {
		return "", usageError{fmt.Sprintf("đối số thừa / unexpected arguments: %v", rest)}
	}
	if file == "" {
		return "", usageError{"thiếu tệp / FILE is required"}
	}
	return file, nil
}

func contentType(file, format string) (string, error) {
	if format == "" {
		format = strings.TrimPrefix(strings.ToLower(filepath.Ext(file)), ".")
	}
	switch format {
	case "xlsx", "xlsm":
		return api.ContentTypeXLSX, nil
	case "csv":
		return api.ContentTypeCSV, nil
	case "json":
		return api.ContentTypeJSON, nil
	}
	return "", usageError{fmt.Sprintf("không biết định dạng của %s; dùng --format xlsx|csv|json / cannot tell the format of %s; use --format xlsx|csv|json", file, file)}
}

// progress shows a bar on stderr while a large file is sent, again for each retry (the
// client sends the same key and the same bytes, so a retry never stores twice).
func progress(e *env, file string, size int) client.RequestEditorFn {
	return func(_ context.Context, req *http.Request) error {
		if size <= 1<<20 || req.GetBody == nil {
			return nil
		}
		wrap := func(rc io.ReadCloser) io.ReadCloser {
			return &barReader{rc: rc, bar: termbar.New(e.stderr, "gửi/uploading "+filepath.Base(file), int64(size))}
		}
		get := req.GetBody
		req.Body = wrap(req.Body)
		req.GetBody = func() (io.ReadCloser, error) {
			rc, err := get()
			if err != nil {
				return nil, err
			}
			return wrap(rc), nil
		}
		return nil
	}
}

type barReader struct {
	rc   io.ReadCloser
	bar  *termbar.Bar
	done bool
}

func (b *barReader) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	b.bar.Add(int64(n))
	return n, err
}

// Close ends the bar: the transport closes a request's body once it is sent or failed.
func (b *barReader) Close() error {
	if !b.done {
		b.done = true
		b.bar.Done()
	}
	return b.rc.Close()
}

// submitAnswer is what the server says about a submission.
type submitAnswer struct {
	Error             string           `json:"error"`
	Batch             string           `json:"batch"`
	Format            string           `json:"format"`
	Agency            string           `json:"agency"`
	Period            string           `json:"period"`
	Created           int              `json:"created"`
	Unchanged         int              `json:"unchanged"`
	NoData            int              `json:"no_data"`
	Problems          []intake.Problem `json:"problems"`
	TotalProblems     int              `json:"total_problems"`
	Warnings          []intake.Problem `json:"warnings"`
	NeedsConfirmation bool             `json:"needs_confirmation"`
	Confirmed         []intake.Problem `json:"confirmed_warnings"`
	Revisions         []struct {
		Indicator string `json:"indicator"`
		Agency    string `json:"agency"`
		Period    string `json:"period"`
		Revision  int    `json:"revision"`
		New       bool   `json:"new"`
	} `json:"revisions"`
}

// report prints the outcome: the summary to stdout, problems and warnings to stderr.
func report(e *env, file string, resp *http.Response, body []byte) error {
	var a submitAnswer
	if err := json.Unmarshal(body, &a); err != nil {
		if resp.StatusCode >= 500 {
			return exitError{exitUnreachable, fmt.Sprintf("máy chủ lỗi / server error %s", resp.Status)}
		}
		return fmt.Errorf("máy chủ trả lời / server answered %s: %s", resp.Status, strings.TrimSpace(string(body)))
	}
	replayed := ""
	if resp.Header.Get("Idempotent-Replayed") == "true" {
		replayed = " (đã nhận trước đó / received before)"
	}
	switch {
	case resp.StatusCode == http.StatusCreated:
		fmt.Fprintf(e.stdout, "%s: đã lưu / stored%s — %s %s (%s): %d phiên bản mới / new revisions, %d không đổi / unchanged, %d không có số liệu / no data; lô / batch %s\n",
			file, replayed, a.Agency, a.Period, a.Format, a.Created, a.Unchanged, a.NoData, a.Batch)
		for _, r := range a.Revisions {
			state := "không đổi / unchanged"
			if r.New {
				state = "mới / new"
			}
			fmt.Fprintf(e.stdout, "  %s %s %s: phiên bản / revision %d (%s)\n", r.Indicator, r.Agency, r.Period, r.Revision, state)
		}
		for _, w := range a.Confirmed {
			fmt.Fprintf(e.stdout, "  đã xác nhận / confirmed: %s\n", w)
		}
		return nil
	case a.NeedsConfirmation:
		for _, w := range a.Warnings {
			fmt.Fprintf(e.stderr, "%s: cảnh báo / warning: %s\n", file, w)
		}
		return exitError{exitNeedsConfirmation, fmt.Sprintf("%d giá trị khác thường, chưa lưu gì; kiểm tra rồi gửi lại với --confirm-outliers / %d unusual values, nothing stored; check them, then send again with --confirm-outliers",
			len(a.Warnings), len(a.Warnings))}
	case len(a.Problems) > 0:
		for _, p := range a.Problems {
			fmt.Fprintf(e.stderr, "%s: %s\n", file, p)
		}
		more := ""
		if a.TotalProblems > len(a.Problems) {
			more = fmt.Sprintf(" (%d liệt kê / listed)", len(a.Problems))
		}
		return exitError{1, fmt.Sprintf("%d lỗi%s, không lưu gì / %d problems%s, nothing stored", a.TotalProblems, more, a.TotalProblems, more)}
	case resp.StatusCode >= 500:
		return exitError{exitUnreachable, fmt.Sprintf("máy chủ lỗi / server error %s: %s", resp.Status, a.Error)}
	}
	return fmt.Errorf("%s: %s", resp.Status, a.Error)
}
