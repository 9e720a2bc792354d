package dashboards

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/gauge"
	"github.com/grafana/grafana-foundation-sdk/go/table"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"

	"github.com/g-oc/goc/grafana/plugin/pkg/models"
	"github.com/g-oc/goc/indicators"
)

// UIDs of the generated dashboards.
const (
	UIDNational     = "goc-national"
	UIDAgency       = "goc-agency"
	UIDRankings     = "goc-rankings"
	UIDProbes       = "goc-probes"
	UIDCompleteness = "goc-completeness"
)

// national is the leaders' overview: a gauge per target with the current national
// figure against its 2025 and 2030 targets, a trend per target with the target lines,
// and the country's progress tables toward 2025 and 2030.
func national(cat *indicators.Catalogue, _ *indicators.Registry) (*dashboard.DashboardBuilder, error) {
	d := newDashboard(UIDNational, "G-OC — Tổng quan quốc gia / National overview",
		"Tiến độ quốc gia so với mục tiêu 2025 và 2030 của Nghị quyết về Chính phủ số / national progress toward the Resolution's 2025 and 2030 targets")
	ids := &panelIDs{}
	d.WithRow(dashboard.NewRowBuilder("Giá trị hiện tại so với mục tiêu / current value against the targets").Id(ids.next()))
	for _, ind := range cat.All() {
		for _, level := range targetGroups(ind) {
			d.WithPanel(gaugeOf(ids, ind, level, models.Query{QueryType: models.Series, Indicator: ind.Code, Level: string(level), HideTargets: true}))
		}
	}
	d.WithRow(dashboard.NewRowBuilder("Xu hướng và đường mục tiêu / trends with the target lines").Id(ids.next()))
	for _, ind := range cat.All() {
		for _, level := range targetGroups(ind) {
			d.WithPanel(trendOf(ids, ind, level, models.Query{QueryType: models.Series, Indicator: ind.Code, Level: string(level)}))
		}
	}
	d.WithRow(dashboard.NewRowBuilder("Bảng tiến độ quốc gia / the country's progress tables").Id(ids.next()))
	for _, year := range []int{2025, 2030} {
		d.WithPanel(progressTable(ids, fmt.Sprintf("Tiến độ đến %d / progress toward %d", year, year),
			models.Query{QueryType: models.Progress, Year: year}))
	}
	return d, nil
}

// panelIDs numbers panels in a dashboard, so the generated files are stable.
type panelIDs struct{ n uint32 }

func (p *panelIDs) next() uint32 { p.n++; return p.n }

// targetsText describes an indicator's targets for a level: "2025: 60 (a.iv) · 2030: 80 (b.iv)".
func targetsText(ind *indicators.Indicator, level indicators.Level) string {
	var parts []string
	for _, t := range models.TargetsAt(ind, level) {
		parts = append(parts, fmt.Sprintf("%d: %g (%s)", t.Year, t.Value, t.Clause))
	}
	if len(parts) == 0 {
		return "chưa có mục tiêu / no target"
	}
	return "Mục tiêu / targets " + strings.Join(parts, " · ")
}

func description(ind *indicators.Indicator, level indicators.Level) string {
	return ind.NameEN + ". " + targetsText(ind, level) + "."
}

func gaugeOf(ids *panelIDs, ind *indicators.Indicator, level indicators.Level, q models.Query) *gauge.PanelBuilder {
	g := gauge.NewPanelBuilder().
		Id(ids.next()).
		Title(titleOf(ind, level)).
		Description(description(ind, level)).
		Datasource(datasourceRef()).
		WithTarget(target("A", q)).
		Span(4).Height(7).
		Unit(models.GrafanaUnit(ind.Unit)).
		Decimals(1).
		Thresholds(thresholds(ind, level)).
		ShowThresholdMarkers(true).
		ShowThresholdLabels(false).
		Orientation(common.VizOrientationAuto).
		ReduceOptions(common.NewReduceDataOptionsBuilder().Calcs([]string{"lastNotNull"}).Values(false))
	if ind.Bounds.Min != nil {
		g.Min(*ind.Bounds.Min)
	}
	if ind.Bounds.Max != nil {
		g.Max(*ind.Bounds.Max)
	}
	return g
}

func trendOf(ids *panelIDs, ind *indicators.Indicator, level indicators.Level, q models.Query) *timeseries.PanelBuilder {
	ts := timeseries.NewPanelBuilder().
		Id(ids.next()).
		Title(titleOf(ind, level)).
		Description(description(ind, level)).
		Datasource(datasourceRef()).
		WithTarget(target("A", q)).
		Span(12).Height(8).
		Unit(models.GrafanaUnit(ind.Unit)).
		Decimals(1).
		Thresholds(thresholds(ind, level)).
		LineWidth(2).
		ShowPoints(common.VisibilityModeAuto).
		Legend(common.NewVizLegendOptionsBuilder().DisplayMode(common.LegendDisplayModeList).Placement(common.LegendPlacementBottom).ShowLegend(true)).
		Tooltip(common.NewVizTooltipOptionsBuilder().Mode(common.TooltipDisplayModeMulti).Sort(common.SortOrderNone))
	if ind.Unit == indicators.Percent {
		ts.AxisSoftMin(0).AxisSoftMax(100)
	}
	return ts
}

func progressTable(ids *panelIDs, title string, q models.Query) *table.PanelBuilder {
	return table.NewPanelBuilder().
		Id(ids.next()).
		Title(title).
		Description("Trạng thái theo phương pháp UNSD 2023: đã đạt, đúng tiến độ, cần đẩy nhanh, dậm chân, đi lùi / status by the UNSD 2023 progress method").
		Datasource(datasourceRef()).
		WithTarget(target("A", q)).
		Span(24).Height(12).
		// The codes are there for analysts who export; leaders read the names.
		OverrideByName(models.DisplayIndicatorCode, hidden()).
		OverrideByName(models.DisplayAgencyCode, hidden()).
		OverrideByName(models.DisplayAgenciesMissing, hidden()).
		Filterable(true)
}

// onlyField is a reduce option's field matcher for one field, by its display name (what
// Grafana matches on).
func onlyField(display string) string { return "/^" + regexp.QuoteMeta(display) + "$/" }

func hidden() []dashboard.DynamicConfigValue {
	return []dashboard.DynamicConfigValue{{Id: "custom.hidden", Value: true}}
}
