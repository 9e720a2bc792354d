package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/g-oc/goc/internal/store"
)

var (
	_ store.FigureKeeper     = (*Store)(nil)
	_ store.FigurePartReader = (*Store)(nil)
)

// figureYear is one (indicator, year) pair a write touched: the figures of that year
// of that indicator may have changed.
type figureYear struct {
	indicator string
	year      int
}

// markFigures records, inside the write's transaction tx, that the figures of years
// may have changed: each pair gets the next value of figure_clock. Being in the same
// transaction is what makes it safe: a crash loses the write and its marks together,
// never the marks alone.
func markFigures(ctx context.Context, tx *sql.Tx, years map[figureYear]bool) error {
	if len(years) == 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, "UPDATE figure_clock SET seq = seq + 1"); err != nil {
		return fmt.Errorf("mark figures: %w", err)
	}
	keys := make([]figureYear, 0, len(years))
	for k := range years {
		keys = append(keys, k)
	}
	// In key order, so that the rows are written in index order.
	slices.SortFunc(keys, func(a, b figureYear) int {
		if c := strings.Compare(a.indicator, b.indicator); c != 0 {
			return c
		}
		return a.year - b.year
	})
	const perStatement = 200
	for start := 0; start < len(keys); start += perStatement {
		part := keys[start:min(len(keys), start+perStatement)]
		args := make([]any, 0, 2*len(part))
		for _, k := range part {
			args = append(args, k.indicator, k.year)
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

// markApprovedFigures marks the figures an approval of agency's submission for a
// period may change: every indicator of that period the agency has in latest (what
// approval publishes is read from there).
func markApprovedFigures(ctx context.Context, tx *sql.Tx, agency string, start int64, kind int, year int) (map[figureYear]bool, error) {
	rows, err := tx.QueryContext(ctx, "SELECT DISTINCT indicator FROM latest WHERE agency = ? AND period_start = ? AND kind = ?", agency, start, kind)
	if err != nil {
		return nil, fmt.Errorf("mark figures: %w", err)
	}
	defer rows.Close()
	out := map[figureYear]bool{}
	for rows.Next() {
		var ind string
		if err := rows.Scan(&ind); err != nil {
			return nil, fmt.Errorf("mark figures: %w", err)
		}
		out[figureYear{ind, year}] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("mark figures: %w", err)
	}
	return out, nil
}

// KeptFigures reads one set of kept figures in one read transaction: the set's stamp
// and mark sequence, the years marked since and, when the stamp is the one asked for,
// every kept row.
func (s *Store) KeptFigures(ctx context.Context, set store.FigureSet, stamp string) (store.KeptFigures, error) {
	if err := s.enter("read kept figures"); err != nil {
		return store.KeptFigures{}, err
	}
	defer s.mu.RUnlock()
	out, err := s.keptFigures(ctx, set, stamp, nil, nil)
	if err != nil {
		return store.KeptFigures{}, fmt.Errorf("sqlite: read kept figures of %s: %w", set.Indicator, err)
	}
	return out, nil
}

// KeptFiguresOf is KeptFigures reading only the kept rows of agencies, of years when
// years is not empty: each is a seek on the figures table's key.
func (s *Store) KeptFiguresOf(ctx context.Context, set store.FigureSet, stamp string, agencies []string, years []int) (store.KeptFigures, error) {
	if err := s.enter("read kept figures"); err != nil {
		return store.KeptFigures{}, err
	}
	defer s.mu.RUnlock()
	if len(agencies) == 0 {
		return store.KeptFigures{}, errors.New("sqlite: read kept figures of no agency")
	}
	out, err := s.keptFigures(ctx, set, stamp, agencies, years)
	if err != nil {
		return store.KeptFigures{}, fmt.Errorf("sqlite: read kept figures of %s: %w", set.Indicator, err)
	}
	return out, nil
}

// keptFigures reads set's kept figures, of agencies and years only when they are not
// empty.
func (s *Store) keptFigures(ctx context.Context, set store.FigureSet, stamp string, agencies []string, years []int) (store.KeptFigures, error) {
	var out store.KeptFigures
	tx, err := s.readers.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return out, err
	}
	defer tx.Rollback()
	if err := tx.QueryRowContext(ctx, "SELECT seq FROM figure_clock").Scan(&out.Now); err != nil {
		return out, err
	}
	err = tx.QueryRowContext(ctx, "SELECT stamp, seq FROM figure_sets WHERE view = ? AND indicator = ? AND level = ?",
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
			f.Cutoff = utcNanos(cutoff.Int64)
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

// KeepFigures stores recomputed figures in one write transaction, unless the set
// changed since u.Base was read (then another reader stored figures at least as new,
// and u is dropped).
func (s *Store) KeepFigures(ctx context.Context, set store.FigureSet, u store.FigureUpdate) (bool, error) {
	if err := s.enter("keep figures"); err != nil {
		return false, err
	}
	defer s.mu.RUnlock()
	stored, err := s.keepFigures(ctx, set, u)
	if err != nil {
		return false, fmt.Errorf("sqlite: keep figures of %s: %w", set.Indicator, err)
	}
	return stored, nil
}

func (s *Store) keepFigures(ctx context.Context, set store.FigureSet, u store.FigureUpdate) (bool, error) {
	if u.Force && !u.All {
		return false, errors.New("a forced update must replace every year")
	}
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
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
	if err := tx.Commit(); err != nil {
		return false, err
	}
	return true, nil
}

func intsToAny(xs []int) []any {
	out := make([]any, len(xs))
	for i, x := range xs {
		out[i] = x
	}
	return out
}
