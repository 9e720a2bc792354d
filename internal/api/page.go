package api

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strconv"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/indicators/period"
	"github.com/g-oc/goc/internal/store"
)

// Every list the API serves comes in pages: at most `limit` items (DefaultPageSize when
// not asked, never more than MaxPageSize), and, when more follow, a `next` cursor and a
// `next_url` to fetch them (also sent as a Link header, rel="next"). A cursor is opaque
// to clients: it carries the key of the last item of the page, so the next page starts
// right after it (keyset pagination) and costs the same however deep it is.
const (
	DefaultPageSize = 1000
	MaxPageSize     = 5000
)

// page reads the limit and cursor parameters; cursor decodes into into (nil when there
// is no cursor). ok is false after a problem was recorded.
func (p *params) page(into any) (limit int, hasCursor bool) {
	limit = DefaultPageSize
	if v := p.q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxPageSize {
			p.fail("limit", "phải là số nguyên từ 1 đến "+strconv.Itoa(MaxPageSize)+" / must be a whole number from 1 to "+strconv.Itoa(MaxPageSize))
		} else {
			limit = n
		}
	}
	c := p.q.Get("cursor")
	if c == "" {
		return limit, false
	}
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err == nil {
		err = json.Unmarshal(raw, into)
	}
	if err != nil {
		p.fail("cursor", "con trỏ trang không hợp lệ: hãy dùng nguyên giá trị next của trang trước / invalid cursor: pass the previous page's next as it is")
		return limit, false
	}
	return limit, true
}

func encodeCursor(v any) string {
	b, _ := json.Marshal(v) // cursors are plain structs and strings
	return base64.RawURLEncoding.EncodeToString(b)
}

// obsCursor is the key of the last observation of a page.
type obsCursor struct {
	Indicator string `json:"i"`
	Agency    string `json:"a"`
	Period    string `json:"p"`
	Revision  int    `json:"r,omitempty"`
}

func (c obsCursor) key() (*store.Key, bool) {
	per, err := period.Parse(c.Period)
	if err != nil || c.Indicator == "" {
		return nil, false
	}
	return &store.Key{SeriesKey: indicators.SeriesKey{Indicator: c.Indicator, Agency: c.Agency, Period: per}, Revision: c.Revision}, true
}

func cursorOf(o indicators.Observation) obsCursor {
	return obsCursor{Indicator: o.Indicator, Agency: o.Agency, Period: o.Period.String(), Revision: o.Revision}
}

// listPage is one page of a list, written as
// {"<field>": [...], "count": n, "limit": l, "next": c, "next_url": u, ...extra}.
// count is the page's length, or total when the list knows it (lists held in memory:
// probes, feeds), as those answers always gave it.
type listPage struct {
	field string
	n     int
	total *int
	item  func(i int) any
	limit int
	next  string
	extra map[string]any
}

// writePage streams a page: each item is encoded on its own into a small buffer, so
// the answer is never held whole in memory beside the page it is made from.
func writePage(w http.ResponseWriter, r *http.Request, pg listPage) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	nextURL := newPageInfo(w, r, pg.limit, pg.next).NextURL
	w.WriteHeader(http.StatusOK)
	bw := bufio.NewWriterSize(w, 32<<10)
	enc := json.NewEncoder(bw)
	bw.WriteString(`{"` + pg.field + `":[`)
	for i := range pg.n {
		if i > 0 {
			bw.WriteByte(',')
		}
		if err := enc.Encode(pg.item(i)); err != nil {
			return
		}
	}
	count := pg.n
	if pg.total != nil {
		count = *pg.total
	}
	bw.WriteString(`],"count":` + strconv.Itoa(count) + `,"limit":` + strconv.Itoa(pg.limit))
	if pg.next != "" {
		bw.WriteString(`,"next":`)
		enc.Encode(pg.next)
		bw.WriteString(`,"next_url":`)
		enc.Encode(nextURL)
	}
	for _, k := range slices.Sorted(maps.Keys(pg.extra)) {
		v := pg.extra[k]
		b, err := json.Marshal(v)
		if err != nil {
			continue
		}
		bw.WriteString(`,"` + k + `":`)
		bw.Write(b)
	}
	bw.WriteString("}\n")
	bw.Flush()
}

// pageOf cuts items (read with one extra to know whether more follow) to limit and
// returns the key of the last kept one when more follow.
func pageOf[T any](items []T, limit int, key func(T) any) ([]T, string) {
	if len(items) <= limit {
		return items, ""
	}
	items = items[:limit]
	return items, encodeCursor(key(items[limit-1]))
}

// pageInfo is what a wrapped list answer adds beside its own fields.
type pageInfo struct {
	Limit   int    `json:"limit"`
	Next    string `json:"next,omitempty"`
	NextURL string `json:"next_url,omitempty"`
}

// newPageInfo sets the Link header when more follow and returns the page fields.
func newPageInfo(w http.ResponseWriter, r *http.Request, limit int, next string) pageInfo {
	pi := pageInfo{Limit: limit, Next: next}
	if next != "" {
		u := *r.URL
		q := u.Query()
		q.Set("cursor", next)
		u.RawQuery = q.Encode()
		pi.NextURL = u.RequestURI()
		w.Header().Set("Link", "<"+pi.NextURL+`>; rel="next"`)
	}
	return pi
}

// afterName pages a list held in memory in its own order (bounded by configuration or
// the registry, not by the store): the cursor names the last item of the previous page.
// An unknown name (an item that has since gone) restarts from the beginning of the
// items that sort after it by name, which keeps the walk going forward.
func afterName[T any](items []T, name func(T) string, after string, limit int) ([]T, string) {
	if after != "" {
		i := slices.IndexFunc(items, func(x T) bool { return name(x) == after })
		if i >= 0 {
			items = items[i+1:]
		} else {
			items = slices.DeleteFunc(slices.Clone(items), func(x T) bool { return name(x) <= after })
		}
	}
	if len(items) <= limit {
		return items, ""
	}
	items = items[:limit]
	return items, encodeCursor(name(items[limit-1]))
}
