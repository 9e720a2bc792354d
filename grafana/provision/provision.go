// Package provision writes what a Grafana admin drops into an existing Grafana 11 or 12
// to get G-OC: the data source and dashboard provisioning files, the generated
// dashboards, and the plugin folder (frontend bundle and backend binary).
package provision

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/g-oc/goc/grafana/dashboards"
	"github.com/g-oc/goc/grafana/plugin/pkg/models"
	"github.com/g-oc/goc/indicators"
)

// Options say where G-OC is and where the files will live on the Grafana host.
type Options struct {
	// GOCURL is G-OC's address as Grafana's server reaches it.
	GOCURL string
	// TokenEnv names the environment variable Grafana reads the token from when it loads
	// the data source file, so the token is never written to disk here. Empty writes no
	// token: the data source is read-only.
	TokenEnv string
	// DashboardsPath is where the dashboards folder will be on the Grafana host; the
	// absolute path of <out>/dashboards when empty.
	DashboardsPath string
	// PluginDist is the built plugin: `npm run build` output plus the backend binary.
	PluginDist string
}

// BackendBinary is the backend's file name for this machine, as Grafana looks it up:
// the executable from plugin.json, then _<os>_<arch>.
func BackendBinary() string { return "gpx_goc_" + runtime.GOOS + "_" + runtime.GOARCH }

// CheckPluginDist says what is missing from a plugin build, before anything is written.
func CheckPluginDist(dir string) error {
	var missing []string
	for _, f := range []string{"plugin.json", "module.js", BackendBinary()} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			missing = append(missing, f)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("bản dựng plugin ở %s thiếu %s / the plugin build in %s lacks %s: build it with scripts/build-grafana-plugin.sh, or point --plugin at a built plugin folder",
			dir, strings.Join(missing, ", "), dir, strings.Join(missing, ", "))
	}
	return nil
}

// Write writes the provisioning tree into out:
//
//	out/provisioning/datasources/goc.yaml
//	out/provisioning/dashboards/goc.yaml
//	out/dashboards/*.json
//	out/plugins/goc-goc-datasource/...
//	out/grafana.ini        (the setting to merge into Grafana's own)
//	out/README.md          (where each piece goes)
//
// It returns the files written.
func Write(out string, o Options, cat *indicators.Catalogue, reg *indicators.Registry) ([]string, error) {
	if o.GOCURL == "" {
		return nil, errors.New("thiếu địa chỉ G-OC / G-OC's URL is required")
	}
	if _, err := models.LoadSettings(o.GOCURL, nil, nil); err != nil {
		return nil, err
	}
	if err := CheckPluginDist(o.PluginDist); err != nil {
		return nil, err
	}
	// Generate before touching the disk, so a failure leaves nothing half-written.
	files, err := dashboards.Generate(cat, reg)
	if err != nil {
		return nil, err
	}
	absOut, err := filepath.Abs(out)
	if err != nil {
		return nil, fmt.Errorf("output folder: %w", err)
	}
	dashPath := o.DashboardsPath
	if dashPath == "" {
		dashPath = filepath.Join(absOut, "dashboards")
	}
	var written []string
	write := func(rel string, data []byte, mode os.FileMode) error {
		p := filepath.Join(out, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return fmt.Errorf("create %s: %w", filepath.Dir(p), err)
		}
		if err := os.WriteFile(p, data, mode); err != nil {
			return fmt.Errorf("write %s: %w", p, err)
		}
		written = append(written, p)
		return nil
	}
	ds, err := datasourceYAML(o)
	if err != nil {
		return nil, err
	}
	if err := write("provisioning/datasources/goc.yaml", ds, 0o644); err != nil {
		return nil, err
	}
	dp, err := dashboardProviderYAML(dashPath)
	if err != nil {
		return nil, err
	}
	if err := write("provisioning/dashboards/goc.yaml", dp, 0o644); err != nil {
		return nil, err
	}
	for _, f := range files {
		if err := write(filepath.Join("dashboards", f.Name), f.JSON, 0o644); err != nil {
			return nil, err
		}
	}
	if err := write("grafana.ini", []byte(iniSnippet()), 0o644); err != nil {
		return nil, err
	}
	if err := write("README.md", []byte(readme(absOut, dashPath)), 0o644); err != nil {
		return nil, err
	}
	copied, err := copyTree(o.PluginDist, filepath.Join(out, "plugins", models.PluginID))
	if err != nil {
		return nil, err
	}
	return append(written, copied...), nil
}

// DatasourceUID is the provisioned data source's UID.
const DatasourceUID = "goc"

// datasource is one entry of a data source provisioning file, in Grafana's order.
type datasource struct {
	Name           string            `yaml:"name"`
	Type           string            `yaml:"type"`
	UID            string            `yaml:"uid"`
	Access         string            `yaml:"access"`
	URL            string            `yaml:"url"`
	IsDefault      bool              `yaml:"isDefault"`
	Editable       bool              `yaml:"editable"`
	JSONData       map[string]any    `yaml:"jsonData"`
	SecureJSONData map[string]string `yaml:"secureJsonData,omitempty"`
}

