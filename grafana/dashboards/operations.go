package dashboards

import (
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/table"

	"github.com/g-oc/goc/grafana/plugin/pkg/models"
	"github.com/g-oc/goc/indicators"
)

// GroupVariable is the rankings dashboard's peer-group variable.
const GroupVariable = "group"

// rankings shows a peer group's composite scores and ranks for the last full year and
// the last quarter, with the change from the period before.
func rankings(_ *indicators.Catalogue, _ *indicators.Registry) (*dashboard.DashboardBuilder, error) {
	d := newDashboard(UIDRankings, "G-OC — Xếp hạng / Rankings",
		"Điểm tổng hợp và thứ hạng của một nhóm đơn vị; chênh lệch nhỏ về hạng không có ý nghĩa thống kê / composite scores and ranks of a peer group; small rank gaps are not significant")
	groups := []struct{ value, text string }{
		{"provinces", "Tỉnh, thành phố / provinces"},
		{"ministries", "Bộ, cơ quan ngang bộ / ministries"},
		{"government_agencies", "Cơ quan thuộc Chính phủ / Government agencies"},
	}
	var opts []dashboard.VariableOption
	var query string
	for i, g := range groups {
		o := dashboard.VariableOption{Text: strOrArr(g.text), Value: strOrArr(g.value)}
		if i == 0 {
			sel := true
			o.Selected = &sel
		}
		opts = append(opts, o)
		if i > 0 {
			query += ","
		}
		query += g.text + " : " + g.value
	}
	d.WithVariable(dashboard.NewCustomVariableBuilder(GroupVariable).
		Label("Nhóm / group").
		Values(dashboard.StringOrMap{String: &query}).
		Options(opts).
		Current(opts[0]))
	ids := &panelIDs{}
	for _, p := range []struct{ title, period string }{
		{"Năm gần nhất đã kết thúc / last full year", "yearly"},
		{"Quý gần nhất đã kết thúc / last full quarter", "quarterly"},
	} {
		d.WithPanel(rankingTable(ids, p.title, models.Query{QueryType: models.Ranking, Group: "$" + GroupVariable, Period: p.period}))
	}
	return d, nil
}

func rankingTable(ids *panelIDs, title string, q models.Query) *table.PanelBuilder {
	return table.NewPanelBuilder().
		Id(ids.next()).
		Title(title).
		Description("Chuẩn hoá min-max trong nhóm, trọng số theo trụ cột; đơn vị thiếu quá nhiều chỉ tiêu không được xếp hạng / min-max within the group, weighted by pillar; agencies missing too many indicators are not ranked").
		Datasource(datasourceRef()).
		WithTarget(target("A", q)).
		Span(24).Height(14).
		OverrideByName(models.DisplayAgencyCode, hidden()).
		Filterable(true)
}

// probes shows the portals: how many answer, uptime and latency month by month (from
// the probe indicators), and each portal's last probe with its certificate's expiry.
func probes(cat *indicators.Catalogue, _ *indicators.Registry) (*dashboard.DashboardBuilder, error) {
	d := newDashboard(UIDProbes, "G-OC — Cổng thông tin / Portal probes",
		"Tình trạng các cổng thông tin: hoạt động, thời gian phản hồi, hạn chứng thư số / portal availability, latency and certificate expiry")
	ids := &panelIDs{}
	summary := models.Query{QueryType: models.Probes, View: models.ViewSummary}
	for _, s := range []struct{ field, title string }{
		{models.DisplayPortals, "Cổng được đo / portals probed"},
		{models.DisplayUp, "Hoạt động / up"},
		{models.DisplayDown, "Không truy cập được / down"},
		{models.DisplayUpShare, "Tỷ lệ hoạt động / share up"},
	} {
		st := stat.NewPanelBuilder().
			Id(ids.next()).
			Title(s.title).
			Datasource(datasourceRef()).
			WithTarget(target("A", summary)).
			Span(6).Height(4).
			ReduceOptions(common.NewReduceDataOptionsBuilder().Calcs([]string{"lastNotNull"}).Fields(onlyField(s.field))).
			Orientation(common.VizOrientationAuto).
			ColorMode(common.BigValueColorModeValue).
			GraphMode(common.BigValueGraphModeNone)
		if s.field == models.DisplayDown {
			st.Thresholds(dashboard.NewThresholdsConfigBuilder().Mode(dashboard.ThresholdsModeAbsolute).Steps([]dashboard.Threshold{
				{Color: "green"}, {Value: ptr(1), Color: "red"}}))
		}
		d.WithPanel(st)
	}
	// The month-by-month readiness indicators the probes write, as the catalogue has them.
	for _, code := range []string{"portal_uptime", "portal_latency_median"} {
		ind, ok := cat.Get(code)
		if !ok {
			continue
		}
		d.WithPanel(trendOf(ids, ind, "", models.Query{QueryType: models.Series, Indicator: ind.Code}))
	}
	d.WithPanel(table.NewPanelBuilder().
		Id(ids.next()).
		Title("Lần đo gần nhất của từng cổng / each portal's last probe").
		Description("Đỏ: không truy cập được, phản hồi trên 3 giây, chứng thư hết hạn trong 14 ngày / red: down, slower than 3 s, certificate expiring within 14 days").
		Datasource(datasourceRef()).
		WithTarget(target("A", models.Query{QueryType: models.Probes})).
		Span(24).Height(14).
		Filterable(true).
		OverrideByName(models.DisplayUp, hidden()))
	return d, nil
}

