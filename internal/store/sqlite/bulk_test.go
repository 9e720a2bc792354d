package sqlite

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/indicators/period"
	"github.com/g-oc/goc/internal/store"
	"github.com/g-oc/goc/internal/store/storetest"
)

func TestBulkLoadMatchesWriteObservations(t *testing.T) {
	ctx := context.Background()
	data := storetest.Bulk{Agencies: 50, Indicators: 3, First: period.MustParse("2025-01"), Periods: 6, Seed: 4}.Observations()
	plain, _ := openTemp(t)
	bulk, _ := openTemp(t)
	if _, err := plain.WriteObservations(ctx, data); err != nil {
		t.Fatal(err)
	}
	b, err := bulk.BeginBulk(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(data); i += 128 {
		if err := b.Write(ctx, data[i:min(i+128, len(data))]); err != nil {
			t.Fatal(err)
		}
	}
	created, err := b.Commit()
	if err != nil {
		t.Fatal(err)
	}
	if created != len(data) {
		t.Errorf("created %d, want %d", created, len(data))
	}
	for _, history := range []bool{false, true} {
		want, _ := plain.Observations(ctx, store.Query{History: history})
		got, _ := bulk.Observations(ctx, store.Query{History: history})
		if len(got) != len(want) {
			t.Fatalf("history=%v: %d rows, want %d", history, len(got), len(want))
		}
		for i := range want {
			w, g := want[i], got[i]
			w.Batch, g.Batch = "", ""
			if !w.SameContent(&g) || w.Revision != g.Revision || w.Submitter != g.Submitter || !w.ReceivedAt.Equal(g.ReceivedAt) {
				t.Fatalf("history=%v row %d: bulk %+v, plain %+v", history, i, g, w)
			}
		}
	}

	// A second load changes one value and repeats the rest: one new revision.
	changed := append([]indicators.Observation(nil), data...)
	changed[7].Value += 1
	b, _ = bulk.BeginBulk(ctx)
	if err := b.Write(ctx, changed); err != nil {
		t.Fatal(err)
	}
	if n, err := b.Commit(); err != nil || n != 1 {
		t.Fatalf("reload: created %d, err %v", n, err)
	}
	latest, _ := bulk.Observations(ctx, store.Query{Indicators: []string{changed[7].Indicator}, Agencies: []string{changed[7].Agency}, From: changed[7].Period.Start(nil), To: changed[7].Period.End(nil)})
	if len(latest) != 1 || latest[0].Revision != 2 || latest[0].Value != changed[7].Value {
		t.Errorf("latest after reload = %+v", latest)
	}
}

func TestBulkRollbackLeavesNothingAndReleasesTheWriter(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	data := storetest.Bulk{Agencies: 20, Indicators: 2, First: period.MustParse("2025-01"), Periods: 3, Seed: 1}.Observations()
	b, err := s.BeginBulk(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Write(ctx, data); err != nil {
		t.Fatal(err)
	}
	if err := b.Rollback(); err != nil {
		t.Fatal(err)
	}
	if err := b.Rollback(); err != nil {
		t.Errorf("a second Rollback: %v", err)
	}
	if err := b.Write(ctx, data); err == nil {
		t.Error("Write after Rollback succeeded")
	}
	if got, _ := s.Observations(ctx, store.Query{History: true}); len(got) != 0 {
		t.Errorf("%d observations after rollback", len(got))
	}
	// The write connection is free again.
	wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := s.WriteObservations(wctx, data[:1]); err != nil {
		t.Fatalf("write after rollback: %v", err)
	}
	// A load naming one series twice fails rather than guessing an order.
	b, _ = s.BeginBulk(ctx)
	b.Write(ctx, []indicators.Observation{data[1], data[1]})
	if _, err := b.Commit(); err == nil {
		t.Error("a load with the same series twice succeeded")
	}
}

func TestIdempotencyKeysKeepTheFirstAnswer(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	if _, _, _, found, err := s.IdempotentResponse(ctx, "tok", "k1"); err != nil || found {
		t.Fatalf("before any key: found %v, err %v", found, err)
	}
	fp, status, body, err := s.SaveIdempotentResponse(ctx, "tok", "k1", "fp1", 201, []byte(`{"a":1}`))
	if err != nil || fp != "fp1" || status != 201 || string(body) != `{"a":1}` {
		t.Fatalf("save: %q %d %q %v", fp, status, body, err)
	}
	// A racing twin saving second gets the first answer back.
	fp, _, body, err = s.SaveIdempotentResponse(ctx, "tok", "k1", "fp2", 201, []byte(`{"a":2}`))
	if err != nil || fp != "fp1" || string(body) != `{"a":1}` {
		t.Errorf("second save: %q %q %v", fp, body, err)
	}
	if fp, _, _, found, _ := s.IdempotentResponse(ctx, "tok", "k1"); !found || fp != "fp1" {
		t.Errorf("lookup: %q %v", fp, found)
	}
	if _, _, _, found, _ := s.IdempotentResponse(ctx, "other-token", "k1"); found {
		t.Error("a key is visible to another token")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, _, _, _, err := s.IdempotentResponse(ctx, "tok", "k1"); !errors.Is(err, store.ErrClosed) {
		t.Errorf("closed store: %v", err)
	}
}
