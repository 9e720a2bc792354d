package pluginhost

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/g-oc/goc/indicators"
)

// client calls G-OC's HTTP API. It is the plugin's only way to G-OC: the plugin never
// opens a store itself.
type client struct {
	base  string
	token string
	http  *http.Client

	// The catalogue and registry change only when G-OC restarts with new files, so they
	// are kept for a while rather than fetched for every panel.
	mu       sync.Mutex
	cacheTTL time.Duration
	inds     []*indicators.Indicator
	indsAt   time.Time
	ags      []*indicators.Agency
	agsAt    time.Time
}

func newClient(base, token string, timeout time.Duration) *client {
	return &client{base: base, token: token, http: &http.Client{Timeout: timeout}, cacheTTL: 5 * time.Minute}
}

// apiError is an answer from G-OC other than 2xx, with its reasons.
type apiError struct {
	URL      string
	Status   int
	Message  string
	Problems []apiProblem
}

type apiProblem struct {
	Field  string `json:"field"`
	Reason string `json:"reason"`
}

func (e *apiError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "G-OC trả lời %d / G-OC answered %d", e.Status, e.Status)
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	for _, p := range e.Problems {
		fmt.Fprintf(&b, "; %s: %s", p.Field, p.Reason)
	}
	fmt.Fprintf(&b, " (%s)", e.URL)
	return b.String()
}

// reachError is a G-OC that cannot be reached at all.
type reachError struct {
	URL string
	Err error
}

func (e *reachError) Error() string {
	return fmt.Sprintf("không kết nối được G-OC / cannot reach G-OC at %s: %v", e.URL, e.Err)
}

func (e *reachError) Unwrap() error { return e.Err }

// get calls GET path?params and decodes the JSON answer into out. It returns the URL it
// called, which the frame's metadata shows in Grafana's query inspector.
func (c *client) get(ctx context.Context, path string, params url.Values, out any) (string, error) {
	u := c.base + path
	if len(params) > 0 {
		u += "?" + params.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return u, fmt.Errorf("request %s: %w", u, err)
	}
	req.Header.Set("Accept", "application/json")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return u, &reachError{URL: u, Err: fmt.Errorf("hết thời gian chờ / timed out: %w", err)}
		}
		return u, &reachError{URL: u, Err: err}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return u, &reachError{URL: u, Err: fmt.Errorf("read answer: %w", err)}
	}
	if resp.StatusCode/100 != 2 {
		e := &apiError{URL: u, Status: resp.StatusCode}
		var eb struct {
			Error    string       `json:"error"`
			Problems []apiProblem `json:"problems"`
		}
		if json.Unmarshal(body, &eb) == nil {
			e.Message, e.Problems = eb.Error, eb.Problems
		} else {
			e.Message = strings.TrimSpace(string(body[:min(len(body), 200)]))
		}
		return u, e
	}
	if out != nil {
		if err := json.Unmarshal(body, out); err != nil {
			return u, fmt.Errorf("câu trả lời của G-OC không đọc được / cannot read G-OC's answer from %s: %w", u, err)
		}
	}
	return u, nil
}

// indicators is the catalogue G-OC serves, in its order.
func (c *client) indicators(ctx context.Context) ([]*indicators.Indicator, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.inds != nil && time.Since(c.indsAt) < c.cacheTTL {
		return c.inds, nil
	}
	var body struct {
		Indicators []*indicators.Indicator `json:"indicators"`
	}
	if _, err := c.get(ctx, "/api/v1/indicators", nil, &body); err != nil {
		return nil, err
	}
	c.inds, c.indsAt = body.Indicators, time.Now()
	return c.inds, nil
}

// indicator finds one indicator in the catalogue, or says it is unknown.
func (c *client) indicator(ctx context.Context, code string) (*indicators.Indicator, error) {
	all, err := c.indicators(ctx)
	if err != nil {
		return nil, err
	}
	for _, ind := range all {
		if ind.Code == code {
			return ind, nil
		}
	}
	return nil, badQuery("chỉ tiêu %q không có trong danh mục của G-OC / indicator %q is not in G-OC's catalogue", code, code)
}

// agencies is the whole registry G-OC serves, including units that no longer exist.
func (c *client) agencies(ctx context.Context) ([]*indicators.Agency, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ags != nil && time.Since(c.agsAt) < c.cacheTTL {
		return c.ags, nil
	}
	var all []*indicators.Agency
	params := url.Values{"limit": {"5000"}}
	for {
		var body struct {
			Agencies []*indicators.Agency `json:"agencies"`
			Next     string               `json:"next"`
		}
		if _, err := c.get(ctx, "/api/v1/agencies", params, &body); err != nil {
			return nil, err
		}
		all = append(all, body.Agencies...)
		if body.Next == "" {
			break
		}
		params.Set("cursor", body.Next) // the API answers in pages
	}
	c.ags, c.agsAt = all, time.Now()
	return c.ags, nil
}

// agencyIndex maps codes to agencies.
func (c *client) agencyIndex(ctx context.Context) (map[string]*indicators.Agency, error) {
	all, err := c.agencies(ctx)
	if err != nil {
		return nil, err
	}
	m := make(map[string]*indicators.Agency, len(all))
	for _, a := range all {
		m[a.Code] = a
	}
	return m, nil
}
