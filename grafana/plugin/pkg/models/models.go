// Package models is the G-OC data source's contract with Grafana: the plugin's ID, the
// settings an admin fills in, and the query a panel target holds. The plugin host reads
// them; the dashboard generator writes them, so both sides share one definition.
package models

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
)

// PluginID is the data source's ID in plugin.json and in provisioning files.
const PluginID = "goc-goc-datasource"

// QueryType names what a panel target asks for.
type QueryType string

// The query types the plugin answers.
const (
	// Series is an indicator's values over time for the country, some agencies or one
	// level, with the 2025 and 2030 targets as threshold fields.
	Series QueryType = "series"
	// Progress is a table of progress toward a target year: latest value, target, gap,
	// attainment, anticipated value and status.
	Progress QueryType = "progress"
	// Ranking is a peer group's composite scores and ranks for a period.
	Ranking QueryType = "ranking"
	// Probes is the latest probe state of every portal: up, latency, certificate expiry.
	Probes QueryType = "probes"
	// Completeness is who has submitted for a period, who is late and who is missing.
	Completeness QueryType = "completeness"
)

// ViewSummary asks probes and completeness for one row of counts.
const ViewSummary = "summary"

// QueryTypes lists every query type, in the order the query editor offers them.
func QueryTypes() []QueryType { return []QueryType{Series, Progress, Ranking, Probes, Completeness} }

// Query is a panel target's model. Grafana sends it as the query's JSON; the query type
// travels in Grafana's own queryType field.
type Query struct {
	QueryType QueryType `json:"queryType,omitempty"`
	// Indicator is a catalogue code. A progress query without one covers every indicator
	// the chosen agencies report.
	Indicator string `json:"indicator,omitempty"`
	// Agencies are agency codes; none means the country. In a progress query "*" means
	// every agency that reports the indicator; probes and completeness take one agency
	// and cover everything below it.
	Agencies []string `json:"agencies,omitempty"`
	// Level restricts a series or progress figure to one tier of government: the
	// national commune-level figure, judged against the commune target.
	Level string `json:"level,omitempty"`
	// Kind keeps only agencies of one kind (province, ministry, ...) when Agencies is "*".
	Kind string `json:"kind,omitempty"`
	// Year is the target year progress is judged against; 2025 when zero.
	Year int `json:"year,omitempty"`
	// Period is a reporting period for rankings and completeness: one as G-OC writes it
	// (2025, 2025-Q3, ...) or a periodicity (yearly, half-yearly, quarterly, monthly)
	// meaning the last such period ended by the end of the panel's time range. Empty
	// means the last year for rankings and the last quarter for completeness.
	Period string `json:"period,omitempty"`
	// Group is a ranking peer group (provinces, ministries, government_agencies);
	// provinces when empty.
	Group string `json:"group,omitempty"`
	// View picks a shape for probes and completeness: "" a row per portal or agency,
	// "summary" one row of counts for stat panels.
	View string `json:"view,omitempty"`
	// HideTargets leaves the target fields out of a series, for gauges that show only the
	// current value (the targets are still its thresholds).
	HideTargets bool `json:"hideTargets,omitempty"`
}

// ParseQuery reads a query's JSON. queryType is Grafana's own field for the query type,
// which wins over one in the JSON. Agency lists may come as one comma-separated string
// or in Grafana's {a,b} multi-value form, as template variables leave them.
func ParseQuery(queryType string, raw json.RawMessage) (Query, error) {
	var q Query
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &q); err != nil {
			return Query{}, fmt.Errorf("truy vấn không đọc được / cannot read the query JSON: %w", err)
		}
	}
	if queryType != "" {
		q.QueryType = QueryType(queryType)
	}
	if q.QueryType == "" {
		q.QueryType = Series
	}
	q.Agencies = splitAgencies(q.Agencies)
	q.Indicator = strings.TrimSpace(q.Indicator)
	return q, nil
}

func splitAgencies(in []string) []string {
	var out []string
	for _, v := range in {
		v = strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(v), "{"), "}")
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" && !contains(out, p) {
				out = append(out, p)
			}
		}
	}
	return out
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// Settings are a data source instance's settings: G-OC's URL (Grafana's own url field)
// and, in secure JSON data, a token.
type Settings struct {
	URL   string
	Token string
	// TimeoutSeconds bounds each call to G-OC; 30 when zero.
	TimeoutSeconds int `json:"timeoutSeconds,omitempty"`
}

// SecureTokenKey is the secure JSON data key that holds the token.
const SecureTokenKey = "token"

// LoadSettings reads an instance's settings from what Grafana hands the plugin.
func LoadSettings(rawURL string, jsonData json.RawMessage, secure map[string]string) (Settings, error) {
	var s Settings
	if len(jsonData) > 0 {
		if err := json.Unmarshal(jsonData, &s); err != nil {
			return Settings{}, fmt.Errorf("cài đặt không đọc được / cannot read the data source settings: %w", err)
		}
	}
	s.URL = strings.TrimRight(strings.TrimSpace(rawURL), "/")
	s.Token = strings.TrimSpace(secure[SecureTokenKey])
	if s.URL == "" {
		return s, fmt.Errorf("chưa nhập địa chỉ G-OC / the G-OC URL is not set: enter it in the data source settings, e.g. http://127.0.0.1:8080")
	}
	u, err := url.Parse(s.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return s, fmt.Errorf("địa chỉ G-OC không hợp lệ / the G-OC URL %q is not an http(s) URL", s.URL)
	}
	if s.TimeoutSeconds <= 0 {
		s.TimeoutSeconds = 30
	}
	return s, nil
}
