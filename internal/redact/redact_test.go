package redact_test

import (
	"strings"
	"testing"

	"github.com/g-oc/goc/internal/redact"
)

func TestURLHidesUserInfoAndSecretParameters(t *testing.T) {
	for raw, want := range map[string]string{
		"https://portal.gov.vn/":                                   "https://portal.gov.vn/",
		"https://admin:hunter2@portal.gov.vn/x":                    "https://REDACTED@portal.gov.vn/x",
		"https://tok3n@portal.gov.vn/":                             "https://REDACTED@portal.gov.vn/",
		"https://kpi.gov.vn/feed.csv?api_key=abc&year=2025":        "https://kpi.gov.vn/feed.csv?api_key=REDACTED&year=2025",
		"https://x/f?access_token=a&Token=b&sig=c&page=2":          "https://x/f?Token=REDACTED&access_token=REDACTED&page=2&sig=REDACTED",
		"https://x/f?password=p&client_secret=s&X-Amz-Signature=z": "https://x/f?X-Amz-Signature=REDACTED&client_secret=REDACTED&password=REDACTED",
	} {
		if got := redact.URL(raw); got != want {
			t.Errorf("URL(%s)\n got %s\nwant %s", raw, got, want)
		}
	}
}

func TestTextHidesURLsInsideAnErrorMessage(t *testing.T) {
	msg := `Get "https://u:secretpw@127.0.0.1:9/k.csv?api_key=topsecret": dial tcp 127.0.0.1:9: connection refused`
	got := redact.Text(msg)
	if strings.Contains(got, "secretpw") || strings.Contains(got, "topsecret") {
		t.Fatalf("secret left in %q", got)
	}
	if !strings.Contains(got, "connection refused") || !strings.Contains(got, "127.0.0.1:9/k.csv") {
		t.Fatalf("message lost its meaning: %q", got)
	}
}
