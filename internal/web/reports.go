package web

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/indicators/period"
	"github.com/g-oc/goc/internal/auth"
	"github.com/g-oc/goc/internal/intake"
	"github.com/g-oc/goc/internal/query"
	"github.com/g-oc/goc/internal/store"
)

// The reporting officer's pages: what is due (My reports), one period's figures with
// their history and the upload form, the template to fill, and an earlier revision to
// download. Figures come from internal/query as the officer's audience sees them
// (its own unapproved figures marked); workflow state and every write go through the
// API in process (apicall.go).

// portalRoutes adds the signed-in pages.
func (s *Server) portalRoutes(page, form func(string, handler)) {
	page("GET /reports", s.signedIn(s.reportsHome, auth.Officer))
	page("GET /reports/{agency}", s.signedIn(s.myReports, auth.Officer, auth.Reviewer))
	page("GET /reports/{agency}/{period}", s.signedIn(s.reportPeriod, auth.Officer, auth.Reviewer))
	page("GET /reports/{agency}/{period}/template", s.signedIn(s.templateDownload, auth.Officer))
	page("GET /reports/{agency}/{period}/batches/{n}", s.signedIn(s.batchDownload, auth.Officer, auth.Reviewer))
	form("POST /reports/upload", s.signedIn(s.upload, auth.Officer))
	page("GET /review", s.signedIn(s.reviewList, auth.Reviewer, auth.Operator))
	page("GET /review/{agency}/{period}", s.signedIn(s.reviewOne, auth.Reviewer, auth.Operator))
	form("POST /review/{agency}/{period}", s.signedIn(s.reviewDecide, auth.Reviewer))
}

// audienceOf is whose unapproved figures p sees: its own subtree (the whole country
// for a reviewer at the root); an operator sees published figures only.
func (s *Server) audienceOf(p auth.Principal) query.Audience {
	reg := s.query.Registry()
	switch {
	case p.Is(auth.Reviewer) && p.Agency == reg.Root():
		return query.Audience{All: true}
	case p.Is(auth.Officer), p.Is(auth.Reviewer):
		scope := p.Agency
		return query.Audience{Sees: func(a string) bool { return reg.Within(a, scope) }}
	}
	return query.Audience{}
}

func (s *Server) reportsHome(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	http.Redirect(w, r, "/reports/"+url.PathEscape(p.Agency), http.StatusSeeOther)
	return nil
}

// scopedAgency reads {agency} and answers 404 or 403 unless it is in p's scope.
func (s *Server) scopedAgency(r *http.Request, p auth.Principal) (*indicators.Agency, error) {
	code := r.PathValue("agency")
	a, ok := s.query.Registry().Get(code)
	if !ok {
		return nil, &query.NotFoundError{Field: "agency", Value: code}
	}
	if !s.inScope(p, a.Code) {
		return nil, forbiddenAgency(p, a.Code)
	}
	return a, nil
}

func scopedPeriod(r *http.Request) (period.Period, error) {
	v := r.PathValue("period")
	per, err := period.Parse(v)
	if err != nil {
		return per, badParam("period", v, "kỳ báo cáo như 2026-Q3 hoặc 2026-10", "a period such as 2026-Q3 or 2026-10")
	}
	return per, nil
}

// myReportsPage is the data of /reports/{agency}.
type myReportsPage struct {
	Who    auth.Principal
	Agency *indicators.Agency
	Rows   []dueRow
	// Units are the agencies under this one that the officer also reports for.
	Units []*indicators.Agency
	// Returned counts rows a reviewer sent back: they are listed first.
	Returned int
}

// dueRow is one period due for the agency.
type dueRow struct {
	Period   period.Period
	Deadline time.Time
	// Report is the completeness figure: on time, late, missing or pending.
	Report query.AgencyReport
	// State is the review state ("" before anything was sent), with its last comment.
	State   store.State
	Comment string
	// Latest is when and by whom the newest revision arrived.
	LatestAt time.Time
	LatestBy string
}

