package sqlbatch_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"

	_ "modernc.org/sqlite"

	"github.com/g-oc/goc/internal/store/sqlbatch"
)

// Rows across statement boundaries all arrive, in order, and reads of keys in parts
// find each row once: the batching is invisible to what is stored and read.
func TestRowsAcrossStatementsAreStoredAndFoundOnce(t *testing.T) {
	ctx := context.Background()
	for _, n := range []int{0, 1, 332, 333, 334, 999, 2500} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			db, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "b.db"))
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if _, err := db.Exec("CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER, w BLOB)"); err != nil {
				t.Fatal(err)
			}
			// Width 3: 333 rows a statement. Every key is written twice, the second
			// time with v+1, so the rows' order decides what is kept.
			var rows [][]any
			for pass := range 2 {
				for i := range n {
					rows = append(rows, []any{fmt.Sprintf("k%05d", i), i + pass, []byte{byte(i)}})
				}
			}
			if err := sqlbatch.Insert(ctx, db, "INSERT INTO t (k, v, w)", "ON CONFLICT (k) DO UPDATE SET v = excluded.v", rows); err != nil {
				t.Fatal(err)
			}
			var count int
			if err := db.QueryRow("SELECT count(*) FROM t").Scan(&count); err != nil || count != n {
				t.Fatalf("%d rows stored (%v), want %d", count, err, n)
			}
			keys := []any{"absent"}
			for i := range n {
				keys = append(keys, fmt.Sprintf("k%05d", i))
			}
			seen := map[string]int{}
			err = sqlbatch.In(ctx, db, "SELECT k, v FROM t WHERE v >= ? AND k IN (IN)", []any{0}, keys, func(r *sql.Rows) error {
				var k string
				var v int
				if err := r.Scan(&k, &v); err != nil {
					return err
				}
				var i int
				fmt.Sscanf(k, "k%05d", &i)
				if v != i+1 {
					return fmt.Errorf("%s holds %d, want the later row's %d", k, v, i+1)
				}
				seen[k]++
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(seen) != n {
				t.Fatalf("read %d keys, want %d", len(seen), n)
			}
			for k, c := range seen {
				if c != 1 {
					t.Fatalf("%s read %d times", k, c)
				}
			}
		})
	}
}

// A statement that fails stops the batch with the driver's error.
func TestAFailingRowStopsTheBatchWithItsError(t *testing.T) {
	ctx := context.Background()
	db, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "b.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER NOT NULL)"); err != nil {
		t.Fatal(err)
	}
	err = sqlbatch.Insert(ctx, db, "INSERT INTO t (k, v)", "", [][]any{{"a", 1}, {"b", nil}})
	if err == nil {
		t.Fatal("a NULL in a NOT NULL column was stored")
	}
	var count int
	if err := db.QueryRow("SELECT count(*) FROM t").Scan(&count); err != nil || count != 0 {
		t.Fatalf("%d rows stored after a failed statement (%v), want 0", count, err)
	}
}
