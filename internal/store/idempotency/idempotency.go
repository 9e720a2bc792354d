// Package idempotency records the first response to each Idempotency-Key, so a client
// retrying a submission gets that response back instead of a second processing. Both
// store backends keep the keys in a SQLite database of their own (the embedded store's
// file, or the InfluxDB backend's spool file), through this one implementation.
package idempotency

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Retention is how long a recorded response is kept.
const Retention = 30 * 24 * time.Hour

// Schema creates the keys table; a backend runs it with its own schema.
const Schema = `CREATE TABLE IF NOT EXISTS submission_keys (
	scope       TEXT    NOT NULL, -- the token's name: keys of different clients never meet
	key         TEXT    NOT NULL,
	fingerprint TEXT    NOT NULL, -- SHA-256 of the request the key was first used with
	status      INTEGER NOT NULL,
	body        BLOB    NOT NULL,
	created_at  INTEGER NOT NULL, -- unix nanoseconds, UTC
	PRIMARY KEY (scope, key)
) WITHOUT ROWID`

// Lookup returns the response recorded for a key within the retention, if any.
func Lookup(ctx context.Context, db *sql.DB, scope, key string, now time.Time) (fingerprint string, status int, body []byte, found bool, err error) {
	err = db.QueryRowContext(ctx, `SELECT fingerprint, status, body FROM submission_keys
		WHERE scope = ? AND key = ? AND created_at >= ?`, scope, key, now.Add(-Retention).UnixNano()).
		Scan(&fingerprint, &status, &body)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return "", 0, nil, false, nil
	case err != nil:
		return "", 0, nil, false, fmt.Errorf("read idempotency key: %w", err)
	}
	return fingerprint, status, body, true, nil
}

// Save records the response to a key unless one is already recorded, and returns the
// response kept: the first one wins when two requests race. Expired keys are pruned in
// the same transaction.
func Save(ctx context.Context, db *sql.DB, scope, key, fingerprint string, status int, body []byte, now time.Time) (keptFingerprint string, keptStatus int, keptBody []byte, err error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return "", 0, nil, fmt.Errorf("save idempotency key: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, "DELETE FROM submission_keys WHERE created_at < ?", now.Add(-Retention).UnixNano()); err != nil {
		return "", 0, nil, fmt.Errorf("save idempotency key: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO submission_keys (scope, key, fingerprint, status, body, created_at)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (scope, key) DO NOTHING`,
		scope, key, fingerprint, status, body, now.UTC().UnixNano()); err != nil {
		return "", 0, nil, fmt.Errorf("save idempotency key: %w", err)
	}
	if err := tx.QueryRowContext(ctx, "SELECT fingerprint, status, body FROM submission_keys WHERE scope = ? AND key = ?", scope, key).
		Scan(&keptFingerprint, &keptStatus, &keptBody); err != nil {
		return "", 0, nil, fmt.Errorf("save idempotency key: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return "", 0, nil, fmt.Errorf("save idempotency key: %w", err)
	}
	return keptFingerprint, keptStatus, keptBody, nil
}
