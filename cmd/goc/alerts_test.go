package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/g-oc/goc/internal/reminder/smtptest"
)

// TestAlertsRulesFollowsTheConfigAndABadConfigWritesNothing runs the command as an
// operator would: the thresholds of the config's alerts: section end up in the rules,
// and a config with a mistake names its line, exits 1 and leaves no file behind.
func TestAlertsRulesFollowsTheConfigAndABadConfigWritesNothing(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "goc.yaml")
	os.WriteFile(good, []byte("store: {path: goc.db}\nalerts:\n  portal_down_for: 10m\n  cert_expiry_days: 30\n"), 0o600)
	out := filepath.Join(dir, "rules.yml")
	if stdout, stderr, code := runGoc(t, "alerts", "rules", "--config", good, "-o", out); code != 0 {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"alert: GOCPortalDown\n        expr: probe_success == 0\n        for: 10m", "< 30 * 86400", "runbook_url: https://github.com/g-oc/goc/blob/main/docs/runbooks/portal-down.md"} {
		if !strings.Contains(string(data), want) {
			t.Errorf("rules lack %q", want)
		}
	}

	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("store: {path: goc.db}\nalerts:\n  portal_down_for: soon\n"), 0o600)
	out2 := filepath.Join(dir, "rules2.yml")
	_, stderr, code := runGoc(t, "alerts", "rules", "--config", bad, "-o", out2)
	if code != 1 || !strings.Contains(stderr, "bad.yaml:3: alerts.portal_down_for:") {
		t.Errorf("bad config: exit %d, stderr %q; want 1 naming line 3", code, stderr)
	}
	if _, err := os.Stat(out2); !os.IsNotExist(err) {
		t.Errorf("a bad config left %s behind", out2)
	}
	if _, stderr, code := runGoc(t, "alerts", "nonsense"); code != 2 || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
		t.Errorf("unknown subcommand: exit %d, stderr %q; want 2 and one line", code, stderr)
	}
}

// TestServeMailsRemindersThroughAStartTLSRelay runs goc serve with reminders on, an
// empty store (so every report is missing) and a real SMTP relay on loopback that
// offers STARTTLS with a certificate of the test's own CA (smtp.ca_file). Reminder
// stages cover every day (before_days 1..62, then every day after), so whatever
// today's date, the first run mails Lang Son's officer, and nobody who opted out.
func TestServeMailsRemindersThroughAStartTLSRelay(t *testing.T) {
	relay := smtptest.Start(t, true)
	dir := t.TempDir()
	days := make([]string, 62)
	for i := range days {
		days[i] = strconv.Itoa(i + 1)
	}
	cfg := filepath.Join(dir, "goc.yaml")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`server: {addr: "127.0.0.1:0"}
store: {path: goc.db}
alerts:
  reminders:
    enabled: true
    base_url: https://goc.example.gov.vn
    before_days: [%s]
    after_every_days: 1
    smtp: {addr: %q, from: goc@example.gov.vn, ca_file: %q}
    officers:
      - {agency: P20, emails: [thu.ky@langson.example.vn, nghi.phep@langson.example.vn]}
    opt_out: [nghi.phep@langson.example.vn]
`, strings.Join(days, ", "), relay.Addr, relay.CAFile(t, dir))), 0o600)
	if out, errOut, code := runGoc(t, "validate", "--config", cfg); code != 0 {
		t.Fatalf("validate: exit %d\n%s%s", code, out, errOut)
	}
	s := startGoc(t, "serve", "--config", cfg)
	waitFor(t, 30*time.Second, "a reminder reaches the relay", func() bool { return len(relay.Mails()) > 0 })
	for _, m := range relay.Mails() {
		if m.To != "thu.ky@langson.example.vn" || !m.TLS {
			t.Errorf("mail to %s (TLS %v)", m.To, m.TLS)
		}
		if !strings.Contains(m.Body, "https://goc.example.gov.vn/officer/reports?agency=P20&period=") {
			t.Errorf("mail %q has no link to the officer's reports page:\n%s", m.Subject, m.Body)
		}
	}
	waitFor(t, 10*time.Second, "goc_reminders_sent_total counts the mails", func() bool {
		resp, err := http.Get(s.url + "/metrics")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return strings.Contains(string(b), "goc_reminders_sent_total{stage=")
	})
}
