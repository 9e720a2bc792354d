// Package alerting turns G-OC's catalogue and configuration into Prometheus alerting
// and recording rules, an Alertmanager routing example, and the gauges those rules
// read (submission overdue per agency, progress status class per indicator).
//
// The rules are data: each is one row of a table below, with its expression, how long
// it must hold, its severity, its texts in Vietnamese and English and its runbook page.
// Thresholds come from config.Alerts, so `goc alerts rules` writes exactly what the
// running server's configuration implies.
package alerting

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/indicators/period"
	"github.com/g-oc/goc/internal/config"
)

// Severities, the `severity` label Alertmanager routes on.
const (
	Critical = "critical"
	Warning  = "warning"
)

// Rule is one alerting or recording rule, as Prometheus reads it.
type Rule struct {
	Record      string            `yaml:"record,omitempty"`
	Alert       string            `yaml:"alert,omitempty"`
	Expr        string            `yaml:"expr"`
	For         string            `yaml:"for,omitempty"`
	Labels      map[string]string `yaml:"labels,omitempty"`
	Annotations map[string]string `yaml:"annotations,omitempty"`
}

// Group is one rule group.
type Group struct {
	Name  string `yaml:"name"`
	Rules []Rule `yaml:"rules"`
}

// File is a Prometheus rule file.
type File struct {
	Groups []Group `yaml:"groups"`
}

// alert is one row of the rule tables: what fires, for how long, and what it says.
type alert struct {
	name, component, severity string
	expr                      string
	hold                      time.Duration
	// runbook is the page's name under docs/runbooks, without .md.
	runbook string
	// labels are added to severity and component; they tell apart the rules of one
	// alert generated per indicator or per periodicity (and equal the series' own).
	labels map[string]string
	// Texts may use {{ $labels.NAME }}; summaries are one line, descriptions say
	// what to look at.
	summaryVI, summaryEN, descVI, descEN string
}

// Duration writes d as Prometheus does (5m, 1h30m, 7d).
func Duration(d time.Duration) string { return model.Duration(d).String() }

