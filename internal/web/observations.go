package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/indicators/period"
	"github.com/g-oc/goc/internal/store"
)

// observationsPage is the data of /observations: the stored revisions behind a figure,
// each with its source, who sent it, when, and its revision number.
type observationsPage struct {
	Ind      *indicators.Indicator
	Period   period.Period
	Agencies []string
	Rows     []observationRow
	JSON     string
}

type observationRow struct {
	indicators.Observation
	Agency *indicators.Agency
}

// maxProvenanceAgencies bounds the agency list a provenance address may carry.
const maxProvenanceAgencies = 200

func (s *Server) observations(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	code := q.Get("indicator")
	if code == "" {
		return badParam("indicator", "", "cần mã chỉ tiêu", "an indicator code is required")
	}
	ind, ok := s.query.Catalogue().Get(code)
	if !ok {
		return badParam("indicator", code, "không có chỉ tiêu này", "no such indicator")
	}
	p, err := period.Parse(q.Get("period"))
	if err != nil {
		return badParam("period", q.Get("period"), "kỳ không hợp lệ, ví dụ 2025 hoặc 2026-Q3", "not a period such as 2025 or 2026-Q3")
	}
	var agencies []string
	for _, a := range strings.Split(q.Get("agency"), ",") {
		if a = strings.TrimSpace(a); a != "" {
			agencies = append(agencies, a)
		}
	}
	if len(agencies) > maxProvenanceAgencies {
		return badParam("agency", "…", "quá nhiều đơn vị", "too many agencies")
	}
	sq := store.Query{Indicators: []string{code}, Agencies: agencies, From: p.Start(nil), To: p.End(nil),
		Kinds: []period.Kind{p.Kind}, History: true}
	obs, err := s.query.Observations(r.Context(), sq)
	if err != nil {
		return err
	}
	reg := s.query.Registry()
	page := observationsPage{Ind: ind, Period: p, Agencies: agencies}
	for _, o := range obs {
		a, _ := reg.Get(o.Agency)
		o.ReceivedAt = o.ReceivedAt.In(s.loc)
		page.Rows = append(page.Rows, observationRow{Observation: o, Agency: a})
	}
	api := url.Values{"indicator": {code}, "from": {p.String()}, "to": {p.String()}, "history": {"true"}}
	if len(agencies) > 0 {
		api.Set("agency", strings.Join(agencies, ","))
	}
	page.JSON = "/api/v1/observations?" + api.Encode()
	return s.render(w, r, pageOpts{Template: "observations", JSON: page.JSON, Data: page})
}
