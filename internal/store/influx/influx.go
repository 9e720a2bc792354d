// Package influx is G-OC's production store: observations and probe results kept in
// InfluxDB through github.com/influxdata/influxdb-client-go/v2, written as line
// protocol to /api/v2/write and read with Flux from /api/v2/query. Those two endpoints
// are all it uses, so the same code runs against InfluxDB 1.8 (tested) and 2.x.
//
// Nothing acknowledged is lost while InfluxDB is away. Every write goes first into a
// spool, a SQLite file synced on every commit, and is acknowledged only then. A
// background flusher sends the spool to InfluxDB in acknowledgement order and deletes
// what InfluxDB has accepted; it keeps trying, with backoff, through outages, and
// carries on after a restart of G-OC. Writes are idempotent (a resent point replaces
// itself), so a batch sent twice is stored once.
//
// The spool file also holds the ledger: the latest revision of every series and the
// newest result of every probe target. Revision numbers and repeats are decided
// against it, so they are right during an outage. Reads ask InfluxDB and merge what is
// still spooled, so an acknowledged write is visible at once; while InfluxDB is away,
// latest values are answered from the ledger and history reads fail.
//
// One G-OC process writes a bucket at a time, unless Options.Ledger is set: the
// spool's ledger is local, and two writers would number revisions independently.
// With a shared Ledger (Redis, for replicas) revisions are numbered and reviewed there,
// and the spool only queues them for InfluxDB.
package influx

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	influxdb2 "github.com/influxdata/influxdb-client-go/v2"
	"github.com/influxdata/influxdb-client-go/v2/api"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/internal/secret"
	"github.com/g-oc/goc/internal/store"
)

// The capabilities the InfluxDB store declares beside store.Store (Sessions and
// ProbeStatusReader are declared in their files); storetest runs the tests of each.
var (
	_ store.Store            = (*Store)(nil)
	_ store.Backlogger       = (*Store)(nil)
	_ store.Flusher          = (*Store)(nil)
	_ store.IdempotencyKeys  = (*Store)(nil)
	_ store.FiguresVersioner = (*Store)(nil)
	_ store.ProbesVersioner  = (*Store)(nil)
)

// Options configure Open.
type Options struct {
	// URL of InfluxDB, such as http://127.0.0.1:8086.
	URL string
	// Org is the InfluxDB 2 organisation; InfluxDB 1.8 ignores it.
	Org string
	// Bucket holds observations and each probe target's newest result. It must keep
	// data forever: observation times are period starts, back to 1990. On InfluxDB
	// 1.8 it is "database/retention-policy".
	Bucket string
	// ProbeBucket holds probe history, typically with 30 days' retention; empty means
	// Bucket.
	ProbeBucket string
	// Token authenticates: an API token on InfluxDB 2, "user:password" on 1.8 with
	// authentication on, empty with it off. It is never logged.
	Token secret.Secret
	// Spool is the spool file, created if missing.
	Spool string
	// Registerer receives the spool metrics; nil registers none.
	Registerer prometheus.Registerer
	// Logger receives flush errors and recoveries; nil discards them.
	Logger *slog.Logger
	// Now is the clock for ReceivedAt and the spool; time.Now when nil.
	Now func() time.Time
	// Timeout bounds each request to InfluxDB; 30 s when zero.
	Timeout time.Duration
	// ChunkPoints caps the observations or probe results sent in one write; 5000
	// when zero.
	ChunkPoints int
	// LatestFromLedger answers latest values and each portal's newest result from the
	// spool's ledger instead of Flux: tens of milliseconds instead of about a second on
	// InfluxDB 1.8 at national scale (see BENCHMARKS.md), exact while this process is
	// the bucket's only writer. History always comes from InfluxDB. With Ledger set
	// latest values come from that instead, and this has no effect.
	LatestFromLedger bool
	// AutoApprove publishes every revision as it is stored, for deployments that do
	// not review submissions (see store.Approvals).
	AutoApprove bool

	// Shared, when set, keeps sessions and idempotency keys instead of the spool file,
	// so that every replica of G-OC reads them (package redisstate, on Redis).
	Shared Shared
	// Ledger, when set, numbers revisions and keeps the publication workflow instead
	// of the spool file, so that replicas writing one bucket never hand out the same
	// revision and a reviewer may approve on any replica (package redisstate). Latest
	// and published reads then come from it; history still from InfluxDB.
	Ledger Ledger

	// maxWriteBytes caps one write request; maxWriteBytes (the constant) when zero.
	maxWriteBytes int
}

