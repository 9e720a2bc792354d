package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// TestSubmitSendsTheSameFileAndKeyAgainAfterA429: a server that is busy once (429 with
// Retry-After: 0, so the test waits for nothing) gets the whole file a second time with
// the same Idempotency-Key, and the user sees the retry on stderr and the receipt on
// stdout. The file is over 1 MiB, so it goes through the progress bar's reader both times.
func TestSubmitSendsTheSameFileAndKeyAgainAfterA429(t *testing.T) {
	var mu sync.Mutex
	type got struct {
		key, ctype, auth string
		body             []byte
	}
	var seen []got
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		seen = append(seen, got{r.Header.Get("Idempotency-Key"), r.Header.Get("Content-Type"), r.Header.Get("Authorization"), b})
		n := len(seen)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if n == 1 {
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusTooManyRequests)
			io.WriteString(w, `{"error":"quá nhiều yêu cầu / too many requests"}`)
			return
		}
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, `{"batch":"b1","format":"csv","agency":"P20","period":"2026-Q3","created":1,"unchanged":0,"no_data":0,`+
			`"revisions":[{"indicator":"dossiers_fully_online","agency":"P20","period":"2026-Q3","revision":1,"new":true}]}`)
	}))
	defer srv.Close()

	var csv bytes.Buffer
	csv.WriteString("agency,period,indicator,value,numerator,denominator\n")
	for csv.Len() < 2<<20 {
		csv.WriteString("P20,2026-Q3,dossiers_fully_online,,40,100\n")
	}
	file := filepath.Join(t.TempDir(), "p20.csv")
	if err := os.WriteFile(file, csv.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr strings.Builder
	e := &env{stdout: &stdout, stderr: &stderr, getenv: func(k string) string {
		return map[string]string{"GOC_TOKEN": "t0k"}[k]
	}}
	if code := run(context.Background(), e, []string{"submit", file, "--server", srv.URL, "--idempotency-key", "k-42"}); code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr.String())
	}
	if len(seen) != 2 {
		t.Fatalf("%d requests, want 2", len(seen))
	}
	for i, g := range seen {
		if g.key != "k-42" || g.ctype != "text/csv" || g.auth != "Bearer t0k" || !bytes.Equal(g.body, csv.Bytes()) {
			t.Errorf("request %d: key %q, type %q, auth %q, %d of %d bytes", i+1, g.key, g.ctype, g.auth, len(g.body), csv.Len())
		}
	}
	if !strings.Contains(stderr.String(), "retrying (attempt 2)") || !strings.Contains(stderr.String(), "429") {
		t.Errorf("stderr does not tell of the retry: %q", stderr.String())
	}
	if !strings.Contains(stdout.String(), "đã lưu / stored") || !strings.Contains(stdout.String(), "lô / batch b1") {
		t.Errorf("stdout %q", stdout.String())
	}
}
