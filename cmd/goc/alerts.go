package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/g-oc/goc/internal/alerting"
	"github.com/g-oc/goc/internal/query"
	"github.com/g-oc/goc/internal/reminder"
	"github.com/g-oc/goc/internal/store"
)

const alertsUsage = `goc alerts rules        [--config FILE] [-o FILE]
goc alerts alertmanager [--config FILE] [--webhook-base URL] [-o FILE]

Quy tắc cảnh báo Prometheus và ví dụ định tuyến Alertmanager, sinh từ danh mục chỉ tiêu,
danh bạ đơn vị và mục alerts: của tệp cấu hình.
Prometheus alerting and recording rules and an example Alertmanager routing, generated
from the indicator catalogue, the agency registry and the config's alerts: section.

  rules         quy tắc cảnh báo và ghi / alerting and recording rules (promtool check rules)
  alertmanager  ví dụ cấu hình Alertmanager: theo mức độ và theo bộ, có chặn cảnh báo /
                example Alertmanager config: by severity and by ministry, with inhibition`

func runAlerts(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		fmt.Fprintln(e.stderr, alertsUsage)
		return usageError{"thiếu lệnh con / missing subcommand: rules or alertmanager"}
	}
	switch args[0] {
	case "rules":
		return runAlertsRules(e, args[1:])
	case "alertmanager":
		return runAlertsAlertmanager(e, args[1:])
	case "-h", "--help", "help":
		fmt.Fprintln(e.stdout, alertsUsage)
		return nil
	}
	return usageError{fmt.Sprintf("lệnh con không có %q / unknown subcommand %q: want rules or alertmanager", args[0], args[0])}
}

