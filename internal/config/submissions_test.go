package config

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/g-oc/goc/indicators/period"
)

func TestSubmissionDeadlinesDefaultToTenFifteenTwentyAndThirtyDays(t *testing.T) {
	c, err := Parse("min.yaml", []byte("store: {path: goc.db}\n"), "")
	if err != nil {
		t.Fatal(err)
	}
	want := map[period.Kind]int{period.Month: 10, period.Quarter: 15, period.Half: 20, period.Year: 30}
	for k, d := range want {
		if c.Submissions.DueDays[k] != d {
			t.Errorf("due days for %s = %d, want %d", k, c.Submissions.DueDays[k], d)
		}
	}
	if c.Submissions.OutlierDeviations != 3 {
		t.Errorf("outlier threshold = %g, want 3", c.Submissions.OutlierDeviations)
	}
}

func TestSubmissionDeadlinesAreReadAndTheRestKeepTheirDefault(t *testing.T) {
	c, err := Parse("s.yaml", []byte("store: {path: goc.db}\nsubmissions:\n  due_days: {quarterly: 20, yearly: 45}\n  outlier_deviations: 3.5\n"), "")
	if err != nil {
		t.Fatal(err)
	}
	s := c.Submissions
	if s.DueDays[period.Quarter] != 20 || s.DueDays[period.Year] != 45 || s.DueDays[period.Month] != 10 || s.OutlierDeviations != 3.5 {
		t.Errorf("submissions = %+v", s)
	}
}

func TestInvalidSubmissionSettingsAreEachReportedWithTheirLine(t *testing.T) {
	name := filepath.Join("testdata", "invalid-due-days.yml")
	_, err := Load(name)
	want := []string{
		name + `:5: submissions.due_days.fortnightly: unknown periodicity "fortnightly"`,
		name + `:6: submissions.due_days.quarterly: "-3" must be a whole number of days from 0 to 366`,
		name + `:7: submissions.due_days.yearly: "thirty" must be a whole number of days from 0 to 366`,
		name + `:8: submissions.outlier_deviations: "0" must be a number from 1 to 100`,
	}
	ps := problemsOf(t, err)
	if len(ps) != len(want) {
		t.Fatalf("got %d problems, want %d:\n%v", len(ps), len(want), err)
	}
	for i, w := range want {
		if got := ps[i].String(); !strings.HasPrefix(got, w) {
			t.Errorf("problem %d:\n got  %s\n want %s…", i+1, got, w)
		}
	}
}

func TestApprovalIsManualUnlessTheFileSaysAutomatic(t *testing.T) {
	for _, tc := range []struct {
		yaml string
		auto bool
	}{
		{"store: {path: goc.db}\n", false},
		{"store: {path: goc.db}\nsubmissions: {approval: manual}\n", false},
		{"store: {path: goc.db}\nsubmissions: {approval: automatic}\n", true},
	} {
		c, err := Parse("a.yaml", []byte(tc.yaml), "")
		if err != nil {
			t.Fatalf("%q: %v", tc.yaml, err)
		}
		if c.Submissions.AutoApprove != tc.auto {
			t.Errorf("%q: automatic approval = %v, want %v", tc.yaml, c.Submissions.AutoApprove, tc.auto)
		}
	}
	_, err := Parse("a.yaml", []byte("store: {path: goc.db}\nsubmissions:\n  approval: sometimes\n"), "")
	if err == nil || !strings.Contains(err.Error(), `a.yaml:3: submissions.approval: "sometimes" must be manual`) {
		t.Errorf("approval: sometimes gave %v, want an error naming line 3", err)
	}
}
