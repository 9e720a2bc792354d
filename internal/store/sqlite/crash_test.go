package sqlite

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/indicators/period"
	"github.com/g-oc/goc/internal/store"
	"github.com/g-oc/goc/internal/store/storetest"
)

// writerEnv names the database a re-executed test binary should write to until killed.
const writerEnv = "GOC_SQLITE_KILL9_WRITER_DB"

// TestMain lets the test binary double as the writer process the kill -9 test kills:
// with writerEnv set it writes forever instead of running tests.
func TestMain(m *testing.M) {
	if path := os.Getenv(bulkWriterEnv); path != "" {
		if err := bulkUntilKilled(path); err != nil {
			fmt.Fprintln(os.Stderr, "bulk writer:", err)
			os.Exit(3)
		}
		os.Exit(0)
	}
	if path := os.Getenv(writerEnv); path != "" {
		if err := writeUntilKilled(path); err != nil {
			fmt.Fprintln(os.Stderr, "writer:", err)
			os.Exit(3)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// bulkWriterEnv names the database a re-executed test binary should bulk-load into.
const bulkWriterEnv = "GOC_SQLITE_KILL9_BULK_DB"

const crashBatch = 4

// crashObservations is batch i of the writer: four agencies' values for month i, and a
// revision of agency K0's previous month, so revisions are exercised too.
func crashObservations(i int) []indicators.Observation {
	per := period.MustParse("2000-01").Add(i)
	out := make([]indicators.Observation, 0, crashBatch+1)
	for a := range crashBatch {
		out = append(out, indicators.Observation{
			SeriesKey: indicators.SeriesKey{Indicator: "crash", Agency: fmt.Sprintf("K%d", a), Period: per},
			Value:     float64(i*10 + a),
			Source:    indicators.FromSubmission,
			Submitter: "writer",
		})
	}
	if i > 0 {
		out = append(out, indicators.Observation{
			SeriesKey: indicators.SeriesKey{Indicator: "crash", Agency: "K0", Period: per.Prev()},
			Value:     -float64(i),
			Source:    indicators.FromComputed,
			Submitter: "writer",
		})
	}
	return out
}

// writeUntilKilled writes batches forever, printing "ack N" only after batch N's
// WriteObservations has returned: every printed ack is a promise of durability.
func writeUntilKilled(path string) error {
	ctx := context.Background()
	s, err := Open(ctx, path)
	if err != nil {
		return err
	}
	out := bufio.NewWriter(os.Stdout)
	for i := 0; ; i++ {
		if _, err := s.WriteObservations(ctx, crashObservations(i)); err != nil {
			return err
		}
		fmt.Fprintf(out, "ack %d\n", i)
		if err := out.Flush(); err != nil {
			return err
		}
	}
}

func TestAcknowledgedWritesSurviveKill9(t *testing.T) {
	path := filepath.Join(t.TempDir(), "goc.db")
	// Figures kept before the writer starts: whatever it writes must leave them marked.
	set := store.FigureSet{View: "all", Indicator: "crash"}
	func() {
		s, err := Open(context.Background(), path)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if ok, err := s.KeepFigures(context.Background(), set, store.FigureUpdate{Stamp: "before", All: true}); err != nil || !ok {
			t.Fatalf("keep figures before the writer: %v, %v", ok, err)
		}
	}()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), writerEnv+"="+path)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	killed := false
	defer func() {
		if !killed {
			cmd.Process.Kill()
			cmd.Wait()
		}
	}()

	// Read acks until enough batches are durable, then kill the writer mid-stream:
	// it is writing the next batch as the signal lands.
	const wantAcks = 200
	lines := bufio.NewScanner(stdout)
	last := -1
	deadline := time.AfterFunc(40*time.Second, func() { cmd.Process.Kill() })
	for last < wantAcks-1 && lines.Scan() {
		n, err := strconv.Atoi(strings.TrimPrefix(lines.Text(), "ack "))
		if err != nil || n != last+1 {
			t.Fatalf("writer printed %q after ack %d", lines.Text(), last)
		}
		last = n
	}
	deadline.Stop()
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatalf("kill writer: %v", err)
	}
	// Acks the writer printed before the signal landed are promises too.
	for lines.Scan() {
		if n, err := strconv.Atoi(strings.TrimPrefix(lines.Text(), "ack ")); err == nil && n == last+1 {
			last = n
		}
	}
	cmd.Wait()
	killed = true
	if last < wantAcks-1 {
		t.Fatalf("writer acknowledged only %d batches before it stopped", last+1)
	}

	ctx := context.Background()
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("reopen after kill -9: %v", err)
	}
	defer s.Close()
	var integrity string
	if err := s.readers.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&integrity); err != nil || integrity != "ok" {
		t.Fatalf("integrity check after kill -9: %q, %v", integrity, err)
	}
	latest, err := s.Observations(ctx, store.Query{Indicators: []string{"crash"}})
	if err != nil {
		t.Fatal(err)
	}
	history, err := s.Observations(ctx, store.Query{Indicators: []string{"crash"}, History: true})
	if err != nil {
		t.Fatal(err)
	}
	type series struct {
		agency string
		per    string
		rev    int
	}
	stored := map[series]float64{}
	for _, o := range history {
		stored[series{o.Agency, o.Period.String(), o.Revision}] = o.Value
	}
	for i := 0; i <= last; i++ {
		for _, o := range crashObservations(i) {
			rev := 1
			if i > 0 && o.Source == indicators.FromComputed {
				rev = 2
			}
			k := series{o.Agency, o.Period.String(), rev}
			if v, ok := stored[k]; !ok || v != o.Value {
				t.Errorf("acknowledged batch %d: %s/%s revision %d = %v (present %v), want %v", i, o.Agency, o.Period, rev, v, ok, o.Value)
			}
		}
	}
	// The batch in flight at the kill is all there or not there at all.
	inFlight := crashObservations(last + 1)
	present := 0
	for _, o := range inFlight[:crashBatch] {
		if _, ok := stored[series{o.Agency, o.Period.String(), 1}]; ok {
			present++
		}
	}
	if present != 0 && present != crashBatch {
		t.Errorf("batch in flight at the kill is half stored: %d of %d", present, crashBatch)
	}
	// latest must agree with history: K0 of every acknowledged month but the last was revised.
	for _, o := range latest {
		if o.Agency == "K0" && o.Revision == 1 && o.Period.Next().Sub(period.MustParse("2000-01")) <= last {
			t.Errorf("latest of K0/%s is revision 1, but its revision 2 was acknowledged", o.Period)
		}
	}
	// Every year the writer's acknowledged batches reached is marked since the figures
	// kept before it: no reader can take those figures as current.
	kept, err := s.KeptFigures(ctx, set, "before")
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i <= last; i++ {
		if y := crashObservations(i)[0].Period.Year; !kept.Valid || !slices.Contains(kept.Stale, y) {
			t.Fatalf("after kill -9: figures kept before the writer (valid %v) are not marked stale for %d, which it wrote (marked: %v)", kept.Valid, y, kept.Stale)
		}
	}
	if !t.Failed() {
		t.Logf("writer acknowledged %d batches before kill -9; all present after reopen", last+1)
	}
}

