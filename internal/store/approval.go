package store

import (
	"context"
	"errors"
	"time"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/indicators/period"
)

// The publication model. A submission is everything one agency sent for one period;
// it is "submitted" when a new revision of any of its series arrives, and a reviewer
// then approves it (publishing the newest revision of each of its series at once) or
// returns it with a comment for the officer to correct and send again. Public reads
// ask for Query.Published and see, per series, the newest approved revision only.
//
// G-OC's own measurements (sources probe and computed) are not anybody's submission:
// they are published as they are stored. With automatic approval (a backend option)
// every revision is published as it is stored, and the trail records that.

// State is where a submission stands in the workflow.
type State string

// States of a submission.
const (
	Submitted State = "submitted" // waits for a reviewer
	Approved  State = "approved"  // its newest revisions are published
	Returned  State = "returned"  // sent back with a comment; the officer resubmits
)

// Valid reports whether s is a known state.
func (s State) Valid() bool { return s == Submitted || s == Approved || s == Returned }

// Errors of the workflow.
var (
	// ErrNoSubmission: nothing was ever submitted for that agency and period.
	ErrNoSubmission = errors.New("no submission for that agency and period")
	// ErrConflict: the submission is not in a state that allows the step, or it
	// changed since the reviewer looked (Review.Seen).
	ErrConflict = errors.New("submission changed or is not in a state that allows this")
)

// Reviewed reports whether revisions from src go through review; probe and computed
// values are published as they are stored.
func Reviewed(src indicators.Source) bool {
	return src != indicators.FromProbe && src != indicators.FromComputed
}

// AutoApprover is the Submitter-like name the trail records for automatic approval.
const AutoApprover = "goc:auto-approve"

// Submission is the workflow state of one agency's figures for one period.
type Submission struct {
	Agency string        `json:"agency"`
	Period period.Period `json:"period"`
	State  State         `json:"state"`
	// Seq is the number of the last transition in the trail: a reviewer passes the Seq
	// seen as Review.Seen, so that figures that changed since are not approved unseen.
	Seq int64 `json:"seq"`
	// ChangedAt, ChangedBy and Comment are those of the last transition.
	ChangedAt time.Time `json:"changed_at"`
	ChangedBy string    `json:"changed_by"`
	Comment   string    `json:"comment,omitempty"`
	// SubmittedAt and SubmittedBy are those of the newest revision received.
	SubmittedAt time.Time `json:"submitted_at"`
	SubmittedBy string    `json:"submitted_by"`
}

// Transition is one entry of the audit trail.
type Transition struct {
	Seq     int64         `json:"seq"`
	Agency  string        `json:"agency"`
	Period  period.Period `json:"period"`
	At      time.Time     `json:"at"`
	Who     string        `json:"who"`
	From    State         `json:"from"` // "" for the first submission
	To      State         `json:"to"`
	Comment string        `json:"comment,omitempty"`
}

// Review is a reviewer's decision on one submission.
type Review struct {
	Agency  string
	Period  period.Period
	To      State // Approved or Returned
	Who     string
	Comment string // required when returning
	// Seen is the Submission.Seq the reviewer decided on; 0 skips the check.
	Seen int64
}

// SubmissionQuery selects submissions. Empty fields do not filter.
type SubmissionQuery struct {
	Agencies []string
	States   []State
	// From and To bound period starts: From <= start < To.
	From, To time.Time
	Kinds    []period.Kind
}

// Approvals keeps the publication workflow.
type Approvals interface {
	// Submissions answers q, ordered by period start, kind and agency.
	Submissions(ctx context.Context, q SubmissionQuery) ([]Submission, error)
	// Review applies decisions all or nothing, in order, and returns the submissions
	// as they stand after. A submission must be "submitted" to be approved or
	// returned; otherwise, or when Seen is set and differs, it fails with ErrConflict.
	Review(ctx context.Context, rs []Review) ([]Submission, error)
	// Trail returns the transitions of one submission, oldest first.
	Trail(ctx context.Context, agency string, p period.Period) ([]Transition, error)
}

// Snapshot is part of the whole state of the revision ledger and the workflow, as one
// keeper hands it to another: the InfluxDB store's spool to the ledger replicas share
// in Redis, when a single G-OC becomes several. A keeper takes it in parts of bounded
// size.
type Snapshot struct {
	// Latest is the latest revision of each series.
	Latest []indicators.Observation
	// Published is the newest approved revision of each series.
	Published []indicators.Observation
	// Approved names every revision ever approved.
	Approved []Key
	// Submissions are the submissions' states, and Trail steps of their trails in
	// order.
	Submissions []Submission
	Trail       []Transition
}
