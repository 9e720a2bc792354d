// Package sqlwhere turns a store.Query into the WHERE clause both SQLite-backed tables
// use: the embedded store's observations and the InfluxDB backend's spool and ledger.
// One place decides how a query filters, so the two backends cannot drift apart.
package sqlwhere

import (
	"strconv"
	"strings"
	"time"

	"github.com/g-oc/goc/internal/store"
)

// Observations returns " WHERE ..." (or "") and its arguments for the columns
// indicator, agency, period_start (unix seconds), kind (period.Kind) and source; the
// source filter only when withSources.
func Observations(q store.Query, withSources bool) (string, []any) {
	var where []string
	var args []any
	in := func(col string, vals []any) {
		if len(vals) == 0 {
			return
		}
		where = append(where, col+" IN ("+strings.TrimSuffix(strings.Repeat("?,", len(vals)), ",")+")")
		args = append(args, vals...)
	}
	in("indicator", anys(q.Indicators))
	in("agency", anys(q.Agencies))
	if !q.From.IsZero() {
		where = append(where, "period_start >= ?")
		args = append(args, CeilUnix(q.From))
	}
	if !q.To.IsZero() {
		where = append(where, "period_start < ?")
		args = append(args, CeilUnix(q.To))
	}
	kinds := make([]any, len(q.Kinds))
	for i, k := range q.Kinds {
		kinds[i] = int(k)
	}
	in("kind", kinds)
	if withSources {
		in("source", anys(q.Sources))
	}
	if k := q.After; k != nil {
		// A row value comparison: SQLite walks the (indicator, agency, period_start,
		// kind[, revision]) index from the key instead of skipping earlier rows.
		start := k.Period.Start(nil).Unix()
		if q.History {
			where = append(where, "(indicator, agency, period_start, kind, revision) > (?, ?, ?, ?, ?)")
			args = append(args, k.Indicator, k.Agency, start, int(k.Period.Kind), k.Revision)
		} else {
			where = append(where, "(indicator, agency, period_start, kind) > (?, ?, ?, ?)")
			args = append(args, k.Indicator, k.Agency, start, int(k.Period.Kind))
		}
	}
	if len(where) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(where, " AND "), args
}

// Limit returns " LIMIT n" when q has a limit, or "".
func Limit(q store.Query) string {
	if q.Limit <= 0 {
		return ""
	}
	return " LIMIT " + strconv.Itoa(q.Limit)
}

// CeilUnix is t in whole unix seconds, rounded up: period starts are whole seconds, so
// start >= t and start < t hold exactly when they hold for CeilUnix(t).
func CeilUnix(t time.Time) int64 {
	if t.Nanosecond() > 0 {
		return t.Unix() + 1
	}
	return t.Unix()
}

func anys[T ~string](vs []T) []any {
	out := make([]any, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
}
