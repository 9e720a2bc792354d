package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/indicators/period"
	"github.com/g-oc/goc/internal/store"
	"github.com/g-oc/goc/internal/store/storetest"
)

func openTemp(t testing.TB, opts ...Option) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "goc.db")
	s, err := Open(context.Background(), path, opts...)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil && !errors.Is(err, store.ErrClosed) {
			t.Errorf("Close: %v", err)
		}
	})
	return s, path
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, _ := openTemp(t)
		return s
	})
}

func TestSessions(t *testing.T) {
	storetest.RunSessions(t, func(t *testing.T) store.Sessions {
		s, _ := openTemp(t)
		return s
	})
}

func TestConformanceWithAutoApprove(t *testing.T) {
	storetest.RunAutoApprove(t, func(t *testing.T) store.Store {
		s, _ := openTemp(t, WithAutoApprove(true))
		return s
	})
}

func TestOpenMakesFileDurable(t *testing.T) {
	s, _ := openTemp(t)
	ctx := context.Background()
	tests := []struct {
		pragma string
		want   string
	}{
		{"journal_mode", "wal"},
		{"synchronous", "2"}, // FULL
		{"foreign_keys", "1"},
		{"busy_timeout", "10000"},
		{"user_version", strconv.Itoa(len(migrations))}, // every migration applied
	}
	for _, tc := range tests {
		var got string
		if err := s.writer.QueryRowContext(ctx, "PRAGMA "+tc.pragma).Scan(&got); err != nil {
			t.Fatalf("PRAGMA %s: %v", tc.pragma, err)
		}
		if got != tc.want {
			t.Errorf("writer PRAGMA %s = %s, want %s", tc.pragma, got, tc.want)
		}
	}
	var readOnly string
	if err := s.readers.QueryRowContext(ctx, "PRAGMA query_only").Scan(&readOnly); err != nil || readOnly != "1" {
		t.Errorf("reader PRAGMA query_only = %q (%v), want 1", readOnly, err)
	}
}

func TestANewFileGets16KiBPagesAndAnOldOneKeepsItsOwn(t *testing.T) {
	ctx := context.Background()
	pageSize := func(s *Store) int {
		t.Helper()
		var n int
		if err := s.writer.QueryRowContext(ctx, "PRAGMA page_size").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	s, _ := openTemp(t)
	if n := pageSize(s); n != newFilePageSize {
		t.Errorf("a new store has %d-byte pages, want %d", n, newFilePageSize)
	}

	// A store made before: SQLite's default 4 KiB pages, in WAL mode, with a value.
	path := filepath.Join(t.TempDir(), "old.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("PRAGMA page_size = 4096; PRAGMA journal_mode = WAL"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	old, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	o := indicators.Observation{
		SeriesKey: indicators.SeriesKey{Indicator: "dossiers_online", Agency: "P01", Period: period.MustParse("2025-09")},
		Value:     61, Source: indicators.FromSubmission, Submitter: "alice",
	}
	if _, err := old.WriteObservations(ctx, []indicators.Observation{o}); err != nil {
		t.Fatalf("write to the old store: %v", err)
	}
	if n := pageSize(old); n != 4096 {
		t.Errorf("an old store's pages became %d bytes, want its own 4096", n)
	}
	var verdict string
	if err := old.writer.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&verdict); err != nil || verdict != "ok" {
		t.Errorf("integrity_check = %q (%v)", verdict, err)
	}
}

func TestReopenKeepsDataAndRevisions(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "goc.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	o := indicators.Observation{
		SeriesKey: indicators.SeriesKey{Indicator: "dossiers_online", Agency: "P01", Period: period.MustParse("2025-09")},
		Value:     61, Source: indicators.FromSubmission, Submitter: "alice",
	}
	if _, err := s.WriteObservations(ctx, []indicators.Observation{o}); err != nil {
		t.Fatalf("write: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	s, err = Open(ctx, path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s.Close()
	o.Value = 62
	got, err := s.WriteObservations(ctx, []indicators.Observation{o})
	if err != nil {
		t.Fatalf("write after reopen: %v", err)
	}
	if got[0].Revision != 2 {
		t.Errorf("revision after reopen = %d, want 2", got[0].Revision)
	}
}

func TestOpenRefusesSchemaFromNewerVersion(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "goc.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("PRAGMA user_version = 99"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	s, err := Open(ctx, path)
	if err == nil {
		s.Close()
		t.Fatal("Open accepted a file with schema version 99")
	}
	if !strings.Contains(err.Error(), "99") {
		t.Errorf("error %q does not name the file's schema version", err)
	}
}

func TestOpenRefusesPathsTheDriverWouldMisread(t *testing.T) {
	for _, p := range []string{"", ":memory:", "file:x.db", filepath.Join(t.TempDir(), "a?b.db")} {
		if s, err := Open(context.Background(), p); err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded, want an error", p)
		}
	}
}

func TestStoredRevisionsCannotBeUpdatedOrDeleted(t *testing.T) {
	s, _ := openTemp(t)
	ctx := context.Background()
	o := indicators.Observation{
		SeriesKey: indicators.SeriesKey{Indicator: "dossiers_online", Agency: "P01", Period: period.MustParse("2025-09")},
		Value:     61, Source: indicators.FromSubmission,
	}
	if _, err := s.WriteObservations(ctx, []indicators.Observation{o}); err != nil {
		t.Fatal(err)
	}
	for _, stmt := range []string{"UPDATE observations SET value = 99", "DELETE FROM observations"} {
		if _, err := s.writer.ExecContext(ctx, stmt); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: err = %v, want the append-only refusal", stmt, err)
		}
	}
}

