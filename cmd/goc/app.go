package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/internal/api"
	"github.com/g-oc/goc/internal/apiparts"
	"github.com/g-oc/goc/internal/auth"
	"github.com/g-oc/goc/internal/config"
	"github.com/g-oc/goc/internal/forwarded"
	"github.com/g-oc/goc/internal/limit"
	"github.com/g-oc/goc/internal/metrics"
	"github.com/g-oc/goc/internal/opendata"
	"github.com/g-oc/goc/internal/query"
	"github.com/g-oc/goc/internal/store"
	"github.com/g-oc/goc/internal/store/influx"
	"github.com/g-oc/goc/internal/store/redisstate"
	"github.com/g-oc/goc/internal/store/sqlite"
	"github.com/g-oc/goc/internal/web"
)

// app is everything a running G-OC holds, built once in main and passed down.
type app struct {
	cfg       *config.Config
	catalogue *indicators.Catalogue
	registry  *indicators.Registry
	store     store.Store
	// shared is the Redis that replicas share (redis.addr), or nil for one G-OC alone.
	shared  *redisstate.State
	metrics *metrics.Metrics
	log     *slog.Logger
	// selfProbe makes the collectors probe this server's own /healthz on loopback:
	// the demo's one probe target, since it must not probe real portals.
	selfProbe bool
}

// loadDomain reads the catalogue and registry a config points at, or the built-in ones.
// Every problem in both files is returned together.
func loadDomain(cfg *config.Config) (*indicators.Catalogue, *indicators.Registry, error) {
	var errs []error
	cat := indicators.DefaultCatalogue()
	if f := cfg.Catalogue.File; f != "" {
		data, err := os.ReadFile(f)
		if err != nil {
			errs = append(errs, fmt.Errorf("catalogue.file: %w", err))
		} else if over, err := indicators.ParseCatalogue(f, data); err != nil {
			errs = append(errs, err)
		} else if cat, err = cat.Merge(over); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", f, err))
		}
	}
	reg := indicators.DefaultRegistry()
	if f := cfg.Registry.File; f != "" {
		data, err := os.ReadFile(f)
		if err != nil {
			errs = append(errs, fmt.Errorf("registry.file: %w", err))
		} else if reg, err = indicators.ParseRegistry(f, data); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return nil, nil, errors.Join(errs...)
	}
	if err := cfg.CheckAgencies(func(code string) bool { _, ok := reg.Get(code); return ok }); err != nil {
		return nil, nil, err
	}
	if err := cfg.CheckIndicators(func(code string) bool { _, ok := cat.Get(code); return ok }); err != nil {
		return nil, nil, err
	}
	if err := cfg.CheckFeedIndicators(func(code string) bool { _, ok := cat.Get(code); return ok }); err != nil {
		return nil, nil, err
	}
	if err := checkCollectors(cfg); err != nil {
		return nil, nil, err
	}
	return cat, reg, nil
}

// openStore opens the configured backend. The InfluxDB store registers its spool
// metrics on m and logs to log.
// With shared set, sessions, idempotency keys, the revision ledger and the review
// workflow live there instead of the spool.
func openStore(ctx context.Context, cfg *config.Config, m *metrics.Metrics, log *slog.Logger, shared *redisstate.State) (store.Store, error) {
	switch cfg.Store.Backend {
	case config.BackendSQLite:
		// The example config promises the file is created if missing; SQLite creates
		// the file but not its folder ("unable to open database file").
		if err := os.MkdirAll(filepath.Dir(cfg.Store.Path), 0o750); err != nil {
			return nil, fmt.Errorf("create store folder: %w", err)
		}
		st, err := sqlite.Open(ctx, cfg.Store.Path, sqlite.WithAutoApprove(cfg.Submissions.AutoApprove))
		if err != nil {
			return nil, fmt.Errorf("open store %s: %w", cfg.Store.Path, err)
		}
		return st, nil
	case config.BackendInflux:
		in := cfg.Store.Influx
		opt := influx.Options{
			URL: in.URL, Org: in.Org, Bucket: in.Bucket, ProbeBucket: in.ProbeBucket, Token: in.Token,
			Spool: in.Spool, LatestFromLedger: in.LatestFromLedger, AutoApprove: cfg.Submissions.AutoApprove, Registerer: m.Registry, Logger: log,
		}
		if shared != nil {
			// Replicas share sessions, keys, the revision ledger and the workflow.
			opt.Shared, opt.Ledger = shared, shared.Ledger(cfg.Submissions.AutoApprove)
		}
		st, err := influx.Open(ctx, opt)
		if err != nil {
			return nil, fmt.Errorf("open store: %w", err)
		}
		return st, nil
	}
	return nil, fmt.Errorf("store backend %q is not available in this build", cfg.Store.Backend)
}

