// Package limit keeps per-client rate limits: one token bucket (golang.org/x/time/rate)
// per key, such as a client address or a token name, in a table of bounded size. The
// API uses it on writes and failed authentication; the sign-in form uses it too.
//
//	lim := limit.New(limit.Options{Every: time.Second, Burst: 10})
//	if ok, wait := lim.Allow(limit.ClientAddr(r)); !ok {
//		limit.TooMany(w, wait)
//		return
//	}
package limit

import (
	"encoding/json"
	"math"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Options configure a Limiter.
type Options struct {
	// Every is the steady rate: one event per Every. Zero means one per second.
	Every time.Duration
	// Burst is how many events may come at once after a quiet spell. Zero means 1.
	Burst int
	// MaxKeys bounds the table: past it, keys whose bucket has refilled are forgotten
	// first (forgetting a full bucket changes nothing), then the least recently seen.
	// Zero means 10,000.
	MaxKeys int
	// Now is the clock; time.Now when nil. Tests pass a fake one.
	Now func() time.Time
}

// Limiter is a table of token buckets, one per key; safe for concurrent use. Memory is
// bounded by MaxKeys whatever the number of clients.
type Limiter struct {
	every   time.Duration
	burst   int
	maxKeys int
	now     func() time.Time

	mu   sync.Mutex
	keys map[string]*entry
}

type entry struct {
	lim  *rate.Limiter
	seen time.Time
}

// New builds a Limiter.
func New(o Options) *Limiter {
	l := &Limiter{every: o.Every, burst: o.Burst, maxKeys: o.MaxKeys, now: o.Now, keys: map[string]*entry{}}
	if l.every <= 0 {
		l.every = time.Second
	}
	if l.burst <= 0 {
		l.burst = 1
	}
	if l.maxKeys <= 0 {
		l.maxKeys = 10_000
	}
	if l.now == nil {
		l.now = time.Now
	}
	return l
}

// Allow takes one event from key's bucket. When the bucket is empty it takes nothing
// and says how long until one event would be allowed: the Retry-After to send.
func (l *Limiter) Allow(key string) (ok bool, retryAfter time.Duration) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	e := l.keys[key]
	if e == nil {
		if len(l.keys) >= l.maxKeys {
			l.evict(now)
		}
		e = &entry{lim: rate.NewLimiter(rate.Every(l.every), l.burst)}
		l.keys[key] = e
	}
	e.seen = now
	r := e.lim.ReserveN(now, 1)
	if !r.OK() {
		return false, l.every
	}
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// Blocked reports, without taking anything, whether key's bucket is empty, and if so
// how long until it holds one event: a check before work that only failures pay for
// (a failed sign-in takes from the bucket with Allow; a client whose failures emptied
// it is refused before its credentials are even checked).
func (l *Limiter) Blocked(key string) (blocked bool, retryAfter time.Duration) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	e := l.keys[key]
	if e == nil {
		return false, 0
	}
	tokens := e.lim.TokensAt(now)
	if tokens >= 1 {
		return false, 0
	}
	return true, time.Duration((1 - tokens) * float64(l.every))
}

// evict makes room for one key: first every key whose bucket has refilled (it would
// be created again as it is), else the least recently seen.
func (l *Limiter) evict(now time.Time) {
	full := time.Duration(l.burst) * l.every
	var oldest string
	var oldestSeen time.Time
	for k, e := range l.keys {
		if now.Sub(e.seen) >= full {
			delete(l.keys, k)
			continue
		}
		if oldest == "" || e.seen.Before(oldestSeen) {
			oldest, oldestSeen = k, e.seen
		}
	}
	if len(l.keys) >= l.maxKeys && oldest != "" {
		delete(l.keys, oldest)
	}
}

// Len is how many keys the table holds.
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.keys)
}

// ClientAddr is the key of the client that sent r: its IP address, or for IPv6 its
// /64 network (one subscriber usually holds a whole /64, so counting its addresses
// apart would multiply its allowance). X-Forwarded-For is not trusted: behind a
// reverse proxy every client shares the proxy's budget unless the proxy limits too.
func ClientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	ip = ip.Unmap()
	if ip.Is4() {
		return ip.String()
	}
	p, _ := ip.Prefix(64)
	return p.String()
}

// TooMany answers 429 with Retry-After (whole seconds, at least 1) and a JSON error in
// Vietnamese and English.
func TooMany(w http.ResponseWriter, retryAfter time.Duration) {
	secs := int(math.Ceil(retryAfter.Seconds()))
	if secs < 1 {
		secs = 1
	}
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusTooManyRequests)
	_ = json.NewEncoder(w).Encode(map[string]string{
		"error": "quá nhiều yêu cầu, thử lại sau " + strconv.Itoa(secs) + " giây / too many requests, retry after " +
			strconv.Itoa(secs) + " s",
	})
}
