package sqlite

import (
	"context"
	"fmt"

	"github.com/g-oc/goc/indicators/period"
	"github.com/g-oc/goc/internal/store"
	"github.com/g-oc/goc/internal/store/approval"
	"github.com/g-oc/goc/internal/store/yearfigures"
)

// Submissions lists the workflow state of the submissions q selects.
func (s *Store) Submissions(ctx context.Context, q store.SubmissionQuery) ([]store.Submission, error) {
	if err := s.enter("list submissions"); err != nil {
		return nil, err
	}
	defer s.mu.RUnlock()
	out, err := approval.Submissions(ctx, s.readers, q)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	return out, nil
}

// Review applies reviewers' decisions in one transaction.
func (s *Store) Review(ctx context.Context, rs []store.Review) ([]store.Submission, error) {
	if err := s.enter("review"); err != nil {
		return nil, err
	}
	defer s.mu.RUnlock()
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("sqlite: review: begin: %w", err)
	}
	defer tx.Rollback()
	out, err := approval.Review(ctx, tx, "latest", rs, utcNanos(s.now().UnixNano()))
	if err != nil {
		return nil, fmt.Errorf("sqlite: review: %w", err)
	}
	// An approval publishes the submission's newest revisions: the public figures of
	// its year may change.
	if err := yearfigures.Reviewed(ctx, tx, "latest", rs); err != nil {
		return nil, fmt.Errorf("sqlite: review: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("sqlite: review: commit: %w", err)
	}
	return out, nil
}

// Trail returns the audit trail of one submission.
func (s *Store) Trail(ctx context.Context, agency string, p period.Period) ([]store.Transition, error) {
	if err := s.enter("read trail"); err != nil {
		return nil, err
	}
	defer s.mu.RUnlock()
	out, err := approval.Trail(ctx, s.readers, agency, p)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	return out, nil
}
