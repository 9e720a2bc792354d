package alerting_test

import (
	"os"
	"os/exec"
	"testing"
)

// tool finds a Prometheus program: the path scripts/test.sh exports in env (it
// installs Debian's prometheus and prometheus-alertmanager when missing), else PATH.
// A missing tool fails the test: it is part of what is proven, not optional.
func tool(t *testing.T, env, name string) string {
	t.Helper()
	if p := os.Getenv(env); p != "" {
		return p
	}
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s not found: install it (scripts/test.sh installs it) or set %s", name, env)
	}
	return p
}

// runTool runs a tool and fails with its output when it exits non-zero.
func runTool(t *testing.T, path string, args ...string) string {
	t.Helper()
	out, err := exec.CommandContext(t.Context(), path, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", path, args, err, out)
	}
	return string(out)
}
