package indicators

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/g-oc/goc/indicators/period"
)

// PeerGroup is a set of agencies that are ranked against each other: bodies of the same
// kind, judged against the same targets.
type PeerGroup string

// Peer groups G-OC ranks.
const (
	// Ministries are the ministries and the ministerial-level agencies (bộ, cơ quan ngang bộ).
	Ministries PeerGroup = "ministries"
	// GovernmentAgencies are the agencies under the Government (cơ quan thuộc Chính phủ).
	GovernmentAgencies PeerGroup = "government_agencies"
	// Provinces are the provinces and centrally-run cities (tỉnh, thành phố trực thuộc
	// trung ương): 63 until 30 June 2025, 34 from 1 July 2025.
	Provinces PeerGroup = "provinces"
)

// PeerGroups lists the groups in the order reports show them.
func PeerGroups() []PeerGroup { return []PeerGroup{Ministries, GovernmentAgencies, Provinces} }

// ParsePeerGroup reads a group name; the singular forms are accepted too.
func ParsePeerGroup(s string) (PeerGroup, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "ministries", "ministry":
		return Ministries, nil
	case "government_agencies", "government_agency", "government-agencies":
		return GovernmentAgencies, nil
	case "provinces", "province":
		return Provinces, nil
	}
	return "", fmt.Errorf("nhóm %q không tồn tại / unknown group %q (want ministries, government_agencies or provinces)", s, s)
}

// Kinds are the registry kinds that make up the group.
func (g PeerGroup) Kinds() []AgencyKind {
	switch g {
	case Ministries:
		return []AgencyKind{KindMinistry, KindMinisterialAgency}
	case GovernmentAgencies:
		return []AgencyKind{KindGovernmentAgency}
	case Provinces:
		return []AgencyKind{KindProvince}
	}
	return nil
}

// Level is the tier whose targets judge the group's members.
func (g PeerGroup) Level() Level {
	if ks := g.Kinds(); len(ks) > 0 {
		return ks[0].Level()
	}
	return ""
}

// NameVI and NameEN name the group for people.
func (g PeerGroup) NameVI() string {
	switch g {
	case Ministries:
		return "Bộ, cơ quan ngang bộ"
	case GovernmentAgencies:
		return "Cơ quan thuộc Chính phủ"
	case Provinces:
		return "Tỉnh, thành phố trực thuộc trung ương"
	}
	return string(g)
}

// NameEN names the group in English.
func (g PeerGroup) NameEN() string {
	switch g {
	case Ministries:
		return "Ministries and ministerial-level agencies"
	case GovernmentAgencies:
		return "Government agencies"
	case Provinces:
		return "Provinces and centrally-run cities"
	}
	return string(g)
}

// GroupOf is the peer group an agency of kind k belongs to, if any.
func GroupOf(k AgencyKind) (PeerGroup, bool) {
	for _, g := range PeerGroups() {
		if slices.Contains(g.Kinds(), k) {
			return g, true
		}
	}
	return "", false
}

// Members are the group's agencies on the last day of period p, in registry order.
// Membership on that day is what keeps a merged province and the provinces it replaced
// apart: 2025 ranks the 34 provinces, 2024 the 63.
func (g PeerGroup) Members(reg *Registry, p period.Period) []*Agency {
	return reg.OfKind(LastDay(p), g.Kinds()...)
}

// LastDay is the last calendar day of a period (UTC midnight), the day that settles who
// existed during it.
func LastDay(p period.Period) time.Time { return p.End(time.UTC).AddDate(0, 0, -1) }

// Pillars of the composite index, in the order reports show them. The catalogue gives
// each indicator one of them.
func Pillars() []string {
	return []string{"services", "operations", "data", "infrastructure", "people"}
}

