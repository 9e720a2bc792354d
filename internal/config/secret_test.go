package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/g-oc/goc/internal/secret"
)

func TestSecretNeverPrintsItsValue(t *testing.T) {
	const value = "influx-Sup3r-Secret"
	s := secret.New(value)
	if s.Reveal() != value {
		t.Fatalf("Reveal = %q", s.Reveal())
	}
	c, err := Parse("x.yaml", []byte("store:\n  backend: influx\n  influx: {url: 'http://127.0.0.1:8086', bucket: b, token: "+value+"}\n"), "")
	if err != nil {
		t.Fatal(err)
	}
	if c.Store.Influx.Token.Reveal() != value {
		t.Fatalf("config token = %q", c.Store.Influx.Token.Reveal())
	}

	var outputs []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%10s"} {
		outputs = append(outputs, fmt.Sprintf(verb, s), fmt.Sprintf(verb, &s))
	}
	outputs = append(outputs, fmt.Sprint(s), s.String(), s.GoString(),
		fmt.Sprintf("%+v", *c), fmt.Sprintf("%#v", c.Store), fmt.Sprintf("%v", c.Store.Influx))
	j, err := json.Marshal(c.Store.Influx)
	if err != nil {
		t.Fatal(err)
	}
	y, err := yaml.Marshal(map[string]secret.Secret{"token": s})
	if err != nil {
		t.Fatal(err)
	}
	var text, js bytes.Buffer
	slog.New(slog.NewTextHandler(&text, nil)).Info("connect", "token", s, "influx", c.Store.Influx)
	slog.New(slog.NewJSONHandler(&js, nil)).Info("connect", "token", s, "influx", c.Store.Influx)
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
