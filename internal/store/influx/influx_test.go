package influx

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/internal/store"
	"github.com/g-oc/goc/internal/store/influx/influxtest"
	"github.com/g-oc/goc/internal/store/storetest"
)

// server is the influxd most tests share, each in a database of its own; tests that
// stop InfluxDB start one of their own.
var server *influxtest.Server

func TestMain(m *testing.M) {
	s, err := influxtest.New()
	if err != nil {
		fmt.Fprintf(os.Stderr, "InfluxDB tests cannot run: %v\n", err)
		os.Exit(1)
	}
	server = s
	code := m.Run()
	if code != 0 {
		fmt.Fprintf(os.Stderr, "influxd log:\n%s\n", s.Log())
	}
	s.Close()
	os.Exit(code)
}

// openOn opens a store on srv's database bucket with the spool file given; the store
// is closed when the test ends.
func openOn(t testing.TB, srv *influxtest.Server, bucket, spool string, opts ...func(*Options)) *Store {
	t.Helper()
	o := Options{URL: srv.URL, Bucket: bucket, Spool: spool}
	for _, f := range opts {
		f(&o)
	}
	s, err := Open(context.Background(), o)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil && !errors.Is(err, store.ErrClosed) {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// openFresh opens a store on a new database of the shared server with a new spool.
func openFresh(t testing.TB, opts ...func(*Options)) *Store {
	t.Helper()
	return openOn(t, server, server.NewDatabase(t), filepath.Join(t.TempDir(), "spool.db"), opts...)
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return openFresh(t) })
}

// The conformance suite again, but with every write sent to InfluxDB before the next
// step reads: answers must come from InfluxDB itself, not from the spool.
func TestConformanceReadingFromInfluxDB(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return flushing{openFresh(t)} })
}

// The suite a third time, with latest values answered from the ledger.
func TestConformanceWithLatestFromLedger(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		return openFresh(t, func(o *Options) { o.LatestFromLedger = true })
	})
}

func TestSessions(t *testing.T) {
	storetest.RunSessions(t, func(t *testing.T) store.Sessions { return openFresh(t) })
}

func TestConformanceWithAutoApprove(t *testing.T) {
	storetest.RunAutoApprove(t, func(t *testing.T) store.Store {
		return openFresh(t, func(o *Options) { o.AutoApprove = true })
	})
}

// flushing waits for every write to reach InfluxDB before it returns.
type flushing struct{ *Store }

func (f flushing) WriteObservations(ctx context.Context, obs []indicators.Observation) ([]indicators.Observation, error) {
	out, err := f.Store.WriteObservations(ctx, obs)
	if err == nil {
		if ferr := f.Store.Flush(ctx); ferr != nil {
			return nil, ferr
		}
	}
	return out, err
}

func (f flushing) WriteProbeResults(ctx context.Context, rs []indicators.ProbeResult) error {
	err := f.Store.WriteProbeResults(ctx, rs)
	if err == nil {
		return f.Store.Flush(ctx)
	}
	return err
}
