package period

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseAcceptsEveryWrittenFormAndPrintsOneCanonicalForm(t *testing.T) {
	tests := []struct {
		in   string
		want string
		kind Kind
	}{
		{"2025", "2025", Year},
		{"2025-H1", "2025-H1", Half},
		{"2025H2", "2025-H2", Half},
		{"2025S1", "2025-H1", Half},  // DHIS2 six-monthly
		{"2025-S2", "2025-H2", Half}, // DHIS2 letter with our dash
		{"2025-Q3", "2025-Q3", Quarter},
		{"2025Q4", "2025-Q4", Quarter}, // DHIS2 quarterly
		{"2025-09", "2025-09", Month},
		{"202509", "2025-09", Month}, // DHIS2 monthly
		{"2025-12", "2025-12", Month},
		{"2025-h1", "2025-H1", Half}, // lowercase as typed in spreadsheets
		{"2025s2", "2025-H2", Half},
		{"2025q1", "2025-Q1", Quarter},
		{"  2025-Q2\t", "2025-Q2", Quarter}, // spaces around, as pasted from Excel
		{" 202601 ", "2026-01", Month},
		{"\n2024\n", "2024", Year},
		{"1990", "1990", Year}, // MinYear is accepted
		{"2100-12", "2100-12", Month},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			p, err := Parse(tt.in)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.in, err)
			}
			if got := p.String(); got != tt.want {
				t.Errorf("Parse(%q).String() = %q, want %q", tt.in, got, tt.want)
			}
			if p.Kind != tt.kind {
				t.Errorf("Parse(%q).Kind = %v, want %v", tt.in, p.Kind, tt.kind)
			}
		})
	}
}

func TestParseRejectsMalformedPeriodsWithAReason(t *testing.T) {
	tests := []struct {
		in       string
		mentions []string // every one must appear in the error
	}{
		{"2025-13", []string{`"2025-13"`, "month 13 is outside 1-12"}},
		{"202500", []string{"month 0 is outside 1-12"}},
		{"2025-Q5", []string{`"2025-Q5"`, "quarter 5 is outside 1-4"}},
		{"2025-Q0", []string{"quarter 0 is outside 1-4"}},
		{"2025-H3", []string{`"2025-H3"`, "half-year 3 is outside 1-2"}},
		{"2025S3", []string{"half-year 3 is outside 1-2"}},
		{"2025-Q03", []string{"quarter number must be one digit"}},
		{"2025-H", []string{"half-year number must be one digit"}},
		{"2025Qx", []string{"quarter number must be one digit"}},
		{"20251", []string{`"20251"`, "want YYYY"}},
		{"2025-9", []string{"want YYYY"}},
		{"2025-009", []string{"want YYYY"}},
		{"25-01", []string{`"25-01"`, "year must be four digits"}},
		{"2025-", []string{`"2025-"`, "trailing dash"}},
		{"abcd", []string{`"abcd"`, "year must be four digits"}},
		{"+202", []string{"year must be four digits"}},
		{"", []string{"period is empty"}},
		{"   ", []string{"period is empty"}},
		{"202", []string{"want YYYY"}},
		{"1899", []string{`"1899"`, "year 1899 is outside 1990-2100"}},
		{"2101-01", []string{"year 2101 is outside 1990-2100"}},
		{"2025W01", []string{"want YYYY"}}, // DHIS2 weeks are not a G-OC periodicity
		{"2025 Q3", []string{"want YYYY"}},
		{"2025ſ1", []string{"want YYYY"}}, // the long s must not fold into S
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			p, err := Parse(tt.in)
			if err == nil {
				t.Fatalf("Parse(%q) = %v, want an error", tt.in, p)
			}
			for _, m := range tt.mentions {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("Parse(%q) error %q does not mention %q", tt.in, err, m)
				}
			}
			if !p.IsZero() {
				t.Errorf("Parse(%q) returned %+v with its error, want the zero period", tt.in, p)
			}
		})
	}
}

func TestMustParsePanicsOnABadLiteral(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("MustParse(\"2025-13\") did not panic")
		}
	}()
	MustParse("2025-13")
}

