package schedule

import (
	"context"
	"fmt"
	"time"

	"github.com/go-co-op/gocron/v2"
)

// Several replicas of G-OC schedule the same jobs; a distributed locker (gocron's
// Redis locker in production) makes each slot of each job run on one of them.
//
// gocron asks the locker for a lock named after the job before each run and releases
// it after: on its own that does not stop a second replica whose timer fires a moment
// after the first replica's run has ended from running the same slot again. So the
// scheduler asks for the slot, not the job: the key is the job's name and the start
// of its slot on a grid every replica shares (offsets from multiples of the interval,
// see add), and the claim is never released, only left to expire. The replica that claims a slot runs it; the
// others count it as lost and treat it as served.
//
// With a locker, a slot no replica could claim (Redis unreachable) runs nowhere: G-OC
// prefers a missed probe to a probe that every replica makes at once. The lock
// metrics show it.

// slotLocker turns gocron's per-job locks into per-slot claims.
type slotLocker struct {
	s    *Scheduler
	make func(expiry time.Duration) (gocron.Locker, error)
	// by holds a locker per job interval, made before Start, read-only after.
	by map[time.Duration]gocron.Locker
}

var _ gocron.Locker = (*slotLocker)(nil)

// kept is a claimed slot: unlocking it does nothing, the claim expires by itself, so
// that no replica runs the slot again after this run ends.
type kept struct{}

func (kept) Unlock(context.Context) error { return nil }

// Lock claims the current slot of the job named name.
func (l *slotLocker) Lock(ctx context.Context, name string) (gocron.Lock, error) {
	g := l.s.byName[name]
	if g == nil || l.by[g.interval] == nil {
		return nil, fmt.Errorf("schedule: lock %s: not a job of this scheduler", name)
	}
	slot := g.slotAt(l.s.clock.Now())
	key := fmt.Sprintf("goc:slot:%s@%d", name, g.first.Add(g.interval*time.Duration(slot)).UnixMilli())
	if _, err := l.by[g.interval].Lock(ctx, key); err != nil {
		l.s.monitor.LockLost.WithLabelValues(g.kind).Inc()
		g.cede(slot)
		return nil, fmt.Errorf("slot of %s: %w", name, err)
	}
	l.s.monitor.LockAcquired.WithLabelValues(g.kind).Inc()
	return kept{}, nil
}
