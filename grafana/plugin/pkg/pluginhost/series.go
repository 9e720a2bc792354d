package pluginhost

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"

	gocapi "github.com/g-oc/goc/api/client"
	"github.com/g-oc/goc/grafana/plugin/pkg/models"
	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/indicators/period"
)

// seriesAnswer is GET /api/v1/series.
type seriesAnswer struct {
	Indicator string             `json:"indicator"`
	Agency    string             `json:"agency"`
	Level     indicators.Level   `json:"level"`
	Values    []indicators.Value `json:"values"`
}

// querySeries answers an indicator series: one frame per agency (the country when none
// is chosen), each a time field at the start of every period, the value, and one field
// per target year holding that year's target, so a time-series panel draws the target
// lines and a gauge can use the same targets as thresholds.
func querySeries(ctx context.Context, c *client, q models.Query, tr backend.TimeRange) (data.Frames, error) {
	if q.Indicator == "" {
		return nil, badQuery("chưa chọn chỉ tiêu / choose an indicator for the series")
	}
	ind, err := c.indicator(ctx, q.Indicator)
	if err != nil {
		return nil, err
	}
	var level indicators.Level
	if q.Level != "" {
		if level, err = indicators.ParseLevel(q.Level); err != nil {
			return nil, badQuery("cấp không hợp lệ / %v", err)
		}
	}
	agencies, err := c.agencyIndex(ctx)
	if err != nil {
		return nil, err
	}
	codes := q.Agencies
	if len(codes) == 0 {
		codes = []string{rootOf(agencies)}
	}
	var frames data.Frames
	for _, code := range codes {
		a, ok := agencies[code]
		if !ok {
			return nil, badQuery("đơn vị %q không có trong danh mục của G-OC / agency %q is not in G-OC's registry", code, code)
		}
		params := &gocapi.GetSeriesParams{Indicator: ind.Code, Agency: &code}
		if level != "" {
			params.Level = ptr(gocapi.Level(level))
		}
		var ans seriesAnswer
		r, err := c.api.GetSeriesWithResponse(ctx, params)
		if err != nil {
			return nil, err
		}
		called, err := decode(r.HTTPResponse, r.Body, &ans)
		if err != nil {
			return nil, err
		}
		judged := level
		if judged == "" {
			judged = a.Level()
		}
		f := seriesFrame(ind, a, judged, ans.Values, tr, !q.HideTargets)
		f.Meta = &data.FrameMeta{ExecutedQueryString: "GET " + called, PreferredVisualization: data.VisTypeGraph}
		frames = append(frames, f)
	}
	return frames, nil
}

func seriesFrame(ind *indicators.Indicator, a *indicators.Agency, level indicators.Level, values []indicators.Value, tr backend.TimeRange, withTargets bool) *data.Frame {
	var times []time.Time
	var vals []float64
	for _, v := range values {
		if !overlaps(v.Period, tr) {
			continue
		}
		times = append(times, v.Period.Start(nil))
		vals = append(vals, v.Value)
	}
	name := a.NameVI
	if level != a.Level() {
		name = fmt.Sprintf("%s — cấp %s / %s level", a.NameVI, levelVI(level), level)
	}
	cfg := &data.FieldConfig{
		DisplayNameFromDS: name,
		Description:       ind.NameVI + " / " + ind.NameEN,
		Unit:              models.GrafanaUnit(ind.Unit),
		Thresholds:        thresholdsConfig(models.Thresholds(ind, level)),
	}
	if ind.Bounds.Min != nil {
		cfg.Min = confPtr(*ind.Bounds.Min)
	}
	if ind.Bounds.Max != nil && ind.Unit == indicators.Percent {
		cfg.Max = confPtr(*ind.Bounds.Max)
	}
	labels := data.Labels{"indicator": ind.Code, "agency": a.Code, "level": string(level)}
	f := data.NewFrame(ind.Code+" "+a.Code,
		data.NewField("time", nil, times),
		data.NewField("value", labels, vals).SetConfig(cfg),
	)
	if !withTargets {
		return f
	}
	for _, t := range models.TargetsAt(ind, level) {
		col := make([]float64, len(times))
		for i := range col {
			col[i] = t.Value
		}
		f.Fields = append(f.Fields, data.NewField(fmt.Sprintf("target_%d", t.Year), data.Labels{"indicator": ind.Code, "level": string(level)}, col).
			SetConfig(&data.FieldConfig{
				DisplayNameFromDS: fmt.Sprintf("Mục tiêu %d / %d target (%s)", t.Year, t.Year, t.Clause),
				Unit:              models.GrafanaUnit(ind.Unit),
				Custom: map[string]any{
					// A dashed line without points reads as a target, not as data.
					"lineStyle":   map[string]any{"fill": "dash", "dash": []int{10, 10}},
					"fillOpacity": 0,
					"showPoints":  "never",
				},
			}))
	}
	return f
}

// overlaps reports whether a period overlaps the panel's time range; a zero range keeps
// everything.
func overlaps(p period.Period, tr backend.TimeRange) bool {
	if tr.From.IsZero() && tr.To.IsZero() {
		return true
	}
	return p.Start(nil).Before(tr.To) && p.End(nil).After(tr.From)
}

func rootOf(agencies map[string]*indicators.Agency) string {
	for code, a := range agencies {
		if a.Kind == indicators.KindNational {
			return code
		}
	}
	return "VN"
}

func levelVI(l indicators.Level) string {
	switch l {
	case indicators.National:
		return "quốc gia"
	case indicators.Ministry:
		return "bộ"
	case indicators.Province:
		return "tỉnh"
	case indicators.District:
		return "huyện"
	case indicators.Commune:
		return "xã"
	}
	return string(l)
}

func confPtr(v float64) *data.ConfFloat64 {
	c := data.ConfFloat64(v)
	return &c
}

func thresholdsConfig(steps []models.Step) *data.ThresholdsConfig {
	tc := &data.ThresholdsConfig{Mode: data.ThresholdsModeAbsolute}
	for _, s := range steps {
		th := data.Threshold{Color: s.Color, Value: data.ConfFloat64(math.Inf(-1))}
		if s.Value != nil {
			th.Value = data.ConfFloat64(*s.Value)
		}
		tc.Steps = append(tc.Steps, th)
	}
	return tc
}
