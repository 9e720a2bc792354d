package schedule

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/g-oc/goc/collectors/probe"
	"github.com/g-oc/goc/indicators"
)

// ProbeWriter is what the sink needs from a store.
type ProbeWriter interface {
	WriteProbeResults(ctx context.Context, rs []indicators.ProbeResult) error
}

// Sink takes every probe result: it keeps the newest of each target in memory for
// /metrics, and writes them all to the store in batches. One durable transaction per
// probe would be 10,000 fsyncs a minute; one per second carries the same results.
type Sink struct {
	w         ProbeWriter
	log       *slog.Logger
	errs      *prometheus.CounterVec // goc_store_errors_total{op}
	every     time.Duration
	batchSize int

	in   chan indicators.ProbeResult
	done chan struct{}

	mu     sync.RWMutex
	latest map[string]*probe.Result
}

// NewSink starts a sink that flushes every `every` (1 s when zero) or every 2,000
// results, whichever comes first. storeErrors may be nil.
func NewSink(w ProbeWriter, every time.Duration, storeErrors *prometheus.CounterVec, log *slog.Logger) *Sink {
	if every <= 0 {
		every = time.Second
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Sink{w: w, log: log, errs: storeErrors, every: every, batchSize: 2000,
		in: make(chan indicators.ProbeResult, 20000), done: make(chan struct{}), latest: map[string]*probe.Result{}}
	go s.run()
	return s
}

// Record takes one result. It waits only when the store has fallen 20,000 results
// behind, which slows the probes down rather than losing results.
func (s *Sink) Record(ctx context.Context, r *probe.Result) {
	s.mu.Lock()
	s.latest[r.Target] = r
	s.mu.Unlock()
	sr := r.ProbeResult()
	select { // a free slot is taken even when ctx is done: the probe did happen
	case s.in <- sr:
		return
	default:
	}
	select {
	case s.in <- sr:
	case <-ctx.Done():
	}
}

// Latest returns the newest result of every target, by target.
func (s *Sink) Latest() []*probe.Result {
	s.mu.RLock()
	out := make([]*probe.Result, 0, len(s.latest))
	for _, r := range s.latest {
		out = append(out, r)
	}
	s.mu.RUnlock()
	slices.SortFunc(out, func(a, b *probe.Result) int { return strings.Compare(a.Target, b.Target) })
	return out
}

func (s *Sink) run() {
	defer close(s.done)
	tick := time.NewTicker(s.every)
	defer tick.Stop()
	var batch []indicators.ProbeResult
	flush := func() {
		if len(batch) == 0 {
			return
		}
		// Not the probes' context: a shutdown still writes what was probed.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := s.w.WriteProbeResults(ctx, batch); err != nil {
			if s.errs != nil {
				s.errs.WithLabelValues("write probe results").Inc()
			}
			s.log.Error("không ghi được kết quả đo / writing probe results failed", "results", len(batch), "err", err)
		}
		batch = batch[:0]
	}
	for {
		select {
		case r, ok := <-s.in:
			if !ok {
				flush()
				return
			}
			batch = append(batch, r)
			if len(batch) >= s.batchSize {
				flush()
			}
		case <-tick.C:
			flush()
		}
	}
}

// Close writes what is pending and stops. Record must not be called after.
func (s *Sink) Close() {
	close(s.in)
	<-s.done
}