func TestNewChecksKindYearAndIndex(t *testing.T) {
	if p, err := New(Quarter, 2025, 2); err != nil || p.String() != "2025-Q2" {
		t.Errorf("New(Quarter, 2025, 2) = %v, %v", p, err)
	}
	for _, tt := range []struct {
		k           Kind
		year, index int
		want        string
	}{
		{Kind(9), 2025, 1, "kind 9 is not known"},
		{Year, 1989, 1, "year 1989"},
		{Year, 2025, 2, "year 2 is outside 1-1"},
		{Month, 2025, 0, "month 0"},
	} {
		if _, err := New(tt.k, tt.year, tt.index); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("New(%v, %d, %d) error = %v, want it to mention %q", tt.k, tt.year, tt.index, err, tt.want)
		}
	}
}

func TestAddMovesAcrossYearBoundariesBothWays(t *testing.T) {
	tests := []struct {
		from string
		n    int
		want string
	}{
		{"2025-12", 1, "2026-01"},
		{"2026-01", -1, "2025-12"},
		{"2025-01", -13, "2023-12"},
		{"2025-01", -12, "2024-01"},
		{"2025-06", 30, "2027-12"},
		{"2025-Q4", 1, "2026-Q1"},
		{"2025-Q1", -1, "2024-Q4"},
		{"2025-Q1", -9, "2022-Q4"},
		{"2025-H2", 1, "2026-H1"},
		{"2025-H1", -3, "2023-H2"},
		{"2025", -6, "2019"},
		{"2025", 0, "2025"},
		{"2025-07", 0, "2025-07"},
	}
	for _, tt := range tests {
		t.Run(tt.from, func(t *testing.T) {
			if got := MustParse(tt.from).Add(tt.n).String(); got != tt.want {
				t.Errorf("%s.Add(%d) = %s, want %s", tt.from, tt.n, got, tt.want)
			}
		})
	}
}

func TestNextAndPrevStepOnePeriod(t *testing.T) {
	for _, tt := range []struct{ p, next, prev string }{
		{"2025-12", "2026-01", "2025-11"},
		{"2025-01", "2025-02", "2024-12"},
		{"2025-Q4", "2026-Q1", "2025-Q3"},
		{"2025-H1", "2025-H2", "2024-H2"},
		{"2025", "2026", "2024"},
	} {
		p := MustParse(tt.p)
		if got := p.Next().String(); got != tt.next {
			t.Errorf("%s.Next() = %s, want %s", tt.p, got, tt.next)
		}
		if got := p.Prev().String(); got != tt.prev {
			t.Errorf("%s.Prev() = %s, want %s", tt.p, got, tt.prev)
		}
		if p.Next().Prev() != p {
			t.Errorf("%s.Next().Prev() = %s", tt.p, p.Next().Prev())
		}
	}
}

func TestSubCountsPeriodsBetweenAndUndoesAdd(t *testing.T) {
	tests := []struct {
		p, q string
		want int
	}{
		{"2026-01", "2025-12", 1},
		{"2025-12", "2026-01", -1},
		{"2025-03", "2023-03", 24},
		{"2025-Q1", "2024-Q3", 2},
		{"2025-H1", "2019-H2", 11},
		{"2025", "2020", 5},
		{"2025", "2025", 0},
	}
	for _, tt := range tests {
		p, q := MustParse(tt.p), MustParse(tt.q)
		if got := p.Sub(q); got != tt.want {
			t.Errorf("%s.Sub(%s) = %d, want %d", tt.p, tt.q, got, tt.want)
		}
		if got := q.Add(tt.want); got != p {
			t.Errorf("%s.Add(%d) = %s, want %s", tt.q, tt.want, got, tt.p)
		}
	}
}

func TestStartAndEndBoundThePeriod(t *testing.T) {
	day := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }
	tests := []struct {
		p          string
		start, end time.Time
	}{
		{"2025", day(2025, 1, 1), day(2026, 1, 1)},
		{"2025-H1", day(2025, 1, 1), day(2025, 7, 1)},
		{"2025-H2", day(2025, 7, 1), day(2026, 1, 1)},
		{"2025-Q3", day(2025, 7, 1), day(2025, 10, 1)},
		{"2025-Q4", day(2025, 10, 1), day(2026, 1, 1)},
		{"2024-02", day(2024, 2, 1), day(2024, 3, 1)},
		{"2025-12", day(2025, 12, 1), day(2026, 1, 1)},
	}
	for _, tt := range tests {
		p := MustParse(tt.p)
		if got := p.Start(nil); !got.Equal(tt.start) {
			t.Errorf("%s.Start(nil) = %v, want %v", tt.p, got, tt.start)
		}
		if got := p.End(nil); !got.Equal(tt.end) {
			t.Errorf("%s.End(nil) = %v, want %v", tt.p, got, tt.end)
		}
	}
}

