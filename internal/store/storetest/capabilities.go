package storetest

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/internal/store"
)

// capability is one optional capability of store/capabilities.go: whether a store
// declares it, and the tests Run adds for a backend that does.
type capability struct {
	name  string
	has   func(store.Store) bool
	cases []testCase
}

func is[T any](s store.Store) bool { _, ok := s.(T); return ok }

func capabilities() []capability {
	return []capability{
		{"ProbePruner", is[store.ProbePruner], []testCase{{"PruneDropsOlderHistoryAndKeepsTheLatest", testPrune}}},
		{"Flusher", is[store.Flusher], []testCase{{"FlushKeepsEveryWriteReadable", testFlush}}},
		{"Backlogger", is[store.Backlogger], []testCase{{"BacklogIsEmptyOnceFlushed", testBacklog}}},
		{"FiguresVersioner", is[store.FiguresVersioner], []testCase{{"FiguresVersionStaysStillUntilAFigureChanges", testFiguresVersion}}},
		{"ProbesVersioner", is[store.ProbesVersioner], []testCase{{"ProbesVersionStaysStillUntilAPortalChanges", testProbesVersion}}},
		{"IdempotencyKeys", is[store.IdempotencyKeys], []testCase{{"IdempotencyKeyKeepsTheFirstAnswerPerScope", testIdempotencyKeys}}},
		{"ProbeWindowRebuilder", is[store.ProbeWindowRebuilder], []testCase{{"RebuildGivesTheStatusesKeptWhileWriting", testRebuild}}},
		{"BulkLoader", is[store.BulkLoader], []testCase{
			{"BulkLoadCommitsAllAtOnce", testBulkCommit},
			{"BulkLoadRolledBackStoresNothing", testBulkRollback},
		}},
		{"FigureKeeper", is[store.FigureKeeper], []testCase{
			{"WritesMarkExactlyTheYearsWhoseFiguresTheyMayChange", testFigureMarks},
			{"KeptFiguresAreStoredOnlyOverWhatTheyWereComputedFrom", testKeepFigures},
		}},
	}
}

// runCapabilities runs the tests of every capability the store open returns declares,
// and says which it declares.
func runCapabilities(t *testing.T, open Opener) {
	t.Helper()
	sample := open(t)
	var declared []string
	for _, c := range capabilities() {
		if !c.has(sample) {
			continue
		}
		declared = append(declared, c.name)
		for _, tc := range c.cases {
			t.Run(c.name+"/"+tc.name, func(t *testing.T) { tc.run(t, open) })
		}
	}
	t.Logf("optional capabilities declared: %v", declared)
}

func testPrune(t *testing.T, open Opener) {
	s := open(t)
	ctx := context.Background()
	const target = "https://hanoi.gov.vn"
	writeProbes(t, s, probe(target, probeEpoch, true), probe(target, probeEpoch.AddDate(0, 0, 31), false))
	n, err := s.(store.ProbePruner).PruneProbeResults(ctx, probeEpoch.AddDate(0, 0, 1))
	if err != nil || n != 1 {
		t.Fatalf("pruned %d, err %v; want the one older result", n, err)
	}
	rs, err := s.ProbeResults(ctx, target, probeEpoch.AddDate(-1, 0, 0), probeEpoch.AddDate(1, 0, 0))
	if err != nil || len(rs) != 1 || !rs[0].Time.Equal(probeEpoch.AddDate(0, 0, 31)) {
		t.Fatalf("history after pruning: %v, err %v", probeKeys(rs), err)
	}
	latest, err := s.LatestProbes(ctx)
	if err != nil || len(latest) != 1 || latest[0].Success {
		t.Fatalf("latest after pruning: %v, err %v", latest, err)
	}
}

func testFlush(t *testing.T, open Opener) {
	s := open(t)
	ctx := context.Background()
	write(t, s, ob("dossiers_fully_online", "P20", "2026-Q3", 61))
	writeProbes(t, s, probe("https://hanoi.gov.vn", probeEpoch, true))
	if err := s.(store.Flusher).Flush(ctx); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	if got := query(t, s, store.Query{Indicators: []string{"dossiers_fully_online"}}); len(got) != 1 || got[0].Value != 61 {
		t.Fatalf("after Flush: %v", keys(got))
	}
	if latest, err := s.LatestProbes(ctx); err != nil || len(latest) != 1 {
		t.Fatalf("latest probes after Flush: %d, err %v", len(latest), err)
	}
}

func testBacklog(t *testing.T, open Opener) {
	s := open(t)
	write(t, s, ob("dossiers_fully_online", "P20", "2026-Q3", 61))
	if f, ok := s.(store.Flusher); ok {
		if err := f.Flush(context.Background()); err != nil {
			t.Fatalf("Flush: %v", err)
		}
	}
	if points, age := s.(store.Backlogger).Backlog(); points != 0 || age != 0 {
		t.Fatalf("backlog after everything was handed over: %d points, oldest %s", points, age)
	}
}

func testFiguresVersion(t *testing.T, open Opener) {
	s := open(t)
	ctx := context.Background()
	fv := s.(store.FiguresVersioner)
	version := func() string {
		t.Helper()
		v, err := fv.FiguresVersion(ctx)
		if err != nil {
			t.Fatalf("FiguresVersion: %v", err)
		}
		return v
	}
	v0 := version()
	if again := version(); again != v0 {
		t.Fatalf("version moved from %q to %q with nothing written", v0, again)
	}
	write(t, s, ob("dossiers_fully_online", "P20", "2026-Q3", 61))
	v1 := version()
	if v1 == v0 {
		t.Fatalf("version %q did not change with a new figure", v1)
	}
	write(t, s, ob("dossiers_fully_online", "P20", "2026-Q3", 62))
	if v2 := version(); v2 == v1 {
		t.Fatalf("version %q did not change with a new revision", v2)
	}
}

