package influx

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/influxdata/influxdb-client-go/v2/api"
	http2 "github.com/influxdata/influxdb-client-go/v2/api/http"

	"github.com/g-oc/goc/indicators"
)

// Backoff between attempts while InfluxDB fails.
const (
	minBackoff = 250 * time.Millisecond
	maxBackoff = 15 * time.Second
)

// flusher sends the spool to InfluxDB in a goroutine of its own.
type flusher struct {
	kickc  chan struct{} // new points: send them when not backing off
	forcec chan struct{} // someone waits in Flush: try now, even while backing off
	cancel context.CancelFunc
	done   chan struct{}

	mu      sync.Mutex
	cycle   chan struct{} // closed when a pass ends
	lastErr error         // of the last pass
}

func (f *flusher) start(s *Store) {
	f.kickc = make(chan struct{}, 1)
	f.forcec = make(chan struct{}, 1)
	f.cycle = make(chan struct{})
	f.done = make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	f.cancel = cancel
	go f.run(ctx, s)
}

func (f *flusher) kick()  { signal(f.kickc) }
func (f *flusher) force() { signal(f.forcec) }

func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

func (f *flusher) run(ctx context.Context, s *Store) {
	defer close(f.done)
	timer := time.NewTimer(0) // a first pass sends what an earlier run left
	defer timer.Stop()
	var backoff time.Duration
	failing := false
	for {
		kick := f.kickc
		if failing {
			kick = nil // new points wait for the backoff instead of hammering a dead server
		}
		select {
		case <-ctx.Done():
			return
		case <-kick:
		case <-f.forcec:
		case <-timer.C:
		}
		err := s.drain(ctx)
		if ctx.Err() != nil {
			f.endCycle(err)
			return
		}
		switch {
		case err != nil && !failing:
			s.log.Warn("InfluxDB không nhận dữ liệu, đang giữ trong hàng đợi / InfluxDB is not accepting writes; spooling",
				"err", err, "spool", s.opt.Spool)
		case err == nil && failing:
			s.log.Info("InfluxDB nhận lại dữ liệu / InfluxDB accepts writes again; spool sent")
		}
		failing = err != nil
		if failing {
			if s.m != nil {
				s.m.flushErrors.Inc()
			}
			backoff = min(max(2*backoff, minBackoff), maxBackoff)
			timer.Reset(backoff)
		} else {
			backoff = 0
		}
		f.endCycle(err)
	}
}

func (f *flusher) endCycle(err error) {
	f.mu.Lock()
	f.lastErr = err
	close(f.cycle)
	f.cycle = make(chan struct{})
	f.mu.Unlock()
}

// wait returns once nothing is pending, or when ctx ends.
func (f *flusher) wait(ctx context.Context, s *Store) error {
	for {
		if n, _ := s.Backlog(); n == 0 {
			return nil
		}
		f.mu.Lock()
		c := f.cycle
		f.mu.Unlock()
		f.force()
		select {
		case <-c:
		case <-ctx.Done():
			f.mu.Lock()
			last := f.lastErr
			f.mu.Unlock()
			n, _ := s.Backlog()
			return fmt.Errorf("influx: flush: %d points still spooled: %w (last attempt: %v)", n, ctx.Err(), last)
		}
		f.mu.Lock()
		failed := f.lastErr != nil
		f.mu.Unlock()
		if failed {
			select { // do not spin against a server that refuses
			case <-time.After(100 * time.Millisecond):
			case <-ctx.Done():
			}
		}
	}
}

// stop ends the goroutine, then makes one last attempt of at most grace.
func (f *flusher) stop(s *Store, grace time.Duration) {
	f.cancel()
	<-f.done
	if n, _ := s.Backlog(); n == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if err := s.drain(ctx); err != nil {
		points, _ := s.Backlog()
		s.log.Warn("đóng với dữ liệu còn trong hàng đợi / closing with points still spooled; they are sent after the next start",
			"points", points, "spool", s.opt.Spool, "err", err)
	}
}

