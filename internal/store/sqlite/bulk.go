package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/indicators/period"
	"github.com/g-oc/goc/internal/store"
	"github.com/g-oc/goc/internal/store/approval"
	"github.com/g-oc/goc/internal/store/yearfigures"
)

// Bulk is one all-or-nothing load of many observations (a historical import): every
// Write goes into one transaction, which Commit makes durable and Rollback discards.
//
// Per-row statements cost too much for a million rows through the pure-Go driver (about
// 11,000 rows/s), so Write only stages rows in a temporary table with multi-row INSERTs
// (about 1.5 s a million, while the file is still being read), and Commit merges them
// with two set-based statements: one appends a revision for every row that is new or
// differs from its series' latest (the same rule as WriteObservations), in series order;
// one brings the latest table up to date. One merge at the end beats merging as rows
// arrive: sorted, the rows extend each index in order, where merges of a few hundred
// thousand rows each land all over indexes that grow between them (10 s against 18 s
// for a million rows, measured; see BENCHMARKS.md). A load at least twice the size of
// the store also drops the secondary indexes of the tables it fills and builds them again
// from sorted keys after its rows are in, in the same transaction; and the submissions
// it touches move with a few set-based statements instead of three per submission.
// Unlike WriteObservations, a load
// must not name the same series twice (the submission validator guarantees it); if it
// does, Commit fails and nothing is stored.
//
// While a Bulk is open it holds the store's only write connection: other writes wait.
type Bulk struct {
	s      *Store
	tx     *sql.Tx
	multi  *sql.Stmt // stageRows rows per statement
	batch  string
	now    int64
	once   sync.Once
	staged int // rows in the stage table
	// touched are the (indicator, year) pairs staged, marked in the merge (see
	// yearfigures.Mark): collected here, a map lookup a row, rather than read back from a
	// million merged rows.
	touched map[yearfigures.Year]bool
	// unreviewed is set when a staged row's source is published without review.
	unreviewed bool
	// empty is set when the store held no observation as the load began: every row it
	// stages will be a new revision (the load holds the only writer), so the groups
	// of submissions it moves are gathered while staging, a chunk's distinct groups
	// at a time, instead of from a million merged rows at the end.
	empty bool
}

// stageRows is how many rows one staging INSERT carries: 64 × 12 bound values stays far
// below SQLite's limit on variables and amortises the statement's cost.
const stageRows = 64

const stageColumns = 12

// bulkCacheKiB is the write connection's page cache during a load (SQLite's default is
// 2 MB). Measured on a million rows, 16 MB merges as fast as 64 MB, and every extra
// megabyte of cache costs several of resident memory (the sorter sizes itself by it):
// 160 MB peak RSS for the whole import at 16 MB, 225 MB at 32 MB, 353 MB at 64 MB.
const bulkCacheKiB = 16 << 10

// BeginBulk starts a load. The caller must Commit or Rollback it. It returns the
// store.Bulk interface rather than *Bulk so that the store declares store.BulkLoader.
func (s *Store) BeginBulk(ctx context.Context) (store.Bulk, error) {
	if err := s.enter("bulk load"); err != nil {
		return nil, err
	}
	b := &Bulk{s: s, batch: newBatchID(), now: s.now().UTC().UnixNano(), touched: map[yearfigures.Year]bool{}}
	if err := b.begin(ctx); err != nil {
		s.mu.RUnlock()
		return nil, fmt.Errorf("sqlite: bulk load: %w", err)
	}
	return b, nil
}