// writeOut writes data to path, or to stdout when path is empty or "-". The file is
// written whole or not at all.
func writeOut(e *env, path string, data []byte) error {
	if path == "" || path == "-" {
		_, err := e.stdout.Write(data)
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

func runAlertsRules(e *env, args []string) error {
	fs := newFlags(e, "alerts rules", `goc alerts rules [--config FILE] [-o FILE]

Ghi quy tắc cảnh báo và quy tắc ghi của Prometheus (ngưỡng lấy từ alerts: trong cấu hình).
Writes Prometheus alerting and recording rules (thresholds from the config's alerts:).
Check them with 'promtool check rules FILE'.`)
	out := fs.String("o", "", "tệp đích; mặc định stdout / output file; stdout by default")
	cfgPath := fs.String("config", "", "tệp cấu hình / config file (default: built-in settings)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cat, _, cfg, err := grafanaDomain(*cfgPath)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	if err := alerting.Rules(cfg.Alerts, cfg.Submissions, cat).Write(&b); err != nil {
		return err
	}
	return writeOut(e, *out, b.Bytes())
}

func runAlertsAlertmanager(e *env, args []string) error {
	fs := newFlags(e, "alerts alertmanager", `goc alerts alertmanager [--config FILE] [--webhook-base URL] [-o FILE]

Ghi ví dụ cấu hình Alertmanager: cảnh báo nghiêm trọng tới trực ban, sức khỏe G-OC tới
vận hành, cảnh báo của mỗi bộ (kể cả đơn vị trực thuộc) tới bộ đó; cổng ngừng hoạt động
chặn cảnh báo chậm của nó. Check it with 'amtool check-config FILE'.
Writes an example Alertmanager config: critical alerts to on-call, G-OC's health to the
operators, each ministry's alerts (its units' included) to its own receiver; a portal
that is down inhibits its latency alert.`)
	out := fs.String("o", "", "tệp đích; mặc định stdout / output file; stdout by default")
	cfgPath := fs.String("config", "", "tệp cấu hình / config file (default: built-in registry)")
	hook := fs.String("webhook-base", "http://127.0.0.1:9095/alerts", "địa chỉ gốc của webhook / base URL of the receivers' webhooks")
	wait := fs.Duration("group-wait", 30*time.Second, "chờ trước thông báo đầu của một nhóm / route.group_wait")
	interval := fs.Duration("group-interval", 5*time.Minute, "giữa hai thông báo của một nhóm / route.group_interval")
	repeat := fs.Duration("repeat-interval", 4*time.Hour, "nhắc lại cảnh báo chưa hết / route.repeat_interval")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	_, reg, _, err := grafanaDomain(*cfgPath)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	if err := alerting.WriteAlertmanager(&b, reg, alerting.AlertmanagerOptions{WebhookBase: *hook, On: time.Now(),
		GroupWait: *wait, GroupInterval: *interval, RepeatInterval: *repeat}); err != nil {
		return err
	}
	return writeOut(e, *out, b.Bytes())
}

// startAlerting registers the gauges the alerting rules read and schedules their
// refresh and, when alerts.reminders is enabled, the deadline reminders, on gocron.
func (a *app) startAlerting(q *query.Service) (*alerting.Jobs, error) {
	g := alerting.NewGauges(q, a.catalogue, a.registry, a.cfg.Submissions.DueDays, a.cfg.Server.Location)
	if err := a.metrics.Registry.Register(g); err != nil {
		return nil, fmt.Errorf("register alerting gauges: %w", err)
	}
	jobs := []alerting.Job{{Name: "alerting gauges", Every: a.cfg.Alerts.RefreshEvery, Run: g.Refresh}}
	rs := a.cfg.Alerts.Reminders
	if rs.Enabled {
		rem, err := a.newReminder(q)
		if err != nil {
			return nil, err
		}
		jobs = append(jobs, alerting.Job{Name: "deadline reminders", Every: rs.CheckEvery, Run: rem.Run})
		a.log.Info("đã bật thư nhắc hạn nộp / deadline reminders on", "officers", len(rs.Officers), "smtp", rs.SMTP.Addr, "every", rs.CheckEvery)
	}
	return alerting.StartJobs(jobs, nil, a.log)
}

// newReminder builds the reminder job from the config; the store must keep the
// record of what was sent, so that no replica and no restart sends a mail twice.
func (a *app) newReminder(q *query.Service) (*reminder.Reminder, error) {
	rs := a.cfg.Alerts.Reminders
	log, ok := a.store.(store.ReminderLog)
	if a.shared != nil {
		// Replicas share one record of what was sent, in Redis.
		log, ok = a.shared, true
	}
	if !ok {
		return nil, fmt.Errorf("alerts.reminders: kho %s không giữ được nhật ký thư nhắc / the %s store keeps no reminder log; use the sqlite backend, or redis.addr, for reminders",
			a.cfg.Store.Backend, a.cfg.Store.Backend)
	}
	sender := &reminder.SMTP{Addr: rs.SMTP.Addr, From: rs.SMTP.From, Username: rs.SMTP.Username, Password: rs.SMTP.Password.Reveal()}
	if rs.SMTP.CAFile != "" {
		pool, err := reminder.LoadCAs(rs.SMTP.CAFile)
		if err != nil {
			return nil, fmt.Errorf("alerts.reminders.%w", err)
		}
		sender.RootCAs = pool
	}
	sent := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "goc_reminders_sent_total",
		Help: "Deadline reminder mails sent to reporting officers, by stage (before-N, deadline, after-K).",
	}, []string{"stage"})
	if err := a.metrics.Registry.Register(sent); err != nil {
		return nil, fmt.Errorf("register reminder metrics: %w", err)
	}
	return reminder.New(reminder.Options{
		Settings: rs, DueDays: a.cfg.Submissions.DueDays, Location: a.cfg.Server.Location,
		Catalogue: a.catalogue, Registry: a.registry, Reader: q, Log: log, Sender: sender, Logger: a.log,
		Sent: func(stage string) { sent.WithLabelValues(stage).Inc() },
	})
}