// Shared is the state several replicas share outside InfluxDB, which cannot hold
// state that changes in place: signed-in sessions and the API's idempotency keys.
type Shared interface {
	store.Sessions
	IdempotentResponse(ctx context.Context, scope, key string) (fingerprint string, status int, body []byte, found bool, err error)
	SaveIdempotentResponse(ctx context.Context, scope, key, fingerprint string, status int, body []byte) (string, int, []byte, error)
}

// Ledger is the revision ledger and the publication workflow kept where every replica
// reads them (package redisstate's Ledger, on Redis).
type Ledger interface {
	// Take numbers obs against the latest revisions, records the new ones and what they
	// mean for the workflow, all or nothing; fresh says which are new revisions (the
	// others repeat their series' latest and come back as it).
	Take(ctx context.Context, obs []indicators.Observation, now time.Time, batch string) (out []indicators.Observation, fresh []bool, err error)
	// Latest calls each with the latest (or, published, the newest approved) revision
	// of every series q selects, sources and q.After applied, in no order.
	Latest(ctx context.Context, q store.Query, published bool, each func(indicators.Observation)) error
	// PublishedRevisions calls each with every revision ever approved among the series
	// q selects.
	PublishedRevisions(ctx context.Context, q store.Query, each func(indicators.SeriesKey, int)) error
	// Load fills the ledger with what load puts (this store's spool's ledger and
	// workflow) unless it already describes the bucket named of.
	Load(ctx context.Context, of string, load func(put func(store.Snapshot) error) error) error
	// Version changes with every change of the ledger and every Sent (probes: every
	// Sent of probe results), and is never the same for another loading of the ledger.
	Version(ctx context.Context, probes bool) (string, error)
	// Sent records that a chunk of observations (probes: of probe results) is now in
	// InfluxDB, where every replica's reads see it.
	Sent(ctx context.Context, probes bool) error
	Ping(ctx context.Context) error
	store.Approvals
}

// Store is a store.Store in InfluxDB with a disk spool in front.
type Store struct {
	// mu guards closed as in the sqlite store: methods hold it for reading, Close for
	// writing.
	mu     sync.RWMutex
	closed bool

	opt    Options
	client influxdb2.Client
	query  api.QueryAPI
	write  api.WriteAPIBlocking // Bucket
	probeW api.WriteAPIBlocking // ProbeBucket
	sp     *spool
	log    *slog.Logger
	now    func() time.Time
	m      *spoolMetrics

	// acct guards the backlog: points pending and the oldest pending batch's time
	// (zero when none). Writers add after their commit; the flusher recounts from the
	// spool under the same lock. The count may run high for a moment, never low, so
	// Flush never returns while something acknowledged is still spooled.
	acct    sync.Mutex
	pending int64
	oldest  time.Time

	flusher flusher

	// epoch is drawn at Open: versions (see version.go) never outlive the process, so a
	// restart never gives an earlier version for different data.
	epoch string
	// figuresDegraded and probesDegraded count reads answered without InfluxDB (latest
	// values from the ledger, portals without their windows): each moves its version, so
	// an answer made that way is never kept.
	figuresDegraded, probesDegraded atomic.Int64
	// statuses keeps the portals' statuses per probes version (ProbeStatuses).
	statuses keptStatuses
	// decoded keeps the newest results decoded by the last status read.
	decoded decodedProbes
}

