package redisstate_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/g-oc/goc/internal/redistest"
	"github.com/g-oc/goc/internal/store"
	"github.com/g-oc/goc/internal/store/redisstate"
	"github.com/g-oc/goc/internal/store/storetest"
)

// open connects a new State, as a new replica would, to the test's redis-server.
func open(t *testing.T, rs *redistest.Server, password string) *redisstate.State {
	t.Helper()
	s, err := redisstate.Open(context.Background(), redisstate.Options{Addr: rs.Addr, Password: password})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestSessionsInRedisPassTheConformanceSuite(t *testing.T) {
	storetest.RunSessions(t, func(t *testing.T) store.Sessions {
		return open(t, redistest.Start(t, ""), "")
	})
}

func TestReminderLogInRedisPassesTheConformanceSuite(t *testing.T) {
	storetest.RunReminderLog(t, func(t *testing.T) (store.ReminderLog, func() store.ReminderLog) {
		rs := redistest.Start(t, "")
		s := open(t, rs, "")
		// A restart of G-OC is a new connection; the claims are in Redis.
		return s, func() store.ReminderLog { s.Close(); return open(t, rs, "") }
	})
}

func TestASessionSavedThroughOneReplicaReadsBackThroughAnother(t *testing.T) {
	rs := redistest.Start(t, "")
	a, b := open(t, rs, ""), open(t, rs, "")
	ctx := context.Background()
	if err := a.SaveSession(ctx, store.Session{IDHash: "cafe", Name: "demo-P20", Agency: "P20", Role: "officer"}); err != nil {
		t.Fatal(err)
	}
	if got, ok, err := b.Session(ctx, "cafe"); err != nil || !ok || got.Agency != "P20" {
		t.Fatalf("replica B reads %+v %v %v", got, ok, err)
	}
}

func TestIdempotencyKeysKeepTheFirstAnswerAcrossReplicas(t *testing.T) {
	rs := redistest.Start(t, "")
	a, b := open(t, rs, ""), open(t, rs, "")
	ctx := context.Background()
	if _, _, _, found, err := a.IdempotentResponse(ctx, "tok", "k1"); err != nil || found {
		t.Fatalf("unknown key: found %v, err %v", found, err)
	}
	fp, status, body, err := a.SaveIdempotentResponse(ctx, "tok", "k1", "fp1", 201, []byte(`{"a":1}`))
	if err != nil || fp != "fp1" || status != 201 || string(body) != `{"a":1}` {
		t.Fatalf("first save kept %q %d %s, %v", fp, status, body, err)
	}
	fp, _, body, err = b.SaveIdempotentResponse(ctx, "tok", "k1", "fp2", 200, []byte(`{"a":2}`))
	if err != nil || fp != "fp1" || string(body) != `{"a":1}` {
		t.Fatalf("second save on another replica kept %q %s, %v; want the first", fp, body, err)
	}
	if fp, st, _, found, _ := b.IdempotentResponse(ctx, "tok", "k1"); !found || fp != "fp1" || st != 201 {
		t.Errorf("replica B reads %q %d %v", fp, st, found)
	}
	for _, other := range [][2]string{{"other-token", "k1"}, {"to", "kk1"}, {"tok:k1", ""}} {
		if _, _, _, found, _ := a.IdempotentResponse(ctx, other[0], other[1]); found {
			t.Errorf("scope %q key %q finds tok/k1's answer", other[0], other[1])
		}
	}
	// Ten replicas racing on one new key: exactly one answer is kept, the same for all.
	var wg sync.WaitGroup
	kept := make([]string, 10)
	for i := range kept {
		s := open(t, rs, "")
		wg.Go(func() {
			fp, _, _, err := s.SaveIdempotentResponse(ctx, "tok", "race", fmt.Sprint("fp", i), 201, nil)
			if err != nil {
				t.Error(err)
			}
			kept[i] = fp
		})
	}
	wg.Wait()
	for _, fp := range kept {
		if fp != kept[0] {
			t.Fatalf("racing saves kept different answers: %v", kept)
		}
	}
}

func TestRedisWithAPasswordRefusesAWrongOneAndNamesTheServer(t *testing.T) {
	rs := redistest.Start(t, "s3cret-pass")
	if _, err := redisstate.Open(context.Background(), redisstate.Options{Addr: rs.Addr, Password: "wrong"}); err == nil || !strings.Contains(err.Error(), rs.Addr) {
		t.Fatalf("wrong password: err = %v, want one naming %s", err, rs.Addr)
	}
	s := open(t, rs, "s3cret-pass")
	if ok, err := s.ClaimReminder(context.Background(), "x", time.Now()); err != nil || !ok {
		t.Fatalf("claim with the right password: %v %v", ok, err)
	}
}
