// Package secret provides a string type for credentials (API tokens, passwords) that
// prints as [REDACTED] everywhere, so a token cannot end up in a log or a dump. It is
// a leaf: the config reader fills it and a store backend reveals it, and neither has
// to import the other for that.
package secret

import (
	"fmt"
	"log/slog"
)

// redacted is what a Secret shows instead of its value.
const redacted = "[REDACTED]"

// Secret is a string, such as an API token, that must not end up in logs or dumps. It
// prints as [REDACTED] through fmt (every verb), JSON, YAML and slog; only Reveal gives
// the value. It is a struct, not a named string, so that string(s) does not compile.
type Secret struct {
	value string
}

// New wraps a value.
func New(value string) Secret { return Secret{value: value} }

// Reveal returns the value, for the one place that must send it.
func (s Secret) Reveal() string { return s.value }

// IsZero reports whether the secret is empty.
func (s Secret) IsZero() bool { return s.value == "" }

// String returns [REDACTED].
func (s Secret) String() string { return redacted }

// GoString returns [REDACTED], for %#v.
func (s Secret) GoString() string { return redacted }

// Format prints [REDACTED] for every verb, so %x or %q cannot leak the value either.
func (s Secret) Format(f fmt.State, verb rune) {
	if verb == 'q' {
		fmt.Fprintf(f, "%q", redacted)
		return
	}
	_, _ = f.Write([]byte(redacted))
}

// MarshalJSON writes "[REDACTED]".
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }

// MarshalYAML writes [REDACTED].
func (s Secret) MarshalYAML() (any, error) { return redacted, nil }

// LogValue makes slog print [REDACTED].
func (s Secret) LogValue() slog.Value { return slog.StringValue(redacted) }