func TestStartAndEndUseTheGivenLocation(t *testing.T) {
	hcm := time.FixedZone("ICT", 7*3600)
	p := MustParse("2025-07")
	start, end := p.Start(hcm), p.End(hcm)
	if want := time.Date(2025, 7, 1, 0, 0, 0, 0, hcm); !start.Equal(want) || start.Location() != hcm {
		t.Errorf("Start(ICT) = %v, want %v", start, want)
	}
	// Midnight in Hà Nội is 17:00 the day before in UTC.
	if want := time.Date(2025, 7, 31, 17, 0, 0, 0, time.UTC); !end.Equal(want) {
		t.Errorf("End(ICT) = %v, want %v", end.UTC(), want)
	}
}

func TestEndedIsTrueFromTheFirstInstantAfterThePeriod(t *testing.T) {
	p := MustParse("2025-Q2")
	if p.Ended(time.Date(2025, 6, 30, 23, 59, 59, 0, time.UTC)) {
		t.Error("2025-Q2 ended before 1 July")
	}
	if !p.Ended(time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC)) {
		t.Error("2025-Q2 not ended on 1 July")
	}
}

func TestContainsIsTrueOnlyForWhollyInsidePeriods(t *testing.T) {
	tests := []struct {
		p, q string
		want bool
	}{
		{"2025", "2025-09", true},
		{"2025", "2025-Q4", true},
		{"2025", "2025", true},
		{"2025-H2", "2025-Q3", true},
		{"2025-H2", "2025-06", false},
		{"2025-Q3", "2025-H2", false}, // longer than p
		{"2025", "2024-12", false},
		{"2025", "2026-01", false},
		{"2025-09", "2025-09", true},
	}
	for _, tt := range tests {
		if got := MustParse(tt.p).Contains(MustParse(tt.q)); got != tt.want {
			t.Errorf("%s.Contains(%s) = %v, want %v", tt.p, tt.q, got, tt.want)
		}
	}
}

func TestSplitListsTheSubPeriodsInOrder(t *testing.T) {
	tests := []struct {
		p    string
		k    Kind
		want []string
	}{
		{"2025", Half, []string{"2025-H1", "2025-H2"}},
		{"2025", Quarter, []string{"2025-Q1", "2025-Q2", "2025-Q3", "2025-Q4"}},
		{"2025-H2", Month, []string{"2025-07", "2025-08", "2025-09", "2025-10", "2025-11", "2025-12"}},
		{"2025-Q4", Month, []string{"2025-10", "2025-11", "2025-12"}},
		{"2025-H1", Quarter, []string{"2025-Q1", "2025-Q2"}},
		{"2025-Q3", Quarter, []string{"2025-Q3"}},
		{"2025-09", Year, nil}, // a year does not fit in a month
		{"2025-Q1", Half, nil},
	}
	for _, tt := range tests {
		var got []string
		for _, q := range MustParse(tt.p).Split(tt.k) {
			got = append(got, q.String())
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s.Split(%v) = %v, want %v", tt.p, tt.k, got, tt.want)
		}
	}
	if n := len(MustParse("2025").Split(Month)); n != 12 {
		t.Errorf("2025 splits into %d months, want 12", n)
	}
}

func TestWithinFindsTheEnclosingPeriod(t *testing.T) {
	tests := []struct {
		p    string
		k    Kind
		want string
	}{
		{"2025-09", Quarter, "2025-Q3"},
		{"2025-09", Half, "2025-H2"},
		{"2025-06", Half, "2025-H1"},
		{"2025-09", Year, "2025"},
		{"2025-Q2", Half, "2025-H1"},
		{"2025-Q4", Year, "2025"},
		{"2025-H2", Year, "2025"},
		{"2025-03", Month, "2025-03"},
	}
	for _, tt := range tests {
		if got := MustParse(tt.p).Within(tt.k).String(); got != tt.want {
			t.Errorf("%s.Within(%v) = %s, want %s", tt.p, tt.k, got, tt.want)
		}
	}
}

func TestYearFractionPlacesThePeriodEnd(t *testing.T) {
	tests := []struct {
		p    string
		want float64
	}{
		{"2025", 2026.0},
		{"2025-H1", 2025.5},
		{"2025-H2", 2026.0},
		{"2025-Q1", 2025.25},
		{"2025-Q3", 2025.75},
		{"2025-09", 2025.75},
		{"2025-12", 2026.0},
		{"2025-06", 2025.5},
	}
	for _, tt := range tests {
		if got := MustParse(tt.p).YearFraction(); got != tt.want {
			t.Errorf("%s.YearFraction() = %v, want %v", tt.p, got, tt.want)
		}
	}
}

