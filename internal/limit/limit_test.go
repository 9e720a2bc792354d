package limit_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/g-oc/goc/internal/limit"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestBurstThenRefusedWithRetryAfterThenAllowedAgain(t *testing.T) {
	c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	lim := limit.New(limit.Options{Every: 2 * time.Second, Burst: 3, Now: c.now})
	for i := range 3 {
		if ok, _ := lim.Allow("10.0.0.1"); !ok {
			t.Fatalf("event %d of the burst refused", i+1)
		}
	}
	ok, wait := lim.Allow("10.0.0.1")
	if ok || wait != 2*time.Second {
		t.Fatalf("4th event: ok=%v retry after %v, want refused for 2s", ok, wait)
	}
	if ok, _ := lim.Allow("10.0.0.2"); !ok {
		t.Fatal("another client was refused: buckets must be per key")
	}
	c.add(2 * time.Second)
	if ok, _ := lim.Allow("10.0.0.1"); !ok {
		t.Fatal("refused after waiting the Retry-After")
	}
}

func TestTableStaysBoundedUnderManyClients(t *testing.T) {
	c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	lim := limit.New(limit.Options{Every: time.Second, Burst: 1, MaxKeys: 100, Now: c.now})
	for i := range 10_000 {
		lim.Allow(fmt.Sprintf("client-%d", i))
	}
	if n := lim.Len(); n > 100 {
		t.Fatalf("table holds %d keys, want at most 100", n)
	}
	// The most recent client keeps its bucket.
	if ok, _ := lim.Allow("client-9999"); ok {
		t.Error("the latest client's empty bucket was forgotten")
	}
}

func TestClientAddrGroupsIPv6By64AndDropsThePort(t *testing.T) {
	for addr, want := range map[string]string{
		"127.0.0.1:5555":           "127.0.0.1",
		"[::1]:80":                 "::/64",
		"[2001:db8:1:2:3::4]:443":  "2001:db8:1:2::/64",
		"[2001:db8:1:2:ffff::9]:1": "2001:db8:1:2::/64",
		"[::ffff:192.0.2.7]:8080":  "192.0.2.7",
	} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr = addr
		if got := limit.ClientAddr(r); got != want {
			t.Errorf("ClientAddr(%s) = %s, want %s", addr, got, want)
		}
	}
}

func TestTooManyAnswers429WithRetryAfterInWholeSeconds(t *testing.T) {
	rec := httptest.NewRecorder()
	limit.TooMany(rec, 1500*time.Millisecond)
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") != "2" {
		t.Fatalf("got %d Retry-After %q, want 429 and 2", rec.Code, rec.Header().Get("Retry-After"))
	}
	var body map[string]string
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || !strings.Contains(body["error"], "too many requests") {
		t.Fatalf("body %q: %v", rec.Body, err)
	}
}

func TestBlockedPeeksWithoutTaking(t *testing.T) {
	c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	lim := limit.New(limit.Options{Every: time.Minute, Burst: 2, Now: c.now})
	if b, _ := lim.Blocked("a"); b {
		t.Fatal("an unknown key is blocked")
	}
	lim.Allow("a")
	if b, _ := lim.Blocked("a"); b {
		t.Fatal("blocked with one event left")
	}
	lim.Allow("a")
	b, wait := lim.Blocked("a")
	if !b || wait != time.Minute {
		t.Fatalf("after the burst: blocked %v for %v, want blocked for 1m", b, wait)
	}
	c.add(time.Minute)
	if b, _ := lim.Blocked("a"); b {
		t.Fatal("still blocked after the refill")
	}
}
