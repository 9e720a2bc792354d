// Package contract checks an HTTP handler against G-OC's OpenAPI description: tests
// wrap the API's handler with Check, and every request they make and every response
// they get is validated, so a change that breaks the published contract fails the
// tests that exercise it, not a client in production.
package contract

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	spec "github.com/g-oc/goc/api"
)

// maxCheckedBody is the most of a request body kept for validation; a larger body
// (the hostile-load tests send megabytes) is still served whole but its content is
// not checked.
const maxCheckedBody = 1 << 20

// Load parses and validates the served description, as a client's tool would.
func Load(ctx context.Context) (*openapi3.T, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(spec.OpenAPI())
	if err != nil {
		return nil, fmt.Errorf("load api/openapi.yaml: %w", err)
	}
	if err := doc.Validate(ctx); err != nil {
		return nil, fmt.Errorf("validate api/openapi.yaml: %w", err)
	}
	return doc, nil
}

// Checker validates exchanges against a loaded description.
type Checker struct {
	doc    *openapi3.T
	router routers.Router
}

// New loads the description and builds its router.
func New(ctx context.Context) (*Checker, error) {
	doc, err := Load(ctx)
	if err != nil {
		return nil, err
	}
	r, err := legacy.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("route api/openapi.yaml: %w", err)
	}
	return &Checker{doc: doc, router: r}, nil
}

// Check wraps h: each request is served by h, then the request and the response are
// validated and every mismatch is reported with t.Errorf. A request the description
// does not allow (a missing required parameter, a bad value, no token where one is
// required) must be refused by the server with a 4xx that the description lists.
func Check(t testing.TB, h http.Handler) http.Handler {
	t.Helper()
	c, err := New(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body bytes.Buffer
		if r.Body != nil {
			r.Body = teeBody{ReadCloser: r.Body, into: &body}
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		res := rec.Result()
		for k, v := range res.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(res.StatusCode)
		_, _ = w.Write(rec.Body.Bytes())
		if err := c.Exchange(r, body.Bytes(), int64(body.Len()) < maxCheckedBody, res.StatusCode, res.Header, rec.Body.Bytes()); err != nil {
			t.Errorf("contract api/openapi.yaml: %s %s → %d: %v", r.Method, r.URL.RequestURI(), res.StatusCode, err)
		}
	})
}

// teeBody keeps up to maxCheckedBody of what the handler reads of a request body.
type teeBody struct {
	io.ReadCloser
	into *bytes.Buffer
}

func (b teeBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if room := maxCheckedBody - b.into.Len(); room > 0 {
		b.into.Write(p[:min(n, room)])
	}
	return n, err
}

// maxDecodedBody bounds what a gzipped response may expand to when it is checked.
const maxDecodedBody = 256 << 20

// decoded gives the response body as the description describes it: a body sent with
// Content-Encoding: gzip is decompressed (as a client's HTTP library does) and must say
// Vary: Accept-Encoding, since the same URL answers plain to a client that does not
// accept gzip. Any other coding is not one the server sends.
func decoded(header http.Header, body []byte) ([]byte, error) {
	switch ce := strings.ToLower(strings.TrimSpace(header.Get("Content-Encoding"))); ce {
	case "", "identity":
		return body, nil
	case "gzip":
		vary := false
		for _, v := range header.Values("Vary") {
			for _, f := range strings.Split(v, ",") {
				f = strings.TrimSpace(f)
				vary = vary || strings.EqualFold(f, "Accept-Encoding") || f == "*"
			}
		}
		if !vary {
			return nil, errors.New("a gzipped response without Vary: Accept-Encoding would be given by a shared cache to clients that cannot read it")
		}
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			return nil, fmt.Errorf("Content-Encoding: gzip, but the body is not gzip: %w", err)
		}
		out, err := io.ReadAll(io.LimitReader(zr, maxDecodedBody+1))
		if err != nil {
			return nil, fmt.Errorf("Content-Encoding: gzip, but the body does not decompress: %w", err)
		}
		if len(out) > maxDecodedBody {
			return nil, fmt.Errorf("gzipped body expands past %d bytes", maxDecodedBody)
		}
		return out, nil
	default:
		return nil, fmt.Errorf("Content-Encoding %q is not one the server sends", ce)
	}
}

