package api_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
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

// holdBudget starts an upload that declares the whole upload budget and sends its body
// only when the returned function is called; that function waits for its answer.
func holdBudget(t *testing.T, f *fixture, budget int64) (finish func() int) {
	t.Helper()
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
	return func() int {
		// A bad body: the slow upload ends with a 4xx and its share comes back.
		pw.Write([]byte("not,a,submission\n"))
		pw.CloseWithError(io.ErrUnexpectedEOF)
		return <-slow
	}
}

// postLarge posts a CSV body of n bytes (above the test's small-submission size).
func postLarge(t *testing.T, f *fixture, n int) *http.Response {
	t.Helper()
	body := "agency,period,indicator,value\n" + strings.Repeat("P20,2026-Q3,dossiers_fully_online,51\n", n/37+1)
	req, _ := http.NewRequest(http.MethodPost, f.srv.URL+"/api/v1/submissions", strings.NewReader(body))
	req.Header.Set("Content-Type", "text/csv")
	req.Header.Set("Authorization", "Bearer "+f.tokens["P20"])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// budgetFull waits until the slow upload holds the budget: a large submission is then
// turned away with 503 and Retry-After, which it returns.
func budgetFull(t *testing.T, f *fixture) *http.Response {
	t.Helper()
	for range 200 {
		if resp := postLarge(t, f, 4<<10); resp.StatusCode == http.StatusServiceUnavailable {
			return resp
		}
	}
	t.Fatal("no 503 for a large upload while another held the whole budget")
	return nil
}

// The limits of these tests: a 1 MiB budget, submissions up to 1 KiB are small.
var testLimits = api.Limits{UploadBudget: 1 << 20, SmallUpload: 1 << 10, SmallUploadBudget: 64 << 10, UploadWait: 100 * time.Millisecond}

func TestLargeUploadsBeyondTheUploadBudgetGet503WithRetryAfterAndGoThroughAfter(t *testing.T) {
	f := newFixture(t, false, func(o *api.Options) { o.Limits = testLimits })
	finish := holdBudget(t, f, testLimits.UploadBudget)
	busy := budgetFull(t, f)
	if busy.Header.Get("Retry-After") == "" {
		t.Error("503 without Retry-After")
	}
	if code := finish(); code >= 500 && code != 0 {
		t.Errorf("slow upload: %d", code)
	}
	// The share came back: a large upload is read again (a 4xx or 201, not 503).
	if resp := postLarge(t, f, 4<<10); resp.StatusCode == http.StatusServiceUnavailable {
		t.Fatalf("after the budget came back: %d", resp.StatusCode)
	}
}

func TestASmallSubmissionIsStoredWhileLargeUploadsHoldTheWholeBudget(t *testing.T) {
	f := newFixture(t, false, func(o *api.Options) { o.Limits = testLimits })
	finish := holdBudget(t, f, testLimits.UploadBudget)
	defer finish()
	budgetFull(t, f)
	// The small submission has its own reserve: stored at once, no 503.
	if resp := post(t, f, f.tokens["P20"], oneValue); resp.StatusCode != http.StatusCreated {
		t.Fatalf("small submission while the upload budget is full: %d, want 201", resp.StatusCode)
	}
	var got struct {
		Observations []struct {
			Agency string  `json:"agency"`
			Value  float64 `json:"value"`
		} `json:"observations"`
	}
	f.get(t, "/api/v1/observations?indicator=dossiers_fully_online&agency=P20", &got)
	if len(got.Observations) != 1 || got.Observations[0].Value != 51 {
		t.Fatalf("stored after the small submission: %+v, want P20 at 51", got.Observations)
	}
}

func TestHeavyReadsAndExportsBeyondTheirLimitsGet429AtOnceWhileOthersGoOn(t *testing.T) {
	tests := []struct {
		name    string
		held    string   // read held in progress, in the only slot of its kind
		refused []string // answered 429 at once meanwhile
		served  []string // answered 200 meanwhile
	}{
		{"heavy read held", "/api/v1/completeness?period=2025-Q3",
			[]string{"/api/v1/observations?history=true", "/api/v1/probes", "/api/v1/progress?indicator=dossiers_fully_online"},
			[]string{"/healthz", "/api/v1/indicators", "/api/v1/agencies", "/api/v1/reports/export.csv?indicator=dossiers_fully_online&from=2025&to=2025"}},
		{"export held", "/api/v1/reports/export.csv?indicator=dossiers_fully_online&from=2025&to=2025",
			[]string{"/api/v1/reports/export.xlsx?indicator=dossiers_fully_online&from=2025&to=2025"},
			[]string{"/healthz", "/api/v1/observations?history=true", "/api/v1/completeness?period=2025-Q3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Both held reads read the clock before the store; the gated clock holds the
			// first such read in progress until the test lets it go.
			entered, release := make(chan struct{}), make(chan struct{})
			var armed atomic.Bool
			clock := func() time.Time {
				// Only the first reader of the armed clock waits; later ones go on.
				if armed.CompareAndSwap(true, false) {
					close(entered)
					<-release
				}
				return testNow
			}
			f := newFixture(t, false, func(o *api.Options) {
				o.Now = clock
				o.Limits = api.Limits{HeavyReads: 1, Exports: 1}
			})
			armed.Store(true)
			first := make(chan int, 1)
			go func() {
				resp, err := http.Get(f.srv.URL + tt.held)
				if err != nil {
					first <- 0
					return
				}
				// The whole body: its end is sent after the handler gave its slot back.
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				first <- resp.StatusCode
			}()
			select {
			case <-entered:
			case code := <-first:
				t.Fatalf("GET %s: %d without reading the clock: nothing held", tt.held, code)
			}
			for _, path := range tt.refused {
				resp, err := http.Get(f.srv.URL + path)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
					t.Errorf("GET %s while its one slot is taken: %d Retry-After %q, want 429 with Retry-After", path, resp.StatusCode, resp.Header.Get("Retry-After"))
				}
			}
			for _, path := range tt.served {
				if code := f.get(t, path, nil); code != http.StatusOK {
					t.Errorf("GET %s meanwhile: %d, want 200", path, code)
				}
			}
			close(release)
			if code := <-first; code != http.StatusOK {
				t.Fatalf("the held read: %d, want 200", code)
			}
			for _, path := range tt.refused {
				if code := f.get(t, path, nil); code != http.StatusOK {
					t.Errorf("GET %s once the slot is free: %d, want 200", path, code)
				}
			}
		})
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