func (b *Bulk) begin(ctx context.Context) error {
	tx, err := b.s.writer.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	for _, q := range []string{
		fmt.Sprintf("PRAGMA cache_size = -%d", bulkCacheKiB),
		`CREATE TEMP TABLE IF NOT EXISTS bulk_stage (
			indicator TEXT NOT NULL, agency TEXT NOT NULL, period TEXT NOT NULL,
			kind INTEGER NOT NULL, period_start INTEGER NOT NULL, value REAL NOT NULL,
			numerator REAL, denominator REAL, source TEXT NOT NULL, submitter TEXT NOT NULL,
			received_at INTEGER NOT NULL, batch TEXT NOT NULL)`,
		"DELETE FROM temp.bulk_stage",
	} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			tx.Rollback()
			return err
		}
	}
	if err := tx.QueryRowContext(ctx, "SELECT NOT EXISTS (SELECT 1 FROM observations)").Scan(&b.empty); err != nil {
		tx.Rollback()
		return err
	}
	if b.empty {
		if err := approval.StartGroups(ctx, tx); err != nil {
			tx.Rollback()
			return err
		}
	}
	one := "(" + strings.TrimSuffix(strings.Repeat("?,", stageColumns), ",") + ")"
	multi, err := tx.PrepareContext(ctx, "INSERT INTO temp.bulk_stage VALUES "+strings.TrimSuffix(strings.Repeat(one+",", stageRows), ","))
	if err != nil {
		tx.Rollback()
		return err
	}
	b.tx, b.multi = tx, multi
	return nil
}

// Write stages observations; Commit stores them.
func (b *Bulk) Write(ctx context.Context, obs []indicators.Observation) error {
	if b.tx == nil {
		return errors.New("sqlite: bulk load: already finished")
	}
	if err := b.stage(ctx, obs); err != nil {
		return fmt.Errorf("sqlite: bulk load: %w", err)
	}
	return nil
}

func (b *Bulk) stage(ctx context.Context, obs []indicators.Observation) error {
	args := make([]any, 0, stageRows*stageColumns)
	type groupKey struct {
		agency string
		p      period.Period
	}
	var groups []approval.Group
	var seen map[groupKey]int
	if b.empty {
		seen = map[groupKey]int{}
	}
	for i := range obs {
		o := &obs[i]
		if err := store.CheckObservation(o); err != nil {
			return fmt.Errorf("observation %d (%s/%s/%s): %w", i, o.Indicator, o.Agency, o.Period, err)
		}
		received, batch := b.now, o.Batch
		if !o.ReceivedAt.IsZero() {
			received = o.ReceivedAt.UTC().UnixNano()
		}
		if batch == "" {
			batch = b.batch
		}
		b.touched[yearfigures.Year{Indicator: o.Indicator, Year: o.Period.Year}] = true
		if !store.Reviewed(o.Source) {
			b.unreviewed = true
		} else if b.empty {
			// The newest row of each group names its submitter, as in Submit.
			at := utcNanos(received)
			k := groupKey{o.Agency, o.Period}
			if j, ok := seen[k]; !ok {
				seen[k] = len(groups)
				groups = append(groups, approval.Group{Agency: o.Agency, Period: o.Period, Fresh: true, By: o.Submitter, At: at})
			} else if g := &groups[j]; at.After(g.At) {
				g.By, g.At = o.Submitter, at
			}
		}
		args = append(args, o.Indicator, o.Agency, o.Period.String(), int(o.Period.Kind), o.Period.Start(nil).Unix(),
			o.Value, nullable(o.Numerator), nullable(o.Denominator), string(o.Source), o.Submitter, received, batch)
		if len(args) == cap(args) {
			if _, err := b.multi.ExecContext(ctx, args...); err != nil {
				return fmt.Errorf("stage: %w", err)
			}
			args = args[:0]
		}
	}
	if len(args) > 0 {
		rows := len(args) / stageColumns
		one := "(" + strings.TrimSuffix(strings.Repeat("?,", stageColumns), ",") + ")"
		q := "INSERT INTO temp.bulk_stage VALUES " + strings.TrimSuffix(strings.Repeat(one+",", rows), ",")
		if _, err := b.tx.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("stage: %w", err)
		}
	}
	if err := approval.AddGroups(ctx, b.tx, groups); err != nil {
		return fmt.Errorf("stage: %w", err)
	}
	b.staged += len(obs)
	return nil
}

