package influx

import (
	"context"
	"fmt"
	"time"

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

// loadSharedLedger makes sure the shared ledger describes this bucket, loading it from
// InfluxDB's latest revisions the first time (one replica does; the others wait).
func (s *Store) loadSharedLedger(ctx context.Context) error {
	if s.opt.Ledger == nil {
		return nil
	}
	err := s.opt.Ledger.Load(ctx, s.ledgerKey(), func(put func([]indicators.Observation) error) error {
		const batch = 5000
		var obs []indicators.Observation
		err := s.fluxObservations(ctx, store.Query{}, func(o indicators.Observation) error {
			obs = append(obs, o)
			if len(obs) == batch {
				err := put(obs)
				obs = obs[:0]
				return err
			}
			return nil
		})
		if err == nil && len(obs) > 0 {
			err = put(obs)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("load the shared revision ledger (InfluxDB must answer the first time): %w", err)
	}
	return nil
}

// sharedLatest answers a latest (or published latest) query from the shared ledger.
func (s *Store) sharedLatest(ctx context.Context, q store.Query) ([]indicators.Observation, error) {
	pg := newPage(q)
	if err := s.opt.Ledger.Latest(ctx, q, q.Published, pg.add); err != nil {
		return nil, fmt.Errorf("read the shared ledger: %w", err)
	}
	return pg.sorted(), nil
}
