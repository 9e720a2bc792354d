package sqlite

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/indicators/period"
	"github.com/g-oc/goc/internal/store"
	"github.com/g-oc/goc/internal/store/approval"
	"github.com/g-oc/goc/internal/store/sqlwhere"
	"github.com/g-oc/goc/internal/store/yearfigures"
)

// WriteObservations stores a batch in one transaction and returns it as stored, in
// the order given.
//
// Observations are applied in order, as if written one at a time, but all or none:
// one whose content differs from its series' latest revision (counting revisions
// earlier in the same batch) becomes the next revision; one whose content equals the
// latest is a repeat and comes back as that stored revision (with its own
// ReceivedAt, Submitter and Batch) without a new row. New revisions share one
// ReceivedAt (the store's clock when zero) and one Batch id (generated when empty).
func (s *Store) WriteObservations(ctx context.Context, obs []indicators.Observation) ([]indicators.Observation, error) {
	if err := s.enter("write observations"); err != nil {
		return nil, err
	}
	defer s.mu.RUnlock()
	out, err := s.writeObservations(ctx, obs)
	if err != nil {
		return nil, fmt.Errorf("sqlite: write observations: %w", err)
	}
	return out, nil
}

func (s *Store) writeObservations(ctx context.Context, obs []indicators.Observation) ([]indicators.Observation, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for i := range obs {
		if err := store.CheckObservation(&obs[i]); err != nil {
			return nil, fmt.Errorf("observation %d (%s/%s/%s): %w", i, obs[i].Indicator, obs[i].Agency, obs[i].Period, err)
		}
	}
	out := make([]indicators.Observation, len(obs))
	if len(obs) == 0 {
		return out, nil
	}
	fresh := make([]bool, len(obs))
	now := utcNanos(s.now().UnixNano())
	batch := newBatchID()

	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback() // a no-op after Commit
	lookup := tx.StmtContext(ctx, s.stmts.latestObservation)
	insert := tx.StmtContext(ctx, s.stmts.insertObservation)
	upsert := tx.StmtContext(ctx, s.stmts.upsertLatest)

	for i, o := range obs {
		start, kind := o.Period.Start(nil).Unix(), int(o.Period.Kind)
		var c [8]any
		err := lookup.QueryRowContext(ctx, o.Indicator, o.Agency, start, kind).Scan(
			&c[0], &c[1], &c[2], &c[3], &c[4], &c[5], &c[6], &c[7])
		switch {
		case errors.Is(err, sql.ErrNoRows):
			o.Revision = 1
		case err != nil:
			return nil, fmt.Errorf("read latest of %s/%s/%s: %w", o.Indicator, o.Agency, o.Period, err)
		default:
			cur := indicators.Observation{
				SeriesKey:   o.SeriesKey,
				Revision:    int(asInt(c[0])),
				Value:       asFloat(c[1]),
				Numerator:   asFloatPtr(c[2]),
				Denominator: asFloatPtr(c[3]),
				Source:      indicators.Source(asString(c[4])),
				Submitter:   asString(c[5]),
				ReceivedAt:  utcNanos(asInt(c[6])),
				Batch:       asString(c[7]),
			}
			if cur.SameContent(&o) {
				out[i] = cur
				continue
			}
			o.Revision = cur.Revision + 1
		}
		if o.ReceivedAt.IsZero() {
			o.ReceivedAt = now
		} else {
			o.ReceivedAt = utcNanos(o.ReceivedAt.UnixNano())
		}
		if o.Batch == "" {
			o.Batch = batch
		}
		// The answer must not alias the caller's numbers.
		o.Numerator, o.Denominator = clonePtr(o.Numerator), clonePtr(o.Denominator)
		res, err := insert.ExecContext(ctx, o.Indicator, o.Agency, o.Period.String(), kind, start,
			o.Revision, o.Value, nullable(o.Numerator), nullable(o.Denominator), string(o.Source),
			o.Submitter, o.ReceivedAt.UnixNano(), o.Batch)
		if err != nil {
			return nil, fmt.Errorf("insert %s/%s/%s revision %d: %w", o.Indicator, o.Agency, o.Period, o.Revision, err)
		}
		id, err := res.LastInsertId()
		if err != nil {
			return nil, fmt.Errorf("insert %s/%s/%s revision %d: %w", o.Indicator, o.Agency, o.Period, o.Revision, err)
		}
		if _, err := upsert.ExecContext(ctx, o.Indicator, o.Agency, start, kind, o.Revision,
			o.Value, nullable(o.Numerator), nullable(o.Denominator), string(o.Source), o.Submitter,
			o.ReceivedAt.UnixNano(), o.Batch, id); err != nil {
			return nil, fmt.Errorf("mark latest of %s/%s/%s: %w", o.Indicator, o.Agency, o.Period, err)
		}
		out[i], fresh[i] = o, true
	}
	if err := approval.Written(ctx, tx, obs, out, fresh, s.autoApprove, now); err != nil {
		return nil, err
	}
	// Only a new revision changes latest or published, so only its year's figures.
	if err := yearfigures.Written(ctx, tx, out, fresh); err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("commit: %w", err)
	}
	return out, nil
}

