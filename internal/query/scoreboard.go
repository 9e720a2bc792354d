package query

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/indicators/period"
)

// ScoreboardRow is the national figure of one target clause of the Resolution: what the
// scoreboard page shows on one line. Its Progress is exactly what
// GET /api/v1/progress?indicator=CODE&year=YEAR&level=LEVEL answers for the country.
type ScoreboardRow struct {
	Clause    string                `json:"clause"`
	Indicator *indicators.Indicator `json:"-"`
	Code      string                `json:"indicator"`
	Year      int                   `json:"year"`
	// Level is the tier the clause judges ("" when it judges the national figure).
	Level    indicators.Level  `json:"level,omitempty"`
	Target   indicators.Target `json:"target"`
	Progress ProgressReport    `json:"progress"`
	// Trend is the yearly national figure, oldest first: the sparkline.
	Trend []indicators.Point `json:"trend"`
	// LastPeriod is the newest period with data and LastReceived when its newest value
	// arrived.
	LastPeriod   *period.Period `json:"last_period,omitempty"`
	LastReceived time.Time      `json:"last_received,omitzero"`
	// Reported counts the agencies (of the clause's level, when it has one) whose own
	// values are in the newest period; Expected those that should be, as roll-up sees them.
	Reported int `json:"reported"`
	Expected int `json:"expected"`
}

// Scoreboard is every 2025 and 2030 clause with its national figure, in the
// Resolution's order (a.i … a.xi, then b.i … b.ix).
type Scoreboard struct {
	Rows []ScoreboardRow `json:"rows"`
	// Modified is when the newest value behind any row arrived.
	Modified time.Time `json:"modified,omitzero"`
}

// ScoreboardYears are the target years the scoreboard shows.
var scoreboardYears = []int{2025, 2030}

// Scoreboard computes the national scoreboard with one store read per indicator.
func (s *Service) Scoreboard(ctx context.Context) (*Scoreboard, error) {
	root := s.registry.Root()
	out := &Scoreboard{}
	for _, ind := range s.catalogue.All() {
		var targets []indicators.Target
		for _, t := range ind.Targets {
			if slices.Contains(scoreboardYears, t.Year) {
				targets = append(targets, t)
			}
		}
		if len(targets) == 0 {
			continue
		}
		byPeriod, err := s.ownByPeriod(ctx, ind)
		if err != nil {
			return nil, err
		}
		for _, t := range targets {
			level := t.Level
			if level == indicators.AnyLevel || level == indicators.National {
				level = ""
			}
			judged := level
			if judged == "" {
				judged = indicators.National
			}
			values := s.rollUpSeries(ind, byPeriod, root, level)
			row := ScoreboardRow{Clause: t.Clause, Indicator: ind, Code: ind.Code, Year: t.Year, Level: level, Target: t,
				Progress: progressOf(ind, root, judged, t.Year, values)}
			for _, v := range indicators.AnnualPoints(values) {
				row.Trend = append(row.Trend, indicators.Point{Period: v.Period, Value: v.Value})
			}
			if len(values) > 0 {
				last := values[len(values)-1]
				row.LastPeriod = &last.Period
				row.Expected = len(last.From) + len(last.Missing)
				for _, o := range byPeriod[last.Period] {
					if slices.Contains(last.From, o.Agency) {
						row.Reported++
						if o.ReceivedAt.After(row.LastReceived) {
							row.LastReceived = o.ReceivedAt
						}
					}
				}
				if row.Reported == 0 {
					// The figure is the root's own value: one reporter.
					row.Reported, row.Expected = 1, 1
				}
			}
			if row.LastReceived.After(out.Modified) {
				out.Modified = row.LastReceived
			}
			out.Rows = append(out.Rows, row)
		}
	}
	slices.SortStableFunc(out.Rows, func(a, b ScoreboardRow) int { return CompareClauses(a.Clause, b.Clause) })
	return out, nil
}

// CompareClauses orders clause numbers as the Resolution does: a before b, and within a
// letter by the roman numeral (a.ii before a.x).
func CompareClauses(a, b string) int {
	la, ra, _ := strings.Cut(a, ".")
	lb, rb, _ := strings.Cut(b, ".")
	if c := strings.Compare(la, lb); c != 0 {
		return c
	}
	return roman(ra) - roman(rb)
}

func roman(s string) int {
	vals := map[byte]int{'i': 1, 'v': 5, 'x': 10, 'l': 50}
	n := 0
	for i := 0; i < len(s); i++ {
		v := vals[s[i]]
		if i+1 < len(s) && vals[s[i+1]] > v {
			n -= v
		} else {
			n += v
		}
	}
	return n
}
