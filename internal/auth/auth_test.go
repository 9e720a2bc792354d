package auth

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// newSet issues n fresh tokens for agency P20 and returns the raw tokens with the set
// built from their hashes, as the demo does.
func newSet(t *testing.T, n int) ([]string, *Tokens) {
	t.Helper()
	raw := make([]string, n)
	entries := make([]Entry, n)
	for i := range n {
		tok, err := NewToken()
		if err != nil {
			t.Fatal(err)
		}
		raw[i] = tok
		entries[i] = Entry{Name: fmt.Sprintf("officer-%d", i), Agency: "P20", SHA256: Hash(tok)}
	}
	set, err := NewTokens(entries)
	if err != nil {
		t.Fatal(err)
	}
	return raw, set
}

func TestNewTokenIsPrefixedUnpaddedBase64urlOf32RandomBytes(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		tok, err := NewToken()
		if err != nil {
			t.Fatal(err)
		}
		body, ok := strings.CutPrefix(tok, Prefix)
		if !ok {
			t.Fatalf("token %q lacks prefix %q", tok, Prefix)
		}
		b, err := base64.RawURLEncoding.DecodeString(body)
		if err != nil {
			t.Fatalf("token body is not unpadded base64url: %v", err)
		}
		if len(b) != 32 {
			t.Fatalf("token carries %d bytes, want 32", len(b))
		}
		if seen[tok] {
			t.Fatalf("token %q issued twice", tok)
		}
		seen[tok] = true
	}
}

func TestHashIsLowercaseHexSHA256(t *testing.T) {
	// SHA-256 of "abc" from FIPS 180-2, appendix B.1.
	const want = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
	if got := Hash("abc"); got != want {
		t.Fatalf("Hash(abc) = %s, want %s", got, want)
	}
}

func TestIssuedTokenAuthenticatesAsItsPrincipal(t *testing.T) {
	raw, set := newSet(t, 3)
	for i, tok := range raw {
		p, err := set.Authenticate("Bearer " + tok)
		if err != nil {
			t.Fatalf("token %d: %v", i, err)
		}
		want := Principal{Name: fmt.Sprintf("officer-%d", i), Agency: "P20"}
		if p != want {
			t.Fatalf("token %d authenticated as %+v, want %+v", i, p, want)
		}
	}
}

func TestAuthorizationHeaderForms(t *testing.T) {
	raw, set := newSet(t, 1)
	tok := raw[0]
	other, err := NewToken()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		header string
		want   error
	}{
		{"bearer token accepted", "Bearer " + tok, nil},
		{"lowercase scheme accepted", "bearer " + tok, nil},
		{"uppercase scheme accepted", "BEARER " + tok, nil},
		{"surrounding and repeated whitespace ignored", " \tBearer   " + tok + " \t", nil},
		{"missing header", "", ErrNoToken},
		{"blank header", "   ", ErrNoToken},
		{"scheme without token", "Bearer", ErrNoToken},
		{"scheme with blank token", "Bearer    ", ErrNoToken},
		{"basic auth refused", "Basic " + base64.StdEncoding.EncodeToString([]byte("user:"+tok)), ErrNoToken},
		{"bare token without scheme", tok, ErrNoToken},
		{"scheme glued to token", "Bearer" + tok, ErrNoToken},
		{"unknown token", "Bearer " + other, ErrBadToken},
		{"token with a character changed", "Bearer " + tok[:len(tok)-1] + flip(tok[len(tok)-1]), ErrBadToken},
		{"token followed by junk", "Bearer " + tok + " extra", ErrBadToken},
		{"the hash instead of the token", "Bearer " + Hash(tok), ErrBadToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := set.Authenticate(tt.header)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Authenticate(%q) error = %v, want %v", tt.header, err, tt.want)
			}
			if tt.want == nil && p.Agency != "P20" {
				t.Fatalf("principal %+v, want agency P20", p)
			}
			if tt.want != nil && p != (Principal{}) {
				t.Fatalf("failed authentication returned principal %+v", p)
			}
		})
	}
}

func flip(c byte) string {
	if c == 'A' {
		return "B"
	}
	return "A"
}

func TestEmptyAndNilTokenSetsRejectEveryToken(t *testing.T) {
	tok, err := NewToken()
	if err != nil {
		t.Fatal(err)
	}
	empty, err := NewTokens(nil)
	if err != nil {
		t.Fatal(err)
	}
	var none *Tokens
	for _, set := range []*Tokens{empty, none} {
		if _, err := set.Authenticate("Bearer " + tok); !errors.Is(err, ErrBadToken) {
			t.Fatalf("%v accepted an unconfigured token: err = %v", set, err)
		}
		if _, err := set.Authenticate(""); !errors.Is(err, ErrNoToken) {
			t.Fatalf("%v: missing header gave %v, want ErrNoToken", set, err)
		}
	}
}

func TestNewTokensReportsEveryBadEntry(t *testing.T) {
	good := Hash("goc_one")
	_, err := NewTokens([]Entry{
		{Name: "a", Agency: "P20", SHA256: good},
		{Name: "a", Agency: "P21", SHA256: Hash("goc_two")},       // duplicate name
		{Name: "b", Agency: "", SHA256: Hash("goc_three")},        // empty agency
		{Name: "c", Agency: "P20", SHA256: strings.ToUpper(good)}, // uppercase hex
		{Name: "d", Agency: "P20", SHA256: good[:63]},             // too short
		{Name: "e", Agency: "P20", SHA256: good},                  // duplicate hash
		{Name: "", Agency: "P20", SHA256: Hash("goc_four")},       // empty name
	})
	if err == nil {
		t.Fatal("NewTokens accepted bad entries")
	}
	for _, want := range []string{
		`token 1: name "a" already used by token 0`,
		"token 2 (b): agency is empty",
		"token 3 (c): sha256 must be 64 lowercase hex",
		"token 4 (d): sha256 must be 64 lowercase hex",
		"token 5 (e): sha256 already used by token 0",
		"token 6: name is empty",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

func TestPrintingTokensRevealsNoTokenOrHash(t *testing.T) {
	raw, set := newSet(t, 2)
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		if got := fmt.Sprintf(verb, set); got != "auth.Tokens(2)" {
			t.Errorf("Sprintf(%s, tokens) = %q, want auth.Tokens(2)", verb, got)
		}
		// Even a copy printed field by field holds no raw token: only hashes are kept.
		out := fmt.Sprintf(verb, *set)
		for _, tok := range raw {
			if strings.Contains(out, tok) || strings.Contains(out, strings.TrimPrefix(tok, Prefix)) {
				t.Fatalf("%s printed a raw token: %s", verb, out)
			}
		}
	}
	if got := fmt.Sprint(set); got != "auth.Tokens(2)" {
		t.Fatalf("fmt.Sprint(tokens) = %q, want auth.Tokens(2)", got)
	}
}
