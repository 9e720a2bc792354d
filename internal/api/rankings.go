package api

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/indicators/period"
	"github.com/g-oc/goc/internal/query"
)

// rankingRequest reads period, group, normalisation and include from the query string.
// The period defaults to the last year that has ended.
func (s *Server) rankingRequest(r *http.Request) (query.RankingRequest, []Problem) {
	q := r.URL.Query()
	req := query.RankingRequest{Method: s.ranking}
	var probs []Problem
	if v := q.Get("group"); v == "" {
		probs = append(probs, Problem{Field: "group", Reason: "bắt buộc: ministries, government_agencies hoặc provinces / required: ministries, government_agencies or provinces"})
	} else if g, err := indicators.ParsePeerGroup(v); err != nil {
		probs = append(probs, Problem{Field: "group", Reason: err.Error()})
	} else {
		req.Group = g
	}
	if v := q.Get("period"); v == "" {
		req.Period = period.Period{Kind: period.Year, Year: s.now().In(s.loc).Year() - 1, Index: 1}
	} else if p, err := period.Parse(v); err != nil {
		probs = append(probs, Problem{Field: "period", Reason: "kỳ không hợp lệ / " + err.Error()})
	} else {
		req.Period = p
	}
	if v := q.Get("normalisation"); v != "" {
		n, err := indicators.ParseNormalisation(v)
		if err != nil {
			probs = append(probs, Problem{Field: "normalisation", Reason: "không hợp lệ / " + err.Error()})
		}
		req.Method.Normalisation = n
	}
	for _, inc := range splitList(q["include"]) {
		switch inc {
		case "provenance":
			req.Provenance = true
		case "trends":
			req.Trends = true
		default:
			probs = append(probs, Problem{Field: "include", Reason: fmt.Sprintf("không hợp lệ %q / unknown %q: want provenance, trends", inc, inc)})
		}
	}
	return req, probs
}

// getRankings answers GET /api/v1/rankings?period=&group=: composite scores and ranks of
// a peer group, with the change from the previous period.
func (s *Server) getRankings(w http.ResponseWriter, r *http.Request) {
	req, probs := s.rankingRequest(r)
	if len(probs) > 0 {
		writeProblems(w, http.StatusBadRequest, probs)
		return
	}
	rep, err := s.query.Ranking(r.Context(), req)
	if err != nil {
		s.reportError(w, "rankings", err)
		return
	}
	writeJSON(w, http.StatusOK, rep.Rounded(s.query.Catalogue()))
}

// keptWorkbook gives the ranking workbook kept for the URL at the store's figures
// version, made by h when there is none: the workbook ranks every member with the
// observation behind each figure (at national scale, every commune's), and is the same
// file for every reader until a figure changes.
func (s *Server) keptWorkbook(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		version, ok, err := s.query.FiguresVersion(r.Context())
		if err != nil {
			s.queryError(w, "ranking workbook", err)
			return
		}
		s.workbooks.serve(w, r, r.URL.Path+"?"+r.URL.RawQuery, version, ok, h)
	}
}

// getRankingWorkbook answers GET /api/v1/reports/ranking.xlsx?period=&group=.
func (s *Server) getRankingWorkbook(w http.ResponseWriter, r *http.Request) {
	req, probs := s.rankingRequest(r)
	if len(probs) > 0 {
		writeProblems(w, http.StatusBadRequest, probs)
		return
	}
	req.Provenance, req.Trends = true, true
	rep, err := s.query.Ranking(r.Context(), req)
	if err != nil {
		s.reportError(w, "rankings", err)
		return
	}
	var buf bytes.Buffer
	if err := s.files.RankingWorkbook(&buf, rep.Rounded(s.query.Catalogue()), s.loc); err != nil {
		s.reportError(w, "ranking workbook", err)
		return
	}
	writeFile(w, fmt.Sprintf("xep-hang-%s-%s.xlsx", req.Group, req.Period), xlsxType, buf.Bytes())
}

// getAgencyCard answers GET /api/v1/agencies/{code}/card: one agency's report card.
func (s *Server) getAgencyCard(w http.ResponseWriter, r *http.Request) {
	card, err := s.query.AgencyCard(r.Context(), r.PathValue("code"), s.ranking)
	if err != nil {
		s.reportError(w, "card", err)
		return
	}
	writeJSON(w, http.StatusOK, card.Rounded(s.query.Catalogue()))
}

