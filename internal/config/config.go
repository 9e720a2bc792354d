// Package config reads the YAML file that `goc serve` and `goc validate` take.
//
// Load reads a file, expands ${VAR} and $VAR from the environment (as Gatus does), fills
// in defaults and checks every setting. It reports all mistakes at once, each with its
// line, and refuses unknown keys so that a typo such as "adress" is caught instead of
// silently ignored. ExampleYAML is a commented file that documents every setting.
package config

import (
	_ "embed"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"time"

	// Deployments such as distroless containers and Windows have no zoneinfo, and the
	// default location must load everywhere.
	_ "time/tzdata"

	"github.com/g-oc/goc/internal/secret"
)

// Defaults of the settings that have one.
const (
	DefaultAddr               = "127.0.0.1:8080"
	DefaultReadTimeout        = 15 * time.Second
	DefaultWriteTimeout       = 60 * time.Second
	DefaultMaxSubmissionBytes = 10 << 20
	DefaultLocation           = "Asia/Ho_Chi_Minh"
)

// Backend names a store implementation.
type Backend string

// Known backends.
const (
	// BackendSQLite is the embedded single-file store that needs no server.
	BackendSQLite Backend = "sqlite"
	// BackendInflux is InfluxDB 2, for production scale.
	BackendInflux Backend = "influx"
)

// LogFormat is how log records are written.
type LogFormat string

// Known log formats.
const (
	LogText LogFormat = "text"
	LogJSON LogFormat = "json"
)

// Config is a loaded, checked configuration.
type Config struct {
	Server    Server
	Store     Store
	Catalogue Catalogue
	Registry  Registry
	Tokens    []Token
	Log       Log
	Ranking   Ranking
	// Submissions sets report deadlines and the outlier threshold.
	Submissions Submissions
	// Collectors are the portal probes and KPI feeds `goc serve` schedules.
	Collectors Collectors
	// Alerts sets the thresholds of the alerting rules and the deadline reminders.
	Alerts Alerts
	// Redis, when its address is set, is what several replicas share: the scheduler's
	// lock (each job runs on one replica per slot) and the state InfluxDB cannot hold.
	Redis Redis
	// OpenData sets the licence of the published data (goc export opendata, /opendata/).
	OpenData OpenData

	// file is the name problems found after loading are reported under.
	file string
}

// OpenData configures the open-data packages.
type OpenData struct {
	// Licence is the data's licence, shown on every open-data file and page:
	// CC-BY-4.0 by default.
	Licence Licence
}

// Licence names a licence as a Frictionless data package does: an SPDX identifier, its
// title and the URL of its text.
type Licence struct {
	Name, Title, Path string
}

// Server configures the HTTP server.
type Server struct {
	// Addr is the host:port to listen on.
	Addr         string
	ReadTimeout  time.Duration
	WriteTimeout time.Duration
	// MaxSubmissionBytes caps the body of one submission.
	MaxSubmissionBytes int64
	// Location is the time zone of periods, deadlines and reports.
	Location *time.Location
	// UploadBudget is the bytes of submissions read and parsed at once, server-wide
	// (0: the API's default, 64 MiB); past it a submission gets 503 with Retry-After.
	UploadBudget int64
	// SmallUpload is the size up to which a submission is small (0: 256 KiB), and
	// SmallUploadBudget the bytes kept for small submissions alone (0: 16 MiB), so
	// that a few values are never kept waiting behind large files.
	SmallUpload, SmallUploadBudget int64
	// HeavyReads is how many costly API reads (observations, exports, completeness,
	// probes, rankings, progress) run at once (0: half the CPUs, at least 2); one
	// more gets 429 with Retry-After at once.
	HeavyReads int
	// Exports is how many raw exports stream at once (0: 1).
	Exports int
	// WritesPerSecondPerAddress and WritesPerSecondPerToken limit submissions (0: the
	// API's defaults, 10 and 5), with bursts of six seconds' worth.
	WritesPerSecondPerAddress, WritesPerSecondPerToken float64
	// AuthFailuresPerMinute limits failed authentications per client address (0: 10).
	AuthFailuresPerMinute float64
	// PprofAddr, when set, serves Go's profiles (net/http/pprof) on this loopback
	// host:port, apart from the API: an operator measuring memory under load reads the
	// heap there. Off by default; an address that is not loopback is refused, since
	// profiles show the server's internals (and a CPU profile costs CPU) to whoever
	// can reach them.
	PprofAddr string
	// TrustedProxies are the reverse proxies (networks or addresses) whose
	// X-Forwarded-For and X-Forwarded-Proto G-OC believes: behind them, limits count
	// the real client and session cookies are Secure when the client used HTTPS. Empty:
	// the headers are ignored.
	TrustedProxies []netip.Prefix
	// TLS, when both files are set, makes goc serve answer HTTPS itself (TLS 1.2 and
	// up), reading the files again when they change so a renewed certificate is used
	// without a restart.
	TLS TLS
}

// TLS names a PEM certificate chain and its private key.
type TLS struct {
	CertFile, KeyFile string
}

// Store chooses and configures the store backend.
type Store struct {
	Backend Backend
	// Path is the SQLite file, already resolved against the config file's folder.
	Path   string
	Influx Influx
}

// Influx configures the InfluxDB backend.
type Influx struct {
	URL    string
	Org    string
	Bucket string
	Token  secret.Secret
	// ProbeBucket holds probe history (typically 30 days' retention); empty means Bucket.
	ProbeBucket string
	// Spool is the file that keeps acknowledged writes until InfluxDB has them,
	// resolved against the config file's folder; goc-influx-spool.db there by default.
	Spool string
	// LatestFromLedger answers latest values from the spool's ledger instead of Flux
	// (store.influx.latest_reads: ledger).
	LatestFromLedger bool
}

