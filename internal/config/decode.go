package config

import (
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/g-oc/goc/internal/forwarded"
	"github.com/g-oc/goc/internal/secret"
)

// The file is walked as a yaml.Node tree rather than decoded into structs, so that every
// problem keeps its line and decoding goes on past the first mistake.

// fields maps the keys a mapping accepts to what reads each value.
type fields map[string]func(v *yaml.Node, path string)

// decoder walks one document, collecting problems and the line of every key it meets.
type decoder struct {
	*problems
	baseDir string
	// lines maps a setting's path to the line of its key, for checks that span settings.
	lines map[string]int
}

// syntaxLine pulls the line out of yaml.v3's "yaml: line 3: ..." messages.
var syntaxLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

func decode(ps *problems, data []byte, baseDir string) *Config {
	c := Default()
	d := &decoder{problems: ps, baseDir: baseDir, lines: map[string]int{}}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil && !errors.Is(err, io.EOF) {
		d.syntax(err)
		return c
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case err == nil:
		d.add(extra.Line, "", "a second YAML document; put everything in one")
	case !errors.Is(err, io.EOF):
		d.syntax(err)
		return c
	}
	d.mapping(&doc, "", fields{
		"server":      func(v *yaml.Node, p string) { d.server(v, p, &c.Server) },
		"store":       func(v *yaml.Node, p string) { d.store(v, p, &c.Store) },
		"catalogue":   func(v *yaml.Node, p string) { d.mapping(v, p, fields{"file": d.file(&c.Catalogue.File)}) },
		"registry":    func(v *yaml.Node, p string) { d.mapping(v, p, fields{"file": d.file(&c.Registry.File)}) },
		"tokens":      func(v *yaml.Node, p string) { c.Tokens = d.tokens(v, p) },
		"log":         func(v *yaml.Node, p string) { d.log(v, p, &c.Log) },
		"ranking":     func(v *yaml.Node, p string) { d.ranking(v, p, &c.Ranking) },
		"collectors":  func(v *yaml.Node, p string) { d.collectors(v, p, &c.Collectors) },
		"submissions": func(v *yaml.Node, p string) { d.submissions(v, p, &c.Submissions) },
		"alerts":      func(v *yaml.Node, p string) { d.alerts(v, p, &c.Alerts) },
		"redis":       func(v *yaml.Node, p string) { d.redis(v, p, &c.Redis) },
		"opendata": func(v *yaml.Node, p string) {
			d.mapping(v, p, fields{"licence": func(v *yaml.Node, p string) {
				d.mapping(v, p, fields{"name": d.text(&c.OpenData.Licence.Name), "title": d.text(&c.OpenData.Licence.Title), "path": d.text(&c.OpenData.Licence.Path)})
			}})
		},
	})
	d.checkStore(&c.Store)
	return c
}

func (d *decoder) syntax(err error) {
	if m := syntaxLine.FindStringSubmatch(err.Error()); m != nil {
		line, _ := strconv.Atoi(m[1])
		d.add(line, "", "YAML syntax: %s", m[2])
		return
	}
	d.add(0, "", "YAML syntax: %s", strings.TrimPrefix(err.Error(), "yaml: "))
}

// resolve steps through the document wrapper and aliases to the value node.
func resolve(n *yaml.Node) *yaml.Node {
	for n != nil {
		switch {
		case n.Kind == yaml.DocumentNode && len(n.Content) > 0:
			n = n.Content[0]
		case n.Kind == yaml.AliasNode && n.Alias != nil:
			n = n.Alias
		default:
			return n
		}
	}
	return nil
}