// PillarName is a pillar's Vietnamese and English name for reports.
func PillarName(p string) (vi, en string) {
	switch p {
	case "services":
		return "Dịch vụ số", "Digital services"
	case "operations":
		return "Điều hành, xử lý công việc", "Operations"
	case "data":
		return "Dữ liệu", "Data"
	case "infrastructure":
		return "Hạ tầng", "Infrastructure"
	case "people":
		return "Con người, kỹ năng số", "People and skills"
	}
	return p, p
}

// Normalisation is how an indicator's values are put on a common scale across a group.
type Normalisation string

// Normalisations.
const (
	// MinMax maps the group's lowest and highest value to 0 and 100 (reversed when lower
	// is better). With TrimPercent the bounds are percentiles and values beyond them are
	// held at 0 and 100 (censored), as the Sustainable Development Report does.
	MinMax Normalisation = "minmax"
	// ZScore standardises each indicator to mean 0 and standard deviation 1 (sign
	// reversed when lower is better), combines the z-scores and min-max scales the
	// composite to 0–100: the UN E-Government Development Index's procedure.
	ZScore Normalisation = "zscore"
)

// ParseNormalisation reads a normalisation name.
func ParseNormalisation(s string) (Normalisation, error) {
	switch n := Normalisation(strings.ToLower(strings.TrimSpace(s))); n {
	case MinMax, ZScore:
		return n, nil
	case "min-max", "min_max":
		return MinMax, nil
	case "z-score", "z_score", "z":
		return ZScore, nil
	}
	return "", fmt.Errorf("unknown normalisation %q (want minmax or zscore)", s)
}

// ScoreDecimals is the precision scores are published, and ranked, at: two agencies
// whose scores print the same share a rank.
const ScoreDecimals = 3

// DetailDecimals is the precision normalised indicator scores and pillar scores are
// published at.
const DetailDecimals = 4

// DefaultMaxMissingShare is the share of indicators an agency may miss and still be
// ranked: 20%, the rule of the Sustainable Development Report (Sachs et al., SDR 2023,
// "Methods summary": countries missing more than 20% of the data are not ranked).
const DefaultMaxMissingShare = 0.2

// RankingMethod is how a composite index is built and ranked.
type RankingMethod struct {
	Normalisation Normalisation `json:"normalisation"`
	// MaxMissingShare is the largest share of the ranking's indicators an agency may lack
	// and still be ranked (on what it has, and flagged).
	MaxMissingShare float64 `json:"max_missing_share"`
	// TrimPercent, with MinMax, sets the normalisation bounds at the TrimPercent-th and
	// (100 − TrimPercent)-th percentiles of the group's values instead of the minimum and
	// maximum; values beyond them are censored to 0 and 100. 0 uses the minimum and
	// maximum.
	TrimPercent float64 `json:"trim_percent"`
	// PillarWeights are the relative weights of the pillars; a pillar not listed weighs 1.
	PillarWeights map[string]float64 `json:"pillar_weights,omitempty"`
	// Weights are the relative weights of indicators within their pillar; an indicator
	// not listed weighs 1, and 0 leaves it out of the index.
	Weights map[string]float64 `json:"weights,omitempty"`
}

// DefaultRankingMethod is min-max normalisation, equal weights within pillars, equal
// pillars, and the 20% missing-data rule.
func DefaultRankingMethod() RankingMethod {
	return RankingMethod{Normalisation: MinMax, MaxMissingShare: DefaultMaxMissingShare}
}

