package alerting

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/go-co-op/gocron/v2"
	"github.com/jonboulle/clockwork"
)

// Job is periodic work of alerting: recomputing the gauges, sending reminders. Run
// gets the scheduler's clock reading, so a fake clock drives it in tests.
type Job struct {
	Name  string
	Every time.Duration
	Run   func(ctx context.Context, now time.Time) error
}

// Jobs runs alerting's jobs on gocron v2, each in singleton mode and first at start.
type Jobs struct {
	cron   gocron.Scheduler
	cancel context.CancelFunc
}

// StartJobs schedules and starts the jobs. clock may be nil (the real clock). Stop
// ends them.
func StartJobs(jobs []Job, clock clockwork.Clock, log *slog.Logger) (*Jobs, error) {
	if clock == nil {
		clock = clockwork.NewRealClock()
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cron, err := gocron.NewScheduler(gocron.WithClock(clock), gocron.WithStopTimeout(30*time.Second))
	if err != nil {
		return nil, fmt.Errorf("alerting jobs: %w", err)
	}
	// Runs outlive nothing: Stop cancels what is under way.
	ctx, cancel := context.WithCancel(context.Background())
	for _, j := range jobs {
		if j.Every <= 0 {
			cancel()
			_ = cron.Shutdown()
			return nil, fmt.Errorf("alerting jobs: %s: interval %s must be positive", j.Name, j.Every)
		}
		run := j.Run
		name := j.Name
		_, err := cron.NewJob(gocron.DurationJob(j.Every),
			gocron.NewTask(func() {
				if err := run(ctx, clock.Now()); err != nil {
					log.Error("công việc cảnh báo lỗi / alerting job failed", "job", name, "err", err)
				}
			}),
			gocron.WithName(name),
			gocron.WithSingletonMode(gocron.LimitModeReschedule),
			gocron.WithStartAt(gocron.WithStartImmediately()),
		)
		if err != nil {
			cancel()
			_ = cron.Shutdown()
			return nil, fmt.Errorf("alerting jobs: add %s: %w", name, err)
		}
	}
	cron.Start()
	return &Jobs{cron: cron, cancel: cancel}, nil
}

// Stop cancels the runs under way and stops the schedule.
func (j *Jobs) Stop() error {
	j.cancel()
	if err := j.cron.Shutdown(); err != nil {
		return fmt.Errorf("alerting jobs: stop: %w", err)
	}
	return nil
}
