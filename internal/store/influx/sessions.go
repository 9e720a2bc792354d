package influx

import (
	"context"
	"fmt"
	"time"

	"github.com/g-oc/goc/internal/store"
	"github.com/g-oc/goc/internal/store/session"
)

var _ store.Sessions = (*Store)(nil)

// Sessions live in the spool file, or in Options.Shared when replicas share them.

// SaveSession stores a signed-in session.
func (s *Store) SaveSession(ctx context.Context, ss store.Session) error {
	if err := s.enter("save session"); err != nil {
		return err
	}
	defer s.mu.RUnlock()
	if s.opt.Shared != nil {
		return s.opt.Shared.SaveSession(ctx, ss)
	}
	if err := session.Save(ctx, s.sp.writer, ss); err != nil {
		return fmt.Errorf("influx: %w", err)
	}
	return nil
}

// Session reads a session by the hash of its id.
func (s *Store) Session(ctx context.Context, idHash string) (store.Session, bool, error) {
	if err := s.enter("read session"); err != nil {
		return store.Session{}, false, err
	}
	defer s.mu.RUnlock()
	if s.opt.Shared != nil {
		return s.opt.Shared.Session(ctx, idHash)
	}
	ss, ok, err := session.Get(ctx, s.sp.readers, idHash)
	if err != nil {
		return ss, ok, fmt.Errorf("influx: %w", err)
	}
	return ss, ok, nil
}

// TouchSession records a session's activity.
func (s *Store) TouchSession(ctx context.Context, idHash string, at time.Time) error {
	if err := s.enter("touch session"); err != nil {
		return err
	}
	defer s.mu.RUnlock()
	if s.opt.Shared != nil {
		return s.opt.Shared.TouchSession(ctx, idHash, at)
	}
	if err := session.Touch(ctx, s.sp.writer, idHash, at); err != nil {
		return fmt.Errorf("influx: %w", err)
	}
	return nil
}

// DeleteSession ends a session.
func (s *Store) DeleteSession(ctx context.Context, idHash string) error {
	if err := s.enter("delete session"); err != nil {
		return err
	}
	defer s.mu.RUnlock()
	if s.opt.Shared != nil {
		return s.opt.Shared.DeleteSession(ctx, idHash)
	}
	if err := session.Delete(ctx, s.sp.writer, idHash); err != nil {
		return fmt.Errorf("influx: %w", err)
	}
	return nil
}

// DeleteSessionsSeenBefore ends idle sessions.
func (s *Store) DeleteSessionsSeenBefore(ctx context.Context, t time.Time) (int, error) {
	if err := s.enter("prune sessions"); err != nil {
		return 0, err
	}
	defer s.mu.RUnlock()
	if s.opt.Shared != nil {
		return s.opt.Shared.DeleteSessionsSeenBefore(ctx, t)
	}
	n, err := session.DeleteSeenBefore(ctx, s.sp.writer, t)
	if err != nil {
		return 0, fmt.Errorf("influx: %w", err)
	}
	return n, nil
}
