// Package sqlite is G-OC's embedded store: one SQLite file, no server, so `goc demo`
// and `goc serve` work on a fresh machine. It uses the pure-Go driver
// modernc.org/sqlite, keeps every revision of every observation, and keeps
// latest-state tables beside the history so that "latest of every series" and
// "latest state of every portal" are one indexed scan, never a scan of history.
//
// One writer connection does every write (SQLite allows one writer at a time) in
// WAL mode with synchronous=FULL: a write is acknowledged only after its commit is on
// disk. A separate pool of read-only connections answers queries while writes go on.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/g-oc/goc/internal/store"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// The capabilities the SQLite store declares beside store.Store (ReminderLog and
// Sessions are declared in their files); storetest runs the tests of each.
var (
	_ store.Store                = (*Store)(nil)
	_ store.ProbePruner          = (*Store)(nil)
	_ store.FiguresVersioner     = (*Store)(nil)
	_ store.IdempotencyKeys      = (*Store)(nil)
	_ store.ProbeWindowRebuilder = (*Store)(nil)
	_ store.BulkLoader           = (*Store)(nil)
	_ store.ProbeStatusReader    = (*Store)(nil)
	_ store.ProbeStatusPager     = (*Store)(nil)
	_ store.Backuper             = (*Store)(nil)
)

// Store is a store.Store kept in one SQLite file.
type Store struct {
	// mu guards closed: every method holds it for reading while it works, and Close
	// takes it for writing, so Close waits for calls in flight and later calls see
	// closed instead of a half-closed pool.
	mu     sync.RWMutex
	closed bool

	path    string  // the database file, for Backup's own connection
	writer  *sql.DB // exactly one connection, BEGIN IMMEDIATE
	readers *sql.DB // query_only connections
	stmts   writeStmts
	now     func() time.Time
	// autoApprove publishes every revision as it is stored (see store.Approvals).
	autoApprove bool
	// windowRebuilds counts the recomputations of the probe windows, a part of
	// ProbesVersion: a rebuild may change them without a new result.
	windowRebuilds atomic.Int64
}

// Option tunes Open.
type Option func(*config)

type config struct {
	readers     int
	busyTimeout time.Duration
	now         func() time.Time
	autoApprove bool
}

// WithReaders sets how many read connections may be open at once (default: the
// number of CPUs, at least 4).
func WithReaders(n int) Option {
	return func(c *config) {
		if n > 0 {
			c.readers = n
		}
	}
}

// WithBusyTimeout sets how long a connection waits for a lock held by another
// process using the same file before it gives up (default 10 s).
func WithBusyTimeout(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.busyTimeout = d
		}
	}
}

// WithClock replaces time.Now as the source of ReceivedAt for observations that
// arrive without one; tests use it to pin times.
func WithClock(now func() time.Time) Option {
	return func(c *config) {
		if now != nil {
			c.now = now
		}
	}
}

// WithAutoApprove publishes every revision as it is stored, for deployments that do
// not review submissions; the trail still records each as approved automatically.
func WithAutoApprove(on bool) Option {
	return func(c *config) { c.autoApprove = on }
}

