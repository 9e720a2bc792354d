package pluginhost

import (
	"context"
	"net/http"
	"sync"
	"time"

	gocapi "github.com/g-oc/goc/api/client"
	"github.com/g-oc/goc/indicators"
)

// client calls G-OC's HTTP API through the generated client (api/client), which retries
// what a retry can fix and turns refusals into errors with G-OC's own reasons. It is the
// plugin's only way to G-OC: the plugin never opens a store itself.
type client struct {
	api  *gocapi.ClientWithResponses
	http *http.Client

	// The catalogue and registry change only when G-OC restarts with new files, so they
	// are kept for a while rather than fetched for every panel.
	mu       sync.Mutex
	cacheTTL time.Duration
	inds     []*indicators.Indicator
	indsAt   time.Time
	ags      []*indicators.Agency
	agsAt    time.Time
}

// newClient reaches G-OC at base. A panel should not hang: a Retry-After over 10 s is
// shown to the user rather than waited for, and a refused connection is tried again
// after half a second, then a second.
func newClient(base, token string, timeout time.Duration) (*client, error) {
	hc := &http.Client{Timeout: timeout}
	api, err := gocapi.New(base, gocapi.Options{Token: token, HTTP: hc, Retry: gocapi.Retry{
		MaxWait: 10 * time.Second,
		Backoff: func(n int) time.Duration { return time.Duration(n) * 500 * time.Millisecond },
	}})
	if err != nil {
		return nil, err
	}
	return &client{api: api, http: hc, cacheTTL: 5 * time.Minute}, nil
}

// decode reads a generated response into out and returns the URL it called, which the
// frame's metadata shows in Grafana's query inspector.
func decode(hr *http.Response, body []byte, out any) (string, error) {
	if err := gocapi.Decode(hr, body, out); err != nil {
		return "", err
	}
	return hr.Request.URL.String(), nil
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
	r, err := c.api.ListIndicatorsWithResponse(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := decode(r.HTTPResponse, r.Body, &body); err != nil {
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
	limit := 5000
	params := &gocapi.ListAgenciesParams{Limit: &limit}
	for {
		var body struct {
			Agencies []*indicators.Agency `json:"agencies"`
			Next     string               `json:"next"`
		}
		r, err := c.api.ListAgenciesWithResponse(ctx, params)
		if err != nil {
			return nil, err
		}
		if _, err := decode(r.HTTPResponse, r.Body, &body); err != nil {
			return nil, err
		}
		all = append(all, body.Agencies...)
		if body.Next == "" {
			break
		}
		params.Cursor = &body.Next // the API answers in pages
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

func ptr[T any](v T) *T { return &v }
