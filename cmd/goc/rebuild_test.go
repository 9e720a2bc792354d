package main

import (
	"strings"
	"testing"
)

func TestRebuildRecomputesThePortalWindowsOfTheConfiguredStore(t *testing.T) {
	s := newSite(t)
	out, errOut, code := runGoc(t, "rebuild", "--config", s.config)
	if code != 0 || !strings.Contains(out, "portal uptime windows recomputed from history") {
		t.Errorf("exit %d\n%s\n%s", code, out, errOut)
	}
	if _, errOut, code := runGoc(t, "rebuild"); code != 2 || !strings.Contains(errOut, "--config is required") {
		t.Errorf("without --config: exit %d, want 2\n%s", code, errOut)
	}
}