func TestReceivedAtComesFromTheStoreClock(t *testing.T) {
	at := time.Date(2025, 10, 3, 2, 4, 5, 6, time.UTC)
	s, _ := openTemp(t, WithClock(func() time.Time { return at }))
	got, err := s.WriteObservations(context.Background(), []indicators.Observation{{
		SeriesKey: indicators.SeriesKey{Indicator: "i", Agency: "a", Period: period.MustParse("2025")},
		Source:    indicators.FromComputed,
	}})
	if err != nil {
		t.Fatal(err)
	}
	if !got[0].ReceivedAt.Equal(at) {
		t.Errorf("ReceivedAt = %s, want the clock's %s", got[0].ReceivedAt, at)
	}
}

// The design's promise: latest-state reads never walk history. The query plans must
// search the latest tables by key and reach each revision by its row id.
func TestLatestQueriesUseIndexesNotHistoryScans(t *testing.T) {
	s, _ := openTemp(t)
	ctx := context.Background()
	q1, _, args1 := observationQuery(store.Query{Indicators: []string{"I01"}})
	q2, _, args2 := observationQuery(store.Query{Agencies: []string{"U00001"}, From: time.Unix(0, 0)})
	q3, _, args3 := observationQuery(store.Query{History: true, Indicators: []string{"I01"}, Agencies: []string{"U1"}})
	q4, _, args4 := observationQuery(store.Query{Indicators: []string{"I01"}, From: time.Unix(0, 0), To: time.Unix(1, 0)})
	tests := []struct {
		name    string
		query   string
		args    []any
		want    []string
		notWant []string
	}{
		{"latest of one indicator", q1, args1,
			[]string{"SEARCH latest USING PRIMARY KEY (indicator=?)"},
			[]string{"observations", "TEMP B-TREE"}},
		{"latest of one agency", q2, args2,
			[]string{"SEARCH latest USING INDEX latest_agency (agency=? AND period_start>?)"},
			[]string{"observations"}},
		{"latest of one indicator in one period", q4, args4,
			[]string{"SEARCH latest USING INDEX latest_indicator_period (indicator=? AND period_start>? AND period_start<?)"},
			[]string{"observations"}},
		{"history of one series", q3, args3,
			[]string{"SEARCH observations USING INDEX observations_series (indicator=? AND agency=?)"},
			[]string{"SCAN", "TEMP B-TREE"}},
		{"latest of every portal", "SELECT " + probeColumns + " FROM probe_latest ORDER BY target", nil,
			[]string{"SCAN probe_latest"}, []string{"TEMP B-TREE", "probes "}},
		{"results of one portal", "SELECT " + probeColumns + " FROM probes WHERE target = ? AND time >= ? AND time < ? ORDER BY time, id",
			[]any{"x", 0, 1}, []string{"SEARCH probes USING INDEX probes_target_time (target=? AND time>? AND time<?)"}, []string{"TEMP B-TREE"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rows, err := s.readers.QueryContext(ctx, "EXPLAIN QUERY PLAN "+tc.query, tc.args...)
			if err != nil {
				t.Fatalf("explain: %v", err)
			}
			defer rows.Close()
			var plan []string
			for rows.Next() {
				var id, parent, unused int
				var detail string
				if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
					t.Fatal(err)
				}
				plan = append(plan, detail)
			}
			text := strings.Join(plan, "\n")
			for _, w := range tc.want {
				if !strings.Contains(text, w) {
					t.Errorf("plan lacks %q:\n%s", w, text)
				}
			}
			for _, nw := range tc.notWant {
				if strings.Contains(text, nw) {
					t.Errorf("plan has %q:\n%s", nw, text)
				}
			}
		})
	}
}

func TestPruneProbeResultsKeepsLatestState(t *testing.T) {
	s, _ := openTemp(t)
	ctx := context.Background()
	start := time.Date(2025, 10, 1, 0, 0, 0, 0, time.UTC)
	// More than one pruning slice of 5,000: 3,000 portals, four daily rounds.
	rs := storetest.BulkProbes(3000, 4, start, 24*time.Hour)
	rs = append(rs, indicators.ProbeResult{Target: "https://gone.gov.vn", Time: start})
	if err := s.WriteProbeResults(ctx, rs); err != nil {
		t.Fatal(err)
	}
	n, err := s.PruneProbeResults(ctx, start.Add(2*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if n != 6001 { // two daily rounds of 3,000 portals, and gone.gov.vn's one result
		t.Errorf("pruned %d results, want 6001", n)
	}
	latest, err := s.LatestProbes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(latest) != 3001 || latest[0].Target != "https://gone.gov.vn" {
		t.Errorf("latest after prune has %d targets; want 3001 starting with https://gone.gov.vn", len(latest))
	}
	left, err := s.ProbeResults(ctx, "https://portal-00000.gov.vn", time.Time{}, time.Time{})
	if err != nil || len(left) != 2 {
		t.Errorf("history of portal-00000 after prune: %d results (%v), want 2", len(left), err)
	}
}
