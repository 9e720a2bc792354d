package api

import (
	"bytes"
	"context"
	"net/http"
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
	// refreshing is set while a reader makes the answer of a newer version.
	refreshing bool
}

func (a *answer) size() int { return len(a.body) + 512 }

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
				e.write(w)
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
			e.write(w)
			return
		case versioned && age < c.stale && e.refreshing:
			// Another reader makes the new answer: this one gets the previous.
			c.mu.Unlock()
			e.write(w)
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
			fresh.write(w)
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
	e.status, e.header, e.body = fresh.status, fresh.header, fresh.body
	close(e.ready)
	c.mu.Lock()
	if c.entries[key] == e && e.status != http.StatusOK {
		c.drop(key) // given to those who waited, then made again by the next reader
	}
	c.trim()
	c.mu.Unlock()
	e.write(w)
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
	close(a.ready)
	return a
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

func (a *answer) write(w http.ResponseWriter) {
	for k, v := range a.header {
		w.Header()[k] = v
	}
	w.WriteHeader(a.status)
	w.Write(a.body)
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
