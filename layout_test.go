package goc_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/g-oc/goc/"

// layers are the directions G-OC's imports may point, the table of the README's
// Layout section: a package of a layer imports, of G-OC, only packages of its own
// layer and of the layers listed. The first layer whose prefix matches a package
// (longest prefix first) is its layer. Data flows collect → intake → store → query →
// present; indicators is the domain every layer speaks; leaves import nothing of
// G-OC.
type layer struct {
	name     string
	prefixes []string
	may      []string
	// apart: the prefixes of this layer may not import each other (a presenter never
	// reaches into another presenter).
	apart bool
}

var layers = []layer{
	{"domain", []string{"indicators"}, nil, false},
	{"leaves", []string{"api", "internal/secret", "internal/redact", "internal/outbound", "internal/auth",
		"internal/limit", "internal/forwarded", "internal/metrics", "internal/termbar", "internal/redistest",
		"collectors/probe/probetest", "internal/store/influx/influxtest", "internal/web/webtest",
		// The collectors' own configuration types and their validation, which
		// internal/config composes without linking a collector.
		"internal/problem", "collectors/probe/probeconfig", "collectors/feed/feedconfig"}, nil, false},
	{"intake", []string{"internal/intake", "internal/submission"}, []string{"domain"}, false},
	{"collect", []string{"collectors"}, []string{"domain", "leaves", "intake"}, false},
	{"store", []string{"internal/store"}, []string{"domain", "leaves"}, false},
	{"query", []string{"internal/query"}, []string{"domain", "store port"}, false},
	{"config", []string{"internal/config"}, []string{"domain", "leaves"}, false},
	{"present", []string{"internal/api", "internal/web", "reports", "grafana", "internal/alerting",
		"internal/reminder", "internal/demo", "internal/opendata"}, []string{"domain", "leaves", "intake", "query", "store port", "config"}, true},
	{"wiring", []string{"cmd", "bench", "internal/apiparts"}, []string{"*"}, false},
}

// storePort is the one package of the store layer others may import: the Store
// interface and its capabilities, never a backend.
const storePort = "internal/store"

// knownWrongWays are imports against the table that are still to be turned around;
// the test fails when one of them is gone too, so the list only shrinks. Issue 20
// turned the last ones around: an import against the table is now fixed, not listed.
var knownWrongWays []string

// layerOf is the layer of pkg and the prefix that put it there.
func layerOf(pkg string) (name, prefix string, ok bool) {
	for _, l := range layers {
		for _, p := range l.prefixes {
			if (pkg == p || strings.HasPrefix(pkg, p+"/")) && len(p) > len(prefix) {
				name, prefix = l.name, p
			}
		}
	}
	return name, prefix, prefix != ""
}

func allowed(from, to string) bool {
	lf, pf, _ := layerOf(from)
	lt, pt, _ := layerOf(to)
	if lf == lt {
		return pf == pt || !slices.ContainsFunc(layers, func(l layer) bool { return l.name == lf && l.apart })
	}
	for _, l := range layers {
		if l.name != lf {
			continue
		}
		return slices.Contains(l.may, "*") || slices.Contains(l.may, lt) ||
			(to == storePort && slices.Contains(l.may, "store port"))
	}
	return false
}

type listedPackage struct {
	ImportPath string
	Imports    []string
}

// goList lists every package of the module with its (non-test) imports.
func goList(t *testing.T) []listedPackage {
	t.Helper()
	out, err := exec.Command("go", "list", "-json=ImportPath,Imports", "./...").Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("go list: %v\n%s", err, ee.Stderr)
		}
		t.Fatalf("go list: %v", err)
	}
	var pkgs []listedPackage
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p listedPackage
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("decode go list: %v", err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

func TestImportsPointTheWayTheLayoutTableSays(t *testing.T) {
	var wrong []string
	for _, p := range goList(t) {
		from, ok := strings.CutPrefix(p.ImportPath, module)
		if !ok {
			continue // the module root: this test
		}
		if _, _, ok := layerOf(from); !ok {
			if len(goc(p.Imports)) > 0 {
				t.Errorf("package %s has no row in the layout table: add it to layers and to the README's Layout section", from)
			}
			continue
		}
		for _, to := range goc(p.Imports) {
			if _, _, ok := layerOf(to); !ok {
				continue // reported as its own package above
			}
			if !allowed(from, to) {
				wrong = append(wrong, from+" -> "+to)
			}
		}
	}
	for _, w := range wrong {
		if !slices.Contains(knownWrongWays, w) {
			t.Errorf("%s points against the layout table (README, Layout)", w)
		}
	}
	for _, k := range knownWrongWays {
		if !slices.Contains(wrong, k) {
			t.Errorf("%s is gone: take it off knownWrongWays", k)
		}
	}
}

// goc keeps G-OC's own packages of imports, without the module prefix.
func goc(imports []string) []string {
	var out []string
	for _, i := range imports {
		if rest, ok := strings.CutPrefix(i, module); ok {
			out = append(out, rest)
		}
	}
	return out
}

// The table must catch what it is for: a collector importing the store, a store
// backend importing config, a presenter reaching into a backend.
func TestLayoutTableRefusesTheWrongWaysItWasWrittenFor(t *testing.T) {
	for _, c := range []struct {
		from, to string
		ok       bool
	}{
		{"collectors/probe", "internal/store", false},
		{"collectors/schedule", "internal/store/sqlite", false},
		{"internal/store/influx", "internal/config", false},
		{"internal/store/influx", "internal/secret", true},
		{"internal/api", "internal/store/sqlite", false},
		{"internal/api", "internal/store", true},
		{"internal/web", "internal/query", true},
		{"internal/query", "internal/store/sqlite", false},
		{"internal/query", "internal/store/yearfigures", false},
		{"internal/store/influx", "internal/store/yearfigures", true},
		{"indicators", "internal/store", false},
		{"internal/intake", "collectors/feed", false},
		{"collectors/feed", "internal/intake", true},
		{"internal/config", "collectors/probe", false},
		{"internal/config", "collectors/probe/probeconfig", true},
		{"collectors/probe", "collectors/probe/probeconfig", true},
		{"collectors/probe/probeconfig", "collectors/probe", false},
		{"cmd/goc", "internal/store/sqlite", true},
		{"internal/api", "reports", false},
		{"internal/web", "internal/api", false},
		{"grafana/provision", "grafana/dashboards", true},
	} {
		if got := allowed(c.from, c.to); got != c.ok {
			t.Errorf("%s -> %s allowed = %v, want %v", c.from, c.to, got, c.ok)
		}
	}
}
