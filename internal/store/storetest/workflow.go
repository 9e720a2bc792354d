package storetest

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/indicators/period"
	"github.com/g-oc/goc/internal/store"
)

// The publication workflow (store.Approvals) and Query.Published. Choices pinned here:
//   - A submission is one agency's figures for one period; any new revision of a
//     reviewed source (everything but probe and computed) makes it "submitted", with a
//     new step in the trail even when it already was.
//   - Approval publishes the newest revision of every series of the submission;
//     published latest reads show, per series, the newest approved revision; published
//     history shows every revision that was ever approved, not the ones in between.
//   - A repeat of the latest figures resubmits a returned submission and changes
//     nothing otherwise.
//   - Reviews apply all or nothing; a stale Seen or a state other than submitted is
//     store.ErrConflict; an unknown submission is store.ErrNoSubmission.

func workflowCases() []testCase {
	return []testCase{
		{"NewSubmissionIsSubmittedAndNotPublished", testSubmittedNotPublished},
		{"ApprovalPublishesEveryIndicatorOfTheAgencyPeriod", testApprovalPublishes},
		{"NewRevisionKeepsTheApprovedOnePublishedUntilApproved", testRevisionAfterApproval},
		{"ReturnNeedsACommentAndResubmittingUnchangedFiguresSubmitsAgain", testReturnAndResubmit},
		{"PublishedHistorySkipsRevisionsThatWereNeverApproved", testPublishedHistory},
		{"StaleOrWrongStateReviewConflictsAndChangesNothing", testReviewConflicts},
		{"ProbeAndComputedValuesArePublishedWithoutReview", testUnreviewedSources},
		{"PublishedReadsFilterLikeLatestReads", testPublishedFilters},
		{"SubmissionsFilterByAgencyStateAndPeriod", testSubmissionFilters},
	}
}

// RunAutoApprove checks a store opened with automatic approval: every revision is
// published as it is stored, and the trail says so.
func RunAutoApprove(t *testing.T, open Opener) {
	t.Helper()
	t.Run("EveryRevisionIsPublishedAsStoredAndTheTrailSaysSo", func(t *testing.T) {
		s := open(t)
		r1 := write(t, s, ob("dossiers_online", "P01", "2025-09", 61))
		checkSame(t, "published after write", query(t, s, store.Query{Published: true}), r1)
		r2 := write(t, s, ob("dossiers_online", "P01", "2025-09", 62))
		checkSame(t, "published after second write", query(t, s, store.Query{Published: true}), r2)
		checkSame(t, "published history", query(t, s, store.Query{Published: true, History: true}), append(r1, r2...))
		sub := submissions(t, s, store.SubmissionQuery{})
		if len(sub) != 1 || sub[0].State != store.Approved {
			t.Fatalf("submissions = %+v, want P01/2025-09 approved", sub)
		}
		tr := trail(t, s, "P01", "2025-09")
		if len(tr) != 2 || tr[1].Who != store.AutoApprover || tr[1].To != store.Approved {
			t.Errorf("trail = %+v, want two automatic approvals", tr)
		}
	})
}

func submissions(t *testing.T, s store.Store, q store.SubmissionQuery) []store.Submission {
	t.Helper()
	got, err := s.Submissions(context.Background(), q)
	if err != nil {
		t.Fatalf("Submissions(%+v): %v", q, err)
	}
	return got
}

func trail(t *testing.T, s store.Store, agency, per string) []store.Transition {
	t.Helper()
	got, err := s.Trail(context.Background(), agency, period.MustParse(per))
	if err != nil {
		t.Fatalf("Trail(%s, %s): %v", agency, per, err)
	}
	return got
}

func review(t *testing.T, s store.Store, rs ...store.Review) []store.Submission {
	t.Helper()
	got, err := s.Review(context.Background(), rs)
	if err != nil {
		t.Fatalf("Review(%+v): %v", rs, err)
	}
	return got
}

func approve(agency, per string) store.Review {
	return store.Review{Agency: agency, Period: period.MustParse(per), To: store.Approved, Who: "reviewer-btttt"}
}

func returned(agency, per, comment string) store.Review {
	return store.Review{Agency: agency, Period: period.MustParse(per), To: store.Returned, Who: "reviewer-btttt", Comment: comment}
}

