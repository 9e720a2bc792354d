package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/g-oc/goc/internal/auth"
	"github.com/g-oc/goc/internal/redistest"
	"github.com/g-oc/goc/internal/store/influx/influxtest"
)

// The second half of issue 17's proof: three replicas of `goc serve` over one influxd
// and one redis-server (appendonly, appendfsync always, as the README asks) share the
// revision ledger and the review workflow. Submissions go round-robin to the three
// while one is killed with SIGKILL and started again; two officers revise one series
// at once through two replicas; a reviewer approves each submission on another replica
// than the one that took it. Afterwards every replica answers the same: every
// acknowledged submission, every revision of the contested series with the figure it
// was acknowledged with (distinct numbers, none overwritten), and the public figures.
func TestThreeReplicasShareRevisionsAndReviewsThroughAKill9(t *testing.T) {
	influx := influxtest.Start(t)
	bucket := influx.NewDatabase(t)
	rs := redistest.StartDurable(t, "")
	officer, err := auth.NewToken()
	if err != nil {
		t.Fatal(err)
	}
	reviewer, err := auth.NewToken()
	if err != nil {
		t.Fatal(err)
	}
	names := []string{"a", "b", "c"}
	configs := map[string]string{}
	for _, name := range names {
		dir := filepath.Join(t.TempDir(), name)
		os.MkdirAll(dir, 0o750)
		cfg := filepath.Join(dir, "goc.yaml")
		// The officers' rate limits are raised: the test sends faster than a person.
		if err := os.WriteFile(cfg, []byte(fmt.Sprintf(`server:
  addr: 127.0.0.1:0
  writes_per_second_per_token: 1000
  writes_per_second_per_address: 1000
store:
  backend: influx
  influx: {url: %s, bucket: %s, spool: spool.db}
redis:
  addr: %s
  replica: goc-%s
tokens:
  - {name: lang-son, agency: P20, sha256: %s}
  - {name: btttt, agency: VN, role: reviewer, sha256: %s}
`, influx.URL, bucket, rs.Addr, name, auth.Hash(officer), auth.Hash(reviewer))), 0o600); err != nil {
			t.Fatal(err)
		}
		configs[name] = cfg
	}
	var (
		mu       sync.Mutex
		replicas = map[string]*server{}
	)
	for _, name := range names {
		replicas[name] = startGoc(t, "serve", "--config", configs[name])
	}
	url := func(name string) string {
		mu.Lock()
		defer mu.Unlock()
		return replicas[name].url
	}
	client := &http.Client{Timeout: 10 * time.Second}
	do := func(method, u, token, body string) (int, []byte, error) {
		req, _ := http.NewRequest(method, u, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			return 0, nil, err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b, nil
	}
	type revision struct {
		Period   string `json:"period"`
		Revision int    `json:"revision"`
		New      bool   `json:"new"`
	}
	// submit posts one figure and returns the revision it was acknowledged as, or
	// false when it was not acknowledged (the replica was dead, or answered 503).
	submit := func(replica, per string, numerator int) (revision, bool) {
		body := fmt.Sprintf(`{"agency":"P20","period":%q,"values":[{"indicator":"ops_level4_share","numerator":%d,"denominator":400}]}`, per, numerator)
		code, b, err := do(http.MethodPost, url(replica)+"/api/v1/submissions?confirm_outliers=true", officer, body)
		if err != nil || code == http.StatusServiceUnavailable {
			return revision{}, false
		}
		var got struct{ Revisions []revision }
		if code != http.StatusCreated || json.Unmarshal(b, &got) != nil || len(got.Revisions) != 1 {
			t.Errorf("submission %s to replica %s: %d %s", per, replica, code, b)
			return revision{}, false
		}
		return got.Revisions[0], true
	}

	// Round-robin: one submission per quarter, 90 of them, while c is killed a third
	// of the way through and started again. Beside them, two officers revise one series
	// (2025-Q2) at once, one through replica a and one through replica b.
	type ack struct {
		period, replica string
		numerator       int
	}
	var (
		acks    []ack
		refused int
		// contested: revision number -> numerator it was acknowledged with.
		contested = map[int]int{}
		dupRev    []string
	)
	var wg sync.WaitGroup
	for w, replica := range []string{"a", "b"} {
		wg.Go(func() {
			for k := range 30 {
				n := 1 + 100*w + k
				r, ok := submit(replica, "2025-Q2", n)
				if !ok || !r.New {
					t.Errorf("contested revision %d through %s: acknowledged %v, new %v", k, replica, ok, r.New)
					continue
				}
				mu.Lock()
				if prev, dup := contested[r.Revision]; dup {
					dupRev = append(dupRev, fmt.Sprintf("revision %d given to %d and %d", r.Revision, prev, n))
				}
				contested[r.Revision] = n
				mu.Unlock()
			}
		})
	}
	for n := range 90 {
		switch n {
		case 30:
			c := replicas["c"]
			if err := c.cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			c.cmd.Wait()
		case 45:
			// Started again on the same spool while the contested writes go on.
			s := startGoc(t, "serve", "--config", configs["c"])
			mu.Lock()
			replicas["c"] = s
			mu.Unlock()
		}
		replica := names[n%3]
		per := fmt.Sprintf("%d-Q%d", 2001+n/4, 1+n%4)
		if _, ok := submit(replica, per, 100+n); !ok {
			refused++
			continue
		}
		acks = append(acks, ack{per, replica, 100 + n})
	}
	wg.Wait()
	t.Logf("round-robin: %d acknowledged, %d refused while replica c was down; contested series: %d revisions acknowledged", len(acks), refused, len(contested))
	for _, d := range dupRev {
		t.Error(d)
	}
	if len(acks) < 60 || refused == 0 {
		t.Errorf("%d acknowledged and %d refused: the kill should cost a few and no more", len(acks), refused)
	}
	if len(contested) != 60 {
		t.Errorf("contested series: %d distinct revisions for 60 acknowledged writes", len(contested))
	}

	// A reviewer approves each submission on the next replica round from the one that
	// took it, and the contested series on c (which took none of it).
	other := map[string]string{"a": "b", "b": "c", "c": "a"}
	approve := func(replica, per string) {
		code, b, err := do(http.MethodPost, url(replica)+"/api/v1/submissions/P20/"+per+"/approve", reviewer, `{}`)
		if err != nil || code != http.StatusOK {
			t.Errorf("approve %s on replica %s: %d %s %v", per, replica, code, b, err)
		}
	}
	for _, a := range acks {
		approve(other[a.replica], a.period)
	}
	approve("c", "2025-Q2")

	// Every spool drained into InfluxDB (c's on its restart), then every replica reads
	// the same.
	for _, name := range names {
		for deadline := time.Now().Add(30 * time.Second); ; {
			var ready struct {
				Spool struct {
					Pending int `json:"pending_points"`
				} `json:"spool"`
			}
			replicas[name].getJSON(t, "/readyz", &ready)
			if ready.Spool.Pending == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("replica %s still has %d points spooled", name, ready.Spool.Pending)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	type obs struct {
		Period    string   `json:"period"`
		Revision  int      `json:"revision"`
		Numerator *float64 `json:"numerator"`
		Submitter string   `json:"submitter"`
	}
	type answer struct {
		Observations []obs `json:"observations"`
	}
	read := func(name, token, query string) []obs {
		var got answer
		replicas[name].getJSONAs(t, token, "/api/v1/observations?indicator=ops_level4_share&agency=P20&from=2001-Q1&to=2031-Q1&limit=5000"+query, &got)
		return got.Observations
	}
	first := map[string][]obs{}
	for _, name := range names {
		public := read(name, "", "")
		history := read(name, officer, "&history=true&unapproved=true")
		var subs struct {
			Submissions []struct {
				Period string `json:"period"`
				State  string `json:"state"`
			} `json:"submissions"`
		}
		replicas[name].getJSONAs(t, reviewer, "/api/v1/submissions?agency=P20", &subs)

		// The public figures: every acknowledged submission, approved elsewhere, with
		// the figure it was sent with; the contested series at its last revision.
		byPeriod := map[string]obs{}
		for _, o := range public {
			byPeriod[o.Period] = o
		}
		for _, a := range acks {
			o, ok := byPeriod[a.period]
			if !ok || o.Numerator == nil || int(*o.Numerator) != a.numerator {
				t.Errorf("replica %s publishes %s (posted to %s) as %+v, want numerator %d", name, a.period, a.replica, o, a.numerator)
			}
		}
		if o := byPeriod["2025-Q2"]; o.Revision != len(contested) || o.Numerator == nil || int(*o.Numerator) != contested[o.Revision] {
			t.Errorf("replica %s publishes the contested series as %+v, want revision %d", name, o, len(contested))
		}
		// Every revision of the contested series, each with its own figure.
		var revs int
		for _, o := range history {
			if o.Period != "2025-Q2" {
				continue
			}
			revs++
			if o.Numerator == nil || int(*o.Numerator) != contested[o.Revision] {
				t.Errorf("replica %s: revision %d of the contested series holds %v, acknowledged with %d", name, o.Revision, o.Numerator, contested[o.Revision])
			}
		}
		if revs != len(contested) {
			t.Errorf("replica %s holds %d revisions of the contested series, want %d", name, revs, len(contested))
		}
		approved := 0
		for _, s := range subs.Submissions {
			if s.State == "approved" {
				approved++
			}
		}
		if approved != len(acks)+1 {
			t.Errorf("replica %s lists %d approved submissions, want %d", name, approved, len(acks)+1)
		}
		// Identical answers from every replica.
		if name == "a" {
			first["public"], first["history"] = public, history
		} else {
			if !reflect.DeepEqual(public, first["public"]) {
				t.Errorf("replica %s's public figures differ from replica a's", name)
			}
			if !reflect.DeepEqual(history, first["history"]) {
				t.Errorf("replica %s's revision history differs from replica a's", name)
			}
		}
	}
	t.Logf("every replica: %d public figures, %d revisions in history, the contested series at revision %d", len(first["public"]), len(first["history"]), len(contested))
}
