package pluginhost

import (
	"context"
	"math"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"

	gocapi "github.com/g-oc/goc/api/client"
	"github.com/g-oc/goc/grafana/plugin/pkg/models"
)

// probesAnswer is what the plugin reads of GET /api/v1/probes.
type probesAnswer struct {
	Next   string `json:"next"`
	Count  int    `json:"count"`
	Up     int    `json:"up"`
	Down   int    `json:"down"`
	Probes []struct {
		Target        string             `json:"target"`
		Agency        string             `json:"agency"`
		Time          time.Time          `json:"time"`
		Success       bool               `json:"success"`
		Error         string             `json:"error"`
		HTTPStatus    int                `json:"http_status"`
		Phases        map[string]float64 `json:"phases"`
		TLSVersion    string             `json:"tls_version"`
		CertExpiry    time.Time          `json:"cert_expiry"`
		CertValid     bool               `json:"cert_valid"`
		HTTPSRedirect bool               `json:"https_redirect"`
		IPv6          bool               `json:"ipv6"`
		DNSSEC        string             `json:"dnssec"`
		Mobile        bool               `json:"mobile_ready"`
	} `json:"probes"`
}

// queryProbes answers the portal probe status: with view "summary" one row of counts
// (portals, up, down, share up); otherwise one row per portal with its last probe's
// outcome, latency, and days until its certificate expires. Agencies keeps the portals
// of one agency and everything below it.
func queryProbes(ctx context.Context, c *client, q models.Query, _ backend.TimeRange) (data.Frames, error) {
	params := &gocapi.ListProbesParams{Limit: ptr(5000)}
	if len(q.Agencies) > 1 {
		return nil, badQuery("chọn tối đa một đơn vị / choose at most one agency for portal probes")
	}
	if len(q.Agencies) == 1 {
		params.Agency = &q.Agencies[0]
	}
	var ans probesAnswer
	r, err := c.api.ListProbesWithResponse(ctx, params)
	if err != nil {
		return nil, err
	}
	called, err := decode(r.HTTPResponse, r.Body, &ans)
	if err != nil {
		return nil, err
	}
	// The API answers in pages; count, up and down already count them all, the list
	// view needs every portal.
	for next := ans.Next; next != "" && q.View != models.ViewSummary; {
		var more probesAnswer
		params.Cursor = &next
		r, err := c.api.ListProbesWithResponse(ctx, params)
		if err != nil {
			return nil, err
		}
		if _, err := decode(r.HTTPResponse, r.Body, &more); err != nil {
			return nil, err
		}
		ans.Probes = append(ans.Probes, more.Probes...)
		next = more.Next
	}
	meta := &data.FrameMeta{ExecutedQueryString: "GET " + called}
	if q.View == models.ViewSummary {
		share := 0.0
		if ans.Count > 0 {
			share = float64(ans.Up) / float64(ans.Count)
		}
		f := data.NewFrame("probes summary",
			data.NewField("portals", nil, []int64{int64(ans.Count)}).SetConfig(&data.FieldConfig{DisplayNameFromDS: models.DisplayPortals}),
			data.NewField("up", nil, []int64{int64(ans.Up)}).SetConfig(&data.FieldConfig{DisplayNameFromDS: models.DisplayUp}),
			data.NewField("down", nil, []int64{int64(ans.Down)}).SetConfig(&data.FieldConfig{DisplayNameFromDS: models.DisplayDown}),
			data.NewField("up_share", nil, []float64{share}).SetConfig(&data.FieldConfig{
				DisplayNameFromDS: models.DisplayUpShare, Unit: "percentunit", Decimals: decimals(1), Min: confPtr(0), Max: confPtr(1)}),
		)
		f.Meta = meta
		return data.Frames{f}, nil
	}
	now := time.Now()
	var (
		target, agencyCode, status, errText, tlsVersion, dnssec []string
		probed                                                  []time.Time
		up, certValid, https, ipv6, mobile                      []bool
		httpStatus                                              []*int64
		total, processing, daysLeft                             []*float64
		expiry                                                  []*time.Time
	)
	for _, p := range ans.Probes {
		target = append(target, p.Target)
		agencyCode = append(agencyCode, p.Agency)
		probed = append(probed, p.Time)
		up = append(up, p.Success)
		if p.Success {
			status = append(status, "up")
		} else {
			status = append(status, "down")
		}
		httpStatus = append(httpStatus, intPtr(p.HTTPStatus, p.HTTPStatus != 0))
		total = append(total, phase(p.Phases, "total"))
		processing = append(processing, phase(p.Phases, "processing"))
		if p.CertExpiry.IsZero() {
			expiry = append(expiry, nil)
			daysLeft = append(daysLeft, nil)
		} else {
			e := p.CertExpiry
			d := e.Sub(now).Hours() / 24
			expiry = append(expiry, &e)
			daysLeft = append(daysLeft, &d)
		}
		tlsVersion = append(tlsVersion, p.TLSVersion)
		certValid = append(certValid, p.CertValid)
		https = append(https, p.HTTPSRedirect)
		ipv6 = append(ipv6, p.IPv6)
		dnssec = append(dnssec, p.DNSSEC)
		mobile = append(mobile, p.Mobile)
		errText = append(errText, p.Error)
	}
	named := func(f *data.Field, display string) *data.Field {
		return f.SetConfig(&data.FieldConfig{DisplayNameFromDS: display})
	}
	upDown := data.ValueMappings{data.ValueMapper{
		"up":   {Text: "Hoạt động / up", Color: "green"},
		"down": {Text: "Lỗi / down", Color: "red"},
	}}
	f := data.NewFrame("probes",
		named(data.NewField("target", nil, target), "Cổng / portal"),
		named(data.NewField("agency", nil, agencyCode), "Đơn vị / agency"),
		data.NewField("status", nil, status).SetConfig(&data.FieldConfig{DisplayNameFromDS: "Trạng thái / status", Mappings: upDown,
			Custom: map[string]any{"cellOptions": map[string]any{"type": "color-background"}}}),
		named(data.NewField("up", nil, up), models.DisplayUp),
		named(data.NewField("http_status", nil, httpStatus), "Mã HTTP / HTTP status"),
		data.NewField("latency", nil, total).SetConfig(&data.FieldConfig{DisplayNameFromDS: "Thời gian phản hồi / latency", Unit: "s", Decimals: decimals(3),
			Thresholds: &data.ThresholdsConfig{Mode: data.ThresholdsModeAbsolute, Steps: []data.Threshold{
				{Value: data.ConfFloat64(math.Inf(-1)), Color: "green"}, {Value: 1, Color: "yellow"}, {Value: 3, Color: "red"}}},
			Custom: map[string]any{"cellOptions": map[string]any{"type": "color-text"}}}),
		data.NewField("processing", nil, processing).SetConfig(&data.FieldConfig{DisplayNameFromDS: "Đến byte đầu tiên / processing (to first byte)", Unit: "s", Decimals: decimals(3)}),
		named(data.NewField("cert_expiry", nil, expiry), "Chứng thư hết hạn / certificate expiry"),
		data.NewField("cert_days_left", nil, daysLeft).SetConfig(&data.FieldConfig{DisplayNameFromDS: "Số ngày còn lại / days left", Unit: "d", Decimals: decimals(0),
			Thresholds: &data.ThresholdsConfig{Mode: data.ThresholdsModeAbsolute, Steps: []data.Threshold{
				{Value: data.ConfFloat64(math.Inf(-1)), Color: "red"}, {Value: 14, Color: "orange"}, {Value: 30, Color: "green"}}},
			Custom: map[string]any{"cellOptions": map[string]any{"type": "color-text"}}}),
		named(data.NewField("cert_valid", nil, certValid), "Chứng thư hợp lệ / certificate valid"),
		named(data.NewField("tls_version", nil, tlsVersion), "TLS"),
		named(data.NewField("https_redirect", nil, https), "Chuyển sang HTTPS / HTTPS redirect"),
		named(data.NewField("ipv6", nil, ipv6), "IPv6"),
		named(data.NewField("dnssec", nil, dnssec), "DNSSEC"),
		named(data.NewField("mobile_ready", nil, mobile), "Thân thiện di động / mobile ready"),
		named(data.NewField("error", nil, errText), "Lỗi / error"),
		named(data.NewField("time", nil, probed), "Lần đo cuối / last probed"),
	)
	meta.PreferredVisualization = data.VisTypeTable
	f.Meta = meta
	return data.Frames{f}, nil
}

func phase(m map[string]float64, name string) *float64 {
	v, ok := m[name]
	if !ok {
		return nil
	}
	return &v
}
