package web

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/internal/auth"
	"github.com/g-oc/goc/internal/store"
)

// The reviewer's pages: the queue of submissions in scope, one submission with its
// figures and audit trail, and the decision (approve, or return with a comment). The
// state and the decision go through the API's review endpoints in process.

// reviewListPage is the data of /review.
type reviewListPage struct {
	Who auth.Principal
	// State is the filter ("" for all).
	State string
	Rows  []reviewRow
}

type reviewRow struct {
	store.Submission
	Agency *indicators.Agency
}

func (s *Server) reviewList(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	state := r.URL.Query().Get("state")
	target := "/api/v1/submissions"
	switch state {
	case "":
		state = string(store.Submitted)
		fallthrough
	case string(store.Submitted), string(store.Returned), string(store.Approved):
		target += "?state=" + url.QueryEscape(state)
	case "all":
	default:
		return badParam("state", state, "chỉ submitted, returned, approved hoặc all", "only submitted, returned, approved or all")
	}
	var subs struct {
		Submissions []store.Submission `json:"submissions"`
	}
	if err := s.getJSON(r, p, target, &subs); err != nil {
		return err
	}
	page := reviewListPage{Who: p, State: state}
	// Newest first: what arrived last is what a reviewer has not seen.
	for i := len(subs.Submissions) - 1; i >= 0; i-- {
		sub := subs.Submissions[i]
		sub.SubmittedAt, sub.ChangedAt = sub.SubmittedAt.In(s.loc), sub.ChangedAt.In(s.loc)
		a, _ := s.query.Registry().Get(sub.Agency)
		page.Rows = append(page.Rows, reviewRow{Submission: sub, Agency: a})
	}
	return s.renderPrivate(w, r, http.StatusOK, pageOpts{Template: "review", Nav: "review", Data: page})
}

func (s *Server) reviewOne(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	page, err := s.periodData(r, p)
	if err != nil {
		return err
	}
	page.Reviewing = true
	page.Notice = r.URL.Query().Get("done")
	if page.Notice != "" && page.Notice != "approved" && page.Notice != "returned" {
		page.Notice = ""
	}
	return s.renderPrivate(w, r, http.StatusOK, pageOpts{Template: "period", Nav: "review", Data: page})
}

// reviewDecide applies the reviewer's decision through the API. A return without a
// comment, or a submission that changed since the page was shown, brings the page back
// with the reason.
func (s *Server) reviewDecide(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		return badParam("form", "…", "biểu mẫu không đọc được", "the form could not be read")
	}
	a, err := s.scopedAgency(r, p)
	if err != nil {
		return err
	}
	per, err := scopedPeriod(r)
	if err != nil {
		return err
	}
	action := r.PostFormValue("decision")
	if action != "approve" && action != "return" {
		return badParam("decision", action, "chỉ approve hoặc return", "only approve or return")
	}
	seen, _ := strconv.ParseInt(r.PostFormValue("seen"), 10, 64)
	body, _ := json.Marshal(map[string]any{"seen": seen, "comment": strings.TrimSpace(r.PostFormValue("comment"))})
	path := "/review/" + url.PathEscape(a.Code) + "/" + url.PathEscape(per.String())
	ans, err := s.callAPI(r, p, http.MethodPost, "/api/v1/submissions/"+url.PathEscape(a.Code)+"/"+url.PathEscape(per.String())+"/"+action,
		bytes.NewReader(body), "application/json")
	if err != nil {
		return err
	}
	switch ans.Status {
	case http.StatusOK:
		done := "approved"
		if action == "return" {
			done = "returned"
		}
		http.Redirect(w, r, path+"?done="+done, http.StatusSeeOther)
		return nil
	case http.StatusConflict, http.StatusUnprocessableEntity:
		page, err := s.periodData(r, p)
		if err != nil {
			return err
		}
		page.Reviewing = true
		pe := apiError(ans).(*pageError)
		if ans.Status == http.StatusConflict {
			pe.VI, pe.EN = splitVIEN(conflictMessage(ans))
		}
		page.DecisionError = pe
		return s.renderPrivate(w, r, ans.Status, pageOpts{Template: "period", Nav: "review", Data: page})
	}
	return apiError(ans)
}

func conflictMessage(a apiAnswer) string {
	var e struct {
		Error string `json:"error"`
	}
	_ = json.Unmarshal(a.Body, &e)
	return e.Error
}
