package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/g-oc/goc/internal/store"
)

var _ store.ReminderLog = (*Store)(nil)

// ClaimReminder records a reminder as sent unless it already was (store.ReminderLog).
// The one writer connection and the primary key make the claim atomic, in this
// process and across processes sharing the file.
func (s *Store) ClaimReminder(ctx context.Context, key string, at time.Time) (bool, error) {
	if err := s.enter("claim reminder"); err != nil {
		return false, err
	}
	defer s.mu.RUnlock()
	res, err := s.writer.ExecContext(ctx, `INSERT INTO reminders_sent (key, sent_at) VALUES (?, ?) ON CONFLICT (key) DO NOTHING`,
		key, at.UTC().UnixNano())
	if err != nil {
		return false, fmt.Errorf("sqlite: claim reminder %q: %w", key, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("sqlite: claim reminder %q: %w", key, err)
	}
	return n == 1, nil
}

// ReleaseReminder forgets a claim whose mail was not sent (store.ReminderLog).
func (s *Store) ReleaseReminder(ctx context.Context, key string) error {
	if err := s.enter("release reminder"); err != nil {
		return err
	}
	defer s.mu.RUnlock()
	if _, err := s.writer.ExecContext(ctx, `DELETE FROM reminders_sent WHERE key = ?`, key); err != nil {
		return fmt.Errorf("sqlite: release reminder %q: %w", key, err)
	}
	return nil
}
