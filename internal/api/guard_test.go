package api_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/g-oc/goc/internal/api"
	"github.com/g-oc/goc/internal/limit"
)

const oneValue = `{"agency":"P20","period":"2026-Q3","values":[{"indicator":"dossiers_fully_online","numerator":51,"denominator":100}]}`

func post(t *testing.T, f *fixture, token, body string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, f.srv.URL+"/api/v1/submissions", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

func TestSubmissionsBeyondTheUploadBudgetGet503WithRetryAfterAndGoThroughAfter(t *testing.T) {
	const budget = 1 << 20
	f := newFixture(t, false, func(o *api.Options) {
		o.Limits = api.Limits{UploadBudget: budget, UploadWait: 100 * time.Millisecond}
	})
	// A slow upload declares the whole budget and sends its body only when told.
	pr, pw := io.Pipe()
	req, _ := http.NewRequest(http.MethodPost, f.srv.URL+"/api/v1/submissions", pr)
	req.ContentLength = budget
	req.Header.Set("Content-Type", "text/csv")
	req.Header.Set("Authorization", "Bearer "+f.tokens["BTC"])
	slow := make(chan int, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			slow <- 0
			return
		}
		resp.Body.Close()
		slow <- resp.StatusCode
	}()
	// Once the slow upload holds the budget (its handler is waiting for the body), a
	// small one waits its 100 ms and is turned away.
	var busy *http.Response
	for i := 0; i < 200 && busy == nil; i++ {
		if resp := post(t, f, f.tokens["P20"], oneValue); resp.StatusCode == http.StatusServiceUnavailable {
			busy = resp
		}
	}
	if busy == nil {
		t.Fatal("no 503 while another upload held the whole budget")
	}
	if busy.Header.Get("Retry-After") == "" {
		t.Error("503 without Retry-After")
	}
	// The slow upload ends (a bad body: 4xx), its share comes back, and the next
	// submission is stored.
	pw.Write([]byte("not,a,submission\n"))
	pw.CloseWithError(io.ErrUnexpectedEOF)
	if code := <-slow; code >= 500 && code != 0 {
		t.Errorf("slow upload: %d", code)
	}
	if resp := post(t, f, f.tokens["P20"], oneValue); resp.StatusCode != http.StatusCreated {
		t.Fatalf("after the budget came back: %d, want 201", resp.StatusCode)
	}
}

func TestWritesPerTokenAndPerAddressAreLimitedWith429AndRetryAfter(t *testing.T) {
	f := newFixture(t, false, func(o *api.Options) {
		o.Limits = api.Limits{WritesPerToken: limit.Options{Every: time.Hour, Burst: 2},
			WritesPerAddr: limit.Options{Every: time.Hour, Burst: 4}}
	})
	for i := range 2 {
		if resp := post(t, f, f.tokens["P20"], oneValue); resp.StatusCode != http.StatusCreated {
			t.Fatalf("submission %d: %d", i+1, resp.StatusCode)
		}
	}
	resp := post(t, f, f.tokens["P20"], oneValue)
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("third submission of one token: %d Retry-After %q, want 429 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	// Another token from the same address still has its own allowance, until the
	// address's is spent (4 writes).
	body := strings.ReplaceAll(oneValue, "P20", "N79")
	if resp := post(t, f, f.tokens["N79"], body); resp.StatusCode != http.StatusCreated {
		t.Fatalf("another token: %d, want 201", resp.StatusCode)
	}
	if resp := post(t, f, f.tokens["N79"], body); resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("fifth write from one address: %d, want 429", resp.StatusCode)
	}
}

func TestFailedAuthenticationIsLimitedPerAddressEvenForAGoodTokenAfter(t *testing.T) {
	f := newFixture(t, false, func(o *api.Options) {
		o.Limits = api.Limits{AuthFailures: limit.Options{Every: time.Hour, Burst: 3}}
	})
	for i := range 3 {
		if resp := post(t, f, fmt.Sprintf("goc_guess%d", i), oneValue); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("guess %d: %d, want 401", i+1, resp.StatusCode)
		}
	}
	for _, tok := range []string{"goc_guess4", f.tokens["P20"]} {
		resp := post(t, f, tok, oneValue)
		if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
			t.Fatalf("after 3 failures: %d Retry-After %q, want 429 before the token is checked", resp.StatusCode, resp.Header.Get("Retry-After"))
		}
	}
	req, _ := http.NewRequest(http.MethodGet, f.srv.URL+"/api/v1/whoami", nil)
	req.Header.Set("Authorization", "Bearer goc_guess5")
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != http.StatusTooManyRequests {
		t.Errorf("whoami after the failures: %d, want 429", r.StatusCode)
	}
}
