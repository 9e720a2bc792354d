package main

import (
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/g-oc/goc/internal/auth"
	"github.com/g-oc/goc/internal/store/influx/influxtest"
)

// End to end on a real InfluxDB 1.8: `goc demo --config --load-only` puts the demo
// history into InfluxDB, then `goc serve` with the same config answers from it,
// accepts a submission, and reports its spool on /readyz and /metrics.
func TestServeWithInfluxDBConfigAnswersFromTheDemoHistory(t *testing.T) {
	srv := influxtest.Start(t)
	bucket := srv.NewDatabase(t)
	dir := t.TempDir()
	tok, err := auth.NewToken()
	if err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "goc.yaml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(`server:
  addr: 127.0.0.1:0
store:
  backend: influx
  influx:
    url: %s
    bucket: %s
    spool: data/spool.db
tokens:
  - name: lang-son
    agency: P20
    sha256: %s
`, srv.URL, bucket, auth.Hash(tok))), 0o600); err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Join(dir, "data"), 0o750)

	stdout, stderr, code := runGoc(t, "demo", "--config", cfg, "--load-only")
	if code != 0 || !strings.Contains(stdout, "InfluxDB "+srv.URL) {
		t.Fatalf("goc demo --config --load-only: exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}

	// `goc rebuild` keeps every indicator's yearly figures in the spool, as it does in
	// SQLite's data file, so that serve's first reads after it read them from there.
	stdout, stderr, code = runGoc(t, "rebuild", "--config", cfg)
	if code != 0 || !strings.Contains(stdout, "sets recomputed from history") || !strings.Contains(stderr, "yearly figures 1/") {
		t.Fatalf("goc rebuild: exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	spool, err := sql.Open("sqlite", filepath.Join(dir, "data", "spool.db"))
	if err != nil {
		t.Fatal(err)
	}
	var sets, rows int
	err = spool.QueryRow("SELECT (SELECT count(*) FROM figure_sets WHERE view = 'all'), (SELECT count(*) FROM figures WHERE indicator = 'ops_level4_share' AND agency = 'P20')").Scan(&sets, &rows)
	spool.Close()
	if err != nil || sets == 0 || rows == 0 {
		t.Fatalf("after goc rebuild the spool keeps %d sets of a reviewer's figures and %d years of P20's ops_level4_share (%v)", sets, rows, err)
	}

	s := startGoc(t, "serve", "--config", cfg)
	var egdi struct {
		Observations []struct {
			Period string  `json:"period"`
			Value  float64 `json:"value"`
			Source string  `json:"source"`
		} `json:"observations"`
	}
	s.getJSON(t, "/api/v1/observations?indicator=egdi_rank&agency=VN", &egdi)
	ranks := map[string]float64{}
	for _, o := range egdi.Observations {
		ranks[o.Period] = o.Value
		if o.Source != "demo" {
			t.Errorf("egdi_rank %s has source %q, want demo", o.Period, o.Source)
		}
	}
	if ranks["2018"] != 88 || ranks["2020"] != 86 {
		t.Errorf("EGDI ranks served from InfluxDB = %v, want 88 in 2018 and 86 in 2020", ranks)
	}
	var prog struct {
		Latest struct{ Period string } `json:"latest"`
		Status string                  `json:"status"`
	}
	s.getJSON(t, "/api/v1/progress?indicator=ops_level4_share&agency=P20&year=2025", &prog)
	if prog.Status == "" || prog.Latest.Period == "" {
		t.Errorf("progress of Lang Son from InfluxDB: %+v", prog)
	}

	code, body := s.post(t, tok, `{"agency":"P20","period":"2026-Q3","values":[
		{"indicator":"ops_level4_share","numerator":377,"denominator":401}]}`)
	if code != 201 {
		t.Fatalf("submission: %d %s", code, body)
	}
	var got struct {
		Observations []struct {
			Submitter string `json:"submitter"`
			Revision  int    `json:"revision"`
		} `json:"observations"`
	}
	// The submission waits for a reviewer, so the officer asks for its unapproved
	// figures. The demo history may already hold this quarter: the submission is then
	// its next revision, and earlier ones stay.
	s.getJSONAs(t, tok, "/api/v1/observations?indicator=ops_level4_share&agency=P20&from=2026-Q3&to=2026-Q3&history=true&unapproved=true", &got)
	if n := len(got.Observations); n == 0 || got.Observations[n-1].Submitter != "lang-son" || got.Observations[n-1].Revision != n {
		t.Errorf("the submission read back as %+v, want it as the last revision", got.Observations)
	}

	var ready struct {
		Status string `json:"status"`
		Spool  *struct {
			Pending float64 `json:"pending_points"`
		} `json:"spool"`
	}
	s.getJSON(t, "/readyz", &ready)
	if ready.Status != "ready" || ready.Spool == nil {
		t.Errorf("/readyz = %+v, want ready with the spool's backlog", ready)
	}
	resp, err := http.Get(s.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, name := range []string{"goc_spool_pending_points", "goc_spool_oldest_age_seconds", "goc_spool_sent_points_total"} {
		if !strings.Contains(string(metrics), "\n"+name+" ") {
			t.Errorf("/metrics has no %s", name)
		}
	}
}
