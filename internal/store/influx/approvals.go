package influx

import (
	"context"
	"fmt"
	"time"

	"github.com/g-oc/goc/indicators/period"
	"github.com/g-oc/goc/internal/store"
	"github.com/g-oc/goc/internal/store/approval"
	"github.com/g-oc/goc/internal/store/yearfigures"
)

// Submissions lists the workflow state of the submissions q selects, from the spool
// file, where the workflow lives (see spool), or from the shared Ledger.
func (s *Store) Submissions(ctx context.Context, q store.SubmissionQuery) ([]store.Submission, error) {
	if err := s.enter("list submissions"); err != nil {
		return nil, err
	}
	defer s.mu.RUnlock()
	if s.opt.Ledger != nil {
		return s.opt.Ledger.Submissions(ctx, q)
	}
	out, err := approval.Submissions(ctx, s.sp.readers, q)
	if err != nil {
		return nil, fmt.Errorf("influx: %w", err)
	}
	return out, nil
}

// Review applies reviewers' decisions in one spool transaction (or one transaction of
// the shared Ledger). Approval publishes the ledger's newest revisions, which nothing
// else needs to send to InfluxDB: the revisions themselves are already there or on
// their way. The same spool transaction marks the kept figures approval changes.
func (s *Store) Review(ctx context.Context, rs []store.Review) ([]store.Submission, error) {
	if err := s.enter("review"); err != nil {
		return nil, err
	}
	defer s.mu.RUnlock()
	if s.opt.Ledger != nil {
		return s.opt.Ledger.Review(ctx, rs)
	}
	tx, err := s.sp.writer.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("influx: review: begin: %w", err)
	}
	defer tx.Rollback()
	out, err := approval.Review(ctx, tx, "ledger", rs, time.Unix(0, s.now().UnixNano()).UTC())
	if err != nil {
		return nil, fmt.Errorf("influx: review: %w", err)
	}
	if err := yearfigures.Reviewed(ctx, tx, "ledger", rs); err != nil {
		return nil, fmt.Errorf("influx: review: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("influx: review: commit: %w", err)
	}
	return out, nil
}

// Trail returns the audit trail of one submission.
func (s *Store) Trail(ctx context.Context, agency string, p period.Period) ([]store.Transition, error) {
	if err := s.enter("read trail"); err != nil {
		return nil, err
	}
	defer s.mu.RUnlock()
	if s.opt.Ledger != nil {
		return s.opt.Ledger.Trail(ctx, agency, p)
	}
	out, err := approval.Trail(ctx, s.sp.readers, agency, p)
	if err != nil {
		return nil, fmt.Errorf("influx: %w", err)
	}
	return out, nil
}
