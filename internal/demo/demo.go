// Package demo builds the synthetic 2019-2026 history that `goc demo` loads, anchored on
// the figures the seed documents publish (TARGETS.md): 11.13% and 19.10% of online
// services at level 4 in 2020, 87% of documents exchanged online, Viet Nam's EGDI rank
// 99/88/86, one ministry's 54 of 107 services at level 4, and so on. Every observation is
// marked with source "demo" so nobody can mistake it for official data.
package demo

import (
	"cmp"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/indicators/period"
)

// Submitter is the name demo observations carry.
const Submitter = "goc-demo"

// FirstYear is where the demo history starts.
const FirstYear = 2019

// profile is how an indicator's values move nationally: the share at the start of 2019
// and the share reached by the end of 2025, both percent, for an average agency.
type profile struct {
	start, end float64
	// size is the typical denominator for one agency (services, dossiers, officials...).
	size float64
}

func profileOf(code string) (profile, bool) {
	p, ok := map[string]profile{
		"sat_digital_services":     {55, 82, 2000},
		"ops_single_sign_on":       {5, 92, 900},
		"ops_digital_payment":      {3, 85, 900},
		"ops_end_to_end":           {4, 75, 900},
		"ops_multi_device":         {30, 97, 900},
		"ops_ai_assisted":          {0.5, 35, 900},
		"ops_prefilled":            {2, 70, 900},
		"ops_level4_share":         {6, 88, 900},
		"ps_nonstate_delivery":     {4, 22, 600},
		"ops_with_dossiers":        {18, 68, 900},
		"dossiers_fully_online":    {3, 55, 150000},
		"work_records_online":      {45, 88, 40000},
		"edocs_electronic_share":   {86, 98, 60000},
		"open_data_agencies":       {8, 72, 40},
		"inspections_digital":      {5, 42, 300},
		"officials_digital_skills": {20, 90, 8000},
		"officials_data_skills":    {2, 24, 8000},
	}[code]
	return p, ok
}

// levelShift lowers district and commune trajectories, which start further behind.
func levelShift(l indicators.Level) float64 {
	switch l {
	case indicators.District:
		return -8
	case indicators.Commune:
		return -20
	}
	return 0
}

// History returns the demo observations for every agency that reports each indicator,
// for every period of the indicator's periodicity from 2019 to the last period that
// has ended at now. Values are deterministic: the same registry and catalogue always give
// the same history.
func History(cat *indicators.Catalogue, reg *indicators.Registry, now time.Time) []indicators.Observation {
	var out []indicators.Observation
	received := now.UTC().Truncate(time.Second)
	for _, ind := range cat.All() {
		if prof, ok := profileOf(ind.Code); ok {
			out = append(out, agencyHistory(ind, prof, reg, now, received)...)
		}
	}
	out = append(out, nationalHistory(cat, reg.Root(), now, received)...)
	out = append(out, probeHistory(cat, reg, now, received)...)
	// A fixed order makes two runs byte-identical, which keeps restarts from writing
	// anything new.
	slices.SortFunc(out, func(a, b indicators.Observation) int {
		return cmp.Or(cmp.Compare(a.Indicator, b.Indicator), cmp.Compare(a.Agency, b.Agency), a.Period.Compare(b.Period))
	})
	return out
}

func agencyHistory(ind *indicators.Indicator, prof profile, reg *indicators.Registry, now, received time.Time) []indicators.Observation {
	var out []indicators.Observation
	first := period.Of(ind.Periodicity, time.Date(FirstYear, 1, 1, 0, 0, 0, 0, time.UTC))
	for _, a := range reg.All() {
		if a.Kind == indicators.KindNational || !ind.ReportedAt(a.Level()) {
			continue
		}
		rng := rand.New(rand.NewPCG(seed(ind.Code, a.Code), 7))
		speed := 0.75 + 0.5*rng.Float64() // some agencies move faster than others
		offset := rng.NormFloat64() * 6
		size := prof.size * (0.3 + 1.4*rng.Float64())
		for p := first; p.Ended(now); p = p.Next() {
			last := p.End(nil).AddDate(0, 0, -1)
			if !a.ActiveOn(last) {
				continue
			}
			share := trajectory(prof, p.YearFraction(), speed) + offset + levelShift(a.Level()) + rng.NormFloat64()*1.5
			share = anchored(ind.Code, a.Code, p, share)
			share = math.Max(0, math.Min(100, share))
			o := indicators.Observation{
				SeriesKey:  indicators.SeriesKey{Indicator: ind.Code, Agency: a.Code, Period: p},
				Source:     indicators.FromDemo,
				Submitter:  Submitter,
				ReceivedAt: receivedAt(ind.Code, a.Code, p, received),
			}
			if ind.IsRatio() {
				den := math.Round(size * (0.9 + 0.2*rng.Float64()))
				if fixedDen, ok := anchoredDenominator(ind.Code, a.Code, p); ok {
					den = fixedDen
				}
				num := math.Round(den * share / 100)
				o.Numerator, o.Denominator = new(num), new(den)
				o.Value = round2(100 * num / den)
			} else {
				o.Value = round2(share)
			}
			out = append(out, o)
		}
	}
	return out
}

