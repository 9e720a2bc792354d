package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/g-oc/goc/indicators/period"
	"github.com/g-oc/goc/internal/auth"
	"github.com/g-oc/goc/internal/query"
	"github.com/g-oc/goc/internal/store"
)

// Approvals is what the review workflow needs from a store.
type Approvals interface {
	Submissions(ctx context.Context, q store.SubmissionQuery) ([]store.Submission, error)
	Review(ctx context.Context, rs []store.Review) ([]store.Submission, error)
	Trail(ctx context.Context, agency string, p period.Period) ([]store.Transition, error)
}

// principal is who a request speaks for: a session's principal (set by the pages'
// middleware) or a valid bearer token. ok is false for the public. A bad or expired
// token is an error, so that a client is told rather than silently served the public
// view.
func (s *Server) principal(r *http.Request) (p auth.Principal, ok bool, err error) {
	if p, ok := auth.FromContext(r.Context()); ok {
		return p, true, nil
	}
	if r.Header.Get("Authorization") == "" || s.auth == nil {
		return auth.Principal{}, false, nil
	}
	p, err = s.auth.Authenticate(r.Header.Get("Authorization"))
	if err != nil {
		return auth.Principal{}, false, err
	}
	return p, true, nil
}

// AudienceOf is whose unapproved figures p may see: an officer its subtree, a
// reviewer its scope (everything for the root), an operator none.
func AudienceOf(reg interface {
	Within(code, ancestor string) bool
}, root string, p auth.Principal) query.Audience {
	switch {
	case p.Is(auth.Officer), p.Is(auth.Reviewer):
		if p.Is(auth.Reviewer) && p.Agency == root {
			return query.Audience{All: true}
		}
		scope := p.Agency
		return query.Audience{Sees: func(agency string) bool { return reg.Within(agency, scope) }}
	}
	return query.Audience{}
}

// queryFor is the query layer as r asks for it: approved figures only, unless the
// request says unapproved=true and speaks for an officer or reviewer, who then also get
// the unapproved figures of their scope (marked). The opt-in keeps clients that carry a
// token for other reasons (the Grafana data source) on published figures.
func (s *Server) queryFor(w http.ResponseWriter, r *http.Request) (*query.Service, bool) {
	v := r.URL.Query().Get("unapproved")
	switch v {
	case "", "false":
		return s.query, true
	case "true":
	default:
		writeProblems(w, http.StatusBadRequest, []Problem{{Field: "unapproved", Reason: "phải là true hoặc false / must be true or false, not " + v}})
		return nil, false
	}
	p, ok := s.requirePrincipal(w, r)
	if !ok {
		return nil, false
	}
	reg := s.query.Registry()
	return s.query.For(AudienceOf(reg, reg.Root(), p)), true
}

// requirePrincipal answers 401 unless r speaks for someone.
func (s *Server) requirePrincipal(w http.ResponseWriter, r *http.Request) (auth.Principal, bool) {
	p, ok, err := s.principal(r)
	if err == nil && !ok {
		err = auth.ErrNoToken
	}
	if err != nil {
		w.Header().Set("WWW-Authenticate", `Bearer realm="goc"`)
		writeError(w, http.StatusUnauthorized, err.Error())
		return p, false
	}
	return p, true
}

// inScope reports whether p may see agency's submissions: an officer or reviewer its
// subtree, an operator everything.
func (s *Server) inScope(p auth.Principal, agency string) bool {
	if p.Is(auth.Operator) {
		return true
	}
	return s.query.Registry().Within(agency, p.Agency)
}

