package api

import "net/http"

// whoami answers GET /api/v1/whoami: the name and agency scope of the bearer token the
// request carries, or 401. Clients such as the Grafana data source use it to check a
// configured token without submitting anything.
func (s *Server) whoami(w http.ResponseWriter, r *http.Request) {
	who, ok := s.authenticate(w, r)
	if !ok {
		return
	}
	out := map[string]string{"name": who.Name, "agency": who.Agency, "role": roleName(who)}
	if a, ok := s.query.Registry().Get(who.Agency); ok {
		out["agency_name_vi"], out["agency_name_en"] = a.NameVI, a.NameEN
	}
	writeJSON(w, http.StatusOK, out)
}
