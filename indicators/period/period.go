// Package period models the reporting periods G-OC works with: years, half-years,
// quarters and months. It parses both the forms Vietnamese agencies write
// (2025-09, 2025-Q3, 2025-H1) and the DHIS2 forms (202509, 2025Q3, 2025S1), and always
// prints one canonical form so that stored keys compare equal.
package period

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Kind is the length of a period.
type Kind uint8

// Period kinds, from the longest to the shortest.
const (
	Year Kind = iota + 1
	Half
	Quarter
	Month
)

// ParseKind reads a periodicity name as used in catalogue files.
func ParseKind(s string) (Kind, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "yearly", "year", "annual":
		return Year, nil
	case "half-yearly", "halfyearly", "half", "semiannual":
		return Half, nil
	case "quarterly", "quarter":
		return Quarter, nil
	case "monthly", "month":
		return Month, nil
	}
	return 0, fmt.Errorf("unknown periodicity %q (want yearly, half-yearly, quarterly or monthly)", s)
}

// String gives the periodicity name used in files and the API.
func (k Kind) String() string {
	switch k {
	case Year:
		return "yearly"
	case Half:
		return "half-yearly"
	case Quarter:
		return "quarterly"
	case Month:
		return "monthly"
	}
	return "unknown"
}

// noun names one period of this kind in error messages ("month 13 is outside 1-12").
func (k Kind) noun() string {
	switch k {
	case Year:
		return "year"
	case Half:
		return "half-year"
	case Quarter:
		return "quarter"
	case Month:
		return "month"
	}
	return "period"
}

// PerYear is how many periods of this kind make a year.
func (k Kind) PerYear() int {
	switch k {
	case Year:
		return 1
	case Half:
		return 2
	case Quarter:
		return 4
	case Month:
		return 12
	}
	return 0
}

// MinYear and MaxYear bound the years G-OC accepts; anything outside is a typo.
const (
	MinYear = 1990
	MaxYear = 2100
)

// Period is one reporting period. The zero value is not a valid period.
type Period struct {
	Kind  Kind
	Year  int
	Index int // 1 for a year; 1-2 half; 1-4 quarter; 1-12 month
}

// New builds a period and checks its fields.
func New(k Kind, year, index int) (Period, error) {
	p := Period{Kind: k, Year: year, Index: index}
	if k.PerYear() == 0 {
		return Period{}, fmt.Errorf("period kind %d is not known", k)
	}
	if year < MinYear || year > MaxYear {
		return Period{}, fmt.Errorf("year %d is outside %d-%d", year, MinYear, MaxYear)
	}
	if index < 1 || index > k.PerYear() {
		return Period{}, fmt.Errorf("%s %d is outside 1-%d", k.noun(), index, k.PerYear())
	}
	return p, nil
}

// Of returns the period of kind k that contains t (in t's location).
func Of(k Kind, t time.Time) Period {
	m := int(t.Month())
	switch k {
	case Half:
		return Period{Half, t.Year(), (m-1)/6 + 1}
	case Quarter:
		return Period{Quarter, t.Year(), (m-1)/3 + 1}
	case Month:
		return Period{Month, t.Year(), m}
	}
	return Period{Year, t.Year(), 1}
}

// MustParse is Parse for literals in code and tests.
func MustParse(s string) Period {
	p, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return p
}

// Parse reads a period in any accepted form:
// 2025, 2025-H1, 2025H1, 2025S1, 2025-Q3, 2025Q3, 2025-09, 202509.
func Parse(s string) (Period, error) {
	trimmed := strings.TrimSpace(s)
	if trimmed == "" {
		return Period{}, fmt.Errorf("period is empty: want YYYY, YYYY-Hn, YYYY-Qn or YYYY-MM (DHIS2 YYYYSn, YYYYQn, YYYYMM also accepted)")
	}
	// Only ASCII letters are folded: strings.ToUpper would turn the long s "ſ" into "S"
	// and let "2025ſ1" through as a half-year.
	in := asciiUpper(trimmed)
	if len(in) < 4 {
		return Period{}, fmt.Errorf("period %q: want YYYY, YYYY-Hn, YYYY-Qn or YYYY-MM (DHIS2 YYYYSn, YYYYQn, YYYYMM also accepted)", s)
	}
	year, err := strconv.Atoi(in[:4])
	if err != nil || !isDigits(in[:4]) {
		return Period{}, fmt.Errorf("period %q: year must be four digits", s)
	}
	rest := strings.TrimPrefix(in[4:], "-")
	var p Period
	switch {
	case rest == "":
		if len(in) != 4 {
			return Period{}, fmt.Errorf("period %q: trailing dash", s)
		}
		p = Period{Year, year, 1}
	case rest[0] == 'H' || rest[0] == 'S':
		p, err = indexed(s, Half, year, rest[1:])
	case rest[0] == 'Q':
		p, err = indexed(s, Quarter, year, rest[1:])
	case isDigits(rest) && len(rest) == 2:
		p, err = indexed(s, Month, year, rest)
	default:
		err = fmt.Errorf("period %q: want YYYY, YYYY-Hn, YYYY-Qn or YYYY-MM (DHIS2 YYYYSn, YYYYQn, YYYYMM also accepted)", s)
	}
	if err != nil {
		return Period{}, err
	}
	if _, err := New(p.Kind, p.Year, p.Index); err != nil {
		return Period{}, fmt.Errorf("period %q: %w", s, err)
	}
	return p, nil
}

