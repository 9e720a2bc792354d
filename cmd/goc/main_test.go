package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/g-oc/goc/internal/auth"
)

// gocBin is the goc binary built once for the tests that run it as a user would.
var gocBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "goc-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	gocBin = filepath.Join(dir, "goc")
	out, err := exec.Command("go", "build", "-o", gocBin, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "build goc: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func runGoc(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, gocBin, args...)
	var o, e strings.Builder
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return o.String(), e.String(), ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return o.String(), e.String(), 0
}

func TestEveryCommandHasHelp(t *testing.T) {
	for _, c := range commands() {
		t.Run(c.name, func(t *testing.T) {
			out, _, code := runGoc(t, c.name, "--help")
			if code != 0 || !strings.Contains(out, "goc "+c.name) {
				t.Errorf("goc %s --help: exit %d, output %q", c.name, code, out)
			}
		})
	}
	out, _, code := runGoc(t, "--help")
	if code != 0 || !strings.Contains(out, "demo") || !strings.Contains(out, "validate") {
		t.Errorf("goc --help: exit %d, output %q", code, out)
	}
}

func TestCommandLineMistakesExitTwoWithOneLineOnStderr(t *testing.T) {
	cases := [][]string{{"frobnicate"}, {"serve"}, {"demo", "--no-such-flag"}, {"validate", "extra-arg"}}
	for _, args := range cases {
		out, errOut, code := runGoc(t, args...)
		if code != 2 {
			t.Errorf("goc %v: exit %d, want 2", args, code)
		}
		if strings.TrimSpace(errOut) == "" || out != "" && !strings.Contains(out, "Tùy chọn") {
			t.Errorf("goc %v: stderr %q stdout %q", args, errOut, out)
		}
	}
}

