// Package reminder mails reporting officers before, on and after their reports'
// deadlines while the report is missing. Each reminder has a reason (agency, period,
// stage, address); a reason is claimed in the store before its mail goes, so no
// reminder is sent twice, across restarts and across replicas sharing the store.
//
// Stages of one period's report, with the deadline day the last day a report counts
// as on time (the day before query.Deadline):
//
//	before-N   N days before the deadline day, for each N of before_days
//	deadline   on the deadline day (on_deadline)
//	after-K    on the first late day and every after_every_days days after it, K = 1, 2, ...
//
// A run sends the latest stage that is due and not yet sent: a server that was down on
// a stage's day sends it when it comes back, and a stage overtaken by the next one is
// not sent late. Sending is at most once: a crash between the claim and the mail loses
// that one mail rather than risk a second.
package reminder

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/indicators/period"
	"github.com/g-oc/goc/internal/config"
	"github.com/g-oc/goc/internal/query"
	"github.com/g-oc/goc/internal/store"
)

// Sender sends one mail.
type Sender interface {
	Send(ctx context.Context, m Mail) error
}

// Reader tells who has reported, from internal/query.
type Reader interface {
	Completeness(ctx context.Context, p period.Period, dueDays int, loc *time.Location, now time.Time, f query.CompletenessFilter) (query.Completeness, error)
}

// Options build a Reminder.
type Options struct {
	Settings  config.Reminders
	DueDays   map[period.Kind]int
	Location  *time.Location
	Catalogue *indicators.Catalogue
	Registry  *indicators.Registry
	Reader    Reader
	Log       store.ReminderLog
	Sender    Sender
	Logger    *slog.Logger
	// Sent, when set, is called after each mail goes (metrics).
	Sent func(stage string)
}

// Reminder sends the reminders that are due; Run is its scheduled job.
type Reminder struct {
	o Options
}

// New checks the options and builds a Reminder.
func New(o Options) (*Reminder, error) {
	if o.Reader == nil || o.Log == nil || o.Sender == nil || o.Catalogue == nil || o.Registry == nil {
		return nil, errors.New("reminder: Reader, Log, Sender, Catalogue and Registry are required")
	}
	if o.Location == nil {
		o.Location = time.UTC
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Reminder{o: o}, nil
}

// stage is one reminder of a period's report.
type stage struct {
	name string
	day  time.Time // midnight, in the server's zone
}

// day is midnight of t's date in loc.
func day(t time.Time, loc *time.Location) time.Time {
	y, m, d := t.In(loc).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, loc)
}

// due is the stage of a report in force today, if any: the latest stage whose day has
// come, until the next stage's day (the last stage stays in force for after_every_days,
// or one day). So a server down on a stage's day sends it when it is back, and a
// stage overtaken by the next, or long past, is never sent late.
func (r *Reminder) due(deadline, today time.Time) (stage, bool) {
	s := r.o.Settings
	lastDay := day(deadline, r.o.Location).AddDate(0, 0, -1) // deadline is the first late instant
	var stages []stage
	for _, n := range s.BeforeDays {
		stages = append(stages, stage{fmt.Sprintf("before-%d", n), lastDay.AddDate(0, 0, -n)})
	}
	if s.OnDeadline {
		stages = append(stages, stage{"deadline", lastDay})
	}
	if s.AfterEveryDays > 0 {
		first := lastDay.AddDate(0, 0, 1)
		for k := 1; s.AfterMax == 0 || k <= s.AfterMax; k++ {
			d := first.AddDate(0, 0, (k-1)*s.AfterEveryDays)
			stages = append(stages, stage{fmt.Sprintf("after-%d", k), d})
			if d.After(today) {
				break
			}
		}
	}
	slices.SortStableFunc(stages, func(a, b stage) int { return a.day.Compare(b.day) })
	for i, st := range stages {
		until := st.day.AddDate(0, 0, max(1, s.AfterEveryDays))
		if i+1 < len(stages) {
			until = stages[i+1].day
		}
		if !st.day.After(today) && today.Before(until) {
			return st, true
		}
	}
	return stage{}, false
}

// Run sends every reminder due at now and not sent before. A failed mail is released
// for the next run to retry and the others still go; the errors are returned joined.
func (r *Reminder) Run(ctx context.Context, now time.Time) error {
	loc := r.o.Location
	today := day(now, loc)
	var errs []error
	for _, k := range r.kinds() {
		due := r.o.DueDays[k]
		// The current period and the two before it: a report is reminded of from
		// before its period ends (before_days may exceed the due days) until the
		// period after the next has ended.
		p := period.Of(k, now.In(loc))
		for range 3 {
			deadline := query.Deadline(p, due, loc)
			if st, ok := r.due(deadline, today); ok {
				if err := r.remind(ctx, p, due, deadline, st, now); err != nil {
					errs = append(errs, err)
				}
			}
			p = p.Prev()
		}
	}
	return errors.Join(errs...)
}

// kinds are the periodicities the catalogue reports that have a deadline.
func (r *Reminder) kinds() []period.Kind {
	var ks []period.Kind
	for _, ind := range r.o.Catalogue.All() {
		if _, ok := r.o.DueDays[ind.Periodicity]; ok && !slices.Contains(ks, ind.Periodicity) {
			ks = append(ks, ind.Periodicity)
		}
	}
	slices.Sort(ks)
	return ks
}

