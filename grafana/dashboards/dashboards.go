// Package dashboards generates G-OC's Grafana dashboards from the indicator catalogue
// and the agency registry with grafana-foundation-sdk: a national overview with a gauge
// and a trend per target, an agency drill-down, rankings, portal probes and submission
// completeness. Every panel queries the G-OC data source plugin, so adding an indicator
// or a target to the catalogue adds its panels at the next generation.
package dashboards

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/grafana/grafana-foundation-sdk/go/dashboard"

	"github.com/g-oc/goc/grafana/plugin/pkg/models"
	"github.com/g-oc/goc/indicators"
)

// File is one generated dashboard.
type File struct {
	// Name is the file name, the dashboard's UID with .json.
	Name  string
	Title string
	JSON  []byte
}

// Generate builds every dashboard. The output depends only on the catalogue and the
// registry, so the files in the repository can be checked against a fresh generation.
func Generate(cat *indicators.Catalogue, reg *indicators.Registry) ([]File, error) {
	builders := []func(*indicators.Catalogue, *indicators.Registry) (*dashboard.DashboardBuilder, error){
		national, agency, rankings, probes, completeness,
	}
	var out []File
	for _, b := range builders {
		db, err := b(cat, reg)
		if err != nil {
			return nil, err
		}
		d, err := db.Build()
		if err != nil {
			return nil, fmt.Errorf("build dashboard: %w", err)
		}
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(d); err != nil {
			return nil, fmt.Errorf("encode dashboard %s: %w", *d.Uid, err)
		}
		out = append(out, File{Name: *d.Uid + ".json", Title: *d.Title, JSON: buf.Bytes()})
	}
	return out, nil
}

// Write generates the dashboards into dir, creating it if needed, and returns the files
// written.
func Write(dir string, cat *indicators.Catalogue, reg *indicators.Registry) ([]string, error) {
	files, err := Generate(cat, reg)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("dashboards folder: %w", err)
	}
	var paths []string
	for _, f := range files {
		p := filepath.Join(dir, f.Name)
		if err := os.WriteFile(p, f.JSON, 0o644); err != nil {
			return nil, fmt.Errorf("write dashboard %s: %w", p, err)
		}
		paths = append(paths, p)
	}
	return paths, nil
}

// newDashboard starts a dashboard with what every G-OC dashboard shares: the data
// source variable, UTC (periods start at midnight UTC in the plugin's frames), tags and
// a link to the others.
func newDashboard(uid, title, description string) *dashboard.DashboardBuilder {
	return dashboard.NewDashboardBuilder(title).
		Uid(uid).
		Description(description).
		Tags([]string{"goc", "g-oc"}).
		Timezone("utc").
		Time("2019-01-01T00:00:00.000Z", "now").
		Refresh("").
		Tooltip(dashboard.DashboardCursorSyncCrosshair).
		Editable().
		Link(dashboard.NewDashboardLinkBuilder("G-OC").Type(dashboard.DashboardLinkTypeDashboards).
			Tags([]string{"goc"}).AsDropdown(true).IncludeVars(true).KeepTime(true)).
		WithVariable(dashboard.NewDatasourceVariableBuilder(DatasourceVariable).
			Label("Nguồn dữ liệu / data source").
			Type(models.PluginID))
}

// titleOf is an indicator's panel title: its clauses and Vietnamese name.
func titleOf(ind *indicators.Indicator, level indicators.Level) string {
	var clauses []string
	for _, t := range models.TargetsAt(ind, level) {
		if t.Clause != "" && !contains(clauses, t.Clause) {
			clauses = append(clauses, t.Clause)
		}
	}
	title := ind.NameVI
	if len(clauses) > 0 {
		title = "(" + join(clauses, ", ") + ") " + title
	}
	if level != "" && level != indicators.National {
		title += " — cấp " + levelVI(level)
	}
	return title
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func join(list []string, sep string) string {
	var b bytes.Buffer
	for i, s := range list {
		if i > 0 {
			b.WriteString(sep)
		}
		b.WriteString(s)
	}
	return b.String()
}

func levelVI(l indicators.Level) string {
	switch l {
	case indicators.National:
		return "quốc gia"
	case indicators.Ministry:
		return "bộ, ngành"
	case indicators.Province:
		return "tỉnh"
	case indicators.District:
		return "huyện"
	case indicators.Commune:
		return "xã"
	}
	return string(l)
}

// thresholds turns the catalogue's targets into a Grafana thresholds builder.
func thresholds(ind *indicators.Indicator, level indicators.Level) *dashboard.ThresholdsConfigBuilder {
	var steps []dashboard.Threshold
	for _, s := range models.Thresholds(ind, level) {
		steps = append(steps, dashboard.Threshold{Value: s.Value, Color: s.Color})
	}
	return dashboard.NewThresholdsConfigBuilder().Mode(dashboard.ThresholdsModeAbsolute).Steps(steps)
}

// targetGroups lists the levels an indicator's national figure is shown for: the
// national figure, or one figure per level when each level has its own target (a.v).
func targetGroups(ind *indicators.Indicator) []indicators.Level {
	if !ind.HasLevelTargets() || ind.ReportedAt(indicators.National) {
		return []indicators.Level{""}
	}
	var out []indicators.Level
	for _, l := range ind.Levels {
		if l != indicators.National {
			out = append(out, l)
		}
	}
	return out
}
