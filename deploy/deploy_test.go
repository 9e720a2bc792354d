// Package deploy holds deployment examples (Prometheus, systemd, Kubernetes); its
// tests check that the examples are what the tools and G-OC accept.
package deploy

import (
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/g-oc/goc/internal/config"
)

func TestPrometheusConfigPassesPromtoolCheck(t *testing.T) {
	promtool := os.Getenv("GOC_PROMTOOL")
	if promtool == "" {
		var err error
		if promtool, err = exec.LookPath("promtool"); err != nil {
			t.Fatal("promtool not found: install prometheus (scripts/test.sh does) or set GOC_PROMTOOL")
		}
	}
	out, err := exec.CommandContext(t.Context(), promtool, "check", "config", filepath.Join("prometheus", "prometheus.yml")).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "SUCCESS") {
		t.Fatalf("promtool check config: %v\n%s", err, out)
	}
}

func TestPrometheusFileDiscoveryListsEachReplicaOnceWithItsName(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("prometheus", "goc-replicas.json"))
	if err != nil {
		t.Fatal(err)
	}
	var groups []struct {
		Targets []string          `json:"targets"`
		Labels  map[string]string `json:"labels"`
	}
	if err := json.Unmarshal(b, &groups); err != nil {
		t.Fatalf("goc-replicas.json: %v", err)
	}
	seen := map[string]bool{}
	for _, g := range groups {
		name := g.Labels["replica"]
		if name == "" || seen[name] {
			t.Errorf("group %v: each replica needs its own replica label", g)
		}
		seen[name] = true
		for _, tg := range g.Targets {
			if _, _, err := net.SplitHostPort(tg); err != nil {
				t.Errorf("target %q is not host:port", tg)
			}
		}
	}
	if len(seen) < 3 {
		t.Errorf("%d replicas listed, want the three of the README's example", len(seen))
	}
}

// The ConfigMap's G-OC config is a config G-OC accepts (the manifest itself is not
// tested against a cluster here).
func TestKubernetesConfigMapHoldsAValidGocConfig(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("kubernetes", "goc.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	kinds := map[string]int{}
	for {
		var doc struct {
			Kind string            `yaml:"kind"`
			Data map[string]string `yaml:"data"`
			Spec struct {
				Replicas int `yaml:"replicas"`
			} `yaml:"spec"`
		}
		if err := dec.Decode(&doc); err != nil {
			break
		}
		kinds[doc.Kind]++
		switch doc.Kind {
		case "ConfigMap":
			t.Setenv("GOC_INFLUX_TOKEN", "t")
			t.Setenv("GOC_REDIS_PASSWORD", "p")
			t.Setenv("POD_NAME", "goc-abc")
			c, err := config.Parse("goc.yaml", []byte(doc.Data["goc.yaml"]), t.TempDir())
			if err != nil {
				t.Fatalf("the ConfigMap's goc.yaml:\n%v", err)
			}
			if c.Redis.Addr == "" || c.Redis.Replica != "goc-abc" || c.Store.Backend != config.BackendInflux {
				t.Errorf("the ConfigMap's config: redis %+v, backend %s; want Redis, the pod's name and InfluxDB", c.Redis, c.Store.Backend)
			}
		case "Deployment":
			if doc.Spec.Replicas != 3 {
				t.Errorf("Deployment replicas = %d, want 3", doc.Spec.Replicas)
			}
		}
	}
	for _, k := range []string{"ConfigMap", "Deployment", "Service"} {
		if kinds[k] != 1 {
			t.Errorf("%d %s in the manifest, want 1", kinds[k], k)
		}
	}
}
