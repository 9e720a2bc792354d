package alerting_test

import (
	"bytes"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/internal/alerting"
	"github.com/g-oc/goc/internal/config"
)

// scenario is how one alert is made to fire and then resolve, in promtool's unit-test
// notation: series sampled every minute, an evaluation while it fires and one after
// it has resolved.
type scenario struct {
	series   []series
	firingAt time.Duration
	// labels are those the alert carries besides the rule's own.
	labels     map[string]string
	resolvedAt time.Duration
}

type series struct{ name, values string }

// scenarios gives the way to fire each alert of the rule file written with the
// default configuration (thresholds: down 5m, slow >5s for 15m, regressions 1h
// against 7d, certificates 14d, feeds 30m, reports 3 days overdue, progress 1h,
// spool 15m, replicas 1). Each generated rule (one per indicator, one per
// periodicity) is handed its own labels.
func scenarios(r alerting.Rule) (scenario, bool) {
	portal := `{agency="P20",target="https://langson.gov.vn/"}`
	portalLabels := map[string]string{"agency": "P20", "target": "https://langson.gov.vn/"}
	self := map[string]string{"instance": "127.0.0.1:8080", "job": "goc"}
	selfSel := `{instance="127.0.0.1:8080",job="goc"}`
	regression := func(metric string) scenario {
		return scenario{
			series: []series{
				{metric + portal, "1x60 0x90 1x30"}, // lost at 61m, back at 152m
				{"probe_success" + portal, "1x200"},
			},
			firingAt: 130 * time.Minute, labels: portalLabels, resolvedAt: 160 * time.Minute,
		}
	}
	switch r.Alert {
	case "GOCPortalDown":
		return scenario{series: []series{{"probe_success" + portal, "1x10 0x10 1x10"}},
			firingAt: 17 * time.Minute, labels: portalLabels, resolvedAt: 25 * time.Minute}, true
	case "GOCPortalSlow":
		return scenario{series: []series{{"probe_duration_seconds" + portal, "1x10 8x25 1x10"}},
			firingAt: 30 * time.Minute, labels: portalLabels, resolvedAt: 40 * time.Minute}, true
	case "GOCPortalHTTPSLost":
		return regression("probe_http_ssl"), true
	case "GOCPortalIPv6Lost":
		return regression("goc_probe_ipv6_reachable"), true
	case "GOCPortalDNSSECLost":
		return regression("goc_probe_dnssec_valid"), true
	case "GOCPortalMobileLost":
		return regression("goc_probe_mobile_ready"), true
	case "GOCCertificateExpiring":
		// 10 days left, then renewed for 90 days.
		return scenario{series: []series{{"probe_ssl_earliest_cert_expiry" + portal, "864000x10 7776000x10"}},
			firingAt: 5 * time.Minute, labels: portalLabels, resolvedAt: 15 * time.Minute}, true
	case "GOCFeedFailing":
		return scenario{series: []series{{`goc_feed_failing{feed="lang-son-kpi"}`, "0x5 1x40 0x10"}},
			firingAt: 40 * time.Minute, labels: map[string]string{"feed": "lang-son-kpi"}, resolvedAt: 50 * time.Minute}, true
	case "GOCSubmissionOverdue":
		k := r.Labels["periodicity"]
		// Three days minus 200 s past the deadline, a minute more each minute; the
		// report arrives at 11m and the series ends.
		// Two replicas export it: one alert, without the instance.
		sel := `agency="P20",periodicity="` + k + `",period="2026-09",job="goc"`
		return scenario{series: []series{
			{`goc_submission_overdue_seconds{instance="10.0.0.1:8080",` + sel + `}`, "259000+60x10 stale"},
			{`goc_submission_overdue_seconds{instance="10.0.0.2:8080",` + sel + `}`, "259000+60x10 stale"},
		},
			firingAt: 8 * time.Minute, labels: map[string]string{"agency": "P20", "periodicity": k, "period": "2026-09", "job": "goc"}, resolvedAt: 15 * time.Minute}, true
	case "GOCIndicatorStatusFell":
		ind := r.Labels["indicator"]
		l := map[string]string{"agency": "P20", "indicator": ind, "target_year": "2030"}
		sel := `agency="P20",indicator="` + ind + `",target_year="2030"`
		return scenario{series: []series{
			{`goc_indicator_progress_status_class{instance="10.0.0.1:8080",` + sel + `}`, "3x60 2x90 3x30"},
			{`goc_indicator_progress_status_class{instance="10.0.0.2:8080",` + sel + `}`, "3x60 2x90 3x30"},
		},
			firingAt: 130 * time.Minute, labels: l, resolvedAt: 160 * time.Minute}, true
	case "GOCSpoolBacklogGrowing":
		return scenario{series: []series{{"goc_spool_pending_points" + selfSel, "0x10 0+100x30 0x10"}},
			firingAt: 35 * time.Minute, labels: self, resolvedAt: 50 * time.Minute}, true
	case "GOCStoreWriteErrors":
		l := maps.Clone(self)
		l["op"] = "write probe results"
		return scenario{series: []series{{`goc_store_errors_total{instance="127.0.0.1:8080",job="goc",op="write probe results"}`, "0x10 1+1x5 6x20"}},
			firingAt: 14 * time.Minute, labels: l, resolvedAt: 30 * time.Minute}, true
	case "GOCSchedulerLagging":
		l := maps.Clone(self)
		l["kind"] = "probe"
		return scenario{series: []series{
			{`goc_collector_missed_runs_total{instance="127.0.0.1:8080",job="goc",kind="probe"}`, "0x10 1+1x20 21x20"},
			{`goc_collector_dropped_runs_total{instance="127.0.0.1:8080",job="goc",kind="probe"}`, "0x60"},
		}, firingAt: 25 * time.Minute, labels: l, resolvedAt: 55 * time.Minute}, true
	case "GOCReplicasMissing":
		return scenario{series: []series{{`up{instance="127.0.0.1:8080",job="goc"}`, "1x10 0x10 1x10"}},
			firingAt: 18 * time.Minute, labels: map[string]string{}, resolvedAt: 28 * time.Minute}, true
	}
	return scenario{}, false
}

