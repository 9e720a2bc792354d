// Package session keeps signed-in sessions (store.Sessions) in SQL. Both store
// backends keep them in a SQLite database of their own (the embedded store's file, the
// InfluxDB backend's spool file) through this one implementation.
package session

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/g-oc/goc/internal/store"
)

// Schema creates the sessions table; a backend runs it with its own schema.
const Schema = `CREATE TABLE IF NOT EXISTS sessions (
	id_hash    TEXT    NOT NULL PRIMARY KEY, -- SHA-256 of the cookie's id, never the id
	name       TEXT    NOT NULL,
	agency     TEXT    NOT NULL,
	role       TEXT    NOT NULL,
	created_at INTEGER NOT NULL, -- unix nanoseconds
	seen_at    INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS sessions_seen ON sessions (seen_at);
`

// Save stores s, replacing a session with the same IDHash.
func Save(ctx context.Context, db *sql.DB, s store.Session) error {
	if s.IDHash == "" {
		return errors.New("save session: empty id hash")
	}
	_, err := db.ExecContext(ctx, `INSERT OR REPLACE INTO sessions (id_hash, name, agency, role, created_at, seen_at)
		VALUES (?, ?, ?, ?, ?, ?)`, s.IDHash, s.Name, s.Agency, s.Role, s.Created.UnixNano(), s.Seen.UnixNano())
	if err != nil {
		return fmt.Errorf("save session: %w", err)
	}
	return nil
}

// Get returns the session with that IDHash, if any.
func Get(ctx context.Context, db *sql.DB, idHash string) (store.Session, bool, error) {
	s := store.Session{IDHash: idHash}
	var created, seen int64
	err := db.QueryRowContext(ctx, "SELECT name, agency, role, created_at, seen_at FROM sessions WHERE id_hash = ?", idHash).
		Scan(&s.Name, &s.Agency, &s.Role, &created, &seen)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return store.Session{}, false, nil
	case err != nil:
		return store.Session{}, false, fmt.Errorf("read session: %w", err)
	}
	s.Created, s.Seen = time.Unix(0, created).UTC(), time.Unix(0, seen).UTC()
	return s, true, nil
}

// Touch records activity at a time; it never moves Seen backwards.
func Touch(ctx context.Context, db *sql.DB, idHash string, at time.Time) error {
	if _, err := db.ExecContext(ctx, "UPDATE sessions SET seen_at = max(seen_at, ?) WHERE id_hash = ?", at.UnixNano(), idHash); err != nil {
		return fmt.Errorf("touch session: %w", err)
	}
	return nil
}

// Delete ends a session.
func Delete(ctx context.Context, db *sql.DB, idHash string) error {
	if _, err := db.ExecContext(ctx, "DELETE FROM sessions WHERE id_hash = ?", idHash); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// DeleteSeenBefore ends every session idle since before t.
func DeleteSeenBefore(ctx context.Context, db *sql.DB, t time.Time) (int, error) {
	res, err := db.ExecContext(ctx, "DELETE FROM sessions WHERE seen_at < ?", t.UnixNano())
	if err != nil {
		return 0, fmt.Errorf("prune sessions: %w", err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}
