// Package auth checks the bearer tokens that reporting units use to submit data.
//
// A token is a random 256-bit secret shown once to its owner. G-OC keeps only its
// SHA-256, never the token itself, so a leaked configuration file or log cannot be
// replayed against the API.
package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Prefix starts every token G-OC issues, so secret scanners and people can tell a G-OC
// token from other strings.
const Prefix = "goc_"

// tokenBytes is the entropy of a token: 256 bits, enough that its hash can be used as a
// lookup key without helping an attacker guess.
const tokenBytes = 32

// ErrNoToken means the request carried no bearer token: no Authorization header, another
// scheme such as Basic, or an empty token.
var ErrNoToken = errors.New("thiếu mã truy cập Bearer (missing bearer token)")

// ErrBadToken means the request carried a bearer token that is not configured.
var ErrBadToken = errors.New("mã truy cập không hợp lệ (invalid token)")

// NewToken makes a fresh token: Prefix followed by 32 random bytes in unpadded
// base64url. Show it once to its owner and store only Hash(token).
func NewToken() (string, error) {
	b := make([]byte, tokenBytes)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("new token: %w", err)
	}
	return Prefix + base64.RawURLEncoding.EncodeToString(b), nil
}

// Hash is the lowercase hex SHA-256 of a token: what the configuration stores.
func Hash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// Roles a principal can have.
const (
	// Officer submits for its agency's subtree and sees its figures before approval.
	Officer = "officer"
	// Reviewer approves or returns the submissions of its agency's subtree.
	Reviewer = "reviewer"
	// Operator sees the workflow's state and changes nothing.
	Operator = "operator"
)

// Principal is who a token speaks for: the token's name, the agency whose subtree it
// acts for, and its role (Officer when empty).
type Principal struct {
	Name   string
	Agency string
	Role   string
}

// Is reports whether p has role r; an empty role is Officer.
func (p Principal) Is(r string) bool {
	if p.Role == "" {
		return r == Officer
	}
	return p.Role == r
}

// Entry is one configured token: its name, its agency, its role and the SHA-256 of its
// value, with when it stops working.
type Entry struct {
	Name   string
	Agency string
	SHA256 string
	Role   string
	// Expires, when not zero, is when the token stops working (see Keyring).
	Expires time.Time
	// KeepAfterMerger keeps the token working after its agency ceased to exist.
	KeepAfterMerger bool
}

// Tokens is an immutable set of configured tokens, safe for concurrent use.
type Tokens struct {
	byHash map[[sha256.Size]byte]entry
	byName map[string]entry
}

// entry is a configured token as kept in memory: its hash and who it speaks for.
type entry struct {
	sum     [sha256.Size]byte
	p       Principal
	expires time.Time
	keep    bool
}

// NewTokens checks the entries and indexes them by hash. Every problem is reported:
// empty names or agencies, hashes that are not 64 lowercase hex characters, and
// repeated names or hashes.
func NewTokens(entries []Entry) (*Tokens, error) {
	t := &Tokens{byHash: make(map[[sha256.Size]byte]entry, len(entries)), byName: make(map[string]entry, len(entries))}
	names := make(map[string]int, len(entries))
	hashes := make(map[[sha256.Size]byte]int, len(entries))
	var errs []error
	for i, e := range entries {
		if e.Name == "" {
			errs = append(errs, fmt.Errorf("token %d: name is empty", i))
		} else if j, dup := names[e.Name]; dup {
			errs = append(errs, fmt.Errorf("token %d: name %q already used by token %d", i, e.Name, j))
		} else {
			names[e.Name] = i
		}
		if e.Agency == "" {
			errs = append(errs, fmt.Errorf("token %d (%s): agency is empty", i, e.Name))
		}
		sum, ok := parseHash(e.SHA256)
		if !ok {
			errs = append(errs, fmt.Errorf("token %d (%s): sha256 must be 64 lowercase hex characters", i, e.Name))
			continue
		}
		if j, dup := hashes[sum]; dup {
			errs = append(errs, fmt.Errorf("token %d (%s): sha256 already used by token %d", i, e.Name, j))
			continue
		}
		hashes[sum] = i
		switch e.Role {
		case "", Officer, Reviewer, Operator:
		default:
			errs = append(errs, fmt.Errorf("token %d (%s): role %q is not officer, reviewer or operator", i, e.Name, e.Role))
		}
		t.byHash[sum] = entry{sum: sum, p: Principal{Name: e.Name, Agency: e.Agency, Role: e.Role}, expires: e.Expires, keep: e.KeepAfterMerger}
		t.byName[e.Name] = t.byHash[sum]
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("tokens: %w", errors.Join(errs...))
	}
	return t, nil
}

// parseHash decodes 64 lowercase hex characters. Uppercase is refused so that one hash
// has one spelling, which keeps the uniqueness check honest.
func parseHash(s string) ([sha256.Size]byte, bool) {
	var sum [sha256.Size]byte
	if len(s) != 2*sha256.Size || strings.ToLower(s) != s {
		return sum, false
	}
	if _, err := hex.Decode(sum[:], []byte(s)); err != nil {
		return sum, false
	}
	return sum, true
}

// Authenticate checks the raw value of an Authorization header: "Bearer <token>". The
// scheme is matched without regard to case (RFC 9110 section 11.1) and spaces or tabs
// around the scheme and the token are ignored. It returns ErrNoToken when there is no
// bearer token and ErrBadToken when the token is not configured. A nil *Tokens knows no
// tokens.
//
// Tokens alone knows nothing of time or of the registry: expiry and retired agencies
// are checked by Keyring, which is what servers use.
func (t *Tokens) Authenticate(header string) (Principal, error) {
	e, err := t.lookup(header)
	return e.p, err
}

// TokenOf returns the bearer token of an Authorization header, or ErrNoToken.
func TokenOf(header string) (string, error) {
	fields := strings.Fields(header)
	if len(fields) < 2 || !strings.EqualFold(fields[0], "Bearer") {
		return "", ErrNoToken
	}
	if len(fields) > 2 {
		// A token never holds whitespace, so "Bearer a b" cannot match one.
		return "", ErrBadToken
	}
	return fields[1], nil
}

func (t *Tokens) lookup(header string) (entry, error) {
	tok, err := TokenOf(header)
	if err != nil {
		return entry{}, err
	}
	return t.find(tok)
}

func (t *Tokens) find(token string) (entry, error) {
	if t == nil || token == "" {
		return entry{}, ErrBadToken
	}
	sum := sha256.Sum256([]byte(token))
	e, ok := t.byHash[sum]
	// Looking up by hash is safe because tokens carry 256 random bits; comparing the
	// stored hash again in constant time keeps the final decision free of timing that
	// depends on how far the bytes agree.
	if !ok || subtle.ConstantTimeCompare(sum[:], e.sum[:]) != 1 {
		return entry{}, ErrBadToken
	}
	return e, nil
}

// Len is the number of configured tokens.
func (t *Tokens) Len() int {
	if t == nil {
		return 0
	}
	return len(t.byHash)
}

// String names the set by size only, so printing it reveals no hashes.
func (t *Tokens) String() string { return fmt.Sprintf("auth.Tokens(%d)", t.Len()) }

// GoString is String, so %#v reveals no hashes either.
func (t *Tokens) GoString() string { return t.String() }
