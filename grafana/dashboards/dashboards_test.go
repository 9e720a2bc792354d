package dashboards_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/g-oc/goc/grafana/dashboards"
	"github.com/g-oc/goc/grafana/plugin/pkg/models"
	"github.com/g-oc/goc/grafana/plugin/pkg/plugintest"
	"github.com/g-oc/goc/indicators"
)

var update = flag.Bool("update", false, "rewrite the dashboards in generated/")

// env is the plugin launched as Grafana launches it, next to a running `goc demo`; the
// replay test sends every panel's query through it.
var env *plugintest.Env

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(run(m))
}

func run(m *testing.M) int {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var pluginLog io.Writer = io.Discard
	if testing.Verbose() {
		pluginLog = os.Stderr
	}
	var err error
	if env, err = plugintest.Start(ctx, pluginLog); err != nil {
		fmt.Fprintln(os.Stderr, "start the plugin and the demo:", err)
		return 1
	}
	defer env.Close()
	return m.Run()
}

// dashboard is the part of a dashboard's JSON the tests read.
type dashboard struct {
	UID    string  `json:"uid"`
	Title  string  `json:"title"`
	Panels []panel `json:"panels"`
	Time   struct {
		From, To string
	} `json:"time"`
	Templating struct {
		List []struct {
			Name    string `json:"name"`
			Type    string `json:"type"`
			Current struct {
				Value string `json:"value"`
			} `json:"current"`
		} `json:"list"`
	} `json:"templating"`
}

type panel struct {
	ID      int               `json:"id"`
	Type    string            `json:"type"`
	Title   string            `json:"title"`
	Targets []json.RawMessage `json:"targets"`
	Options struct {
		ReduceOptions struct {
			Fields string `json:"fields"`
		} `json:"reduceOptions"`
	} `json:"options"`
	FieldConfig struct {
		Overrides []struct {
			Matcher struct {
				ID      string `json:"id"`
				Options string `json:"options"`
			} `json:"matcher"`
		} `json:"overrides"`
		Defaults struct {
			Thresholds struct {
				Steps []struct {
					Value *float64 `json:"value"`
					Color string   `json:"color"`
				} `json:"steps"`
			} `json:"thresholds"`
		} `json:"defaults"`
	} `json:"fieldConfig"`
}

func generate(t *testing.T) map[string]dashboard {
	t.Helper()
	files, err := dashboards.Generate(indicators.DefaultCatalogue(), indicators.DefaultRegistry())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]dashboard{}
	for _, f := range files {
		var d dashboard
		if err := json.Unmarshal(f.JSON, &d); err != nil {
			t.Fatalf("%s is not valid JSON: %v", f.Name, err)
		}
		if f.Name != d.UID+".json" {
			t.Errorf("file %s holds dashboard %s", f.Name, d.UID)
		}
		out[d.UID] = d
	}
	return out
}

type targetModel struct {
	models.Query
	RefID      string `json:"refId"`
	Datasource struct {
		Type string `json:"type"`
		UID  string `json:"uid"`
	} `json:"datasource"`
}

func targetsOf(t *testing.T, p panel) []targetModel {
	t.Helper()
	var out []targetModel
	for _, raw := range p.Targets {
		var tm targetModel
		if err := json.Unmarshal(raw, &tm); err != nil {
			t.Fatalf("panel %q: target %s: %v", p.Title, raw, err)
		}
		out = append(out, tm)
	}
	return out
}

func TestFiveDashboardsEveryPanelQueriesGOC(t *testing.T) {
	ds := generate(t)
	want := []string{dashboards.UIDNational, dashboards.UIDAgency, dashboards.UIDRankings, dashboards.UIDProbes, dashboards.UIDCompleteness}
	if len(ds) != len(want) {
		t.Errorf("%d dashboards, want %d", len(ds), len(want))
	}
	for _, uid := range want {
		d, ok := ds[uid]
		if !ok {
			t.Errorf("no dashboard %s", uid)
			continue
		}
		ids := map[int]bool{}
		queries := 0
		for _, p := range d.Panels {
			if ids[p.ID] {
				t.Errorf("%s: panel id %d used twice", uid, p.ID)
			}
			ids[p.ID] = true
			if p.Type == "row" {
				continue
			}
			tms := targetsOf(t, p)
			if len(tms) == 0 {
				t.Errorf("%s: panel %q has no query", uid, p.Title)
			}
			for _, tm := range tms {
				queries++
				if tm.Datasource.Type != models.PluginID || tm.Datasource.UID != "${datasource}" {
					t.Errorf("%s: panel %q queries %+v, want the G-OC data source variable", uid, p.Title, tm.Datasource)
				}
				if !slices.Contains(models.QueryTypes(), tm.QueryType) {
					t.Errorf("%s: panel %q has query type %q", uid, p.Title, tm.QueryType)
				}
			}
		}
		if queries == 0 {
			t.Errorf("%s has no queries", uid)
		}
	}
}

