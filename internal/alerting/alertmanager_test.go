package alerting_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/internal/alerting"
)

func writeAlertmanager(t *testing.T) string {
	t.Helper()
	var b bytes.Buffer
	if err := alerting.WriteAlertmanager(&b, indicators.DefaultRegistry(), alerting.AlertmanagerOptions{
		WebhookBase: "http://127.0.0.1:9095/alerts", On: time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "alertmanager.yml")
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestAlertmanagerExamplePassesAmtoolCheck(t *testing.T) {
	amtool := tool(t, "GOC_AMTOOL", "amtool")
	out := runTool(t, amtool, "check-config", writeAlertmanager(t))
	if !strings.Contains(out, "SUCCESS") || !strings.Contains(out, "2 inhibit rules") {
		t.Fatalf("amtool check-config:\n%s", out)
	}
}

// TestAlertmanagerRoutesEachMinistryToItsOwnReceiver asks amtool where alerts go:
// a ministry's alerts (those of its units too) to its own receiver, critical ones to
// on-call as well, G-OC's own health to the operators, a province's to the
// provinces' desk.
func TestAlertmanagerRoutesEachMinistryToItsOwnReceiver(t *testing.T) {
	amtool := tool(t, "GOC_AMTOOL", "amtool")
	path := writeAlertmanager(t)
	reg := indicators.DefaultRegistry()
	var ministry, province string
	for _, a := range reg.All() {
		switch {
		case ministry == "" && a.Level() == indicators.Ministry:
			ministry = a.Code
		case province == "" && a.Level() == indicators.Province:
			province = a.Code
		}
	}
	for _, c := range []struct {
		labels []string
		want   string
	}{
		{[]string{"alertname=GOCPortalSlow", "severity=warning", "agency=" + ministry}, alerting.ReceiverOf(ministry)},
		{[]string{"alertname=GOCPortalDown", "severity=critical", "agency=" + ministry}, alerting.ReceiverOnCall + "," + alerting.ReceiverOf(ministry)},
		{[]string{"alertname=GOCStoreWriteErrors", "severity=critical", "component=goc"}, alerting.ReceiverOnCall + "," + alerting.ReceiverOperators},
		{[]string{"alertname=GOCSubmissionOverdue", "severity=warning", "agency=" + province}, alerting.ReceiverProvinces},
	} {
		out := runTool(t, amtool, append([]string{"config", "routes", "test", "--config.file=" + path}, c.labels...)...)
		// amtool warns on stderr first that the file overrides --alertmanager.url.
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if got := lines[len(lines)-1]; got != c.want {
			t.Errorf("%v goes to %q, want %q", c.labels, got, c.want)
		}
	}
}