// Open connects to InfluxDB, opens (or creates) the spool and starts the flusher.
//
// The first Open of a spool file loads the ledger from the bucket's latest
// measurements, so InfluxDB must answer then. Later opens need no InfluxDB: what
// was spooled before a restart is sent when it answers again.
func Open(ctx context.Context, opt Options) (*Store, error) {
	if opt.URL == "" || opt.Bucket == "" {
		return nil, errors.New("influx: open: url and bucket are required")
	}
	if u, err := url.Parse(opt.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("influx: open: %q is not an http:// or https:// URL", opt.URL)
	}
	if opt.ProbeBucket == "" {
		opt.ProbeBucket = opt.Bucket
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Timeout <= 0 {
		opt.Timeout = 30 * time.Second
	}
	if opt.ChunkPoints <= 0 {
		opt.ChunkPoints = 5000
	}
	if opt.maxWriteBytes <= 0 {
		opt.maxWriteBytes = maxWriteBytes
	}
	log := opt.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	sp, err := openSpool(ctx, opt.Spool)
	if err != nil {
		return nil, fmt.Errorf("influx: %w", err)
	}
	sp.autoApprove = opt.AutoApprove
	// The client's own log would print write errors without G-OC's context; the
	// flusher logs them instead. Its retry buffer is not used: writes are blocking,
	// and the spool retries.
	copts := influxdb2.DefaultOptions().
		SetLogLevel(0).
		SetApplicationName("goc").
		SetHTTPRequestTimeout(uint(max(1, opt.Timeout/time.Second)))
	client := influxdb2.NewClientWithOptions(strings.TrimRight(opt.URL, "/"), opt.Token.Reveal(), copts)
	s := &Store{
		opt:    opt,
		client: client,
		query:  client.QueryAPI(opt.Org),
		write:  client.WriteAPIBlocking(opt.Org, opt.Bucket),
		probeW: client.WriteAPIBlocking(opt.Org, opt.ProbeBucket),
		sp:     sp,
		log:    log,
		now:    opt.Now,
		epoch:  newEpoch(),
	}
	fail := func(err error) (*Store, error) {
		client.Close()
		sp.close()
		return nil, fmt.Errorf("influx: open %s: %w", opt.URL, err)
	}
	if err := s.syncLedger(ctx); err != nil {
		return fail(err)
	}
	if err := s.loadSharedLedger(ctx); err != nil {
		return fail(err)
	}
	if err := s.adoptWindows(ctx); err != nil {
		return fail(err)
	}
	if err := s.adoptFigures(ctx); err != nil {
		return fail(err)
	}
	if err := s.recount(ctx); err != nil {
		return fail(err)
	}
	points, _ := s.Backlog()
	if opt.Registerer != nil {
		m, err := newSpoolMetrics(opt.Registerer, s)
		if err != nil {
			return fail(err)
		}
		s.m = m
	}
	if points > 0 {
		log.Info("InfluxDB: gửi lại dữ liệu còn trong hàng đợi / replaying spooled points",
			"points", points, "since", s.oldest.UTC().Format(time.RFC3339), "spool", opt.Spool)
	}
	s.flusher.start(s)
	return s, nil
}

// ledgerKey names what the ledger describes; a spool file opened against another
// bucket reloads its ledger (or refuses, when it still holds points for the old one).
func (s *Store) ledgerKey() string {
	return s.opt.Org + "|" + s.opt.Bucket + "|" + s.opt.ProbeBucket
}

// enter marks a call in progress; the caller must call s.mu.RUnlock when done.
func (s *Store) enter(op string) error {
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return fmt.Errorf("influx: %s: %w", op, store.ErrClosed)
	}
	return nil
}

// WriteObservations numbers the batch against the ledger and spools the new
// revisions durably; it returns once they are on disk, before InfluxDB has them.
func (s *Store) WriteObservations(ctx context.Context, obs []indicators.Observation) ([]indicators.Observation, error) {
	if err := s.enter("write observations"); err != nil {
		return nil, err
	}
	defer s.mu.RUnlock()
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("influx: write observations: %w", err)
	}
	for i := range obs {
		if err := store.CheckObservation(&obs[i]); err != nil {
			return nil, fmt.Errorf("influx: write observations: observation %d (%s/%s/%s): %w",
				i, obs[i].Indicator, obs[i].Agency, obs[i].Period, err)
		}
	}
	if len(obs) == 0 {
		return []indicators.Observation{}, nil
	}
	now := s.now()
	if s.opt.Ledger != nil {
		return s.writeShared(ctx, obs, now)
	}
	out, points, err := s.sp.enqueueObservations(ctx, obs, time.Unix(0, now.UnixNano()).UTC(), newBatchID())
	if err != nil {
		return nil, fmt.Errorf("influx: write observations: %w", err)
	}
	s.spooled(points, now)
	return out, nil
}

