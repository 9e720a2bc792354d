// Package approval keeps the publication workflow (see store.Approvals) in SQL: the
// state of every submission, its audit trail, and per series the newest approved
// revision. Both store backends keep these tables in a SQLite database of their own,
// the embedded store in its file and the InfluxDB backend in its spool file (InfluxDB
// cannot hold state that changes in place), through this one implementation, so the
// two cannot drift apart. Replicas sharing one InfluxDB keep the same workflow in Redis
// instead (redisstate.Ledger, which reuses Check and Group), held to the same rules by
// the conformance suite.
package approval

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/indicators/period"
	"github.com/g-oc/goc/internal/store"
	"github.com/g-oc/goc/internal/store/sqlwhere"
)

// Schema creates the workflow's tables; a backend runs it with its own schema.
const Schema = `
CREATE TABLE IF NOT EXISTS submissions (
	agency       TEXT    NOT NULL,
	period_start INTEGER NOT NULL, -- unix seconds, UTC
	kind         INTEGER NOT NULL, -- period.Kind
	period       TEXT    NOT NULL, -- canonical form, for people reading the file
	state        TEXT    NOT NULL, -- submitted, approved, returned
	seq          INTEGER NOT NULL, -- the last transition in submission_events
	changed_at   INTEGER NOT NULL, -- unix nanoseconds
	changed_by   TEXT    NOT NULL,
	comment      TEXT    NOT NULL,
	submitted_at INTEGER NOT NULL, -- the newest revision's arrival
	submitted_by TEXT    NOT NULL,
	PRIMARY KEY (agency, period_start, kind)
) WITHOUT ROWID;
-- The reviewer's queue: what waits, oldest period first.
CREATE INDEX IF NOT EXISTS submissions_state ON submissions (state, period_start, kind);

-- The audit trail: who moved which submission from what to what, and why.
CREATE TABLE IF NOT EXISTS submission_events (
	seq          INTEGER PRIMARY KEY AUTOINCREMENT,
	agency       TEXT    NOT NULL,
	period_start INTEGER NOT NULL,
	kind         INTEGER NOT NULL,
	at           INTEGER NOT NULL, -- unix nanoseconds
	who          TEXT    NOT NULL,
	from_state   TEXT    NOT NULL, -- '' for the first submission
	to_state     TEXT    NOT NULL,
	comment      TEXT    NOT NULL
);
CREATE INDEX IF NOT EXISTS submission_events_of ON submission_events (agency, period_start, kind, seq);
CREATE TRIGGER IF NOT EXISTS submission_events_no_update BEFORE UPDATE ON submission_events
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
CREATE TRIGGER IF NOT EXISTS submission_events_no_delete BEFORE DELETE ON submission_events
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;

-- Per series, a full copy of the newest approved revision: public latest reads are one
-- range scan here, as the latest table is for everything.
CREATE TABLE IF NOT EXISTS published (
	indicator    TEXT    NOT NULL,
	agency       TEXT    NOT NULL,
	period_start INTEGER NOT NULL,
	kind         INTEGER NOT NULL,
	revision     INTEGER NOT NULL,
	value        REAL    NOT NULL,
	numerator    REAL,
	denominator  REAL,
	source       TEXT    NOT NULL,
	submitter    TEXT    NOT NULL,
	received_at  INTEGER NOT NULL,
	batch        TEXT    NOT NULL,
	approved_at  INTEGER NOT NULL,
	PRIMARY KEY (indicator, agency, period_start, kind)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS published_agency ON published (agency, period_start);
CREATE INDEX IF NOT EXISTS published_indicator_period ON published (indicator, period_start, kind);

-- Every revision that was ever approved: public history reads.
CREATE TABLE IF NOT EXISTS published_revisions (
	indicator    TEXT    NOT NULL,
	agency       TEXT    NOT NULL,
	period_start INTEGER NOT NULL,
	kind         INTEGER NOT NULL,
	revision     INTEGER NOT NULL,
	approved_at  INTEGER NOT NULL,
	PRIMARY KEY (indicator, agency, period_start, kind, revision)
) WITHOUT ROWID;
`

