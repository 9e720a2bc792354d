package contract_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/g-oc/goc/api/contract"
)

// spy records what Check reports instead of failing the test, so a test can assert that
// a broken answer is caught.
type spy struct {
	testing.TB
	mu   sync.Mutex
	errs []string
}

func (s *spy) Errorf(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.errs = append(s.errs, fmt.Sprintf(format, args...))
}

func (s *spy) reported() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.errs
}

func TestTheServedDescriptionIsOpenAPI31AndLoads(t *testing.T) {
	doc, err := contract.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi: %q, want 3.1.0", doc.OpenAPI)
	}
	if doc.Paths.Find("/api/v1/submissions") == nil || doc.Paths.Find("/api/v1/observations") == nil {
		t.Error("the description lacks the submission or observation routes")
	}
}

// Each case is a handler that drifted from the description in one way a client would
// notice; Check must report every one, and stay quiet on the faithful answer.
func TestCheckReportsAnAnswerThatDriftedFromTheDescription(t *testing.T) {
	cases := []struct {
		name, method, path string
		header             map[string]string
		status             int
		body               string
		want               string // in the report; "" for none
		// encoding: "gzip" sends the body gzipped with Vary: Accept-Encoding, "gzip
		// without vary" without it, "gzip header only" the plain body under the header.
		encoding string
	}{
		{"faithful indicator list", "GET", "/api/v1/indicators", nil, 200, `{"indicators":[]}`, "", ""},
		{"field renamed", "GET", "/api/v1/indicators", nil, 200, `{"items":[]}`, `"indicators"`, ""},
		{"wrong type", "GET", "/api/v1/agencies/P20", nil, 200, `{"agency":{"code":"P20","name_vi":"a","name_en":"a","kind":"province"},"children":"P20-D01"}`, "children", ""},
		{"undocumented status", "GET", "/api/v1/indicators", nil, 418, `{"error":"teapot"}`, "status is not supported", ""},
		{"error without its message", "GET", "/api/v1/indicators/x", nil, 404, `{"message":"no"}`, `"error"`, ""},
		{"429 without Retry-After", "POST", "/api/v1/submissions", map[string]string{"Authorization": "Bearer x", "Content-Type": "application/json"}, 429, `{"error":"slow down"}`, "Retry-After", ""},
		{"bad request accepted", "GET", "/api/v1/observations?limit=0", nil, 200, `{"observations":[],"count":0,"limit":1000}`, "breaks the description", ""},
		{"405 without Allow", "PUT", "/api/v1/indicators", nil, 405, `{"error":"no"}`, "Allow", ""},
		{"unknown path answered 200", "GET", "/api/v1/nothing", nil, 200, `{}`, "404", ""},
		{"faithful gzipped indicator list", "GET", "/api/v1/indicators", nil, 200, `{"indicators":[]}`, "", "gzip"},
		{"gzipped answer with a field renamed", "GET", "/api/v1/indicators", nil, 200, `{"items":[]}`, `"indicators"`, "gzip"},
		{"gzipped answer without Vary", "GET", "/api/v1/indicators", nil, 200, `{"indicators":[]}`, "Vary: Accept-Encoding", "gzip without vary"},
		{"plain body said to be gzip", "GET", "/api/v1/indicators", nil, 200, `{"indicators":[]}`, "not gzip", "gzip header only"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := &spy{TB: t}
			h := contract.Check(s, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json; charset=utf-8")
				body := []byte(c.body)
				if c.encoding != "" {
					w.Header().Set("Content-Encoding", "gzip")
					if c.encoding != "gzip without vary" {
						w.Header().Set("Vary", "Accept-Encoding")
					}
					if c.encoding != "gzip header only" {
						var buf bytes.Buffer
						zw := gzip.NewWriter(&buf)
						_, _ = zw.Write(body)
						_ = zw.Close()
						body = buf.Bytes()
					}
				}
				w.WriteHeader(c.status)
				_, _ = w.Write(body)
			}))
			req := httptest.NewRequest(c.method, c.path, strings.NewReader(`{"values":[]}`))
			for k, v := range c.header {
				req.Header.Set(k, v)
			}
			h.ServeHTTP(httptest.NewRecorder(), req)
			got := strings.Join(s.reported(), "\n")
			switch {
			case c.want == "" && got != "":
				t.Errorf("a faithful answer was reported: %s", got)
			case c.want != "" && !strings.Contains(got, c.want):
				t.Errorf("report %q does not mention %q", got, c.want)
			}
		})
	}
}