// Rules builds the rule file for a catalogue and configuration.
func Rules(a config.Alerts, sub config.Submissions, cat *indicators.Catalogue) File {
	lookback := Duration(a.RegressionLookback)
	regression := func(name, metric, runbook, whatVI, whatEN string) alert {
		return alert{
			name: name, component: "portal", severity: Warning, hold: a.RegressionFor, runbook: runbook,
			expr:      fmt.Sprintf("%[1]s == 0 and on(agency, target) max_over_time(%[1]s[%[2]s]) == 1 and on(agency, target) probe_success == 1", metric, lookback),
			summaryVI: fmt.Sprintf("Cổng {{ $labels.target }} ({{ $labels.agency }}) mất %s", whatVI),
			summaryEN: fmt.Sprintf("Portal {{ $labels.target }} ({{ $labels.agency }}) lost %s", whatEN),
			descVI:    fmt.Sprintf("Cổng vẫn trả lời nhưng không còn %s, trong khi trong %s trước đó đã có.", whatVI, lookback),
			descEN:    fmt.Sprintf("The portal still answers but no longer has %s, which it had within the previous %s.", whatEN, lookback),
		}
	}
	portals := []alert{
		{
			name: "GOCPortalDown", component: "portal", severity: Critical, hold: a.PortalDownFor, runbook: "portal-down",
			expr:      "probe_success == 0",
			summaryVI: "Cổng {{ $labels.target }} ({{ $labels.agency }}) không truy cập được",
			summaryEN: "Portal {{ $labels.target }} ({{ $labels.agency }}) is down",
			descVI:    fmt.Sprintf("Mọi lần đo trong %s đều thất bại. Xem /status và lỗi của lần đo gần nhất.", Duration(a.PortalDownFor)),
			descEN:    fmt.Sprintf("Every probe for %s failed. See /status and the last probe's error.", Duration(a.PortalDownFor)),
		},
		{
			name: "GOCPortalSlow", component: "portal", severity: Warning, hold: a.PortalSlowFor, runbook: "portal-slow",
			expr:      fmt.Sprintf("probe_duration_seconds > %g", a.PortalSlowSeconds),
			summaryVI: "Cổng {{ $labels.target }} ({{ $labels.agency }}) phản hồi chậm",
			summaryEN: "Portal {{ $labels.target }} ({{ $labels.agency }}) is slow",
			descVI:    fmt.Sprintf("Mỗi lần đo mất hơn %g giây trong %s. Khi cổng ngừng hoạt động, cảnh báo này bị GOCPortalDown chặn.", a.PortalSlowSeconds, Duration(a.PortalSlowFor)),
			descEN:    fmt.Sprintf("Every probe took over %g s for %s. While the portal is down, GOCPortalDown inhibits this alert.", a.PortalSlowSeconds, Duration(a.PortalSlowFor)),
		},
		regression("GOCPortalHTTPSLost", "probe_http_ssl", "portal-regression", "HTTPS", "HTTPS"),
		regression("GOCPortalIPv6Lost", "goc_probe_ipv6_reachable", "portal-regression", "IPv6", "IPv6"),
		regression("GOCPortalDNSSECLost", "goc_probe_dnssec_valid", "portal-regression", "DNSSEC hợp lệ", "valid DNSSEC"),
		regression("GOCPortalMobileLost", "goc_probe_mobile_ready", "portal-regression", "giao diện di động", "mobile readiness"),
		{
			name: "GOCCertificateExpiring", component: "portal", severity: Warning, runbook: "certificate-expiring",
			expr:      fmt.Sprintf("probe_ssl_earliest_cert_expiry - time() < %d * 86400", a.CertExpiryDays),
			summaryVI: "Chứng thư số của {{ $labels.target }} ({{ $labels.agency }}) sắp hết hạn",
			summaryEN: "Certificate of {{ $labels.target }} ({{ $labels.agency }}) expires soon",
			descVI:    fmt.Sprintf("Chứng thư hết hạn trong vòng %d ngày (hoặc đã hết hạn). Gia hạn trước khi trình duyệt từ chối cổng.", a.CertExpiryDays),
			descEN:    fmt.Sprintf("The certificate expires within %d days (or has expired). Renew it before browsers refuse the portal.", a.CertExpiryDays),
		},
	}
	feeds := []alert{{
		name: "GOCFeedFailing", component: "feed", severity: Warning, hold: a.FeedFailingFor, runbook: "feed-failing",
		expr:      "goc_feed_failing == 1",
		summaryVI: "Nguồn số liệu {{ $labels.feed }} lỗi liên tục",
		summaryEN: "Feed {{ $labels.feed }} keeps failing",
		descVI:    fmt.Sprintf("Mọi lần lấy trong %s đều lỗi; không giá trị nào được lưu. Xem goc_feed_errors_total theo lý do.", Duration(a.FeedFailingFor)),
		descEN:    fmt.Sprintf("Every pull for %s failed; nothing was stored. See goc_feed_errors_total by reason.", Duration(a.FeedFailingFor)),
	}}

	// One overdue rule per periodicity the catalogue reports, each naming its due days.
	var submissions []alert
	for _, k := range catalogueKinds(cat) {
		due, ok := sub.DueDays[k]
		if !ok {
			continue
		}
		submissions = append(submissions, alert{
			name: "GOCSubmissionOverdue", component: "submission", severity: Warning, runbook: "submission-overdue",
			labels: map[string]string{"periodicity": k.String()},
			// Every replica exports the same figure: one alert per agency, not one per replica.
			expr:      fmt.Sprintf(`max without (instance) (goc_submission_overdue_seconds{periodicity=%q}) > %d * 86400`, k.String(), a.SubmissionOverdueDays),
			summaryVI: "{{ $labels.agency }} chưa nộp báo cáo kỳ {{ $labels.period }}",
			summaryEN: "{{ $labels.agency }} has not reported for {{ $labels.period }}",
			descVI:    fmt.Sprintf("Báo cáo %s đến hạn %d ngày sau khi kỳ kết thúc; đã quá hạn hơn %d ngày mà chưa nhận được giá trị nào.", kindVI(k), due, a.SubmissionOverdueDays),
			descEN:    fmt.Sprintf("%s reports are due %d days after the period ends; more than %d days past the deadline nothing has arrived.", kindEN(k), due, a.SubmissionOverdueDays),
		})
	}

	// One rule per indicator with a target, so each names its indicator in both languages.
	var progress []alert
	for _, ind := range cat.All() {
		if len(ind.Targets) == 0 {
			continue
		}
		sel := fmt.Sprintf(`goc_indicator_progress_status_class{indicator=%q}`, ind.Code)
		progress = append(progress, alert{
			name: "GOCIndicatorStatusFell", component: "progress", severity: Warning, hold: a.ProgressFor, runbook: "indicator-status-fell",
			labels:    map[string]string{"indicator": ind.Code},
			expr:      fmt.Sprintf("max without (instance) (%s) < max without (instance) (max_over_time(%s[%s]))", sel, sel, lookback),
			summaryVI: fmt.Sprintf("Tiến độ %q của {{ $labels.agency }} tụt hạng", ind.NameVI),
			summaryEN: fmt.Sprintf("Progress of {{ $labels.agency }} on %q fell a class", ind.NameEN),
			descVI:    fmt.Sprintf("Mức tiến độ tới mục tiêu {{ $labels.target_year }} của chỉ tiêu %s thấp hơn mức trong %s trước (4 đạt, 3 đúng hướng, 2 cần tăng tốc, 1 đình trệ, 0 đi lùi).", ind.Code, lookback),
			descEN:    fmt.Sprintf("The progress class toward the {{ $labels.target_year }} target on %s is below its level within the previous %s (4 achieved, 3 on track, 2 needs acceleration, 1 stagnating, 0 regressing).", ind.Code, lookback),
		})
	}

	self := []alert{
		{
			name: "GOCSpoolBacklogGrowing", component: "goc", severity: Warning, hold: a.SpoolBacklogFor, runbook: "spool-backlog",
			expr:      "deriv(goc_spool_pending_points[5m]) > 0 and goc_spool_pending_points > 0",
			summaryVI: "Hàng đợi ghi InfluxDB của {{ $labels.instance }} tăng mãi",
			summaryEN: "InfluxDB spool of {{ $labels.instance }} keeps growing",
			descVI:    fmt.Sprintf("Số điểm chờ ghi vào InfluxDB tăng suốt %s: InfluxDB không nhận hoặc nhận chậm hơn tốc độ ghi.", Duration(a.SpoolBacklogFor)),
			descEN:    fmt.Sprintf("Points waiting for InfluxDB have grown for %s: InfluxDB refuses them or takes them slower than they come.", Duration(a.SpoolBacklogFor)),
		},
		{
			name: "GOCStoreWriteErrors", component: "goc", severity: Critical, runbook: "store-errors",
			expr:      `sum by (instance, job, op) (increase(goc_store_errors_total{op!~"read.*"}[5m])) > 0`,
			summaryVI: "{{ $labels.instance }} không ghi được vào kho ({{ $labels.op }})",
			summaryEN: "{{ $labels.instance }} fails to write to the store ({{ $labels.op }})",
			descVI:    "Có thao tác ghi vào kho thất bại trong 5 phút qua. Xem nhật ký của máy chủ.",
			descEN:    "Store writes failed within the last 5 minutes. See the server's log.",
		},
		{
			name: "GOCSchedulerLagging", component: "goc", severity: Warning, hold: 10 * time.Minute, runbook: "scheduler-lag",
			expr: fmt.Sprintf("histogram_quantile(0.9, sum by (instance, job, kind, le) (rate(goc_collector_scheduling_delay_seconds_bucket[5m]))) > %g"+
				" or sum by (instance, job, kind) (increase(goc_collector_missed_runs_total[5m]) + increase(goc_collector_dropped_runs_total[5m])) > 0", a.SchedulerLagSeconds),
			summaryVI: "Bộ lập lịch của {{ $labels.instance }} chậm ({{ $labels.kind }})",
			summaryEN: "Scheduler of {{ $labels.instance }} lags ({{ $labels.kind }})",
			descVI:    fmt.Sprintf("Các lần chạy bắt đầu trễ hơn %g giây (bách phân vị 90) hoặc bị bỏ lỡ: máy quá tải hoặc giới hạn đồng thời quá thấp.", a.SchedulerLagSeconds),
			descEN:    fmt.Sprintf("Runs start more than %g s late (90th percentile) or are missed: the machine is overloaded or the concurrency limit too low.", a.SchedulerLagSeconds),
		},
		{
			name: "GOCReplicasMissing", component: "goc", severity: Critical, hold: 5 * time.Minute, runbook: "replicas-missing",
			expr:      fmt.Sprintf(`(count(up{job=%q} == 1) or vector(0)) < %d`, a.Job, a.Replicas),
			summaryVI: fmt.Sprintf("Thiếu bản sao G-OC: cần %d", a.Replicas),
			summaryEN: fmt.Sprintf("G-OC replicas missing: %d expected", a.Replicas),
			descVI:    fmt.Sprintf("Prometheus thấy ít hơn %d bản sao của job %q đang chạy.", a.Replicas, a.Job),
			descEN:    fmt.Sprintf("Prometheus sees fewer than %d replicas of job %q up.", a.Replicas, a.Job),
		},
	}

	base := strings.TrimRight(a.RunbookBaseURL, "/")
	group := func(name string, as []alert) Group {
		g := Group{Name: name}
		for _, x := range as {
			r := Rule{Alert: x.name, Expr: x.expr,
				Labels: map[string]string{"severity": x.severity, "component": x.component},
				Annotations: map[string]string{
					"summary": x.summaryVI, "summary_en": x.summaryEN,
					"description": x.descVI, "description_en": x.descEN,
					"runbook_url": base + "/" + x.runbook + ".md",
				}}
			for k, v := range x.labels {
				r.Labels[k] = v
			}
			if x.hold > 0 {
				r.For = Duration(x.hold)
			}
			g.Rules = append(g.Rules, r)
		}
		return g
	}
	f := File{Groups: []Group{
		{Name: "goc-records", Rules: []Rule{
			{Record: "agency:probe_success:avg", Expr: "avg by (agency) (probe_success)"},
			{Record: "goc:portals_down:count", Expr: "count(probe_success == 0) or vector(0)"},
			{Record: "periodicity:goc_submission_overdue:count", Expr: "count by (periodicity) (goc_submission_overdue_seconds > 0)"},
		}},
		group("goc-portals", portals),
		group("goc-feeds", feeds),
	}}
	if len(submissions) > 0 {
		f.Groups = append(f.Groups, group("goc-submissions", submissions))
	}
	if len(progress) > 0 {
		f.Groups = append(f.Groups, group("goc-progress", progress))
	}
	f.Groups = append(f.Groups, group("goc-self", self))
	return f
}