func testProbesVersion(t *testing.T, open Opener) {
	s := open(t)
	ctx := context.Background()
	pv := s.(store.ProbesVersioner)
	version := func() string {
		t.Helper()
		v, err := pv.ProbesVersion(ctx)
		if err != nil {
			t.Fatalf("ProbesVersion: %v", err)
		}
		return v
	}
	v0 := version()
	if _, err := s.LatestProbes(ctx); err != nil {
		t.Fatal(err)
	}
	if again := version(); again != v0 {
		t.Fatalf("version moved from %q to %q with nothing written", v0, again)
	}
	writeProbes(t, s, probe("https://hanoi.gov.vn", probeEpoch, true))
	v1 := version()
	if v1 == v0 {
		t.Fatalf("version %q did not change with a new result", v1)
	}
	writeProbes(t, s, probe("https://hanoi.gov.vn", probeEpoch.Add(time.Minute), false))
	if v2 := version(); v2 == v1 {
		t.Fatalf("version %q did not change with a portal going down", v2)
	}
}

func testIdempotencyKeys(t *testing.T, open Opener) {
	s := open(t)
	ctx := context.Background()
	keys := s.(store.IdempotencyKeys)
	if _, _, _, found, err := keys.IdempotentResponse(ctx, "tok", "k1"); err != nil || found {
		t.Fatalf("before any key: found %v, err %v", found, err)
	}
	fp, status, body, err := keys.SaveIdempotentResponse(ctx, "tok", "k1", "fp1", 201, []byte(`{"a":1}`))
	if err != nil || fp != "fp1" || status != 201 || string(body) != `{"a":1}` {
		t.Fatalf("save: %q %d %q %v", fp, status, body, err)
	}
	// A racing twin saving second gets the first answer back.
	fp, _, body, err = keys.SaveIdempotentResponse(ctx, "tok", "k1", "fp2", 201, []byte(`{"a":2}`))
	if err != nil || fp != "fp1" || string(body) != `{"a":1}` {
		t.Errorf("second save: %q %q %v", fp, body, err)
	}
	if fp, _, _, found, _ := keys.IdempotentResponse(ctx, "tok", "k1"); !found || fp != "fp1" {
		t.Errorf("lookup: %q %v", fp, found)
	}
	if _, _, _, found, _ := keys.IdempotentResponse(ctx, "other-token", "k1"); found {
		t.Error("a key is visible to another token")
	}
}

func testRebuild(t *testing.T, open Opener) {
	s := open(t)
	ctx := context.Background()
	at := probeEpoch
	writeProbes(t, s, probe("https://hanoi.gov.vn", at, true), probe("https://angiang.gov.vn", at, false),
		probe("https://hanoi.gov.vn", at.Add(time.Hour), false))
	sr, hasStatuses := s.(store.ProbeStatusReader)
	var before store.ProbeStatuses
	if hasStatuses {
		var err error
		if before, err = sr.ProbeStatuses(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.(store.ProbeWindowRebuilder).RebuildProbeWindows(ctx); err != nil {
		t.Fatalf("RebuildProbeWindows: %v", err)
	}
	if !hasStatuses {
		return
	}
	after, err := sr.ProbeStatuses(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(after) != fmt.Sprint(before) {
		t.Fatalf("statuses kept while writing:\n%v\nrebuilt:\n%v", before, after)
	}
}

func bulkData() []indicators.Observation {
	return []indicators.Observation{
		ob("dossiers_fully_online", "P20", "2026-Q1", 50),
		ob("dossiers_fully_online", "P20", "2026-Q2", 55),
		ob("dossiers_fully_online", "BTC", "2026-Q2", 70),
	}
}

func testBulkCommit(t *testing.T, open Opener) {
	s := open(t)
	ctx := context.Background()
	b, err := s.(store.BulkLoader).BeginBulk(ctx)
	if err != nil {
		t.Fatalf("BeginBulk: %v", err)
	}
	if err := b.Write(ctx, bulkData()); err != nil {
		t.Fatalf("Write: %v", err)
	}
	n, err := b.Commit()
	if err != nil || n != len(bulkData()) {
		t.Fatalf("Commit: %d new, err %v; want %d", n, err, len(bulkData()))
	}
	got := query(t, s, store.Query{})
	if len(got) != n || slices.ContainsFunc(got, func(o indicators.Observation) bool { return o.Revision != 1 }) {
		t.Fatalf("after the load: %v", keys(got))
	}
}

func testBulkRollback(t *testing.T, open Opener) {
	s := open(t)
	ctx := context.Background()
	b, err := s.(store.BulkLoader).BeginBulk(ctx)
	if err != nil {
		t.Fatalf("BeginBulk: %v", err)
	}
	if err := b.Write(ctx, bulkData()); err != nil {
		t.Fatalf("Write: %v", err)
	}
	if err := b.Rollback(); err != nil {
		t.Fatalf("Rollback: %v", err)
	}
	if got := query(t, s, store.Query{}); len(got) != 0 {
		t.Fatalf("a rolled back load left %v", keys(got))
	}
}