func indexed(orig string, k Kind, year int, digits string) (Period, error) {
	// Months take two digits (2025-09); halves and quarters one (2025-H1, 2025Q3), as in
	// both grammars. "2025-Q03" is more likely a mistyped month than a quarter.
	want, words := 1, "one digit"
	if k == Month {
		want, words = 2, "two digits"
	}
	if len(digits) != want || !isDigits(digits) {
		return Period{}, fmt.Errorf("period %q: the %s number must be %s", orig, k.noun(), words)
	}
	n, _ := strconv.Atoi(digits)
	return Period{k, year, n}, nil
}

// asciiUpper upper-cases ASCII letters only and leaves every other byte alone, so a
// non-ASCII rune can never turn into one of the markers H, S or Q.
func asciiUpper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

// String is the canonical form: 2025, 2025-H1, 2025-Q3 or 2025-09.
func (p Period) String() string {
	switch p.Kind {
	case Year:
		return strconv.Itoa(p.Year)
	case Half:
		return fmt.Sprintf("%d-H%d", p.Year, p.Index)
	case Quarter:
		return fmt.Sprintf("%d-Q%d", p.Year, p.Index)
	case Month:
		return fmt.Sprintf("%d-%02d", p.Year, p.Index)
	}
	return ""
}

// IsZero reports whether p is the zero value.
func (p Period) IsZero() bool { return p == Period{} }

// MarshalText writes the canonical form, so periods read well in JSON.
func (p Period) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// UnmarshalText accepts any form Parse accepts.
func (p *Period) UnmarshalText(b []byte) error {
	q, err := Parse(string(b))
	if err != nil {
		return err
	}
	*p = q
	return nil
}

func (p Period) monthsLong() int { return 12 / p.Kind.PerYear() }

// Start is the first instant of the period, in loc (UTC if nil).
func (p Period) Start(loc *time.Location) time.Time {
	if loc == nil {
		loc = time.UTC
	}
	return time.Date(p.Year, time.Month((p.Index-1)*p.monthsLong()+1), 1, 0, 0, 0, 0, loc)
}

// End is the first instant after the period, in loc (UTC if nil).
func (p Period) End(loc *time.Location) time.Time {
	return p.Start(loc).AddDate(0, p.monthsLong(), 0)
}

// Add moves n periods of the same kind forward (or back when n < 0).
func (p Period) Add(n int) Period {
	per := p.Kind.PerYear()
	i := p.Year*per + (p.Index - 1) + n
	return Period{p.Kind, floorDiv(i, per), floorMod(i, per) + 1}
}

// Next is the following period of the same kind.
func (p Period) Next() Period { return p.Add(1) }

// Prev is the preceding period of the same kind.
func (p Period) Prev() Period { return p.Add(-1) }

// Sub counts the periods from q to p; both must be of the same kind.
func (p Period) Sub(q Period) int {
	per := p.Kind.PerYear()
	return (p.Year*per + p.Index) - (q.Year*per + q.Index)
}

// Compare orders periods by start, then longer periods first: -1, 0 or +1.
func (p Period) Compare(q Period) int {
	ps, qs := p.Start(nil), q.Start(nil)
	switch {
	case ps.Before(qs):
		return -1
	case ps.After(qs):
		return 1
	case p.Kind < q.Kind:
		return -1
	case p.Kind > q.Kind:
		return 1
	}
	return 0
}

// Contains reports whether q lies wholly inside p.
func (p Period) Contains(q Period) bool {
	return !q.Start(nil).Before(p.Start(nil)) && !q.End(nil).After(p.End(nil))
}

// Within converts p to the enclosing period of kind k (k must not be shorter than p).
func (p Period) Within(k Kind) Period { return Of(k, p.Start(nil)) }

// Split lists the sub-periods of kind k that make up p, in order; nil when k is longer
// than p.
func (p Period) Split(k Kind) []Period {
	if k < p.Kind {
		return nil
	}
	first := Of(k, p.Start(nil))
	n := k.PerYear() / p.Kind.PerYear()
	out := make([]Period, n)
	for i := range out {
		out[i] = first.Add(i)
	}
	return out
}

// YearFraction places the period's end on a continuous year axis (2025-H1 is 2025.5,
// 2025 is 2026.0), which is what growth rates between periods of different length need.
func (p Period) YearFraction() float64 {
	return float64(p.Year) + float64(p.Index)/float64(p.Kind.PerYear())
}

// Ended reports whether the period is over at t.
func (p Period) Ended(t time.Time) bool { return !t.Before(p.End(t.Location())) }

func floorDiv(a, b int) int {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func floorMod(a, b int) int { return a - floorDiv(a, b)*b }

// MarshalText writes the periodicity name.
func (k Kind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText reads a periodicity name.
func (k *Kind) UnmarshalText(b []byte) error {
	v, err := ParseKind(string(b))
	if err != nil {
		return err
	}
	*k = v
	return nil
}