// isNull is true for an absent, empty or null value: "key:" with nothing after it.
func isNull(n *yaml.Node) bool {
	return n == nil || n.Kind == 0 || n.Kind == yaml.DocumentNode || (n.Kind == yaml.ScalarNode && n.Tag == "!!null")
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	return "a single value"
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// mapping reads a mapping with the given keys, reporting unknown and repeated keys. A
// null value is an empty mapping. It reports whether n was a mapping.
func (d *decoder) mapping(n *yaml.Node, path string, f fields) bool {
	n = resolve(n)
	if isNull(n) {
		return true
	}
	if n.Kind != yaml.MappingNode {
		d.add(n.Line, path, "must be a mapping of keys to values, not %s", kindName(n))
		return false
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		p := join(path, k.Value)
		read, ok := f[k.Value]
		if !ok {
			d.add(k.Line, p, "unknown key; known keys here: %s", strings.Join(slices.Sorted(maps.Keys(f)), ", "))
			continue
		}
		if first, dup := seen[k.Value]; dup {
			d.add(k.Line, p, "set twice; first at line %d", first)
			continue
		}
		seen[k.Value] = k.Line
		d.lines[p] = k.Line
		read(resolve(v), p)
	}
	return true
}

// str reads a single value; null reads as "". ok is false after a reported problem.
func (d *decoder) str(v *yaml.Node, path string) (s string, ok bool) {
	if isNull(v) {
		return "", true
	}
	if v.Kind != yaml.ScalarNode {
		d.add(v.Line, path, "must be a single value, not %s", kindName(v))
		return "", false
	}
	return strings.TrimSpace(v.Value), true
}

// setting reads a single value that, when not empty, parse turns into the setting.
// Empty values leave the default in place.
func setting[T any](d *decoder, dst *T, parse func(string) (T, error)) func(*yaml.Node, string) {
	return func(v *yaml.Node, path string) {
		s, ok := d.str(v, path)
		if !ok || s == "" {
			return
		}
		x, err := parse(s)
		if err != nil {
			d.add(v.Line, path, "%v", err)
			return
		}
		*dst = x
	}
}

func (d *decoder) text(dst *string) func(*yaml.Node, string) {
	return setting(d, dst, func(s string) (string, error) { return s, nil })
}

// scalarList reads a list of networks or addresses: anything but a list is reported with
// an example, and each item goes to each, trimmed, with its own path (list[2]) for its
// problems.
func (d *decoder) scalarList(v *yaml.Node, path, example string, each func(n *yaml.Node, path, text string)) {
	v = resolve(v)
	if isNull(v) {
		return
	}
	if v.Kind != yaml.SequenceNode {
		d.add(v.Line, path, "must be a list of networks or addresses, such as %s", example)
		return
	}
	for i, n := range v.Content {
		each(n, fmt.Sprintf("%s[%d]", path, i), strings.TrimSpace(resolve(n).Value))
	}
}

// file reads a path, resolving a relative one against the config file's folder.
func (d *decoder) file(dst *string) func(*yaml.Node, string) {
	return setting(d, dst, func(s string) (string, error) {
		if filepath.IsAbs(s) || d.baseDir == "" {
			return s, nil
		}
		return filepath.Join(d.baseDir, s), nil
	})
}

func (d *decoder) server(n *yaml.Node, path string, s *Server) {
	d.mapping(n, path, fields{
		"addr":                          setting(d, &s.Addr, parseAddr),
		"read_timeout":                  setting(d, &s.ReadTimeout, parseDuration),
		"write_timeout":                 setting(d, &s.WriteTimeout, parseDuration),
		"max_submission_bytes":          setting(d, &s.MaxSubmissionBytes, parsePositiveSize),
		"location":                      setting(d, &s.Location, parseLocation),
		"upload_budget":                 setting(d, &s.UploadBudget, parsePositiveSize),
		"small_upload":                  setting(d, &s.SmallUpload, parsePositiveSize),
		"small_upload_budget":           setting(d, &s.SmallUploadBudget, parsePositiveSize),
		"heavy_reads":                   setting(d, &s.HeavyReads, parsePositiveInt),
		"exports":                       setting(d, &s.Exports, parsePositiveInt),
		"writes_per_second_per_address": setting(d, &s.WritesPerSecondPerAddress, parsePositiveRate),
		"writes_per_second_per_token":   setting(d, &s.WritesPerSecondPerToken, parsePositiveRate),
		"auth_failures_per_minute":      setting(d, &s.AuthFailuresPerMinute, parsePositiveRate),
		"pprof_addr":                    setting(d, &s.PprofAddr, ParsePprofAddr),
		"trusted_proxies": func(v *yaml.Node, p string) {
			d.scalarList(v, p, "[10.0.0.0/8, 192.0.2.10]", func(n *yaml.Node, path, text string) {
				pr, err := forwarded.ParsePrefix(text)
				if err != nil {
					d.add(n.Line, path, "%q is not a network (10.0.0.0/8) or an IP address (names are not accepted: their address could change)", text)
					return
				}
				s.TrustedProxies = append(s.TrustedProxies, pr)
			})
		},
		"tls": func(v *yaml.Node, p string) {
			d.mapping(v, p, fields{"cert_file": d.file(&s.TLS.CertFile), "key_file": d.file(&s.TLS.KeyFile)})
			switch {
			case s.TLS.CertFile == "" && s.TLS.KeyFile != "":
				d.add(v.Line, p+".cert_file", "missing: key_file needs the certificate it belongs to")
			case s.TLS.CertFile != "" && s.TLS.KeyFile == "":
				d.add(v.Line, p+".key_file", "missing: cert_file needs its private key")
			case s.TLS.CertFile != "":
				if _, err := tls.LoadX509KeyPair(s.TLS.CertFile, s.TLS.KeyFile); err != nil {
					d.add(v.Line, p, "cannot load the certificate and key: %v", err)
				}
			}
		},
	})
}

func (d *decoder) store(n *yaml.Node, path string, s *Store) {
	d.mapping(n, path, fields{
		"backend": setting(d, &s.Backend, parseBackend),
		"path": setting(d, &s.Path, func(p string) (string, error) {
			// SQLite's own names are not files in the config's folder.
			if p == ":memory:" || strings.HasPrefix(p, "file:") || filepath.IsAbs(p) || d.baseDir == "" {
				return p, nil
			}
			return filepath.Join(d.baseDir, p), nil
		}),
		"influx": func(v *yaml.Node, p string) {
			d.mapping(v, p, fields{
				"url":          setting(d, &s.Influx.URL, parseInfluxURL),
				"org":          d.text(&s.Influx.Org),
				"bucket":       d.text(&s.Influx.Bucket),
				"token":        setting(d, &s.Influx.Token, func(s string) (secret.Secret, error) { return secret.New(s), nil }),
				"probe_bucket": d.text(&s.Influx.ProbeBucket),
				"spool":        d.file(&s.Influx.Spool),
				"latest_reads": setting(d, &s.Influx.LatestFromLedger, parseLatestReads),
			})
		},
	})
}

func (d *decoder) redis(n *yaml.Node, path string, r *Redis) {
	d.mapping(n, path, fields{
		"addr":     setting(d, &r.Addr, parseAddr),
		"password": setting(d, &r.Password, func(s string) (secret.Secret, error) { return secret.New(s), nil }),
		"db":       setting(d, &r.DB, parseRedisDB),
		"replica":  d.text(&r.Replica),
	})
}

// parseRedisDB reads redis.db: a database number, 0 to 15 on a default server.
func parseRedisDB(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%q is not a database number (0, 1, ...)", s)
	}
	return n, nil
}

