package feed

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// parsePrometheus reads the Prometheus text exposition with prometheus/common/expfmt.
// Each sample is one part of a value: the metric name is the indicator code (after
// the prefix f.Records, when set; families without it are ignored, so a whole
// /metrics page can be pulled), with a _numerator or _denominator suffix for those
// parts; the agency and period are labels (named by f.Fields). A label named by
// f.Fields.Indicator, when present, names the indicator instead of the metric name.
func parsePrometheus(f *Feed, data []byte) ([]Row, []Problem) {
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(bytes.NewReader(data))
	if err != nil {
		var pe expfmt.ParseError
		if errors.As(err, &pe) {
			return nil, []Problem{{Where: fmt.Sprintf("line %d", pe.Line), Reason: "exposition không hợp lệ / invalid exposition: " + pe.Msg}}
		}
		return nil, []Problem{{Reason: "exposition không hợp lệ / invalid exposition: " + err.Error()}}
	}
	fields := f.Fields.withDefaults()
	type key struct{ indicator, agency, period string }
	byKey := map[key]*Row{}
	var order []key
	var probs []Problem
	names := make([]string, 0, len(families))
	for n := range families {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, name := range names {
		if f.Records != "" && !strings.HasPrefix(name, f.Records) {
			continue
		}
		code, part := strings.TrimPrefix(name, f.Records), "value"
		for _, suffix := range []string{"numerator", "denominator"} {
			if c, ok := strings.CutSuffix(code, "_"+suffix); ok {
				code, part = c, suffix
			}
		}
		for _, m := range families[name].GetMetric() {
			labels := map[string]string{}
			for _, lp := range m.GetLabel() {
				labels[lp.GetName()] = lp.GetValue()
			}
			where := sampleName(name, m.GetLabel())
			v, ok := sampleValue(families[name].GetType(), m)
			if !ok {
				probs = append(probs, Problem{Where: where, Reason: "chỉ nhận gauge, counter hoặc untyped / only gauge, counter or untyped samples carry a figure"})
				continue
			}
			if math.IsNaN(v) || math.IsInf(v, 0) {
				probs = append(probs, Problem{Where: where, Reason: fmt.Sprintf("giá trị không hữu hạn / not a finite number: %v", v)})
				continue
			}
			k := key{code, labels[fields.Agency], labels[fields.Period]}
			if l, ok := labels[fields.Indicator]; ok {
				k.indicator = l
			}
			r := byKey[k]
			if r == nil {
				r = &Row{At: where, Where: map[string]string{}, Indicator: k.indicator, Agency: k.agency, Period: k.period}
				byKey[k] = r
				order = append(order, k)
				for _, p := range []string{"indicator", "agency", "period"} {
					r.Where[p] = where
				}
			}
			dst := map[string]**float64{"value": &r.Value, "numerator": &r.Numerator, "denominator": &r.Denominator}[part]
			if *dst != nil {
				probs = append(probs, Problem{Where: where, Reason: "trùng mẫu (cùng chỉ tiêu, đơn vị, kỳ) / duplicate sample for the same indicator, agency and period"})
				continue
			}
			*dst = &v
			r.Where[part] = where
		}
	}
	rows := make([]Row, 0, len(order))
	for _, k := range order {
		rows = append(rows, *byKey[k])
	}
	return rows, probs
}

func sampleValue(t dto.MetricType, m *dto.Metric) (float64, bool) {
	switch t {
	case dto.MetricType_GAUGE:
		return m.GetGauge().GetValue(), true
	case dto.MetricType_COUNTER:
		return m.GetCounter().GetValue(), true
	case dto.MetricType_UNTYPED:
		return m.GetUntyped().GetValue(), true
	}
	return 0, false
}

// sampleName writes a sample as the exposition does: name{a="x",b="y"}.
func sampleName(name string, labels []*dto.LabelPair) string {
	if len(labels) == 0 {
		return name
	}
	parts := make([]string, len(labels))
	for i, lp := range labels {
		parts[i] = fmt.Sprintf("%s=%q", lp.GetName(), lp.GetValue())
	}
	return name + "{" + strings.Join(parts, ",") + "}"
}
