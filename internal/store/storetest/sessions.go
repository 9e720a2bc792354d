package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/g-oc/goc/internal/store"
)

// SessionOpener returns a fresh store that keeps sessions.
type SessionOpener = func(t *testing.T) store.Sessions

// RunSessions checks store.Sessions: a saved session reads back whole, activity moves
// its Seen forward only, sign-out deletes it, and idle sessions are pruned.
func RunSessions(t *testing.T, open SessionOpener) {
	t.Helper()
	t.Run("SessionReadsBackTouchesForwardAndEnds", func(t *testing.T) {
		s := open(t)
		ctx := context.Background()
		at := time.Date(2026, 12, 6, 6, 0, 0, 0, time.UTC)
		in := store.Session{IDHash: "aa11", Name: "demo-P20", Agency: "P20", Role: "officer", Created: at, Seen: at}
		if err := s.SaveSession(ctx, in); err != nil {
			t.Fatal(err)
		}
		got, ok, err := s.Session(ctx, "aa11")
		if err != nil || !ok || got.Name != in.Name || got.Agency != "P20" || got.Role != "officer" || !got.Created.Equal(at) || !got.Seen.Equal(at) {
			t.Fatalf("read back %+v %v %v, want %+v", got, ok, err, in)
		}
		if err := s.TouchSession(ctx, "aa11", at.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		if err := s.TouchSession(ctx, "aa11", at.Add(time.Second)); err != nil {
			t.Fatal(err)
		}
		if got, _, _ := s.Session(ctx, "aa11"); !got.Seen.Equal(at.Add(time.Minute)) {
			t.Errorf("seen = %s, want the later touch %s", got.Seen, at.Add(time.Minute))
		}
		other := store.Session{IDHash: "bb22", Name: "reviewer", Agency: "VN", Role: "reviewer", Created: at, Seen: at}
		if err := s.SaveSession(ctx, other); err != nil {
			t.Fatal(err)
		}
		if n, err := s.DeleteSessionsSeenBefore(ctx, at.Add(30*time.Second)); err != nil || n != 1 {
			t.Errorf("pruned %d (%v), want the one idle session", n, err)
		}
		if _, ok, _ := s.Session(ctx, "bb22"); ok {
			t.Error("the idle session survived pruning")
		}
		if err := s.DeleteSession(ctx, "aa11"); err != nil {
			t.Fatal(err)
		}
		if _, ok, _ := s.Session(ctx, "aa11"); ok {
			t.Error("a signed-out session still reads back")
		}
		if err := s.DeleteSession(ctx, "nothing"); err != nil {
			t.Errorf("deleting an unknown session: %v", err)
		}
	})
}
