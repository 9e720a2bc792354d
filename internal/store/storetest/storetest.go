// Package storetest is the conformance suite every store.Store backend must pass, so
// that the embedded SQLite store and InfluxDB answer alike. A backend's test calls
// Run with a function that opens a fresh, empty store:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store { ... })
//	}
//
// Choices the suite pins down, beyond what store.Store's comments say:
//   - Several observations of one series in one batch are applied in order, as if
//     written one call at a time but all or none: each that differs from the series'
//     latest (counting earlier ones in the batch) becomes the next revision, and a
//     repeat of the latest collapses into it.
//   - A repeat (content equal to the latest revision) comes back as that stored
//     revision, with its own ReceivedAt, Submitter and Batch, and writes nothing.
//   - New revisions of one call share one Batch id (generated when empty) and one
//     ReceivedAt (the store's clock when zero); values the caller set are kept.
//   - A latest-only query with Sources keeps the latest revision of a series when
//     its source is listed; it does not fall back to an older revision that matches.
//   - Times round-trip to the millisecond at least: the suite compares them with
//     time.Equal after truncating both sides to TimePrecision.
//   - Probe phases: a nil and an empty map are the same; a phase of zero seconds is
//     kept as present. A result older than a target's newest goes to history only.
//   - Close on a closed store, and every other method after Close, returns an error
//     wrapping store.ErrClosed.
package storetest

import (
	"testing"
	"time"

	"github.com/g-oc/goc/internal/store"
)

// TimePrecision is the resolution to which the suite requires times to round-trip.
const TimePrecision = time.Millisecond

// Opener returns a fresh, empty store for one subtest. It should register a
// t.Cleanup that closes the store and tolerates store.ErrClosed, because some
// subtests close the store themselves.
type Opener = func(t *testing.T) store.Store

// Run runs the conformance suite, one subtest per behaviour, each on its own store;
// then, for each optional capability of store/capabilities.go that the backend
// declares, that capability's tests.
func Run(t *testing.T, open Opener) {
	t.Helper()
	for _, c := range append(cases(), workflowCases()...) {
		t.Run(c.name, func(t *testing.T) { c.run(t, open) })
	}
	runCapabilities(t, open)
}

type testCase struct {
	name string
	run  func(t *testing.T, open Opener)
}

func cases() []testCase {
	return []testCase{
		{"WrittenBatchReadsBackWithEveryField", testWriteReadBack},
		{"CallerReceivedAtAndBatchAreKept", testCallerFieldsKept},
		{"EmptyBatchWritesNothing", testEmptyBatch},
		{"ChangedValueBecomesRevisionTwoAndLatestHidesRevisionOne", testSecondRevision},
		{"HistoryListsEveryRevisionInOrderWithWhoAndWhen", testHistory},
		{"RepeatOfLatestContentReturnsExistingRevision", testRepeatIsIdempotent},
		{"ContentEqualToOlderRevisionBecomesNewRevision", testOlderContentIsNewRevision},
		{"InvalidObservationRejectsWholeBatch", testAllOrNothing},
		{"QueryFiltersByIndicatorAgencyPeriodKindAndSource", testQueryFilters},
		{"HistoryIsOrderedByIndicatorAgencyPeriodKindRevision", testHistoryOrder},
		{"SameSeriesSeveralTimesInOneBatchBecomesSuccessiveRevisions", testSameSeriesInBatch},
		{"PagesWithLimitAndAfterWalkTheWholeAnswerInOrder", testPagesWalkTheWholeAnswer},
		{"LatestProbesGivesNewestResultPerTargetOrderedByTarget", testLatestProbes},
		{"ProbeResultsGivesOneTargetInHalfOpenRangeOldestFirst", testProbeRange},
		{"ProbeResultRoundTripsPhasesAndTLSFacts", testProbeRoundTrip},
		{"InvalidProbeResultRejectsWholeBatch", testProbeAllOrNothing},
		{"ConcurrentWritersLoseNothing", testConcurrentWriters},
		{"CancelledContextStoresNothing", testCancelled},
		{"PingAnswersAndUseAfterCloseIsErrClosed", testClose},
	}
}
