package client

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/jonboulle/clockwork"
)

// Retry sends each request through Doer and sends it again when a retry can help and
// cannot do harm:
//   - only requests that are safe to repeat: GET, HEAD, OPTIONS, PUT, DELETE, and a POST
//     that carries an Idempotency-Key (G-OC replays the first answer to that key);
//   - when no answer came, or the answer was 429, 502, 503 or 504;
//   - after the Retry-After the server asked for (seconds or an HTTP date), or after
//     Backoff when it named none; a Retry-After longer than MaxWait is not waited for:
//     the answer goes back to the caller, whose error says how long to wait.
//
// Waits use Clock and end early when the request's context ends.
type Retry struct {
	// Doer sends one attempt; New sets it.
	Doer HttpRequestDoer
	// Attempts is how many times a request is sent at most; 0 means 3.
	Attempts int
	// MaxWait is the longest wait between attempts; 0 means 30 s.
	MaxWait time.Duration
	// Backoff is the wait before attempt n+1 (n from 1) when the server named none;
	// nil means n seconds.
	Backoff func(n int) time.Duration
	// Clock is where waits happen; nil is the real clock. Tests pass a fake one.
	Clock clockwork.Clock
	// OnRetry, when set, hears each retry before its wait: which attempt comes next, the
	// wait, and what went wrong (an *CallError).
	OnRetry func(attempt int, wait time.Duration, why error)
	// MaxAnswer bounds each answer's body; 0 means MaxAnswer.
	MaxAnswer int64
}

// Do sends req, again when the rules of Retry allow, and returns the last answer.
// A failure to get any answer is an *CallError with Status 0.
func (r *Retry) Do(req *http.Request) (*http.Response, error) {
	attempts, maxWait, clock := r.Attempts, r.MaxWait, r.Clock
	if attempts <= 0 {
		attempts = 3
	}
	if maxWait <= 0 {
		maxWait = 30 * time.Second
	}
	if clock == nil {
		clock = clockwork.NewRealClock()
	}
	limit := r.MaxAnswer
	if limit <= 0 {
		limit = MaxAnswer
	}
	ctx := req.Context()
	repeatable := safeToRepeat(req)
	for n := 1; ; n++ {
		if n > 1 && req.GetBody != nil {
			body, err := req.GetBody()
			if err != nil {
				return nil, fmt.Errorf("client: resend %s: %w", req.URL, err)
			}
			req.Body = body
		}
		resp, err := r.Doer.Do(req)
		var why error
		var wait time.Duration
		named := false // the server named the wait, perhaps 0
		if err != nil {
			why = &CallError{Method: req.Method, URL: req.URL.String(), Err: err}
			if ctx.Err() != nil {
				return nil, why
			}
		} else {
			resp.Body = &limitedBody{r: resp.Body, left: limit, limit: limit, url: req.URL.String()}
			switch resp.StatusCode {
			case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
			default:
				return resp, nil
			}
			asked, ok := retryAfter(resp.Header.Get("Retry-After"), clock)
			if ok && asked > maxWait {
				return resp, nil // the caller's error says how long the server asked to wait
			}
			wait, named = asked, ok
			why = &CallError{Method: req.Method, URL: req.URL.String(), Status: resp.StatusCode, Message: resp.Status}
		}
		if !repeatable || n >= attempts {
			if err != nil {
				return nil, why
			}
			return resp, nil
		}
		if resp != nil {
			// Drain a little so the connection can be reused; the answer is not needed.
			_, _ = io.CopyN(io.Discard, resp.Body, 64<<10)
			resp.Body.Close()
		}
		if !named {
			wait = time.Duration(n) * time.Second
			if r.Backoff != nil {
				wait = r.Backoff(n)
			}
		}
		wait = min(wait, maxWait)
		if r.OnRetry != nil {
			r.OnRetry(n+1, wait, why)
		}
		if err := sleep(ctx, clock, wait); err != nil {
			return nil, &CallError{Method: req.Method, URL: req.URL.String(), Err: fmt.Errorf("%w, chờ gửi lại sau / waiting to retry after: %v", err, why)}
		}
	}
}

// safeToRepeat is a request whose repetition cannot store anything twice, and whose body
// (if any) can be sent again.
func safeToRepeat(req *http.Request) bool {
	if req.Body != nil && req.Body != http.NoBody && req.GetBody == nil {
		return false
	}
	switch req.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodPut, http.MethodDelete:
		return true
	case http.MethodPost, http.MethodPatch:
		return req.Header.Get("Idempotency-Key") != ""
	}
	return false
}

// retryAfter reads a Retry-After header: whole seconds or an HTTP date.
func retryAfter(v string, clock clockwork.Clock) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if s, err := strconv.Atoi(v); err == nil {
		if s < 0 {
			return 0, false
		}
		return time.Duration(s) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(clock.Now()), 0), true
	}
	return 0, false
}

func sleep(ctx context.Context, clock clockwork.Clock, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := clock.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.Chan():
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