// promtool's unit-test file format.
type (
	ptFile struct {
		RuleFiles          []string `yaml:"rule_files"`
		EvaluationInterval string   `yaml:"evaluation_interval"`
		Tests              []ptTest `yaml:"tests"`
	}
	ptTest struct {
		Name         string        `yaml:"name"`
		Interval     string        `yaml:"interval"`
		InputSeries  []ptSeries    `yaml:"input_series"`
		AlertRuleTst []ptAlertTest `yaml:"alert_rule_test"`
	}
	ptSeries struct {
		Series string `yaml:"series"`
		Values string `yaml:"values"`
	}
	ptAlertTest struct {
		EvalTime  string    `yaml:"eval_time"`
		Alertname string    `yaml:"alertname"`
		ExpAlerts []ptAlert `yaml:"exp_alerts"`
	}
	ptAlert struct {
		ExpLabels      map[string]string `yaml:"exp_labels"`
		ExpAnnotations map[string]string `yaml:"exp_annotations"`
	}
)

var labelRef = regexp.MustCompile(`\{\{ \$labels\.(\w+) \}\}`)

// expand fills {{ $labels.x }} as Prometheus does; the rules use no other template.
func expand(s string, labels map[string]string) string {
	return labelRef.ReplaceAllStringFunc(s, func(m string) string {
		return labels[labelRef.FindStringSubmatch(m)[1]]
	})
}

func writeRules(t *testing.T, f alerting.File) string {
	t.Helper()
	var b bytes.Buffer
	if err := f.Write(&b); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "goc-rules.yml")
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func defaultRules() alerting.File {
	c := config.Default()
	return alerting.Rules(c.Alerts, c.Submissions, indicators.DefaultCatalogue())
}

func TestGeneratedRulesPassPromtoolCheck(t *testing.T) {
	promtool := tool(t, "GOC_PROMTOOL", "promtool")
	out := runTool(t, promtool, "check", "rules", writeRules(t, defaultRules()))
	if !strings.Contains(out, "SUCCESS") {
		t.Fatalf("promtool check rules:\n%s", out)
	}
}

