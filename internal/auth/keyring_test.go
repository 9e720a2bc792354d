package auth

import (
	"errors"
	"testing"
	"time"
)

func keyringOf(t *testing.T, now *time.Time, exists func(string, time.Time) bool, entries ...Entry) *Keyring {
	t.Helper()
	tokens, err := NewTokens(entries)
	if err != nil {
		t.Fatal(err)
	}
	return NewKeyring(tokens, func() time.Time { return *now }, exists)
}

func TestTokenStopsWorkingAtItsExpiry(t *testing.T) {
	tok, _ := NewToken()
	now := time.Date(2026, 12, 31, 16, 59, 59, 0, time.UTC)
	k := keyringOf(t, &now, nil, Entry{Name: "a", Agency: "P20", SHA256: Hash(tok), Expires: time.Date(2026, 12, 31, 17, 0, 0, 0, time.UTC)})
	if _, err := k.Check(tok); err != nil {
		t.Fatalf("a second before expiry: %v", err)
	}
	now = now.Add(time.Second)
	if _, err := k.Check(tok); !errors.Is(err, ErrExpired) {
		t.Errorf("at expiry: %v, want ErrExpired", err)
	}
	if err := k.Valid(Principal{Name: "a", Agency: "P20"}); !errors.Is(err, ErrExpired) {
		t.Errorf("a session of the expired token: %v, want ErrExpired", err)
	}
}

func TestReplacedTokenSetRevokesARemovedTokenAndItsSessions(t *testing.T) {
	a, _ := NewToken()
	b, _ := NewToken()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	k := keyringOf(t, &now, nil, Entry{Name: "a", Agency: "P20", SHA256: Hash(a)}, Entry{Name: "b", Agency: "VN", SHA256: Hash(b), Role: Reviewer})
	p, err := k.Authenticate("Bearer " + a)
	if err != nil || p != (Principal{Name: "a", Agency: "P20"}) {
		t.Fatalf("before revocation: %+v, %v", p, err)
	}
	next, err := NewTokens([]Entry{{Name: "b", Agency: "VN", SHA256: Hash(b), Role: Reviewer}})
	if err != nil {
		t.Fatal(err)
	}
	k.Replace(next)
	if _, err := k.Authenticate("Bearer " + a); !errors.Is(err, ErrBadToken) {
		t.Errorf("revoked token: %v, want ErrBadToken", err)
	}
	if err := k.Valid(p); !errors.Is(err, ErrBadToken) {
		t.Errorf("session of a revoked token: %v, want ErrBadToken", err)
	}
	if p, err := k.Check(b); err != nil || !p.Is(Reviewer) {
		t.Errorf("kept token: %+v, %v; want the reviewer", p, err)
	}
}

func TestTokenOfAMergedAwayAgencyStopsWorkingUnlessKept(t *testing.T) {
	gone, _ := NewToken()
	kept, _ := NewToken()
	now := time.Date(2025, 8, 1, 0, 0, 0, 0, time.UTC)
	exists := func(agency string, at time.Time) bool {
		return agency != "P09" || at.Before(time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC))
	}
	k := keyringOf(t, &now, exists, Entry{Name: "gone", Agency: "P09", SHA256: Hash(gone)},
		Entry{Name: "kept", Agency: "P09", SHA256: Hash(kept), KeepAfterMerger: true})
	if _, err := k.Check(gone); !errors.Is(err, ErrRetired) {
		t.Errorf("token of a merged province: %v, want ErrRetired", err)
	}
	if _, err := k.Check(kept); err != nil {
		t.Errorf("token kept on purpose: %v", err)
	}
}