// recentPeriods are the periods of kind k an officer sees on My reports: the current
// one and those of the last year.
func recentPeriods(k period.Kind, now time.Time, loc *time.Location) []period.Period {
	cur := period.Of(k, now.In(loc))
	n := k.PerYear()
	if n < 2 {
		n = 2
	}
	out := make([]period.Period, 0, n)
	for i := 0; i < n; i++ {
		out = append(out, cur.Add(-i))
	}
	return out
}

func (s *Server) myReports(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	a, err := s.scopedAgency(r, p)
	if err != nil {
		return err
	}
	now := s.now()
	ctx := r.Context()
	var rows []dueRow
	for _, k := range []period.Kind{period.Year, period.Half, period.Quarter, period.Month} {
		for _, per := range recentPeriods(k, now, s.loc) {
			if !a.ActiveDuring(per.Start(s.loc), per.End(s.loc)) || len(intake.TemplateIndicators(s.query.Catalogue(), a, per)) == 0 {
				continue
			}
			c, err := s.query.Completeness(ctx, per, s.dueDays[per.Kind], s.loc, now, query.CompletenessFilter{Within: a.Code})
			if err != nil {
				return err
			}
			row := dueRow{Period: per, Deadline: c.Deadline.In(s.loc)}
			for _, ar := range c.Agencies {
				if ar.Agency == a.Code {
					row.Report = ar
				}
			}
			rows = append(rows, row)
		}
	}
	var subs struct {
		Submissions []store.Submission `json:"submissions"`
	}
	if err := s.getJSON(r, p, "/api/v1/submissions?agency="+url.QueryEscape(a.Code), &subs); err != nil {
		return err
	}
	page := myReportsPage{Who: p, Agency: a}
	for i := range rows {
		for _, sub := range subs.Submissions {
			if sub.Period == rows[i].Period {
				rows[i].State, rows[i].Comment = sub.State, sub.Comment
				rows[i].LatestAt, rows[i].LatestBy = sub.SubmittedAt.In(s.loc), sub.SubmittedBy
			}
		}
		if rows[i].State == store.Returned {
			page.Returned++
		}
	}
	// What needs the officer first: returned, then missing or late, then the rest, each
	// newest period first.
	rank := func(d dueRow) int {
		switch {
		case d.State == store.Returned:
			return 0
		case d.Report.Status == query.Missing, d.Report.Status == query.Late && d.State == "":
			return 1
		}
		return 2
	}
	slices.SortStableFunc(rows, func(x, y dueRow) int {
		if c := rank(x) - rank(y); c != 0 {
			return c
		}
		return -x.Period.End(nil).Compare(y.Period.End(nil))
	})
	page.Rows = rows
	for _, c := range s.query.Registry().Children(a.Code) {
		if c.ActiveDuring(now, now.Add(time.Second)) {
			page.Units = append(page.Units, c)
		}
	}
	return s.renderPrivate(w, r, http.StatusOK, pageOpts{Template: "reports", Nav: "reports", Data: page})
}

// periodPage is the data of /reports/{agency}/{period} and /review/{agency}/{period}.
type periodPage struct {
	Who    auth.Principal
	Agency *indicators.Agency
	Period period.Period
	// Reviewing is the reviewer's view: the decision form instead of the upload form.
	Reviewing  bool
	Submission *store.Submission
	Trail      []store.Transition
	// Values are the newest figures of each indicator the agency reports for the
	// period, with the approved one beside it when they differ.
	Values []valueRow
	// Batches are the submissions that changed something, newest first: the history.
	Batches []batch
	// Notice is a message key shown at the top (after a decision).
	Notice string
	// DecisionError says why a decision was refused (no comment, changed meanwhile).
	DecisionError *pageError
}

type valueRow struct {
	Indicator *indicators.Indicator
	Latest    *indicators.Observation
	// Unapproved marks a figure a reviewer has not approved yet.
	Unapproved bool
}

