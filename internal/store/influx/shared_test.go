package influx

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/g-oc/goc/internal/redistest"
	"github.com/g-oc/goc/internal/store"
	"github.com/g-oc/goc/internal/store/redisstate"
	"github.com/g-oc/goc/internal/store/storetest"
)

// Two replicas: one bucket, a spool each, one Redis. What one keeps in Redis the other
// reads, through the store's own methods.
func TestReplicasShareSessionsAndIdempotencyKeysThroughRedis(t *testing.T) {
	rs := redistest.Start(t, "")
	bucket := server.NewDatabase(t)
	replica := func() *Store {
		sh, err := redisstate.Open(context.Background(), redisstate.Options{Addr: rs.Addr})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { sh.Close() })
		return openOn(t, server, bucket, filepath.Join(t.TempDir(), "spool.db"), func(o *Options) { o.Shared = sh })
	}
	a, b := replica(), replica()
	ctx := context.Background()
	if err := a.SaveSession(ctx, store.Session{IDHash: "beef", Name: "lang-son", Agency: "P20", Role: "officer"}); err != nil {
		t.Fatal(err)
	}
	if got, ok, err := b.Session(ctx, "beef"); err != nil || !ok || got.Name != "lang-son" {
		t.Fatalf("replica b reads the session as %+v %v %v", got, ok, err)
	}
	if _, _, _, err := a.SaveIdempotentResponse(ctx, "lang-son", "k", "fp", 201, []byte(`{"ok":1}`)); err != nil {
		t.Fatal(err)
	}
	if fp, st, body, found, err := b.IdempotentResponse(ctx, "lang-son", "k"); err != nil || !found || fp != "fp" || st != 201 || string(body) != `{"ok":1}` {
		t.Fatalf("replica b reads the key as %q %d %s %v %v", fp, st, body, found, err)
	}
	a.Close()
	if _, _, err := a.Session(ctx, "beef"); err == nil {
		t.Error("a closed store still answers from Redis")
	}
}

// The sessions conformance suite through the InfluxDB store with Redis behind it.
func TestSessionsInRedisThroughTheStorePassTheConformanceSuite(t *testing.T) {
	storetest.RunSessions(t, func(t *testing.T) store.Sessions {
		sh, err := redisstate.Open(context.Background(), redisstate.Options{Addr: redistest.Start(t, "").Addr})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { sh.Close() })
		return openFresh(t, func(o *Options) { o.Shared = sh })
	})
}