func (r *Reminder) remind(ctx context.Context, p period.Period, due int, deadline time.Time, st stage, now time.Time) error {
	c, err := r.o.Reader.Completeness(ctx, p, due, r.o.Location, now, query.CompletenessFilter{})
	if err != nil {
		return fmt.Errorf("reminder: completeness of %s: %w", p, err)
	}
	reports := map[string]query.AgencyReport{}
	for _, a := range c.Agencies {
		reports[a.Agency] = a
	}
	var errs []error
	for _, o := range r.o.Settings.Officers {
		rep, expected := reports[o.Agency]
		if !expected || len(rep.MissingIndicators) == 0 {
			continue
		}
		for _, addr := range o.Emails {
			if r.o.Settings.OptedOut(addr) {
				continue
			}
			key := strings.Join([]string{o.Agency, p.String(), st.name, addr}, "|")
			claimed, err := r.o.Log.ClaimReminder(ctx, key, now)
			if err != nil {
				errs = append(errs, fmt.Errorf("reminder %s: %w", key, err))
				continue
			}
			if !claimed {
				continue
			}
			m := r.mail(addr, rep, p, deadline, st, now)
			if err := r.o.Sender.Send(ctx, m); err != nil {
				// Not sent: let a later run try again. The release uses its own
				// context so a cancelled run does not leave the claim behind.
				relCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
				if rerr := r.o.Log.ReleaseReminder(relCtx, key); rerr != nil {
					err = errors.Join(err, rerr)
				}
				cancel()
				errs = append(errs, fmt.Errorf("reminder %s: %w", key, err))
				continue
			}
			r.o.Logger.Info("đã gửi nhắc nộp báo cáo / reminder sent", "agency", o.Agency, "period", p.String(), "stage", st.name, "to", addr)
			if r.o.Sent != nil {
				r.o.Sent(st.name)
			}
		}
	}
	return errors.Join(errs...)
}

// ReportsURL is the officer's reports page for an agency and period.
func (r *Reminder) ReportsURL(agency string, p period.Period) string {
	s := r.o.Settings
	return s.BaseURL + s.ReportsPath + "?" + url.Values{"agency": {agency}, "period": {p.String()}}.Encode()
}

func (r *Reminder) mail(to string, rep query.AgencyReport, p period.Period, deadline time.Time, st stage, now time.Time) Mail {
	loc := r.o.Location
	lastDay := deadline.Add(-time.Nanosecond).In(loc).Format("02/01/2006")
	today := day(now, loc)
	daysLeft := int(day(deadline, loc).AddDate(0, 0, -1).Sub(today).Hours() / 24)
	var whenVI, whenEN string
	switch {
	case daysLeft > 0:
		whenVI, whenEN = fmt.Sprintf("còn %d ngày", daysLeft), fmt.Sprintf("due in %d days", daysLeft)
	case daysLeft == 0:
		whenVI, whenEN = "hạn cuối hôm nay", "due today"
	default:
		whenVI, whenEN = fmt.Sprintf("đã quá hạn %d ngày", -daysLeft), fmt.Sprintf("%d days overdue", -daysLeft)
	}
	name := rep.NameVI
	if name == "" {
		name = rep.Agency
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Kính gửi cán bộ báo cáo của %s,\n\n", name)
	fmt.Fprintf(&b, "Báo cáo kỳ %s của %s (%s) chưa đủ: hạn nộp là hết ngày %s (%s).\n", p, name, rep.Agency, lastDay, whenVI)
	fmt.Fprintf(&b, "Còn thiếu %d/%d chỉ tiêu:\n", len(rep.MissingIndicators), rep.IndicatorsExpected)
	for _, code := range rep.MissingIndicators {
		vi, en := code, code
		if ind, ok := r.o.Catalogue.Get(code); ok {
			vi, en = ind.NameVI, ind.NameEN
		}
		fmt.Fprintf(&b, "  - %s: %s / %s\n", code, vi, en)
	}
	link := r.ReportsURL(rep.Agency, p)
	fmt.Fprintf(&b, "\nNộp tại: %s\n\n", link)
	fmt.Fprintf(&b, "Dear reporting officer of %s,\n\n", orName(rep.NameEN, rep.Agency))
	fmt.Fprintf(&b, "The %s report for %s is incomplete: it is due by the end of %s (%s).\n", rep.Agency, p, lastDay, whenEN)
	fmt.Fprintf(&b, "%d of %d indicators are missing (listed above).\nSubmit at: %s\n\n", len(rep.MissingIndicators), rep.IndicatorsExpected, link)
	b.WriteString("-- \nG-OC. Thư tự động; để không nhận thư nhắc, đề nghị quản trị thêm địa chỉ của bạn vào alerts.reminders.opt_out.\n")
	b.WriteString("Automatic mail; to stop reminders, ask the operator to add your address to alerts.reminders.opt_out.\n")
	return Mail{
		To:      to,
		Subject: fmt.Sprintf("[G-OC] Nhắc nộp báo cáo %s kỳ %s: %s / Reminder: %s report for %s %s", rep.Agency, p, whenVI, rep.Agency, p, whenEN),
		Body:    b.String(),
	}
}

func orName(name, code string) string {
	if name == "" {
		return code
	}
	return name
}