// batch is one accepted upload: its number in the period's history, who and when, and
// the values it changed (old to new).
type batch struct {
	N       int
	ID      string
	At      time.Time
	By      string
	Changes []change
	// Resent counts values sent again unchanged.
	Resent int
}

type change struct {
	Indicator *indicators.Indicator
	Revision  int
	Old, New  *float64
	// Numerator and Denominator are the new revision's, for a ratio.
	Numerator, Denominator *float64
}

// periodFigures reads the history of one agency's period as p's audience sees it, and
// groups it into batches.
func (s *Server) periodFigures(ctx context.Context, p auth.Principal, a *indicators.Agency, per period.Period) ([]valueRow, []batch, error) {
	qs := s.query.For(s.audienceOf(p))
	hist, err := qs.Observations(ctx, store.Query{Agencies: []string{a.Code}, From: per.Start(nil), To: per.End(nil),
		Kinds: []period.Kind{per.Kind}, History: true})
	if err != nil {
		return nil, nil, err
	}
	cat := s.query.Catalogue()
	latest := map[string]indicators.Observation{}
	var batches []batch
	byID := map[string]int{}
	prev := map[string]*float64{}
	// The store answers by series then revision; order by arrival to replay history.
	slices.SortStableFunc(hist, func(x, y indicators.Observation) int {
		if c := x.ReceivedAt.Compare(y.ReceivedAt); c != 0 {
			return c
		}
		return x.Revision - y.Revision
	})
	for _, o := range hist {
		if o.Period != per {
			continue
		}
		ind, ok := cat.Get(o.Indicator)
		if !ok {
			continue
		}
		v := indicators.RoundFor(ind, o.Value)
		latest[o.Indicator] = o
		id := o.Batch
		if id == "" {
			id = o.ReceivedAt.String()
		}
		i, ok := byID[id]
		if !ok {
			i = len(batches)
			byID[id] = i
			batches = append(batches, batch{N: i + 1, ID: id, At: o.ReceivedAt.In(s.loc), By: o.Submitter})
		}
		if old := prev[o.Indicator]; old != nil && *old == v {
			// A new revision with the same figure (re-sent, or from another source):
			// counted, not listed as a change.
			batches[i].Resent++
		} else {
			batches[i].Changes = append(batches[i].Changes, change{Indicator: ind, Revision: o.Revision, Old: old, New: &v,
				Numerator: o.Numerator, Denominator: o.Denominator})
		}
		prev[o.Indicator] = &v
	}
	var obs []indicators.Observation
	for _, o := range latest {
		obs = append(obs, o)
	}
	unapproved, err := qs.Unapproved(ctx, obs)
	if err != nil {
		return nil, nil, err
	}
	var rows []valueRow
	for _, ind := range intake.TemplateIndicators(cat, a, per) {
		row := valueRow{Indicator: ind}
		if o, ok := latest[ind.Code]; ok {
			o.Value = indicators.RoundFor(ind, o.Value)
			row.Latest = &o
			row.Unapproved = unapproved[store.KeyOf(o)]
		}
		rows = append(rows, row)
	}
	slices.Reverse(batches)
	return rows, batches, nil
}

// submissionOf asks the API for a submission's state and trail; nil when nothing was
// sent yet.
func (s *Server) submissionOf(r *http.Request, p auth.Principal, a *indicators.Agency, per period.Period) (*store.Submission, []store.Transition, error) {
	ans, err := s.callAPI(r, p, http.MethodGet, "/api/v1/submissions/"+url.PathEscape(a.Code)+"/"+url.PathEscape(per.String()), nil, "")
	if err != nil {
		return nil, nil, err
	}
	if ans.Status == http.StatusNotFound {
		return nil, nil, nil
	}
	if ans.Status != http.StatusOK {
		return nil, nil, apiError(ans)
	}
	var out struct {
		Submission store.Submission   `json:"submission"`
		Trail      []store.Transition `json:"trail"`
	}
	if err := decodeJSON(ans.Body, &out); err != nil {
		return nil, nil, err
	}
	for i := range out.Trail {
		out.Trail[i].At = out.Trail[i].At.In(s.loc)
	}
	out.Submission.ChangedAt = out.Submission.ChangedAt.In(s.loc)
	return &out.Submission, out.Trail, nil
}

