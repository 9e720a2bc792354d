package store

import (
	"context"
	"time"
)

// Session is a signed-in browser's state, kept in the store so that any replica can
// serve the next request. Only a hash of the session id is stored: the id itself lives
// in the browser's cookie alone, so a copy of the database opens no session.
type Session struct {
	// IDHash is the lowercase hex SHA-256 of the random session id.
	IDHash string
	// Name, Agency and Role are the principal the session was opened for; the token's
	// name is checked again on every request, so revoking the token ends the session.
	Name, Agency, Role string
	// Created bounds the session's absolute lifetime; Seen its idle time.
	Created, Seen time.Time
}

// Sessions keeps signed-in sessions. Both backends implement it (the InfluxDB backend
// in its spool file, like the approval state).
type Sessions interface {
	// SaveSession stores a new session, or replaces one with the same IDHash.
	SaveSession(ctx context.Context, s Session) error
	// Session returns the session with that IDHash, if any.
	Session(ctx context.Context, idHash string) (Session, bool, error)
	// TouchSession records activity at a time.
	TouchSession(ctx context.Context, idHash string, at time.Time) error
	// DeleteSession ends a session (sign-out); deleting none is not an error.
	DeleteSession(ctx context.Context, idHash string) error
	// DeleteSessionsSeenBefore ends every session idle since before t, and says how
	// many.
	DeleteSessionsSeenBefore(ctx context.Context, t time.Time) (int, error)
}
