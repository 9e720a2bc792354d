package influx

import (
	"context"
	"testing"
	"time"

	"github.com/g-oc/goc/internal/redistest"
	"github.com/g-oc/goc/internal/store/storetest"
)

// The same benchmarks as the embedded store's (internal/store/sqlite), on the shared
// influxd. scripts/bench-stores.sh runs both in one go.

// Batches of 1,000 acknowledged: durable in the spool, not yet in InfluxDB.
func BenchmarkWriteObservations(b *testing.B) {
	s := openFresh(b)
	storetest.BenchWriteObservations(b, s, 1000)
	b.StopTimer()
	flush(b, s)
}

// Batches of 1,000 until InfluxDB has them: spool, send, and delete from the spool.
func BenchmarkWriteObservationsIntoInfluxDB(b *testing.B) {
	storetest.BenchWriteObservations(b, flushing{openFresh(b)}, 1000)
}

// 3,400 reporting units × 12 months of one indicator (three loaded, one in ten
// revised), read from InfluxDB with the spool empty.
func BenchmarkLatestOneIndicatorAllAgencies(b *testing.B) {
	storetest.BenchLatestOneIndicator(b, flushing{openFresh(b)}, 3400, 12)
}

// 10,000 portals, five probe rounds each, read from InfluxDB.
func BenchmarkLatestProbes(b *testing.B) {
	storetest.BenchLatestProbes(b, flushing{openFresh(b)}, 10000, 5)
}

// The two latest reads again, answered from the spool's ledger (Options.LatestFromLedger).
func BenchmarkLedgerLatestOneIndicatorAllAgencies(b *testing.B) {
	storetest.BenchLatestOneIndicator(b, flushing{openFresh(b, fromLedger)}, 3400, 12)
}

func BenchmarkLedgerLatestProbes(b *testing.B) {
	storetest.BenchLatestProbes(b, flushing{openFresh(b, fromLedger)}, 10000, 5)
}

func fromLedger(o *Options) { o.LatestFromLedger = true }

// Probe results of 10,000 portals arriving each minute: the prober's write load.
func BenchmarkWriteProbeRoundIntoInfluxDB(b *testing.B) {
	s := flushing{openFresh(b)}
	rounds := 0
	for b.Loop() {
		at := time.Date(2025, 11, 3, 7, 0, 0, 0, time.UTC).Add(time.Duration(rounds) * time.Minute)
		all := storetest.BulkProbes(10000, 1, at, time.Minute)
		if err := s.WriteProbeResults(context.Background(), all); err != nil {
			b.Fatal(err)
		}
		rounds++
	}
	b.ReportMetric(float64(rounds*10000)/b.Elapsed().Seconds(), "results/s")
}

// The write and the latest read again with the revision ledger in Redis (replicas,
// Options.Ledger): numbering is a WATCH/MULTI round trip to a real redis-server
// (appendfsync always, as the README asks) before the spool's commit, and latest values
// come from Redis.
func BenchmarkRedisLedgerWriteObservations(b *testing.B) {
	s := openFresh(b, withLedger(redisLedger(b, redistest.StartDurable(b, ""), false)))
	storetest.BenchWriteObservations(b, s, 1000)
	b.StopTimer()
	flush(b, s)
}

func BenchmarkRedisLedgerLatestOneIndicatorAllAgencies(b *testing.B) {
	s := openFresh(b, withLedger(redisLedger(b, redistest.StartDurable(b, ""), false)))
	storetest.BenchLatestOneIndicator(b, flushing{s}, 3400, 12)
}