// Check reports what is wrong with a method.
func (m RankingMethod) Check() error {
	var errs []string
	if _, err := ParseNormalisation(string(m.Normalisation)); err != nil {
		errs = append(errs, err.Error())
	}
	if !(m.MaxMissingShare >= 0 && m.MaxMissingShare < 1) {
		errs = append(errs, fmt.Sprintf("max_missing_share %g must be at least 0 and below 1", m.MaxMissingShare))
	}
	if !(m.TrimPercent >= 0 && m.TrimPercent < 50) {
		errs = append(errs, fmt.Sprintf("trim_percent %g must be at least 0 and below 50", m.TrimPercent))
	}
	for _, k := range sortedKeys(m.PillarWeights) {
		if w := m.PillarWeights[k]; !(w >= 0) || math.IsInf(w, 0) {
			errs = append(errs, fmt.Sprintf("pillar_weights.%s %g must be a number ≥ 0", k, w))
		}
	}
	for _, k := range sortedKeys(m.Weights) {
		if w := m.Weights[k]; !(w >= 0) || math.IsInf(w, 0) {
			errs = append(errs, fmt.Sprintf("weights.%s %g must be a number ≥ 0", k, w))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("ranking method: %s", strings.Join(errs, "; "))
	}
	return nil
}

func sortedKeys(m map[string]float64) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// IndicatorWeight is an indicator's relative weight within its pillar.
func (m RankingMethod) IndicatorWeight(code string) float64 {
	if w, ok := m.Weights[code]; ok {
		return w
	}
	return 1
}

// PillarWeight is a pillar's relative weight.
func (m RankingMethod) PillarWeight(p string) float64 {
	if w, ok := m.PillarWeights[p]; ok {
		return w
	}
	return 1
}

// RankingInput is what a ranking is computed from: a group's values of some indicators
// for one period. A value that is absent is missing; it is never taken as zero.
type RankingInput struct {
	// Indicators in the order reports show them.
	Indicators []*Indicator
	// Agencies are the group's members, in the order ties are listed.
	Agencies []string
	// Values maps an indicator code to each agency's value.
	Values map[string]map[string]float64
}

// Why an indicator is left out of the composite.
const (
	// UnusedZeroWeight: the method gives it (or its pillar) weight 0.
	UnusedZeroWeight = "zero_weight"
	// UnusedNoData: no member of the group has a value for the period.
	UnusedNoData = "no_data"
	// UnusedNoSpread: every member with a value has the same one (or only one has a
	// value), so it cannot tell agencies apart.
	UnusedNoSpread = "no_spread"
)

// Flags on a ranking entry.
const (
	// FlagPartial: ranked on the indicators it has; some are missing.
	FlagPartial = "partial_data"
	// FlagInsufficient: missing more than the method allows, so not ranked.
	FlagInsufficient = "insufficient_data"
)

// RankedIndicator is one indicator's part in a ranking.
type RankedIndicator struct {
	Code      string    `json:"code"`
	Pillar    string    `json:"pillar"`
	Direction Direction `json:"direction"`
	// Used is false when the indicator is left out of the composite; Unused says why.
	Used   bool   `json:"used"`
	Unused string `json:"unused,omitempty"`
	// Weight is the indicator's share of the composite for an agency with every value
	// (its pillar's share times its share within the pillar); 0 when unused.
	Weight float64 `json:"weight"`
	// Count is how many members have a value.
	Count int `json:"count"`
	// Low and High are the min-max bounds; Mean and SD the z-score parameters
	// (population standard deviation). Nil when they do not apply.
	Low  *float64 `json:"low,omitempty"`
	High *float64 `json:"high,omitempty"`
	Mean *float64 `json:"mean,omitempty"`
	SD   *float64 `json:"sd,omitempty"`
}

// RankEntry is one agency's place in a ranking.
type RankEntry struct {
	Agency string `json:"agency"`
	// Rank is the standard competition rank (1, 2, 2, 4); 0 (absent in JSON) when not
	// ranked.
	Rank int `json:"rank,omitempty"`
	// Score is the composite, 0–100, rounded to ScoreDecimals; nil when not ranked.
	Score *float64 `json:"score"`
	// Coverage is the share of the used indicators the agency has a value for.
	Coverage float64 `json:"coverage"`
	// Missing lists the used indicators it has no value for.
	Missing []string `json:"missing,omitempty"`
	// Flag is "", FlagPartial or FlagInsufficient.
	Flag string `json:"flag,omitempty"`
	// Pillars are the pillar scores (0–100 with MinMax, mean z-scores with ZScore).
	Pillars map[string]float64 `json:"pillars,omitempty"`
	// Normalised are the indicator scores (0–100 with MinMax, z-scores with ZScore).
	Normalised map[string]float64 `json:"normalised,omitempty"`
}

// Ranked reports whether the entry has a rank.
func (e *RankEntry) Ranked() bool { return e.Rank > 0 }

// Ranking is a group's composite scores and ranks for one period.
type Ranking struct {
	Method     RankingMethod     `json:"method"`
	Indicators []RankedIndicator `json:"indicators"`
	// Entries are ranked agencies by rank (ties in input order), then the unranked ones
	// in input order.
	Entries []RankEntry `json:"entries"`
}

// Entry finds an agency's entry.
func (r *Ranking) Entry(agency string) (*RankEntry, bool) {
	for i := range r.Entries {
		if r.Entries[i].Agency == agency {
			return &r.Entries[i], true
		}
	}
	return nil, false
}

// ComputeRanking computes a composite index over a group and ranks it.
//
// Steps, in order:
//
//  1. Indicators with weight 0 (or in a pillar of weight 0), with no value in the group,
//     or with no spread (a single distinct value) are left out, each with its reason.
//     The rest are the used indicators.
//  2. Each used indicator is normalised across the members that have a value:
//     MinMax gives 100·(x − low)/(high − low), or 100·(high − x)/(high − low) when lower is
//     better, with low and high the group's minimum and maximum (or the TrimPercent
//     percentiles, values beyond them held at 0 and 100). ZScore gives (x − mean)/sd, its
//     sign reversed when lower is better.
//  3. Coverage is the share of used indicators an agency has. An agency missing more than
//     MaxMissingShare of them is not ranked (FlagInsufficient); one missing some but not
//     too many is ranked on what it has (FlagPartial). A missing value is never zero.
//  4. A pillar's score is the weighted mean of the agency's normalised values in it; the
//     composite is the weighted mean of its pillar scores. Weights are renormalised over
//     what the agency has, so a missing value neither helps nor hurts.
//  5. MinMax: the score is the composite. ZScore: the score is the composite min-max
//     scaled over the ranked agencies to 0–100, as the EGDI does.
//  6. Scores are rounded to ScoreDecimals and ranked by standard competition ranking:
//     equal scores share a rank and the next rank is skipped (1, 2, 2, 4).
func ComputeRanking(in RankingInput, m RankingMethod) Ranking {
	if m.Normalisation == "" {
		m.Normalisation = MinMax
	}
	out := Ranking{Method: m}
	type norm struct {
		ind  *Indicator
		vals map[string]float64 // agency → normalised value
	}
	var used []norm
	for _, ind := range in.Indicators {
		ri := RankedIndicator{Code: ind.Code, Pillar: ind.Pillar, Direction: ind.Direction}
		var xs []float64
		for _, a := range in.Agencies {
			if v, ok := in.Values[ind.Code][a]; ok && !math.IsNaN(v) && !math.IsInf(v, 0) {
				xs = append(xs, v)
			}
		}
		ri.Count = len(xs)
		switch {
		case m.IndicatorWeight(ind.Code) == 0 || m.PillarWeight(ind.Pillar) == 0:
			ri.Unused = UnusedZeroWeight
		case len(xs) == 0:
			ri.Unused = UnusedNoData
		case slices.Min(xs) == slices.Max(xs):
			ri.Unused = UnusedNoSpread
		}
		if ri.Unused != "" {
			out.Indicators = append(out.Indicators, ri)
			continue
		}
		ri.Used = true
		n := norm{ind: ind, vals: make(map[string]float64, len(xs))}
		sign := 1.0
		if ind.Direction == LowerIsBetter {
			sign = -1
		}
		if m.Normalisation == ZScore {
			mean, sd := meanSD(xs)
			ri.Mean, ri.SD = new(mean), new(sd)
			for _, a := range in.Agencies {
				if v, ok := in.Values[ind.Code][a]; ok && !math.IsNaN(v) && !math.IsInf(v, 0) {
					n.vals[a] = sign * (v - mean) / sd
				}
			}
		} else {
			lo, hi := slices.Min(xs), slices.Max(xs)
			if m.TrimPercent > 0 {
				lo, hi = percentile(xs, m.TrimPercent), percentile(xs, 100-m.TrimPercent)
			}
			if hi == lo { // trimming can close the gap; fall back to the full range
				lo, hi = slices.Min(xs), slices.Max(xs)
			}
			ri.Low, ri.High = new(lo), new(hi)
			for _, a := range in.Agencies {
				if v, ok := in.Values[ind.Code][a]; ok && !math.IsNaN(v) && !math.IsInf(v, 0) {
					s := (v - lo) / (hi - lo)
					if sign < 0 {
						s = (hi - v) / (hi - lo)
					}
					n.vals[a] = 100 * min(max(s, 0), 1)
				}
			}
		}
		out.Indicators = append(out.Indicators, ri)
		used = append(used, n)
	}

	// Nominal weights: pillar share × share within the pillar, over the used indicators.
	pillarTotal := map[string]float64{}
	for _, n := range used {
		pillarTotal[n.ind.Pillar] += m.IndicatorWeight(n.ind.Code)
	}
	var pw float64
	for p := range pillarTotal {
		pw += m.PillarWeight(p)
	}
	for i := range out.Indicators {
		ri := &out.Indicators[i]
		if ri.Used {
			ri.Weight = m.PillarWeight(ri.Pillar) / pw * m.IndicatorWeight(ri.Code) / pillarTotal[ri.Pillar]
		}
	}

	pillarOrder := Pillars()
	for _, p := range sortedKeys(pillarTotal) {
		if !slices.Contains(pillarOrder, p) {
			pillarOrder = append(pillarOrder, p)
		}
	}
	allowed := int(math.Floor(m.MaxMissingShare*float64(len(used)) + 1e-9))
	composite := map[string]float64{}
	entries := make([]RankEntry, 0, len(in.Agencies))
	for _, a := range in.Agencies {
		e := RankEntry{Agency: a}
		sums, wts := map[string]float64{}, map[string]float64{}
		for _, n := range used {
			v, ok := n.vals[a]
			if !ok {
				e.Missing = append(e.Missing, n.ind.Code)
				continue
			}
			if e.Normalised == nil {
				e.Normalised = map[string]float64{}
			}
			e.Normalised[n.ind.Code] = v
			w := m.IndicatorWeight(n.ind.Code)
			sums[n.ind.Pillar] += w * v
			wts[n.ind.Pillar] += w
		}
		if len(used) > 0 {
			e.Coverage = float64(len(used)-len(e.Missing)) / float64(len(used))
		}
		var c, cw float64
		for _, p := range pillarOrder { // a fixed order, so equal inputs give equal sums
			w, ok := wts[p]
			if !ok {
				continue
			}
			if e.Pillars == nil {
				e.Pillars = map[string]float64{}
			}
			e.Pillars[p] = sums[p] / w
			c += m.PillarWeight(p) * e.Pillars[p]
			cw += m.PillarWeight(p)
		}
		switch {
		case len(used) == 0 || len(e.Missing) > allowed || cw == 0:
			e.Flag = FlagInsufficient
		default:
			if len(e.Missing) > 0 {
				e.Flag = FlagPartial
			}
			composite[a] = c / cw
		}
		entries = append(entries, e)
	}

	if m.Normalisation == ZScore && len(composite) > 0 {
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, c := range composite {
			lo, hi = min(lo, c), max(hi, c)
		}
		for a, c := range composite {
			if hi > lo {
				composite[a] = 100 * (c - lo) / (hi - lo)
			} else {
				composite[a] = 100
			}
		}
	}
	for i := range entries {
		e := &entries[i]
		if c, ok := composite[e.Agency]; ok {
			e.Score = new(Round(c, ScoreDecimals))
		}
		// Published to DetailDecimals: the composite above used the unrounded values.
		for k, v := range e.Normalised {
			e.Normalised[k] = Round(v, DetailDecimals)
		}
		for k, v := range e.Pillars {
			e.Pillars[k] = Round(v, DetailDecimals)
		}
	}
	AssignRanks(entries)
	out.Entries = entries
	return out
}

// AssignRanks gives ranked entries (those with a score) their standard competition rank
// and sorts the entries: by rank, ties and the unranked kept in their given order.
func AssignRanks(entries []RankEntry) {
	slices.SortStableFunc(entries, func(a, b RankEntry) int {
		switch {
		case a.Score == nil && b.Score == nil:
			return 0
		case a.Score == nil:
			return 1
		case b.Score == nil:
			return -1
		}
		return cmp.Compare(*b.Score, *a.Score)
	})
	for i := range entries {
		switch {
		case entries[i].Score == nil:
			entries[i].Rank = 0
		case i > 0 && entries[i-1].Score != nil && *entries[i-1].Score == *entries[i].Score:
			entries[i].Rank = entries[i-1].Rank
		default:
			entries[i].Rank = i + 1
		}
	}
}

// Round rounds v to d decimals, halves away from zero.
func Round(v float64, d int) float64 {
	p := math.Pow(10, float64(d))
	return math.Round(v*p) / p
}

// meanSD is the mean and population standard deviation.
func meanSD(xs []float64) (mean, sd float64) {
	for _, x := range xs {
		mean += x
	}
	mean /= float64(len(xs))
	for _, x := range xs {
		sd += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(sd / float64(len(xs)))
}

// percentile is the p-th percentile (0–100) by linear interpolation between closest
// ranks (the method spreadsheet PERCENTILE.INC uses).
func percentile(xs []float64, p float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s) == 1 {
		return s[0]
	}
	h := p / 100 * float64(len(s)-1)
	i := int(math.Floor(h))
	if i >= len(s)-1 {
		return s[len(s)-1]
	}
	return s[i] + (h-float64(i))*(s[i+1]-s[i])
}

// FigureWithin picks an agency's figure for period r from its figures of shorter or equal
// periods: the figure for r itself if there is one, otherwise the one whose period ends
// last (the longer on a tie). For a year that is AnnualPoints' rule — the yearly figure,
// else the latest period reported in it (year to date for the current year) — so a
// yearly ranking and progress see the same value.
func FigureWithin(values []Value, r period.Period) (Value, bool) {
	var best Value
	found := false
	for _, v := range values {
		if !r.Contains(v.Period) {
			continue
		}
		if !found || betterFigure(v.Period, best.Period, r) {
			best, found = v, true
		}
	}
	return best, found
}

// PreferredPeriods orders the periods lying within r the way FigureWithin prefers them,
// best first, so a caller can try each until one gives a figure.
func PreferredPeriods(ps []period.Period, r period.Period) []period.Period {
	var out []period.Period
	for _, p := range ps {
		if r.Contains(p) {
			out = append(out, p)
		}
	}
	slices.SortStableFunc(out, func(a, b period.Period) int {
		switch {
		case a == b:
			return 0
		case betterFigure(a, b, r):
			return -1
		case betterFigure(b, a, r):
			return 1
		}
		return 0
	})
	return out
}

func betterFigure(p, cur, r period.Period) bool {
	if cur == r {
		return false
	}
	if p == r {
		return true
	}
	pe, ce := p.End(nil), cur.End(nil)
	if !pe.Equal(ce) {
		return pe.After(ce)
	}
	return p.Kind < cur.Kind
}