// Observations answers q with one range scan (after counting its rows to size the
// answer). Latest-only queries read the latest table and never touch history.
func (s *Store) Observations(ctx context.Context, q store.Query) ([]indicators.Observation, error) {
	if err := s.enter("query observations"); err != nil {
		return nil, err
	}
	defer s.mu.RUnlock()
	query, count, args := observationQuery(q)
	// A page needs no count: its size is capped by the limit, and counting the rest of
	// a large store on every page would cost what paging saves.
	n := min(q.Limit, 4096)
	if q.Limit <= 0 {
		if err := s.readers.QueryRowContext(ctx, count, args...).Scan(&n); err != nil {
			return nil, fmt.Errorf("sqlite: count observations: %w", err)
		}
	}
	rows, err := s.readers.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: query observations: %w", err)
	}
	defer rows.Close()
	// n is a hint: rows written between the two queries are still returned.
	out := make([]indicators.Observation, 0, n)
	// Scanning into any skips database/sql's reflective conversions, which cost more
	// than SQLite itself on large answers.
	var c [12]any
	dst := make([]any, len(c))
	for i := range c {
		dst[i] = &c[i]
	}
	for rows.Next() {
		if err := rows.Scan(dst...); err != nil {
			return nil, fmt.Errorf("sqlite: query observations: %w", err)
		}
		kind, start := period.Kind(asInt(c[2])), asInt(c[3])
		out = append(out, indicators.Observation{
			SeriesKey: indicators.SeriesKey{
				Indicator: asString(c[0]),
				Agency:    asString(c[1]),
				Period:    period.Of(kind, time.Unix(start, 0).UTC()),
			},
			Revision:    int(asInt(c[4])),
			Value:       asFloat(c[5]),
			Numerator:   asFloatPtr(c[6]),
			Denominator: asFloatPtr(c[7]),
			Source:      indicators.Source(asString(c[8])),
			Submitter:   asString(c[9]),
			ReceivedAt:  utcNanos(asInt(c[10])),
			Batch:       asString(c[11]),
		})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: query observations: %w", err)
	}
	return out, nil
}

// observationColumns are read alike from observations and latest.
const observationColumns = `indicator, agency, kind, period_start, revision, value,
	numerator, denominator, source, submitter, received_at, batch`

// observationQuery builds the one SELECT that answers q: from latest unless history
// is asked for. Both tables are keyed by (indicator, agency, period_start, kind), so
// the ORDER BY mostly follows an index; one indicator over a period range instead
// reads latest_indicator_period and sorts the few rows it finds.
//
// It also returns a query counting the same rows: knowing the size up front lets the
// answer be built in one allocation, which on tens of thousands of rows saves more
// than the count costs (an index-only walk).
//
// Published reads the published table instead of latest, and for history joins the
// revisions ever approved.
func observationQuery(q store.Query) (query, count string, args []any) {
	table := "latest"
	switch {
	case q.History && q.Published:
		table = "observations JOIN published_revisions USING (indicator, agency, period_start, kind, revision)"
	case q.History:
		table = "observations"
	case q.Published:
		table = "published"
	}
	filter, args := sqlwhere.Observations(q, true)
	query = "SELECT " + observationColumns + " FROM " + table + filter +
		" ORDER BY indicator, agency, period_start, kind"
	if q.History {
		query += ", revision"
	}
	query += sqlwhere.Limit(q)
	return query, "SELECT count(*) FROM " + table + filter, args
}

func asString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case []byte:
		return string(x)
	}
	return ""
}

func asInt(v any) int64 {
	switch x := v.(type) {
	case int64:
		return x
	case float64:
		return int64(x)
	}
	return 0
}

func asFloat(v any) float64 {
	switch x := v.(type) {
	case float64:
		return x
	case int64:
		return float64(x)
	}
	return 0
}

func asFloatPtr(v any) *float64 {
	if v == nil {
		return nil
	}
	return new(asFloat(v))
}

func clonePtr(f *float64) *float64 {
	if f == nil {
		return nil
	}
	return new(*f)
}

func nullable(f *float64) any {
	if f == nil {
		return nil
	}
	return *f
}

func utcNanos(ns int64) time.Time { return time.Unix(0, ns).UTC() }

// newBatchID returns a random UUID (version 4): unique across replicas without
// coordination.
func newBatchID() string {
	var b [16]byte
	rand.Read(b[:]) // never fails: crypto/rand panics rather than return short
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
