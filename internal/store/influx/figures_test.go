package influx

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/g-oc/goc/internal/redistest"
	"github.com/g-oc/goc/internal/store"
)

// keepEmpty reads s's kept set, as a reader would, and stores it (no figures) on that
// base, failing the test unless it was stored.
func keepEmpty(t *testing.T, s *Store, set store.FigureSet) {
	t.Helper()
	ctx := context.Background()
	k, err := s.KeptFigures(ctx, set, "v1")
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := s.KeepFigures(ctx, set, store.FigureUpdate{Stamp: "v1", Base: k, All: true}); err != nil || !ok {
		t.Fatalf("keep: %v, %v", ok, err)
	}
}

// keptValid says whether s holds set's figures as current: kept under v1 and no year
// marked since.
func keptValid(t *testing.T, s *Store, set store.FigureSet) bool {
	t.Helper()
	k, err := s.KeptFigures(context.Background(), set, "v1")
	if err != nil {
		t.Fatal(err)
	}
	return k.Valid && len(k.Stale) == 0
}

// Replicas sharing the ledger in Redis: a replica's kept figures survive its restart
// while nothing changes, and fall as soon as another replica writes, sends or reviews
// anything, whose writes never pass through this replica's spool.
func TestAReplicasKeptFiguresFallWithAnotherReplicasWritesAndReviews(t *testing.T) {
	rs := redistest.Start(t, "")
	bucket := server.NewDatabase(t)
	ctx := context.Background()
	bSpool := filepath.Join(t.TempDir(), "b.db")
	a := openOn(t, server, bucket, filepath.Join(t.TempDir(), "a.db"), withLedger(redisLedger(t, rs, false)))
	b := openOn(t, server, bucket, bSpool, withLedger(redisLedger(t, rs, false)))
	set := store.FigureSet{View: "all", Indicator: "dossiers_fully_online"}
	keepEmpty(t, b, set)
	if !keptValid(t, b, set) {
		t.Fatal("b's figures, just kept, are not valid")
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	b = openOn(t, server, bucket, bSpool, withLedger(redisLedger(t, rs, false)))
	if !keptValid(t, b, set) {
		t.Fatal("b's figures did not survive its restart, with nothing written meanwhile")
	}
	mustWrite(t, a, obs("P20", "2026-Q1", 61))
	if keptValid(t, b, set) {
		t.Fatal("b still holds its figures as current after a's new revision")
	}
	if err := a.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	keepEmpty(t, b, set)
	if !keptValid(t, b, set) {
		t.Fatal("b's figures, kept again, are not valid")
	}
	review(t, a, "P20", "2026-Q1", store.Approved)
	if keptValid(t, b, set) {
		t.Fatal("b still holds its figures as current after a's approval")
	}
}

// A set computed while a read was answered from the ledger, InfluxDB away, is not
// kept (the ledger need not be what InfluxDB holds), and `goc rebuild` says so rather
// than keep nothing silently; once InfluxDB answers again, figures are kept.
func TestFiguresComputedWhileInfluxDBIsAwayAreNotKeptInTheSpool(t *testing.T) {
	bucket := server.NewDatabase(t)
	spool := filepath.Join(t.TempDir(), "spool.db")
	s := openOn(t, server, bucket, spool)
	mustWrite(t, s, obs("P20", "2026-Q1", 61))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	set := store.FigureSet{View: "all", Indicator: "dossiers_fully_online"}
	off := away(t, bucket, spool)
	k, err := off.KeptFigures(ctx, set, "v1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := off.Observations(ctx, store.Query{}); err != nil {
		t.Fatal(err)
	}
	if ok, err := off.KeepFigures(ctx, set, store.FigureUpdate{Stamp: "v1", Base: k, All: true}); err != nil || ok {
		t.Fatalf("figures computed from a read of the ledger were kept: %v, %v", ok, err)
	}
	if _, err := off.KeepFigures(ctx, set, store.FigureUpdate{Stamp: "v1", Base: k, All: true, Force: true}); err == nil {
		t.Fatal("a forced update computed from a read of the ledger gave no error")
	}
	if err := off.Close(); err != nil {
		t.Fatal(err)
	}
	on := openOn(t, server, bucket, spool)
	if keptValid(t, on, set) {
		t.Fatal("a set is kept from the reads while InfluxDB was away")
	}
	keepEmpty(t, on, set)
	if !keptValid(t, on, set) {
		t.Fatal("with InfluxDB back, figures are not kept")
	}
}

// A spool opened with other buckets than the ones its figures were kept for forgets
// them: its marks never saw what was written there.
func TestASpoolOpenedWithAnotherBucketForgetsItsKeptFigures(t *testing.T) {
	spool := filepath.Join(t.TempDir(), "spool.db")
	s := openOn(t, server, server.NewDatabase(t), spool)
	set := store.FigureSet{View: "all", Indicator: "dossiers_fully_online"}
	keepEmpty(t, s, set)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	other := openOn(t, server, server.NewDatabase(t), spool)
	if k, err := other.KeptFigures(context.Background(), set, "v1"); err != nil || k.Valid || k.Stored != "" {
		t.Fatalf("a spool opened with another bucket kept its figures: %+v, %v", k, err)
	}
}
