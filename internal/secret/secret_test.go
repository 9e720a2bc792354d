package secret

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

func TestSecretNeverPrintsItsValue(t *testing.T) {
	const value = "influx-Sup3r-Secret"
	s := New(value)
	if s.Reveal() != value {
		t.Fatalf("Reveal = %q", s.Reveal())
	}
	var outputs []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%10s"} {
		outputs = append(outputs, fmt.Sprintf(verb, s), fmt.Sprintf(verb, &s))
	}
	outputs = append(outputs, fmt.Sprint(s), s.String(), s.GoString(),
		fmt.Sprintf("%+v", struct{ Token Secret }{s}))
	j, err := json.Marshal(struct{ Token Secret }{s})
	if err != nil {
		t.Fatal(err)
	}
	y, err := yaml.Marshal(map[string]Secret{"token": s})
	if err != nil {
		t.Fatal(err)
	}
	var text, js bytes.Buffer
	slog.New(slog.NewTextHandler(&text, nil)).Info("connect", "token", s)
	slog.New(slog.NewJSONHandler(&js, nil)).Info("connect", "token", s)
	outputs = append(outputs, string(j), string(y), text.String(), js.String())

	for _, out := range outputs {
		if strings.Contains(out, value) || strings.Contains(out, fmt.Sprintf("%x", value)) {
			t.Fatalf("secret leaked: %s", out)
		}
		if !strings.Contains(out, "[REDACTED]") {
			t.Errorf("output does not say [REDACTED]: %s", out)
		}
	}
	if !strings.Contains(string(j), `"Token":"[REDACTED]"`) {
		t.Errorf("JSON = %s", j)
	}
	if !strings.Contains(text.String(), "token=[REDACTED]") {
		t.Errorf("slog text = %s", text.String())
	}
}

func TestSecretIsZeroOnlyWhenEmpty(t *testing.T) {
	if !New("").IsZero() || New("x").IsZero() || !(Secret{}).IsZero() {
		t.Fatal("IsZero is wrong")
	}
}