// crashLoads are the bulk writer's two loads: a small one, then one forty times the
// store, whose merge drops and rebuilds the secondary indexes.
var crashLoads = []storetest.Bulk{
	{Agencies: 50, Indicators: 2, First: period.MustParse("2024-01"), Periods: 10, Seed: 1},
	{Agencies: 400, Indicators: 5, First: period.MustParse("2025-01"), Periods: 20, Seed: 2},
}

// bulkUntilKilled runs crashLoads, printing "ack N" once load N is committed and
// "merging N" as load N's merge starts.
func bulkUntilKilled(path string) error {
	ctx := context.Background()
	s, err := Open(ctx, path)
	if err != nil {
		return err
	}
	for i, l := range crashLoads {
		b, err := s.BeginBulk(ctx)
		if err != nil {
			return err
		}
		if err := b.Write(ctx, l.Observations()); err != nil {
			return err
		}
		fmt.Printf("merging %d\n", i)
		if _, err := b.Commit(); err != nil {
			return err
		}
		fmt.Printf("ack %d\n", i)
	}
	select {} // wait for the kill
}

// TestABulkLoadKilledMidMergeLeavesNothingHalfApplied kills a bulk load while its merge
// runs (the one that drops and rebuilds indexes): after the reopen the store holds the
// committed load whole, the killed one not at all, every index, and passes
// integrity_check.
func TestABulkLoadKilledMidMergeLeavesNothingHalfApplied(t *testing.T) {
	path := filepath.Join(t.TempDir(), "goc.db")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), bulkWriterEnv+"="+path)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Kill()
		cmd.Wait()
	}()
	deadline := time.AfterFunc(60*time.Second, func() { cmd.Process.Kill() })
	defer deadline.Stop()
	lines := bufio.NewScanner(stdout)
	acked := -1
	for lines.Scan() {
		line := lines.Text()
		if line == "merging 1" {
			break // kill as the big load's merge starts
		}
		if line == "ack 0" {
			acked = 0
		}
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatalf("kill writer: %v", err)
	}
	for lines.Scan() {
		if lines.Text() == "ack 1" {
			acked = 1
		}
	}
	cmd.Wait()
	if acked < 0 {
		t.Fatal("the writer never committed its first load")
	}

	ctx := context.Background()
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("reopen after kill -9: %v", err)
	}
	defer s.Close()
	var integrity, indexes string
	if err := s.readers.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&integrity); err != nil || integrity != "ok" {
		t.Fatalf("integrity check after kill -9: %q, %v", integrity, err)
	}
	if err := s.readers.QueryRowContext(ctx, "SELECT group_concat(name || ': ' || sql, '; ') FROM (SELECT name, sql FROM sqlite_schema WHERE type = 'index' AND sql IS NOT NULL ORDER BY name)").Scan(&indexes); err != nil {
		t.Fatal(err)
	}
	if want := schemaIndexes(t); indexes != want {
		t.Errorf("indexes after kill -9 mid-merge:\n%s\nwant\n%s", indexes, want)
	}
	history, err := s.Observations(ctx, store.Query{History: true})
	if err != nil {
		t.Fatal(err)
	}
	// The killed load is there whole or not at all; an acknowledged one is whole.
	first, both := crashLoads[0].Len(), crashLoads[0].Len()+crashLoads[1].Len()
	switch {
	case len(history) == both:
		t.Log("the kill landed after the big load's commit")
	case len(history) == first && acked == 0:
	default:
		t.Fatalf("%d observations after kill -9 (acknowledged load %d), want %d or %d", len(history), acked, first, both)
	}
	subs, err := s.Submissions(ctx, store.SubmissionQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if wantSubs := 50 * 10; len(history) == first && len(subs) != wantSubs {
		t.Errorf("%d submissions after kill -9, want the first load's %d", len(subs), wantSubs)
	}
}
