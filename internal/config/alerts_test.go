package config

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestInvalidAlertSettingsAreEachReportedWithTheirLine(t *testing.T) {
	name := filepath.Join("testdata", "invalid-alerts.yml")
	_, err := Load(name)
	want := []string{
		name + `:3: alerts.portal_down_for: "soon" is not a positive duration`,
		name + `:4: alerts.cert_expiry_days: "0" must be a whole number from 1 to 365`,
		name + `:5: alerts.replicas: "two" must be a whole number from 1 to 1000`,
		name + `:6: alerts.runbook_base_url: "ftp://docs" must be an http:// or https:// address`,
		name + `:8: alerts.reminders.base_url: required when reminders are enabled`,
		name + `:8: alerts.reminders.smtp.addr: required when reminders are enabled`,
		name + `:8: alerts.reminders.smtp.from: required when reminders are enabled`,
		name + `:9: alerts.reminders.before_days: 7 is listed twice`,
		name + `:9: alerts.reminders.before_days: "0" must be a whole number from 1 to 366`,
		name + `:12: alerts.reminders.officers[0].emails: "not-an-address" is not a mail address`,
		name + `:13: alerts.reminders.officers[1].agency: required`,
		name + `:14: alerts.reminders.opt_out: "x@" is not a mail address`,
	}
	ps := problemsOf(t, err)
	if len(ps) != len(want) {
		t.Fatalf("got %d problems, want %d:\n%v", len(ps), len(want), err)
	}
	for i, w := range want {
		if got := ps[i].String(); !strings.HasPrefix(got, w) {
			t.Errorf("problem %d:\n got  %s\n want %s…", i+1, got, w)
		}
	}
}

func TestAlertSettingsAreRead(t *testing.T) {
	c, err := Parse("goc.yaml", []byte(`
store: {path: goc.db}
alerts:
  portal_down_for: 2m
  regression_lookback: 30d
  submission_overdue_days: 5
  reminders:
    enabled: true
    base_url: https://goc.gov.vn/
    before_days: [3]
    after_every_days: 2
    smtp: {addr: "127.0.0.1:2525", from: goc@goc.gov.vn, password: s3cret}
    officers:
      - {agency: P20, emails: [Thu.Ky@LangSon.gov.vn]}
    opt_out: [nghi@langson.gov.vn]
`), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	a := c.Alerts
	r := a.Reminders
	if a.PortalDownFor != 2*time.Minute || a.RegressionLookback != 30*24*time.Hour || a.SubmissionOverdueDays != 5 || a.CertExpiryDays != 14 {
		t.Errorf("alerts = %+v", a)
	}
	if !r.Enabled || r.BaseURL != "https://goc.gov.vn" || r.ReportsPath != DefaultReportsPath || len(r.BeforeDays) != 1 || r.AfterEveryDays != 2 ||
		r.SMTP.Password.Reveal() != "s3cret" || r.Officers[0].Emails[0] != "thu.ky@langson.gov.vn" || !r.OptedOut("Nghi@langson.gov.vn") {
		t.Errorf("reminders = %+v", r)
	}
}

func TestReminderOfficersOfAnUnknownAgencyAreReportedWithTheirLine(t *testing.T) {
	c, err := Parse("goc.yaml", []byte(`store: {path: goc.db}
alerts:
  reminders:
    officers:
      - {agency: P20, emails: [a@langson.gov.vn]}
      - agency: P99
        emails: [b@nowhere.gov.vn]
`), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	err = c.CheckAgencies(func(code string) bool { return code == "P20" })
	if err == nil || !strings.Contains(err.Error(), `goc.yaml:6: alerts.reminders.officers[1].agency: unknown agency "P99"`) {
		t.Fatalf("CheckAgencies = %v", err)
	}
}
