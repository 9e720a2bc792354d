package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/g-oc/goc/internal/auth"
)

// The signed-in pages do not keep a second copy of the submission and review logic:
// they ask the JSON API in process, as a client would, with the session's principal
// in the request's context (auth.NewContext) instead of a bearer token. So a file
// uploaded on the page is read, checked (internal/intake's one validator), warned about
// and stored exactly as `goc submit` or curl would have it, under the same limits.

// apiAnswer is what the API said.
type apiAnswer struct {
	Status int
	Header http.Header
	Body   []byte
}

// recorder is a minimal in-memory http.ResponseWriter for the in-process call.
type recorder struct {
	h      http.Header
	status int
	body   bytes.Buffer
}

func (w *recorder) Header() http.Header { return w.h }
func (w *recorder) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}
func (w *recorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.body.Write(b)
}

// callAPI runs one API request for p, from the same client address as r (so the
// API's per-address limits count the browser's requests too).
func (s *Server) callAPI(r *http.Request, p auth.Principal, method, target string, body io.Reader, contentType string) (apiAnswer, error) {
	req, err := http.NewRequestWithContext(auth.NewContext(r.Context(), p), method, target, body)
	if err != nil {
		return apiAnswer{}, fmt.Errorf("api request %s %s: %w", method, target, err)
	}
	req.RemoteAddr = r.RemoteAddr
	req.Host = r.Host
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if b, ok := body.(*bytes.Reader); ok {
		req.ContentLength = int64(b.Len())
	}
	rec := &recorder{h: http.Header{}}
	s.api.ServeHTTP(rec, req)
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	return apiAnswer{Status: rec.status, Header: rec.h, Body: rec.body.Bytes()}, nil
}

// getJSON asks the API for a JSON answer and decodes it into v. A 403 or 404 from the
// API becomes the page's own, with the API's bilingual message; anything else that is
// not 200 is an error.
func (s *Server) getJSON(r *http.Request, p auth.Principal, target string, v any) error {
	a, err := s.callAPI(r, p, http.MethodGet, target, nil, "")
	if err != nil {
		return err
	}
	if a.Status != http.StatusOK {
		return apiError(a)
	}
	if err := json.Unmarshal(a.Body, v); err != nil {
		return fmt.Errorf("read api answer %s: %w", target, err)
	}
	return nil
}

// apiError turns an API refusal into the page's error, keeping its message.
func apiError(a apiAnswer) error {
	var e struct {
		Error    string `json:"error"`
		Problems []struct {
			Field  string `json:"field"`
			Reason string `json:"reason"`
		} `json:"problems"`
	}
	_ = json.Unmarshal(a.Body, &e)
	msg := e.Error
	for _, p := range e.Problems {
		msg = strings.TrimSpace(msg + " " + p.Field + ": " + p.Reason)
	}
	vi, en, ok := strings.Cut(msg, " / ")
	if !ok {
		en = vi
	}
	switch a.Status {
	case http.StatusForbidden:
		return &pageError{Status: a.Status, Title: "error.forbidden", VI: vi, EN: en}
	case http.StatusNotFound:
		return &pageError{Status: a.Status, Title: "error.title", VI: vi, EN: en}
	case http.StatusBadRequest, http.StatusUnprocessableEntity:
		return &pageError{Status: a.Status, Title: "error.bad", VI: vi, EN: en}
	case http.StatusTooManyRequests:
		return &pageError{Status: a.Status, Title: "error.toomany", VI: vi, EN: en}
	}
	return fmt.Errorf("api answered %d: %s", a.Status, msg)
}
