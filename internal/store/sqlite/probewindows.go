package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/internal/store"
	"github.com/g-oc/goc/internal/store/uptime"
)

var (
	_ store.ProbeStatusReader = (*Store)(nil)
	_ store.ProbeStatusPager  = (*Store)(nil)
)

// ProbeStatuses returns every portal's newest result with its uptime windows: one
// scan of probe_latest joined to probe_windows in target order.
func (s *Store) ProbeStatuses(ctx context.Context) (store.ProbeStatuses, error) {
	if err := s.enter("probe statuses"); err != nil {
		return store.ProbeStatuses{}, err
	}
	defer s.mu.RUnlock()
	out, err := s.probeStatuses(ctx, "", -1)
	if err != nil {
		return store.ProbeStatuses{}, fmt.Errorf("sqlite: probe statuses: %w", err)
	}
	return out, nil
}

// ProbeStatusPage returns at most limit portals whose target sorts after `after`, as
// ProbeStatuses does every portal: a seek in probe_latest's primary key, so a deep
// page costs what the first does.
func (s *Store) ProbeStatusPage(ctx context.Context, after string, limit int) (store.ProbeStatuses, error) {
	if err := s.enter("probe status page"); err != nil {
		return store.ProbeStatuses{}, err
	}
	defer s.mu.RUnlock()
	if limit <= 0 {
		return store.ProbeStatuses{}, fmt.Errorf("sqlite: probe status page: limit %d, want at least 1", limit)
	}
	out, err := s.probeStatuses(ctx, after, limit)
	if err != nil {
		return store.ProbeStatuses{}, fmt.Errorf("sqlite: probe status page: %w", err)
	}
	return out, nil
}

// probeStatuses reads the portals after `after` (all when empty), at most limit (all
// when negative).
func (s *Store) probeStatuses(ctx context.Context, after string, limit int) (store.ProbeStatuses, error) {
	// One read transaction, so the windows, their hour and the latest results agree.
	tx, err := s.readers.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return store.ProbeStatuses{}, err
	}
	defer tx.Rollback()
	var out store.ProbeStatuses
	asOf, _, err := uptime.AsOf(ctx, tx)
	if err != nil {
		return out, err
	}
	out.AsOf = asOf
	n := limit // a page's size, or the count of every portal
	if limit < 0 {
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM probe_latest").Scan(&n); err != nil {
			return out, err
		}
	}
	rows, err := tx.QueryContext(ctx, "SELECT "+prefixed("l.", probeColumns)+", "+prefixed("w.", uptime.Columns)+`
		FROM probe_latest l LEFT JOIN probe_windows w ON w.target = l.target
		WHERE l.target > ? ORDER BY l.target LIMIT ?`, after, limit)
	if err != nil {
		return out, err
	}
	defer rows.Close()
	out.Statuses = make([]store.ProbeStatus, 0, n)
	var c [22 + 9]any
	dst := make([]any, len(c))
	for i := range c {
		dst[i] = &c[i]
	}
	for rows.Next() {
		if err := rows.Scan(dst...); err != nil {
			return out, err
		}
		r, err := probeFromColumns(c[:22])
		if err != nil {
			return out, err
		}
		w, err := uptime.Scan(c[22:])
		if err != nil {
			return out, fmt.Errorf("windows of %s: %w", r.Target, err)
		}
		out.Statuses = append(out.Statuses, store.ProbeStatus{Latest: r, Day: w.Day, Week: w.Week, Month: w.Month})
	}
	return out, rows.Err()
}

// RebuildProbeWindows recomputes the uptime windows and their buckets from the probe
// history, as of the hour of the newest result: what `goc rebuild` runs, and what a
// file written before the windows existed gets when it is first opened. It reads the
// history one portal at a time, so its memory does not grow with the history.
func (s *Store) RebuildProbeWindows(ctx context.Context) error {
	if err := s.enter("rebuild probe windows"); err != nil {
		return err
	}
	defer s.mu.RUnlock()
	defer s.windowRebuilds.Add(1) // counted after it ends: a reader then sees the new windows
	if err := s.rebuildProbeWindows(ctx); err != nil {
		return fmt.Errorf("sqlite: rebuild probe windows: %w", err)
	}
	return nil
}

func (s *Store) rebuildProbeWindows(ctx context.Context) error {
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	limit := s.now().Add(uptime.MaxAhead).UnixNano()
	var newest sql.NullInt64
	if err := tx.QueryRowContext(ctx, "SELECT max(time) FROM probes WHERE time <= ?", limit).Scan(&newest); err != nil {
		return fmt.Errorf("newest result: %w", err)
	}
	var cur time.Time
	if newest.Valid {
		cur = store.HourOf(utcNanos(newest.Int64))
	}
	b, err := uptime.NewRebuild(ctx, tx, cur)
	if err != nil {
		return err
	}
	if cur.IsZero() {
		return tx.Commit()
	}
	_, _, monthFrom := store.WindowBounds(cur)
	rows, err := tx.QueryContext(ctx, `SELECT target, time, success, phase_total FROM probes
		WHERE time >= ? AND time <= ? ORDER BY target, time`, monthFrom.UnixNano(), limit)
	if err != nil {
		return fmt.Errorf("read history: %w", err)
	}
	defer rows.Close()
	// Buckets are written per portal; the windows of every portal are a few hundred
	// bytes each.
	var target string
	for rows.Next() {
		var t string
		var at, ok int64
		var total sql.NullFloat64
		if err := rows.Scan(&t, &at, &ok, &total); err != nil {
			return fmt.Errorf("read history: %w", err)
		}
		if t != target && target != "" {
			if err := b.EndPortal(ctx); err != nil {
				return err
			}
		}
		target = t
		r := indicators.ProbeResult{Target: t, Time: utcNanos(at), Success: ok != 0}
		if total.Valid {
			r.Phases = map[string]float64{indicators.PhaseTotal: total.Float64}
		}
		b.Add(&r)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read history: %w", err)
	}
	rows.Close()
	if err := b.Finish(ctx); err != nil {
		return err
	}
	return tx.Commit()
}

// rebuildProbeWindowsIfMissing fills the windows of a file whose probes were written
// before the windows existed.
func (s *Store) rebuildProbeWindowsIfMissing(ctx context.Context) error {
	var state, probes int
	err := s.writer.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM probe_windows_state),
		EXISTS (SELECT 1 FROM probes)`).Scan(&state, &probes)
	if err != nil {
		return fmt.Errorf("check probe windows: %w", err)
	}
	if state == 0 && probes != 0 {
		return s.rebuildProbeWindows(ctx)
	}
	return nil
}

// prefixed qualifies each of a comma-separated list of columns.
func prefixed(prefix, columns string) string {
	cols := strings.Split(columns, ",")
	for i, c := range cols {
		cols[i] = prefix + strings.TrimSpace(c)
	}
	return strings.Join(cols, ", ")
}
