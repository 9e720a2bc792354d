package sqlite

import (
	"context"
	"path/filepath"
	"testing"
)

// The readers' page caches live outside the Go heap and each fills to its cache_size on
// a store larger than it, so together they must stay within one budget whatever the
// number of readers: at 32 MB each, 4 readers held 128 MB more on a 7 GB store than
// on a small one (BENCHMARKS.md, "Hostile load").
func TestReadersPageCachesShareOneBudget(t *testing.T) {
	ctx := context.Background()
	for _, readers := range []int{1, 4, 16, 64} {
		s, err := Open(ctx, filepath.Join(t.TempDir(), "goc.db"), WithReaders(readers))
		if err != nil {
			t.Fatal(err)
		}
		var size int
		if err := s.readers.QueryRowContext(ctx, "PRAGMA cache_size").Scan(&size); err != nil {
			s.Close()
			t.Fatal(err)
		}
		s.Close()
		if size >= 0 {
			t.Fatalf("%d readers: cache_size %d pages, want a size in KiB (negative)", readers, size)
		}
		perKiB := -size
		// The budget, or SQLite's default 2,000 KiB each when that is more.
		allowed := max(32<<10, readers*2000)
		if perKiB*readers > allowed {
			t.Errorf("%d readers × %d KiB of page cache = %d MiB, want at most %d MiB in all",
				readers, perKiB, perKiB*readers>>10, allowed>>10)
		}
		if perKiB < 2000 {
			t.Errorf("%d readers: %d KiB of page cache each, below SQLite's default 2,000 KiB", readers, perKiB)
		}
	}
}
