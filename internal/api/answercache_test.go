package api

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestAnswerCacheStaysWithinItsBounds asks for many different URLs, as a client
// walking every page or making up query strings would: the kept answers stay within
// the count and the bytes allowed, counting each JSON answer's plain and gzipped
// bytes, and an answer too large to keep is given but not kept.
func TestAnswerCacheStaysWithinItsBounds(t *testing.T) {
	tests := []struct {
		name            string
		items, bytes    int
		urls, bodyBytes int
		minKept         int
	}{
		{"many small answers", 16, 1 << 20, 100, 100, 16},
		// 6 KiB plain and about 3 KiB gzipped: four fit in 40 KiB, not five.
		{"few large answers", 256, 40 << 10, 50, 6 << 10, 3},
		{"answers larger than a quarter of the budget", 256, 40 << 10, 10, 20 << 10, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newAnswerCache(0, time.Minute, 256, 32<<20)
			c.maxItems, c.maxBytes = tt.items, tt.bytes
			made := 0
			rng := rand.New(rand.NewPCG(1, 2))
			produce := func(w http.ResponseWriter, r *http.Request) {
				made++
				// JSON that gzip shrinks about as much as real answers (digits).
				var b strings.Builder
				b.WriteString(`{"v":"`)
				for b.Len() < tt.bodyBytes-2 {
					b.WriteByte(byte('0' + rng.IntN(10)))
				}
				b.WriteString(`"}`)
				w.Header().Set("Content-Type", "application/json; charset=utf-8")
				w.Write([]byte(b.String()))
			}
			for i := range tt.urls {
				key := fmt.Sprintf("/api/v1/probes?limit=%d", i+1)
				rec := httptest.NewRecorder()
				req := httptest.NewRequest("GET", key, nil)
				req.Header.Set("Accept-Encoding", "gzip")
				c.serve(rec, req, key, "v1", true, produce)
				if rec.Code != http.StatusOK {
					t.Fatalf("answer %d: status %d", i, rec.Code)
				}
				total := 0
				for _, e := range c.entries {
					if tt.bodyBytes >= minGzip && e.gz == nil {
						t.Fatalf("answer of %d bytes kept without its gzipped form", len(e.body))
					}
					total += len(e.body) + len(e.gz)
				}
				if len(c.entries) > tt.items || total > tt.bytes || len(c.order) != len(c.entries) {
					t.Fatalf("after %d answers: %d kept (%d in order), %d bytes; want at most %d and %d bytes",
						i+1, len(c.entries), len(c.order), total, tt.items, tt.bytes)
				}
			}
			if len(c.entries) < tt.minKept {
				t.Errorf("kept %d answers, want at least %d", len(c.entries), tt.minKept)
			}
			if made != tt.urls {
				t.Errorf("made %d answers for %d URLs", made, tt.urls)
			}
			if tt.bodyBytes > tt.bytes/4 && len(c.entries) != 0 {
				t.Errorf("kept %d answers larger than a quarter of the budget", len(c.entries))
			}
		})
	}
}

// TestAnswerCacheKeepsOnlyGoodAnswers: an error answer is given to the reader (and to
// those who waited for it) and made again for the next.
func TestAnswerCacheKeepsOnlyGoodAnswers(t *testing.T) {
	c := newAnswerCache(0, time.Minute, 256, 32<<20)
	made := 0
	produce := func(w http.ResponseWriter, r *http.Request) {
		made++
		w.WriteHeader(http.StatusTooManyRequests)
	}
	for range 3 {
		rec := httptest.NewRecorder()
		c.serve(rec, httptest.NewRequest("GET", "/x", nil), "/x", "v1", true, produce)
		if rec.Code != http.StatusTooManyRequests {
			t.Fatalf("status %d, want 429", rec.Code)
		}
	}
	if made != 3 || len(c.entries) != 0 {
		t.Errorf("made %d times for 3 readers, %d kept; want 3 and none", made, len(c.entries))
	}
}
