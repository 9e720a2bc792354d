package config

import (
	"bytes"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// problemsOf returns the problems of a failed load, failing the test on any other error.
func problemsOf(t *testing.T, err error) []Problem {
	t.Helper()
	var ce *Error
	if !errors.As(err, &ce) {
		t.Fatalf("error %v (%T) is not a *config.Error", err, err)
	}
	return ce.Problems
}

func TestExampleConfigLoadsCleanAndMatchesItsFile(t *testing.T) {
	t.Setenv("GOC_INFLUX_TOKEN", "influx-example-secret")
	onDisk, err := os.ReadFile(filepath.Join("testdata", "example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if string(onDisk) != ExampleYAML() {
		t.Fatal("ExampleYAML differs from testdata/example.yaml")
	}
	c, err := Load(filepath.Join("testdata", "example.yaml"))
	if err != nil {
		t.Fatalf("example config does not load:\n%v", err)
	}
	s := c.Server
	if s.Addr != "127.0.0.1:8080" || s.ReadTimeout != 15*time.Second || s.WriteTimeout != time.Minute ||
		s.MaxSubmissionBytes != 10*1024*1024 || s.Location.String() != "Asia/Ho_Chi_Minh" {
		t.Errorf("server = %+v", s)
	}
	if c.Store.Backend != BackendSQLite || c.Store.Path != "/var/lib/goc/goc.db" {
		t.Errorf("store = %+v", c.Store)
	}
	if got := c.Store.Influx.Token.Reveal(); got != "influx-example-secret" {
		t.Errorf("influx token = %q, want the expanded GOC_INFLUX_TOKEN", got)
	}
	want := Token{Name: "lang-son-bao-cao", Agency: "P20", SHA256: "ab049526cce98b33557c33bd1e9245e9c8a7cf40818f6d2d909c8c2e91a7bfd8"}
	if len(c.Tokens) != 1 || c.Tokens[0].Name != want.Name || c.Tokens[0].Agency != want.Agency || c.Tokens[0].SHA256 != want.SHA256 {
		t.Errorf("tokens = %+v, want [%+v]", c.Tokens, want)
	}
	if c.Log != (Log{Level: 0, Format: LogText}) || c.Catalogue.File != "" || c.Registry.File != "" {
		t.Errorf("log = %+v, catalogue = %+v, registry = %+v", c.Log, c.Catalogue, c.Registry)
	}
}

// Profiles show the server's internals, so they are off unless asked for, and served
// on loopback only.
func TestPprofIsOffByDefaultAndLoopbackOnly(t *testing.T) {
	if got := Default().Server.PprofAddr; got != "" {
		t.Errorf("default pprof_addr = %q, want empty (no profiles served)", got)
	}
	c, err := Parse("example.yaml", []byte(ExampleYAML()), "")
	if err != nil {
		t.Fatal(err)
	}
	if c.Server.PprofAddr != "" {
		t.Errorf("the example config serves profiles on %q; it must leave them off", c.Server.PprofAddr)
	}
	for _, tt := range []struct {
		addr string
		ok   bool
	}{
		{"127.0.0.1:6060", true},
		{"127.0.0.2:0", true},
		{"[::1]:6060", true},
		{"localhost:6060", true},
		{":6060", false}, // every interface
		{"0.0.0.0:6060", false},
		{"[::]:6060", false},
		{"192.168.1.10:6060", false},
		{"10.0.0.1:6060", false},
		{"example.org:6060", false},
		{"127.0.0.1", false}, // no port
	} {
		_, err := ParsePprofAddr(tt.addr)
		if (err == nil) != tt.ok {
			t.Errorf("ParsePprofAddr(%q): err = %v, want accepted %v", tt.addr, err, tt.ok)
		}
	}
}

func TestInvalidConfigsReportTheirMistakeWithItsLine(t *testing.T) {
	tests := []struct {
		file string
		line int
		path string
		msg  string
	}{
		{"invalid-unknown-key.yml", 2, "server.adress", "unknown key; known keys here: addr, auth_failures_per_minute, exports, heavy_reads, location, max_submission_bytes, pprof_addr, read_timeout, small_upload, small_upload_budget, tls, trusted_proxies, upload_budget, write_timeout, writes_per_second_per_address, writes_per_second_per_token"},
		{"invalid-addr.yml", 2, "server.addr", `"localhost" is not host:port`},
		{"invalid-pprof-addr.yml", 3, "server.pprof_addr", `"0.0.0.0:6060" is not a loopback address`},
		{"invalid-trusted-proxy.yml", 3, "server.trusted_proxies[1]", `"proxy.example.gov.vn" is not a network (10.0.0.0/8) or an IP address`},
		{"invalid-tls-files.yml", 3, "server.tls", "cannot load the certificate and key: open "},
		{"invalid-tls-half.yml", 3, "server.tls.cert_file", "missing: key_file needs the certificate it belongs to"},
		{"invalid-duration.yml", 3, "server.read_timeout", `"15" is not a duration`},
		{"invalid-negative-duration.yml", 2, "server.write_timeout", `"-5s" must be positive`},
		{"invalid-size.yml", 2, "server.max_submission_bytes", `unknown unit "MB"; use B, KiB, MiB or GiB`},
		{"invalid-backend.yml", 2, "store.backend", `unknown backend "mysql"; known: sqlite, influx`},
		{"invalid-sqlite-path.yml", 4, "store.path", "required when store.backend is sqlite"},
		{"invalid-influx.yml", 3, "store.influx.url", "required when store.backend is influx"},
		{"invalid-token-hash.yml", 9, "tokens[1].sha256", "must be 64 hex characters, lowercase"},
		{"invalid-raw-token.yml", 6, "tokens[0].sha256", "looks like a token, not its hash"},
		{"invalid-duplicate-token.yml", 7, "tokens[1].name", `"lang-son-bao-cao" already names tokens[0]`},
		{"invalid-log-level.yml", 4, "log.level", `unknown log level "verbose"; known: debug, info, warn, error`},
		{"invalid-location.yml", 2, "server.location", `unknown time zone "Asia/Hanoi_City"`},
		{"invalid-duplicate-key.yml", 3, "store.path", "set twice; first at line 2"},
		// yaml.v3 places this mistake on the line of the mapping it breaks.
		{"invalid-syntax.yml", 2, "", "YAML syntax: did not find expected key"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			name := filepath.Join("testdata", tt.file)
			c, err := Load(name)
			if err == nil {
				t.Fatalf("loaded %+v, want an error", c)
			}
			ps := problemsOf(t, err)
			if len(ps) != 1 {
				t.Fatalf("got %d problems, want 1:\n%v", len(ps), err)
			}
			p := ps[0]
			if p.File != name || p.Line != tt.line || p.Path != tt.path || !strings.Contains(p.Message, tt.msg) {
				t.Fatalf("got  %s\nwant %s:%d: %s: …%s…", p, name, tt.line, tt.path, tt.msg)
			}
		})
	}
}

func TestEveryMistakeInAFileIsReportedWithItsLine(t *testing.T) {
	name := filepath.Join("testdata", "invalid-three-mistakes.yml")
	_, err := Load(name)
	want := []string{
		name + `:4: server.write_timeout: "forever" is not a duration`,
		name + ":11: tokens[0].sha256: must be 64 hex characters",
		name + ":14: log.fromat: unknown key; known keys here: format, level",
	}
	ps := problemsOf(t, err)
	if len(ps) != len(want) {
		t.Fatalf("got %d problems, want %d:\n%v", len(ps), len(want), err)
	}
	lines := strings.Split(err.Error(), "\n")
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("line %d of the error:\n got  %s\n want %s…", i+1, lines[i], w)
		}
	}
}