func TestValidateListsEveryMistakeWithItsLine(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "goc.yaml")
	os.WriteFile(bad, []byte(`server:
  adress: 127.0.0.1:8080
store:
  backend: sqlite
  path: goc.db
tokens:
  - name: lang-son
    agency: P99
    sha256: 0000000000000000000000000000000000000000000000000000000000000000
log:
  level: loud
`), 0o600)
	_, errOut, code := runGoc(t, "validate", "--config", bad)
	if code != 1 {
		t.Fatalf("exit %d, want 1; stderr %q", code, errOut)
	}
	for _, want := range []string{"goc.yaml:2:", "adress", "goc.yaml:11:", "loud"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	// Once the syntax is right, the agency check runs and names the token's line.
	os.WriteFile(bad, []byte(`store:
  backend: sqlite
  path: goc.db
tokens:
  - name: lang-son
    agency: P99
    sha256: 0000000000000000000000000000000000000000000000000000000000000000
`), 0o600)
	_, errOut, code = runGoc(t, "validate", "--config", bad)
	if code != 1 || !strings.Contains(errOut, "goc.yaml:6:") || !strings.Contains(errOut, "P99") {
		t.Errorf("unknown agency: exit %d, stderr %q", code, errOut)
	}
	example := filepath.Join(dir, "example.yaml")
	out, _, _ := runGoc(t, "validate", "--example")
	os.WriteFile(example, []byte(out), 0o600)
	if out, errOut, code := runGoc(t, "validate", "--config", example); code != 0 || !strings.Contains(out, "hợp lệ / valid") {
		t.Errorf("example config: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

// server is a goc process serving on a loopback port it chose itself.
type server struct {
	cmd    *exec.Cmd
	url    string
	tokens map[string]string
	stdout []string
}

var urlLine = regexp.MustCompile(`(https?://127\.0\.0\.1:\d+)`)
var tokenLine = regexp.MustCompile(`^\s+(\S+)\s+.*\s(goc_\S+)$`)

// startGoc runs goc with args and waits for its URL on stdout.
func startGoc(t *testing.T, args ...string) *server {
	t.Helper()
	cmd := exec.Command(gocBin, args...)
	// The demo prints its URL and tokens on stdout; serve logs its URL on stderr.
	stdout, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	s := &server{cmd: cmd, tokens: map[string]string{}}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	done := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			s.stdout = append(s.stdout, line)
			if m := tokenLine.FindStringSubmatch(line); m != nil {
				s.tokens[m[1]] = m[2]
			}
			// The profiles' address (goc serve --pprof) is logged before the server's.
			if m := urlLine.FindStringSubmatch(line); m != nil && s.url == "" && !strings.Contains(line, "pprof") {
				s.url = m[1]
			}
			if strings.Contains(line, "Ctrl-C") || strings.Contains(line, "msg=\"G-OC") {
				close(done)
				io.Copy(io.Discard, stdout)
				return
			}
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		t.Fatalf("goc %v did not start in 60 s; stdout so far %v", args, s.stdout)
	}
	if s.url == "" {
		t.Fatalf("goc %v printed no URL: %v", args, s.stdout)
	}
	return s
}

func (s *server) post(t *testing.T, token, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.url+"/api/v1/submissions", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (s *server) getJSON(t *testing.T, path string, out any) {
	t.Helper()
	s.getJSONAs(t, "", path, out)
}

// getJSONAs is getJSON with a bearer token, as that token's holder asks (none when
// token is empty).
func (s *server) getJSONAs(t *testing.T, token, path string, out any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.url+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		t.Fatal(err)
	}
}

func TestDemoKeepsAnAcknowledgedSubmissionAfterKill9(t *testing.T) {
	data := t.TempDir()
	s := startGoc(t, "demo", "--addr", "127.0.0.1:0", "--data", data)
	tok := s.tokens["P20"]
	if tok == "" {
		t.Fatalf("demo printed no token for P20 (Lang Son): %v", s.stdout)
	}
	var before struct {
		Latest struct{ Period string } `json:"latest"`
		Status string                  `json:"status"`
	}
	s.getJSON(t, "/api/v1/progress?indicator=ops_level4_share&agency=P20&year=2025", &before)
	if before.Status == "" || before.Latest.Period == "" {
		t.Fatalf("demo history gives Lang Son no progress: %+v", before)
	}
	code, body := s.post(t, tok, `{"agency":"P20","period":"2026-Q3","values":[
		{"indicator":"ops_level4_share","numerator":377,"denominator":401}]}`)
	if code != 201 {
		t.Fatalf("submission: %d %s", code, body)
	}
	// No graceful shutdown: the write was acknowledged, so it must already be on disk.
	if err := s.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	s.cmd.Wait()

	again := startGoc(t, "demo", "--addr", "127.0.0.1:0", "--data", data)
	// A token the user exported keeps working: the demo keeps its tokens with its data
	// and prints the same ones again.
	if again.tokens["P20"] != tok {
		t.Errorf("after restart the demo printed P20 token %q, want the first one %q", again.tokens["P20"], tok)
	}
	if b, err := os.ReadFile(filepath.Join(data, "tokens", "P20")); err != nil || strings.TrimSpace(string(b)) != tok {
		t.Errorf("tokens/P20 in the data folder: %q, %v; want the printed token", b, err)
	}
	if code, body := again.post(t, tok, `{"agency":"P20","period":"2026-Q2","values":[
		{"indicator":"ops_level4_share","numerator":370,"denominator":401}]}`); code != 201 {
		t.Errorf("the first run's token after restart: %d %s, want 201", code, body)
	}
	var obs struct {
		Observations []struct {
			Value     float64 `json:"value"`
			Submitter string  `json:"submitter"`
		} `json:"observations"`
	}
	// The submission waits for review: its officer reads it with unapproved=true.
	req, _ := http.NewRequest("GET", again.url+"/api/v1/observations?indicator=ops_level4_share&agency=P20&from=2026-Q3&to=2026-Q3&unapproved=true", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	err = json.NewDecoder(resp.Body).Decode(&obs)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("officer's read: %d %v", resp.StatusCode, err)
	}
	if len(obs.Observations) != 1 || obs.Observations[0].Submitter != "demo-P20" {
		t.Fatalf("after kill -9 and restart: %+v, want the acknowledged submission", obs.Observations)
	}
	// 377/401 = 94.01496…%, published at the percent unit's two decimals.
	if want := 94.01; obs.Observations[0].Value != want {
		t.Errorf("value %v, want %v", obs.Observations[0].Value, want)
	}
	// The restart must not load the demo history a second time.
	var hist struct {
		Observations []struct{ Revision int } `json:"observations"`
	}
	again.getJSON(t, "/api/v1/observations?indicator=egdi_rank&history=true", &hist)
	for _, o := range hist.Observations {
		if o.Revision != 1 {
			t.Errorf("demo history was written twice: revision %d", o.Revision)
		}
	}
}

func TestServeFromConfigAcceptsConfiguredToken(t *testing.T) {
	dir := t.TempDir()
	tok, err := auth.NewToken()
	if err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "goc.yaml")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`server:
  addr: 127.0.0.1:0
store:
  backend: sqlite
  path: data/goc.db
submissions:
  approval: automatic   # no reviewer here: what is stored is published
tokens:
  - name: bo-tai-chinh
    agency: BTC
    sha256: %s
`, auth.Hash(tok))), 0o600)
	// No data/ folder: serve creates it, as the example config promises.
	s := startGoc(t, "serve", "--config", cfg)
	code, body := s.post(t, tok, `{"agency":"BTC","period":"2026-Q3","values":[
		{"indicator":"dossiers_fully_online","numerator":62,"denominator":100}]}`)
	if code != 201 {
		t.Fatalf("submission: %d %s", code, body)
	}
	if _, err := os.Stat(filepath.Join(dir, "data", "goc.db")); err != nil {
		t.Errorf("store path is not taken relative to the config file: %v", err)
	}
	var prog struct {
		Latest struct{ Value float64 } `json:"latest"`
	}
	s.getJSON(t, "/api/v1/progress?indicator=dossiers_fully_online&agency=BTC&year=2030", &prog)
	if prog.Latest.Value != 62 {
		t.Errorf("progress latest = %v, want 62", prog.Latest.Value)
	}
}