// Exchange validates one request (with the body the server read, when whole) and the
// response the server gave, decompressing a gzipped body first.
func (c *Checker) Exchange(r *http.Request, reqBody []byte, bodyWhole bool, status int, header http.Header, respBody []byte) error {
	ctx := context.Background()
	respBody, err := decoded(header, respBody)
	if err != nil {
		return fmt.Errorf("response: %w", err)
	}
	req := r.Clone(ctx)
	req.Body = io.NopCloser(bytes.NewReader(reqBody))
	if req.Method == http.MethodHead {
		req.Method = http.MethodGet
	}
	route, pathParams, err := c.router.FindRoute(req)
	var reason string
	if re := (*routers.RouteError)(nil); errors.As(err, &re) {
		reason = re.Reason
	}
	if reason == routers.ErrPathNotFound.Error() && c.hasPath(req) {
		// The legacy router says "not found" for a templated path asked with a method
		// it lacks; the path is there, so this is a wrong method.
		reason = routers.ErrMethodNotAllowed.Error()
	}
	switch {
	case reason == routers.ErrMethodNotAllowed.Error():
		if status != http.StatusMethodNotAllowed {
			return fmt.Errorf("method %s is not in the description for this path, so it must answer 405, not %d", r.Method, status)
		}
		return c.component("MethodNotAllowed", header, respBody)
	case reason == routers.ErrPathNotFound.Error():
		if status != http.StatusNotFound {
			return fmt.Errorf("the path is not in the description, so it must answer 404, not %d", status)
		}
		return c.component("NotFound", header, respBody)
	case err != nil:
		return fmt.Errorf("find route: %w", err)
	}
	opts := &openapi3filter.Options{
		MultiError:          true,
		SkipSettingDefaults: true,
		AuthenticationFunc:  bearerPresent,
		// Only JSON bodies have a schema to check; a workbook or CSV is checked by intake.
		ExcludeRequestBody:    !bodyWhole || !isJSON(req.Header.Get("Content-Type")),
		IncludeResponseStatus: true,
	}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: pathParams, Route: route, Options: opts}
	reqErr := openapi3filter.ValidateRequest(ctx, in)
	// A server may refuse for load (429, 503) before it looks at a request; what it must
	// never do is accept one the description forbids.
	if reqErr != nil && status < 400 {
		return fmt.Errorf("the request breaks the description (%v), yet the server answered %d", reqErr, status)
	}
	ct := header.Get("Content-Type")
	ropts := *opts
	ropts.ExcludeResponseBody = !isJSON(ct)
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in, Status: status, Header: header,
		Body: io.NopCloser(bytes.NewReader(respBody)), Options: &ropts,
	}
	if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
		return fmt.Errorf("response: %w", err)
	}
	if ropts.ExcludeResponseBody {
		// The body is a file; its media type must still be one the description lists.
		if resp := route.Operation.Responses.Status(status); resp != nil && resp.Value != nil && len(resp.Value.Content) > 0 && resp.Value.Content.Get(ct) == nil {
			return fmt.Errorf("response: content type %q is not listed for %d", ct, status)
		}
	}
	return nil
}

// hasPath reports whether some method of the description routes r's path.
func (c *Checker) hasPath(r *http.Request) bool {
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		probe := r.Clone(context.Background())
		probe.Method = m
		if _, _, err := c.router.FindRoute(probe); err == nil {
			return true
		}
	}
	return false
}

// component validates an answer outside any operation (an unknown path or method)
// against a response of components.responses.
func (c *Checker) component(name string, header http.Header, body []byte) error {
	ref := c.doc.Components.Responses[name]
	if ref == nil || ref.Value == nil {
		return fmt.Errorf("components.responses.%s is missing", name)
	}
	for h, hr := range ref.Value.Headers {
		if hr.Value != nil && hr.Value.Required && header.Get(h) == "" {
			return fmt.Errorf("%s: header %s is required", name, h)
		}
	}
	mt := ref.Value.Content.Get(header.Get("Content-Type"))
	if mt == nil {
		return fmt.Errorf("%s: content type %q is not listed", name, header.Get("Content-Type"))
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return fmt.Errorf("%s: body is not JSON: %w", name, err)
	}
	if err := mt.Schema.Value.VisitJSON(v, openapi3.EnableJSONSchema2020(), openapi3.MultiErrors()); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// bearerPresent accepts a request that carries a bearer token: whether the token is
// good is the server's to say (401), the description only says one is needed.
func bearerPresent(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	if in.SecurityScheme == nil || in.SecurityScheme.Type != "http" {
		return nil
	}
	h := in.RequestValidationInput.Request.Header.Get("Authorization")
	if !strings.HasPrefix(strings.ToLower(h), "bearer ") {
		return errors.New("no bearer token")
	}
	return nil
}

func isJSON(contentType string) bool {
	mt, _, _ := mime.ParseMediaType(contentType)
	return mt == "application/json" || strings.HasSuffix(mt, "+json")
}
