package intake

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// ReadPrometheus reads the Prometheus text exposition with prometheus/common/expfmt,
// for a feed. Each sample is one part of a value: the metric name is the indicator code
// (after the prefix layout.Records, when set; families without it are ignored, so a
// whole /metrics page can be pulled), with a _numerator or _denominator suffix for those
// parts; the agency and period are labels (named by layout.Fields). A label named by
// layout.Fields.Indicator, when present, names the indicator instead of the metric
// name. Places are samples as the exposition writes them: name{label="value"}.
func ReadPrometheus(body []byte, layout *Layout, h Handler) error {
	if layout == nil {
		layout = &Layout{}
	}
	order := map[string]int{} // sample key → ordinal
	var rows []*Row
	hdr := Header{Format: Prometheus, RowPlace: func(i int) Place {
		if i >= 0 && i < len(rows) {
			return rows[i].Place
		}
		return Place{Path: "#" + strconv.Itoa(i)}
	}}
	if err := h.Header(hdr); err != nil {
		return err
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		var pe expfmt.ParseError
		if errors.As(err, &pe) {
			h.Problem(Problem{Place: Place{Line: pe.Line}, Rule: ruleOf(msgPromSyntaxAt), Reason: compose(msgPromSyntaxAt, pe.Line, pe.Msg), row: -1})
			return nil
		}
		h.Problem(Problem{Place: Place{Path: "$"}, Rule: ruleOf(msgPromSyntax), Reason: compose(msgPromSyntax, err), row: -1})
		return nil
	}
	fields := layout.Fields.WithDefaults()
	names := make([]string, 0, len(families))
	for n := range families {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, name := range names {
		if layout.Records != "" && !strings.HasPrefix(name, layout.Records) {
			continue
		}
		code, part := strings.TrimPrefix(name, layout.Records), ColValue
		for _, suffix := range []string{ColNumerator, ColDenominator} {
			if c, ok := strings.CutSuffix(code, "_"+suffix); ok {
				code, part = c, suffix
			}
		}
		for _, m := range families[name].GetMetric() {
			labels := map[string]string{}
			for _, lp := range m.GetLabel() {
				labels[lp.GetName()] = lp.GetValue()
			}
			at := Place{Path: sampleName(name, m.GetLabel())}
			v, ok := sampleValue(families[name].GetType(), m)
			if !ok {
				h.Problem(Problem{Place: at, Rule: ruleOf(msgPromType), Reason: compose(msgPromType), row: len(rows)})
				continue
			}
			if math.IsNaN(v) || math.IsInf(v, 0) {
				h.Problem(Problem{Place: at, Rule: ruleOf(msgPromNotFinite), Reason: compose(msgPromNotFinite, strconv.FormatFloat(v, 'g', -1, 64)), row: len(rows)})
				continue
			}
			indicator := code
			if l, ok := labels[fields.Indicator]; ok {
				indicator = l
			}
			key := indicator + "\x00" + labels[fields.Agency] + "\x00" + labels[fields.Period]
			i, seen := order[key]
			if !seen {
				i = len(rows)
				order[key] = i
				text := func(s string, present bool) Field {
					return Field{Place: at, Set: present && s != "", Text: s}
				}
				ag, hasAg := labels[fields.Agency]
				pe, hasPe := labels[fields.Period]
				r := &Row{Place: at, Ordinal: i, Indicator: text(indicator, true), Agency: text(ag, hasAg), Period: text(pe, hasPe),
					Value: Field{Place: at}, Numerator: Field{Place: at}, Denominator: Field{Place: at}}
				layout.applyDefaults(r)
				rows = append(rows, r)
			}
			r := rows[i]
			dst := map[string]*Field{ColValue: &r.Value, ColNumerator: &r.Numerator, ColDenominator: &r.Denominator}[part]
			if dst.Set {
				h.Problem(Problem{Place: at, Rule: ruleOf(msgPromDuplicate), Reason: compose(msgPromDuplicate), row: i})
				continue
			}
			*dst = Field{Place: at, Set: true, Text: strconv.FormatFloat(v, 'g', -1, 64)}
		}
	}
	for _, r := range rows {
		if err := h.Row(*r); err != nil {
			return err
		}
	}
	return nil
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

// sampleName writes a sample as the exposition does, name{a="x",b="y"}, each part cut
// to an excerpt.
func sampleName(name string, labels []*dto.LabelPair) string {
	if len(labels) == 0 {
		return Excerpt(name)
	}
	parts := make([]string, len(labels))
	for i, lp := range labels {
		parts[i] = fmt.Sprintf("%s=%q", Excerpt(lp.GetName()), Excerpt(lp.GetValue()))
	}
	return Excerpt(name) + "{" + strings.Join(parts, ",") + "}"
}
