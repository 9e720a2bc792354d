// Package store defines what G-OC needs from a time-series backend. Backends live in
// subpackages (sqlite, influx) and all pass the same conformance suite in storetest.
package store

import (
	"cmp"
	"context"
	"errors"
	"strings"
	"time"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/indicators/period"
)

// ErrClosed is returned by a store used after Close.
var ErrClosed = errors.New("store is closed")

// ErrUnavailable wraps a failure of state the store shares with other replicas (the
// revision ledger and the workflow in Redis): nothing was stored, and the same call
// may succeed later, so the API answers 503 rather than 500 or an acknowledgement.
var ErrUnavailable = errors.New("shared state is not answering")

// Store keeps observations with every revision, and probe results.
//
// Writes are all-or-nothing: either every observation of a call is stored durably or
// none is. An observation whose content equals the latest revision of its series is a
// repeat, not a new revision; the store returns the existing revision for it.
type Store interface {
	// WriteObservations stores a batch and returns it as stored, with Revision,
	// ReceivedAt and Batch filled in. It returns only after the batch is durable.
	WriteObservations(ctx context.Context, obs []indicators.Observation) ([]indicators.Observation, error)
	// Observations answers a query, ordered by indicator, agency, period start, period
	// kind and revision.
	Observations(ctx context.Context, q Query) ([]indicators.Observation, error)
	// WriteProbeResults stores probe results durably.
	WriteProbeResults(ctx context.Context, rs []indicators.ProbeResult) error
	// LatestProbes returns the newest result of every probe target, ordered by target.
	LatestProbes(ctx context.Context) ([]indicators.ProbeResult, error)
	// ProbeResults returns the results of one target in [From, To), oldest first.
	ProbeResults(ctx context.Context, target string, from, to time.Time) ([]indicators.ProbeResult, error)
	// Ping checks that the backend answers: what /readyz reports.
	Ping(ctx context.Context) error
	// Close releases the backend.
	Close() error
	// Approvals is the publication workflow: every backend keeps it, because
	// Query.Published must mean the same everywhere.
	Approvals
}

// ReminderLog is an optional capability: the record of the reminder mails sent, kept
// in the store so that no reminder goes twice for the same reason, across restarts and
// across replicas sharing the store. A reason is an opaque key.
type ReminderLog interface {
	// ClaimReminder records key as sent at `at` and reports true, or reports false
	// when key was claimed before. Of concurrent claims of one key exactly one gets
	// true. The claim is durable when it returns.
	ClaimReminder(ctx context.Context, key string, at time.Time) (bool, error)
	// ReleaseReminder forgets a claim whose mail could not be sent, so that a later
	// run tries again. Releasing an unknown key is not an error.
	ReleaseReminder(ctx context.Context, key string) error
}

// Query selects observations. Empty fields do not filter.
type Query struct {
	Indicators []string
	Agencies   []string
	// From and To bound period starts: From <= start < To. Zero values do not bound.
	From, To time.Time
	// Kinds keeps only periods of these lengths.
	Kinds []period.Kind
	// History returns every revision; otherwise only the latest of each series.
	History bool
	// Sources keeps only these sources.
	Sources []indicators.Source
	// Published keeps only approved figures: without History, the newest approved
	// revision of each series (older than its latest when a newer one waits for
	// review); with History, every revision that was ever approved. Public reads set
	// it; see Approvals.
	Published bool
	// After, when not nil, keeps only observations ordered after this key (keyset
	// pagination): a reader passes the key of the last observation of the page it
	// has, and gets the next page. Latest-only queries compare the series alone; history
	// compares the revision too. The order is the one Observations promises.
	After *Key
	// Limit caps how many observations come back, the first in order; 0 means no cap.
	// A page of Limit observations costs memory in proportion to Limit, not to the
	// store, which is what lets an API read stay bounded whatever the store holds.
	Limit int
}

// Key is the position of one observation in the order Observations answers in:
// indicator, agency, period start, period kind (longer first), revision.
type Key struct {
	indicators.SeriesKey
	// Revision is ignored by latest-only queries.
	Revision int
}

// KeyOf is the key of o, for Query.After.
func KeyOf(o indicators.Observation) Key {
	return Key{SeriesKey: o.SeriesKey, Revision: o.Revision}
}

// Compare orders k against o as Observations does: negative when k comes first. With
// history false the revision is not compared (one observation per series).
func (k Key) Compare(o Key, history bool) int {
	if c := strings.Compare(k.Indicator, o.Indicator); c != 0 {
		return c
	}
	if c := strings.Compare(k.Agency, o.Agency); c != 0 {
		return c
	}
	if c := k.Period.Start(nil).Compare(o.Period.Start(nil)); c != 0 {
		return c
	}
	if c := cmp.Compare(k.Period.Kind, o.Period.Kind); c != 0 {
		return c
	}
	if !history {
		return 0
	}
	return cmp.Compare(k.Revision, o.Revision)
}

// Follows reports whether o comes after q.After (always when q.After is nil): the
// keyset filter for backends that filter in Go.
func (q Query) Follows(o indicators.Observation) bool {
	return q.After == nil || KeyOf(o).Compare(*q.After, q.History) > 0
}