// trajectory is a logistic curve from start (2019.0) toward end (2026.0, the end of
// 2025), continuing past it; speed stretches or shrinks the climb.
func trajectory(prof profile, t, speed float64) float64 {
	x := (t - float64(FirstYear)) / 7 * speed // 0 at the start of 2019, ~1 at the end of 2025
	s := 1 / (1 + math.Exp(-6*(x-0.5)))
	s0 := 1 / (1 + math.Exp(3))
	s1 := 1 / (1 + math.Exp(-3))
	return prof.start + (prof.end-prof.start)*(s-s0)/(s1-s0)
}

// anchored pins the figures the seeds publish for named agencies.
func anchored(ind, agency string, p period.Period, v float64) float64 {
	switch {
	// Seed 003: the Ministry of Natural Resources and Environment, 54 of 107 services at
	// level 4 (50.5%).
	case ind == "ops_level4_share" && agency == "BTNMT" && p == period.MustParse("2020-Q4"):
		return 100 * 54.0 / 107
	// Seed 001: the Ministry of Information and Communications and the Ministry of
	// Health offered 100% of their online services at level 4 in 2020.
	case ind == "ops_level4_share" && (agency == "BTTTT" || agency == "BYT") && p == period.MustParse("2020-Q4"):
		return 100
	// Seed 003: electronic signed documents above 98% in the same ministry.
	case ind == "edocs_electronic_share" && agency == "BTNMT" && p.Year == 2020:
		return 98.2
	}
	return v
}

func anchoredDenominator(ind, agency string, p period.Period) (float64, bool) {
	if ind == "ops_level4_share" && agency == "BTNMT" && p == period.MustParse("2020-Q4") {
		return 107, true
	}
	return 0, false
}

// nationalHistory gives the national-only indicators a series: the EGDI rank from the
// published 2014, 2018 and 2020 ranks, the rest synthetic.
func nationalHistory(cat *indicators.Catalogue, root string, now, received time.Time) []indicators.Observation {
	series := map[string]map[int]float64{
		"egdi_rank":                    {2014: 99, 2016: 89, 2018: 88, 2020: 86, 2022: 82, 2024: 74},
		"national_databases_completed": {2019: 20, 2020: 40, 2021: 40, 2022: 60, 2023: 80, 2024: 80, 2025: 100},
		"sector_data_platforms":        {2021: 0, 2022: 10, 2023: 20, 2024: 30, 2025: 40},
		"admin_procedures_reduced":     {2021: 4, 2022: 9, 2023: 13, 2024: 18, 2025: 22},
		"data_services_increase":       {2021: 2, 2022: 6, 2023: 11, 2024: 15, 2025: 21},
	}
	var out []indicators.Observation
	for code, byYear := range series {
		if _, ok := cat.Get(code); !ok {
			continue
		}
		for y, v := range byYear {
			p := period.Period{Kind: period.Year, Year: y, Index: 1}
			if !p.Ended(now) {
				continue
			}
			out = append(out, indicators.Observation{
				SeriesKey:  indicators.SeriesKey{Indicator: code, Agency: root, Period: p},
				Value:      v,
				Source:     indicators.FromDemo,
				Submitter:  Submitter,
				ReceivedAt: received,
			})
		}
	}
	return out
}

func seed(parts ...string) uint64 {
	h := fnv.New64a()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return h.Sum64()
}

func round2(v float64) float64 { return math.Round(v*100) / 100 }

// receivedAt stamps a demo value as if its agency had sent it some days after the period
// ended: most within a week or two, about one agency in eight a month late. That gives
// the completeness report something to show. Its own generator keeps the values
// themselves unchanged.
func receivedAt(ind, agency string, p period.Period, loaded time.Time) time.Time {
	rng := rand.New(rand.NewPCG(seed(ind, agency, "received"), uint64(p.Year*100+p.Index)))
	days := 2 + rng.IntN(11)
	if seed(agency, "late")%8 == 0 {
		days = 25 + rng.IntN(20)
	}
	t := p.End(time.FixedZone("ICT", 7*3600)).AddDate(0, 0, days).Add(time.Duration(8+rng.IntN(9)) * time.Hour).UTC()
	if t.After(loaded) {
		return loaded
	}
	return t
}
