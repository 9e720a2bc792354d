package client_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/g-oc/goc/api/client"
)

// busyThenOK is a loopback server that answers the first `busy` requests with status and
// Retry-After, then 200 with the catalogue, and keeps each request's method, body and
// Idempotency-Key.
type busyThenOK struct {
	busy       int
	status     int
	retryAfter string
	mu         sync.Mutex
	seen       []string
	calls      atomic.Int32
}

func (s *busyThenOK) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	s.seen = append(s.seen, r.Method+" "+r.Header.Get("Idempotency-Key")+" "+string(b)+" "+r.Header.Get("Authorization"))
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if int(s.calls.Add(1)) <= s.busy {
		if s.retryAfter != "" {
			w.Header().Set("Retry-After", s.retryAfter)
		}
		w.WriteHeader(s.status)
		_, _ = io.WriteString(w, `{"error":"quá nhiều yêu cầu, thử lại sau 7 giây / too many requests, retry after 7 s"}`)
		return
	}
	_, _ = io.WriteString(w, `{"indicators":[{"code":"dvc_online_rate"}],"count":1}`)
}

func start(t *testing.T, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestRetryWaitsTheRetryAfterTheServerAsksForThenGetsTheAnswer: a 429 or 503 with
// Retry-After: 7 is sent again after 7 s on the client's clock, not before, and the
// caller sees only the 200.
func TestRetryWaitsTheRetryAfterTheServerAsksForThenGetsTheAnswer(t *testing.T) {
	for _, status := range []int{http.StatusTooManyRequests, http.StatusServiceUnavailable} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			srv := &busyThenOK{busy: 1, status: status, retryAfter: "7"}
			clock := clockwork.NewFakeClock()
			var waits []time.Duration
			c, err := client.New(start(t, srv), client.Options{Token: "t0k", Retry: client.Retry{Clock: clock,
				OnRetry: func(_ int, wait time.Duration, _ error) { waits = append(waits, wait) }}})
			if err != nil {
				t.Fatal(err)
			}
			type result struct {
				r   *client.ListIndicatorsResponse
				err error
			}
			done := make(chan result, 1)
			go func() {
				r, err := c.ListIndicatorsWithResponse(context.Background())
				done <- result{r, err}
			}()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := clock.BlockUntilContext(ctx, 1); err != nil {
				t.Fatalf("the client did not wait: %v", err)
			}
			clock.Advance(6 * time.Second)
			if n := srv.calls.Load(); n != 1 {
				t.Fatalf("after 6 s of the 7 asked: %d requests, want 1", n)
			}
			clock.Advance(time.Second)
			res := <-done
			if res.err != nil {
				t.Fatal(res.err)
			}
			if err := client.Check(res.r.HTTPResponse, res.r.Body); err != nil {
				t.Fatal(err)
			}
			if res.r.JSON200 == nil || len(res.r.JSON200.Indicators) != 1 || res.r.JSON200.Indicators[0].Code != "dvc_online_rate" {
				t.Fatalf("answer %s", res.r.Body)
			}
			if len(waits) != 1 || waits[0] != 7*time.Second {
				t.Fatalf("waits %v, want [7s]", waits)
			}
			if srv.seen[1] != "GET   Bearer t0k" {
				t.Fatalf("second request %q: the token must go again", srv.seen[1])
			}
		})
	}
}

// TestRetrySendsAPostAgainOnlyWithItsIdempotencyKey: a submission with a key is sent
// again with the same key and the same bytes; one without a key is never repeated,
// since the server might have stored it.
func TestRetrySendsAPostAgainOnlyWithItsIdempotencyKey(t *testing.T) {
	for _, tc := range []struct {
		name      string
		key       *string
		wantCalls int32
	}{
		{"with key", ptr("k-1"), 2},
		{"without key", nil, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := &busyThenOK{busy: 1, status: http.StatusServiceUnavailable, retryAfter: "0"}
			clock := clockwork.NewFakeClock()
			c, err := client.New(start(t, srv), client.Options{Retry: client.Retry{Clock: clock}})
			if err != nil {
				t.Fatal(err)
			}
			r, err := c.PostSubmissionWithBodyWithResponse(context.Background(), &client.PostSubmissionParams{IdempotencyKey: tc.key},
				"text/csv", strings.NewReader("agency,period,indicator,value\nP20,2026-Q3,dvc_online_rate,81.5\n"))
			if err != nil {
				t.Fatal(err)
			}
			if n := srv.calls.Load(); n != tc.wantCalls {
				t.Fatalf("%d requests, want %d", n, tc.wantCalls)
			}
			if tc.key != nil {
				if srv.seen[0] != srv.seen[1] || !strings.Contains(srv.seen[1], "POST k-1 agency,period") {
					t.Fatalf("the retry differs from the first send:\n%q\n%q", srv.seen[0], srv.seen[1])
				}
				if r.StatusCode() != http.StatusOK {
					t.Fatalf("status %d", r.StatusCode())
				}
			} else if r.StatusCode() != http.StatusServiceUnavailable {
				t.Fatalf("status %d, want the 503 handed back", r.StatusCode())
			}
		})
	}
}