func testSubmittedNotPublished(t *testing.T, open Opener) {
	s := open(t)
	got := write(t, s, ratio("dossiers_online", "P01", "2025-09", 600, 1000), ob("open_data", "P01", "2025-09", 40))
	if pub := query(t, s, store.Query{Published: true}); len(pub) != 0 {
		t.Errorf("published read before approval = %v, want nothing", keys(pub))
	}
	if pub := query(t, s, store.Query{Published: true, History: true}); len(pub) != 0 {
		t.Errorf("published history before approval = %v, want nothing", keys(pub))
	}
	checkSame(t, "unpublished latest", query(t, s, store.Query{}), got)
	sub := submissions(t, s, store.SubmissionQuery{})
	if len(sub) != 1 {
		t.Fatalf("submissions = %+v, want one for P01/2025-09", sub)
	}
	if g := sub[0]; g.Agency != "P01" || g.Period.String() != "2025-09" || g.State != store.Submitted ||
		g.SubmittedBy != "officer-p01" || !sameTime(g.SubmittedAt, got[0].ReceivedAt) || g.Seq == 0 {
		t.Errorf("submission = %+v, want P01 2025-09 submitted by officer-p01 at %s", g, got[0].ReceivedAt)
	}
	tr := trail(t, s, "P01", "2025-09")
	if len(tr) != 1 || tr[0].From != "" || tr[0].To != store.Submitted || tr[0].Who != "officer-p01" || tr[0].Seq != sub[0].Seq {
		t.Errorf("trail = %+v, want one step from nothing to submitted by officer-p01", tr)
	}
}

func testApprovalPublishes(t *testing.T, open Opener) {
	s := open(t)
	got := write(t, s, ratio("dossiers_online", "P01", "2025-09", 600, 1000), ob("open_data", "P01", "2025-09", 40),
		ob("open_data", "P02", "2025-09", 35))
	sub := submissions(t, s, store.SubmissionQuery{Agencies: []string{"P01"}})
	r := approve("P01", "2025-09")
	r.Seen = sub[0].Seq
	after := review(t, s, r)
	if len(after) != 1 || after[0].State != store.Approved || after[0].ChangedBy != "reviewer-btttt" || after[0].Seq <= sub[0].Seq {
		t.Errorf("review answered %+v, want P01/2025-09 approved by reviewer-btttt with a new step", after)
	}
	checkSame(t, "published latest", query(t, s, store.Query{Published: true}), got[:2])
	checkSame(t, "published history", query(t, s, store.Query{Published: true, History: true}), got[:2])
	tr := trail(t, s, "P01", "2025-09")
	if len(tr) != 2 || tr[1].From != store.Submitted || tr[1].To != store.Approved || tr[1].Who != "reviewer-btttt" {
		t.Errorf("trail = %+v, want submitted then approved by reviewer-btttt", tr)
	}
	if st := submissions(t, s, store.SubmissionQuery{Agencies: []string{"P02"}}); len(st) != 1 || st[0].State != store.Submitted {
		t.Errorf("P02 = %+v, want still submitted: approval is per agency", st)
	}
}

func testRevisionAfterApproval(t *testing.T, open Opener) {
	s := open(t)
	r1 := write(t, s, ob("dossiers_online", "P01", "2025-09", 61), ob("open_data", "P01", "2025-09", 40))
	review(t, s, approve("P01", "2025-09"))
	r2 := write(t, s, ob("dossiers_online", "P01", "2025-09", 65))
	checkSame(t, "published while revision 2 waits", query(t, s, store.Query{Published: true}), r1)
	checkSame(t, "latest shows revision 2", query(t, s, store.Query{Indicators: []string{"dossiers_online"}}), r2)
	if st := submissions(t, s, store.SubmissionQuery{}); len(st) != 1 || st[0].State != store.Submitted {
		t.Fatalf("after a new revision: %+v, want submitted again", st)
	}
	review(t, s, approve("P01", "2025-09"))
	checkSame(t, "published after second approval", query(t, s, store.Query{Published: true}), []indicators.Observation{r2[0], r1[1]})
	checkSame(t, "published history", query(t, s, store.Query{Published: true, History: true}),
		[]indicators.Observation{r1[0], r2[0], r1[1]})
}

