// Package yearfigures keeps every agency's rolled-up yearly figures in SQL tables
// (store.FigureKeeper), beside marks of the (indicator, year) pairs each write or
// approval touched: the SQLite store keeps them in its data file, the InfluxDB store
// in its spool, with the same tables and this same code. The caller owns the
// transactions: Mark runs inside the transaction of the write it marks, so that a
// crash loses the write and its marks together, never the marks alone.
package yearfigures

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/internal/store"
)

// Schema creates the tables where missing. Each write or approval marks, in its own
// transaction, the (indicator, year) pairs it touched with the next value of
// figure_clock; a set of kept figures records the newest mark it reflects, so a
// reader recomputes only the years marked after it. A set computed under another
// registry or catalogue (its stamp) is recomputed whole. The SQLite store's
// migrations 7 and 8 create the same tables.
const Schema = `
CREATE TABLE IF NOT EXISTS figure_clock (
	id  INTEGER PRIMARY KEY CHECK (id = 1),
	seq INTEGER NOT NULL
);
INSERT OR IGNORE INTO figure_clock VALUES (1, 0);
CREATE TABLE IF NOT EXISTS figure_marks (
	indicator TEXT    NOT NULL,
	year      INTEGER NOT NULL, -- the UTC year the marked periods start in
	seq       INTEGER NOT NULL, -- figure_clock when last marked
	PRIMARY KEY (indicator, year)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS figure_sets (
	view      TEXT    NOT NULL, -- public or all
	indicator TEXT    NOT NULL,
	level     TEXT    NOT NULL, -- '' for every agency, else the country at that level
	stamp     TEXT    NOT NULL, -- hash of what the figures were computed under
	seq       INTEGER NOT NULL, -- every mark up to this is reflected in figures
	PRIMARY KEY (view, indicator, level)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS figures (
	view      TEXT    NOT NULL,
	indicator TEXT    NOT NULL,
	level     TEXT    NOT NULL,
	agency    TEXT    NOT NULL,
	year      INTEGER NOT NULL,
	cutoff    INTEGER,          -- unix nanoseconds, NULL when none
	sources   TEXT    NOT NULL, -- JSON array, first seen first
	annual    BLOB    NOT NULL, -- JSON array of indicators.Value
	behind    BLOB,             -- JSON array of store.Behind
	PRIMARY KEY (view, indicator, level, agency, year)
) WITHOUT ROWID;
`

// Year is one (indicator, year) pair a write touched: the figures of that year of
// that indicator may have changed.
type Year struct {
	Indicator string
	Year      int
}

// Mark records, inside the write's transaction tx, that the figures of years may have
// changed: each pair gets the next value of figure_clock.
func Mark(ctx context.Context, tx *sql.Tx, years map[Year]bool) error {
	if len(years) == 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, "UPDATE figure_clock SET seq = seq + 1"); err != nil {
		return fmt.Errorf("mark figures: %w", err)
	}
	keys := make([]Year, 0, len(years))
	for k := range years {
		keys = append(keys, k)
	}
	// In key order, so that the rows are written in index order.
	slices.SortFunc(keys, func(a, b Year) int {
		if c := strings.Compare(a.Indicator, b.Indicator); c != 0 {
			return c
		}
		return a.Year - b.Year
	})
	const perStatement = 200
	for start := 0; start < len(keys); start += perStatement {
		part := keys[start:min(len(keys), start+perStatement)]
		args := make([]any, 0, 2*len(part))
		for _, k := range part {
			args = append(args, k.Indicator, k.Year)
		}
		q := "INSERT INTO figure_marks (indicator, year, seq) SELECT column1, column2, (SELECT seq FROM figure_clock) FROM (VALUES " +
			strings.TrimSuffix(strings.Repeat("(?, ?),", len(part)), ",") +
			") WHERE true ON CONFLICT (indicator, year) DO UPDATE SET seq = excluded.seq"
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("mark figures: %w", err)
		}
	}
	return nil
}