// merge appends what is staged to the history and the latest table and returns how
// many rows became new revisions.
func (b *Bulk) merge(ctx context.Context) (int, error) {
	if b.staged == 0 {
		return 0, nil
	}
	var maxID int64
	if err := b.tx.QueryRowContext(ctx, "SELECT coalesce(max(id), 0) FROM observations").Scan(&maxID); err != nil {
		return 0, fmt.Errorf("merge: %w", err)
	}
	// A load at least twice the store builds the tables' secondary indexes anew once
	// its rows are in: SQLite builds an index from sorted keys, where inserting rows
	// that come in another index's order lands each key on a random page. Not for a
	// smaller load: the same file imported again adds nothing, and rebuilding a
	// million-row store's indexes for it cost 4 s.
	var rebuild []string
	if int64(b.staged) >= 2*maxID {
		tables := []string{"observations", "latest"}
		if b.publishes() {
			tables = append(tables, "published")
		}
		var err error
		if rebuild, err = dropIndexes(ctx, b.tx, tables); err != nil {
			return 0, fmt.Errorf("merge: %w", err)
		}
	}
	// A row is a new revision when its series has none yet or its figures or source
	// differ from the latest: Observation.SameContent, with IS for NULL-safe equality.
	res, err := b.tx.ExecContext(ctx, `
		INSERT INTO observations (indicator, agency, period, kind, period_start, revision,
			value, numerator, denominator, source, submitter, received_at, batch)
		SELECT s.indicator, s.agency, s.period, s.kind, s.period_start, coalesce(l.revision, 0) + 1,
			s.value, s.numerator, s.denominator, s.source, s.submitter, s.received_at, s.batch
		FROM temp.bulk_stage s
		LEFT JOIN latest l ON l.indicator = s.indicator AND l.agency = s.agency
			AND l.period_start = s.period_start AND l.kind = s.kind
		WHERE l.revision IS NULL OR NOT (l.value = s.value AND l.numerator IS s.numerator
			AND l.denominator IS s.denominator AND l.source = s.source)
		ORDER BY s.indicator, s.agency, s.period_start, s.kind`)
	if err != nil {
		return 0, fmt.Errorf("merge: %w", err)
	}
	created, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("merge: %w", err)
	}
	if _, err := b.tx.ExecContext(ctx, `
		INSERT INTO latest (indicator, agency, period_start, kind, revision, value, numerator,
			denominator, source, submitter, received_at, batch, obs_id)
		SELECT indicator, agency, period_start, kind, revision, value, numerator, denominator,
			source, submitter, received_at, batch, id
		FROM observations WHERE id > ?
		ON CONFLICT (indicator, agency, period_start, kind) DO UPDATE SET
			revision = excluded.revision, value = excluded.value, numerator = excluded.numerator,
			denominator = excluded.denominator, source = excluded.source,
			submitter = excluded.submitter, received_at = excluded.received_at,
			batch = excluded.batch, obs_id = excluded.obs_id`, maxID); err != nil {
		return 0, fmt.Errorf("mark latest: %w", err)
	}
	if err := b.workflow(ctx, maxID); err != nil {
		return 0, err
	}
	if err := yearfigures.Mark(ctx, b.tx, b.touched); err != nil {
		return 0, err
	}
	for _, q := range rebuild {
		if _, err := b.tx.ExecContext(ctx, q); err != nil {
			return 0, fmt.Errorf("merge: rebuild index: %w", err)
		}
	}
	if _, err := b.tx.ExecContext(ctx, "DELETE FROM temp.bulk_stage"); err != nil {
		return 0, fmt.Errorf("clear stage: %w", err)
	}
	b.staged = 0
	return int(created), nil
}

// dropIndexes drops, inside tx, the secondary indexes of tables and returns the
// statements that create them again. The transaction makes it safe: a failure or a
// crash before the commit leaves every index as it was, and readers go on using the
// committed ones meanwhile. observations_series stays: the merge inserts in its order,
// and its uniqueness is what refuses a load naming the same series twice.
func dropIndexes(ctx context.Context, tx *sql.Tx, tables []string) ([]string, error) {
	args := make([]any, len(tables))
	for i, t := range tables {
		args[i] = t
	}
	rows, err := tx.QueryContext(ctx, `SELECT name, sql FROM sqlite_schema
		WHERE type = 'index' AND sql IS NOT NULL AND name <> 'observations_series'
		AND tbl_name IN (`+strings.TrimSuffix(strings.Repeat("?,", len(tables)), ",")+`) ORDER BY name`, args...)
	if err != nil {
		return nil, fmt.Errorf("list indexes: %w", err)
	}
	var names, create []string
	for rows.Next() {
		var name, q string
		if err := rows.Scan(&name, &q); err != nil {
			rows.Close()
			return nil, fmt.Errorf("list indexes: %w", err)
		}
		names, create = append(names, name), append(create, q)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list indexes: %w", err)
	}
	for _, n := range names {
		// n comes from sqlite_schema; quoted as an identifier all the same.
		if _, err := tx.ExecContext(ctx, `DROP INDEX "`+strings.ReplaceAll(n, `"`, `""`)+`"`); err != nil {
			return nil, fmt.Errorf("drop index %s: %w", n, err)
		}
	}
	return create, nil
}

