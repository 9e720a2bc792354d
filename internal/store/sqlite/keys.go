package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Idempotency keys let a client retry a submission safely: the first response to a key
// is recorded, and a retry with the same key gets that response back instead of being
// processed again. Keys live in their own small table, created on first use, and are
// kept for KeyRetention.

// KeyRetention is how long a recorded response is kept.
const KeyRetention = 30 * 24 * time.Hour

const keysTable = `CREATE TABLE IF NOT EXISTS submission_keys (
	scope       TEXT    NOT NULL, -- the token's name: keys of different clients never meet
	key         TEXT    NOT NULL,
	fingerprint TEXT    NOT NULL, -- SHA-256 of the request the key was first used with
	status      INTEGER NOT NULL,
	body        BLOB    NOT NULL,
	created_at  INTEGER NOT NULL, -- unix nanoseconds, UTC
	PRIMARY KEY (scope, key)
) WITHOUT ROWID`

// IdempotentResponse returns the response recorded for a key, if any.
func (s *Store) IdempotentResponse(ctx context.Context, scope, key string) (fingerprint string, status int, body []byte, found bool, err error) {
	if err := s.enter("read idempotency key"); err != nil {
		return "", 0, nil, false, err
	}
	defer s.mu.RUnlock()
	err = s.readers.QueryRowContext(ctx, `SELECT fingerprint, status, body FROM submission_keys
		WHERE scope = ? AND key = ? AND created_at >= ?`, scope, key, s.now().Add(-KeyRetention).UnixNano()).
		Scan(&fingerprint, &status, &body)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return "", 0, nil, false, nil
	case err != nil && strings.Contains(err.Error(), "no such table"):
		return "", 0, nil, false, nil // no key was ever recorded in this file
	case err != nil:
		return "", 0, nil, false, fmt.Errorf("sqlite: read idempotency key: %w", err)
	}
	return fingerprint, status, body, true, nil
}

// SaveIdempotentResponse records the response to a key unless one is already recorded,
// and returns the response kept: the first one wins when two requests race. Expired keys
// are pruned in the same transaction.
func (s *Store) SaveIdempotentResponse(ctx context.Context, scope, key, fingerprint string, status int, body []byte) (keptFingerprint string, keptStatus int, keptBody []byte, err error) {
	if err := s.enter("save idempotency key"); err != nil {
		return "", 0, nil, err
	}
	defer s.mu.RUnlock()
	now := s.now().UTC()
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return "", 0, nil, fmt.Errorf("sqlite: save idempotency key: %w", err)
	}
	defer tx.Rollback()
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{keysTable, nil},
		{"DELETE FROM submission_keys WHERE created_at < ?", []any{now.Add(-KeyRetention).UnixNano()}},
		{`INSERT INTO submission_keys (scope, key, fingerprint, status, body, created_at) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (scope, key) DO NOTHING`, []any{scope, key, fingerprint, status, body, now.UnixNano()}},
	} {
		if _, err := tx.ExecContext(ctx, q.sql, q.args...); err != nil {
			return "", 0, nil, fmt.Errorf("sqlite: save idempotency key: %w", err)
		}
	}
	if err := tx.QueryRowContext(ctx, "SELECT fingerprint, status, body FROM submission_keys WHERE scope = ? AND key = ?", scope, key).
		Scan(&keptFingerprint, &keptStatus, &keptBody); err != nil {
		return "", 0, nil, fmt.Errorf("sqlite: save idempotency key: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return "", 0, nil, fmt.Errorf("sqlite: save idempotency key: %w", err)
	}
	return keptFingerprint, keptStatus, keptBody, nil
}