// drain sends pending chunks until none is left or one fails.
func (s *Store) drain(ctx context.Context) error {
	single := false // after a refused multi-batch chunk, find the culprit one batch at a time
	for {
		limit := s.opt.ChunkPoints
		if single {
			limit = 1 // nextChunk always takes at least the oldest batch
		}
		c, err := s.sp.nextChunk(ctx, limit)
		if err != nil {
			return err
		}
		if c == nil {
			return s.recount(ctx)
		}
		lines, err := s.send(ctx, c)
		if err != nil {
			if !malformed(err) {
				return err
			}
			if len(c.seqs) > 1 {
				single = true
				continue
			}
			// InfluxDB will never take this batch: keep it aside for the operator
			// rather than block everything behind it.
			s.log.Error("InfluxDB từ chối một lô dữ liệu, đã giữ lại trong bảng rejected / InfluxDB refused a batch as malformed; kept in the spool's rejected table",
				"batch", c.seqs[0], "points", c.points, "err", err, "spool", s.opt.Spool)
			if err := s.sp.reject(ctx, c, lines, err, s.now()); err != nil {
				return err
			}
			if s.m != nil {
				s.m.rejected.Add(float64(c.points))
			}
		} else {
			if s.opt.Ledger != nil {
				// Other replicas see the chunk only now, in InfluxDB: their versions
				// must move. Before the chunk leaves the spool, so that a failure here
				// sends it, and records it, again.
				if err := s.opt.Ledger.Sent(ctx, c.kind == kindProbes); err != nil {
					return fmt.Errorf("sent %d points; telling the other replicas through the shared ledger: %w", c.points, err)
				}
			}
			if err := s.sp.remove(ctx, c); err != nil {
				return err
			}
			if s.m != nil {
				s.m.flushed.Add(float64(c.points))
			}
			single = false
		}
		if err := s.recount(ctx); err != nil {
			return err
		}
	}
}

// malformed reports an answer that retrying cannot change: InfluxDB parsed the
// request and refused its points.
func malformed(err error) bool {
	var he *http2.Error
	return errors.As(err, &he) && (he.StatusCode == http.StatusBadRequest || he.StatusCode == http.StatusUnprocessableEntity)
}

// maxWriteBytes caps one write request: InfluxDB refuses bodies over its
// max-body-size (25 MB by default on 1.8), and one acknowledged batch may be far larger.
const maxWriteBytes = 4 << 20

// send writes one chunk: history points, then the latest points, keeping of several
// latest points of one series only the last (the newest revision or result). A chunk
// too large for one request goes in several; the chunk leaves the spool only when all
// have succeeded, and a resent point replaces itself. On failure it returns the lines
// of the write that failed.
func (s *Store) send(ctx context.Context, c *chunk) (string, error) {
	main := writer{to: s.write, bucket: s.opt.Bucket, max: s.opt.maxWriteBytes}
	probes := writer{to: s.probeW, bucket: s.opt.ProbeBucket, max: s.opt.maxWriteBytes}
	switch c.kind {
	case kindObservations:
		last := make(map[indicators.SeriesKey]int, len(c.obs))
		for i := range c.obs {
			last[c.obs[i].SeriesKey] = i
		}
		for i := range c.obs {
			if err := obsLines(&main.buf, &c.obs[i], last[c.obs[i].SeriesKey] == i); err != nil {
				return "", err
			}
			if err := main.maybeFlush(ctx); err != nil {
				return main.failed, err
			}
		}
		return main.failed, main.flush(ctx)
	case kindProbes:
		last := make(map[string]int, len(c.probes))
		for i, p := range c.probes {
			if p.latest {
				last[p.result.Target] = i
			}
		}
		latest := &main
		if s.opt.ProbeBucket == s.opt.Bucket {
			latest = &probes
		}
		var discard strings.Builder
		for i := range c.probes {
			p := &c.probes[i]
			isLatest := p.latest && last[p.result.Target] == i
			lb := &discard
			if isLatest {
				lb = &latest.buf
			}
			probeLines(&probes.buf, lb, &p.result, p.json, isLatest)
			if err := probes.maybeFlush(ctx); err != nil {
				return probes.failed, err
			}
		}
		// History first, then the newest results: a newest result never points at a
		// history point that is not there yet.
		if err := probes.flush(ctx); err != nil {
			return probes.failed, err
		}
		return main.failed, main.flush(ctx)
	}
	return "", fmt.Errorf("unknown batch kind %d", c.kind)
}

// writer gathers lines for one bucket and sends them in requests of about max bytes.
type writer struct {
	to     api.WriteAPIBlocking
	bucket string
	max    int
	buf    strings.Builder
	failed string
}

func (w *writer) maybeFlush(ctx context.Context) error {
	if w.buf.Len() < w.max {
		return nil
	}
	return w.flush(ctx)
}

func (w *writer) flush(ctx context.Context) error {
	if w.buf.Len() == 0 {
		return nil
	}
	body := w.buf.String()
	w.buf.Reset()
	if err := w.to.WriteRecord(ctx, body); err != nil {
		w.failed = body
		return fmt.Errorf("write %d points to %s: %w", strings.Count(body, "\n"), w.bucket, err)
	}
	return nil
}