func (s *Server) periodData(r *http.Request, p auth.Principal) (periodPage, error) {
	a, err := s.scopedAgency(r, p)
	if err != nil {
		return periodPage{}, err
	}
	per, err := scopedPeriod(r)
	if err != nil {
		return periodPage{}, err
	}
	page := periodPage{Who: p, Agency: a, Period: per}
	if page.Values, page.Batches, err = s.periodFigures(r.Context(), p, a, per); err != nil {
		return page, err
	}
	if page.Submission, page.Trail, err = s.submissionOf(r, p, a, per); err != nil {
		return page, err
	}
	return page, nil
}

func (s *Server) reportPeriod(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	page, err := s.periodData(r, p)
	if err != nil {
		return err
	}
	return s.renderPrivate(w, r, http.StatusOK, pageOpts{Template: "period", Nav: "reports", Data: page})
}

// templateDownload is the Excel template for the period, from the API (the same file
// `goc template` writes), prefilled with the officer's newest figures.
func (s *Server) templateDownload(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	a, err := s.scopedAgency(r, p)
	if err != nil {
		return err
	}
	per, err := scopedPeriod(r)
	if err != nil {
		return err
	}
	q := url.Values{"agency": {a.Code}, "period": {per.String()}, "prefill": {"true"}}
	ans, err := s.callAPI(r, p, http.MethodGet, "/api/v1/templates?"+q.Encode(), nil, "")
	if err != nil {
		return err
	}
	if ans.Status != http.StatusOK {
		return apiError(ans)
	}
	h := w.Header()
	for _, k := range []string{"Content-Type", "Content-Disposition", "Content-Length"} {
		h.Set(k, ans.Header.Get(k))
	}
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(ans.Body)
	return nil
}

// batchDownload is the period's figures as they stood after upload n, as a CSV in the
// submission format (so it can be corrected and sent again).
func (s *Server) batchDownload(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	page, err := s.periodData(r, p)
	if err != nil {
		return err
	}
	n, err := strconv.Atoi(r.PathValue("n"))
	if err != nil || n < 1 || n > len(page.Batches) {
		return badParam("n", r.PathValue("n"), fmt.Sprintf("số lần nộp từ 1 đến %d", len(page.Batches)), fmt.Sprintf("an upload number from 1 to %d", len(page.Batches)))
	}
	state := map[string]change{}
	var order []string
	for i := len(page.Batches) - 1; i >= 0; i-- { // oldest first
		b := page.Batches[i]
		if b.N > n {
			break
		}
		for _, c := range b.Changes {
			if _, seen := state[c.Indicator.Code]; !seen {
				order = append(order, c.Indicator.Code)
			}
			state[c.Indicator.Code] = c
		}
	}
	var buf bytes.Buffer
	cw := csv.NewWriter(&buf)
	_ = cw.Write(intake.CSVColumns)
	num := func(v *float64) string {
		if v == nil {
			return ""
		}
		return strconv.FormatFloat(*v, 'f', -1, 64)
	}
	for _, code := range order {
		c := state[code]
		value := num(c.New)
		if c.Numerator != nil && c.Denominator != nil {
			value = "" // a ratio is sent as its parts; the value follows from them
		}
		_ = cw.Write([]string{page.Agency.Code, page.Period.String(), code, value, num(c.Numerator), num(c.Denominator)})
	}
	cw.Flush()
	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s_%s_lan-upload-%d.csv"`, page.Agency.Code, page.Period, n))
	h.Set("Cache-Control", "no-store")
	_, _ = w.Write(buf.Bytes())
	return nil
}