// lineOf is the line of the first of the paths that was written in the file, or 0.
func (d *decoder) lineOf(paths ...string) int {
	for _, p := range paths {
		if l := d.lines[p]; l > 0 {
			return l
		}
	}
	return 0
}

// lineAt is the line of path, or of the nearest setting holding it that was written
// in the file ("a.b[2].c" → "a.b[2]" → "a.b" → "a"), or 0.
func (d *decoder) lineAt(path string) int {
	for p := path; p != ""; {
		if l := d.lines[p]; l > 0 {
			return l
		}
		i := strings.LastIndexAny(p, ".[")
		if i < 0 {
			break
		}
		p = p[:i]
	}
	return 0
}

// merge adds the problems a part of the configuration found in its own settings,
// each at its line, leaving out those at (or resting on) a setting whose value was
// already reported as unreadable: a bad value is not reported a second time as a
// missing one, nor its default judged in its place.
func (d *decoder) merge(found []Problem) {
	bad := map[string]bool{}
	for _, p := range d.list {
		bad[p.Path] = true
	}
	for _, p := range found {
		if !bad[p.Path] && !slices.ContainsFunc(p.Rests, func(r string) bool { return bad[r] }) {
			d.add(d.lineAt(p.Path), p.Path, "%s", p.Message)
		}
	}
}

// reported is true when a problem was already found at path, so that a bad value is not
// reported a second time as a missing one.
func (d *decoder) reported(path string) bool {
	return slices.ContainsFunc(d.list, func(p Problem) bool { return p.Path == path })
}

