package intake

import (
	"bytes"
	"strings"
	"testing"

	"github.com/g-oc/goc/indicators"
)

// The readers face files from anyone with a token. The fuzzers check that whatever the
// bytes, a reader never panics, every problem names a place and a reason in both
// languages, and every accepted row is a valid observation.

func fuzzCheck(t *testing.T, read func(Handler) error) {
	var obs []indicators.Observation
	r := rules("VN")
	r.Emit = func(o indicators.Observation, _ Place) { obs = append(obs, o) }
	v := NewValidator(r)
	err := read(v)
	res := v.Finish()
	if err != nil {
		if _, ok := err.(*FileError); ok {
			return
		}
		if _, ok := err.(*ForbiddenError); ok {
			return
		}
		t.Fatalf("unexpected error type %T: %v", err, err)
	}
	for _, p := range res.Problems {
		if p.Rule == "" || !strings.Contains(p.Reason, " / ") {
			t.Fatalf("problem without a rule or a bilingual reason: %+v", p)
		}
		if p.Place.String() == "" && p.Rule != "empty" {
			t.Fatalf("problem without a place: %+v", p)
		}
	}
	if res.OK() {
		cat, _ := domain()
		for _, o := range obs {
			ind, ok := cat.Get(o.Indicator)
			if !ok || !ind.InBounds(o.Value) || o.Period.IsZero() {
				t.Fatalf("accepted an invalid observation %+v", o)
			}
			if o.Numerator != nil && o.Denominator != nil && *o.Numerator > *o.Denominator {
				t.Fatalf("accepted numerator above denominator: %+v", o)
			}
		}
	}
}

func FuzzCSV(f *testing.F) {
	for _, s := range []string{
		header + "P20,2026-Q3,dossiers_fully_online,,40,100\n",
		header + "VN,2025,egdi_rank,80,,\n",
		"agency;period;indicator;value;numerator;denominator\nVN;2025;admin_procedures_reduced;12,5;;\n",
		header + "P20,2026-Q3,\"dossiers_fully_online\",,\"4\"\"0\",100\n",
		"\ufeff" + header + ",,,,,\n",
		header + "P20,2026-Q3,dossiers_fully_online,,1e400,1\n",
		"indicator,agency\nx,y,z\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		fuzzCheck(t, func(h Handler) error { return ReadCSV(bytes.NewReader(b), CSVOptions{MaxRows: 500}, h) })
	})
}

func FuzzJSON(f *testing.F) {
	for _, s := range []string{
		`{"agency":"P20","period":"2026-Q3","values":[{"indicator":"dossiers_fully_online","numerator":40,"denominator":100}]}`,
		`{"agency":"VN","period":"2025","values":[{"indicator":"egdi_rank","value":80},{"indicator":"egdi_rank","value":"x"}]}`,
		`{"agency":"P20","period":"2026-Q3","values":[{"indicator":"work_records_online","agency":"X20001","numerator":7,"denominator":10}]}`,
		`{"agency":1,"period":true,"values":{}}`,
		`[]`, `{`, `{"values":[null,1,"a",{"value":1e999}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		fuzzCheck(t, func(h Handler) error { return ReadJSON(b, nil, h) })
	})
}

func FuzzPrometheus(f *testing.F) {
	for _, s := range []string{
		"goc_kpi_egdi_rank{agency=\"VN\",period=\"2024\"} 71\n",
		"# TYPE goc_kpi_dossiers_fully_online_numerator gauge\ngoc_kpi_dossiers_fully_online_numerator{agency=\"P20\",period=\"2026-Q3\"} 40\ngoc_kpi_dossiers_fully_online_denominator{agency=\"P20\",period=\"2026-Q3\"} 100\n",
		"goc_kpi_egdi_rank{agency=\"VN\",period=\"2024\"} NaN\ngoc_kpi_egdi_rank{agency=\"VN\",period=\"2024\"} 1\n",
		"# TYPE goc_kpi_x histogram\ngoc_kpi_x_bucket{le=\"1\"} 1\n",
		"goc_kpi_egdi_rank{agency=\"VN\" 72\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		fuzzCheck(t, func(h Handler) error { return ReadPrometheus(b, &Layout{Records: "goc_kpi_"}, h) })
	})
}

// feedLayout is a feed's layout as an operator might write one: renamed parts, a
// records path and defaults.
var feedLayout = &Layout{Records: "data.values", Fields: Fields{Indicator: "kpi", Agency: "unit", Numerator: "num", Denominator: "den"},
	Period: "2026-Q3"}

func FuzzFeedJSON(f *testing.F) {
	for _, s := range []string{
		`{"data":{"values":[{"kpi":"dossiers_fully_online","unit":"P20","num":40,"den":100}]}}`,
		`{"data":{"values":[{"kpi":"egdi_rank","unit":"VN","period":2024,"value":71},{"kpi":"egdi_rank","kpi":"x"}]}}`,
		`{"data":{"values":{}}}`, `[{"kpi":1}]`, "{\"data\":{\"values\":[{\"unit\":\"P\xff20\"}]}}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		fuzzCheck(t, func(h Handler) error { return ReadJSON(b, feedLayout, h) })
	})
}

func FuzzFeedCSV(f *testing.F) {
	for _, s := range []string{
		"kpi,unit,num,den,extra\ndossiers_fully_online,P20,40,100,x\n",
		"kpi;unit;value\negdi_rank;VN;1.000\n",
		"unit,num\nP20,40\n", "kpi,unit,value\nx\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		fuzzCheck(t, func(h Handler) error {
			return ReadCSV(bytes.NewReader(b), CSVOptions{MaxRows: 500, Layout: &Layout{Fields: feedLayout.Fields, Period: "2024"}}, h)
		})
	})
}
