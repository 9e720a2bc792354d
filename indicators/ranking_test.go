package indicators

import (
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/g-oc/goc/indicators/period"
)

type rankingCase struct {
	Name   string `yaml:"name"`
	Method struct {
		Normalisation   string             `yaml:"normalisation"`
		MaxMissingShare *float64           `yaml:"max_missing_share"`
		TrimPercent     float64            `yaml:"trim_percent"`
		PillarWeights   map[string]float64 `yaml:"pillar_weights"`
		Weights         map[string]float64 `yaml:"weights"`
	} `yaml:"method"`
	Indicators []struct {
		Code      string    `yaml:"code"`
		Pillar    string    `yaml:"pillar"`
		Direction Direction `yaml:"direction"`
	} `yaml:"indicators"`
	Values map[string][]*float64 `yaml:"values"`
	Want   map[string]struct {
		Rank     string   `yaml:"rank"`
		Score    string   `yaml:"score"`
		Flag     string   `yaml:"flag"`
		Coverage *float64 `yaml:"coverage"`
	} `yaml:"want"`
	Unused  map[string]string  `yaml:"unused"`
	Weights map[string]float64 `yaml:"weights"`
}

func loadRankingCases(t *testing.T) []rankingCase {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "testdata", "ranking", "cases.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var cases []rankingCase
	if err := yaml.Unmarshal(data, &cases); err != nil {
		t.Fatal(err)
	}
	if len(cases) < 10 {
		t.Fatalf("only %d ranking cases were read", len(cases))
	}
	return cases
}

func (c rankingCase) run(t *testing.T) Ranking {
	t.Helper()
	m := DefaultRankingMethod()
	if c.Method.Normalisation != "" {
		n, err := ParseNormalisation(c.Method.Normalisation)
		if err != nil {
			t.Fatal(err)
		}
		m.Normalisation = n
	}
	if c.Method.MaxMissingShare != nil {
		m.MaxMissingShare = *c.Method.MaxMissingShare
	}
	m.TrimPercent, m.PillarWeights, m.Weights = c.Method.TrimPercent, c.Method.PillarWeights, c.Method.Weights
	if err := m.Check(); err != nil {
		t.Fatal(err)
	}
	in := RankingInput{Values: map[string]map[string]float64{}}
	for _, ci := range c.Indicators {
		dir := ci.Direction
		if dir == "" {
			dir = HigherIsBetter
		}
		in.Indicators = append(in.Indicators, &Indicator{Code: ci.Code, Pillar: ci.Pillar, Direction: dir})
		in.Values[ci.Code] = map[string]float64{}
	}
	for a, row := range c.Values {
		in.Agencies = append(in.Agencies, a)
		if len(row) != len(c.Indicators) {
			t.Fatalf("agency %s has %d values for %d indicators", a, len(row), len(c.Indicators))
		}
		for i, v := range row {
			if v != nil {
				in.Values[c.Indicators[i].Code][a] = *v
			}
		}
	}
	slices.Sort(in.Agencies)
	return ComputeRanking(in, m)
}

func TestRankingFollowsTheSpecificationTables(t *testing.T) {
	for _, c := range loadRankingCases(t) {
		t.Run(c.Name, func(t *testing.T) {
			r := c.run(t)
			if len(r.Entries) != len(c.Want) {
				t.Fatalf("%d entries, want %d", len(r.Entries), len(c.Want))
			}
			for code, w := range c.Want {
				e, ok := r.Entry(code)
				if !ok {
					t.Fatalf("no entry for %s", code)
				}
				wantRank := 0
				if w.Rank != "none" {
					wantRank, _ = strconv.Atoi(w.Rank)
				}
				if e.Rank != wantRank {
					t.Errorf("%s: rank %d, want %s", code, e.Rank, w.Rank)
				}
				switch {
				case w.Score == "none" && e.Score != nil:
					t.Errorf("%s: score %v, want none", code, *e.Score)
				case w.Score != "none":
					want, err := strconv.ParseFloat(w.Score, 64)
					if err != nil {
						t.Fatalf("%s: score %q", code, w.Score)
					}
					if e.Score == nil || math.Abs(*e.Score-want) > 0.0005 {
						t.Errorf("%s: score %v, want %v", code, ptrString(e.Score), want)
					}
				}
				if e.Flag != w.Flag {
					t.Errorf("%s: flag %q, want %q", code, e.Flag, w.Flag)
				}
				if w.Coverage != nil && math.Abs(e.Coverage-*w.Coverage) > 1e-9 {
					t.Errorf("%s: coverage %v, want %v", code, e.Coverage, *w.Coverage)
				}
			}
			for _, ri := range r.Indicators {
				if ri.Unused != c.Unused[ri.Code] {
					t.Errorf("indicator %s: unused %q, want %q", ri.Code, ri.Unused, c.Unused[ri.Code])
				}
				if w, ok := c.Weights[ri.Code]; ok && math.Abs(ri.Weight-w) > 0.00005 {
					t.Errorf("indicator %s: weight %.4f, want %.4f", ri.Code, ri.Weight, w)
				}
			}
		})
	}
}

