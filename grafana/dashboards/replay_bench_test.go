package dashboards_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/g-oc/goc/grafana/dashboards"
	"github.com/g-oc/goc/grafana/plugin/pkg/plugintest"
	"github.com/g-oc/goc/indicators"
)

// BenchmarkOpenDashboard measures what a leader waits for when a dashboard opens: every
// panel's QueryData through the plugin over gRPC to the demo, one request per panel as
// Grafana sends them, panels in parallel (Grafana's browser runs about six at once).
//
//	go test ./grafana/dashboards -run '^$' -bench OpenDashboard -benchtime 5x
func BenchmarkOpenDashboard(b *testing.B) {
	files, err := dashboards.Generate(indicators.DefaultCatalogue(), indicators.DefaultRegistry())
	if err != nil {
		b.Fatal(err)
	}
	in := plugintest.NewInstance("bench", env.Demo.URL, "")
	for _, f := range files {
		var d dashboard
		if err := json.Unmarshal(f.JSON, &d); err != nil {
			b.Fatal(err)
		}
		from, _ := time.Parse(time.RFC3339, d.Time.From)
		var panels [][]plugintest.Query
		for _, p := range d.Panels {
			if p.Type == "row" {
				continue
			}
			var qs []plugintest.Query
			for i, raw := range p.Targets {
				var m map[string]any
				_ = json.Unmarshal(raw, &m)
				delete(m, "datasource")
				js, _ := json.Marshal(m)
				model := strings.NewReplacer("$agency", dashboards.DefaultAgency, "$group", "provinces").Replace(string(js))
				qt, _ := m["queryType"].(string)
				qs = append(qs, plugintest.Query{RefID: fmt.Sprint("Q", i), QueryType: qt, JSON: json.RawMessage(model), From: from, To: time.Now()})
			}
			panels = append(panels, qs)
		}
		b.Run(d.UID, func(b *testing.B) {
			for b.Loop() {
				sem := make(chan struct{}, 6)
				errs := make(chan error, len(panels))
				for _, qs := range panels {
					sem <- struct{}{}
					go func() {
						defer func() { <-sem }()
						resp, err := env.Plugin.QueryData(context.Background(), in, qs...)
						if err == nil {
							for _, r := range resp.Responses {
								if r.Error != nil {
									err = r.Error
								}
							}
						}
						errs <- err
					}()
				}
				for range panels {
					if err := <-errs; err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(len(panels)), "panels")
		})
	}
}
