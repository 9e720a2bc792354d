package pluginhost

import (
	"encoding/json"
	"net/http"
	"slices"
	"time"

	gocapi "github.com/g-oc/goc/api/client"
)

// resources serves what the query editor's dropdowns list: GET indicators and GET
// agencies (?kind=province&kind=ministry, ?active=true for those that exist today).
func (d *Datasource) resources() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /indicators", d.listIndicators)
	mux.HandleFunc("GET /agencies", d.listAgencies)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeResource(w, http.StatusNotFound, map[string]string{"error": "không có tài nguyên này / no such resource: " + r.URL.Path})
	})
	return mux
}

// option is one dropdown entry.
type option struct {
	Value       string `json:"value"`
	Label       string `json:"label"`
	Description string `json:"description,omitempty"`
	// Kind and Levels let the editor filter and pick defaults without another call.
	Kind   string   `json:"kind,omitempty"`
	Levels []string `json:"levels,omitempty"`
	Years  []int    `json:"targetYears,omitempty"`
}

func (d *Datasource) listIndicators(w http.ResponseWriter, r *http.Request) {
	if d.settingsErr != nil {
		writeResource(w, http.StatusBadRequest, map[string]string{"error": d.settingsErr.Error()})
		return
	}
	inds, err := d.client.indicators(r.Context())
	if err != nil {
		writeResourceError(w, err)
		return
	}
	out := make([]option, 0, len(inds))
	for _, ind := range inds {
		levels := make([]string, len(ind.Levels))
		for i, l := range ind.Levels {
			levels[i] = string(l)
		}
		out = append(out, option{Value: ind.Code, Label: ind.NameVI, Description: ind.NameEN, Levels: levels, Years: ind.TargetYears()})
	}
	writeResource(w, http.StatusOK, out)
}

func (d *Datasource) listAgencies(w http.ResponseWriter, r *http.Request) {
	if d.settingsErr != nil {
		writeResource(w, http.StatusBadRequest, map[string]string{"error": d.settingsErr.Error()})
		return
	}
	all, err := d.client.agencies(r.Context())
	if err != nil {
		writeResourceError(w, err)
		return
	}
	kinds := r.URL.Query()["kind"]
	active := r.URL.Query().Get("active") == "true"
	now := time.Now()
	out := []option{}
	for _, a := range all {
		if len(kinds) > 0 && !slices.Contains(kinds, string(a.Kind)) {
			continue
		}
		if active && !a.ActiveOn(now) {
			continue
		}
		out = append(out, option{Value: a.Code, Label: a.NameVI, Description: a.NameEN + " (" + a.Code + ")", Kind: string(a.Kind),
			Levels: []string{string(a.Level())}})
	}
	writeResource(w, http.StatusOK, out)
}

func writeResourceError(w http.ResponseWriter, err error) {
	code := http.StatusBadGateway
	if st := gocapi.StatusOf(err); st != 0 && st < 500 {
		code = st
	}
	writeResource(w, code, map[string]string{"error": err.Error()})
}

func writeResource(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
