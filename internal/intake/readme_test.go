package intake

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestTheREADMEListsEveryRuleTheCodeReports keeps README's "What is checked" table and
// the message table the same: every rule a problem can carry is documented, and every
// documented rule is one the code reports. File-level refusals (too large, damaged, not
// supported, forbidden) are answered by status code, not listed there.
func TestTheREADMEListsEveryRuleTheCodeReports(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	start := strings.Index(text, "### What is checked")
	end := strings.Index(text[start:], "**Outliers.**")
	if start < 0 || end < 0 {
		t.Fatal("README has no \"What is checked\" section")
	}
	documented := map[string]bool{}
	cell := regexp.MustCompile("`([a-z_]+)`")
	for _, line := range strings.Split(text[start:start+end], "\n") {
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		first := strings.SplitN(line, "|", 3)[1]
		for _, m := range cell.FindAllStringSubmatch(first, -1) {
			documented[m[1]] = true
		}
	}
	fileLevel := []string{"not_supported", "damaged", "too_large", "too_many_rows", "forbidden", "format", "outlier"}
	reported := map[string]bool{}
	for _, m := range messages {
		if m.rule != "" && !slices.Contains(fileLevel, m.rule) {
			reported[m.rule] = true
		}
	}
	for rule := range reported {
		if !documented[rule] {
			t.Errorf("rule %q is reported but not in README's table", rule)
		}
	}
	for rule := range documented {
		if !reported[rule] {
			t.Errorf("README lists rule %q, which the code never reports", rule)
		}
	}
}

func TestEveryMessageHasARuleAndBothLanguagesWithTheSameArguments(t *testing.T) {
	verb := regexp.MustCompile(`%[-+# 0-9.]*[a-zA-Z]`)
	for id, m := range messages {
		if m.rule == "" || m.vi == "" || m.en == "" {
			t.Errorf("message %d is incomplete: %+v", id, m)
			continue
		}
		vi := verb.FindAllString(strings.ReplaceAll(m.vi, "%%", ""), -1)
		en := verb.FindAllString(strings.ReplaceAll(m.en, "%%", ""), -1)
		if !slices.Equal(vi, en) {
			t.Errorf("message %d (%s): Vietnamese takes %v, English %v", id, m.rule, vi, en)
		}
	}
}