func datasourceYAML(o Options) ([]byte, error) {
	ds := datasource{
		Name: "G-OC", Type: models.PluginID, UID: DatasourceUID, Access: "proxy",
		URL: strings.TrimRight(o.GOCURL, "/"), Editable: true,
		JSONData: map[string]any{"timeoutSeconds": 30},
	}
	if o.TokenEnv != "" {
		// Grafana expands ${VAR} when it reads the file: the token stays in its environment.
		ds.SecureJSONData = map[string]string{models.SecureTokenKey: "${" + o.TokenEnv + "}"}
	}
	return marshal("G-OC data source. Grafana reads it at start-up from provisioning/datasources.", struct {
		APIVersion  int          `yaml:"apiVersion"`
		Datasources []datasource `yaml:"datasources"`
	}{1, []datasource{ds}})
}

// provider is one entry of a dashboard provisioning file, in Grafana's order.
type provider struct {
	Name                  string `yaml:"name"`
	OrgID                 int    `yaml:"orgId"`
	Folder                string `yaml:"folder"`
	FolderUID             string `yaml:"folderUid"`
	Type                  string `yaml:"type"`
	DisableDeletion       bool   `yaml:"disableDeletion"`
	AllowUIUpdates        bool   `yaml:"allowUiUpdates"`
	UpdateIntervalSeconds int    `yaml:"updateIntervalSeconds"`
	Options               struct {
		Path string `yaml:"path"`
	} `yaml:"options"`
}

func dashboardProviderYAML(path string) ([]byte, error) {
	p := provider{Name: "G-OC", OrgID: 1, Folder: "G-OC", FolderUID: "goc", Type: "file", AllowUIUpdates: true, UpdateIntervalSeconds: 60}
	p.Options.Path = path
	return marshal("G-OC dashboards, generated from the indicator catalogue by 'goc grafana dashboards'.", struct {
		APIVersion int        `yaml:"apiVersion"`
		Providers  []provider `yaml:"providers"`
	}{1, []provider{p}})
}

func marshal(comment string, v any) ([]byte, error) {
	b, err := yaml.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode provisioning YAML: %w", err)
	}
	return append([]byte("# "+comment+"\n"), b...), nil
}

// iniSnippet is what to merge into grafana.ini: the G-OC plugin is not signed by
// Grafana Labs, so Grafana loads it only when it is named here.
func iniSnippet() string {
	return fmt.Sprintf(`# Merge into grafana.ini (or set GF_PLUGINS_ALLOW_LOADING_UNSIGNED_PLUGINS=%[1]s).
# The G-OC plugin is not signed by Grafana Labs, so Grafana loads it only when it is
# named in allow_loading_unsigned_plugins.
[plugins]
allow_loading_unsigned_plugins = %[1]s
`, models.PluginID)
}

// readme tells the admin where each piece goes, with this folder's own paths.
func readme(abs, dashPath string) string {
	return fmt.Sprintf(`# G-OC for Grafana 11 and 12

Generated by 'goc grafana provision'. Each piece goes where your Grafana already looks.

| here | copy to (Debian/RPM package defaults) |
|---|---|
| plugins/%[3]s/ | /var/lib/grafana/plugins/%[3]s/ |
| provisioning/datasources/goc.yaml | /etc/grafana/provisioning/datasources/ |
| provisioning/dashboards/goc.yaml | /etc/grafana/provisioning/dashboards/ |
| dashboards/*.json | %[2]s (the path in provisioning/dashboards/goc.yaml) |
| grafana.ini | merge its [plugins] line into /etc/grafana/grafana.ini |

Then restart Grafana. The data source "G-OC" reads its token from the environment
variable named in provisioning/datasources/goc.yaml when Grafana starts.

A Grafana used only for G-OC can point at this folder instead of copying:

    GF_PATHS_PLUGINS=%[1]s/plugins \
    GF_PATHS_PROVISIONING=%[1]s/provisioning \
    GF_PLUGINS_ALLOW_LOADING_UNSIGNED_PLUGINS=%[3]s \
    grafana server --homepath /usr/share/grafana
`, abs, dashPath, models.PluginID)
}

// copyTree copies the plugin build, keeping the backend executable.
func copyTree(src, dst string) ([]string, error) {
	var written []string
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		in, err := os.Open(p)
		if err != nil {
			return err
		}
		defer in.Close()
		out, err := os.OpenFile(target, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, info.Mode().Perm())
		if err != nil {
			return err
		}
		if _, err := io.Copy(out, in); err != nil {
			out.Close()
			return err
		}
		if err := out.Close(); err != nil {
			return err
		}
		written = append(written, target)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("copy plugin %s to %s: %w", src, dst, err)
	}
	return written, nil
}