// checkStore checks what the chosen backend needs.
func (d *decoder) checkStore(s *Store) {
	switch s.Backend {
	case BackendSQLite:
		if s.Path == "" && !d.reported("store.path") {
			d.add(d.lineOf("store.path", "store.backend", "store"), "store.path", "required when store.backend is sqlite: the database file")
		}
	case BackendInflux:
		d.influxFromEnv(&s.Influx)
		for _, f := range []struct{ key, value string }{{"url", s.Influx.URL}, {"bucket", s.Influx.Bucket}} {
			p := "store.influx." + f.key
			if f.value == "" && !d.reported(p) {
				d.add(d.lineOf(p, "store.influx", "store.backend", "store"), p, "required when store.backend is influx")
			}
		}
	}
}

// influxFromEnv fills the InfluxDB settings the file leaves empty from GOC_INFLUX_URL,
// GOC_INFLUX_ORG, GOC_INFLUX_BUCKET and GOC_INFLUX_TOKEN, and defaults the spool file.
func (d *decoder) influxFromEnv(in *Influx) {
	if in.URL == "" && !d.reported("store.influx.url") {
		if v := os.Getenv(EnvInfluxURL); v != "" {
			u, err := parseInfluxURL(v)
			if err != nil {
				d.add(d.lineOf("store.influx", "store.backend", "store"), "store.influx.url", "%s: %v", EnvInfluxURL, err)
			}
			in.URL = u
		}
	}
	if in.Org == "" {
		in.Org = os.Getenv(EnvInfluxOrg)
	}
	if in.Bucket == "" {
		in.Bucket = os.Getenv(EnvInfluxBucket)
	}
	if in.Token.IsZero() {
		in.Token = secret.New(os.Getenv(EnvInfluxToken))
	}
	if in.Spool == "" {
		in.Spool = filepath.Join(d.baseDir, DefaultInfluxSpool)
	}
}

func (d *decoder) tokens(v *yaml.Node, path string) []Token {
	if isNull(v) {
		return nil
	}
	if v.Kind != yaml.SequenceNode {
		d.add(v.Line, path, "must be a list of tokens, not %s", kindName(v))
		return nil
	}
	var list []Token
	names := map[string]string{}  // name → path of its first use
	hashes := map[string]string{} // hash → path of its first use
	for i, item := range v.Content {
		item = resolve(item)
		p := fmt.Sprintf("%s[%d]", path, i)
		t := Token{line: item.Line}
		var hash string
		if !d.mapping(item, p, fields{
			"name":   d.text(&t.Name),
			"agency": d.text(&t.Agency),
			"sha256": d.text(&hash),
			"role": setting(d, &t.Role, func(s string) (string, error) {
				switch s {
				case RoleOfficer, RoleReviewer, RoleOperator:
					return s, nil
				}
				return "", fmt.Errorf("%q must be officer, reviewer or operator", s)
			}),
			"expires": setting(d, &t.Expires, func(s string) (time.Time, error) {
				if at, err := time.Parse(time.RFC3339, s); err == nil {
					return at, nil
				}
				// A date ends at midnight in Viet Nam (UTC+7), whatever server.location says.
				at, err := time.ParseInLocation(time.DateOnly, s, time.FixedZone("ICT", 7*3600))
				if err != nil {
					return time.Time{}, fmt.Errorf("%q must be a date (2026-12-31: the token works until that day ends, UTC+7) or a time (2026-12-31T17:00:00+07:00)", s)
				}
				return at.AddDate(0, 0, 1), nil
			}),
			"keep_after_merger": setting(d, &t.KeepAfterMerger, func(s string) (bool, error) {
				b, err := strconv.ParseBool(s)
				if err != nil {
					return false, fmt.Errorf("%q must be true or false", s)
				}
				return b, nil
			}),
		}) {
			continue
		}
		t.line = max(t.line, d.lineOf(p+".agency"))
		line := func(key string) int { return max(item.Line, d.lineOf(p+"."+key)) }
		switch first, dup := names[t.Name]; {
		case t.Name == "":
			d.add(line("name"), p+".name", "required: a label for the token, such as lang-son-bao-cao")
		case dup:
			d.add(line("name"), p+".name", "%q already names %s", t.Name, first)
		default:
			names[t.Name] = p
		}
		if t.Agency == "" {
			d.add(line("agency"), p+".agency", "required: the code of the agency the token submits for")
		}
		// Never echo the value: an operator may have pasted the token itself.
		switch first, dup := hashes[hash]; {
		case strings.HasPrefix(hash, "goc_"):
			d.add(line("sha256"), p+".sha256", "looks like a token, not its hash; write the SHA-256 of the token (printf %%s TOKEN | sha256sum) and never the token itself")
		case !isLowerHex64(hash):
			d.add(line("sha256"), p+".sha256", "must be 64 hex characters, lowercase (the SHA-256 of the token)")
		case dup:
			d.add(line("sha256"), p+".sha256", "same hash as %s: one token cannot have two names", first)
		default:
			hashes[hash] = p
			t.SHA256 = hash
		}
		list = append(list, t)
	}
	return list
}

