package pluginhost

import (
	"context"
	"strconv"
	"strings"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"

	gocapi "github.com/g-oc/goc/api/client"
	"github.com/g-oc/goc/grafana/plugin/pkg/models"
	"github.com/g-oc/goc/indicators"
)

// progressAnswer is one report of GET /api/v1/progress.
type progressAnswer struct {
	indicators.Progress
	LatestComputed bool             `json:"latest_computed"`
	Missing        []string         `json:"missing"`
	ByLevel        []progressAnswer `json:"by_level"`
}

// queryProgress answers a progress table: one row per indicator, agency and level, with
// the latest value, the target, the gap, attainment, the anticipated value, the score and
// the status, as G-OC computes them.
func queryProgress(ctx context.Context, c *client, q models.Query, _ backend.TimeRange) (data.Frames, error) {
	year := q.Year
	if year == 0 {
		year = 2025
	}
	agencies, err := c.agencyIndex(ctx)
	if err != nil {
		return nil, err
	}
	var level indicators.Level
	if q.Level != "" {
		if level, err = indicators.ParseLevel(q.Level); err != nil {
			return nil, badQuery("cấp không hợp lệ / %v", err)
		}
	}
	t := newProgressTable()
	var calls []string
	all := len(q.Agencies) == 1 && q.Agencies[0] == "*"
	switch {
	case all && q.Indicator == "":
		return nil, badQuery("chọn một chỉ tiêu để xem mọi đơn vị / choose an indicator to see every agency")
	case all:
		ind, err := c.indicator(ctx, q.Indicator)
		if err != nil {
			return nil, err
		}
		var ans struct {
			Progress []progressAnswer `json:"progress"`
		}
		r, err := c.api.GetProgressWithResponse(ctx, &gocapi.GetProgressParams{Indicator: ind.Code, Agency: ptr("*"), Year: &year})
		if err != nil {
			return nil, err
		}
		called, err := decode(r.HTTPResponse, r.Body, &ans)
		if err != nil {
			return nil, err
		}
		calls = append(calls, called)
		for _, p := range ans.Progress {
			a := agencies[p.Agency]
			if q.Kind != "" && (a == nil || string(a.Kind) != q.Kind) {
				continue
			}
			t.add(ind, a, p)
		}
	default:
		codes := q.Agencies
		if len(codes) == 0 {
			codes = []string{rootOf(agencies)}
		}
		inds, err := c.indicators(ctx)
		if err != nil {
			return nil, err
		}
		if q.Indicator != "" {
			ind, err := c.indicator(ctx, q.Indicator)
			if err != nil {
				return nil, err
			}
			inds = []*indicators.Indicator{ind}
		}
		for _, code := range codes {
			a, ok := agencies[code]
			if !ok {
				return nil, badQuery("đơn vị %q không có trong danh mục của G-OC / agency %q is not in G-OC's registry", code, code)
			}
			for _, ind := range inds {
				// With every indicator, an agency's table lists what it reports; the country
				// lists them all.
				if q.Indicator == "" && a.Kind != indicators.KindNational && !ind.ReportedAt(a.Level()) {
					continue
				}
				params := &gocapi.GetProgressParams{Indicator: ind.Code, Agency: &code, Year: &year}
				if level != "" {
					params.Level = ptr(gocapi.Level(level))
				}
				var p progressAnswer
				r, err := c.api.GetProgressWithResponse(ctx, params)
				if err != nil {
					return nil, err
				}
				called, err := decode(r.HTTPResponse, r.Body, &p)
				if err != nil {
					return nil, err
				}
				calls = append(calls, called)
				if len(p.ByLevel) > 0 {
					for _, sub := range p.ByLevel {
						t.add(ind, a, sub)
					}
					continue
				}
				t.add(ind, a, p)
			}
		}
	}
	f := t.frame()
	f.Meta = &data.FrameMeta{ExecutedQueryString: executed(calls), PreferredVisualization: data.VisTypeTable}
	return data.Frames{f}, nil
}

// executed summarises the calls a query made for the query inspector.
func executed(calls []string) string {
	if len(calls) <= 3 {
		return "GET " + strings.Join(calls, "\nGET ")
	}
	return "GET " + strings.Join(calls[:3], "\nGET ") + "\n… (" + strconv.Itoa(len(calls)) + " calls)"
}

type progressTable struct {
	indicator, indicatorName, agency, agencyName, level []string
	targetYear                                          []int64
	target                                              []*float64
	clause, baselinePeriod                              []string
	baseline                                            []*float64
	latestPeriod                                        []string
	latest, gap, attainment, anticipated, score         []*float64
	status                                              []string
	missing                                             []int64
}

func newProgressTable() *progressTable { return &progressTable{} }

