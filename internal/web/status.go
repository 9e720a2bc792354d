package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/internal/query"
)

// statusPage is the data of /status: portals with their state, uptime, latency,
// certificate and readiness, filtered by GET parameters so it works without script.
type statusPage struct {
	Result *query.StatusPage
	Rows   []statusRow
	Agency string
	Kind   string
	State  string
	Search string
	Kinds  []indicators.AgencyKind
	Prev   string
	Next   string
	AsOf   time.Time
}

type statusRow struct {
	query.PortalStatus
	Slug   string
	Agency *indicators.Agency
}

// statusPerPage is the status page's page size: 50 portals keep the page far under
// 200 KB on a phone.
const statusPerPage = 50

func (s *Server) status(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	f := query.StatusFilter{Agency: strings.TrimSpace(q.Get("agency")), Search: q.Get("q"), PerPage: statusPerPage, Page: 1}
	page := statusPage{Agency: f.Agency, Search: f.Search, Kind: q.Get("kind"), State: q.Get("state"),
		Kinds: []indicators.AgencyKind{indicators.KindMinistry, indicators.KindMinisterialAgency, indicators.KindGovernmentAgency,
			indicators.KindProvince, indicators.KindDistrict, indicators.KindCommune, indicators.KindNational}}
	if len(f.Search) > 200 {
		return badParam("q", f.Search[:20]+"…", "quá dài (tối đa 200 ký tự)", "too long (200 characters at most)")
	}
	if page.Kind != "" {
		known := false
		for _, k := range page.Kinds {
			known = known || string(k) == page.Kind
		}
		if !known {
			return badParam("kind", page.Kind, "không phải loại đơn vị", "not a kind of agency")
		}
		f.Kind = indicators.AgencyKind(page.Kind)
	}
	switch page.State {
	case "":
	case "up", "down":
		up := page.State == "up"
		f.Up = &up
	default:
		return badParam("state", page.State, "chỉ nhận up hoặc down", "only up or down")
	}
	if v := q.Get("page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1_000_000 {
			return badParam("page", v, "cần một số từ 1", "a number from 1 is needed")
		}
		f.Page = n
	}
	if f.Agency != "" {
		if _, ok := s.query.Registry().Get(f.Agency); !ok {
			return badParam("agency", f.Agency, "không có đơn vị này", "no such agency")
		}
	}
	res, err := cached(r.Context(), s, fmt.Sprintf("status/%q/%q/%v/%q/%d", f.Agency, f.Kind, page.State, f.Search, f.Page), true, func() (*query.StatusPage, error) {
		return s.query.PortalStatusPage(r.Context(), f)
	})
	if err != nil {
		return err
	}
	if f.Page > res.Pages {
		return badParam("page", strconv.Itoa(f.Page), fmt.Sprintf("chỉ có %d trang", res.Pages), fmt.Sprintf("there are %d pages", res.Pages))
	}
	page.Result = res
	page.AsOf = res.WindowsAsOf.In(s.loc)
	reg := s.query.Registry()
	for _, p := range res.Portals {
		a, _ := reg.Get(p.Agency)
		page.Rows = append(page.Rows, statusRow{PortalStatus: p, Slug: query.PortalSlug(p.Target), Agency: a})
	}
	link := func(n int) string {
		v := url.Values{}
		for k, x := range map[string]string{"agency": page.Agency, "kind": page.Kind, "state": page.State, "q": page.Search} {
			if x != "" {
				v.Set(k, x)
			}
		}
		v.Set("page", strconv.Itoa(n))
		return "/status?" + v.Encode()
	}
	if f.Page > 1 {
		page.Prev = link(f.Page - 1)
	}
	if f.Page < res.Pages {
		page.Next = link(f.Page + 1)
	}
	json := "/api/v1/probes"
	if f.Agency != "" {
		json += "?agency=" + url.QueryEscape(f.Agency)
	}
	return s.render(w, r, pageOpts{Template: "status", Nav: "status", JSON: json, Data: page, Cached: true, Volatile: true})
}

// portalPage is the data of /status/{portal}.
type portalPage struct {
	H       *query.PortalHistory
	Slug    string
	Agency  *indicators.Agency
	Chart   *barChart
	Outages []outageRow
	Now     time.Time
}

type outageRow struct {
	query.Outage
	Duration time.Duration
}

// portalWindow is how far back the portal page's history looks.
const portalWindow = 30 * 24 * time.Hour

func (s *Server) portal(w http.ResponseWriter, r *http.Request) error {
	slug := r.PathValue("portal")
	cachedH, err := cached(r.Context(), s, "portal/"+slug, true, func() (*query.PortalHistory, error) {
		return s.query.PortalHistory(r.Context(), slug, portalWindow)
	})
	if err != nil {
		return err
	}
	// A copy: the cached history is shared with other readers.
	hv := *cachedH
	h := &hv
	l := langOf(r)
	a, _ := s.query.Registry().Get(h.Status.Agency)
	h.Status.Time = h.Status.Time.In(s.loc)
	page := portalPage{H: h, Slug: slug, Agency: a, Now: s.now()}
	page.Chart = newBarChart(h, 720, 220, l)
	for _, o := range h.Outages {
		o.Start = o.Start.In(s.loc)
		if !o.End.IsZero() {
			o.End = o.End.In(s.loc)
		}
		page.Outages = append(page.Outages, outageRow{Outage: o, Duration: o.Duration(h.Status.Time).Round(time.Second)})
	}
	return s.render(w, r, pageOpts{Template: "portal", Nav: "status", Modified: h.Status.Time,
		JSON: "/api/v1/probes?agency=" + url.QueryEscape(h.Status.Agency), Data: page, Cached: true, Volatile: true})
}