func TestCompareOrdersByStartThenLongerFirst(t *testing.T) {
	in := []string{"2025-Q3", "2025-07", "2024", "2025", "2025-H2", "2025-01", "2025-H1"}
	ps := make([]Period, len(in))
	for i, s := range in {
		ps[i] = MustParse(s)
	}
	slices.SortFunc(ps, Period.Compare)
	var got []string
	for _, p := range ps {
		got = append(got, p.String())
	}
	want := []string{"2024", "2025", "2025-H1", "2025-01", "2025-H2", "2025-Q3", "2025-07"}
	if !slices.Equal(got, want) {
		t.Errorf("sorted = %v, want %v", got, want)
	}
	if c := MustParse("2025-09").Compare(MustParse("2025-09")); c != 0 {
		t.Errorf("Compare of equal periods = %d", c)
	}
}

func TestOfFindsThePeriodContainingAnInstant(t *testing.T) {
	at := time.Date(2025, 8, 15, 10, 0, 0, 0, time.UTC)
	for k, want := range map[Kind]string{Year: "2025", Half: "2025-H2", Quarter: "2025-Q3", Month: "2025-08"} {
		if got := Of(k, at).String(); got != want {
			t.Errorf("Of(%v, 15 Aug 2025) = %s, want %s", k, got, want)
		}
	}
}

func TestPeriodsRoundTripThroughJSONInCanonicalForm(t *testing.T) {
	type row struct {
		Period Period `json:"period"`
		Kind   Kind   `json:"periodicity"`
	}
	in := []row{
		{MustParse("2025"), Year},
		{MustParse("2025S1"), Half},
		{MustParse("2025q3"), Quarter},
		{MustParse("202509"), Month},
	}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	want := `[{"period":"2025","periodicity":"yearly"},{"period":"2025-H1","periodicity":"half-yearly"},` +
		`{"period":"2025-Q3","periodicity":"quarterly"},{"period":"2025-09","periodicity":"monthly"}]`
	if string(b) != want {
		t.Errorf("json = %s\nwant   %s", b, want)
	}
	var out []row
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(out, in) {
		t.Errorf("round trip = %+v, want %+v", out, in)
	}
}

func TestJSONAcceptsDHIS2FormsAndRejectsBadPeriods(t *testing.T) {
	var v struct {
		Period Period `json:"period"`
	}
	if err := json.Unmarshal([]byte(`{"period":"2025Q3"}`), &v); err != nil || v.Period.String() != "2025-Q3" {
		t.Errorf("decode 2025Q3 = %v, %v", v.Period, err)
	}
	err := json.Unmarshal([]byte(`{"period":"2025-13"}`), &v)
	if err == nil || !strings.Contains(err.Error(), "month 13") {
		t.Errorf("decode 2025-13 error = %v, want the month named", err)
	}
	var k Kind
	if err := k.UnmarshalText([]byte("fortnightly")); err == nil {
		t.Error("Kind accepted fortnightly")
	}
}

func TestParseKindReadsCatalogueNames(t *testing.T) {
	for in, want := range map[string]Kind{
		"yearly": Year, "Annual": Year, "half-yearly": Half, "semiannual": Half,
		" quarterly ": Quarter, "MONTHLY": Month, "month": Month,
	} {
		if got, err := ParseKind(in); err != nil || got != want {
			t.Errorf("ParseKind(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := ParseKind("weekly"); err == nil || !strings.Contains(err.Error(), "weekly") {
		t.Errorf("ParseKind(weekly) error = %v", err)
	}
	for k, per := range map[Kind]int{Year: 1, Half: 2, Quarter: 4, Month: 12, Kind(0): 0} {
		if k.PerYear() != per {
			t.Errorf("%v.PerYear() = %d, want %d", k, k.PerYear(), per)
		}
	}
	if Kind(0).String() != "unknown" {
		t.Errorf("Kind(0).String() = %q", Kind(0).String())
	}
}

func TestZeroPeriodIsZeroAndPrintsEmpty(t *testing.T) {
	var z Period
	if !z.IsZero() || z.String() != "" {
		t.Errorf("zero period: IsZero=%v String=%q", z.IsZero(), z.String())
	}
	if MustParse("2025").IsZero() {
		t.Error("2025 reported as zero")
	}
}
