package api

import (
	"bufio"
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/g-oc/goc/collectors/feed"
	"github.com/g-oc/goc/internal/query"
)

// FeedStatuses reports the state of every configured feed: the collectors' puller.
type FeedStatuses interface {
	Statuses() []feed.Status
}

// listProbes answers GET /api/v1/probes?agency=&up=: the latest probe of each portal.
func (s *Server) listProbes(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := query.ProbeFilter{Agency: q.Get("agency")}
	if v := q.Get("up"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			writeProblems(w, http.StatusBadRequest, []Problem{{Field: "up", Reason: "phải là true hoặc false / must be true or false"}})
			return
		}
		f.Up = &b
	}
	rep, err := s.query.LatestProbes(r.Context(), f)
	if err != nil {
		s.queryError(w, "probes", err)
		return
	}
	// Compact, unlike the other endpoints: 10,000 portals indented are twice the bytes
	// and most of the time of this answer.
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	bw := bufio.NewWriterSize(w, 64<<10)
	if err := json.NewEncoder(bw).Encode(rep); err == nil {
		bw.Flush()
	}
}

// listFeeds answers GET /api/v1/feeds: each feed's last pull, and its last error with
// every problem found, when the last pull failed.
func (s *Server) listFeeds(w http.ResponseWriter, r *http.Request) {
	list := []feed.Status{}
	if s.feeds != nil {
		list = s.feeds.Statuses()
	}
	failing := 0
	for _, f := range list {
		if f.Error != nil {
			failing++
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"feeds": list, "count": len(list), "failing": failing})
}
