package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"slices"
	"testing"

	"github.com/g-oc/goc/internal/store/yearfigures"
)

// The data file's kept figures, made by migrations 7 and 8, and the InfluxDB spool's,
// made by yearfigures.Schema, are the same tables: package yearfigures reads and writes
// both with one code.
func TestTheDataFilesKeptFigureTablesAreYearfiguresSchema(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := Open(ctx, filepath.Join(dir, "goc.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	plain, err := sql.Open("sqlite", filepath.Join(dir, "schema.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { plain.Close() })
	if _, err := plain.ExecContext(ctx, yearfigures.Schema); err != nil {
		t.Fatal(err)
	}
	columns := func(db *sql.DB, table string) []string {
		t.Helper()
		rows, err := db.QueryContext(ctx, "SELECT name, type, \"notnull\", pk FROM pragma_table_info(?) ORDER BY cid", table)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var name, typ string
			var notNull, pk int
			if err := rows.Scan(&name, &typ, &notNull, &pk); err != nil {
				t.Fatal(err)
			}
			out = append(out, fmt.Sprintf("%s %s notnull=%d pk=%d", name, typ, notNull, pk))
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return out
	}
	for _, table := range []string{"figure_clock", "figure_marks", "figure_sets", "figures"} {
		got, want := columns(st.readers, table), columns(plain, table)
		if len(want) == 0 || !slices.Equal(got, want) {
			t.Errorf("%s: the data file has\n%q\nyearfigures.Schema makes\n%q", table, got, want)
		}
	}
}