func TestEnvironmentVariablesAreExpandedBeforeParsing(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("GOC_TEST_PATH", dir)
	t.Setenv("GOC_TEST_LEVEL", "debug")
	c, err := Parse("env.yaml", []byte("store:\n  path: ${GOC_TEST_PATH}/goc.db\nlog:\n  level: $GOC_TEST_LEVEL\n"), "/elsewhere")
	if err != nil {
		t.Fatal(err)
	}
	if want := dir + "/goc.db"; c.Store.Path != want {
		t.Errorf("store.path = %q, want %q", c.Store.Path, want)
	}
	if c.Log.Level.String() != "DEBUG" {
		t.Errorf("log.level = %v, want DEBUG", c.Log.Level)
	}
}

func TestRelativePathsAreTakenFromTheConfigFolder(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "goc.yaml")
	data := "store:\n  path: data/goc.db\ncatalogue:\n  file: catalogue.yaml\nregistry:\n  file: /etc/goc/agencies.yaml\n"
	if err := os.WriteFile(file, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(file)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, "data", "goc.db"); c.Store.Path != want {
		t.Errorf("store.path = %q, want %q", c.Store.Path, want)
	}
	if want := filepath.Join(dir, "catalogue.yaml"); c.Catalogue.File != want {
		t.Errorf("catalogue.file = %q, want %q", c.Catalogue.File, want)
	}
	if c.Registry.File != "/etc/goc/agencies.yaml" {
		t.Errorf("registry.file = %q, want the absolute path unchanged", c.Registry.File)
	}

	mem, err := Parse("mem.yaml", []byte("store:\n  path: \":memory:\"\n"), dir)
	if err != nil {
		t.Fatal(err)
	}
	if mem.Store.Path != ":memory:" {
		t.Errorf("store.path = %q, want SQLite's :memory: untouched", mem.Store.Path)
	}
}

