package main

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// Go's profiles show the server's internals and a CPU profile costs CPU, so goc serve
// serves none unless asked, and then only on loopback, apart from the API.
func TestServePprofIsOffByDefaultAndLoopbackOnly(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "goc.yaml")
	if err := os.WriteFile(cfg, []byte("server: {addr: 127.0.0.1:0}\nstore: {path: goc.db}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	get := func(url string) (int, string) {
		t.Helper()
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}

	t.Run("off by default", func(t *testing.T) {
		s := startGoc(t, "serve", "--config", cfg)
		for _, l := range s.stdout {
			if strings.Contains(l, "pprof") {
				t.Errorf("serve without --pprof logged a profile address: %s", l)
			}
		}
		if code, _ := get(s.url + "/debug/pprof/heap?debug=1"); code != http.StatusNotFound {
			t.Errorf("GET /debug/pprof/heap on the API = %d, want 404", code)
		}
	})

	t.Run("refuses an address beyond loopback", func(t *testing.T) {
		for _, addr := range []string{"0.0.0.0:0", ":0", "[::]:0", "192.0.2.1:6060"} {
			_, stderr, code := runGoc(t, "serve", "--config", cfg, "--pprof", addr)
			if code != 2 || !strings.Contains(stderr, "--pprof") || !strings.Contains(stderr, "not a loopback address") {
				t.Errorf("serve --pprof %s: exit %d, stderr %q; want 2 naming --pprof and loopback", addr, code, stderr)
			}
		}
		bad := filepath.Join(dir, "bad.yaml")
		os.WriteFile(bad, []byte("server: {addr: 127.0.0.1:0, pprof_addr: \"0.0.0.0:6060\"}\nstore: {path: goc.db}\n"), 0o600)
		_, stderr, code := runGoc(t, "serve", "--config", bad)
		if code != 1 || !strings.Contains(stderr, "server.pprof_addr") || !strings.Contains(stderr, "not a loopback address") {
			t.Errorf("serve with pprof_addr 0.0.0.0: exit %d, stderr %q; want 1 naming server.pprof_addr", code, stderr)
		}
	})

	t.Run("on loopback when asked, apart from the API", func(t *testing.T) {
		s := startGoc(t, "serve", "--config", cfg, "--pprof", "127.0.0.1:0")
		var pprofURL string
		re := regexp.MustCompile(`url=(http://127\.0\.0\.1:\d+/debug/pprof/)`)
		for _, l := range s.stdout {
			if m := re.FindStringSubmatch(l); m != nil && strings.Contains(l, "pprof") {
				pprofURL = m[1]
			}
		}
		if pprofURL == "" {
			t.Fatalf("serve --pprof logged no profile address: %v", s.stdout)
		}
		if strings.HasPrefix(pprofURL, s.url+"/") {
			t.Errorf("profiles on the API's own address %s", s.url)
		}
		code, body := get(pprofURL + "heap?debug=1")
		if code != http.StatusOK || !strings.Contains(body, "heap profile:") || !strings.Contains(body, "# HeapInuse") {
			t.Errorf("GET %sheap?debug=1 = %d %.200q, want the heap profile", pprofURL, code, body)
		}
		if code, _ := get(s.url + "/debug/pprof/heap?debug=1"); code != http.StatusNotFound {
			t.Errorf("GET /debug/pprof/heap on the API = %d, want 404 (profiles on their own address only)", code)
		}
	})
}