// Open opens (creating if needed) the database file at path, brings its schema up to
// date and returns a ready store. The caller must Close it.
func Open(ctx context.Context, path string, opts ...Option) (*Store, error) {
	cfg := config{
		readers:     max(4, runtime.NumCPU()),
		busyTimeout: 10 * time.Second,
		now:         time.Now,
	}
	for _, o := range opts {
		o(&cfg)
	}
	if path == "" {
		return nil, errors.New("sqlite: open: empty database path")
	}
	if strings.Contains(path, "?") || strings.HasPrefix(path, "file:") || path == ":memory:" {
		// The driver reads '?' as the start of its parameters, and an in-memory
		// database cannot be shared by a writer and a separate reader pool.
		return nil, fmt.Errorf("sqlite: open %q: want a plain file path", path)
	}

	busy := strconv.FormatInt(cfg.busyTimeout.Milliseconds(), 10)
	common := url.Values{}
	common.Add("_pragma", "busy_timeout("+busy+")")
	common.Add("_pragma", "foreign_keys(1)")

	if err := createWithPageSize(ctx, path); err != nil {
		return nil, fmt.Errorf("sqlite: create %s: %w", path, err)
	}
	w := cloneValues(common)
	w.Add("_pragma", "journal_mode(WAL)")
	// FULL syncs the WAL on every commit: an acknowledged write survives power loss,
	// not only a killed process.
	w.Add("_pragma", "synchronous(FULL)")
	w.Set("_txlock", "immediate")
	writer, err := sql.Open("sqlite", path+"?"+w.Encode())
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	writer.SetMaxOpenConns(1)
	writer.SetMaxIdleConns(1)
	writer.SetConnMaxLifetime(0)
	writer.SetConnMaxIdleTime(0)

	if err := migrate(ctx, writer); err != nil {
		writer.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}

	r := cloneValues(common)
	r.Add("_pragma", "query_only(1)")
	// The readers share one page-cache budget (readerCacheKiB), at least SQLite's
	// default 2 MB each: a reader's cache fills up to its size on a store larger than
	// it, so the budget, not the store, sets what the caches cost.
	r.Add("_pragma", "cache_size(-"+strconv.Itoa(readerCacheKiB(cfg.readers))+")")
	readers, err := sql.Open("sqlite", path+"?"+r.Encode())
	if err != nil {
		writer.Close()
		return nil, fmt.Errorf("sqlite: open readers of %s: %w", path, err)
	}
	readers.SetMaxOpenConns(cfg.readers)
	readers.SetMaxIdleConns(cfg.readers)
	readers.SetConnMaxIdleTime(5 * time.Minute)

	s := &Store{path: path, writer: writer, readers: readers, now: cfg.now, autoApprove: cfg.autoApprove}
	if err := s.stmts.prepare(ctx, writer); err != nil {
		s.closePools()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	if err := s.rebuildProbeWindowsIfMissing(ctx); err != nil {
		s.closePools()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	if err := readers.PingContext(ctx); err != nil {
		s.closePools()
		return nil, fmt.Errorf("sqlite: open readers of %s: %w", path, err)
	}
	return s, nil
}

// newFilePageSize is the page size of a database file Open creates (SQLite's default
// is 4 KiB): a bulk load's merge into the history and latest tables, which is most of
// a large import, measured faster with 16 KiB pages (BENCHMARKS.md, "Bulk import").
const newFilePageSize = 16 << 10

// createWithPageSize gives a database file that does not exist yet, or is empty, its
// page size, and makes it a WAL file, which fixes the size for good. SQLite applies
// page_size only to a file with nothing in it, so an existing store keeps its pages.
// It runs before the pools open because the driver runs its connection pragmas in
// alphabetical order, journal_mode before page_size.
func createWithPageSize(ctx context.Context, path string) error {
	if fi, err := os.Stat(path); err == nil && fi.Size() > 0 {
		return nil
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, "PRAGMA page_size = "+strconv.Itoa(newFilePageSize)); err != nil {
		return err
	}
	_, err = db.ExecContext(ctx, "PRAGMA journal_mode = WAL")
	return err
}

// readersCacheBudgetKiB is the page cache of all read connections together. The caches
// live outside the Go heap (modernc's SQLite allocates through its own C allocator)
// and each fills to its cache_size on a file larger than that: at 32 MB per reader, a
// 7 GB store held 196 MiB outside the Go heap under load against 75 MiB for a 760 MB
// one (BENCHMARKS.md, "Hostile load"). The operating system's file cache keeps the hot
// pages anyway; the figures read most often are kept computed by the query layer.
const readersCacheBudgetKiB = 32 << 10

// readerCacheKiB is one reader's share of readersCacheBudgetKiB, at least SQLite's
// default of 2,000 KiB.
func readerCacheKiB(readers int) int {
	return max(2000, readersCacheBudgetKiB/max(1, readers))
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// enter marks a call in progress; the caller must call s.mu.RUnlock when done.
func (s *Store) enter(op string) error {
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return fmt.Errorf("sqlite: %s: %w", op, store.ErrClosed)
	}
	return nil
}

// Ping runs a trivial query on a read connection: what /readyz reports.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.enter("ping"); err != nil {
		return err
	}
	defer s.mu.RUnlock()
	var one int
	if err := s.readers.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("sqlite: ping: %w", err)
	}
	return nil
}

// Close waits for calls in flight, then closes both connection pools. Later calls,
// Close included, return store.ErrClosed.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return fmt.Errorf("sqlite: close: %w", store.ErrClosed)
	}
	s.closed = true
	if err := s.closePools(); err != nil {
		return fmt.Errorf("sqlite: close: %w", err)
	}
	return nil
}

func (s *Store) closePools() error {
	return errors.Join(s.stmts.close(), s.readers.Close(), s.writer.Close())
}
