package schedule_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	redislock "github.com/go-co-op/gocron-redis-lock/v2"
	"github.com/go-co-op/gocron/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/g-oc/goc/collectors/probe"
	"github.com/g-oc/goc/collectors/schedule"
	"github.com/g-oc/goc/internal/redistest"
)

// Two schedulers with the same jobs, as two replicas of G-OC, share gocron's Redis
// locker on a real redis-server: each target is probed once per slot, by one of them.
// Real time, not a fake clock: both schedulers must race each other for real Redis
// claims, as replicas do, and a shared fake clock would fire their timers in lockstep.
func TestTwoReplicasProbeEachTargetOncePerSlot(t *testing.T) {
	rs := redistest.Start(t, "")
	const n, interval = 200, time.Second
	var mu sync.Mutex
	hits := map[string][]time.Time{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits[r.URL.Path] = append(hits[r.URL.Path], time.Now())
		mu.Unlock()
		w.Write([]byte("ok"))
	}))
	defer srv.Close()
	jobs := make([]schedule.ProbeJob, n)
	for i := range jobs {
		jobs[i] = schedule.ProbeJob{Interval: interval, Target: probe.Target{URL: fmt.Sprintf("%s/p/%03d", srv.URL, i), Agency: "P20"}}
	}
	var regs []*prometheus.Registry
	var scheds []*schedule.Scheduler
	for range 2 {
		client := redis.NewClient(&redis.Options{Addr: rs.Addr})
		t.Cleanup(func() { client.Close() })
		locker := func(expiry time.Duration) (gocron.Locker, error) {
			return redislock.NewRedisLocker(client, redislock.WithTries(1), redislock.WithExpiry(expiry))
		}
		prober, err := probe.New(probe.Options{Timeout: time.Second, Checks: []string{probe.CheckHTTP}, Outbound: loopbackAllowed})
		if err != nil {
			t.Fatal(err)
		}
		reg := prometheus.NewRegistry()
		s, err := schedule.New(schedule.Options{Prober: prober, Probes: jobs, Sink: schedule.NewSink(openStore(t), 200*time.Millisecond, nil, nil),
			Concurrency: 32, Pending: n, Registerer: reg, Locker: locker})
		if err != nil {
			t.Fatal(err)
		}
		regs, scheds = append(regs, reg), append(scheds, s)
	}
	scheds[0].Start()
	time.Sleep(300 * time.Millisecond) // the second replica starts later, on the same grid
	scheds[1].Start()
	time.Sleep(4 * interval)
	// Each replica reports the portals it probed last, no stale figure of a portal the
	// other replica has probed since; together they report every portal.
	union := map[string]bool{}
	for i, reg := range regs {
		fams, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, f := range fams {
			if f.GetName() != "probe_success" {
				continue
			}
			for _, m := range f.GetMetric() {
				for _, l := range m.GetLabel() {
					if l.GetName() == "target" {
						union[l.GetValue()] = true
						n++
					}
				}
			}
		}
		t.Logf("replica %d exports probe_success for %d of %d portals", i, n, len(jobs))
		if n >= len(jobs) {
			t.Errorf("replica %d exports probe_success for every portal: some figures are stale", i)
		}
	}
	if len(union) != len(jobs) {
		t.Errorf("the replicas together export probe_success for %d portals, want %d", len(union), len(jobs))
	}
	for _, s := range scheds {
		if err := s.Shutdown(); err != nil {
			t.Fatal(err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	total := 0
	for _, j := range jobs {
		u := j.Target.URL[len(srv.URL):]
		ts := hits[u]
		if len(ts) < 3 {
			t.Errorf("%s probed %d times in 4 intervals, want at least 3", u, len(ts))
		}
		for k := 1; k < len(ts); k++ {
			if gap := ts[k].Sub(ts[k-1]); gap < interval/2 {
				t.Errorf("%s probed twice %s apart: two replicas ran one slot", u, gap)
			}
		}
		total += len(ts)
	}
	var acquired, lost, missed float64
	for i, reg := range regs {
		a, l := metric(t, reg, "goc_collector_lock_acquired_total", "kind", "probe"), metric(t, reg, "goc_collector_lock_lost_total", "kind", "probe")
		t.Logf("replica %d: %.0f slots claimed, %.0f lost to the other", i, a, l)
		if a == 0 {
			t.Errorf("replica %d claimed no slot: the work is not shared", i)
		}
		acquired, lost = acquired+a, lost+l
		missed += metric(t, reg, "goc_collector_missed_runs_total", "kind", "probe")
	}
	if int(acquired) != total {
		t.Errorf("%.0f slots claimed but %d probes served", acquired, total)
	}
	if lost == 0 {
		t.Error("no slot was lost to the other replica: the locker is not shared")
	}
	if missed != 0 {
		t.Errorf("goc_collector_missed_runs_total = %v, want 0: a slot run by the other replica is not missed", missed)
	}
}
