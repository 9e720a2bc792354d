package config

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/g-oc/goc/indicators"
)

// Ranking configures the composite index behind /api/v1/rankings and the ranking
// workbooks.
type Ranking struct {
	Normalisation   indicators.Normalisation
	MaxMissingShare float64
	TrimPercent     float64
	// PillarWeights and Weights are relative; a pillar or indicator not listed weighs 1.
	PillarWeights map[string]float64
	Weights       map[string]float64

	// weightLines is where each indicator weight is written, for CheckIndicators.
	weightLines map[string]int
}

// DefaultRanking is min-max normalisation with equal weights and the 20% missing-data
// rule.
func DefaultRanking() Ranking {
	m := indicators.DefaultRankingMethod()
	return Ranking{Normalisation: m.Normalisation, MaxMissingShare: m.MaxMissingShare}
}

// Method is the ranking method the settings describe.
func (r Ranking) Method() indicators.RankingMethod {
	return indicators.RankingMethod{
		Normalisation: r.Normalisation, MaxMissingShare: r.MaxMissingShare, TrimPercent: r.TrimPercent,
		PillarWeights: maps.Clone(r.PillarWeights), Weights: maps.Clone(r.Weights),
	}
}

func (d *decoder) ranking(n *yaml.Node, path string, r *Ranking) {
	d.mapping(n, path, fields{
		"normalisation": setting(d, &r.Normalisation, indicators.ParseNormalisation),
		"max_missing_share": setting(d, &r.MaxMissingShare, func(s string) (float64, error) {
			v, err := parseNumber(s)
			if err == nil && !(v >= 0 && v < 1) {
				err = fmt.Errorf("%s must be at least 0 and below 1 (0.2 allows 20%% of the indicators to be missing)", s)
			}
			return v, err
		}),
		"trim_percent": setting(d, &r.TrimPercent, func(s string) (float64, error) {
			v, err := parseNumber(s)
			if err == nil && !(v >= 0 && v < 50) {
				err = fmt.Errorf("%s must be at least 0 and below 50", s)
			}
			return v, err
		}),
		"pillar_weights": func(v *yaml.Node, p string) {
			r.PillarWeights, _ = d.weights(v, p, indicators.Pillars())
		},
		"weights": func(v *yaml.Node, p string) {
			r.Weights, r.weightLines = d.weights(v, p, nil)
		},
	})
}

// weights reads a mapping of names to weights ≥ 0. With known, names outside it are
// reported; without, the names are checked later (CheckIndicators).
func (d *decoder) weights(n *yaml.Node, path string, known []string) (map[string]float64, map[string]int) {
	if isNull(n) {
		return nil, nil
	}
	if n.Kind != yaml.MappingNode {
		d.add(n.Line, path, "must be a mapping of names to weights, not %s", kindName(n))
		return nil, nil
	}
	out, lines := map[string]float64{}, map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], resolve(n.Content[i+1])
		p := join(path, k.Value)
		if first, dup := lines[k.Value]; dup {
			d.add(k.Line, p, "set twice; first at line %d", first)
			continue
		}
		lines[k.Value] = k.Line
		if known != nil && !slices.Contains(known, k.Value) {
			d.add(k.Line, p, "unknown pillar %q; known: %s", k.Value, strings.Join(known, ", "))
			continue
		}
		s, ok := d.str(v, p)
		if !ok {
			continue
		}
		w, err := parseNumber(s)
		if err == nil && w < 0 {
			err = fmt.Errorf("weight %s must not be negative (0 leaves it out)", s)
		}
		if err != nil {
			d.add(v.Line, p, "%v", err)
			continue
		}
		out[k.Value] = w
	}
	return out, lines
}

func parseNumber(s string) (float64, error) {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	return v, nil
}

// CheckIndicators reports, with its line, each ranking weight whose indicator the
// catalogue does not have. It is a second step because the catalogue may come from the
// config too.
func (c *Config) CheckIndicators(known func(code string) bool) error {
	ps := &problems{file: c.file}
	for _, code := range slices.Sorted(maps.Keys(c.Ranking.Weights)) {
		if !known(code) {
			ps.add(c.Ranking.weightLines[code], "ranking.weights."+code, "unknown indicator %q", code)
		}
	}
	return ps.err()
}
