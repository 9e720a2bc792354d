package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/g-oc/goc/internal/store/approval"
	"github.com/g-oc/goc/internal/store/idempotency"
	"github.com/g-oc/goc/internal/store/session"
)

// migrations bring a database from schema version i (PRAGMA user_version) to i+1.
// Append only: a released migration never changes, so every file on disk can be
// brought up to date by running the ones it has not seen.
var migrations = []string{
	// 1: observations with every revision, the latest revision of each series, probe
	// results with the latest result of each target.
	`
CREATE TABLE observations (
	id           INTEGER PRIMARY KEY,
	indicator    TEXT    NOT NULL,
	agency       TEXT    NOT NULL,
	period       TEXT    NOT NULL, -- canonical form, for people reading the file
	kind         INTEGER NOT NULL, -- period.Kind: 1 year, 2 half, 3 quarter, 4 month
	period_start INTEGER NOT NULL, -- unix seconds, UTC
	revision     INTEGER NOT NULL CHECK (revision >= 1),
	value        REAL    NOT NULL,
	numerator    REAL,
	denominator  REAL,
	source       TEXT    NOT NULL,
	submitter    TEXT    NOT NULL,
	received_at  INTEGER NOT NULL, -- unix nanoseconds, UTC
	batch        TEXT    NOT NULL
);
CREATE UNIQUE INDEX observations_series
	ON observations (indicator, agency, period_start, kind, revision);
CREATE INDEX observations_agency ON observations (agency, period_start);

-- History is the audit trail: a revision, once written, stays as written.
CREATE TRIGGER observations_no_update BEFORE UPDATE ON observations
BEGIN SELECT RAISE(ABORT, 'observations are append-only'); END;
CREATE TRIGGER observations_no_delete BEFORE DELETE ON observations
BEGIN SELECT RAISE(ABORT, 'observations are append-only'); END;

-- The newest revision of each series, copied in full and kept in the same transaction
-- as the insert: "latest" reads are one range scan that never touches history, and
-- writes find the revision to compare against with one key lookup. obs_id traces the
-- copy back to its row in observations.
CREATE TABLE latest (
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
	obs_id       INTEGER NOT NULL REFERENCES observations (id),
	PRIMARY KEY (indicator, agency, period_start, kind)
) WITHOUT ROWID;
CREATE INDEX latest_agency ON latest (agency, period_start);
-- One indicator for one period across every agency: the progress and ranking pages.
CREATE INDEX latest_indicator_period ON latest (indicator, period_start, kind);

CREATE TABLE probes (
	id             INTEGER PRIMARY KEY,
	target         TEXT    NOT NULL,
	agency         TEXT    NOT NULL,
	time           INTEGER NOT NULL, -- unix nanoseconds, UTC
	success        INTEGER NOT NULL,
	error          TEXT    NOT NULL,
	http_status    INTEGER NOT NULL,
	-- Phase durations in seconds, NULL when not measured; columns rather than JSON
	-- because decoding JSON per row was most of the cost of reading 10,000 portals.
	phase_dns        REAL,
	phase_connect    REAL,
	phase_tls        REAL,
	phase_first_byte REAL,
	phase_total      REAL,
	phases_other     TEXT,           -- JSON object of any other phases, NULL when none
	body_bytes     INTEGER NOT NULL,
	redirects      INTEGER NOT NULL,
	tls_version    TEXT    NOT NULL,
	cert_expiry    INTEGER,          -- unix nanoseconds, NULL when not over TLS
	cert_valid     INTEGER NOT NULL,
	https_redirect INTEGER NOT NULL,
	ipv6           INTEGER NOT NULL,
	dnssec         TEXT    NOT NULL,
	mobile         INTEGER NOT NULL,
	content_match  INTEGER           -- NULL when not checked
);
CREATE INDEX probes_target_time ON probes (target, time);
CREATE INDEX probes_time ON probes (time); -- for pruning old results

-- A full copy of each target's newest result, so the state of 10,000 portals is one
-- scan in target order, and pruning history never loses a portal's last state.
CREATE TABLE probe_latest (
	target         TEXT    NOT NULL PRIMARY KEY,
	agency         TEXT    NOT NULL,
	time           INTEGER NOT NULL,
	success        INTEGER NOT NULL,
	error          TEXT    NOT NULL,
	http_status    INTEGER NOT NULL,
	phase_dns        REAL,
	phase_connect    REAL,
	phase_tls        REAL,
	phase_first_byte REAL,
	phase_total      REAL,
	phases_other     TEXT,
	body_bytes     INTEGER NOT NULL,
	redirects      INTEGER NOT NULL,
	tls_version    TEXT    NOT NULL,
	cert_expiry    INTEGER,
	cert_valid     INTEGER NOT NULL,
	https_redirect INTEGER NOT NULL,
	ipv6           INTEGER NOT NULL,
	dnssec         TEXT    NOT NULL,
	mobile         INTEGER NOT NULL,
	content_match  INTEGER
) WITHOUT ROWID;
`,
	// 2: the responses recorded for Idempotency-Keys (the same table as the InfluxDB
	// backend keeps in its spool).
	idempotency.Schema,
	// 3: each portal's uptime windows (24 h, 7 d, 30 d), kept in the transaction that
	// writes its results, so the status of 10,000 portals is one scan of probe_latest
	// joined to probe_windows. probe_hourly and probe_daily hold the buckets still inside
	// a window, so that a bucket leaving one can be subtracted; they are pruned as the
	// windows move. probe_windows_state holds the hour the windows end in.
	`
CREATE TABLE probe_hourly (
	target    TEXT    NOT NULL,
	hour      INTEGER NOT NULL, -- unix seconds, start of the UTC hour
	probes    INTEGER NOT NULL,
	successes INTEGER NOT NULL,
	latency   BLOB    NOT NULL, -- store.LatencyHistogram of the successful probes
	PRIMARY KEY (target, hour)
) WITHOUT ROWID;
CREATE INDEX probe_hourly_hour ON probe_hourly (hour);
CREATE TABLE probe_daily (
	target    TEXT    NOT NULL,
	day       INTEGER NOT NULL, -- unix seconds, start of the UTC day
	probes    INTEGER NOT NULL,
	successes INTEGER NOT NULL,
	latency   BLOB    NOT NULL,
	PRIMARY KEY (target, day)
) WITHOUT ROWID;
CREATE INDEX probe_daily_day ON probe_daily (day);
CREATE TABLE probe_windows (
	target          TEXT    NOT NULL PRIMARY KEY,
	day_probes      INTEGER NOT NULL,
	day_successes   INTEGER NOT NULL,
	day_latency     BLOB    NOT NULL,
	week_probes     INTEGER NOT NULL,
	week_successes  INTEGER NOT NULL,
	week_latency    BLOB    NOT NULL,
	month_probes    INTEGER NOT NULL,
	month_successes INTEGER NOT NULL,
	month_latency   BLOB    NOT NULL
) WITHOUT ROWID;
CREATE TABLE probe_windows_state (
	id   INTEGER PRIMARY KEY CHECK (id = 1),
	hour INTEGER NOT NULL -- unix seconds: the hour the windows end in
);
`,
	// 4: the publication workflow (submission states, their audit trail, the newest
	// approved revision of each series). What was stored before it existed was public
	// then, and stays published.
	approval.Schema + approval.PublishExisting("latest", "observations"),
	// 5: the deadline reminders sent, one row per reason (agency, period, stage,
	// address), so that no reminder goes twice across restarts and replicas.
	`
CREATE TABLE reminders_sent (
	key     TEXT    NOT NULL PRIMARY KEY,
	sent_at INTEGER NOT NULL -- unix nanoseconds, UTC
) WITHOUT ROWID;
`,
	// 6: signed-in sessions (the same table as the InfluxDB backend keeps in its spool).
	session.Schema,
	// 7: every agency's rolled-up yearly figures, kept (figures.go). Each write or
	// approval marks, in its own transaction, the (indicator, year) pairs it touched
	// with the next value of figure_clock; a set of kept figures records the newest
	// mark it reflects, so a reader recomputes only the years marked after it. A set
	// computed under another registry or catalogue (its stamp) is recomputed whole.
	`
CREATE TABLE figure_clock (
	id  INTEGER PRIMARY KEY CHECK (id = 1),
	seq INTEGER NOT NULL
);
INSERT INTO figure_clock VALUES (1, 0);
CREATE TABLE figure_marks (
	indicator TEXT    NOT NULL,
	year      INTEGER NOT NULL, -- the UTC year the marked periods start in
	seq       INTEGER NOT NULL, -- figure_clock when last marked
	PRIMARY KEY (indicator, year)
) WITHOUT ROWID;
CREATE TABLE figure_sets (
	view      TEXT    NOT NULL, -- public or all
	indicator TEXT    NOT NULL,
	level     TEXT    NOT NULL, -- '' for every agency, else the country at that level
	stamp     TEXT    NOT NULL, -- hash of what the figures were computed under
	seq       INTEGER NOT NULL, -- every mark up to this is reflected in figures
	PRIMARY KEY (view, indicator, level)
) WITHOUT ROWID;
CREATE TABLE figures (
	view      TEXT    NOT NULL,
	indicator TEXT    NOT NULL,
	level     TEXT    NOT NULL,
	agency    TEXT    NOT NULL,
	year      INTEGER NOT NULL,
	cutoff    INTEGER,          -- unix nanoseconds, NULL when none
	sources   TEXT    NOT NULL, -- JSON array, first seen first
	annual    BLOB    NOT NULL, -- JSON array of indicators.Value
	PRIMARY KEY (view, indicator, level, agency, year)
) WITHOUT ROWID;
`,
	// 8: beside each kept year, what is behind its yearly point alone (store.Behind), for
	// rankings. Rows kept before have none; their sets' stamp (query's figuresFormat)
	// changed with it, so they are recomputed before a reader uses them.
	`ALTER TABLE figures ADD COLUMN behind BLOB; -- JSON array of store.Behind, NULL before version 8`,
}

