package web

import (
	"net/http"
	"strings"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/internal/query"
)

// scoreboardPage is the data of /: the 2025 clauses, then the 2030 clauses.
type scoreboardPage struct {
	Groups []scoreboardGroup
	// Counts is how many rows have each status, for the summary line.
	Counts []statusCount
}

type scoreboardGroup struct {
	Key  string // message key of the group's heading
	ID   string
	Rows []scoreboardRow
}

type statusCount struct {
	Status indicators.Status
	N      int
}

type scoreboardRow struct {
	query.ScoreboardRow
	Spark *sparkline
}

func (s *Server) scoreboard(w http.ResponseWriter, r *http.Request) error {
	sb, err := cached(r.Context(), s, "scoreboard", false, func() (*query.Scoreboard, error) {
		return s.query.Scoreboard(r.Context())
	})
	if err != nil {
		return err
	}
	l := langOf(r)
	page := scoreboardPage{Groups: []scoreboardGroup{
		{Key: "scoreboard.group.a", ID: "y2025"},
		{Key: "scoreboard.group.b", ID: "y2030"},
	}}
	counts := map[indicators.Status]int{}
	for _, row := range sb.Rows {
		vals := make([]float64, len(row.Trend))
		for i, p := range row.Trend {
			vals[i] = p.Value
		}
		name := l.Pick(row.Indicator.NameVI, row.Indicator.NameEN)
		sr := scoreboardRow{ScoreboardRow: row, Spark: newSparkline(vals, 96, 28, l.T("trend.label")+": "+name)}
		g := 0
		if strings.HasPrefix(row.Clause, "b") {
			g = 1
		}
		page.Groups[g].Rows = append(page.Groups[g].Rows, sr)
		counts[row.Progress.Status]++
	}
	for _, st := range statusOrder {
		if counts[st] > 0 {
			page.Counts = append(page.Counts, statusCount{st, counts[st]})
		}
	}
	return s.render(w, r, pageOpts{Template: "scoreboard", Nav: "scoreboard", JSON: "/api/v1/indicators",
		Modified: sb.Modified, Data: page, Cached: true})
}

// statusOrder lists progress statuses best first, as the summary shows them.
var statusOrder = []indicators.Status{indicators.Achieved, indicators.OnTrack, indicators.NeedsAcceleration,
	indicators.Stagnating, indicators.Regressing, indicators.InsufficientData, indicators.NoTarget}