// listSubmissions answers GET /api/v1/submissions: the workflow state of every
// submission in the caller's scope, filtered by agency, period and state.
func (s *Server) listSubmissions(w http.ResponseWriter, r *http.Request) {
	p, ok := s.requirePrincipal(w, r)
	if !ok || !s.approvalsReady(w) {
		return
	}
	pq := newParams(r.URL.Query())
	var q store.SubmissionQuery
	for _, st := range splitList(pq.q["state"]) {
		if !store.State(st).Valid() {
			pq.fail("state", fmt.Sprintf("trạng thái %q không có; dùng submitted, approved hoặc returned / unknown state %q: use submitted, approved or returned", st, st))
		}
		q.States = append(q.States, store.State(st))
	}
	if per, ok := pq.period("period"); ok {
		q.From, q.To, q.Kinds = per.Start(nil), per.End(nil), []period.Kind{per.Kind}
	}
	agencies := splitList(pq.q["agency"])
	for _, a := range agencies {
		if _, known := s.query.Registry().Get(a); !known {
			pq.fail("agency", "đơn vị không tồn tại / unknown agency "+a)
		} else if !s.inScope(p, a) {
			s.forbidden(w, p, a)
			return
		}
	}
	if len(pq.probs) > 0 {
		writeProblems(w, http.StatusBadRequest, pq.probs)
		return
	}
	q.Agencies = agencies
	subs, err := s.approvals.Submissions(r.Context(), q)
	if err != nil {
		s.queryError(w, "submissions", err)
		return
	}
	out := subs[:0]
	for _, x := range subs {
		if s.inScope(p, x.Agency) {
			out = append(out, x)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"submissions": out, "count": len(out)})
}

// getSubmission answers GET /api/v1/submissions/{agency}/{period}: its state and its
// audit trail (who moved it from what to what, when, with which comment).
func (s *Server) getSubmission(w http.ResponseWriter, r *http.Request) {
	p, ok := s.requirePrincipal(w, r)
	if !ok || !s.approvalsReady(w) {
		return
	}
	agency, per, ok := s.submissionPath(w, r, p)
	if !ok {
		return
	}
	subs, err := s.approvals.Submissions(r.Context(), store.SubmissionQuery{Agencies: []string{agency}, From: per.Start(nil), To: per.End(nil), Kinds: []period.Kind{per.Kind}})
	if err != nil {
		s.queryError(w, "submissions", err)
		return
	}
	if len(subs) == 0 {
		writeError(w, http.StatusNotFound, fmt.Sprintf("%s chưa nộp số liệu kỳ %s / %s has submitted nothing for %s", agency, per, agency, per))
		return
	}
	trail, err := s.approvals.Trail(r.Context(), agency, per)
	if err != nil {
		s.queryError(w, "trail", err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"submission": subs[0], "trail": trail})
}

// reviewBody is what approve and return take: the step the reviewer saw and a comment.
type reviewBody struct {
	Seen    int64  `json:"seen"`
	Comment string `json:"comment"`
}

// approveSubmission answers POST /api/v1/submissions/{agency}/{period}/approve.
func (s *Server) approveSubmission(w http.ResponseWriter, r *http.Request) {
	s.review(w, r, store.Approved)
}

// returnSubmission answers POST /api/v1/submissions/{agency}/{period}/return.
func (s *Server) returnSubmission(w http.ResponseWriter, r *http.Request) {
	s.review(w, r, store.Returned)
}

