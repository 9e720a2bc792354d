package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/grafana/grafana-plugin-sdk-go/backend"

	"github.com/g-oc/goc/grafana/plugin/pkg/plugintest"
)

func TestGrafanaDashboardsWritesTheCommittedDashboards(t *testing.T) {
	out := t.TempDir()
	stdout, stderr, code := runGoc(t, "grafana", "dashboards", "-o", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if n := strings.Count(stdout, ".json\n"); n != 5 {
		t.Errorf("printed %d files, want 5:\n%s", n, stdout)
	}
	committed, _ := filepath.Glob("../../grafana/dashboards/generated/*.json")
	if len(committed) != 5 {
		t.Fatalf("%d committed dashboards", len(committed))
	}
	for _, c := range committed {
		want, _ := os.ReadFile(c)
		got, err := os.ReadFile(filepath.Join(out, filepath.Base(c)))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s differs from what goc writes", c)
		}
	}
}

// pluginDist is the plugin build scripts/test.sh makes (scripts/build-grafana-plugin.sh).
func pluginDist(t *testing.T) string {
	t.Helper()
	dist := os.Getenv("GOC_GRAFANA_PLUGIN_DIST")
	if dist == "" {
		dist, _ = filepath.Abs("../../grafana/plugin/dist")
	}
	if _, err := os.Stat(filepath.Join(dist, "module.js")); err != nil {
		t.Fatalf("no plugin build in %s: run scripts/build-grafana-plugin.sh (scripts/test.sh does)", dist)
	}
	return dist
}

func TestGrafanaProvisionWritesAFolderAnAdminCanDropIn(t *testing.T) {
	dist := pluginDist(t)
	out := filepath.Join(t.TempDir(), "grafana")
	_, stderr, code := runGoc(t, "grafana", "provision", "-o", out, "--plugin", dist, "--url", "http://127.0.0.1:18080")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}

	var ds struct {
		APIVersion  int `yaml:"apiVersion"`
		Datasources []struct {
			Name, Type, UID, URL string
			SecureJSONData       map[string]string `yaml:"secureJsonData"`
		}
	}
	readYAML(t, filepath.Join(out, "provisioning/datasources/goc.yaml"), &ds)
	if len(ds.Datasources) != 1 {
		t.Fatalf("datasources: %+v", ds)
	}
	d := ds.Datasources[0]
	if ds.APIVersion != 1 || d.Type != "goc-goc-datasource" || d.URL != "http://127.0.0.1:18080" || d.SecureJSONData["token"] != "${GOC_GRAFANA_TOKEN}" {
		t.Errorf("data source %+v, want the plugin at the given URL with the token from $GOC_GRAFANA_TOKEN", d)
	}

	var dp struct {
		Providers []struct {
			Type    string
			Options struct{ Path string }
		}
	}
	readYAML(t, filepath.Join(out, "provisioning/dashboards/goc.yaml"), &dp)
	if len(dp.Providers) != 1 || dp.Providers[0].Type != "file" || !filepath.IsAbs(dp.Providers[0].Options.Path) {
		t.Fatalf("dashboard provider %+v, want one file provider with an absolute path", dp)
	}
	if dash, _ := filepath.Glob(filepath.Join(dp.Providers[0].Options.Path, "*.json")); len(dash) != 5 {
		t.Errorf("the provider's folder %s holds %d dashboards, want 5", dp.Providers[0].Options.Path, len(dash))
	}

	pluginDir := filepath.Join(out, "plugins", "goc-goc-datasource")
	var pj struct {
		ID         string `json:"id"`
		Backend    bool   `json:"backend"`
		Executable string `json:"executable"`
	}
	b, err := os.ReadFile(filepath.Join(pluginDir, "plugin.json"))
	if err != nil || json.Unmarshal(b, &pj) != nil {
		t.Fatalf("plugin.json: %v", err)
	}
	if pj.ID != "goc-goc-datasource" || !pj.Backend || pj.Executable != "gpx_goc" {
		t.Errorf("plugin.json %+v", pj)
	}
	bin := filepath.Join(pluginDir, "gpx_goc_linux_amd64")
	if fi, err := os.Stat(bin); err != nil || fi.Mode().Perm()&0o111 == 0 {
		t.Fatalf("backend binary %s missing or not executable: %v", bin, err)
	}
	ini, _ := os.ReadFile(filepath.Join(out, "grafana.ini"))
	if !strings.Contains(string(ini), "allow_loading_unsigned_plugins = goc-goc-datasource") {
		t.Errorf("grafana.ini does not allow the unsigned plugin:\n%s", ini)
	}
	if readme, _ := os.ReadFile(filepath.Join(out, "README.md")); !strings.Contains(string(readme), "/var/lib/grafana/plugins/goc-goc-datasource/") {
		t.Errorf("README.md does not say where the plugin goes")
	}

	// The copied backend speaks Grafana's plugin protocol: it answers a health check
	// (here that nothing listens on the address, as no G-OC runs in this test).
	p, err := plugintest.Launch(bin, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Kill()
	res, err := p.CheckHealth(context.Background(), plugintest.NewInstance("x", "http://127.0.0.1:1", ""))
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != backend.HealthStatusError || !strings.Contains(res.Message, "cannot reach G-OC") {
		t.Errorf("health %v %q", res.Status, res.Message)
	}
}

func TestGrafanaProvisionRefusesAMissingPluginBuildAndWritesNothing(t *testing.T) {
	out := filepath.Join(t.TempDir(), "grafana")
	_, stderr, code := runGoc(t, "grafana", "provision", "-o", out, "--plugin", t.TempDir())
	if code != 1 || !strings.Contains(stderr, "plugin.json, module.js, gpx_goc_") || !strings.Contains(stderr, "scripts/build-grafana-plugin.sh") {
		t.Errorf("exit %d, stderr %q: want 1 naming the missing files and how to build them", code, stderr)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("%s was created", out)
	}
}

func TestGrafanaCommandLineMistakesExit2(t *testing.T) {
	for _, args := range [][]string{
		{"grafana"},
		{"grafana", "draw"},
		{"grafana", "dashboards"},
		{"grafana", "provision"},
		{"grafana", "dashboards", "-o", t.TempDir(), "extra"},
	} {
		if _, stderr, code := runGoc(t, args...); code != 2 || stderr == "" {
			t.Errorf("goc %v: exit %d, stderr %q; want 2 with a reason", args, code, stderr)
		}
	}
	_, stderr, code := runGoc(t, "grafana", "provision", "-o", t.TempDir(), "--url", "ftp://example", "--plugin", pluginDist(t))
	if code != 1 || !strings.Contains(stderr, "not an http(s) URL") {
		t.Errorf("bad URL: exit %d, %q", code, stderr)
	}
}

func readYAML(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}
