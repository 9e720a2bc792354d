package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	redislock "github.com/go-co-op/gocron-redis-lock/v2"
	"github.com/go-co-op/gocron/v2"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/g-oc/goc/internal/config"
	"github.com/g-oc/goc/internal/metrics"
	"github.com/g-oc/goc/internal/store/redisstate"
)

// openShared connects to the Redis that replicas share, when the config names one
// (nil otherwise: one G-OC alone), and exports goc_replica_info with this replica's
// name, so that a Prometheus scraping every replica can tell them apart.
func openShared(ctx context.Context, cfg *config.Config, m *metrics.Metrics, log *slog.Logger) (*redisstate.State, error) {
	r := cfg.Redis
	if r.Addr == "" {
		return nil, nil
	}
	st, err := redisstate.Open(ctx, redisstate.Options{Addr: r.Addr, Password: r.Password.Reveal(), DB: r.DB})
	if err != nil {
		return nil, fmt.Errorf("redis.addr: %w", err)
	}
	name := replicaName(r)
	info := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "goc_replica_info",
		Help:        "1, labelled with this replica's name (redis.replica, or the host name): job runs and lock counters of this /metrics are this replica's.",
		ConstLabels: prometheus.Labels{"replica": name},
	})
	info.Set(1)
	if err := m.Registry.Register(info); err != nil {
		st.Close()
		return nil, fmt.Errorf("register goc_replica_info: %w", err)
	}
	log.Info("chạy cùng các bản sao khác qua Redis / running as one of several replicas through Redis",
		"replica", name, "redis", r.Addr, "db", r.DB)
	if cfg.Store.Backend != config.BackendInflux {
		// Jobs are shared through Redis, but each replica's figures would stay in its
		// own file: say so rather than let replicas disagree silently.
		log.Warn("các bản sao cần kho influx; với sqlite mỗi bản sao giữ số liệu riêng / replicas need the influx store: with sqlite each replica keeps its own figures",
			"store", string(cfg.Store.Backend))
	}
	return st, nil
}

// replicaName is redis.replica, or the host name.
func replicaName(r config.Redis) string {
	if r.Replica != "" {
		return r.Replica
	}
	if h, err := os.Hostname(); err == nil && h != "" {
		return h
	}
	return "goc"
}

// slotLocker makes gocron's Redis locker as the scheduler needs it (see
// collectors/schedule, slotLocker): one try, since a slot held by another replica is
// that replica's to run, and claims that live for expiry, the jobs' interval.
//
// redsync gives Redis expiry × timeout factor to answer, 5% by default, which a busy
// machine exceeds now and then; a claim that times out is given up by every replica
// at once (the slot is missed). A fifth of the interval is still well inside the
// slot, and go-redis's own read timeout (3 s) bounds it for long intervals.
func slotLocker(shared *redisstate.State) func(time.Duration) (gocron.Locker, error) {
	return func(expiry time.Duration) (gocron.Locker, error) {
		l, err := redislock.NewRedisLocker(shared.Client(), redislock.WithTries(1), redislock.WithExpiry(expiry), redislock.WithTimeoutFactor(0.2))
		if err != nil {
			return nil, fmt.Errorf("redis locker: %w", err)
		}
		return l, nil
	}
}