func newApp(ctx context.Context, cfg *config.Config, logOut io.Writer) (*app, error) {
	cat, reg, err := loadDomain(cfg)
	if err != nil {
		return nil, err
	}
	m := metrics.New()
	log := slog.New(cfg.Log.Handler(logOut))
	shared, err := openShared(ctx, cfg, m, log)
	if err != nil {
		return nil, err
	}
	st, err := openStore(ctx, cfg, m, log, shared)
	if err != nil {
		if shared != nil {
			shared.Close()
		}
		return nil, err
	}
	return &app{
		cfg: cfg, catalogue: cat, registry: reg, store: st, shared: shared,
		metrics: m,
		log:     log,
	}, nil
}

// strictTransport tells browsers that reached G-OC over HTTPS (directly or through a
// trusted proxy) to come back only over HTTPS for a year.
func strictTransport(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if forwarded.Secure(r) {
			w.Header().Set("Strict-Transport-Security", "max-age=31536000")
		}
		next.ServeHTTP(w, r)
	})
}

// serve runs the HTTP API until ctx is cancelled, then shuts down gracefully.
func (a *app) serve(ctx context.Context, tokens *auth.Keyring, e *env, banner func(url string)) error {
	q := query.New(a.store, a.catalogue, a.registry, time.Now)
	// Kept figures are computed in the background from the start, so that the first
	// readers after a restart do not each wait for years of history (at national
	// scale, seconds per indicator). serve waits for it to stop before it returns.
	warmCtx, stopWarm := context.WithCancel(ctx)
	warmed := make(chan struct{})
	go func() {
		defer close(warmed)
		t0 := time.Now()
		if err := q.WarmUp(warmCtx, a.cfg.Ranking.Method()); err != nil {
			if warmCtx.Err() == nil {
				a.log.Warn("tính sẵn số liệu / warming up the figures", "err", err)
			}
			return
		}
		a.log.Debug("đã tính sẵn số liệu / figures warmed up", "took", time.Since(t0).Round(time.Millisecond))
	}()
	defer func() {
		stopWarm()
		<-warmed
	}()
	col, err := a.newCollectors()
	if err != nil {
		return err
	}
	alerts, err := a.startAlerting(q)
	if err != nil {
		return err
	}
	defer func() {
		if err := alerts.Stop(); err != nil {
			a.log.Warn("dừng công việc cảnh báo / stopping the alerting jobs", "err", err)
		}
	}()
	srv := api.New(api.Options{
		Query: q, Writer: a.store, Pinger: a.store, Auth: tokens, Metrics: a.metrics, Logger: a.log,
		MaxSubmissionBytes: a.cfg.Server.MaxSubmissionBytes, Location: a.cfg.Server.Location,
		Ranking: a.cfg.Ranking.Method(),
		DueDays: a.cfg.Submissions.DueDays, OutlierDeviations: a.cfg.Submissions.OutlierDeviations,
		Feeds: apiparts.Feeds(col.puller), Workbooks: apiparts.Workbooks{}, Limits: apiLimits(a.cfg.Server),
		// As the status page: at 10,000 portals results arrive every second, and a
		// probe list a few seconds old is current enough for a reader who arrives while
		// the newer one is made.
		ProbeListStale: pageCacheFor,
	})
	dueDays := api.DefaultDueDays()
	for k, v := range a.cfg.Submissions.DueDays {
		dueDays[k] = v
	}
	apiHandler := srv.Handler()
	wo := web.Options{Query: q.PublicView(), Metrics: a.metrics, Logger: a.log, Location: a.cfg.Server.Location,
		Ranking: a.cfg.Ranking.Method(), DueDays: dueDays, FiguresVersion: figuresVersion(a.store), CacheFor: pageCacheFor,
		Keys: tokens, API: apiHandler}
	// Both backends keep sessions; a store without them serves the public pages only.
	if ss, ok := a.store.(store.Sessions); ok {
		wo.Sessions = ss
	}
	pages, err := web.New(wo)
	if err != nil {
		return err
	}
	if a.cfg.Server.PprofAddr != "" {
		if _, err := startPprof(ctx, a.cfg.Server.PprofAddr, a.log); err != nil {
			return err
		}
	}
	var certs *certReloader
	if t := a.cfg.Server.TLS; t.CertFile != "" {
		if certs, err = newCertReloader(t.CertFile, t.KeyFile, a.log); err != nil {
			return err
		}
	}
	ln, err := net.Listen("tcp", a.cfg.Server.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", a.cfg.Server.Addr, err)
	}
	self := ""
	if a.selfProbe {
		self = selfTarget(ln.Addr())
	}
	if err := col.start(self); err != nil {
		ln.Close()
		return err
	}
	defer col.stop()
	hs := &http.Server{
		Handler:           forwarded.New(a.cfg.Server.TrustedProxies).Handler(strictTransport(a.withOpenData(q, web.Combine(apiHandler, pages.Handler())))),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       a.cfg.Server.ReadTimeout,
		WriteTimeout:      a.cfg.Server.WriteTimeout,
		ErrorLog:          slog.NewLogLogger(a.log.Handler(), slog.LevelWarn),
	}
	url := "http://" + ln.Addr().String()
	if certs != nil {
		hs.TLSConfig = certs.tlsConfig()
		ln = tls.NewListener(ln, hs.TLSConfig)
		url = "https://" + ln.Addr().String()
	}
	if banner != nil {
		banner(url)
	}
	if e.ready != nil {
		e.ready(ln.Addr().String())
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	a.log.Info("đang dừng / shutting down")
	shutCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := hs.Shutdown(shutCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// pageCacheFor is how long the pages reuse portal status (and, on a store without a
// figures version, other figures): probes arrive every minute, so a status page at most
// ten seconds older than the store is current enough, and it keeps /status fast for
// many readers at 10,000 portals.
const pageCacheFor = 10 * time.Second

// figuresVersion is the store's figures version when it keeps one (SQLite), so that
// pages reuse computed figures exactly until a submission or approval changes them.
// withOpenData serves /opendata/ (the Frictionless package of approved figures,
// rebuilt when the figures change) in front of h.
func (a *app) withOpenData(q *query.Service, h http.Handler) http.Handler {
	lic := a.cfg.OpenData.Licence
	od := opendata.NewServer(opendata.ServerOptions{
		Query: q.PublicView(), Dir: openDataDir(a.cfg), FiguresVersion: figuresVersion(a.store), Logger: a.log,
		Licence: opendata.Licence{Name: lic.Name, Title: lic.Title, Path: lic.Path},
	})
	mux := http.NewServeMux()
	mux.Handle("/opendata/", od)
	mux.Handle("/", h)
	return mux
}

// openDataDir keeps the open-data releases beside the SQLite file, or in the temporary
// directory for a store without a folder of its own.
func openDataDir(cfg *config.Config) string {
	if p := cfg.Store.Path; cfg.Store.Backend == config.BackendSQLite && p != "" && p != ":memory:" && !strings.HasPrefix(p, "file:") {
		return filepath.Join(filepath.Dir(p), "opendata")
	}
	return filepath.Join(os.TempDir(), "goc-opendata")
}

func figuresVersion(st store.Store) func(context.Context) (string, error) {
	if v, ok := st.(store.FiguresVersioner); ok {
		return v.FiguresVersion
	}
	return nil
}

func (a *app) close() error {
	err := a.store.Close()
	if a.shared != nil {
		a.shared.Close()
	}
	return err
}

// apiLimits turns the server's load limits into the API's; zero settings keep the
// API's defaults.
func apiLimits(s config.Server) api.Limits {
	l := api.Limits{UploadBudget: s.UploadBudget, SmallUpload: s.SmallUpload, SmallUploadBudget: s.SmallUploadBudget, HeavyReads: s.HeavyReads, Exports: s.Exports}
	perSecond := func(rate float64, seconds int) limit.Options {
		if rate <= 0 {
			return limit.Options{}
		}
		return limit.Options{Every: time.Duration(float64(time.Second) / rate), Burst: max(1, int(rate*float64(seconds)))}
	}
	l.WritesPerAddr = perSecond(s.WritesPerSecondPerAddress, 6)
	l.WritesPerToken = perSecond(s.WritesPerSecondPerToken, 6)
	l.AuthFailures = perSecond(s.AuthFailuresPerMinute/60, 60)
	return l
}