// TestEveryAlertFiresAndResolvesUnderPromtool writes one promtool unit test per
// alerting rule: the alert is firing, with its labels and texts, while its condition
// has held long enough, and gone once the condition is over.
func TestEveryAlertFiresAndResolvesUnderPromtool(t *testing.T) {
	promtool := tool(t, "GOC_PROMTOOL", "promtool")
	rules := defaultRules()
	rulesPath := writeRules(t, rules)
	tf := ptFile{RuleFiles: []string{rulesPath}, EvaluationInterval: "1m"}
	// The rules generated per indicator or periodicity share their alert name, timing
	// and scenario: they are checked together, in one test per alert name, which keeps
	// promtool's run short.
	tests := map[string]*ptTest{}
	var order []string
	kinds := map[string]bool{}
	for _, r := range rules.Alerts() {
		kinds[r.Alert] = true
		sc, ok := scenarios(r)
		if !ok {
			t.Errorf("alert %s has no firing and resolving scenario in this test", r.Alert)
			continue
		}
		labels := maps.Clone(sc.labels)
		maps.Copy(labels, r.Labels)
		ann := map[string]string{}
		for k, v := range r.Annotations {
			ann[k] = expand(v, labels)
		}
		test := tests[r.Alert]
		if test == nil {
			test = &ptTest{Name: r.Alert, Interval: "1m",
				AlertRuleTst: []ptAlertTest{
					{EvalTime: alerting.Duration(sc.firingAt), Alertname: r.Alert},
					{EvalTime: alerting.Duration(sc.resolvedAt), Alertname: r.Alert},
				}}
			tests[r.Alert] = test
			order = append(order, r.Alert)
		}
		test.AlertRuleTst[0].ExpAlerts = append(test.AlertRuleTst[0].ExpAlerts, ptAlert{ExpLabels: labels, ExpAnnotations: ann})
		for _, s := range sc.series {
			test.InputSeries = append(test.InputSeries, ptSeries{s.name, s.values})
		}
	}
	fired := 0
	for _, name := range order {
		tf.Tests = append(tf.Tests, *tests[name])
		fired += len(tests[name].AlertRuleTst[0].ExpAlerts)
	}
	for _, want := range []string{"GOCPortalDown", "GOCPortalSlow", "GOCPortalHTTPSLost", "GOCPortalIPv6Lost",
		"GOCPortalDNSSECLost", "GOCPortalMobileLost", "GOCCertificateExpiring", "GOCFeedFailing",
		"GOCSubmissionOverdue", "GOCIndicatorStatusFell", "GOCSpoolBacklogGrowing", "GOCStoreWriteErrors",
		"GOCSchedulerLagging", "GOCReplicasMissing"} {
		if !kinds[want] {
			t.Errorf("the rules have no %s alert", want)
		}
	}
	data, err := yaml.Marshal(tf)
	if err != nil {
		t.Fatal(err)
	}
	testPath := filepath.Join(t.TempDir(), "goc-rules.test.yml")
	if err := os.WriteFile(testPath, data, 0o644); err != nil {
		t.Fatal(err)
	}
	out := runTool(t, promtool, "test", "rules", testPath)
	if !strings.Contains(out, "SUCCESS") {
		t.Fatalf("promtool test rules:\n%s", out)
	}
	t.Logf("promtool test rules: %d alerting rules (%d alert names) each fired and resolved", fired, len(tf.Tests))
}

// TestRulesFollowTheConfig checks that thresholds come from alerts: and that every
// alert links to a runbook page that exists in the repository.
func TestRulesFollowTheConfig(t *testing.T) {
	c, err := config.Parse("goc.yaml", []byte(`
store: {path: goc.db}
alerts:
  portal_down_for: 2m
  cert_expiry_days: 21
  replicas: 3
  job: goc-prod
  runbook_base_url: https://git.example.vn/goc/docs/runbooks/
`), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	f := alerting.Rules(c.Alerts, c.Submissions, indicators.DefaultCatalogue())
	got := map[string]alerting.Rule{}
	for _, r := range f.Alerts() {
		got[r.Alert] = r
		page := strings.TrimPrefix(r.Annotations["runbook_url"], "https://git.example.vn/goc/docs/runbooks/")
		if _, err := os.Stat(filepath.Join("..", "..", "docs", "runbooks", page)); err != nil {
			t.Errorf("%s links to runbook %s, which is not in docs/runbooks: %v", r.Alert, r.Annotations["runbook_url"], err)
		}
		for _, k := range []string{"summary", "summary_en", "description", "description_en"} {
			if r.Annotations[k] == "" {
				t.Errorf("%s has no %s", r.Alert, k)
			}
		}
		if s := r.Labels["severity"]; s != alerting.Critical && s != alerting.Warning {
			t.Errorf("%s has severity %q", r.Alert, s)
		}
	}
	if r := got["GOCPortalDown"]; r.For != "2m" {
		t.Errorf("GOCPortalDown for = %q, want 2m", r.For)
	}
	if r := got["GOCCertificateExpiring"]; !strings.Contains(r.Expr, "< 21 * 86400") {
		t.Errorf("GOCCertificateExpiring expr = %s", r.Expr)
	}
	if r := got["GOCReplicasMissing"]; r.Expr != `(count(up{job="goc-prod"} == 1) or vector(0)) < 3` {
		t.Errorf("GOCReplicasMissing expr = %s", r.Expr)
	}
}
