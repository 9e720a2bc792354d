package web

import (
	"context"
	"sync"
	"time"
)

// figureCache keeps the figures a page computed (a scoreboard, a card, a ranking) so
// that the next reader gets them without recomputing, which is what keeps / and
// /status fast under many readers at national scale. It stays current in one of two
// ways, chosen per entry:
//   - figures from observations are reused only while the store's figures version
//     (Options.FiguresVersion: newest observation and approval) is unchanged, so a new
//     submission or approval shows on the next request; without a version they are
//     reused for Options.CacheFor at most;
//   - portal status, which changes with every probe, is reused for CacheFor at most.
//
// Concurrent readers of a missing entry wait for one computation. The table is
// bounded: when it holds maxEntries it is emptied before the next entry goes in.
type figureCache struct {
	ttl     time.Duration
	version func(ctx context.Context) (string, error)

	mu      sync.Mutex
	entries map[string]*cacheEntry
}

const maxCacheEntries = 2048

type cacheEntry struct {
	version string
	at      time.Time
	ready   chan struct{}
	val     any
	err     error
}

// get returns the figures under key, computing them when absent or stale. volatile
// entries (portal status) are judged by age alone. With no ttl and no version the
// cache is off and every call computes.
func (c *figureCache) get(ctx context.Context, key string, volatile bool, compute func() (any, error)) (any, error) {
	if c == nil || (c.ttl <= 0 && (volatile || c.version == nil)) {
		return compute()
	}
	ver := ""
	if !volatile && c.version != nil {
		v, err := c.version(ctx)
		if err != nil {
			return nil, err
		}
		ver = v
	}
	now := time.Now()
	c.mu.Lock()
	e, ok := c.entries[key]
	fresh := false
	switch {
	case !ok:
	case volatile || c.version == nil:
		fresh = now.Sub(e.at) < c.ttl
	default:
		fresh = e.version == ver
	}
	if !fresh {
		if len(c.entries) >= maxCacheEntries {
			clear(c.entries)
		}
		e = &cacheEntry{version: ver, at: now, ready: make(chan struct{})}
		c.entries[key] = e
		c.mu.Unlock()
		e.val, e.err = compute()
		if e.err != nil {
			c.mu.Lock()
			if c.entries[key] == e {
				delete(c.entries, key)
			}
			c.mu.Unlock()
		}
		close(e.ready)
		return e.val, e.err
	}
	c.mu.Unlock()
	select {
	case <-e.ready:
		return e.val, e.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// cached runs f through the server's figure cache under key.
func cached[T any](ctx context.Context, s *Server, key string, volatile bool, f func() (T, error)) (T, error) {
	v, err := s.cache.get(ctx, key, volatile, func() (any, error) {
		x, err := f()
		return x, err
	})
	if err != nil {
		var zero T
		return zero, err
	}
	return v.(T), nil
}