func testReturnAndResubmit(t *testing.T, open Opener) {
	s := open(t)
	in := ob("dossiers_online", "P01", "2025-09", 61)
	write(t, s, in)
	if _, err := s.Review(context.Background(), []store.Review{returned("P01", "2025-09", "  ")}); err == nil {
		t.Fatal("returning without a comment was accepted")
	}
	back := review(t, s, returned("P01", "2025-09", "Ô C5 sai / cell C5 is wrong"))
	if back[0].State != store.Returned || back[0].Comment != "Ô C5 sai / cell C5 is wrong" {
		t.Errorf("returned = %+v, want state returned with the comment", back[0])
	}
	if pub := query(t, s, store.Query{Published: true}); len(pub) != 0 {
		t.Errorf("published after return = %v, want nothing", keys(pub))
	}
	// The officer checks and sends the same figures again.
	again := with(in, func(o *indicators.Observation) { o.Submitter = "officer-two" })
	if got := write(t, s, again); got[0].Revision != 1 {
		t.Fatalf("resending the same figures made revision %d, want the repeat of 1", got[0].Revision)
	}
	st := submissions(t, s, store.SubmissionQuery{})
	if len(st) != 1 || st[0].State != store.Submitted || st[0].ChangedBy != "officer-two" {
		t.Fatalf("after resubmitting unchanged: %+v, want submitted by officer-two", st)
	}
	// A repeat of a submitted (not returned) submission adds no step.
	write(t, s, in)
	tr := trail(t, s, "P01", "2025-09")
	var steps []string
	for _, x := range tr {
		steps = append(steps, string(x.From)+">"+string(x.To))
	}
	if !slices.Equal(steps, []string{">submitted", "submitted>returned", "returned>submitted"}) {
		t.Errorf("trail = %v, want [>submitted submitted>returned returned>submitted]", steps)
	}
	if len(tr) == 3 && (tr[1].Comment != "Ô C5 sai / cell C5 is wrong" || tr[1].Who != "reviewer-btttt" || tr[1].At.IsZero()) {
		t.Errorf("return step = %+v, want who, when and the comment", tr[1])
	}
}

func testPublishedHistory(t *testing.T, open Opener) {
	s := open(t)
	r1 := write(t, s, ob("dossiers_online", "P01", "2025-09", 61))
	review(t, s, approve("P01", "2025-09"))
	write(t, s, ob("dossiers_online", "P01", "2025-09", 99))
	review(t, s, returned("P01", "2025-09", "99 là quá cao / 99 is too high"))
	r3 := write(t, s, ob("dossiers_online", "P01", "2025-09", 63))
	review(t, s, approve("P01", "2025-09"))
	checkSame(t, "published history", query(t, s, store.Query{Published: true, History: true}), append(r1, r3...))
	if all := query(t, s, store.Query{History: true}); len(all) != 3 {
		t.Errorf("full history holds %v, want 3 revisions", keys(all))
	}
	// Pages of one: the unapproved revision 2 between them does not cut the second
	// page short.
	first := query(t, s, store.Query{Published: true, History: true, Limit: 1})
	checkSame(t, "first page", first, r1)
	after := store.KeyOf(first[0])
	checkSame(t, "second page", query(t, s, store.Query{Published: true, History: true, Limit: 1, After: &after}), r3)
	r4 := write(t, s, ob("open_data", "P01", "2025-09", 5))
	review(t, s, approve("P01", "2025-09"))
	latestAfter := store.KeyOf(r3[0])
	checkSame(t, "published latest page", query(t, s, store.Query{Published: true, Limit: 1, After: &latestAfter}), r4)
}

func testReviewConflicts(t *testing.T, open Opener) {
	s := open(t)
	r1 := write(t, s, ob("dossiers_online", "P01", "2025-09", 61), ob("dossiers_online", "P02", "2025-09", 50))
	seen := submissions(t, s, store.SubmissionQuery{Agencies: []string{"P01"}})[0].Seq
	write(t, s, ob("dossiers_online", "P01", "2025-09", 62)) // changes under the reviewer
	stale := approve("P01", "2025-09")
	stale.Seen = seen
	ctx := context.Background()
	if _, err := s.Review(ctx, []store.Review{stale}); !errors.Is(err, store.ErrConflict) {
		t.Errorf("approving what changed since it was seen: %v, want ErrConflict", err)
	}
	if _, err := s.Review(ctx, []store.Review{approve("P09", "2025-09")}); !errors.Is(err, store.ErrNoSubmission) {
		t.Errorf("approving what nobody submitted: %v, want ErrNoSubmission", err)
	}
	// All or nothing: P02 is fine, but P01 is approved twice in the same call.
	if _, err := s.Review(ctx, []store.Review{approve("P02", "2025-09"), approve("P01", "2025-09"), approve("P01", "2025-09")}); !errors.Is(err, store.ErrConflict) {
		t.Errorf("approving an approved submission: %v, want ErrConflict", err)
	}
	if pub := query(t, s, store.Query{Published: true}); len(pub) != 0 {
		t.Errorf("a refused review published %v", keys(pub))
	}
	for _, st := range submissions(t, s, store.SubmissionQuery{}) {
		if st.State != store.Submitted {
			t.Errorf("%s/%s is %s after refused reviews, want submitted", st.Agency, st.Period, st.State)
		}
	}
	if _, err := s.Review(ctx, []store.Review{{Agency: "P02", Period: r1[1].Period, To: store.Submitted, Who: "x"}}); err == nil {
		t.Error("a review to state submitted was accepted")
	}
}