// completeness shows who has reported for the last ended quarter and year: counts, the
// reporting and on-time rates as DHIS2 defines them, and each agency's status.
func completeness(_ *indicators.Catalogue, _ *indicators.Registry) (*dashboard.DashboardBuilder, error) {
	d := newDashboard(UIDCompleteness, "G-OC — Nộp báo cáo / Submission completeness",
		"Đơn vị nào đã nộp, nộp trễ, chưa nộp cho kỳ báo cáo gần nhất / who has reported for the last period, who is late, who is missing")
	ids := &panelIDs{}
	for _, p := range []struct{ title, period string }{
		{"Quý gần nhất / last quarter", "quarterly"},
		{"Năm gần nhất / last year", "yearly"},
	} {
		d.WithRow(dashboard.NewRowBuilder(p.title).Id(ids.next()))
		summary := models.Query{QueryType: models.Completeness, Period: p.period, View: models.ViewSummary}
		for _, s := range []struct {
			field, title string
			bad          bool
		}{
			{models.DisplayReportingRate, "Tỷ lệ nộp / reporting rate", false},
			{models.DisplayOnTimeRate, "Tỷ lệ đúng hạn / on-time rate", false},
			{models.DisplayLate, "Trễ hạn / late", true},
			{models.DisplayMissing, "Chưa nộp / missing", true},
		} {
			st := stat.NewPanelBuilder().
				Id(ids.next()).
				Title(s.title).
				Datasource(datasourceRef()).
				WithTarget(target("A", summary)).
				Span(6).Height(4).
				ReduceOptions(common.NewReduceDataOptionsBuilder().Calcs([]string{"lastNotNull"}).Fields(onlyField(s.field))).
				Orientation(common.VizOrientationAuto).
				ColorMode(common.BigValueColorModeValue).
				GraphMode(common.BigValueGraphModeNone)
			if s.bad {
				st.Thresholds(dashboard.NewThresholdsConfigBuilder().Mode(dashboard.ThresholdsModeAbsolute).Steps([]dashboard.Threshold{
					{Color: "green"}, {Value: ptr(1), Color: "orange"}}))
			} else {
				st.Thresholds(dashboard.NewThresholdsConfigBuilder().Mode(dashboard.ThresholdsModeAbsolute).Steps([]dashboard.Threshold{
					{Color: "red"}, {Value: ptr(0.8), Color: "yellow"}, {Value: ptr(0.95), Color: "green"}}))
			}
			d.WithPanel(st)
		}
		d.WithPanel(table.NewPanelBuilder().
			Id(ids.next()).
			Title("Từng đơn vị / every agency — "+p.title).
			Datasource(datasourceRef()).
			WithTarget(target("A", models.Query{QueryType: models.Completeness, Period: p.period})).
			Span(24).Height(12).
			Filterable(true).
			OverrideByName(models.DisplayAgencyCode, hidden()))
	}
	return d, nil
}

func ptr(v float64) *float64 { return &v }
