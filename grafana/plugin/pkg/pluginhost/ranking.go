package pluginhost

import (
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"

	gocapi "github.com/g-oc/goc/api/client"
	"github.com/g-oc/goc/grafana/plugin/pkg/models"
)

// rankingAnswer is what the plugin reads of GET /api/v1/rankings.
type rankingAnswer struct {
	Group          string `json:"group"`
	GroupVI        string `json:"group_name_vi"`
	Period         string `json:"period"`
	PreviousPeriod string `json:"previous_period"`
	PeriodComplete bool   `json:"period_complete"`
	Members        int    `json:"members"`
	Ranked         int    `json:"ranked"`
	Pillars        []struct {
		Pillar string  `json:"pillar"`
		NameVI string  `json:"name_vi"`
		NameEN string  `json:"name_en"`
		Weight float64 `json:"weight"`
	} `json:"pillars"`
	Sources []string `json:"sources"`
	Entries []struct {
		Agency        string             `json:"agency"`
		NameVI        string             `json:"name_vi"`
		Rank          int                `json:"rank"`
		Score         *float64           `json:"score"`
		Coverage      float64            `json:"coverage"`
		Missing       []string           `json:"missing"`
		Flag          string             `json:"flag"`
		Pillars       map[string]float64 `json:"pillars"`
		PreviousRank  *int               `json:"previous_rank"`
		PreviousScore *float64           `json:"previous_score"`
		Change        *int               `json:"change"`
	} `json:"entries"`
}

// queryRanking answers a ranking table: one row per member of the peer group with its
// rank, composite score, change from the previous period, coverage and pillar scores.
func queryRanking(ctx context.Context, c *client, q models.Query, tr backend.TimeRange) (data.Frames, error) {
	group := q.Group
	if group == "" {
		group = "provinces"
	}
	params := &gocapi.GetRankingsParams{Group: group}
	p, err := resolvePeriod(q.Period, tr, time.Now())
	if err != nil {
		return nil, err
	}
	if p != "" {
		params.Period = &p
	}
	var ans rankingAnswer
	r, err := c.api.GetRankingsWithResponse(ctx, params)
	if err != nil {
		return nil, err
	}
	called, err := decode(r.HTTPResponse, r.Body, &ans)
	if err != nil {
		return nil, err
	}
	var (
		rank, prevRank, change, missing []*int64
		agency, name, flag              []string
		score, prevScore, coverage      []*float64
	)
	pillarScores := make([][]*float64, len(ans.Pillars))
	for _, e := range ans.Entries {
		agency = append(agency, e.Agency)
		name = append(name, e.NameVI)
		rank = append(rank, intPtr(e.Rank, e.Rank > 0))
		score = append(score, e.Score)
		prevRank = append(prevRank, optInt(e.PreviousRank))
		prevScore = append(prevScore, e.PreviousScore)
		change = append(change, optInt(e.Change))
		cov := e.Coverage
		coverage = append(coverage, &cov)
		missing = append(missing, intPtr(len(e.Missing), true))
		flag = append(flag, e.Flag)
		for i, pl := range ans.Pillars {
			if v, ok := e.Pillars[pl.Pillar]; ok {
				pillarScores[i] = append(pillarScores[i], &v)
			} else {
				pillarScores[i] = append(pillarScores[i], nil)
			}
		}
	}
	named := func(f *data.Field, display string) *data.Field {
		return f.SetConfig(&data.FieldConfig{DisplayNameFromDS: display})
	}
	f := data.NewFrame("ranking "+ans.Group+" "+ans.Period,
		named(data.NewField("rank", nil, rank), "Hạng / rank"),
		named(data.NewField("agency", nil, agency), models.DisplayAgencyCode),
		named(data.NewField("agency_name", nil, name), "Đơn vị / agency name"),
		data.NewField("score", nil, score).SetConfig(&data.FieldConfig{
			DisplayNameFromDS: "Điểm tổng hợp / composite score", Min: confPtr(0), Max: confPtr(100), Decimals: decimals(2),
			Custom: map[string]any{"cellOptions": map[string]any{"type": "gauge", "mode": "basic"}},
		}),
		data.NewField("change", nil, change).SetConfig(&data.FieldConfig{
			DisplayNameFromDS: fmt.Sprintf("Thay đổi so với %s / change since %s", ans.PreviousPeriod, ans.PreviousPeriod),
			Thresholds: &data.ThresholdsConfig{Mode: data.ThresholdsModeAbsolute, Steps: []data.Threshold{
				{Value: data.ConfFloat64(math.Inf(-1)), Color: "red"}, {Value: 0, Color: "text"}, {Value: 1, Color: "green"}}},
			Custom: map[string]any{"cellOptions": map[string]any{"type": "color-text"}},
		}),
		named(data.NewField("previous_rank", nil, prevRank), "Hạng kỳ trước / previous rank"),
		data.NewField("previous_score", nil, prevScore).SetConfig(&data.FieldConfig{DisplayNameFromDS: "Điểm kỳ trước / previous score", Decimals: decimals(2)}),
		data.NewField("coverage", nil, coverage).SetConfig(&data.FieldConfig{DisplayNameFromDS: "Độ phủ số liệu / coverage", Unit: "percentunit", Decimals: decimals(0)}),
		named(data.NewField("missing", nil, missing), "Chỉ tiêu thiếu / indicators missing"),
		named(data.NewField("flag", nil, flag), "Ghi chú / flag"),
	)
	for i, pl := range ans.Pillars {
		f.Fields = append(f.Fields, data.NewField("pillar_"+pl.Pillar, nil, pillarScores[i]).SetConfig(&data.FieldConfig{
			DisplayNameFromDS: fmt.Sprintf("%s / %s", pl.NameVI, pl.NameEN), Decimals: decimals(1),
		}))
	}
	f.Meta = &data.FrameMeta{ExecutedQueryString: "GET " + called, PreferredVisualization: data.VisTypeTable}
	f.Meta.Notices = append(f.Meta.Notices, data.Notice{Severity: data.NoticeSeverityInfo, Text: fmt.Sprintf(
		"%s, kỳ %s: %d/%d đơn vị được xếp hạng; chênh lệch nhỏ về hạng không có ý nghĩa thống kê / %s, period %s: %d of %d ranked; small rank gaps are not significant",
		ans.GroupVI, ans.Period, ans.Ranked, ans.Members, ans.Group, ans.Period, ans.Ranked, ans.Members)})
	if !ans.PeriodComplete {
		f.Meta.Notices = append(f.Meta.Notices, data.Notice{Severity: data.NoticeSeverityWarning,
			Text: "Kỳ " + ans.Period + " chưa kết thúc: số liệu tính đến nay / period " + ans.Period + " is still running: figures are to date"})
	}
	if slices.Contains(ans.Sources, "demo") {
		f.Meta.Notices = append(f.Meta.Notices, data.Notice{Severity: data.NoticeSeverityWarning,
			Text: "Có dữ liệu mẫu (nguồn demo) / includes demo data (source demo)"})
	}
	return data.Frames{f}, nil
}

func intPtr(v int, ok bool) *int64 {
	if !ok {
		return nil
	}
	x := int64(v)
	return &x
}

func optInt(v *int) *int64 {
	if v == nil {
		return nil
	}
	return intPtr(*v, true)
}
