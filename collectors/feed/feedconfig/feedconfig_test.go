package feedconfig_test

import (
	"slices"
	"testing"
	"time"

	"github.com/g-oc/goc/collectors/feed/feedconfig"
)

func TestFeedValidateNamesEachMistakeByItsPath(t *testing.T) {
	good := feedconfig.Feed{Name: "lang-son-kpi", URL: "https://kpi.langson.gov.vn/goc.json", Format: feedconfig.JSON,
		Interval: 15 * time.Minute, Timeout: 30 * time.Second}
	for _, c := range []struct {
		name string
		edit func(f *feedconfig.Feed)
		want []string
	}{
		{"good", func(*feedconfig.Feed) {}, nil},
		{"nothing given", func(f *feedconfig.Feed) { *f = feedconfig.Feed{} },
			[]string{"f.name: required: a short name such as lang-son-kpi, used in metrics and the API",
				"f.url: required: where the feed is published",
				"f.format: required: one of json, csv, prometheus, xlsx"}},
		{"bad name", func(f *feedconfig.Feed) { f.Name = "Lang Son KPI" },
			[]string{`f.name: "Lang Son KPI": use lowercase letters, digits, '.', '_' and '-' (at most 63)`}},
		{"unknown format", func(f *feedconfig.Feed) { f.Format = "yaml" },
			[]string{`f.format: unknown format "yaml"; known: json, csv, prometheus, xlsx`}},
		{"timeout over interval", func(f *feedconfig.Feed) { f.Timeout = time.Hour },
			[]string{"f.timeout: timeout 1h0m0s is longer than the interval 15m0s"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := good
			c.edit(&f)
			var got []string
			for _, p := range f.Validate("f") {
				got = append(got, p.Path+": "+p.Message)
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("got\n%q\nwant\n%q", got, c.want)
			}
		})
	}
}
