package api

import (
	"bytes"
	"compress/gzip"
	"context"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// answerCache keeps encoded answers of a read that many clients ask for at once and
// that changes only when its data version moves: GET /api/v1/probes, whose every page
// reads and counts all 10,000 portals of a national deployment (about 150 ms of CPU)
// to say how many are up. The first reader of a version makes the answer; readers
// asking the same URL while it is made wait for it, and later ones get its bytes
// until the version moves. It is bounded by entries and by bytes, whatever URLs
// clients send.
//
// A JSON answer is also kept gzipped, compressed once when it is made, and given so to
// a client that accepts gzip: at national scale the answers are 0.7–3.5 MB, and 50
// readers copying them at once cost more than making them (BENCHMARKS.md). Both forms
// count against the byte budget.
//
// While the version has moved and one reader makes the new answer, the others may be
// given the previous one if it is younger than stale (probes arrive every second at
// national scale, so without it every second would make 50 readers wait); with stale
// zero they wait. A reader on its own always gets the current answer.
type answerCache struct {
	stale time.Duration
	// maxAge bounds how long an answer is reused even when the version does not
	// move: some fields are counted from the clock (a certificate's days left).
	maxAge   time.Duration
	maxBytes int
	maxItems int
	now      func() time.Time

	mu      sync.Mutex
	entries map[string]*answer
	order   []string // oldest first, for eviction
}

func newAnswerCache(stale, maxAge time.Duration, items, bytes int) *answerCache {
	return &answerCache{stale: stale, maxAge: maxAge, maxBytes: bytes, maxItems: items,
		now: time.Now, entries: map[string]*answer{}}
}

// answer is one recorded response.
type answer struct {
	version string
	at      time.Time
	ready   chan struct{} // closed once the fields below are set
	status  int
	header  http.Header
	body    []byte
	// gz is body gzipped, nil when it is not worth it (small, not JSON, or an error).
	gz []byte
	// refreshing is set while a reader makes the answer of a newer version.
	refreshing bool
}

func (a *answer) size() int { return len(a.body) + len(a.gz) + 512 }

// serve writes the answer for key at version, making it with produce when needed.
// produce writes a whole response; only a 200 is kept. versioned is false when the
// data has no version: the answer is then reused for stale at most (not at all when
// stale is zero).
func (c *answerCache) serve(w http.ResponseWriter, r *http.Request, key, version string, versioned bool, produce http.HandlerFunc) {
	if !versioned && c.stale <= 0 {
		produce(w, r)
		return
	}
	now := c.now()
	c.mu.Lock()
	if e := c.entries[key]; e != nil {
		if !isReady(e) {
			// Being made: wait for it, whatever its version (it was asked for no
			// earlier than this request's data).
			c.mu.Unlock()
			select {
			case <-e.ready:
				e.write(w, r)
			case <-r.Context().Done():
			}
			return
		}
		age := now.Sub(e.at)
		current := age < c.stale
		if versioned {
			current = e.version == version && age < c.maxAge
		}
		switch {
		case current:
			c.mu.Unlock()
			e.write(w, r)
			return
		case versioned && age < c.stale && e.refreshing:
			// Another reader makes the new answer: this one gets the previous.
			c.mu.Unlock()
			e.write(w, r)
			return
		case versioned && age < c.stale:
			// This reader makes the new answer; the others get e meanwhile.
			e.refreshing = true
			c.mu.Unlock()
			fresh := record(r, version, now, produce)
			c.mu.Lock()
			e.refreshing = false
			if c.entries[key] == e && fresh.status == http.StatusOK {
				c.entries[key] = fresh
				c.trim()
			}
			c.mu.Unlock()
			fresh.write(w, r)
			return
		}
	}
	e := &answer{version: version, at: now, ready: make(chan struct{})}
	if _, ok := c.entries[key]; !ok {
		c.order = append(c.order, key)
	}
	c.entries[key] = e
	c.mu.Unlock()
	fresh := record(r, version, now, produce)
	e.status, e.header, e.body, e.gz = fresh.status, fresh.header, fresh.body, fresh.gz
	close(e.ready)
	c.mu.Lock()
	if c.entries[key] == e && e.status != http.StatusOK {
		c.drop(key) // given to those who waited, then made again by the next reader
	}
	c.trim()
	c.mu.Unlock()
	e.write(w, r)
}

// record makes an answer in memory.
func record(r *http.Request, version string, at time.Time, produce http.HandlerFunc) *answer {
	rec := &recorder{header: http.Header{}}
	// One reader's hang-up must not fail the others waiting for the same answer.
	produce(rec, r.WithContext(context.WithoutCancel(r.Context())))
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	a := &answer{version: version, at: at, ready: make(chan struct{}), status: rec.status, header: rec.header, body: rec.buf.Bytes()}
	if a.status == http.StatusOK && len(a.body) >= minGzip && isJSONType(a.header.Get("Content-Type")) {
		a.gz = gzipped(a.body)
	}
	close(a.ready)
	return a
}

// minGzip is the smallest answer kept gzipped: below a few packets the saving is not
// worth a second copy.
const minGzip = 4 << 10

// gzipped compresses b, or gives nil when that does not make it smaller. BestSpeed: an
// answer is compressed each time its version moves, every second for the probe list
// while results arrive, and JSON shrinks about tenfold at that level already.
func gzipped(b []byte) []byte {
	var buf bytes.Buffer
	buf.Grow(len(b) / 8)
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed) // a valid level: no error
	if _, err := zw.Write(b); err != nil {
		return nil
	}
	if err := zw.Close(); err != nil || buf.Len() >= len(b) {
		return nil
	}
	return bytes.Clone(buf.Bytes())
}

