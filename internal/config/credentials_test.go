package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCredentialsInAURLAreRefusedAndSecretsComeFromEnvOrFile(t *testing.T) {
	_, err := Parse("goc.yaml", []byte(`store: {path: goc.db}
collectors:
  probes:
    targets:
      - {url: "https://admin:hunter2@langson.gov.vn/", agency: P20}
  feeds:
    - {name: kpi, url: "https://kpi.gov.vn/feed.json?api_key=topsecret", format: json}
  allow_internal: [10.20.0.0/16, "127.0.0.1:9100", intranet.local]
`), t.TempDir())
	if err == nil {
		t.Fatal("credentials in URLs accepted")
	}
	msg := err.Error()
	for _, want := range []string{"targets[0].url", "username and password", "feeds[0].url", "query_secrets", "allow_internal[2]"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
	for _, leak := range []string{"hunter2", "topsecret"} {
		if strings.Contains(msg, leak) {
			t.Errorf("the error shows the secret %q:\n%s", leak, msg)
		}
	}

	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "kpi.pw"), []byte("pw-from-file\n"), 0o600)
	t.Setenv("GOC_TEST_KPI_KEY", "key-from-env")
	c, err := Parse("goc.yaml", []byte(`store: {path: goc.db}
collectors:
  allow_internal: [10.20.0.0/16, "127.0.0.1:9100"]
  feeds:
    - name: kpi
      url: https://kpi.gov.vn/feed.json
      format: json
      username: officer
      password: {file: kpi.pw}
      query_secrets: {api_key: {env: GOC_TEST_KPI_KEY}}
`), dir)
	if err != nil {
		t.Fatal(err)
	}
	f := c.Collectors.Feeds[0]
	if f.Password.Reveal() != "pw-from-file" || f.QuerySecrets["api_key"].Reveal() != "key-from-env" || f.Username != "officer" {
		t.Errorf("feed secrets: password %q, api_key %q", f.Password.Reveal(), f.QuerySecrets["api_key"].Reveal())
	}
	if len(c.Collectors.AllowInternal) != 2 {
		t.Errorf("allow_internal = %v", c.Collectors.AllowInternal)
	}
	if err := c.Collectors.Policy().Check("10.20.1.1:80"); err != nil {
		t.Errorf("allowed network refused: %v", err)
	}
	_, err = Parse("goc.yaml", []byte(`store: {path: goc.db}
collectors:
  feeds:
    - {name: kpi, url: "https://kpi.gov.vn/f.json", format: json, token: {env: GOC_TEST_NOT_SET_ANYWHERE}}
`), dir)
	if err == nil || !strings.Contains(err.Error(), "GOC_TEST_NOT_SET_ANYWHERE is not set") {
		t.Errorf("missing secret variable: %v", err)
	}
}