// Columns are the observation columns the published table shares with the backends'
// latest tables (SQLite's latest, the spool's ledger), in this order.
const Columns = `indicator, agency, period_start, kind, revision, value, numerator, denominator,
	source, submitter, received_at, batch`

// PublishExisting is SQL that publishes every row of a backend's latest table
// (latestTable) and marks every revision of its history (historyTable, or the latest
// table when empty) as approved, with approval time 0. Backends run it once, when they
// first create these tables over data stored before the workflow existed: that data
// was public then, and stays so.
func PublishExisting(latestTable, historyTable string) string {
	if historyTable == "" {
		historyTable = latestTable
	}
	return "INSERT OR REPLACE INTO published (" + Columns + ", approved_at) SELECT " + Columns + ", 0 FROM " + latestTable + `;
INSERT OR IGNORE INTO published_revisions (indicator, agency, period_start, kind, revision, approved_at)
	SELECT indicator, agency, period_start, kind, revision, 0 FROM ` + historyTable + ";\n"
}

// PublishRows publishes the rows a SELECT of Columns from a backend's table returns
// (fromWhere is " FROM ... WHERE ...", args its arguments): the set-based form of
// what Written does per observation, for bulk loads.
func PublishRows(ctx context.Context, tx *sql.Tx, fromWhere string, args []any, now time.Time) error {
	a := append([]any{now.UnixNano()}, args...)
	if _, err := tx.ExecContext(ctx, "INSERT OR REPLACE INTO published ("+Columns+", approved_at) SELECT "+Columns+", ?"+fromWhere, a...); err != nil {
		return fmt.Errorf("publish: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO published_revisions
		(indicator, agency, period_start, kind, revision, approved_at)
		SELECT indicator, agency, period_start, kind, revision, ?`+fromWhere, a...); err != nil {
		return fmt.Errorf("publish: %w", err)
	}
	return nil
}

// Group is what one write brought to one submission.
type Group struct {
	Agency string
	Period period.Period
	// Fresh is set when the write made at least one new revision; By and At are then
	// the newest one's submitter and arrival.
	Fresh bool
	By    string
	At    time.Time
}

// Written records, inside the write's transaction, what a write means for the
// workflow. in is what the caller wrote, stored the write's answer (in as stored) and
// fresh says which of them are new revisions (the others repeated their series'
// latest).
//
// A new revision of a reviewed source makes its submission "submitted" again (a new
// transition even when it already was, so a reviewer who looked before cannot approve
// it unseen); a repeat resubmits only a returned submission (the officer confirms the
// figures as they are). Unreviewed sources, and everything when auto is set, are
// published at once.
func Written(ctx context.Context, tx *sql.Tx, in, stored []indicators.Observation, fresh []bool, auto bool, now time.Time) error {
	type key struct {
		agency string
		p      period.Period
	}
	at := map[key]int{}
	var groups []Group
	for i := range stored {
		o := &stored[i]
		if fresh[i] && (auto || !store.Reviewed(o.Source)) {
			if err := publish(ctx, tx, o, now); err != nil {
				return err
			}
		}
		if !store.Reviewed(o.Source) {
			continue
		}
		k := key{o.Agency, o.Period}
		j, ok := at[k]
		if !ok {
			j = len(groups)
			at[k] = j
			groups = append(groups, Group{Agency: o.Agency, Period: o.Period, By: in[i].Submitter, At: now})
		}
		if g := &groups[j]; fresh[i] && (!g.Fresh || !o.ReceivedAt.Before(g.At)) {
			g.Fresh, g.By, g.At = true, o.Submitter, o.ReceivedAt
		}
	}
	return Submit(ctx, tx, groups, auto, now)
}

// Submit moves each group's submission as Written describes.
func Submit(ctx context.Context, tx *sql.Tx, groups []Group, auto bool, now time.Time) error {
	for _, g := range groups {
		cur, err := get(ctx, tx, g.Agency, g.Period)
		found := err == nil
		if err != nil && !errors.Is(err, store.ErrNoSubmission) {
			return err
		}
		to, who, comment := store.Submitted, g.By, ""
		switch {
		case !g.Fresh && (!found || cur.State != store.Returned):
			continue // a repeat changes nothing, except for a returned submission
		case !g.Fresh:
			comment = resubmittedComment
		case auto:
			to, who, comment = store.Approved, store.AutoApprover, "duyệt tự động / approved automatically"
		}
		next := store.Submission{Agency: g.Agency, Period: g.Period, State: to, ChangedAt: now, ChangedBy: who, Comment: comment}
		if found {
			next.SubmittedAt, next.SubmittedBy = cur.SubmittedAt, cur.SubmittedBy
		}
		if g.Fresh {
			next.SubmittedAt, next.SubmittedBy = g.At, g.By
		}
		if err := transition(ctx, tx, cur.State, &next); err != nil {
			return err
		}
	}
	return nil
}

// SubmitFresh is Submit for a bulk load, set-based: every (agency, period) among the
// rows a SELECT from a backend's history returns (fromWhere is " FROM ... WHERE ...",
// args its arguments; the rows are new revisions of reviewed sources, with columns
// agency, period_start, kind, period, submitter and received_at) is a fresh group, whose
// By and At are its newest row's. It is StartGroups, AddGroupsFrom and SubmitGroups.
func SubmitFresh(ctx context.Context, tx *sql.Tx, fromWhere string, args []any, auto bool, now time.Time) error {
	if err := StartGroups(ctx, tx); err != nil {
		return err
	}
	if err := AddGroupsFrom(ctx, tx, fromWhere, args); err != nil {
		return err
	}
	return SubmitGroups(ctx, tx, auto, now)
}

// StartGroups creates (or empties) the temporary table of fresh groups that
// AddGroups and AddGroupsFrom fill and SubmitGroups moves: one row per (agency,
// period), few enough to stay in the page cache.
func StartGroups(ctx context.Context, tx *sql.Tx) error {
	for _, q := range []string{
		`CREATE TEMP TABLE IF NOT EXISTS submit_groups (
			agency TEXT NOT NULL, period_start INTEGER NOT NULL, kind INTEGER NOT NULL,
			period TEXT NOT NULL, by TEXT NOT NULL, at INTEGER NOT NULL,
			PRIMARY KEY (agency, period_start, kind)) WITHOUT ROWID`,
		"DELETE FROM temp.submit_groups",
	} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("submit: %w", err)
		}
	}
	return nil
}

// groupUpsert keeps, per group, the newest row's submitter and arrival: an upsert
// rather than GROUP BY, which would sort every row.
const groupUpsert = ` ON CONFLICT (agency, period_start, kind) DO UPDATE SET by = excluded.by, at = excluded.at
	WHERE excluded.at > at`

// AddGroupsFrom adds the groups of the rows fromWhere selects (see SubmitFresh).
func AddGroupsFrom(ctx context.Context, tx *sql.Tx, fromWhere string, args []any) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO temp.submit_groups (agency, period_start, kind, period, by, at)
		SELECT agency, period_start, kind, period, submitter, received_at`+fromWhere+groupUpsert, args...); err != nil {
		return fmt.Errorf("submit: %w", err)
	}
	return nil
}

// AddGroups adds fresh groups a caller has gathered itself (a bulk load into an empty
// store, where every row it stages will be a new revision, gathers them as it stages).
func AddGroups(ctx context.Context, tx *sql.Tx, groups []Group) error {
	const perStatement = 100
	one := "(?, ?, ?, ?, ?, ?)"
	query := func(n int) string {
		return "INSERT INTO temp.submit_groups (agency, period_start, kind, period, by, at) VALUES " +
			strings.TrimSuffix(strings.Repeat(one+",", n), ",") + groupUpsert
	}
	// One prepared statement for the full batches: parsing a hundred-row statement
	// for every batch cost more than running it.
	var full *sql.Stmt
	if len(groups) >= perStatement {
		var err error
		if full, err = tx.PrepareContext(ctx, query(perStatement)); err != nil {
			return fmt.Errorf("submit: %w", err)
		}
		defer full.Close()
	}
	args := make([]any, 0, 6*perStatement)
	for start := 0; start < len(groups); start += perStatement {
		part := groups[start:min(len(groups), start+perStatement)]
		args = args[:0]
		for _, g := range part {
			args = append(args, g.Agency, g.Period.Start(nil).Unix(), int(g.Period.Kind), g.Period.String(), g.By, g.At.UnixNano())
		}
		var err error
		if len(part) == perStatement {
			_, err = full.ExecContext(ctx, args...)
		} else {
			_, err = tx.ExecContext(ctx, query(len(part)), args...)
		}
		if err != nil {
			return fmt.Errorf("submit: %w", err)
		}
	}
	return nil
}

// SubmitGroups moves the submission of every group in the table StartGroups made as
// Submit moves a fresh group, set-based: one transition per group in the trail, in
// (agency, period) order as Submit records them, and each submission its new state.
// The same rows Submit writes, without three statements per group (100,000 groups of
// a million-row import took 7 s one by one, under 1 s this way).
func SubmitGroups(ctx context.Context, tx *sql.Tx, auto bool, now time.Time) error {
	var lastSeq int64
	if err := tx.QueryRowContext(ctx, "SELECT coalesce(max(seq), 0) FROM submission_events").Scan(&lastSeq); err != nil {
		return fmt.Errorf("submit: %w", err)
	}
	to, who, comment := store.Submitted, any(nil), ""
	if auto {
		to, who, comment = store.Approved, store.AutoApprover, "duyệt tự động / approved automatically"
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO submission_events
		(agency, period_start, kind, at, who, from_state, to_state, comment)
		SELECT g.agency, g.period_start, g.kind, ?, coalesce(?, g.by), coalesce(s.state, ''), ?, ?
		FROM temp.submit_groups g LEFT JOIN submissions s
			ON s.agency = g.agency AND s.period_start = g.period_start AND s.kind = g.kind
		ORDER BY g.agency, g.period_start, g.kind`, now.UnixNano(), who, string(to), comment); err != nil {
		return fmt.Errorf("submit: record transitions: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO submissions
		(agency, period_start, kind, period, state, seq, changed_at, changed_by, comment, submitted_at, submitted_by)
		SELECT e.agency, e.period_start, e.kind, g.period, e.to_state, e.seq, e.at, e.who, e.comment, g.at, g.by
		FROM submission_events e JOIN temp.submit_groups g
			ON g.agency = e.agency AND g.period_start = e.period_start AND g.kind = e.kind
		WHERE e.seq > ? ORDER BY e.seq`, lastSeq); err != nil {
		return fmt.Errorf("submit: store states: %w", err)
	}
	if _, err := tx.ExecContext(ctx, "DELETE FROM temp.submit_groups"); err != nil {
		return fmt.Errorf("submit: %w", err)
	}
	return nil
}

// ResubmitUnchanged is Submit for the groups of a bulk load that brought no new
// revision, set-based, and runs after SubmitGroups has moved the fresh ones: every
// submission still returned among the rows rows selects is resubmitted unchanged, as
// Submit does for a repeat, in the name of the first of its rows (the caller's
// order), its submitted time and submitter kept. rows is a SELECT (args its
// arguments) of reviewed sources' rows with columns ord (the order they were written
// in), agency, period_start, kind and submitter.
//
// A store without returned submissions, the usual case, pays one index lookup;
// otherwise one scan of the rows, each looked up in the submissions' index (0.1 to
// 0.3 s for 200,000 rows, measured), and only the rows of returned submissions are
// kept (a fresh group's are not: SubmitGroups made it submitted or approved).
func ResubmitUnchanged(ctx context.Context, tx *sql.Tx, rows string, args []any, now time.Time) error {
	var returned bool
	if err := tx.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM submissions WHERE state = ?)",
		string(store.Returned)).Scan(&returned); err != nil {
		return fmt.Errorf("resubmit: %w", err)
	}
	if !returned {
		return nil
	}
	var lastSeq int64
	if err := tx.QueryRowContext(ctx, "SELECT coalesce(max(seq), 0) FROM submission_events").Scan(&lastSeq); err != nil {
		return fmt.Errorf("resubmit: %w", err)
	}
	// The first row of each group names it: rows come in the order they were
	// written and INSERT OR IGNORE keeps the first, without sorting them as a GROUP BY
	// would.
	for _, q := range []string{
		`CREATE TEMP TABLE IF NOT EXISTS resubmit_groups (
			agency TEXT NOT NULL, period_start INTEGER NOT NULL, kind INTEGER NOT NULL, by TEXT NOT NULL,
			PRIMARY KEY (agency, period_start, kind)) WITHOUT ROWID`,
		"DELETE FROM temp.resubmit_groups",
	} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("resubmit: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO temp.resubmit_groups (agency, period_start, kind, by)
		SELECT r.agency, r.period_start, r.kind, r.submitter
		FROM (`+rows+`) r JOIN submissions s
			ON s.state = ? AND s.agency = r.agency AND s.period_start = r.period_start AND s.kind = r.kind
		ORDER BY r.ord`, append(args[:len(args):len(args)], string(store.Returned))...); err != nil {
		return fmt.Errorf("resubmit: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO submission_events (agency, period_start, kind, at, who, from_state, to_state, comment)
		SELECT agency, period_start, kind, ?, by, ?, ?, ? FROM temp.resubmit_groups ORDER BY agency, period_start, kind`,
		now.UnixNano(), string(store.Returned), string(store.Submitted), resubmittedComment); err != nil {
		return fmt.Errorf("resubmit: record transitions: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE submissions SET state = e.to_state, seq = e.seq,
			changed_at = e.at, changed_by = e.who, comment = e.comment
		FROM submission_events e
		WHERE e.seq > ? AND e.agency = submissions.agency AND e.period_start = submissions.period_start
			AND e.kind = submissions.kind`, lastSeq); err != nil {
		return fmt.Errorf("resubmit: store states: %w", err)
	}
	return nil
}

// resubmittedComment is what the trail says of a returned submission sent again as it
// was.
const resubmittedComment = "gửi lại không đổi / resubmitted unchanged"

// publish makes o the newest approved revision of its series.
func publish(ctx context.Context, tx *sql.Tx, o *indicators.Observation, now time.Time) error {
	start, kind := o.Period.Start(nil).Unix(), int(o.Period.Kind)
	if _, err := tx.ExecContext(ctx, "INSERT OR REPLACE INTO published ("+Columns+`, approved_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		o.Indicator, o.Agency, start, kind, o.Revision, o.Value, nullable(o.Numerator), nullable(o.Denominator),
		string(o.Source), o.Submitter, o.ReceivedAt.UnixNano(), o.Batch, now.UnixNano()); err != nil {
		return fmt.Errorf("publish %s/%s/%s: %w", o.Indicator, o.Agency, o.Period, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO published_revisions
		(indicator, agency, period_start, kind, revision, approved_at) VALUES (?, ?, ?, ?, ?, ?)`,
		o.Indicator, o.Agency, start, kind, o.Revision, now.UnixNano()); err != nil {
		return fmt.Errorf("publish %s/%s/%s: %w", o.Indicator, o.Agency, o.Period, err)
	}
	return nil
}

// transition appends the trail entry for next (from state from) and stores next with
// its new Seq.
func transition(ctx context.Context, tx *sql.Tx, from store.State, next *store.Submission) error {
	start, kind := next.Period.Start(nil).Unix(), int(next.Period.Kind)
	res, err := tx.ExecContext(ctx, `INSERT INTO submission_events
		(agency, period_start, kind, at, who, from_state, to_state, comment) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		next.Agency, start, kind, next.ChangedAt.UnixNano(), next.ChangedBy, string(from), string(next.State), next.Comment)
	if err != nil {
		return fmt.Errorf("record transition of %s/%s: %w", next.Agency, next.Period, err)
	}
	if next.Seq, err = res.LastInsertId(); err != nil {
		return fmt.Errorf("record transition of %s/%s: %w", next.Agency, next.Period, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO submissions
		(agency, period_start, kind, period, state, seq, changed_at, changed_by, comment, submitted_at, submitted_by)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		next.Agency, start, kind, next.Period.String(), string(next.State), next.Seq, next.ChangedAt.UnixNano(),
		next.ChangedBy, next.Comment, next.SubmittedAt.UnixNano(), next.SubmittedBy); err != nil {
		return fmt.Errorf("store state of %s/%s: %w", next.Agency, next.Period, err)
	}
	return nil
}

// querier is what reads need: a *sql.DB or a *sql.Tx.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

const submissionColumns = `agency, period_start, kind, state, seq, changed_at, changed_by, comment, submitted_at, submitted_by`

func scanSubmission(sc interface{ Scan(...any) error }) (store.Submission, error) {
	var (
		s                         store.Submission
		start, changed, submitted int64
		kind                      int
		state                     string
	)
	if err := sc.Scan(&s.Agency, &start, &kind, &state, &s.Seq, &changed, &s.ChangedBy, &s.Comment, &submitted, &s.SubmittedBy); err != nil {
		return s, err
	}
	s.Period = period.Of(period.Kind(kind), time.Unix(start, 0).UTC())
	s.State = store.State(state)
	s.ChangedAt = time.Unix(0, changed).UTC()
	s.SubmittedAt = time.Unix(0, submitted).UTC()
	return s, nil
}

func get(ctx context.Context, q querier, agency string, p period.Period) (store.Submission, error) {
	s, err := scanSubmission(q.QueryRowContext(ctx, "SELECT "+submissionColumns+
		" FROM submissions WHERE agency = ? AND period_start = ? AND kind = ?", agency, p.Start(nil).Unix(), int(p.Kind)))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return s, fmt.Errorf("%s/%s: %w", agency, p, store.ErrNoSubmission)
	case err != nil:
		return s, fmt.Errorf("read state of %s/%s: %w", agency, p, err)
	}
	return s, nil
}

// Submissions answers q.
func Submissions(ctx context.Context, db querier, q store.SubmissionQuery) ([]store.Submission, error) {
	var where []string
	var args []any
	in := func(col string, vals []any) {
		if len(vals) > 0 {
			where = append(where, col+" IN ("+strings.TrimSuffix(strings.Repeat("?,", len(vals)), ",")+")")
			args = append(args, vals...)
		}
	}
	agencies := make([]any, len(q.Agencies))
	for i, a := range q.Agencies {
		agencies[i] = a
	}
	in("agency", agencies)
	states := make([]any, len(q.States))
	for i, s := range q.States {
		states[i] = string(s)
	}
	in("state", states)
	kinds := make([]any, len(q.Kinds))
	for i, k := range q.Kinds {
		kinds[i] = int(k)
	}
	in("kind", kinds)
	if !q.From.IsZero() {
		where = append(where, "period_start >= ?")
		args = append(args, sqlwhere.CeilUnix(q.From))
	}
	if !q.To.IsZero() {
		where = append(where, "period_start < ?")
		args = append(args, sqlwhere.CeilUnix(q.To))
	}
	query := "SELECT " + submissionColumns + " FROM submissions"
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	rows, err := db.QueryContext(ctx, query+" ORDER BY period_start, kind, agency", args...)
	if err != nil {
		return nil, fmt.Errorf("list submissions: %w", err)
	}
	defer rows.Close()
	out := []store.Submission{}
	for rows.Next() {
		s, err := scanSubmission(rows)
		if err != nil {
			return nil, fmt.Errorf("list submissions: %w", err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list submissions: %w", err)
	}
	return out, nil
}

// Trail returns one submission's transitions, oldest first.
func Trail(ctx context.Context, db querier, agency string, p period.Period) ([]store.Transition, error) {
	rows, err := db.QueryContext(ctx, `SELECT seq, at, who, from_state, to_state, comment FROM submission_events
		WHERE agency = ? AND period_start = ? AND kind = ? ORDER BY seq`, agency, p.Start(nil).Unix(), int(p.Kind))
	if err != nil {
		return nil, fmt.Errorf("read trail of %s/%s: %w", agency, p, err)
	}
	defer rows.Close()
	out := []store.Transition{}
	for rows.Next() {
		t := store.Transition{Agency: agency, Period: p}
		var at int64
		var from, to string
		if err := rows.Scan(&t.Seq, &at, &t.Who, &from, &to, &t.Comment); err != nil {
			return nil, fmt.Errorf("read trail of %s/%s: %w", agency, p, err)
		}
		t.At, t.From, t.To = time.Unix(0, at).UTC(), store.State(from), store.State(to)
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read trail of %s/%s: %w", agency, p, err)
	}
	return out, nil
}

// Check refuses a review that can never apply, whatever the stored state.
func Check(r *store.Review) error {
	switch {
	case strings.TrimSpace(r.Agency) == "":
		return errors.New("review names no agency")
	case r.Period.IsZero():
		return errors.New("review names no period")
	case strings.TrimSpace(r.Who) == "":
		return errors.New("review names no reviewer")
	case r.To != store.Approved && r.To != store.Returned:
		return fmt.Errorf("a review approves or returns, not %q", r.To)
	case r.To == store.Returned && strings.TrimSpace(r.Comment) == "":
		return errors.New("returning a submission needs a comment saying what to correct")
	}
	return nil
}

// Review applies rs in order inside tx (all or none) and returns the submissions as
// they stand after. Approving publishes the newest revision of every reviewed series
// of the submission, read from the backend's latest table (latestTable).
func Review(ctx context.Context, tx *sql.Tx, latestTable string, rs []store.Review, now time.Time) ([]store.Submission, error) {
	out := make([]store.Submission, 0, len(rs))
	for i := range rs {
		r := &rs[i]
		if err := Check(r); err != nil {
			return nil, fmt.Errorf("review %d (%s/%s): %w", i, r.Agency, r.Period, err)
		}
		cur, err := get(ctx, tx, r.Agency, r.Period)
		if err != nil {
			return nil, err
		}
		switch {
		case cur.State != store.Submitted:
			return nil, fmt.Errorf("%s/%s is %s, not submitted: %w", r.Agency, r.Period, cur.State, store.ErrConflict)
		case r.Seen != 0 && r.Seen != cur.Seq:
			return nil, fmt.Errorf("%s/%s changed since it was reviewed (step %d, now %d): %w", r.Agency, r.Period, r.Seen, cur.Seq, store.ErrConflict)
		}
		next := cur
		next.State, next.ChangedAt, next.ChangedBy, next.Comment = r.To, now, r.Who, strings.TrimSpace(r.Comment)
		if err := transition(ctx, tx, cur.State, &next); err != nil {
			return nil, err
		}
		if r.To == store.Approved {
			if err := approve(ctx, tx, latestTable, r.Agency, r.Period, now); err != nil {
				return nil, err
			}
		}
		out = append(out, next)
	}
	return out, nil
}

func approve(ctx context.Context, tx *sql.Tx, latestTable, agency string, p period.Period, now time.Time) error {
	err := PublishRows(ctx, tx, " FROM "+latestTable+" WHERE agency = ? AND period_start = ? AND kind = ? AND source NOT IN (?, ?)",
		[]any{agency, p.Start(nil).Unix(), int(p.Kind), string(indicators.FromProbe), string(indicators.FromComputed)}, now)
	if err != nil {
		return fmt.Errorf("%s/%s: %w", agency, p, err)
	}
	return nil
}

func nullable(f *float64) any {
	if f == nil {
		return nil
	}
	return *f
}
