package influx

import (
	"context"
	"fmt"
	"time"

	"github.com/influxdata/influxdb-client-go/v2/api/query"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/internal/store"
)

// writeShared numbers obs in the shared ledger, then spools them for InfluxDB. The
// ledger decides first, so that the numbers are the ones every replica agrees on; the
// write is acknowledged only once the spool holds them too. Should the spool fail (or
// the process die) in between, the caller has no acknowledgement and sends again: the
// retry repeats the ledger's latest content, and repeats are spooled too, so the
// revision still reaches InfluxDB (a point written twice is stored once).
func (s *Store) writeShared(ctx context.Context, obs []indicators.Observation, now time.Time) ([]indicators.Observation, error) {
	out, _, err := s.opt.Ledger.Take(ctx, obs, time.Unix(0, now.UnixNano()).UTC(), newBatchID())
	if err != nil {
		return nil, fmt.Errorf("influx: write observations: number revisions in the shared ledger: %w", err)
	}
	if err := s.sp.enqueueRevisions(ctx, out, now); err != nil {
		return nil, fmt.Errorf("influx: write observations: %w", err)
	}
	s.spooled(len(out), now)
	return out, nil
}

// loadSharedLedger makes sure the shared ledger describes this bucket. The first
// replica to find it empty fills it, and the others wait:
//   - from its spool's ledger and workflow when the spool was never used with a shared
//     ledger: the single G-OC that becomes several keeps its numbering (spooled
//     revisions included), its reviews and its trails; a new spool holds InfluxDB's
//     latest revisions, each published (see syncLedger);
//   - from InfluxDB's history otherwise, when Redis lost the ledger replicas shared:
//     the spool's copy stopped when sharing began. The newest revision of each series
//     is read by time (a revision's time grows with its number), not from the latest
//     measurement, which replicas flushing in any order may have left on an older one;
//     each is published, as a new spool does.
func (s *Store) loadSharedLedger(ctx context.Context) error {
	if s.opt.Ledger == nil {
		return nil
	}
	shared, err := s.sp.meta(ctx, "shared_ledger")
	if err != nil {
		return fmt.Errorf("read spool %s: %w", s.opt.Spool, err)
	}
	if err := s.opt.Ledger.Load(ctx, s.ledgerKey(), func(put func(store.Snapshot) error) error {
		if shared == "" {
			return s.sp.snapshot(ctx, put)
		}
		return s.newestFromHistory(ctx, put)
	}); err != nil {
		return fmt.Errorf("load the shared revision ledger: %w", err)
	}
	if shared == "" {
		return s.sp.setMeta(ctx, "shared_ledger", "1")
	}
	return nil
}

// newestFromHistory hands put the newest revision of every series in InfluxDB's
// history, published. It holds one observation per series in memory: a recovery step,
// not a read path.
func (s *Store) newestFromHistory(ctx context.Context, put func(store.Snapshot) error) error {
	newest := map[indicators.SeriesKey]indicators.Observation{}
	flux := fmt.Sprintf(`from(bucket: %s)
	|> range(start: %s, stop: %s)
	|> filter(fn: (r) => r._measurement == %s and r._field == %s)
	|> last()
	|> keep(columns: ["_value"])
	|> group()`, fluxString(s.opt.Bucket), fluxTime(rangeStart), fluxTime(rangeStop), fluxString(measObservation), fluxString(recordField))
	err := s.fluxRows(ctx, flux, func(rec *query.FluxRecord) error {
		o, err := decodeObservation(asString(rec.Value()))
		if err != nil {
			return err
		}
		if cur, ok := newest[o.SeriesKey]; !ok || o.Revision > cur.Revision {
			newest[o.SeriesKey] = o
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("read the newest revisions from InfluxDB: %w", err)
	}
	var part store.Snapshot
	for _, o := range newest {
		part.Latest = append(part.Latest, o)
		part.Published = append(part.Published, o)
		part.Approved = append(part.Approved, store.KeyOf(o))
		if len(part.Latest) == snapshotPart {
			if err := put(part); err != nil {
				return err
			}
			part = store.Snapshot{}
		}
	}
	if len(part.Latest) == 0 {
		return nil
	}
	return put(part)
}

// sharedLatest answers a latest (or published latest) query from the shared ledger.
func (s *Store) sharedLatest(ctx context.Context, q store.Query) ([]indicators.Observation, error) {
	pg := newPage(q)
	if err := s.opt.Ledger.Latest(ctx, q, q.Published, pg.add); err != nil {
		return nil, fmt.Errorf("read the shared ledger: %w", err)
	}
	return pg.sorted(), nil
}
