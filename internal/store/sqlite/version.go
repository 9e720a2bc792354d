package sqlite

import (
	"context"
	"fmt"
)

// FiguresVersion changes whenever a stored figure or its publication changes: it is
// the newest observation's id and the newest entry of the approval trail. A reader
// that keeps figures computed from observations (the pages' scoreboard, cards and
// rankings) compares it before reusing them. It costs two primary-key lookups.
func (s *Store) FiguresVersion(ctx context.Context) (string, error) {
	if err := s.enter("figures version"); err != nil {
		return "", err
	}
	defer s.mu.RUnlock()
	var obs, events int64
	err := s.readers.QueryRowContext(ctx,
		`SELECT (SELECT IFNULL(MAX(id), 0) FROM observations), (SELECT IFNULL(MAX(seq), 0) FROM submission_events)`).Scan(&obs, &events)
	if err != nil {
		return "", fmt.Errorf("sqlite: figures version: %w", err)
	}
	return fmt.Sprintf("%d.%d", obs, events), nil
}