// publishes reports whether some staged row is published as it is stored.
func (b *Bulk) publishes() bool { return b.s.autoApprove || b.unreviewed }

// workflow records what the new revisions (rows after afterID) mean for publication,
// as WriteObservations does: set-based publication of unreviewed sources (or of all
// with automatic approval), and one transition per submission they touch.
func (b *Bulk) workflow(ctx context.Context, afterID int64) error {
	now := utcNanos(b.now)
	// Without automatic approval only probe and computed rows are published at once;
	// a load of submissions has none, and need not scan its rows for them.
	if b.publishes() {
		if err := approval.PublishRows(ctx, b.tx, " FROM observations WHERE id > ? AND (? OR source IN (?, ?))",
			[]any{afterID, b.s.autoApprove, string(indicators.FromProbe), string(indicators.FromComputed)}, now); err != nil {
			return fmt.Errorf("merge: %w", err)
		}
	}
	if b.empty { // the groups were gathered while staging
		if err := approval.SubmitGroups(ctx, b.tx, b.s.autoApprove, now); err != nil {
			return fmt.Errorf("merge: %w", err)
		}
	} else if err := approval.SubmitFresh(ctx, b.tx, " FROM observations WHERE id > ? AND source NOT IN (?, ?)",
		[]any{afterID, string(indicators.FromProbe), string(indicators.FromComputed)}, b.s.autoApprove, now); err != nil {
		return fmt.Errorf("merge: %w", err)
	}
	// A returned submission the load repeats unchanged goes back to the reviewer, as
	// with WriteObservations: an officer re-importing the same workbook confirms it.
	// The stage's rowid is the order the rows were written in.
	if err := approval.ResubmitUnchanged(ctx, b.tx, `SELECT rowid AS ord, agency, period_start, kind, submitter
		FROM temp.bulk_stage WHERE source NOT IN (?, ?)`,
		[]any{string(indicators.FromProbe), string(indicators.FromComputed)}, now); err != nil {
		return fmt.Errorf("merge: %w", err)
	}
	return nil
}

// Commit merges the staged rows and makes the whole load durable; it returns only after
// the commit is on disk, with the number of new revisions. The other rows equalled their
// series' latest revision and added nothing. On failure nothing is stored.
func (b *Bulk) Commit() (int, error) {
	if b.tx == nil {
		return 0, errors.New("sqlite: bulk load: already finished")
	}
	created, err := b.merge(context.Background())
	if err != nil {
		b.Rollback()
		return 0, fmt.Errorf("sqlite: bulk load: %w", err)
	}
	if err := b.finish(func(tx *sql.Tx) error { return tx.Commit() }, "commit"); err != nil {
		return 0, err
	}
	return created, nil
}

// Rollback discards the whole load. It is safe after Commit (a no-op returning nil).
func (b *Bulk) Rollback() error {
	err := b.finish(func(tx *sql.Tx) error { return tx.Rollback() }, "rollback")
	if errors.Is(err, errFinished) {
		return nil
	}
	return err
}

var errFinished = errors.New("already finished")

func (b *Bulk) finish(end func(*sql.Tx) error, op string) error {
	err := errFinished
	b.once.Do(func() {
		b.multi.Close()
		err = end(b.tx)
		b.tx = nil
		// Give the write connection its ordinary cache back, and release the store.
		_, _ = b.s.writer.Exec("PRAGMA cache_size = -2000")
		b.s.mu.RUnlock()
		if err != nil {
			err = fmt.Errorf("sqlite: bulk load: %s: %w", op, err)
		}
	})
	return err
}