// TestRetryHandsBackAWaitLongerThanItsCapWithTheWaitInTheMessage: a server asking for an
// hour is not waited on; the error tells the user how long the server asked for.
func TestRetryHandsBackAWaitLongerThanItsCapWithTheWaitInTheMessage(t *testing.T) {
	srv := &busyThenOK{busy: 5, status: http.StatusTooManyRequests, retryAfter: "3600"}
	c, err := client.New(start(t, srv), client.Options{Retry: client.Retry{Clock: clockwork.NewFakeClock(), MaxWait: time.Minute}})
	if err != nil {
		t.Fatal(err)
	}
	r, err := c.ListIndicatorsWithResponse(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	err = client.Check(r.HTTPResponse, r.Body)
	if srv.calls.Load() != 1 || client.StatusOf(err) != http.StatusTooManyRequests {
		t.Fatalf("%d calls, %v", srv.calls.Load(), err)
	}
	for _, want := range []string{"G-OC answered 429", "too many requests, retry after 7 s", "retry after 3600 s", "/api/v1/indicators"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q lacks %q", err, want)
		}
	}
}

// TestRetryGivesUpWhenTheContextEndsDuringTheWait: a caller's deadline ends the wait at
// once, with an error that names the place.
func TestRetryGivesUpWhenTheContextEndsDuringTheWait(t *testing.T) {
	srv := &busyThenOK{busy: 5, status: http.StatusServiceUnavailable, retryAfter: "20"}
	clock := clockwork.NewFakeClock()
	base := start(t, srv)
	c, err := client.New(base, client.Options{Retry: client.Retry{Clock: clock}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := c.ListIndicatorsWithResponse(ctx)
		done <- err
	}()
	wctx, wcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer wcancel()
	if err := clock.BlockUntilContext(wctx, 1); err != nil {
		t.Fatal(err)
	}
	cancel()
	err = <-done
	if !errors.Is(err, context.Canceled) || !client.Unreachable(err) || !strings.Contains(err.Error(), base+"/api/v1/indicators") {
		t.Fatalf("%v", err)
	}
}

// TestNoAnswerIsRetriedThenNamesThePlace: nothing listening is tried Attempts times and
// reported bilingually with the URL.
func TestNoAnswerIsRetriedThenNamesThePlace(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	base := srv.URL
	srv.Close()
	var tries []int
	c, err := client.New(base, client.Options{Retry: client.Retry{Clock: clockwork.NewFakeClock(), Backoff: func(int) time.Duration { return 0 },
		OnRetry: func(n int, _ time.Duration, _ error) { tries = append(tries, n) }}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.ListIndicatorsWithResponse(context.Background())
	if !client.Unreachable(err) || !strings.Contains(err.Error(), "không kết nối được G-OC / cannot reach G-OC at "+base+"/api/v1/indicators") {
		t.Fatalf("%v", err)
	}
	if len(tries) != 2 {
		t.Fatalf("retries %v, want attempts 2 and 3", tries)
	}
}

// TestCheckShowsEveryProblemTheServerListed: a refusal keeps the server's words and each
// problem with its place.
func TestCheckShowsEveryProblemTheServerListed(t *testing.T) {
	for _, tc := range []struct {
		name, ctype, body string
		status            int
		want              []string
	}{
		{"problems", "application/json", `{"error":"yêu cầu không hợp lệ / invalid request","problems":[{"field":"limit","reason":"phải là số nguyên từ 1 đến 5000 / must be a whole number from 1 to 5000"},{"field":"period","reason":"kỳ không hợp lệ / bad period"}]}`,
			http.StatusBadRequest, []string{"G-OC trả lời 400 / G-OC answered 400 Bad Request: yêu cầu không hợp lệ / invalid request; limit: phải là số nguyên", "; period: kỳ không hợp lệ / bad period", "(GET "}},
		{"not json", "text/html", "<h1>502 Bad Gateway</h1>", http.StatusBadGateway, []string{"G-OC answered 502 Bad Gateway: <h1>502 Bad Gateway</h1>"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", tc.ctype)
				w.WriteHeader(tc.status)
				_, _ = io.WriteString(w, tc.body)
			}))
			c, err := client.New(base, client.Options{Retry: client.Retry{Attempts: 1}})
			if err != nil {
				t.Fatal(err)
			}
			r, err := c.ListObservationsWithResponse(context.Background(), &client.ListObservationsParams{Limit: ptr(0)})
			if err != nil {
				t.Fatal(err)
			}
			err = client.Check(r.HTTPResponse, r.Body)
			for _, w := range tc.want {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("%v lacks %q", err, w)
				}
			}
		})
	}
}

// TestAnAnswerOverTheLimitFailsInsteadOfFillingMemory: the body is read up to MaxAnswer
// and no further.
func TestAnAnswerOverTheLimitFailsInsteadOfFillingMemory(t *testing.T) {
	base := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/yaml")
		_, _ = io.WriteString(w, strings.Repeat("x", 4096))
	}))
	for _, tc := range []struct {
		limit   int64
		wantErr bool
	}{{4096, false}, {4095, true}} {
		c, err := client.New(base, client.Options{Retry: client.Retry{MaxAnswer: tc.limit}})
		if err != nil {
			t.Fatal(err)
		}
		r, err := c.GetOpenAPIWithResponse(context.Background())
		if tc.wantErr {
			if err == nil || !strings.Contains(err.Error(), "is over") {
				t.Errorf("limit %d: %v", tc.limit, err)
			}
		} else if err != nil || len(r.Body) != 4096 {
			t.Errorf("limit %d: %v", tc.limit, err)
		}
	}
}

func ptr[T any](v T) *T { return &v }
