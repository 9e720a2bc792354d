// Package client is the Go client of G-OC's HTTP API, generated from api/openapi.yaml
// by oapi-codegen (client.gen.go) and completed here by what a generator cannot know:
// the bearer token, retries that honour Retry-After (retry.go), a bound on how much of
// an answer is read, and one error type that carries the server's own reasons.
// goc submit, goc report, goc template and the Grafana plugin's backend all call G-OC
// through it.
package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/jonboulle/clockwork"
)

// MaxAnswer is the most of one answer the client reads: a page of 5000 observations is
// a few MiB, a template a few hundred KiB, so 64 MiB bounds the memory whatever a server
// (or something pretending to be one) sends.
const MaxAnswer = 64 << 20

// Options says how to reach one G-OC server.
type Options struct {
	// Token is sent as "Authorization: Bearer Token"; empty sends none (public reads).
	Token string
	// Timeout bounds each attempt; 0 leaves only the caller's context.
	Timeout time.Duration
	// Retry is the retry policy; the zero value retries with the defaults of Retry.
	Retry Retry
	// HTTP is the client the attempts go through; nil is a fresh one with Timeout.
	HTTP *http.Client
}

// New returns the client for the server at base (http or https URL, without /api/v1).
func New(base string, o Options) (*ClientWithResponses, error) {
	hc := o.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: o.Timeout}
	}
	r := o.Retry
	r.Doer = hc
	opts := []ClientOption{WithHTTPClient(&r)}
	if o.Token != "" {
		tok := o.Token
		opts = append(opts, WithRequestEditorFn(func(_ context.Context, req *http.Request) error {
			req.Header.Set("Authorization", "Bearer "+tok)
			return nil
		}))
	}
	return NewClientWithResponses(strings.TrimRight(base, "/"), opts...)
}

// CallError is a call to G-OC that did not end in a 2xx answer: either no answer at all
// (Status 0, Err says why) or a refusal, with the server's message and every problem it
// listed, each naming its parameter, field or cell.
type CallError struct {
	Method string
	URL    string
	// Status is the HTTP status; 0 when G-OC could not be reached.
	Status   int
	Message  string
	Problems []Problem
	// RetryAfter is the wait the server asked for with 429 or 503, when it was more than
	// the client would wait on its own.
	RetryAfter time.Duration
	Err        error
}

func (e *CallError) Error() string {
	var b strings.Builder
	if e.Status == 0 {
		fmt.Fprintf(&b, "không kết nối được G-OC / cannot reach G-OC at %s", e.URL)
		var ne net.Error
		if errors.As(e.Err, &ne) && ne.Timeout() {
			b.WriteString(": hết thời gian chờ / timed out")
		}
		if e.Err != nil {
			fmt.Fprintf(&b, ": %v", e.Err)
		}
		return b.String()
	}
	fmt.Fprintf(&b, "G-OC trả lời %d / G-OC answered %d %s", e.Status, e.Status, http.StatusText(e.Status))
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	for _, p := range e.Problems {
		b.WriteString("; ")
		if p.Field != "" {
			b.WriteString(p.Field + ": ")
		}
		b.WriteString(p.Reason)
	}
	if e.RetryAfter > 0 {
		s := int((e.RetryAfter + time.Second - 1) / time.Second)
		fmt.Fprintf(&b, " (thử lại sau %d giây / retry after %d s)", s, s)
	}
	fmt.Fprintf(&b, " (%s %s)", e.Method, e.URL)
	return b.String()
}

func (e *CallError) Unwrap() error { return e.Err }

// Unreachable reports whether err is G-OC not answering at all.
func Unreachable(err error) bool {
	var e *CallError
	return errors.As(err, &e) && e.Status == 0
}

// StatusOf is the HTTP status of a refusal in err, or 0.
func StatusOf(err error) int {
	var e *CallError
	if errors.As(err, &e) {
		return e.Status
	}
	return 0
}

// Check returns nil for a 2xx answer and an *CallError with the server's reasons for any
// other. Pass a generated response's HTTPResponse and Body.
func Check(hr *http.Response, body []byte) error {
	if hr == nil {
		return errors.New("client: no response")
	}
	if hr.StatusCode/100 == 2 {
		return nil
	}
	e := &CallError{Status: hr.StatusCode}
	if hr.Request != nil {
		e.Method, e.URL = hr.Request.Method, hr.Request.URL.String()
	}
	var eb struct {
		Error    string    `json:"error"`
		Problems []Problem `json:"problems"`
	}
	if json.Unmarshal(body, &eb) == nil && eb.Error != "" {
		e.Message, e.Problems = eb.Error, eb.Problems
	} else {
		e.Message = strings.TrimSpace(string(body[:min(len(body), 200)]))
	}
	if hr.StatusCode == http.StatusTooManyRequests || hr.StatusCode == http.StatusServiceUnavailable {
		e.RetryAfter, _ = retryAfter(hr.Header.Get("Retry-After"), clockwork.NewRealClock())
	}
	return e
}

// Decode checks an answer like Check and decodes a 2xx JSON body into out.
func Decode(hr *http.Response, body []byte, out any) error {
	if err := Check(hr, body); err != nil {
		return err
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("câu trả lời của G-OC không đọc được / cannot read G-OC's answer from %s: %w", hr.Request.URL, err)
	}
	return nil
}

// limitedBody fails a read past MaxAnswer instead of truncating the answer silently.
type limitedBody struct {
	r           io.ReadCloser
	left, limit int64
	url         string
}

func (l *limitedBody) Read(p []byte) (int, error) {
	if int64(len(p)) > l.left+1 {
		p = p[:l.left+1] // one byte more tells "exactly the limit" from "over it"
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	if l.left < 0 {
		size := fmt.Sprintf("%d byte", l.limit)
		if l.limit%(1<<20) == 0 {
			size = fmt.Sprintf("%d MiB", l.limit>>20)
		}
		return 0, fmt.Errorf("câu trả lời của G-OC quá %s / G-OC's answer from %s is over %s", size, l.url, size)
	}
	return n, err
}

func (l *limitedBody) Close() error { return l.r.Close() }
