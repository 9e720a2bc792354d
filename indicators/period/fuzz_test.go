package period

import (
	"strings"
	"testing"
)

// FuzzParse checks that Parse never panics and that whatever it accepts prints a
// canonical form that parses back to the same period, with a year G-OC accepts.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"2025", "2025-H1", "2025H2", "2025S1", "2025-Q3", "2025Q4", "2025-09", "202509",
		"2025-h1", " 2025-q2 ", "2025-13", "2025-Q5", "2025-", "20251", "abcd", "", "1899",
		"2025ſ1", "2025-Q03",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := Parse(s)
		if err != nil {
			if !p.IsZero() {
				t.Fatalf("Parse(%q) returned %+v with error %v", s, p, err)
			}
			if !strings.Contains(err.Error(), "period") {
				t.Fatalf("Parse(%q) error %q does not say it is about a period", s, err)
			}
			return
		}
		if _, err := New(p.Kind, p.Year, p.Index); err != nil {
			t.Fatalf("Parse(%q) = %+v, which New rejects: %v", s, p, err)
		}
		canon := p.String()
		q, err := Parse(canon)
		if err != nil {
			t.Fatalf("Parse(%q) = %q, which does not parse back: %v", s, canon, err)
		}
		if q != p {
			t.Fatalf("Parse(%q) = %+v but Parse(%q) = %+v", s, p, canon, q)
		}
		if q.String() != canon {
			t.Fatalf("canonical form %q prints as %q", canon, q.String())
		}
	})
}
