// Package redistest runs real Redis servers (Debian's redis-server) for tests: each on
// a free loopback port, with its files in a folder of its own, stopped when the test
// ends. scripts/test.sh installs redis-server; without it a test fails with the
// command that installs it, never skips.
package redistest

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Env names the environment variable that may hold the path of redis-server.
const Env = "GOC_REDIS_SERVER"

// Install is how to get the binary, for error messages.
const Install = "apt-get install -y redis-server   (scripts/test.sh does it)"

// Binary returns the redis-server to run: $GOC_REDIS_SERVER, or redis-server on PATH,
// or Debian's /usr/bin/redis-server.
func Binary() (string, error) {
	if p := os.Getenv(Env); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("%s=%s: %w; install Redis with:\n  %s", Env, p, err, Install)
		}
		return p, nil
	}
	if p, err := exec.LookPath("redis-server"); err == nil {
		return p, nil
	}
	if _, err := os.Stat("/usr/bin/redis-server"); err == nil {
		return "/usr/bin/redis-server", nil
	}
	return "", fmt.Errorf("no redis-server: %s is not set and none is on PATH; these tests need a real Redis. Install it with:\n  %s", Env, Install)
}

// Server is one redis-server process.
type Server struct {
	// Addr is 127.0.0.1:PORT.
	Addr     string
	cmd      *exec.Cmd
	done     chan struct{}
	log      *bytes.Buffer
	bin      string
	conf     string
	password string
}

// Start runs a redis-server for the test on a free loopback port, with persistence
// off and its folder in t.TempDir(); it is stopped when the test ends. password, when
// not empty, is required of clients (requirepass).
func Start(t testing.TB, password string) *Server {
	t.Helper()
	s, err := New(t.TempDir(), password)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s
}

// StartDurable runs a redis-server configured as the README asks of a deployment
// (appendonly yes, appendfsync always): what it acknowledged survives a SIGKILL, which
// Kill and Restart show.
func StartDurable(t testing.TB, password string) *Server {
	t.Helper()
	s, err := newServer(t.TempDir(), password, true)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s
}

// New starts a redis-server with its files in dir.
func New(dir, password string) (*Server, error) { return newServer(dir, password, false) }

// Durable is the persistence a deployment needs: every acknowledged write is in the
// append-only file, synced, before Redis answers.
const Durable = "appendonly yes\nappendfsync always\n"

func newServer(dir, password string, durable bool) (*Server, error) {
	bin, err := Binary()
	if err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("free port for redis-server: %w", err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	persist := "appendonly no\n"
	if durable {
		persist = Durable
	}
	conf := fmt.Sprintf("bind 127.0.0.1\nport %d\ndir %s\nsave \"\"\n%sdaemonize no\nprotected-mode yes\nlogfile \"\"\n", port, dir, persist)
	if password != "" {
		conf += fmt.Sprintf("requirepass %q\n", password)
	}
	path := filepath.Join(dir, "redis.conf")
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		return nil, fmt.Errorf("redis-server config: %w", err)
	}
	s := &Server{Addr: fmt.Sprintf("127.0.0.1:%d", port), log: &bytes.Buffer{}, bin: bin, conf: path, password: password}
	if err := s.run(); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Server) run() error {
	s.done = make(chan struct{})
	s.cmd = exec.Command(s.bin, s.conf)
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	if err := s.cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", s.bin, err)
	}
	go func() { s.cmd.Wait(); close(s.done) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if err := ping(s.Addr, s.password); err == nil {
			return nil
		} else if time.Now().After(deadline) {
			s.Stop()
			return fmt.Errorf("redis-server on %s did not answer PING in 10 s: %v\n%s", s.Addr, err, s.log.String())
		}
		select {
		case <-s.done:
			return fmt.Errorf("redis-server exited at start:\n%s", s.log.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Restart starts the server again, on the same port and files, after Stop.
func (s *Server) Restart() error {
	select {
	case <-s.done:
	default:
		return fmt.Errorf("redis-server on %s is still running", s.Addr)
	}
	return s.run()
}

// ping speaks just enough RESP to know the server is up.
func ping(addr, password string) error {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(time.Second))
	cmd := "PING\r\n"
	if password != "" {
		cmd = fmt.Sprintf("AUTH %s\r\nPING\r\n", password)
	}
	if _, err := c.Write([]byte(cmd)); err != nil {
		return err
	}
	r := bufio.NewReader(c)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return err
		}
		if strings.HasPrefix(line, "+PONG") {
			return nil
		}
		if strings.HasPrefix(line, "-") {
			return fmt.Errorf("redis: %s", strings.TrimSpace(line))
		}
	}
}

// Stop ends the server with SIGKILL, as a crash would, and waits for it. Stopping a
// stopped server does nothing.
func (s *Server) Stop() {
	if s.cmd.Process != nil {
		s.cmd.Process.Kill()
	}
	<-s.done
}