func TestNationalOverviewHasAGaugeAndATrendPerTargetFromTheCatalogue(t *testing.T) {
	d := generate(t)[dashboards.UIDNational]
	type key struct{ indicator, level string }
	gauges, trends := map[key]panel{}, map[key]panel{}
	for _, p := range d.Panels {
		if p.Type != "gauge" && p.Type != "timeseries" {
			continue
		}
		tm := targetsOf(t, p)[0]
		k := key{tm.Indicator, tm.Level}
		if p.Type == "gauge" {
			gauges[k] = p
			if !tm.HideTargets {
				t.Errorf("gauge %q should leave the target fields out (they would show as gauges)", p.Title)
			}
		} else {
			trends[k] = p
		}
	}
	for _, ind := range indicators.DefaultCatalogue().All() {
		levels := []string{""}
		if ind.HasLevelTargets() {
			levels = nil
			for _, l := range ind.Levels {
				levels = append(levels, string(l))
			}
		}
		for _, l := range levels {
			k := key{ind.Code, l}
			g, ok := gauges[k]
			if !ok {
				t.Errorf("no gauge for %s at level %q", ind.Code, l)
				continue
			}
			if _, ok := trends[k]; !ok {
				t.Errorf("no trend for %s at level %q", ind.Code, l)
			}
			// The gauge's colour steps sit at the targets of its level.
			var want []float64
			for _, tg := range models.TargetsAt(ind, indicators.Level(l)) {
				if !slices.Contains(want, tg.Value) {
					want = append(want, tg.Value)
				}
			}
			slices.Sort(want)
			var got []float64
			for _, s := range g.FieldConfig.Defaults.Thresholds.Steps[1:] {
				got = append(got, *s.Value)
			}
			if ind.Direction == indicators.LowerIsBetter {
				for i := range got {
					got[i] = float64(int(got[i])) // steps sit just above a rank target
				}
			}
			if !slices.Equal(got, want) {
				t.Errorf("gauge %s (%q): threshold steps %v, want the targets %v", ind.Code, l, got, want)
			}
			for _, tg := range models.TargetsAt(ind, indicators.Level(l)) {
				if !strings.Contains(g.Title, tg.Clause) {
					t.Errorf("gauge title %q does not name clause %s", g.Title, tg.Clause)
				}
			}
		}
	}
	// a.v is judged per level: four gauges, the commune one against 60 and 70.
	c := gauges[key{"work_records_online", "commune"}]
	if len(c.FieldConfig.Defaults.Thresholds.Steps) != 3 || *c.FieldConfig.Defaults.Thresholds.Steps[1].Value != 60 || *c.FieldConfig.Defaults.Thresholds.Steps[2].Value != 70 {
		t.Errorf("commune gauge of a.v: steps %+v, want 60 and 70", c.FieldConfig.Defaults.Thresholds.Steps)
	}
}

func TestAddingATargetToTheCatalogueAddsItsPanels(t *testing.T) {
	base := indicators.DefaultCatalogue()
	extra, err := indicators.ParseCatalogue("extra.yaml", []byte(`indicators:
  - code: broadband_households
    name_vi: Tỷ lệ hộ gia đình có cáp quang
    name_en: Households with fibre broadband
    unit: percent
    direction: higher
    periodicity: yearly
    aggregation: ratio
    bounds: {min: 0, max: 100}
    pillar: infrastructure
    levels: [province]
    targets:
      - {year: 2025, level: all, value: 80, clause: x.i}
`))
	if err != nil {
		t.Fatal(err)
	}
	cat, err := base.Merge(extra)
	if err != nil {
		t.Fatal(err)
	}
	files, err := dashboards.Generate(cat, indicators.DefaultRegistry())
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if f.Name == dashboards.UIDNational+".json" || f.Name == dashboards.UIDAgency+".json" {
			if n := bytes.Count(f.JSON, []byte(`"indicator": "broadband_households"`)); n == 0 {
				t.Errorf("%s has no panel for the new indicator", f.Name)
			}
		}
	}
}

