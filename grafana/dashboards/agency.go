package dashboards

import (
	"fmt"
	"strings"

	"github.com/grafana/grafana-foundation-sdk/go/dashboard"

	"github.com/g-oc/goc/grafana/plugin/pkg/models"
	"github.com/g-oc/goc/indicators"
)

// AgencyVariable is the drill-down's agency variable.
const AgencyVariable = "agency"

// DefaultAgency is the agency the drill-down opens on: Lạng Sơn, which kept its borders
// in 2025 and has sample districts and communes.
const DefaultAgency = "P20"

// agency is the drill-down for one ministry or province, picked with the agency
// variable: its progress toward 2025 and 2030 on every indicator it reports, and a trend
// with its own targets for each.
func agency(cat *indicators.Catalogue, reg *indicators.Registry) (*dashboard.DashboardBuilder, error) {
	d := newDashboard(UIDAgency, "G-OC — Theo đơn vị / Agency drill-down",
		"Tiến độ của một bộ, ngành hoặc tỉnh trên từng chỉ tiêu / one ministry's or province's progress on every indicator")
	v, err := agencyVariable(reg)
	if err != nil {
		return nil, err
	}
	d.WithVariable(v)
	ref := "$" + AgencyVariable
	ids := &panelIDs{}
	d.WithRow(dashboard.NewRowBuilder("Tiến độ / progress").Id(ids.next()))
	for _, year := range []int{2025, 2030} {
		d.WithPanel(progressTable(ids, fmt.Sprintf("Tiến độ đến %d / progress toward %d", year, year),
			models.Query{QueryType: models.Progress, Agencies: []string{ref}, Year: year}))
	}
	d.WithRow(dashboard.NewRowBuilder("Xu hướng / trends").Id(ids.next()))
	for _, ind := range cat.All() {
		if !ind.ReportedAt(indicators.Ministry) && !ind.ReportedAt(indicators.Province) {
			continue
		}
		// The plugin puts the agency's own targets in the frame (a.v differs by level);
		// the panel's thresholds are the ministry/province ones this dashboard covers.
		d.WithPanel(trendOf(ids, ind, indicators.Province, models.Query{QueryType: models.Series, Indicator: ind.Code, Agencies: []string{ref}}).
			Title(strings.TrimSuffix(titleOf(ind, indicators.Province), " — cấp "+levelVI(indicators.Province))))
	}
	return d, nil
}

// agencyVariable offers every ministry, ministerial-level agency, Government agency and
// province that exists now (no end date), as "name : code".
func agencyVariable(reg *indicators.Registry) (*dashboard.CustomVariableBuilder, error) {
	var opts []dashboard.VariableOption
	var query []string
	var current *dashboard.VariableOption
	for _, a := range reg.All() {
		if !a.ValidTo.IsZero() {
			continue
		}
		switch a.Kind {
		case indicators.KindMinistry, indicators.KindMinisterialAgency, indicators.KindGovernmentAgency, indicators.KindProvince:
		default:
			continue
		}
		// Custom variable values are comma-separated "text : value" pairs.
		text := strings.NewReplacer(",", "", " : ", " ").Replace(a.NameVI)
		opt := dashboard.VariableOption{Text: strOrArr(text), Value: strOrArr(a.Code)}
		if a.Code == DefaultAgency {
			sel := true
			opt.Selected = &sel
			c := opt
			current = &c
		}
		opts = append(opts, opt)
		query = append(query, text+" : "+a.Code)
	}
	if current == nil {
		return nil, fmt.Errorf("agency variable: default agency %s is not in the registry", DefaultAgency)
	}
	q := strings.Join(query, ",")
	return dashboard.NewCustomVariableBuilder(AgencyVariable).
		Label("Đơn vị / agency").
		Values(dashboard.StringOrMap{String: &q}).
		Options(opts).
		Current(*current), nil
}

func strOrArr(s string) dashboard.StringOrArrayOfString {
	return dashboard.StringOrArrayOfString{String: &s}
}