// Written marks, in tx, the years of the observations written: of each, or with
// fresh not nil of each fresh[i] says is a new revision (only a new revision changes
// what a read sees).
func Written(ctx context.Context, tx *sql.Tx, obs []indicators.Observation, fresh []bool) error {
	touched := map[Year]bool{}
	for i := range obs {
		if fresh == nil || fresh[i] {
			touched[Year{obs[i].Indicator, obs[i].Period.Year}] = true
		}
	}
	return Mark(ctx, tx, touched)
}

// Reviewed marks, in tx, the figures the reviews rs may change: an approval publishes
// the submission's newest revisions, so every indicator of that period the agency has
// in latest (the table of each series' newest revision, where approval reads what it
// publishes from) may change in that year. A return publishes nothing.
func Reviewed(ctx context.Context, tx *sql.Tx, latest string, rs []store.Review) error {
	touched := map[Year]bool{}
	for _, r := range rs {
		if r.To != store.Approved {
			continue
		}
		if err := approved(ctx, tx, latest, r.Agency, r.Period.Start(nil).Unix(), int(r.Period.Kind), r.Period.Year, touched); err != nil {
			return err
		}
	}
	return Mark(ctx, tx, touched)
}

func approved(ctx context.Context, tx *sql.Tx, latest, agency string, start int64, kind int, year int, touched map[Year]bool) error {
	rows, err := tx.QueryContext(ctx, "SELECT DISTINCT indicator FROM "+latest+" WHERE agency = ? AND period_start = ? AND kind = ?", agency, start, kind)
	if err != nil {
		return fmt.Errorf("mark figures: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var ind string
		if err := rows.Scan(&ind); err != nil {
			return fmt.Errorf("mark figures: %w", err)
		}
		touched[Year{ind, year}] = true
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("mark figures: %w", err)
	}
	return nil
}

// Read reads set's kept figures in tx (a read transaction, so that the clock, the
// marks and the rows agree): the set's stamp and mark sequence, the years marked since
// and, when the stamp is the one asked for, the kept rows, of agencies and years only
// when they are not empty.
func Read(ctx context.Context, tx *sql.Tx, set store.FigureSet, stamp string, agencies []string, years []int) (store.KeptFigures, error) {
	var out store.KeptFigures
	if err := tx.QueryRowContext(ctx, "SELECT seq FROM figure_clock").Scan(&out.Now); err != nil {
		return out, err
	}
	err := tx.QueryRowContext(ctx, "SELECT stamp, seq FROM figure_sets WHERE view = ? AND indicator = ? AND level = ?",
		set.View, set.Indicator, string(set.Level)).Scan(&out.Stored, &out.Seq)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return out, nil
	case err != nil:
		return out, err
	}
	if out.Stored != stamp {
		return out, nil
	}
	out.Valid = true
	marks, err := tx.QueryContext(ctx, "SELECT year FROM figure_marks WHERE indicator = ? AND seq > ? ORDER BY year", set.Indicator, out.Seq)
	if err != nil {
		return out, err
	}
	for marks.Next() {
		var y int
		if err := marks.Scan(&y); err != nil {
			marks.Close()
			return out, err
		}
		out.Stale = append(out.Stale, y)
	}
	marks.Close()
	if err := marks.Err(); err != nil {
		return out, err
	}
	query := `SELECT agency, year, cutoff, sources, annual, behind FROM figures WHERE view = ? AND indicator = ? AND level = ?`
	args := []any{set.View, set.Indicator, string(set.Level)}
	if len(agencies) > 0 {
		query += " AND agency IN (" + strings.TrimSuffix(strings.Repeat("?,", len(agencies)), ",") + ")"
		for _, a := range agencies {
			args = append(args, a)
		}
	}
	if len(years) > 0 {
		query += " AND year IN (" + strings.TrimSuffix(strings.Repeat("?,", len(years)), ",") + ")"
		args = append(args, intsToAny(years)...)
	}
	rows, err := tx.QueryContext(ctx, query+" ORDER BY agency, year", args...)
	if err != nil {
		return out, err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			f               store.YearFigures
			cutoff          sql.NullInt64
			sources, annual []byte
			behind          []byte
		)
		if err := rows.Scan(&f.Agency, &f.Year, &cutoff, &sources, &annual, &behind); err != nil {
			return out, err
		}
		if cutoff.Valid {
			f.Cutoff = time.Unix(0, cutoff.Int64).UTC()
		}
		if err := json.Unmarshal(sources, &f.Sources); err != nil {
			return out, fmt.Errorf("figures of %s in %d: %w", f.Agency, f.Year, err)
		}
		if err := json.Unmarshal(annual, &f.Annual); err != nil {
			return out, fmt.Errorf("figures of %s in %d: %w", f.Agency, f.Year, err)
		}
		if behind != nil {
			if err := json.Unmarshal(behind, &f.Behind); err != nil {
				return out, fmt.Errorf("figures of %s in %d: %w", f.Agency, f.Year, err)
			}
		}
		out.Years = append(out.Years, f)
	}
	return out, rows.Err()
}

