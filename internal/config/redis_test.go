package config

import (
	"strings"
	"testing"
)

func TestRedisSettingsReadWithSecretPassword(t *testing.T) {
	t.Setenv("GOC_TEST_REDIS_PASSWORD", "redis-Sup3r-Secret")
	c, err := Parse("goc.yaml", []byte("store: {path: goc.db}\nredis:\n  addr: 127.0.0.1:6379\n  password: ${GOC_TEST_REDIS_PASSWORD}\n  db: 2\n  replica: goc-a\n"), "")
	if err != nil {
		t.Fatal(err)
	}
	r := c.Redis
	if r.Addr != "127.0.0.1:6379" || r.DB != 2 || r.Replica != "goc-a" || r.Password.Reveal() != "redis-Sup3r-Secret" {
		t.Fatalf("redis = %+v (password %q)", r, r.Password.Reveal())
	}
	if s := r.Password.String(); strings.Contains(s, "Sup3r") {
		t.Errorf("the password prints as %q", s)
	}
}

func TestRedisBadSettingsNamedWithTheirLines(t *testing.T) {
	_, err := Parse("goc.yaml", []byte("store: {path: goc.db}\nredis:\n  addr: localhost\n  db: -1\n  port: 6379\n"), "")
	ps := problemsOf(t, err)
	want := map[string]int{"redis.addr": 3, "redis.db": 4, "redis.port": 5}
	for _, p := range ps {
		if line, ok := want[p.Path]; ok && line == p.Line {
			delete(want, p.Path)
		}
	}
	if len(want) > 0 {
		t.Errorf("problems %v lack %v", ps, want)
	}
}
