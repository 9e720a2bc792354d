package models_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/g-oc/goc/grafana/plugin/pkg/models"
	"github.com/g-oc/goc/indicators"
)

func TestThresholdsColourAFigureAgainstItsTargets(t *testing.T) {
	cat := indicators.DefaultCatalogue()
	type step struct {
		at    float64 // -1 for the base step
		color string
	}
	for _, tc := range []struct {
		indicator string
		level     indicators.Level
		want      []step
	}{
		// 2025: 60, 2030: 80: red short of 2025, yellow between, green from 2030.
		{"dossiers_fully_online", indicators.National, []step{{-1, "red"}, {60, "yellow"}, {80, "green"}}},
		// a.v: each level its own targets.
		{"work_records_online", indicators.Commune, []step{{-1, "red"}, {60, "yellow"}, {70, "green"}}},
		{"work_records_online", indicators.Province, []step{{-1, "red"}, {90, "yellow"}, {100, "green"}}},
		// One target only.
		{"ops_single_sign_on", indicators.Province, []step{{-1, "red"}, {100, "green"}}},
		// A rank: green up to the 2030 target (top 50), red above the 2025 one (top 70);
		// rank 70 itself meets the 2025 target.
		{"egdi_rank", indicators.National, []step{{-1, "green"}, {50.5, "yellow"}, {70.5, "red"}}},
		// No target: plain.
		{"edocs_electronic_share", indicators.National, []step{{-1, "blue"}}},
	} {
		ind, ok := cat.Get(tc.indicator)
		if !ok {
			t.Fatalf("no %s", tc.indicator)
		}
		var got []step
		for _, s := range models.Thresholds(ind, tc.level) {
			at := -1.0
			if s.Value != nil {
				at = *s.Value
			}
			got = append(got, step{at, s.Color})
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s at %s: %v, want %v", tc.indicator, tc.level, got, tc.want)
		}
	}
}

func TestParseQueryReadsVariablesAndGrafanasQueryType(t *testing.T) {
	q, err := models.ParseQuery("progress", json.RawMessage(`{"queryType":"series","agencies":["{P20,N79}"," BTC ","P20",""],"indicator":" egdi_rank "}`))
	if err != nil {
		t.Fatal(err)
	}
	if q.QueryType != models.Progress || q.Indicator != "egdi_rank" || !slices.Equal(q.Agencies, []string{"P20", "N79", "BTC"}) {
		t.Errorf("got %+v", q)
	}
	if q, _ := models.ParseQuery("", nil); q.QueryType != models.Series {
		t.Errorf("an empty query is %q, want a series", q.QueryType)
	}
	if _, err := models.ParseQuery("", json.RawMessage(`{"year":"soon"}`)); err == nil || !strings.Contains(err.Error(), "cannot read the query JSON") {
		t.Errorf("bad JSON: %v", err)
	}
}

func TestLoadSettingsNamesWhatIsWrong(t *testing.T) {
	for _, tc := range []struct {
		url, want string
	}{
		{"", "URL is not set"},
		{"127.0.0.1:8080", "not an http(s) URL"},
		{"ftp://host/", "not an http(s) URL"},
	} {
		if _, err := models.LoadSettings(tc.url, nil, nil); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("url %q: %v, want %q", tc.url, err, tc.want)
		}
	}
	s, err := models.LoadSettings(" http://127.0.0.1:8080/ ", json.RawMessage(`{"timeoutSeconds":5}`), map[string]string{"token": " goc_x "})
	if err != nil || s.URL != "http://127.0.0.1:8080" || s.Token != "goc_x" || s.TimeoutSeconds != 5 {
		t.Errorf("got %+v, %v", s, err)
	}
	if _, err := models.LoadSettings("http://h", json.RawMessage(`{"timeoutSeconds":"x"}`), nil); err == nil {
		t.Error("a timeout that is not a number was accepted")
	}
}
