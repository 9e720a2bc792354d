package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/g-oc/goc/internal/store"
)

// ReminderLogOpener returns a fresh, empty store that declares store.ReminderLog, and
// reopen, which closes it and opens the same data again, as a restart would.
type ReminderLogOpener = func(t *testing.T) (log store.ReminderLog, reopen func() store.ReminderLog)

// RunReminderLog is the conformance suite of the store.ReminderLog capability; every
// backend that declares it runs it.
func RunReminderLog(t *testing.T, open ReminderLogOpener) {
	t.Helper()
	for _, c := range []struct {
		name string
		run  func(t *testing.T, open ReminderLogOpener)
	}{
		{"FirstClaimWinsAndARepeatIsRefused", testReminderClaimOnce},
		{"OfConcurrentClaimsExactlyOneWins", testReminderConcurrentClaims},
		{"AReleasedClaimCanBeClaimedAgain", testReminderRelease},
		{"ClaimsSurviveARestart", testReminderRestart},
	} {
		t.Run(c.name, func(t *testing.T) { c.run(t, open) })
	}
}

var reminderAt = time.Date(2026, 10, 5, 8, 0, 0, 0, time.UTC)

func testReminderClaimOnce(t *testing.T, open ReminderLogOpener) {
	log, _ := open(t)
	ctx := context.Background()
	for i, c := range []struct {
		key  string
		want bool
	}{
		{"P20|2026-09|before-7|thu.ky@langson.gov.vn", true},
		{"P20|2026-09|before-7|thu.ky@langson.gov.vn", false},
		{"P20|2026-09|before-7|pho.phong@langson.gov.vn", true},
		{"P20|2026-09|deadline|thu.ky@langson.gov.vn", true},
	} {
		got, err := log.ClaimReminder(ctx, c.key, reminderAt.Add(time.Duration(i)*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if got != c.want {
			t.Errorf("claim %d of %s = %v, want %v", i+1, c.key, got, c.want)
		}
	}
}

func testReminderConcurrentClaims(t *testing.T, open ReminderLogOpener) {
	log, _ := open(t)
	const n = 16
	var wg sync.WaitGroup
	wins := make(chan bool, n)
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			ok, err := log.ClaimReminder(context.Background(), "BTC|2026|after-1|ke.toan@mof.gov.vn", reminderAt)
			if err != nil {
				errs <- err
			}
			wins <- ok
		})
	}
	wg.Wait()
	close(wins)
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	won := 0
	for ok := range wins {
		if ok {
			won++
		}
	}
	if won != 1 {
		t.Fatalf("%d of %d concurrent claims won, want exactly 1", won, n)
	}
}

func testReminderRelease(t *testing.T, open ReminderLogOpener) {
	log, _ := open(t)
	ctx := context.Background()
	key := "P01|2026-Q3|deadline|a@hanoi.gov.vn"
	if ok, err := log.ClaimReminder(ctx, key, reminderAt); err != nil || !ok {
		t.Fatalf("first claim = %v, %v", ok, err)
	}
	if err := log.ReleaseReminder(ctx, key); err != nil {
		t.Fatal(err)
	}
	if ok, err := log.ClaimReminder(ctx, key, reminderAt.Add(time.Hour)); err != nil || !ok {
		t.Fatalf("claim after release = %v, %v; want true", ok, err)
	}
	if err := log.ReleaseReminder(ctx, "never-claimed"); err != nil {
		t.Errorf("releasing an unknown key: %v", err)
	}
}

func testReminderRestart(t *testing.T, open ReminderLogOpener) {
	log, reopen := open(t)
	if reopen == nil {
		t.Fatal("the opener must give a reopen function: the record of reminders must outlive a restart")
	}
	ctx := context.Background()
	for i := range 3 {
		if ok, err := log.ClaimReminder(ctx, fmt.Sprintf("P20|2026-09|after-%d|x@y.vn", i+1), reminderAt); err != nil || !ok {
			t.Fatalf("claim %d = %v, %v", i+1, ok, err)
		}
	}
	log = reopen()
	for i := range 3 {
		ok, err := log.ClaimReminder(ctx, fmt.Sprintf("P20|2026-09|after-%d|x@y.vn", i+1), reminderAt.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			t.Errorf("after a restart, reminder %d was claimed again", i+1)
		}
	}
}
