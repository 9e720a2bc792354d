package sqlite

import (
	"context"
	"fmt"

	"github.com/g-oc/goc/internal/store"
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

var _ store.ProbesVersioner = (*Store)(nil)

// ProbesVersion changes whenever the portal statuses may change: it is the newest
// probe result's id, the hour the uptime windows end in (which moves on even if pruning
// ever let an id be used again) and how many times this process recomputed the
// windows. Like FiguresVersion it costs primary-key lookups, not a scan.
func (s *Store) ProbesVersion(ctx context.Context) (string, error) {
	if err := s.enter("probes version"); err != nil {
		return "", err
	}
	defer s.mu.RUnlock()
	var id, hour int64
	err := s.readers.QueryRowContext(ctx,
		`SELECT (SELECT IFNULL(MAX(id), 0) FROM probes), (SELECT IFNULL(MAX(hour), 0) FROM probe_windows_state)`).Scan(&id, &hour)
	if err != nil {
		return "", fmt.Errorf("sqlite: probes version: %w", err)
	}
	return fmt.Sprintf("%d.%d.%d", id, hour, s.windowRebuilds.Load()), nil
}