// WriteProbeResults spools the results durably; see WriteObservations.
func (s *Store) WriteProbeResults(ctx context.Context, rs []indicators.ProbeResult) error {
	if err := s.enter("write probe results"); err != nil {
		return err
	}
	defer s.mu.RUnlock()
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("influx: write probe results: %w", err)
	}
	for i := range rs {
		if err := store.CheckProbeResult(&rs[i]); err != nil {
			return fmt.Errorf("influx: write probe results: result %d (%s): %w", i, rs[i].Target, err)
		}
	}
	if len(rs) == 0 {
		return nil
	}
	now := s.now()
	if err := s.sp.enqueueProbes(ctx, rs, now, s.windowsKey()); err != nil {
		return fmt.Errorf("influx: write probe results: %w", err)
	}
	s.spooled(len(rs), now)
	return nil
}

// spooled counts newly queued points and wakes the flusher.
func (s *Store) spooled(points int, at time.Time) {
	if points == 0 {
		return
	}
	s.acct.Lock()
	s.pending += int64(points)
	if s.oldest.IsZero() {
		s.oldest = at
	}
	s.acct.Unlock()
	s.flusher.kick()
}

// recount reads the backlog from the spool.
func (s *Store) recount(ctx context.Context) error {
	s.acct.Lock()
	defer s.acct.Unlock()
	points, oldest, err := s.sp.backlog(ctx)
	if err != nil {
		return err
	}
	s.pending, s.oldest = points, oldest
	return nil
}

// Backlog reports how many observations and probe results are acknowledged but not
// yet in InfluxDB, and how long the oldest of them has waited.
func (s *Store) Backlog() (points int64, oldestAge time.Duration) {
	s.acct.Lock()
	points, oldest := s.pending, s.oldest
	s.acct.Unlock()
	if points > 0 && !oldest.IsZero() {
		oldestAge = max(0, s.now().Sub(oldest))
	}
	return points, oldestAge
}

// Ping reports whether InfluxDB passes its health check: what /readyz asks. While it
// does not, writes are still accepted into the spool; the error says how much waits.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.enter("ping"); err != nil {
		return err
	}
	defer s.mu.RUnlock()
	if err := s.health(ctx); err != nil {
		points, age := s.Backlog()
		return fmt.Errorf("influx: %w; writes go to the spool (%d waiting, oldest %s)", err, points, age.Round(time.Second))
	}
	if s.opt.Ledger != nil {
		// Without its ledger a replica refuses every submission: not ready.
		if err := s.opt.Ledger.Ping(ctx); err != nil {
			return fmt.Errorf("influx: the shared revision ledger: %w", err)
		}
	}
	return nil
}

func (s *Store) health(ctx context.Context) error {
	h, err := s.client.Health(ctx)
	if err != nil {
		return fmt.Errorf("InfluxDB at %s does not answer: %w", s.opt.URL, err)
	}
	if h.Status != "pass" {
		msg := ""
		if h.Message != nil {
			msg = *h.Message
		}
		return fmt.Errorf("InfluxDB at %s is %s: %s", s.opt.URL, h.Status, msg)
	}
	return nil
}

// Flush waits until everything spooled so far is in InfluxDB, or ctx ends.
func (s *Store) Flush(ctx context.Context) error {
	if err := s.enter("flush"); err != nil {
		return err
	}
	defer s.mu.RUnlock()
	return s.flusher.wait(ctx, s)
}

// Close stops the flusher after one last attempt of up to three seconds, then closes
// the spool. What is still spooled stays on disk for the next Open. Later calls,
// Close included, return store.ErrClosed.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return fmt.Errorf("influx: close: %w", store.ErrClosed)
	}
	s.closed = true
	s.flusher.stop(s, 3*time.Second)
	if s.m != nil {
		s.m.unregister()
	}
	s.client.Close()
	if err := s.sp.close(); err != nil {
		return fmt.Errorf("influx: close spool: %w", err)
	}
	return nil
}
