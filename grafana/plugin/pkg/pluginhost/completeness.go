package pluginhost

import (
	"context"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"

	gocapi "github.com/g-oc/goc/api/client"
	"github.com/g-oc/goc/grafana/plugin/pkg/models"
)

// completenessAnswer is what the plugin reads of GET /api/v1/completeness.
type completenessAnswer struct {
	Period        string    `json:"period"`
	Periodicity   string    `json:"periodicity"`
	DueDays       int       `json:"due_days"`
	Deadline      time.Time `json:"deadline"`
	Expected      int       `json:"expected"`
	Received      int       `json:"received"`
	OnTime        int       `json:"on_time"`
	Late          int       `json:"late"`
	Missing       int       `json:"missing"`
	Pending       int       `json:"pending"`
	ReportingRate float64   `json:"reporting_rate"`
	OnTimeRate    float64   `json:"on_time_rate"`
	Agencies      []struct {
		Agency             string     `json:"agency"`
		NameVI             string     `json:"name_vi"`
		Kind               string     `json:"kind"`
		Status             string     `json:"status"`
		ReceivedAt         *time.Time `json:"received_at"`
		IndicatorsExpected int        `json:"indicators_expected"`
		IndicatorsReceived int        `json:"indicators_received"`
		MissingIndicators  []string   `json:"missing_indicators"`
	} `json:"agencies"`
}

// queryCompleteness answers who has reported for a period, as DHIS2 counts it: with view
// "summary" one row of counts and the reporting and on-time rates, otherwise one row per
// agency with its status (on time, late, missing, pending). The period defaults to the
// last quarter that has ended; level and the first agency narrow the list.
func queryCompleteness(ctx context.Context, c *client, q models.Query, tr backend.TimeRange) (data.Frames, error) {
	spec := q.Period
	if spec == "" {
		spec = "quarterly"
	}
	p, err := resolvePeriod(spec, tr, time.Now())
	if err != nil {
		return nil, err
	}
	params := &gocapi.GetCompletenessParams{Period: p}
	if q.Level != "" {
		params.Level = ptr(gocapi.Level(q.Level))
	}
	if len(q.Agencies) > 1 {
		return nil, badQuery("chọn tối đa một đơn vị / choose at most one agency: its units are listed")
	}
	if len(q.Agencies) == 1 {
		params.Within = &q.Agencies[0]
	}
	var ans completenessAnswer
	r, err := c.api.GetCompletenessWithResponse(ctx, params)
	if err != nil {
		return nil, err
	}
	called, err := decode(r.HTTPResponse, r.Body, &ans)
	if err != nil {
		return nil, err
	}
	meta := &data.FrameMeta{ExecutedQueryString: "GET " + called}
	if q.View == models.ViewSummary {
		count := func(name, display string, v int) *data.Field {
			return data.NewField(name, nil, []int64{int64(v)}).SetConfig(&data.FieldConfig{DisplayNameFromDS: display})
		}
		rate := func(name, display string, v float64) *data.Field {
			return data.NewField(name, nil, []float64{v}).SetConfig(&data.FieldConfig{DisplayNameFromDS: display, Unit: "percentunit",
				Decimals: decimals(1), Min: confPtr(0), Max: confPtr(1)})
		}
		f := data.NewFrame("completeness summary "+ans.Period,
			data.NewField("period", nil, []string{ans.Period}).SetConfig(&data.FieldConfig{DisplayNameFromDS: "Kỳ / period"}),
			count("expected", "Phải nộp / expected", ans.Expected),
			count("received", "Đã nộp / received", ans.Received),
			count("on_time", "Đúng hạn / on time", ans.OnTime),
			count("late", models.DisplayLate, ans.Late),
			count("missing", models.DisplayMissing, ans.Missing),
			count("pending", "Chưa đến hạn / pending", ans.Pending),
			rate("reporting_rate", models.DisplayReportingRate, ans.ReportingRate),
			rate("on_time_rate", models.DisplayOnTimeRate, ans.OnTimeRate),
		)
		f.Meta = meta
		return data.Frames{f}, nil
	}
	var (
		agency, name, kind, status, missing []string
		received                            []*time.Time
		expected, got                       []int64
		share                               []float64
	)
	for _, a := range ans.Agencies {
		agency = append(agency, a.Agency)
		name = append(name, a.NameVI)
		kind = append(kind, a.Kind)
		status = append(status, a.Status)
		received = append(received, a.ReceivedAt)
		expected = append(expected, int64(a.IndicatorsExpected))
		got = append(got, int64(a.IndicatorsReceived))
		s := 0.0
		if a.IndicatorsExpected > 0 {
			s = float64(a.IndicatorsReceived) / float64(a.IndicatorsExpected)
		}
		share = append(share, s)
		missing = append(missing, joinCodes(a.MissingIndicators))
	}
	named := func(f *data.Field, display string) *data.Field {
		return f.SetConfig(&data.FieldConfig{DisplayNameFromDS: display})
	}
	f := data.NewFrame("completeness "+ans.Period,
		named(data.NewField("agency", nil, agency), models.DisplayAgencyCode),
		named(data.NewField("agency_name", nil, name), "Đơn vị / agency name"),
		named(data.NewField("kind", nil, kind), "Loại / kind"),
		data.NewField("status", nil, status).SetConfig(&data.FieldConfig{DisplayNameFromDS: "Tình trạng nộp / status",
			Mappings: data.ValueMappings{data.ValueMapper{
				"on_time": {Text: "Đúng hạn / on time", Color: "green"},
				"late":    {Text: "Trễ hạn / late", Color: "orange"},
				"missing": {Text: "Chưa nộp / missing", Color: "red"},
				"pending": {Text: "Chưa đến hạn / pending", Color: "blue"},
			}},
			Custom: map[string]any{"cellOptions": map[string]any{"type": "color-background"}}}),
		named(data.NewField("received_at", nil, received), "Nộp lúc / received at"),
		named(data.NewField("indicators_expected", nil, expected), "Chỉ tiêu phải nộp / indicators expected"),
		named(data.NewField("indicators_received", nil, got), "Chỉ tiêu đã nộp / indicators received"),
		data.NewField("indicators_share", nil, share).SetConfig(&data.FieldConfig{DisplayNameFromDS: "Tỷ lệ chỉ tiêu / share of indicators",
			Unit: "percentunit", Decimals: decimals(0), Min: confPtr(0), Max: confPtr(1),
			Custom: map[string]any{"cellOptions": map[string]any{"type": "gauge", "mode": "basic"}}}),
		named(data.NewField("missing_indicators", nil, missing), "Chỉ tiêu còn thiếu / missing indicators"),
	)
	meta.PreferredVisualization = data.VisTypeTable
	meta.Notices = []data.Notice{{Severity: data.NoticeSeverityInfo, Text: "Kỳ " + ans.Period + ", hạn nộp " +
		ans.Deadline.Format("2006-01-02") + " / period " + ans.Period + ", due " + ans.Deadline.Format("2006-01-02")}}
	f.Meta = meta
	return data.Frames{f}, nil
}

func joinCodes(codes []string) string {
	out := ""
	for i, c := range codes {
		if i > 0 {
			out += ", "
		}
		out += c
	}
	return out
}
