// Package influxtest runs real InfluxDB 1.8 servers (influxd) for tests: each on
// loopback ports of its own, with its data in a temporary folder, started and stopped
// by the test itself so that tests can take InfluxDB away in the middle of a run.
//
// The influxd binary comes from the GOC_INFLUXD environment variable, which
// scripts/test.sh sets after installing InfluxDB 1.8.10; without it, the usual
// `go install` location is tried. No binary is a test failure with instructions, never
// a skip.
package influxtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Env names the environment variable holding the path of the influxd binary.
const Env = "GOC_INFLUXD"

// Install is how to get the binary, for error messages.
const Install = `go install -ldflags "-s -w -X main.version=1.8.10" github.com/influxdata/influxdb/cmd/influxd@v1.8.10` +
	"\n  export GOC_INFLUXD=$(go env GOPATH)/bin/influxd\n(scripts/test.sh does both)"

// Binary returns the influxd to run: $GOC_INFLUXD, or influxd where `go install` puts it.
func Binary() (string, error) {
	if p := os.Getenv(Env); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("%s=%s: %w; install InfluxDB 1.8.10 with:\n  %s", Env, p, err, Install)
		}
		return p, nil
	}
	var candidates []string
	if gp := os.Getenv("GOPATH"); gp != "" {
		candidates = append(candidates, filepath.Join(strings.Split(gp, string(os.PathListSeparator))[0], "bin", "influxd"))
	}
	if home, err := os.UserHomeDir(); err == nil {
		candidates = append(candidates, filepath.Join(home, "go", "bin", "influxd"))
	}
	for _, c := range candidates {
		if _, err := os.Stat(c); err == nil {
			return c, nil
		}
	}
	return "", fmt.Errorf("no influxd binary: %s is not set and none was found in %v; these tests need a real InfluxDB 1.8.10. Install it with:\n  %s",
		Env, candidates, Install)
}

// Server is one influxd process and its data. Stop and Start may be called any number
// of times; the data and ports stay the same.
type Server struct {
	// URL is the HTTP API, http://127.0.0.1:PORT.
	URL string

	bin, dir, conf string

	user, password string

	mu   sync.Mutex
	dbs  int
	cmd  *exec.Cmd
	done chan struct{}
	log  *bytes.Buffer
}

// Option tunes New.
type Option func(*Server)

// WithAuth turns authentication on and creates an admin user: clients then pass
// "user:password" as their token.
func WithAuth(user, password string) Option {
	return func(s *Server) { s.user, s.password = user, password }
}

// New prepares a server in a new temporary folder and starts it.
func New(opts ...Option) (*Server, error) {
	bin, err := Binary()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "goc-influxd-")
	if err != nil {
		return nil, fmt.Errorf("influxd data folder: %w", err)
	}
	ports, err := freePorts(2)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	s := &Server{
		URL: fmt.Sprintf("http://127.0.0.1:%d", ports[0]),
		bin: bin, dir: dir, conf: filepath.Join(dir, "influxd.conf"),
	}
	for _, o := range opts {
		o(s)
	}
	// Every listener on loopback: HTTP, and the RPC (backup/restore) service, which
	// influxd would otherwise open on 8088 for any address.
	conf := fmt.Sprintf(`reporting-disabled = true
bind-address = "127.0.0.1:%d"
[meta]
  dir = %q
  logging-enabled = false
[data]
  dir = %q
  wal-dir = %q
  query-log-enabled = false
[monitor]
  store-enabled = false
[continuous_queries]
  enabled = false
[http]
  bind-address = "127.0.0.1:%d"
  flux-enabled = true
  auth-enabled = %t
  log-enabled = false
  pprof-enabled = false
[logging]
  level = "warn"
`, ports[1], filepath.Join(dir, "meta"), filepath.Join(dir, "data"), filepath.Join(dir, "wal"), ports[0], s.user != "")
	if err := os.WriteFile(s.conf, []byte(conf), 0o600); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("influxd config: %w", err)
	}
	if err := s.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if s.user != "" {
		// With no user yet, influxd lets anyone create the first admin.
		stmt := fmt.Sprintf("CREATE USER %q WITH PASSWORD '%s' WITH ALL PRIVILEGES", s.user, strings.ReplaceAll(s.password, "'", `\'`))
		if err := s.Exec(context.Background(), stmt); err != nil {
			s.Close()
			return nil, err
		}
	}
	return s, nil
}