func isLowerHex64(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, r := range s {
		if (r < '0' || r > '9') && (r < 'a' || r > 'f') {
			return false
		}
	}
	return true
}

func (d *decoder) log(n *yaml.Node, path string, l *Log) {
	d.mapping(n, path, fields{
		"level":  setting(d, &l.Level, parseLevel),
		"format": setting(d, &l.Format, parseLogFormat),
	})
}

func parseAddr(s string) (string, error) {
	_, port, err := net.SplitHostPort(s)
	if err != nil {
		return "", fmt.Errorf("%q is not host:port; write e.g. 127.0.0.1:8080 or :8080", s)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return "", fmt.Errorf("port %q of %q must be a number from 0 to 65535", port, s)
	}
	return s, nil
}

// ParsePprofAddr reads server.pprof_addr (and goc serve --pprof): a host:port whose
// host is a loopback address (127.0.0.0/8, ::1) or localhost. An empty host, 0.0.0.0
// or any other address would show the profiles beyond this machine, so it is refused.
func ParsePprofAddr(s string) (string, error) {
	if _, err := parseAddr(s); err != nil {
		return "", err
	}
	host, _, _ := net.SplitHostPort(s)
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return "", fmt.Errorf("%q is not a loopback address: profiles are served on 127.0.0.1, ::1 or localhost only; write e.g. 127.0.0.1:6060", s)
	}
	return s, nil
}

func parseDuration(s string) (time.Duration, error) {
	v, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration; write e.g. 15s, 2m or 1h30m", s)
	}
	if v <= 0 {
		return 0, fmt.Errorf("%q must be positive", s)
	}
	return v, nil
}

func parsePositiveSize(s string) (int64, error) {
	v, err := ParseSize(s)
	if err != nil {
		return 0, err
	}
	if v <= 0 {
		return 0, fmt.Errorf("size %q must be positive", s)
	}
	return v, nil
}

func parseLocation(s string) (*time.Location, error) {
	loc, err := time.LoadLocation(s)
	if err != nil {
		return nil, fmt.Errorf("unknown time zone %q; use an IANA name such as %s", s, DefaultLocation)
	}
	return loc, nil
}

func parseBackend(s string) (Backend, error) {
	switch b := Backend(s); b {
	case BackendSQLite, BackendInflux:
		return b, nil
	}
	return "", fmt.Errorf("unknown backend %q; known: %s, %s", s, BackendSQLite, BackendInflux)
}

func parseInfluxURL(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("%q is not an http:// or https:// URL", s)
	}
	return s, nil
}

// parseLatestReads reads store.influx.latest_reads: where latest values come from.
func parseLatestReads(s string) (bool, error) {
	switch s {
	case "influxdb":
		return false, nil
	case "ledger":
		return true, nil
	}
	return false, fmt.Errorf("unknown value %q; known: influxdb, ledger", s)
}

func parseLevel(s string) (slog.Level, error) {
	switch s {
	case "debug":
		return slog.LevelDebug, nil
	case "info":
		return slog.LevelInfo, nil
	case "warn":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	}
	return 0, fmt.Errorf("unknown log level %q; known: debug, info, warn, error", s)
}

func parseLogFormat(s string) (LogFormat, error) {
	switch f := LogFormat(s); f {
	case LogText, LogJSON:
		return f, nil
	}
	return "", fmt.Errorf("unknown log format %q; known: text, json", s)
}

func parsePositiveRate(s string) (float64, error) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f <= 0 || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, fmt.Errorf("%q is not a positive number", s)
	}
	return f, nil
}
