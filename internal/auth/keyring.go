package auth

import (
	"errors"
	"fmt"
	"sync/atomic"
	"time"
)

// ErrExpired means the token was configured with an expiry that has passed.
var ErrExpired = errors.New("mã truy cập đã hết hạn (token expired)")

// ErrRetired means the token's agency no longer exists (the 2025 merger) and the
// configuration does not keep the token on purpose.
var ErrRetired = errors.New("đơn vị của mã truy cập không còn tồn tại sau sáp nhập (the token's agency no longer exists after the merger)")

// Keyring is the set of tokens a server checks against, replaceable while it runs: a
// reload of the configuration (SIGHUP, or the file changing) swaps in a new set, so a
// removed token stops working without a restart. It also refuses tokens past their
// expiry and tokens of agencies that no longer exist, unless kept on purpose.
// Safe for concurrent use.
type Keyring struct {
	cur    atomic.Pointer[Tokens]
	now    func() time.Time
	exists func(agency string, at time.Time) bool
}

// NewKeyring starts a keyring on t. now is the clock (time.Now when nil); exists
// reports whether an agency exists at a time (every agency when nil).
func NewKeyring(t *Tokens, now func() time.Time, exists func(agency string, at time.Time) bool) *Keyring {
	if now == nil {
		now = time.Now
	}
	k := &Keyring{now: now, exists: exists}
	k.cur.Store(t)
	return k
}

// Replace swaps in a new set of tokens: requests from then on are checked against it.
func (k *Keyring) Replace(t *Tokens) { k.cur.Store(t) }

// Tokens is the set in force.
func (k *Keyring) Tokens() *Tokens { return k.cur.Load() }

// Authenticate checks an Authorization header ("Bearer <token>").
func (k *Keyring) Authenticate(header string) (Principal, error) {
	tok, err := TokenOf(header)
	if err != nil {
		return Principal{}, err
	}
	return k.Check(tok)
}

// Check checks a raw token (the sign-in form gives one): configured, not expired, and
// its agency still exists or the token is kept on purpose.
func (k *Keyring) Check(token string) (Principal, error) {
	e, err := k.cur.Load().find(token)
	if err != nil {
		return Principal{}, err
	}
	now := k.now()
	if !e.expires.IsZero() && !now.Before(e.expires) {
		return Principal{}, fmt.Errorf("%w: %s", ErrExpired, e.expires.UTC().Format(time.RFC3339))
	}
	if k.exists != nil && !e.keep && !k.exists(e.p.Agency, now) {
		return Principal{}, fmt.Errorf("%w: %s", ErrRetired, e.p.Agency)
	}
	return e.p, nil
}

// Valid reports whether a principal obtained earlier is still what its token says: the
// token still configured with the same agency and role, unexpired and not retired.
// Sessions use it on every request, so that revoking a token ends its sessions too.
func (k *Keyring) Valid(p Principal) error {
	t := k.cur.Load()
	if t == nil {
		return ErrBadToken
	}
	e, ok := t.byName[p.Name]
	if !ok || e.p != p {
		return ErrBadToken
	}
	now := k.now()
	if !e.expires.IsZero() && !now.Before(e.expires) {
		return ErrExpired
	}
	if k.exists != nil && !e.keep && !k.exists(e.p.Agency, now) {
		return ErrRetired
	}
	return nil
}

// Len is the number of tokens in force.
func (k *Keyring) Len() int { return k.cur.Load().Len() }