// Write writes the rule file as YAML, with a header saying where it came from.
func (f File) Write(w io.Writer) error {
	if _, err := io.WriteString(w, "# Tạo bởi / generated by `goc alerts rules`: sửa cấu hình, đừng sửa tệp này.\n"+
		"# Edit the config (alerts:) and regenerate rather than editing this file.\n"); err != nil {
		return fmt.Errorf("write rules: %w", err)
	}
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	if err := enc.Encode(f); err != nil {
		return fmt.Errorf("write rules: %w", err)
	}
	if err := enc.Close(); err != nil {
		return fmt.Errorf("write rules: %w", err)
	}
	return nil
}

// Alerts lists every alerting rule, in file order.
func (f File) Alerts() []Rule {
	var out []Rule
	for _, g := range f.Groups {
		for _, r := range g.Rules {
			if r.Alert != "" {
				out = append(out, r)
			}
		}
	}
	return out
}

// catalogueKinds lists the periodicities the catalogue's indicators are reported at.
func catalogueKinds(cat *indicators.Catalogue) []period.Kind {
	var ks []period.Kind
	for _, ind := range cat.All() {
		if !slices.Contains(ks, ind.Periodicity) {
			ks = append(ks, ind.Periodicity)
		}
	}
	slices.Sort(ks)
	return ks
}

func kindVI(k period.Kind) string {
	switch k {
	case period.Month:
		return "tháng"
	case period.Quarter:
		return "quý"
	case period.Half:
		return "6 tháng"
	case period.Year:
		return "năm"
	}
	return k.String()
}

func kindEN(k period.Kind) string {
	switch k {
	case period.Month:
		return "Monthly"
	case period.Quarter:
		return "Quarterly"
	case period.Half:
		return "Half-yearly"
	case period.Year:
		return "Yearly"
	}
	return k.String()
}