// Environment variables that fill store.influx settings left empty in the file.
const (
	EnvInfluxURL    = "GOC_INFLUX_URL"
	EnvInfluxOrg    = "GOC_INFLUX_ORG"
	EnvInfluxBucket = "GOC_INFLUX_BUCKET"
	EnvInfluxToken  = "GOC_INFLUX_TOKEN"
)

// DefaultInfluxSpool is the spool file's name when store.influx.spool is empty.
const DefaultInfluxSpool = "goc-influx-spool.db"

// Redis configures the Redis server that replicas share. Without Addr a single G-OC
// runs alone, as it always has.
type Redis struct {
	// Addr is host:port of the Redis server; empty means no Redis (one replica).
	Addr string
	// Password authenticates (Redis AUTH); empty when the server has none.
	Password secret.Secret
	// DB is the Redis database number (SELECT), 0 by default.
	DB int
	// Replica names this process in logs and in goc_replica_info; the host name when
	// empty. Each replica must have its own.
	Replica string
}

// Catalogue points at an optional catalogue file whose indicators override or extend
// the built-in ones.
type Catalogue struct {
	// File is resolved against the config file's folder; empty means built-in only.
	File string
}

// Registry points at an optional agency registry that replaces the built-in one.
type Registry struct {
	// File is resolved against the config file's folder; empty means the built-in one.
	File string
}

// Roles a token can give (tokens[].role).
const (
	// RoleOfficer submits for its agency and the units below it, and sees their figures
	// before approval. The default.
	RoleOfficer = "officer"
	// RoleReviewer approves or returns the submissions of its agency's subtree (a
	// coordinating ministry: VN for the whole country) and sees them before approval.
	RoleReviewer = "reviewer"
	// RoleOperator sees the workflow's state but neither submits nor reviews.
	RoleOperator = "operator"
)

// Token is one access token. Only the SHA-256 of the token is configured.
type Token struct {
	Name string
	// Agency is the code of the agency whose subtree the token acts for.
	Agency string
	// SHA256 is the lowercase hex SHA-256 of the token.
	SHA256 string
	// Role is RoleOfficer, RoleReviewer or RoleOperator; RoleOfficer when empty.
	Role string
	// Expires, when not zero, is when the token stops working.
	Expires time.Time
	// KeepAfterMerger keeps a token working after its agency ceased to exist (the 2025
	// merger); without it, such a token is refused.
	KeepAfterMerger bool

	// line is where the token's agency is written, for CheckAgencies.
	line int
}

// Log configures logging.
type Log struct {
	Level  slog.Level
	Format LogFormat
}

// Handler makes the slog handler the settings describe, writing to w.
func (l Log) Handler(w io.Writer) slog.Handler {
	opts := &slog.HandlerOptions{Level: l.Level}
	if l.Format == LogJSON {
		return slog.NewJSONHandler(w, opts)
	}
	return slog.NewTextHandler(w, opts)
}

// Default is the configuration of an empty file, except that no store path is set: the
// SQLite backend with no file, which Parse would refuse. `goc demo` starts from it.
func Default() *Config {
	loc, err := time.LoadLocation(DefaultLocation)
	if err != nil {
		// Unreachable with time/tzdata linked in; Viet Nam has kept UTC+7 since 1975.
		loc = time.FixedZone("ICT", 7*60*60)
	}
	return &Config{
		Server: Server{
			Addr:               DefaultAddr,
			ReadTimeout:        DefaultReadTimeout,
			WriteTimeout:       DefaultWriteTimeout,
			MaxSubmissionBytes: DefaultMaxSubmissionBytes,
			Location:           loc,
		},
		Store:   Store{Backend: BackendSQLite},
		Log:     Log{Level: slog.LevelInfo, Format: LogText},
		Ranking: DefaultRanking(),

		Submissions: DefaultSubmissions(),

		Collectors: defaultCollectors(),
		Alerts:     DefaultAlerts(),
		OpenData: OpenData{Licence: Licence{Name: "CC-BY-4.0", Title: "Creative Commons Attribution 4.0",
			Path: "https://creativecommons.org/licenses/by/4.0/"}},
	}
}

// Load reads, expands, parses and checks a configuration file. Relative paths in it are
// taken from the file's folder. On failure the error is an *Error listing every problem.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	dir, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		return nil, fmt.Errorf("read config %s: %w", path, err)
	}
	return Parse(path, data, dir)
}

// Parse is Load without the file: name is used in problems, and relative paths are
// joined to baseDir. It expands environment variables like Load.
func Parse(name string, data []byte, baseDir string) (*Config, error) {
	ps := &problems{file: name}
	c := decode(ps, []byte(os.ExpandEnv(string(data))), baseDir)
	if err := ps.err(); err != nil {
		return nil, err
	}
	c.file = name
	return c, nil
}

// CheckAgencies reports, with its line, each token whose agency the registry does not
// know. It is a second step because the registry may itself come from the config.
func (c *Config) CheckAgencies(known func(code string) bool) error {
	ps := &problems{file: c.file}
	for i, t := range c.Tokens {
		if t.Agency != "" && !known(t.Agency) {
			ps.add(t.line, fmt.Sprintf("tokens[%d].agency", i), "unknown agency %q", t.Agency)
		}
	}
	for _, r := range append(c.Collectors.agencies(), c.Alerts.agencies()...) {
		if !known(r.code) {
			ps.add(r.line, r.path, "unknown agency %q", r.code)
		}
	}
	return ps.err()
}

// ExampleYAML is a commented configuration that documents every setting. It loads
// clean, so `goc validate` users can start from it.
func ExampleYAML() string { return exampleYAML }

//go:embed testdata/example.yaml
var exampleYAML string
