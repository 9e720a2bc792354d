package api

import (
	"net/http"

	"github.com/g-oc/goc/indicators"
)

// getSeries answers GET /api/v1/series?indicator=&agency=&level=: an agency's values of
// one indicator for every period with data, its own figure where it reported one and the
// roll-up of its units otherwise. This is what charts draw; /observations gives only
// what was stored. Without agency it is the country; with level, only agencies of that
// level contribute (the national commune-level figure).
func (s *Server) getSeries(w http.ResponseWriter, r *http.Request) {
	p := newParams(r.URL.Query())
	code := p.required("indicator")
	level := p.level("level")
	if len(p.probs) > 0 {
		writeProblems(w, http.StatusBadRequest, p.probs)
		return
	}
	agency := p.q.Get("agency")
	if agency == "" {
		agency = s.query.Registry().Root()
	}
	ind, series, err := s.query.Series(r.Context(), code, agency, level)
	if err != nil {
		s.queryError(w, "series", err)
		return
	}
	if series.Values == nil {
		series.Values = []indicators.Value{}
	}
	writeJSON(w, http.StatusOK, series.Rounded(ind))
}
