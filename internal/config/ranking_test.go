package config

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/g-oc/goc/indicators"
)

func TestRankingSettingsDefaultToMinMaxAndTheTwentyPercentRule(t *testing.T) {
	c, err := Parse("min.yaml", []byte("store: {path: goc.db}\n"), "")
	if err != nil {
		t.Fatal(err)
	}
	m := c.Ranking.Method()
	if m.Normalisation != indicators.MinMax || m.MaxMissingShare != 0.2 || m.TrimPercent != 0 || len(m.Weights) != 0 || len(m.PillarWeights) != 0 {
		t.Fatalf("default ranking method = %+v", m)
	}
	if err := m.Check(); err != nil {
		t.Fatal(err)
	}
}

func TestRankingSettingsAreRead(t *testing.T) {
	c, err := Parse("r.yaml", []byte(`store: {path: goc.db}
ranking:
  normalisation: zscore
  max_missing_share: 0.25
  trim_percent: 2.5
  pillar_weights: {people: 0.5, data: 2}
  weights:
    dossiers_fully_online: 2
    egdi_rank: 0
`), "")
	if err != nil {
		t.Fatal(err)
	}
	m := c.Ranking.Method()
	if m.Normalisation != indicators.ZScore || m.MaxMissingShare != 0.25 || m.TrimPercent != 2.5 {
		t.Errorf("method = %+v", m)
	}
	if m.PillarWeight("people") != 0.5 || m.PillarWeight("data") != 2 || m.PillarWeight("services") != 1 {
		t.Errorf("pillar weights = %v", m.PillarWeights)
	}
	if m.IndicatorWeight("dossiers_fully_online") != 2 || m.IndicatorWeight("egdi_rank") != 0 || m.IndicatorWeight("ops_prefilled") != 1 {
		t.Errorf("weights = %v", m.Weights)
	}
	if err := c.CheckIndicators(func(string) bool { return true }); err != nil {
		t.Errorf("all indicators known: %v", err)
	}
}

func TestInvalidRankingSettingsNameTheirLine(t *testing.T) {
	tests := []struct {
		file string
		line int
		path string
		msg  string
	}{
		{"invalid-ranking-normalisation.yml", 3, "ranking.normalisation", `unknown normalisation "rank-sum" (want minmax or zscore)`},
		{"invalid-ranking-share.yml", 4, "ranking.max_missing_share", "20 must be at least 0 and below 1"},
		{"invalid-ranking-pillar.yml", 5, "ranking.pillar_weights.infrastucture", `unknown pillar "infrastucture"; known: services, operations, data, infrastructure, people`},
		{"invalid-ranking-weight.yml", 5, "ranking.weights.egdi_rank", "weight -1 must not be negative"},
		{"invalid-ranking-duplicate-weight.yml", 6, "ranking.weights.dossiers_fully_online", "set twice; first at line 4"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			name := filepath.Join("testdata", tt.file)
			_, err := Load(name)
			if err == nil {
				t.Fatal("loaded, want an error")
			}
			ps := problemsOf(t, err)
			if len(ps) != 1 {
				t.Fatalf("got %d problems, want 1:\n%v", len(ps), err)
			}
			p := ps[0]
			if p.File != name || p.Line != tt.line || p.Path != tt.path || !strings.Contains(p.Message, tt.msg) {
				t.Fatalf("got  %s\nwant %s:%d: %s: …%s…", p, name, tt.line, tt.path, tt.msg)
			}
		})
	}
}

func TestCheckIndicatorsReportsUnknownWeightsWithTheirLines(t *testing.T) {
	c, err := Parse("goc.yaml", []byte(`store: {path: x}
ranking:
  weights:
    dossiers_fully_online: 2
    dossier_fully_online: 1
`), "")
	if err != nil {
		t.Fatal(err)
	}
	cat := indicators.DefaultCatalogue()
	err = c.CheckIndicators(func(code string) bool { _, ok := cat.Get(code); return ok })
	if err == nil || err.Error() != `goc.yaml:5: ranking.weights.dossier_fully_online: unknown indicator "dossier_fully_online"` {
		t.Fatalf("CheckIndicators = %v", err)
	}
}
