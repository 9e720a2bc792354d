package main

import (
	"strings"
	"testing"
)

// An operator loading history already reviewed elsewhere publishes it with --approve;
// without it, imported figures wait for a reviewer like any submission.
func TestImportWithApprovePublishesTheImportedPeriods(t *testing.T) {
	s := newSite(t)
	hist, _ := s.history(t)
	out, errOut, code := runGoc(t, "import", hist, "--config", s.config)
	if code != 0 || strings.Contains(out, "approved and published") {
		t.Fatalf("import: exit %d\n%s\n%s", code, out, errOut)
	}
	out, errOut, code = runGoc(t, "import", hist, "--config", s.config, "--approve")
	if code != 0 || !strings.Contains(out, "approved and published 8 kỳ báo cáo / submissions") {
		t.Fatalf("import --approve: exit %d\n%s\n%s", code, out, errOut)
	}
	srv := startGoc(t, "serve", "--config", s.config)
	var obs struct {
		Count int `json:"count"`
	}
	srv.getJSON(t, "/api/v1/observations?indicator=dossiers_fully_online&agency=P20&history=true", &obs)
	if obs.Count != 8 {
		t.Errorf("the public sees %d imported figures, want the 8 approved on import", obs.Count)
	}
}