// getAgencyCardWorkbook answers GET /api/v1/reports/agency.xlsx?agency=CODE.
func (s *Server) getAgencyCardWorkbook(w http.ResponseWriter, r *http.Request) {
	code := r.URL.Query().Get("agency")
	if code == "" {
		writeProblems(w, http.StatusBadRequest, []Problem{{Field: "agency", Reason: "bắt buộc: mã đơn vị, ví dụ P20 / required: an agency code such as P20"}})
		return
	}
	card, err := s.query.AgencyCard(r.Context(), code, s.ranking)
	if err != nil {
		s.reportError(w, "card", err)
		return
	}
	var buf bytes.Buffer
	if err := s.files.CardWorkbook(&buf, card.Rounded(s.query.Catalogue()), s.loc); err != nil {
		s.reportError(w, "card workbook", err)
		return
	}
	writeFile(w, fmt.Sprintf("the-bao-cao-%s.xlsx", code), xlsxType, buf.Bytes())
}

// getExport answers GET /api/v1/reports/export.xlsx and .csv?indicator=&agency=&from=&to=&history=,
// streaming one indicator-year of observations at a time.
func (s *Server) getExport(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	req := query.ExportRequest{Indicators: splitList(q["indicator"]), Agencies: splitList(q["agency"])}
	var probs []Problem
	for _, f := range []struct {
		name string
		dst  *period.Period
	}{{"from", &req.From}, {"to", &req.To}} {
		if v := q.Get(f.name); v != "" {
			p, err := period.Parse(v)
			if err != nil {
				probs = append(probs, Problem{Field: f.name, Reason: "kỳ không hợp lệ / " + err.Error()})
			}
			*f.dst = p
		}
	}
	if v := q.Get("history"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			probs = append(probs, Problem{Field: "history", Reason: "phải là true hoặc false / must be true or false"})
		}
		req.History = b
	}
	if len(probs) > 0 {
		writeProblems(w, http.StatusBadRequest, probs)
		return
	}
	plan, err := s.query.ExportPlan(req)
	if err != nil {
		s.reportError(w, "export", err)
		return
	}
	// The export is public: approved figures only, as every other public read. The
	// export pages read the store with the plan's query as it is, which keeps unapproved ones.
	for i := range plan {
		plan[i].Query.Published = true
	}
	format, ctype := "csv", "text/csv; charset=utf-8"
	if strings.HasSuffix(r.URL.Path, ".xlsx") {
		format, ctype = "xlsx", xlsxType
	}
	reg := s.query.Registry()
	meta := ExportMeta{
		Names: func(c string) string {
			if a, ok := reg.Get(c); ok {
				return a.NameVI
			}
			return ""
		},
		Location: s.loc, Query: r.URL.RawQuery, GeneratedAt: s.now(),
	}
	// Pages of exportPageSize observations: an export of the whole store costs one page
	// of memory. The first page is read before anything is sent, so a store that does not
	// answer still gets a proper error status.
	pages := s.query.ExportPages(plan, exportPageSize)
	first, done, err := pages.Next(r.Context())
	if err != nil {
		s.reportError(w, "export", err)
		return
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="goc-export-%s.%s"`, time.Now().Format("20060102-150405"), format))
	ex, err := s.files.NewExporter(format, w, meta)
	if err != nil {
		s.reportError(w, "export", err)
		return
	}
	if err := ex.Write(first); err != nil {
		s.log.Error("export failed after the response started", "err", err)
		return
	}
	// The server's write timeout bounds a whole response; a large export that keeps
	// sending gets exportIdle more after each page, so a client that reads is served to
	// the end and one that stops reading is still cut off.
	rc := http.NewResponseController(w)
	for !done {
		_ = rc.SetWriteDeadline(time.Now().Add(exportIdle)) // unsupported only behind a writer without Unwrap
		var obs []indicators.Observation
		obs, done, err = pages.Next(r.Context())
		if err == nil {
			err = ex.Write(obs)
		}
		if err != nil {
			// The status line is gone; cutting the body short makes the client see a broken
			// download rather than a complete-looking file.
			s.metrics.StoreErrors.WithLabelValues("read").Inc()
			s.log.Error("export failed after the response started", "err", err)
			panic(http.ErrAbortHandler)
		}
	}
	if err := ex.Close(); err != nil {
		s.log.Error("export failed after the response started", "err", err)
		panic(http.ErrAbortHandler)
	}
}

// exportPageSize is how many observations an export reads from the store at a time.
const exportPageSize = 2000

// exportIdle is how long an export may take to send one page before it is cut off.
const exportIdle = 60 * time.Second

const xlsxType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

func writeFile(w http.ResponseWriter, name, ctype string, body []byte) {
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s"`, name))
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// reportError answers a failed ranking, card or export query: 400 for input that cannot
// be used, 404 for unknown names, 500 otherwise.
func (s *Server) reportError(w http.ResponseWriter, op string, err error) {
	var inv *query.InvalidError
	if errors.As(err, &inv) {
		writeProblems(w, http.StatusBadRequest, []Problem{{Field: inv.Field, Reason: inv.Reason}})
		return
	}
	s.queryError(w, op, err)
}