// Keep stores recomputed figures in tx, a write transaction the caller commits when
// stored is true, unless the set changed since u.Base was read (then another reader
// stored figures at least as new, u is dropped and stored is false).
func Keep(ctx context.Context, tx *sql.Tx, set store.FigureSet, u store.FigureUpdate) (stored bool, err error) {
	if u.Force && !u.All {
		return false, errors.New("a forced update must replace every year")
	}
	key := []any{set.View, set.Indicator, string(set.Level)}
	var stamp string
	var seq int64
	err = tx.QueryRowContext(ctx, "SELECT stamp, seq FROM figure_sets WHERE view = ? AND indicator = ? AND level = ?", key...).Scan(&stamp, &seq)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return false, err
	}
	if !u.Force && (stamp != u.Base.Stored || seq != u.Base.Seq) {
		return false, nil
	}
	if u.All {
		if _, err := tx.ExecContext(ctx, "DELETE FROM figures WHERE view = ? AND indicator = ? AND level = ?", key...); err != nil {
			return false, err
		}
	} else if len(u.Recomputed) > 0 {
		args := append(slices.Clone(key), intsToAny(u.Recomputed)...)
		if _, err := tx.ExecContext(ctx, "DELETE FROM figures WHERE view = ? AND indicator = ? AND level = ? AND year IN ("+
			strings.TrimSuffix(strings.Repeat("?,", len(u.Recomputed)), ",")+")", args...); err != nil {
			return false, err
		}
	}
	insert, err := tx.PrepareContext(ctx, `INSERT INTO figures (view, indicator, level, agency, year, cutoff, sources, annual, behind)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return false, err
	}
	defer insert.Close()
	for i := range u.Years {
		f := &u.Years[i]
		sources, err := json.Marshal(f.Sources)
		if err != nil {
			return false, err
		}
		annual, err := json.Marshal(f.Annual)
		if err != nil {
			return false, err
		}
		var cutoff, behind any
		if !f.Cutoff.IsZero() {
			cutoff = f.Cutoff.UnixNano()
		}
		if f.Behind != nil {
			if behind, err = json.Marshal(f.Behind); err != nil {
				return false, err
			}
		}
		if _, err := insert.ExecContext(ctx, set.View, set.Indicator, string(set.Level), f.Agency, f.Year, cutoff, sources, annual, behind); err != nil {
			return false, fmt.Errorf("figures of %s in %d: %w", f.Agency, f.Year, err)
		}
	}
	// The set now reflects every mark up to Base.Now: the data it was computed from was
	// read after those marks were.
	if _, err := tx.ExecContext(ctx, `INSERT INTO figure_sets (view, indicator, level, stamp, seq) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (view, indicator, level) DO UPDATE SET stamp = excluded.stamp, seq = excluded.seq`,
		set.View, set.Indicator, string(set.Level), u.Stamp, u.Base.Now); err != nil {
		return false, err
	}
	return true, nil
}

// Forget drops every kept set, row and mark, in tx: what a keeper does when its marks
// stop describing the data (the InfluxDB spool pointed at another bucket). The clock
// goes on, so no set kept before can match a later one.
func Forget(ctx context.Context, tx *sql.Tx) error {
	if _, err := tx.ExecContext(ctx, "DELETE FROM figures; DELETE FROM figure_sets; DELETE FROM figure_marks"); err != nil {
		return fmt.Errorf("forget kept figures: %w", err)
	}
	return nil
}

func intsToAny(xs []int) []any {
	out := make([]any, len(xs))
	for i, x := range xs {
		out[i] = x
	}
	return out
}