// Start runs influxd (again) and waits until /health passes.
func (s *Server) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return errors.New("influxd is already running")
	}
	cmd := exec.Command(s.bin, "-config", s.conf)
	s.log = &bytes.Buffer{}
	cmd.Stdout, cmd.Stderr = s.log, s.log
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start influxd %s: %w", s.bin, err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	s.cmd, s.done = cmd, done

	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case <-done:
			s.cmd = nil
			return fmt.Errorf("influxd exited while starting:\n%s", s.log)
		default:
		}
		if healthy(s.URL) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("influxd did not pass /health in 60 s:\n%s", s.log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func healthy(base string) bool {
	c := http.Client{Timeout: time.Second}
	resp, err := c.Get(base + "/health")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// Stop ends influxd gracefully (SIGTERM, then SIGKILL after 15 s) and waits for it.
func (s *Server) Stop() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return nil
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(15 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
	}
	s.cmd = nil
	return nil
}

// Close stops influxd and removes its data.
func (s *Server) Close() error {
	err := s.Stop()
	return errors.Join(err, os.RemoveAll(s.dir))
}

// Log is what influxd printed since it last started.
func (s *Server) Log() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.log == nil {
		return ""
	}
	return s.log.String()
}

// CreateDatabase creates a database with InfluxQL. Its default retention policy,
// autogen, keeps data forever; the v2 API then calls it the bucket "NAME/autogen".
// Shard groups of 520 weeks suit G-OC's observations, whose times are period starts
// spread over decades.
func (s *Server) CreateDatabase(ctx context.Context, name string) error {
	return s.Exec(ctx, fmt.Sprintf("CREATE DATABASE %q WITH SHARD DURATION 520w", name))
}

// NewDatabase creates a database no other test of this server uses, and returns the
// v2 bucket name of its default retention policy ("goc_N/autogen").
func (s *Server) NewDatabase(tb testing.TB) string {
	tb.Helper()
	s.mu.Lock()
	s.dbs++
	name := fmt.Sprintf("goc_%d", s.dbs)
	s.mu.Unlock()
	if err := s.CreateDatabase(context.Background(), name); err != nil {
		tb.Fatalf("create InfluxDB database: %v", err)
	}
	return name + "/autogen"
}

// Exec runs one InfluxQL statement through the 1.x /query endpoint.
func (s *Server) Exec(ctx context.Context, stmt string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL+"/query",
		strings.NewReader(url.Values{"q": {stmt}}.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if s.user != "" {
		req.SetBasicAuth(s.user, s.password)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("influxql %q: %w", stmt, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || bytes.Contains(body, []byte(`"error"`)) {
		return fmt.Errorf("influxql %q: %s %s", stmt, resp.Status, body)
	}
	return nil
}

// Start starts a server for one test (or benchmark) and stops it when the test ends. It fails the test, with instructions, when no
// influxd binary is installed.
func Start(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	s, err := New(opts...)
	if err != nil {
		tb.Fatalf("InfluxDB: %v", err)
	}
	tb.Cleanup(func() {
		if tb.Failed() {
			tb.Logf("influxd log:\n%s", s.Log())
		}
		s.Close()
	})
	return s
}

func freePorts(n int) ([]int, error) {
	var ports []int
	var lns []net.Listener
	defer func() {
		for _, l := range lns {
			l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("find a free port: %w", err)
		}
		lns = append(lns, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}