func TestRemovedOrExpiredTokenStopsWorkingOnSIGHUPWithoutARestart(t *testing.T) {
	dir := t.TempDir()
	keep, _ := auth.NewToken()
	gone, _ := auth.NewToken()
	cfg := filepath.Join(dir, "goc.yaml")
	write := func(tokens string) {
		if err := os.WriteFile(cfg, []byte("server:\n  addr: 127.0.0.1:0\nstore:\n  path: goc.db\ntokens:\n"+tokens), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	both := fmt.Sprintf("  - {name: keep, agency: BTC, sha256: %s}\n  - {name: gone, agency: P20, sha256: %s}\n", auth.Hash(keep), auth.Hash(gone))
	write(both)
	s := startGoc(t, "serve", "--config", cfg)
	whoami := func(tok string) int {
		req, _ := http.NewRequest("GET", s.url+"/api/v1/whoami", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if whoami(gone) != 200 || whoami(keep) != 200 {
		t.Fatal("configured tokens refused before any change")
	}
	// Revoke one and expire the other in the past, then tell goc.
	write(fmt.Sprintf("  - {name: keep, agency: BTC, sha256: %s, expires: 2020-01-01}\n", auth.Hash(keep)))
	if err := s.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	// The reload runs as the signal arrives; wait for its effect, bounded.
	deadline := time.Now().Add(30 * time.Second)
	for whoami(gone) != 401 {
		if time.Now().After(deadline) {
			t.Fatal("revoked token still works 30 s after SIGHUP")
		}
		runtime.Gosched()
	}
	if code := whoami(keep); code != 401 {
		t.Errorf("expired token: %d, want 401", code)
	}
	if s.cmd.ProcessState != nil {
		t.Fatal("goc restarted or stopped")
	}
}
