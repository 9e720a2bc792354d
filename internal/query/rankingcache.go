package query

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/indicators/period"
	"github.com/g-oc/goc/internal/store"
)

// rankingCacheSize bounds how many rankings are kept. A deployment asks for a handful
// (each peer group for the last years, with and without trends, the configured
// method), so 64 keeps every one that is asked for again while the bound holds whatever
// a client asks.
const rankingCacheSize = 64

// rankingCache keeps computed rankings, stamped with the store's data version, as
// figureCache keeps yearly figures: the rankings page, the ranking API and workbook, the
// agency pages and every province's report card ask for the same few rankings, and each
// computation reads two years of every ranking indicator for the whole group (at
// national scale, millions of observations). A ranking with provenance is not kept: it
// holds every observation behind it, and it is an analyst's export, not a page.
type rankingCache struct {
	mu      sync.Mutex
	entries map[rankingKey]*rankingEntry
	order   []rankingKey // oldest first, for eviction
}

type rankingKey struct {
	group     indicators.PeerGroup
	period    period.Period
	method    string // the method as JSON (its maps are written in key order)
	trends    bool
	complete  bool // whether the period had ended: a ranking says so
	published bool
}

type rankingEntry struct {
	version string
	ready   chan struct{} // closed when rep or err is set
	rep     *RankingReport
	err     error
}

func newRankingCache() *rankingCache {
	return &rankingCache{entries: map[rankingKey]*rankingEntry{}}
}

// cachedRanking returns the ranking from the cache, computing it with compute once per
// data version however many requests wait for it; false when it cannot be kept.
// Callers treat the report as read-only (Rounded copies what it changes).
func (s *Service) cachedRanking(ctx context.Context, req RankingRequest, complete bool, compute func(context.Context) (*RankingReport, error)) (*RankingReport, bool, error) {
	dv, ok := s.store.(store.FiguresVersioner)
	if !ok || s.rankings == nil || !s.cacheable() || req.Provenance {
		return nil, false, nil
	}
	version, err := dv.FiguresVersion(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("read data version: %w", err)
	}
	method, err := json.Marshal(req.Method)
	if err != nil {
		return nil, false, fmt.Errorf("ranking method: %w", err)
	}
	key := rankingKey{req.Group, req.Period, string(method), req.Trends, complete, s.audience.public()}
	c := s.rankings
	c.mu.Lock()
	e := c.entries[key]
	if e == nil || e.version != version {
		e = &rankingEntry{version: version, ready: make(chan struct{})}
		if _, had := c.entries[key]; !had {
			c.order = append(c.order, key)
			for len(c.order) > rankingCacheSize {
				delete(c.entries, c.order[0])
				c.order = c.order[1:]
			}
		}
		c.entries[key] = e
		c.mu.Unlock()
		// One reader's hang-up must not fail the others waiting for the same ranking.
		e.rep, e.err = compute(context.WithoutCancel(ctx))
		close(e.ready)
		if e.err != nil {
			c.mu.Lock()
			if c.entries[key] == e {
				delete(c.entries, key) // the next request tries again
				if i := indexOf(c.order, key); i >= 0 {
					c.order = append(c.order[:i], c.order[i+1:]...)
				}
			}
			c.mu.Unlock()
		}
		return e.rep, true, e.err
	}
	c.mu.Unlock()
	select {
	case <-e.ready:
	case <-ctx.Done():
		return nil, true, ctx.Err()
	}
	return e.rep, true, e.err
}

func indexOf(keys []rankingKey, k rankingKey) int {
	for i, x := range keys {
		if x == k {
			return i
		}
	}
	return -1
}