func (t *progressTable) add(ind *indicators.Indicator, a *indicators.Agency, p progressAnswer) {
	t.indicator = append(t.indicator, ind.Code)
	t.indicatorName = append(t.indicatorName, ind.NameVI)
	t.agency = append(t.agency, p.Agency)
	name := p.Agency
	if a != nil {
		name = a.NameVI
	}
	t.agencyName = append(t.agencyName, name)
	t.level = append(t.level, string(p.Level))
	t.targetYear = append(t.targetYear, int64(p.TargetYear))
	if p.Target != nil {
		t.target = append(t.target, &p.Target.Value)
		t.clause = append(t.clause, p.Target.Clause)
	} else {
		t.target = append(t.target, nil)
		t.clause = append(t.clause, "")
	}
	if p.Baseline != nil {
		t.baselinePeriod = append(t.baselinePeriod, p.Baseline.Period.String())
		t.baseline = append(t.baseline, &p.Baseline.Value)
	} else {
		t.baselinePeriod = append(t.baselinePeriod, "")
		t.baseline = append(t.baseline, nil)
	}
	if p.Latest != nil {
		t.latestPeriod = append(t.latestPeriod, p.Latest.Period.String())
		t.latest = append(t.latest, &p.Latest.Value)
	} else {
		t.latestPeriod = append(t.latestPeriod, "")
		t.latest = append(t.latest, nil)
	}
	t.gap = append(t.gap, p.Gap)
	t.attainment = append(t.attainment, p.Attainment)
	t.anticipated = append(t.anticipated, p.Anticipated)
	t.score = append(t.score, p.Score)
	t.status = append(t.status, string(p.Status))
	t.missing = append(t.missing, int64(len(p.Missing)))
}

func (t *progressTable) frame() *data.Frame {
	named := func(f *data.Field, display string) *data.Field {
		return f.SetConfig(&data.FieldConfig{DisplayNameFromDS: display})
	}
	status := data.NewField("status", nil, t.status).SetConfig(&data.FieldConfig{
		DisplayNameFromDS: "Tình trạng / status",
		Mappings:          statusMappings(),
		Custom:            map[string]any{"cellOptions": map[string]any{"type": "color-background"}},
	})
	attainment := data.NewField("attainment", nil, t.attainment).SetConfig(&data.FieldConfig{
		DisplayNameFromDS: "Mức đạt / attainment", Unit: "percentunit", Decimals: decimals(1)})
	score := data.NewField("score", nil, t.score).SetConfig(&data.FieldConfig{
		DisplayNameFromDS: "Điểm tiến độ / progress score", Decimals: decimals(2)})
	num := func(name, display string, vals []*float64) *data.Field {
		return data.NewField(name, nil, vals).SetConfig(&data.FieldConfig{DisplayNameFromDS: display, Decimals: decimals(2)})
	}
	return data.NewFrame("progress",
		named(data.NewField("indicator", nil, t.indicator), models.DisplayIndicatorCode),
		named(data.NewField("indicator_name", nil, t.indicatorName), "Chỉ tiêu / indicator name"),
		named(data.NewField("agency", nil, t.agency), models.DisplayAgencyCode),
		named(data.NewField("agency_name", nil, t.agencyName), "Đơn vị / agency name"),
		named(data.NewField("level", nil, t.level), "Cấp / level"),
		named(data.NewField("target_year", nil, t.targetYear), "Năm mục tiêu / target year"),
		num("target", "Mục tiêu / target", t.target),
		named(data.NewField("clause", nil, t.clause), "Điểm / clause"),
		named(data.NewField("baseline_period", nil, t.baselinePeriod), "Kỳ gốc / baseline period"),
		num("baseline", "Giá trị gốc / baseline", t.baseline),
		named(data.NewField("latest_period", nil, t.latestPeriod), "Kỳ mới nhất / latest period"),
		num("latest", "Mới nhất / latest", t.latest),
		num("gap", "Còn thiếu / gap", t.gap),
		attainment,
		num("anticipated", "Dự kiến / anticipated", t.anticipated),
		score,
		status,
		named(data.NewField("missing", nil, t.missing), models.DisplayAgenciesMissing),
	)
}

func decimals(n uint16) *uint16 { return &n }

// statusMappings shows each progress status in Vietnamese and English with the colour a
// leader reads first: green on track, yellow and orange behind, red going backwards.
func statusMappings() data.ValueMappings {
	m := data.ValueMapper{}
	for _, s := range []struct{ status, text, color string }{
		{"achieved", "Đã đạt / achieved", "green"},
		{"on_track", "Đúng tiến độ / on track", "green"},
		{"needs_acceleration", "Cần đẩy nhanh / needs acceleration", "yellow"},
		{"stagnating", "Dậm chân / stagnating", "orange"},
		{"regressing", "Đi lùi / regressing", "red"},
		{"insufficient_data", "Thiếu số liệu / insufficient data", "gray"},
		{"no_target", "Không có mục tiêu / no target", "transparent"},
	} {
		m[s.status] = data.ValueMappingResult{Text: s.text, Color: s.color}
	}
	return data.ValueMappings{m}
}