func testUnreviewedSources(t *testing.T, open Opener) {
	s := open(t)
	got := write(t, s,
		with(ob("portal_uptime", "P01", "2025-09", 99.5), func(o *indicators.Observation) { o.Source, o.Submitter = indicators.FromProbe, "probe" }),
		with(ob("index", "VN", "2025", 70), func(o *indicators.Observation) { o.Source, o.Submitter = indicators.FromComputed, "rollup" }))
	checkSame(t, "published", query(t, s, store.Query{Published: true}), []indicators.Observation{got[1], got[0]})
	if st := submissions(t, s, store.SubmissionQuery{}); len(st) != 0 {
		t.Errorf("submissions = %+v, want none for probe and computed values", st)
	}
}

func testPublishedFilters(t *testing.T, open Opener) {
	s := open(t)
	got := write(t, s, ob("dossiers_online", "P01", "2025-09", 61), ob("open_data", "P01", "2025-09", 40),
		with(ob("dossiers_online", "P02", "2025-09", 50), func(o *indicators.Observation) { o.Source = indicators.FromFeed }),
		ob("dossiers_online", "P01", "2025", 60))
	review(t, s, approve("P01", "2025-09"), approve("P02", "2025-09"), approve("P01", "2025"))
	tests := []struct {
		name string
		q    store.Query
		want []indicators.Observation
	}{
		{"indicator", store.Query{Indicators: []string{"open_data"}}, got[1:2]},
		{"agency", store.Query{Agencies: []string{"P02"}}, got[2:3]},
		{"kind", store.Query{Kinds: []period.Kind{period.Year}}, got[3:4]},
		{"source", store.Query{Sources: []indicators.Source{indicators.FromFeed}}, got[2:3]},
		{"from", store.Query{From: period.MustParse("2025-09").Start(nil), Indicators: []string{"dossiers_online"}}, []indicators.Observation{got[0], got[2]}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q := tc.q
			q.Published = true
			checkSame(t, "published", query(t, s, q), tc.want)
			q.History = true
			checkSame(t, "published history", query(t, s, q), tc.want)
		})
	}
}

func testSubmissionFilters(t *testing.T, open Opener) {
	s := open(t)
	write(t, s, ob("a", "P01", "2025-08", 1), ob("a", "P01", "2025-09", 1), ob("a", "P02", "2025-09", 1), ob("a", "P01", "2025", 1))
	review(t, s, approve("P01", "2025-08"))
	names := func(q store.SubmissionQuery) []string {
		var out []string
		for _, x := range submissions(t, s, q) {
			out = append(out, x.Agency+"/"+x.Period.String()+"/"+string(x.State))
		}
		return out
	}
	tests := []struct {
		name string
		q    store.SubmissionQuery
		want []string
	}{
		{"all, by period then agency", store.SubmissionQuery{}, []string{"P01/2025/submitted", "P01/2025-08/approved", "P01/2025-09/submitted", "P02/2025-09/submitted"}},
		{"state", store.SubmissionQuery{States: []store.State{store.Submitted}}, []string{"P01/2025/submitted", "P01/2025-09/submitted", "P02/2025-09/submitted"}},
		{"agency", store.SubmissionQuery{Agencies: []string{"P02"}}, []string{"P02/2025-09/submitted"}},
		{"kind", store.SubmissionQuery{Kinds: []period.Kind{period.Month}, From: period.MustParse("2025-09").Start(nil)}, []string{"P01/2025-09/submitted", "P02/2025-09/submitted"}},
	}
	for _, tc := range tests {
		if got := names(tc.q); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}
