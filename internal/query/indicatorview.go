package query

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/g-oc/goc/indicators"
)

// IndicatorView is what the indicator page shows: the national series with its
// targets, and every agency's progress at each level with its rank among its level.
// Each agency's Progress is what GET /api/v1/progress?indicator=CODE&agency=*&year=YEAR
// answers for it.
type IndicatorView struct {
	Indicator *indicators.Indicator `json:"-"`
	Year      int                   `json:"year"`
	// National is the country's value in every period with data.
	National Series `json:"national"`
	// Country is the country's progress toward Year's target.
	Country ProgressReport `json:"country"`
	// Levels holds one table per level that reports the indicator, top level first.
	Levels []LevelTable `json:"levels"`
}

// LevelTable is the agencies of one level on one indicator.
type LevelTable struct {
	Level indicators.Level `json:"level"`
	Rows  []RankedProgress `json:"rows"`
}

// RankedProgress is one agency's progress with its competition rank (1, 2, 2, 4) among
// its level by latest value, best first in the indicator's direction; Rank is 0 when
// the agency has no value.
type RankedProgress struct {
	ProgressReport
	Rank int `json:"rank,omitempty"`
}

// IndicatorView builds the indicator page's figures from two reads of the store.
func (s *Service) IndicatorView(ctx context.Context, code string, year int, on time.Time) (*IndicatorView, error) {
	root := s.registry.Root()
	ind, national, err := s.Series(ctx, code, root, "")
	if err != nil {
		return nil, err
	}
	all, err := s.ProgressOfAll(ctx, code, year, on)
	if err != nil {
		return nil, err
	}
	v := &IndicatorView{Indicator: ind, Year: year, National: national}
	byLevel := map[indicators.Level][]RankedProgress{}
	for _, p := range all {
		if p.Agency == root {
			v.Country = p
			continue
		}
		byLevel[p.Level] = append(byLevel[p.Level], RankedProgress{ProgressReport: p})
	}
	for _, l := range []indicators.Level{indicators.Ministry, indicators.Province, indicators.District, indicators.Commune} {
		rows := byLevel[l]
		if len(rows) == 0 {
			continue
		}
		RankByLatest(ind, rows)
		v.Levels = append(v.Levels, LevelTable{Level: l, Rows: rows})
	}
	return v, nil
}

// RankByLatest sorts rows best first by latest value in the indicator's direction
// (agencies without a value last, by code) and gives them competition ranks.
func RankByLatest(ind *indicators.Indicator, rows []RankedProgress) {
	better := func(a, b float64) int {
		if ind.Direction == indicators.LowerIsBetter {
			return cmp.Compare(a, b)
		}
		return cmp.Compare(b, a)
	}
	slices.SortStableFunc(rows, func(a, b RankedProgress) int {
		switch {
		case a.Latest == nil && b.Latest == nil:
			return cmp.Compare(a.Agency, b.Agency)
		case a.Latest == nil:
			return 1
		case b.Latest == nil:
			return -1
		}
		if c := better(a.Latest.Value, b.Latest.Value); c != 0 {
			return c
		}
		return cmp.Compare(a.Agency, b.Agency)
	})
	for i := range rows {
		if rows[i].Latest == nil {
			continue
		}
		rows[i].Rank = i + 1
		if i > 0 && rows[i-1].Latest != nil && rows[i-1].Latest.Value == rows[i].Latest.Value {
			rows[i].Rank = rows[i-1].Rank
		}
	}
}
