// Package redact hides credentials in URLs before they are shown anywhere: API answers,
// pages, metric labels and logs. A probe or feed URL may carry a password in its user
// info or a key in its query (?api_key=, ?token=, a signed URL's sig=); only the
// collector that sends the request needs them.
package redact

import (
	"net/url"
	"regexp"
	"strings"
)

// Mask replaces a hidden value.
const Mask = "REDACTED"

// secretWords are parts of query parameter names whose values are taken for secrets.
var secretWords = []string{"key", "token", "secret", "password", "passwd", "pwd", "sig", "auth", "credential", "session", "jwt", "otp"}

// SecretParam reports whether a query parameter of this name holds a secret.
func SecretParam(name string) bool {
	n := strings.ToLower(name)
	for _, w := range secretWords {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

// URL returns raw with its user info and the values of secret-looking query parameters
// replaced by Mask. Something that does not parse as a URL is returned masked whole when
// it has an "@" before its host (it may hold a password), as it is otherwise.
func URL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		if i := strings.Index(raw, "@"); i >= 0 {
			if j := strings.Index(raw, "://"); j >= 0 && j < i {
				return raw[:j+3] + Mask + raw[i:]
			}
		}
		return raw
	}
	changed := false
	if u.User != nil {
		u.User = url.User(Mask)
		changed = true
	}
	if u.RawQuery != "" {
		q := u.Query()
		for name, vals := range q {
			if SecretParam(name) {
				for i := range vals {
					vals[i] = Mask
				}
				changed = true
			}
		}
		if changed {
			u.RawQuery = q.Encode()
		}
	}
	if !changed {
		return raw
	}
	return u.String()
}

// urlInText finds URLs inside free text such as an error message from net/http
// (`Get "https://user:pw@host/?token=…": dial tcp …`).
var urlInText = regexp.MustCompile(`[a-zA-Z][a-zA-Z0-9+.-]*://[^\s"'<>]+`)

// Text returns s with every URL in it passed through URL.
func Text(s string) string {
	if !strings.Contains(s, "://") {
		return s
	}
	return urlInText.ReplaceAllStringFunc(s, URL)
}