func TestOmittedAndEmptySettingsTakeDefaults(t *testing.T) {
	c, err := Parse("min.yaml", []byte("server:\n  addr: \"\"\n  read_timeout:\nstore:\n  path: goc.db\ncatalogue:\n"), "")
	if err != nil {
		t.Fatal(err)
	}
	d := Default()
	if c.Server.Addr != DefaultAddr || c.Server.ReadTimeout != DefaultReadTimeout || c.Server.WriteTimeout != DefaultWriteTimeout ||
		c.Server.MaxSubmissionBytes != DefaultMaxSubmissionBytes || c.Server.Location.String() != DefaultLocation {
		t.Errorf("server = %+v, want defaults", c.Server)
	}
	if c.Store.Backend != BackendSQLite || c.Store.Path != "goc.db" || c.Log != d.Log || len(c.Tokens) != 0 {
		t.Errorf("config = %+v", c)
	}
}

func TestEmptyFileOnlyLacksTheDatabasePath(t *testing.T) {
	_, err := Parse("empty.yaml", []byte("# nothing yet\n"), "")
	ps := problemsOf(t, err)
	if len(ps) != 1 || ps[0].Path != "store.path" || ps[0].Line != 0 {
		t.Fatalf("got %v, want one store.path problem without a line", err)
	}
	if got := ps[0].String(); got != "empty.yaml: store.path: required when store.backend is sqlite: the database file" {
		t.Fatalf("problem reads %q", got)
	}
}

func TestInfluxBackendNeedsNoSQLitePath(t *testing.T) {
	t.Setenv("GOC_TEST_INFLUX_TOKEN", "tok-123")
	c, err := Parse("influx.yaml", []byte(`store:
  backend: influx
  influx: {url: "http://127.0.0.1:8086", org: mic, bucket: goc, token: ${GOC_TEST_INFLUX_TOKEN}}
`), "")
	if err != nil {
		t.Fatal(err)
	}
	in := c.Store.Influx
	if c.Store.Backend != BackendInflux || in.URL != "http://127.0.0.1:8086" || in.Org != "mic" || in.Bucket != "goc" || in.Token.Reveal() != "tok-123" {
		t.Fatalf("store = %+v, token %q", c.Store, in.Token.Reveal())
	}
	_, err = Parse("influx.yaml", []byte("store:\n  backend: influx\n  influx:\n    url: ftp://x\n    bucket: goc\n"), "")
	if ps := problemsOf(t, err); len(ps) != 1 || ps[0].Line != 4 || !strings.Contains(ps[0].Message, "not an http:// or https:// URL") {
		t.Fatalf("ftp URL gave %v", err)
	}
}

func TestWrongShapesAreReportedNotPanicked(t *testing.T) {
	tests := []struct {
		yaml string
		want string
	}{
		{"server: 8080\nstore: {path: x}\n", "x.yaml:1: server: must be a mapping of keys to values, not a single value"},
		{"store:\n  path: [a, b]\n", "x.yaml:2: store.path: must be a single value, not a list"},
		{"store: {path: x}\ntokens:\n  name: a\n", "x.yaml:3: tokens: must be a list of tokens, not a mapping"},
		{"store: {path: x}\ntokens:\n  - P20\n", "x.yaml:3: tokens[0]: must be a mapping of keys to values, not a single value"},
		{"- a\n- b\n", "x.yaml:1: must be a mapping of keys to values, not a list"},
		{"store: {path: x}\n---\nlog: {}\n", "x.yaml:2: a second YAML document; put everything in one"},
	}
	for _, tt := range tests {
		_, err := Parse("x.yaml", []byte(tt.yaml), "")
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Parse(%q) = %v\nwant %s", tt.yaml, err, tt.want)
		}
	}
}

