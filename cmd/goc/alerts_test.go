package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
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