// TestCommittedDashboardsAreUpToDate keeps generated/ in step with the catalogue and
// the generator. After changing either, run:
//
//	go test ./grafana/dashboards -run TestCommittedDashboardsAreUpToDate -update
func TestCommittedDashboardsAreUpToDate(t *testing.T) {
	files, err := dashboards.Generate(indicators.DefaultCatalogue(), indicators.DefaultRegistry())
	if err != nil {
		t.Fatal(err)
	}
	dir := "generated"
	if *update {
		if _, err := dashboards.Write(dir, indicators.DefaultCatalogue(), indicators.DefaultRegistry()); err != nil {
			t.Fatal(err)
		}
	}
	names := map[string]bool{}
	for _, f := range files {
		names[f.Name] = true
		have, err := os.ReadFile(filepath.Join(dir, f.Name))
		if err != nil || !bytes.Equal(have, f.JSON) {
			t.Errorf("grafana/dashboards/%s/%s is out of date: run go test ./grafana/dashboards -run TestCommittedDashboardsAreUpToDate -update (or goc grafana dashboards -o grafana/dashboards/generated)", dir, f.Name)
		}
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if !names[e.Name()] {
			t.Errorf("grafana/dashboards/%s/%s is not generated any more: remove it", dir, e.Name())
		}
	}
}

// TestEveryPanelReturnsDataFromTheDemo replays each panel's queries through the real
// plugin protocol against the demo, with the dashboard's variables at their defaults
// and its time range, as Grafana would when a leader opens the dashboard.
func TestEveryPanelReturnsDataFromTheDemo(t *testing.T) {
	now := time.Now()
	in := plugintest.NewInstance("replay", env.Demo.URL, "")
	for uid, d := range generate(t) {
		vars := map[string]string{}
		for _, v := range d.Templating.List {
			if v.Name != dashboards.DatasourceVariable {
				vars[v.Name] = v.Current.Value
			}
		}
		from, err := time.Parse(time.RFC3339, d.Time.From)
		if err != nil || d.Time.To != "now" {
			t.Fatalf("%s: time range %+v, want an absolute start and now", uid, d.Time)
		}
		for _, p := range d.Panels {
			if p.Type == "row" {
				continue
			}
			t.Run(uid+"/"+p.Title, func(t *testing.T) {
				var qs []plugintest.Query
				for i, raw := range p.Targets {
					var tm targetModel
					if err := json.Unmarshal(raw, &tm); err != nil {
						t.Fatal(err)
					}
					// Grafana resolves the data source reference itself; the plugin sees the rest.
					var m map[string]any
					if err := json.Unmarshal(raw, &m); err != nil {
						t.Fatal(err)
					}
					delete(m, "datasource")
					b, _ := json.Marshal(m)
					model := string(b)
					for name, value := range vars {
						model = strings.ReplaceAll(model, "${"+name+"}", value)
						model = strings.ReplaceAll(model, "$"+name, value)
					}
					if strings.Contains(model, `"$`) {
						t.Fatalf("target %s keeps an unknown variable", model)
					}
					qs = append(qs, plugintest.Query{RefID: fmt.Sprint("Q", i), QueryType: string(tm.QueryType), JSON: json.RawMessage(model), From: from, To: now})
				}
				resp, err := env.Plugin.QueryData(context.Background(), in, qs...)
				if err != nil {
					t.Fatal(err)
				}
				var names []string
				for _, q := range qs {
					dr := resp.Responses[q.RefID]
					if dr.Error != nil {
						t.Errorf("%s: %v", q.JSON, dr.Error)
						continue
					}
					rows := 0
					for _, f := range dr.Frames {
						rows += f.Rows()
						for _, fld := range f.Fields {
							if fld.Config != nil && fld.Config.DisplayNameFromDS != "" {
								names = append(names, fld.Config.DisplayNameFromDS)
							} else {
								names = append(names, fld.Name)
							}
						}
					}
					if rows == 0 {
						t.Errorf("%s: no data", q.JSON)
					}
				}
				// Grafana matches overrides and a stat's fields on display names: each must
				// find the field it was written for.
				for _, o := range p.FieldConfig.Overrides {
					if o.Matcher.ID == "byName" && !slices.Contains(names, o.Matcher.Options) {
						t.Errorf("override for %q matches no field of %q", o.Matcher.Options, names)
					}
				}
				if re := p.Options.ReduceOptions.Fields; re != "" {
					rx, err := regexp.Compile(strings.TrimSuffix(strings.TrimPrefix(re, "/"), "/"))
					if err != nil {
						t.Fatalf("fields %q: %v", re, err)
					}
					if !slices.ContainsFunc(names, rx.MatchString) {
						t.Errorf("the panel shows fields %q, which match none of %q", re, names)
					}
				}
			})
		}
	}
}