// migrate runs the migrations the file has not seen, each in its own transaction
// together with its version bump, so a crash mid-migration leaves the previous version
// and two processes opening the same new file do not both create it.
func migrate(ctx context.Context, db *sql.DB) error {
	for {
		done, err := migrateOne(ctx, db)
		if err != nil || done {
			return err
		}
	}
}

func migrateOne(ctx context.Context, db *sql.DB) (done bool, err error) {
	tx, err := db.BeginTx(ctx, nil) // BEGIN IMMEDIATE: holds the write lock from here
	if err != nil {
		return false, fmt.Errorf("migrate schema: %w", err)
	}
	defer tx.Rollback()
	var v int
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return false, fmt.Errorf("read schema version: %w", err)
	}
	if v > len(migrations) {
		return false, fmt.Errorf("schema version %d is newer than this G-OC knows (%d); upgrade G-OC", v, len(migrations))
	}
	if v == len(migrations) {
		return true, nil
	}
	if _, err := tx.ExecContext(ctx, migrations[v]); err != nil {
		return false, fmt.Errorf("migrate schema to version %d: %w", v+1, err)
	}
	// user_version takes no bound parameter; v is our own integer.
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", v+1)); err != nil {
		return false, fmt.Errorf("migrate schema to version %d: %w", v+1, err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("migrate schema to version %d: %w", v+1, err)
	}
	return false, nil
}