func (s *Server) review(w http.ResponseWriter, r *http.Request, to store.State) {
	p, ok := s.requirePrincipal(w, r)
	if !ok || !s.approvalsReady(w) {
		return
	}
	agency, per, ok := s.submissionPath(w, r, p)
	if !ok {
		return
	}
	if !p.Is(auth.Reviewer) {
		writeError(w, http.StatusForbidden, fmt.Sprintf("chỉ người duyệt mới duyệt hoặc trả lại số liệu; %s là %s / only a reviewer approves or returns submissions; %s is %s",
			p.Name, roleName(p), p.Name, roleName(p)))
		return
	}
	var body reviewBody
	if r.ContentLength != 0 {
		dec := json.NewDecoder(io.LimitReader(r.Body, 64<<10))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&body); err != nil && !errors.Is(err, io.EOF) {
			writeProblems(w, http.StatusBadRequest, []Problem{{Field: "body", Reason: "JSON không hợp lệ / invalid JSON: " + err.Error()}})
			return
		}
	}
	body.Comment = strings.TrimSpace(body.Comment)
	if to == store.Returned && body.Comment == "" {
		writeProblems(w, http.StatusUnprocessableEntity, []Problem{{Field: "comment",
			Reason: "cần ghi rõ điều cần sửa khi trả lại / returning needs a comment saying what to correct"}})
		return
	}
	if len(body.Comment) > 4000 {
		writeProblems(w, http.StatusUnprocessableEntity, []Problem{{Field: "comment", Reason: "tối đa 4000 byte / at most 4000 bytes"}})
		return
	}
	out, err := s.approvals.Review(r.Context(), []store.Review{{Agency: agency, Period: per, To: to, Who: p.Name, Comment: body.Comment, Seen: body.Seen}})
	switch {
	case errors.Is(err, store.ErrNoSubmission):
		writeError(w, http.StatusNotFound, fmt.Sprintf("%s chưa nộp số liệu kỳ %s / %s has submitted nothing for %s", agency, per, agency, per))
		return
	case errors.Is(err, store.ErrConflict):
		writeError(w, http.StatusConflict, "số liệu đã thay đổi hoặc không ở trạng thái chờ duyệt; tải lại rồi xem lại / the submission changed or is not waiting for review; reload and look again: "+err.Error())
		return
	case errors.Is(err, store.ErrUnavailable):
		// Replicas keep the workflow in Redis: while it is away nothing was decided.
		s.metrics.StoreErrors.WithLabelValues("write").Inc()
		s.log.Error("review", "agency", agency, "period", per.String(), "err", err)
		w.Header().Set("Retry-After", "5")
		writeError(w, http.StatusServiceUnavailable, "chưa ghi được quyết định, hãy thử lại / the decision was not recorded, try again: "+err.Error())
		return
	case err != nil:
		s.metrics.StoreErrors.WithLabelValues("write").Inc()
		s.log.Error("review", "agency", agency, "period", per.String(), "err", err)
		writeError(w, http.StatusInternalServerError, "lỗi máy chủ / server error: "+err.Error())
		return
	}
	s.log.Info("submission reviewed", "agency", agency, "period", per.String(), "to", string(to), "by", p.Name)
	writeJSON(w, http.StatusOK, map[string]any{"submission": out[0]})
}

// submissionPath reads {agency} and {period} and answers 400, 404 or 403 when they do
// not name a submission in p's scope.
func (s *Server) submissionPath(w http.ResponseWriter, r *http.Request, p auth.Principal) (string, period.Period, bool) {
	agency := r.PathValue("agency")
	per, err := period.Parse(r.PathValue("period"))
	if err != nil {
		writeProblems(w, http.StatusBadRequest, []Problem{{Field: "period", Reason: "kỳ không hợp lệ / " + err.Error()}})
		return "", per, false
	}
	if _, known := s.query.Registry().Get(agency); !known {
		writeError(w, http.StatusNotFound, (&query.NotFoundError{Field: "agency", Value: agency}).Error())
		return "", per, false
	}
	if !s.inScope(p, agency) {
		s.forbidden(w, p, agency)
		return "", per, false
	}
	return agency, per, true
}

// forbidden answers 403 saying why: the agency is outside the caller's scope.
func (s *Server) forbidden(w http.ResponseWriter, p auth.Principal, agency string) {
	writeError(w, http.StatusForbidden, fmt.Sprintf("%s (%s của %s) không được xem đơn vị %s, vì %s không thuộc %s / %s (%s of %s) may not see agency %s: it is not part of %s",
		p.Name, roleName(p), p.Agency, agency, agency, p.Agency, p.Name, roleName(p), p.Agency, agency, p.Agency))
}

func roleName(p auth.Principal) string {
	if p.Role == "" {
		return auth.Officer
	}
	return p.Role
}

func (s *Server) approvalsReady(w http.ResponseWriter) bool {
	if s.approvals == nil {
		writeError(w, http.StatusNotImplemented, "kho dữ liệu không có quy trình duyệt / the store keeps no review workflow")
		return false
	}
	return true
}
