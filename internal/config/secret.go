package config

import (
	"fmt"
	"log/slog"
	"os"
	"strings"

	"go.yaml.in/yaml/v3"
)

// redacted is what a Secret shows instead of its value.
const redacted = "[REDACTED]"

// Secret is a string, such as an API token, that must not end up in logs or dumps. It
// prints as [REDACTED] through fmt (every verb), JSON, YAML and slog; only Reveal gives
// the value. It is a struct, not a named string, so that string(s) does not compile.
type Secret struct {
	value string
}

// NewSecret wraps a value.
func NewSecret(value string) Secret { return Secret{value: value} }

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

// secret reads a credential: a plain value (which may be "${VAR}", expanded like the
// rest of the file), or a mapping {env: NAME} that takes it from the environment
// variable NAME, or {file: PATH} that takes it from a file (trailing newlines dropped;
// a relative path is taken from the config file's folder), as container secrets are
// mounted. A named variable or file that is missing or empty is a mistake.
func (d *decoder) secret(dst *Secret) func(*yaml.Node, string) {
	return func(v *yaml.Node, path string) {
		v = resolve(v)
		if isNull(v) {
			return
		}
		if v.Kind != yaml.MappingNode {
			d.text(&dst.value)(v, path)
			return
		}
		var env, file string
		d.mapping(v, path, fields{"env": d.text(&env), "file": d.file(&file)})
		switch {
		case env != "" && file != "":
			d.add(v.Line, path, "give env or file, not both")
		case env != "":
			val, ok := os.LookupEnv(env)
			if !ok || val == "" {
				d.add(v.Line, path+".env", "environment variable %s is not set", env)
				return
			}
			*dst = NewSecret(val)
		case file != "":
			data, err := os.ReadFile(file)
			if err != nil {
				d.add(v.Line, path+".file", "cannot read the secret: %v", err)
				return
			}
			val := strings.TrimRight(string(data), "\r\n")
			if val == "" {
				d.add(v.Line, path+".file", "%s is empty", file)
				return
			}
			*dst = NewSecret(val)
		default:
			d.add(v.Line, path, "give env: NAME or file: PATH")
		}
	}
}
