package store

import (
	"context"
	"time"

	"github.com/g-oc/goc/indicators"
)

// The optional capabilities of a backend, beside what every Store does. A backend
// declares each one it has with a compile-time assertion next to its type
// (`var _ store.ProbePruner = (*Store)(nil)`); cmd/goc asks for them by these names when
// it wires the program; storetest runs each capability's tests for every backend that
// has it. ReminderLog, Sessions, ProbeStatusReader and ProbeStatusPager are declared
// beside the types they speak of.

// ProbePruner drops probe history older than a time, for the retention of
// collectors.probes.retention. It returns how many results went.
type ProbePruner interface {
	PruneProbeResults(ctx context.Context, before time.Time) (int64, error)
}

// Backlogger is a store that keeps acknowledged writes in a spool until its backend
// takes them (InfluxDB); /readyz and /metrics report the backlog.
type Backlogger interface {
	// Backlog is how many points wait in the spool and how old the oldest is.
	Backlog() (points int64, oldestAge time.Duration)
}

// Flusher is a store that can be asked to hand its spooled writes to the backend now
// (InfluxDB), so that `goc demo` can say its history is in the database.
type Flusher interface {
	Flush(ctx context.Context) error
}

// FiguresVersioner is a store that knows when its figures change: the version changes
// with every stored observation or approval, so that computed figures can be reused
// exactly until then.
type FiguresVersioner interface {
	FiguresVersion(ctx context.Context) (string, error)
}

// ProbesVersioner is a store that knows when the status of its portals changes: the
// version changes with every probe result stored and every recomputation of the uptime
// windows, so that a probe list encoded once can be given to every reader until then.
type ProbesVersioner interface {
	ProbesVersion(ctx context.Context) (string, error)
}

// IdempotencyKeys keeps the first response to each Idempotency-Key of a scope, so that
// a client retrying a submission gets the answer of the first try.
type IdempotencyKeys interface {
	// IdempotentResponse returns the response saved for key in scope, if any.
	IdempotentResponse(ctx context.Context, scope, key string) (fingerprint string, status int, body []byte, found bool, err error)
	// SaveIdempotentResponse saves a response unless one is saved already, and returns
	// the one that stands (the first).
	SaveIdempotentResponse(ctx context.Context, scope, key, fingerprint string, status int, body []byte) (string, int, []byte, error)
}

// LatestProbeReader reads the newest result of every portal: what a read side that
// needs no more than that asks for.
type LatestProbeReader interface {
	LatestProbes(ctx context.Context) ([]indicators.ProbeResult, error)
}

// ProbeWindowRebuilder recomputes the uptime windows it keeps from the probe history
// (`goc rebuild`).
type ProbeWindowRebuilder interface {
	RebuildProbeWindows(ctx context.Context) error
}

// BulkLoader loads a large history in one transaction faster than WriteObservations
// (SQLite: staged, merged with set operations), for `goc import` and the demo.
type BulkLoader interface {
	BeginBulk(ctx context.Context) (Bulk, error)
}

// Bulk is one bulk load under way: Write stages observations, Commit makes them all
// durable at once and returns how many were new, Rollback drops them.
type Bulk interface {
	Write(ctx context.Context, obs []indicators.Observation) error
	Commit() (int, error)
	Rollback() error
}

// Backuper is a store that can write a consistent copy of itself to a new file while it
// keeps serving (SQLite). progress, when not nil, is called now and then with the bytes
// written so far and the size expected.
type Backuper interface {
	Backup(ctx context.Context, dest string, progress func(done, total int64)) (BackupInfo, error)
}

// BackupInfo is what a finished backup holds, read back from the copy itself.
type BackupInfo struct {
	Path         string
	Bytes        int64
	Observations int64 // every revision of every figure in the copy
	ProbeResults int64
}

// FigureKeeper is a store that keeps every agency's rolled-up yearly figures on disk
// (SQLite in its data file, InfluxDB in its spool), beside marks of the (indicator,
// year) pairs each write or approval has touched since: a reader after a restart, or
// after new data, recomputes only the years marked instead of rolling up the whole
// history. The store keeps; the query layer computes (the store never rolls anything
// up itself).
type FigureKeeper interface {
	// KeptFigures reads the figures kept for set, when they were computed under stamp,
	// and the years of set's indicator marked since they were.
	KeptFigures(ctx context.Context, set FigureSet, stamp string) (KeptFigures, error)
	// KeepFigures stores figures computed from what KeptFigures returned (see
	// FigureUpdate); stored is false when the kept set changed meanwhile (another
	// reader stored first) and nothing was written.
	KeepFigures(ctx context.Context, set FigureSet, u FigureUpdate) (stored bool, err error)
}

// FigurePartReader is a FigureKeeper that reads part of a kept set: a ranking needs
// its members' figures of two years, not every agency's of every year.
type FigurePartReader interface {
	// KeptFiguresOf is KeptFigures with Years holding only the rows of agencies (at
	// least one), and of years when years is not empty. Stale still lists every year
	// of the indicator marked since.
	KeptFiguresOf(ctx context.Context, set FigureSet, stamp string, agencies []string, years []int) (KeptFigures, error)
}

// FigureSet names one kept set of yearly figures: one indicator's figures of every
// agency (Level "") or of the country at one level, as a view sees them.
type FigureSet struct {
	View      string // "public" (approved figures) or "all" (every newest revision)
	Indicator string
	Level     indicators.Level
}

// YearFigures is one agency's figures of one year: the yearly point(s) rolled up or
// its own, the sources of the observations behind that year's figures in first-seen
// order, and when the newest of them arrived.
type YearFigures struct {
	Agency  string
	Year    int
	Annual  []indicators.Value
	Sources []indicators.Source
	Cutoff  time.Time
	// Behind describes the observations behind each of Annual's points alone (same
	// index): a ranking of the year reports them of the figure it takes, without reading
	// the observations again.
	Behind []Behind
}

// Behind is the sources of the observations behind one figure, and when the newest of
// them arrived.
type Behind struct {
	Sources []indicators.Source `json:"sources"`
	Cutoff  time.Time           `json:"cutoff,omitzero"`
}

// KeptFigures is what a FigureKeeper holds for one set.
type KeptFigures struct {
	// Valid is set when figures computed under the stamp asked for are kept; Years and
	// Stale are then filled in. Stored is the stamp the set was computed under, "" when
	// none is kept.
	Valid  bool
	Stored string
	// Seq is the set's mark sequence: every mark up to it is reflected in Years. Now is
	// the newest mark sequence of the store when read: figures recomputed from data
	// read after KeptFigures reflect every mark up to it.
	Seq, Now int64
	// Stale are the years of the indicator marked after Seq, ascending.
	Stale []int
	// Years is every kept year of every agency, by agency then year.
	Years []YearFigures
	// Token is the keeper's own, handed back unread in FigureUpdate.Base: what it needs
	// to tell, when the update comes, whether the reads between the two could have been
	// answered from something other than what it keeps figures of (InfluxDB: a read
	// answered from the ledger while InfluxDB was away).
	Token string
}

// FigureUpdate is what a reader stores after KeptFigures: the years it recomputed.
type FigureUpdate struct {
	Stamp string
	// Base is the KeptFigures the update was computed from: unless Force, nothing is
	// written when the set's stored stamp or Seq no longer match it.
	Base KeptFigures
	// All replaces every kept year of the set with Years; otherwise only the years in
	// Recomputed are replaced (an agency absent from Years loses its figure of them).
	All        bool
	Recomputed []int
	Years      []YearFigures
	// Force writes whatever is stored (`goc rebuild`); only with All.
	Force bool
}