func isJSONType(contentType string) bool {
	mt, _, _ := mime.ParseMediaType(contentType)
	return mt == "application/json" || strings.HasSuffix(mt, "+json")
}

// acceptsGzip reports whether the request's Accept-Encoding allows gzip (RFC 9110
// §12.5.3): named, or covered by "*", with a q-value above zero.
func acceptsGzip(r *http.Request) bool {
	star := false
	for _, v := range r.Header.Values("Accept-Encoding") {
		for _, part := range strings.Split(v, ",") {
			name, params, _ := strings.Cut(part, ";")
			name = strings.ToLower(strings.TrimSpace(name))
			q := 1.0
			for _, p := range strings.Split(params, ";") {
				k, val, ok := strings.Cut(strings.TrimSpace(p), "=")
				if ok && strings.EqualFold(strings.TrimSpace(k), "q") {
					if f, err := strconv.ParseFloat(strings.TrimSpace(val), 64); err == nil {
						q = f
					}
				}
			}
			switch name {
			case "gzip", "x-gzip":
				return q > 0
			case "*":
				star = q > 0
			}
		}
	}
	return star
}

// trim drops the oldest answers until the bounds hold (c.mu held); an answer larger
// than a quarter of the byte budget is not kept at all. At most maxItems entries, so
// summing them is cheap beside making one.
func (c *answerCache) trim() {
	for k, e := range c.entries {
		if isReady(e) && e.size() > c.maxBytes/4 {
			c.drop(k)
		}
	}
	total := 0
	for _, e := range c.entries {
		if isReady(e) {
			total += e.size()
		}
	}
	for len(c.order) > 0 && (len(c.order) > c.maxItems || total > c.maxBytes) {
		if e := c.entries[c.order[0]]; isReady(e) {
			total -= e.size()
		}
		c.drop(c.order[0])
	}
}

func (c *answerCache) drop(key string) {
	delete(c.entries, key)
	for i, k := range c.order {
		if k == key {
			c.order = append(c.order[:i], c.order[i+1:]...)
			return
		}
	}
}

func isReady(e *answer) bool {
	select {
	case <-e.ready:
		return true
	default:
		return false
	}
}

// write gives the answer to r: gzipped when it is kept so and r accepts gzip.
func (a *answer) write(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	for k, v := range a.header {
		h[k] = slices.Clone(v) // readers share a.header; Add below must not append to it
	}
	body := a.body
	if a.gz != nil {
		// Either form depends on Accept-Encoding: a shared cache must not mix them.
		h.Add("Vary", "Accept-Encoding")
		if acceptsGzip(r) {
			h.Set("Content-Encoding", "gzip")
			body = a.gz
		}
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(a.status)
	w.Write(body)
}

// recorder is a ResponseWriter into memory.
type recorder struct {
	header http.Header
	status int
	buf    bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.buf.Write(b)
}