func TestTokenMistakesAreReportedPerToken(t *testing.T) {
	_, err := Parse("t.yaml", []byte(`store: {path: x}
tokens:
  - name: a
    agency: P20
    sha256: ab049526cce98b33557c33bd1e9245e9c8a7cf40818f6d2d909c8c2e91a7bfd8
  - name: b
    sha256: ab049526cce98b33557c33bd1e9245e9c8a7cf40818f6d2d909c8c2e91a7bfd8
  - agency: P20
    sha256: 464658da16f5e7c4c945222b364cd21614b2d3097e52f19ec71d48c9cfdb1e19
    secret: x
`), "")
	want := []string{
		"t.yaml:6: tokens[1].agency: required",
		"t.yaml:7: tokens[1].sha256: same hash as tokens[0]",
		"t.yaml:8: tokens[2].name: required",
		"t.yaml:10: tokens[2].secret: unknown key; known keys here: agency, expires, keep_after_merger, name, role, sha256",
	}
	got := err.Error()
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("error lacks %q:\n%s", w, got)
		}
	}
	if n := len(problemsOf(t, err)); n != len(want) {
		t.Errorf("got %d problems, want %d:\n%s", n, len(want), got)
	}
}

func TestCheckAgenciesReportsUnknownAgenciesWithTheirLines(t *testing.T) {
	c, err := Parse("goc.yaml", []byte(`store: {path: x}
tokens:
  - name: lang-son
    agency: P20
    sha256: ab049526cce98b33557c33bd1e9245e9c8a7cf40818f6d2d909c8c2e91a7bfd8
  - name: typo
    sha256: 464658da16f5e7c4c945222b364cd21614b2d3097e52f19ec71d48c9cfdb1e19
    agency: P99
`), "")
	if err != nil {
		t.Fatal(err)
	}
	known := func(code string) bool { return code == "P20" }
	err = c.CheckAgencies(known)
	if err == nil || err.Error() != `goc.yaml:8: tokens[1].agency: unknown agency "P99"` {
		t.Fatalf("CheckAgencies = %v", err)
	}
	problemsOf(t, err)
	if err := c.CheckAgencies(func(string) bool { return true }); err != nil {
		t.Fatalf("all agencies known, got %v", err)
	}
}

func TestLogSettingsBuildTheirHandler(t *testing.T) {
	var buf bytes.Buffer
	h := Log{Level: slog.LevelWarn, Format: LogJSON}.Handler(&buf)
	if h.Enabled(t.Context(), slog.LevelInfo) || !h.Enabled(t.Context(), slog.LevelWarn) {
		t.Error("a warn-level handler must drop info and keep warn")
	}
	slog.New(h).Warn("disk nearly full", "free", "2%")
	if !strings.HasPrefix(buf.String(), `{"time":`) || !strings.Contains(buf.String(), `"msg":"disk nearly full"`) {
		t.Errorf("json format wrote %q", buf.String())
	}
	buf.Reset()
	slog.New(Log{Format: LogText}.Handler(&buf)).Info("started")
	if !strings.Contains(buf.String(), "level=INFO msg=started") {
		t.Errorf("text format wrote %q", buf.String())
	}
}

func TestExampleInfluxTokenIsEmptyWhenItsVariableIsUnset(t *testing.T) {
	t.Setenv("GOC_INFLUX_TOKEN", "")
	if err := os.Unsetenv("GOC_INFLUX_TOKEN"); err != nil {
		t.Fatal(err)
	}
	c, err := Parse("example.yaml", []byte(ExampleYAML()), "")
	if err != nil {
		t.Fatal(err)
	}
	if !c.Store.Influx.Token.IsZero() {
		t.Fatal("token set although GOC_INFLUX_TOKEN is unset")
	}
}

func TestTokenRoleExpiryAndMergerAreRead(t *testing.T) {
	hash := strings.Repeat("ab", 32)
	c, err := Parse("t.yaml", []byte("store: {path: goc.db}\ntokens:\n"+
		"  - {name: a, agency: VN, sha256: "+hash+", role: reviewer, expires: 2026-12-31, keep_after_merger: true}\n"+
		"  - {name: b, agency: P20, sha256: "+strings.Repeat("cd", 32)+"}\n"), "")
	if err != nil {
		t.Fatal(err)
	}
	a, b := c.Tokens[0], c.Tokens[1]
	if a.Role != RoleReviewer || !a.KeepAfterMerger || !a.Expires.Equal(time.Date(2026, 12, 31, 17, 0, 0, 0, time.UTC)) {
		t.Errorf("token a = %+v, want a reviewer until the end of 2026-12-31 in UTC+7, kept after the merger", a)
	}
	if b.Role != "" || !b.Expires.IsZero() || b.KeepAfterMerger {
		t.Errorf("token b = %+v, want the defaults", b)
	}
	_, err = Parse("t.yaml", []byte("store: {path: goc.db}\ntokens:\n  - {name: a, agency: VN, sha256: "+hash+", role: boss, expires: soon}\n"), "")
	for _, want := range []string{`tokens[0].role: "boss" must be officer, reviewer or operator`, `tokens[0].expires: "soon" must be a date`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v lacks %q", err, want)
		}
	}
}
