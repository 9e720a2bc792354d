package api

import (
	"bytes"
	"errors"
	"net/http"
	"strconv"

	"github.com/g-oc/goc/indicators/period"
)

// getTemplate makes the Excel template for an agency and period.
//
//	GET /api/v1/templates?agency=P20&period=2026-Q3
func (s *Server) getTemplate(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var probs []Problem
	for _, f := range []string{"agency", "period"} {
		if q.Get(f) == "" {
			probs = append(probs, Problem{Field: f, Reason: "bắt buộc / required"})
		}
	}
	if len(probs) > 0 {
		writeProblems(w, http.StatusBadRequest, probs)
		return
	}
	due := 0
	if p, err := period.Parse(q.Get("period")); err == nil {
		due = s.sub.dueDays[p.Kind]
	}
	spec, err := s.files.Template(r.Context(), s.query, q.Get("agency"), q.Get("period"), due, s.loc, s.now())
	var se *TemplateError
	switch {
	case errors.As(err, &se):
		code := http.StatusBadRequest
		if se.Field == "agency" {
			code = http.StatusNotFound
		}
		writeProblems(w, code, []Problem{{Field: se.Field, Reason: se.Reason}})
		return
	case err != nil:
		s.queryError(w, "template", err)
		return
	}
	if v := q.Get("prefill"); v == "true" {
		// Prefilled with what the agency sent for the period: the caller's own
		// unapproved figures when it is signed in for that agency, else the published.
		qs := s.query
		if p, ok, err := s.principal(r); err == nil && ok && s.inScope(p, spec.Agency()) {
			reg := s.query.Registry()
			qs = s.query.For(AudienceOf(reg, reg.Root(), p))
		}
		current, err := qs.PreviousValues(r.Context(), spec.Agency(), spec.Period(), spec.Codes())
		if err != nil {
			s.queryError(w, "template", err)
			return
		}
		spec.Prefill(current)
	} else if v != "" && v != "false" {
		writeProblems(w, http.StatusBadRequest, []Problem{{Field: "prefill", Reason: "phải là true hoặc false / must be true or false, not " + v}})
		return
	}
	var b bytes.Buffer
	if err := spec.Write(&b); err != nil {
		s.log.Error("make template", "err", err)
		writeError(w, http.StatusInternalServerError, "lỗi máy chủ / server error: "+err.Error())
		return
	}
	w.Header().Set("Content-Type", ContentTypeXLSX)
	w.Header().Set("Content-Disposition", `attachment; filename="`+spec.FileName()+`"`)
	w.Header().Set("Content-Length", strconv.Itoa(b.Len()))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b.Bytes())
}