func ptrString(f *float64) string {
	if f == nil {
		return "none"
	}
	return strconv.FormatFloat(*f, 'f', -1, 64)
}

func TestRankingMethodRejectsImpossibleSettings(t *testing.T) {
	bad := []RankingMethod{
		{Normalisation: "rank"},
		{Normalisation: MinMax, MaxMissingShare: 1},
		{Normalisation: MinMax, MaxMissingShare: -0.1},
		{Normalisation: MinMax, TrimPercent: 50},
		{Normalisation: MinMax, Weights: map[string]float64{"a": -1}},
		{Normalisation: MinMax, PillarWeights: map[string]float64{"data": math.NaN()}},
	}
	for _, m := range bad {
		if err := m.Check(); err == nil {
			t.Errorf("%+v passed the check", m)
		}
	}
	if err := DefaultRankingMethod().Check(); err != nil {
		t.Errorf("default method: %v", err)
	}
}

func TestPeerGroupsTakeMembershipOnTheLastDayOfThePeriod(t *testing.T) {
	reg := DefaultRegistry()
	tests := []struct {
		group  PeerGroup
		period string
		want   int
	}{
		{Provinces, "2024", 63},
		{Provinces, "2025", 34},
		{Provinces, "2025-Q2", 63},
		{Provinces, "2025-Q3", 34},
	}
	for _, tt := range tests {
		if got := len(tt.group.Members(reg, period.MustParse(tt.period))); got != tt.want {
			t.Errorf("%s in %s: %d members, want %d", tt.group, tt.period, got, tt.want)
		}
	}
	for _, s := range []string{"ministries", "province", "government_agencies"} {
		if _, err := ParsePeerGroup(s); err != nil {
			t.Errorf("ParsePeerGroup(%q): %v", s, err)
		}
	}
	if _, err := ParsePeerGroup("communes"); err == nil {
		t.Error("communes is not a peer group G-OC ranks")
	}
}

func TestFigureWithinAYearIsTheAnnualPoint(t *testing.T) {
	v := func(p string, x float64) Value { return Value{Period: period.MustParse(p), Value: x} }
	values := []Value{v("2024-Q1", 1), v("2024-Q3", 3), v("2024-Q4", 4), v("2025-Q1", 5), v("2025-H1", 6), v("2025-Q2", 7), v("2026", 9), v("2026-Q4", 8)}
	tests := []struct {
		r    string
		want float64
		ok   bool
	}{
		{"2024", 4, true}, // latest quarter of the year
		{"2025", 6, true}, // the half-year ends with Q2 and is longer
		{"2026", 9, true}, // the yearly figure wins
		{"2025-Q1", 5, true},
		{"2024-Q2", 0, false},
		{"2024-H2", 4, true},
	}
	for _, tt := range tests {
		got, ok := FigureWithin(values, period.MustParse(tt.r))
		if ok != tt.ok || (ok && got.Value != tt.want) {
			t.Errorf("FigureWithin(%s) = %v %v, want %v %v", tt.r, got.Value, ok, tt.want, tt.ok)
		}
	}
	for _, a := range AnnualPoints(values) {
		got, ok := FigureWithin(values, period.Period{Kind: period.Year, Year: a.Period.Year, Index: 1})
		if !ok || got.Period != a.Period {
			t.Errorf("year %d: FigureWithin picks %v, AnnualPoints %v", a.Period.Year, got.Period, a.Period)
		}
	}
}
