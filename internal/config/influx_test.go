package config

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestInfluxSettingsLeftEmptyComeFromTheEnvironment(t *testing.T) {
	t.Setenv(EnvInfluxURL, "http://127.0.0.1:8086")
	t.Setenv(EnvInfluxOrg, "mic")
	t.Setenv(EnvInfluxBucket, "goc/autogen")
	t.Setenv(EnvInfluxToken, "user:pass")
	dir := t.TempDir()
	c, err := Parse("goc.yaml", []byte("store:\n  backend: influx\n  influx: {bucket: from-file}\n"), dir)
	if err != nil {
		t.Fatal(err)
	}
	in := c.Store.Influx
	if in.URL != "http://127.0.0.1:8086" || in.Org != "mic" || in.Token.Reveal() != "user:pass" {
		t.Errorf("influx settings = %+v, want url, org and token from the environment", in)
	}
	if in.Bucket != "from-file" {
		t.Errorf("bucket = %q, want the file's value over the environment's", in.Bucket)
	}
	if want := filepath.Join(dir, DefaultInfluxSpool); in.Spool != want {
		t.Errorf("spool = %q, want %q beside the config file", in.Spool, want)
	}
}

func TestInfluxSpoolAndProbeBucketAreRead(t *testing.T) {
	dir := t.TempDir()
	c, err := Parse("goc.yaml", []byte(`store:
  backend: influx
  influx:
    url: http://127.0.0.1:8086
    bucket: goc
    probe_bucket: goc_probes
    spool: var/spool.db
    latest_reads: ledger
`), dir)
	if err != nil {
		t.Fatal(err)
	}
	if c.Store.Influx.ProbeBucket != "goc_probes" || c.Store.Influx.Spool != filepath.Join(dir, "var", "spool.db") || !c.Store.Influx.LatestFromLedger {
		t.Errorf("influx = %+v", c.Store.Influx)
	}
}

func TestInfluxURLFromTheEnvironmentIsChecked(t *testing.T) {
	t.Setenv(EnvInfluxURL, "ftp://nowhere")
	_, err := Parse("goc.yaml", []byte("store:\n  backend: influx\n  influx: {bucket: goc}\n"), "")
	ps := problemsOf(t, err)
	if len(ps) != 1 || ps[0].Path != "store.influx.url" || !strings.Contains(ps[0].Message, EnvInfluxURL) {
		t.Fatalf("problems = %v, want one on store.influx.url naming %s", ps, EnvInfluxURL)
	}
}

func TestInfluxLatestReadsIsInfluxdbOrLedger(t *testing.T) {
	_, err := Parse("goc.yaml", []byte("store:\n  backend: influx\n  influx:\n    url: http://127.0.0.1:8086\n    bucket: goc\n    latest_reads: cache\n"), "")
	ps := problemsOf(t, err)
	if len(ps) != 1 || ps[0].Line != 6 || ps[0].Path != "store.influx.latest_reads" || !strings.Contains(ps[0].Message, "influxdb, ledger") {
		t.Fatalf("problems = %v, want one on line 6 listing influxdb, ledger", ps)
	}
}
