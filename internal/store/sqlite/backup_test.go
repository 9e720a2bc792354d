package sqlite

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/g-oc/goc/internal/store"
)

// A backup taken while a submitter keeps writing is one consistent moment: it holds
// whole batches only (every batch here has the same size), at least what was stored
// before it started and at most what was stored when it ended.
func TestBackupWhileWritingHoldsWholeBatches(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	for i := range 50 {
		if _, err := s.WriteObservations(ctx, crashObservations(i+1)); err != nil {
			t.Fatal(err)
		}
	}
	const per = crashBatch + 1
	stop := make(chan struct{})
	wrote := make(chan int)
	go func() {
		n := 50
		defer func() { wrote <- n }()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := s.WriteObservations(ctx, crashObservations(n+1)); err != nil {
				t.Error(err)
				return
			}
			n++
		}
	}()
	dest := filepath.Join(t.TempDir(), "copy.db")
	var calls int
	info, err := s.Backup(ctx, dest, func(done, total int64) {
		calls++
		if done > total || total <= 0 {
			t.Errorf("progress %d of %d", done, total)
		}
	})
	close(stop)
	batches := <-wrote
	if err != nil {
		t.Fatal(err)
	}
	if calls == 0 {
		t.Error("no progress reported")
	}
	if info.Observations%per != 0 || info.Observations < 50*per || info.Observations > int64(batches*per) {
		t.Errorf("copy holds %d observations: want whole batches of %d, between %d and %d", info.Observations, per, 50*per, batches*per)
	}
	c, err := Open(ctx, dest)
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.Observations(ctx, store.Query{History: true})
	c.Close()
	if err != nil || int64(len(got)) != info.Observations {
		t.Errorf("the copy reads back %d observations (%v), its check counted %d", len(got), err, info.Observations)
	}
}

// A backup that cannot finish leaves no file under the name asked for, and no partial
// file beside it.
func TestBackupCancelledLeavesNothing(t *testing.T) {
	s, _ := openTemp(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	dir := t.TempDir()
	dest := filepath.Join(dir, "copy.db")
	if _, err := s.Backup(ctx, dest, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled backup: %v", err)
	}
	if _, err := os.Stat(dest); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("%s exists after a failed backup: %v", dest, err)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("left behind: %v", left)
	}
}
