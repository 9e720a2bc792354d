package reminder_test

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/indicators/period"
	"github.com/g-oc/goc/internal/alerting"
	"github.com/g-oc/goc/internal/config"
	"github.com/g-oc/goc/internal/query"
	"github.com/g-oc/goc/internal/reminder"
	"github.com/g-oc/goc/internal/reminder/smtptest"
	"github.com/g-oc/goc/internal/store/sqlite"
)

var hcm = mustLoc("Asia/Ho_Chi_Minh")

func mustLoc(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// site is a G-OC with its SQLite store on disk, as one replica would run it.
type site struct {
	store *sqlite.Store
	rem   *reminder.Reminder
}

func openSite(t *testing.T, path string, settings config.Reminders, sender reminder.Sender) *site {
	t.Helper()
	st, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	cat, reg := indicators.DefaultCatalogue(), indicators.DefaultRegistry()
	rem, err := reminder.New(reminder.Options{
		Settings: settings, DueDays: map[period.Kind]int{period.Quarter: 15}, Location: hcm,
		Catalogue: cat, Registry: reg, Reader: query.New(st, cat, reg, time.Now), Log: st, Sender: sender,
	})
	if err != nil {
		t.Fatal(err)
	}
	return &site{store: st, rem: rem}
}

func settings(smtpAddr string) config.Reminders {
	return config.Reminders{
		Enabled: true, BaseURL: "https://goc.example.gov.vn", ReportsPath: config.DefaultReportsPath,
		BeforeDays: []int{3}, OnDeadline: true, AfterEveryDays: 2, AfterMax: 2, CheckEvery: 24 * time.Hour,
		SMTP: config.SMTP{Addr: smtpAddr, From: "goc@example.gov.vn"},
		Officers: []config.Officer{
			{Agency: "P20", Emails: []string{"thu.ky@langson.example.vn", "nghi.phep@langson.example.vn"}},
			{Agency: "P01", Emails: []string{"van.phong@hanoi.example.vn"}},
		},
		OptOut: []string{"nghi.phep@langson.example.vn"},
	}
}

// scheduled runs a site's reminders on gocron with a fake clock, one run a day, and
// tells when each run is over.
type scheduled struct {
	jobs  *alerting.Jobs
	clock *clockwork.FakeClock
	ran   chan time.Time
}

func schedule(t *testing.T, s *site, start time.Time) *scheduled {
	t.Helper()
	sc := &scheduled{clock: clockwork.NewFakeClockAt(start), ran: make(chan time.Time, 1)}
	jobs, err := alerting.StartJobs([]alerting.Job{{Name: "reminders", Every: 24 * time.Hour,
		Run: func(ctx context.Context, now time.Time) error {
			err := s.rem.Run(ctx, now)
			sc.ran <- now
			return err
		}}}, sc.clock, nil)
	if err != nil {
		t.Fatal(err)
	}
	sc.jobs = jobs
	sc.wait(t) // the run at start
	return sc
}

func (sc *scheduled) wait(t *testing.T) time.Time {
	t.Helper()
	select {
	case now := <-sc.ran:
		return now
	case <-time.After(30 * time.Second):
		t.Fatal("the reminder job did not run")
	}
	return time.Time{}
}

// nextDay moves the fake clock on 23 hours, then an hour at a time until the daily
// run comes, and returns the clock's time at that run. The hour steps keep the test
// free of a race with gocron setting its next timer: a step taken before the timer
// exists only moves the run later.
func (sc *scheduled) nextDay(t *testing.T) time.Time {
	t.Helper()
	step := 23 * time.Hour
	for range 48 {
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		err := sc.clock.BlockUntilContext(ctx, 1)
		cancel()
		if err != nil {
			t.Fatalf("gocron never waited on the clock: %v", err)
		}
		sc.clock.Advance(step)
		step = time.Hour
		select {
		case now := <-sc.ran:
			return now
		case <-time.After(200 * time.Millisecond): // no run at this hour
		}
	}
	t.Fatal("no reminder run within two days of fake time")
	return time.Time{}
}

// TestRemindersGoBeforeOnAndAfterTheDeadlineOnceEachAcrossARestart follows the
// quarterly report of 2026-Q3 (due 15 days after the quarter: the deadline day is 15
// October) day by day on a fake clock. Lang Son has sent one indicator of several; Ha
// Noi has sent everything. Lang Son's officer gets one mail 3 days before, one on the
// deadline day, and two after it (every 2 days, at most 2); the address that opted out
// gets none, Ha Noi none. G-OC restarts on the deadline day, after its mail went: no
// mail is sent twice.
func TestRemindersGoBeforeOnAndAfterTheDeadlineOnceEachAcrossARestart(t *testing.T) {
	box := smtptest.Start(t, true)
	addr := box.Addr
	sender := &reminder.SMTP{Addr: addr, From: "goc@example.gov.vn", RootCAs: box.CA.Pool()}
	path := filepath.Join(t.TempDir(), "goc.db")
	set := settings(addr)
	s := openSite(t, path, set, sender)

	q3 := period.MustParse("2026-Q3")
	c, err := query.New(s.store, indicators.DefaultCatalogue(), indicators.DefaultRegistry(), time.Now).
		Completeness(t.Context(), q3, 15, hcm, time.Date(2026, 10, 1, 0, 0, 0, 0, hcm), query.CompletenessFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var obs []indicators.Observation
	var p20Missing []string
	for _, a := range c.Agencies {
		switch a.Agency {
		case "P01":
			for _, code := range a.MissingIndicators {
				obs = append(obs, observation(code, "P01", q3))
			}
		case "P20":
			obs = append(obs, observation(a.MissingIndicators[0], "P20", q3))
			p20Missing = a.MissingIndicators[1:]
		}
	}
	if len(p20Missing) == 0 {
		t.Fatalf("Lang Son reports no quarterly indicator: %+v", c.Agencies)
	}
	if _, err := s.store.WriteObservations(t.Context(), obs); err != nil {
		t.Fatal(err)
	}

	sc := schedule(t, s, time.Date(2026, 10, 11, 9, 0, 0, 0, hcm))
	want := map[string]string{} // day → stage mailed that day
	check := func(now time.Time) {
		t.Helper()
		got := box.Mails()
		if len(got) != len(want) {
			t.Fatalf("%s: %d mails, want %d (%v): %+v", now.Format("02/01"), len(got), len(want), want, got)
		}
	}
	for _, day := range []struct {
		date  int
		stage string
	}{{12, "còn 3 ngày"}, {13, ""}, {14, ""}, {15, "hạn cuối hôm nay"}} {
		now := sc.nextDay(t)
		if now.Day() != day.date {
			t.Fatalf("run at %s, want 10/%d", now, day.date)
		}
		if day.stage != "" {
			want[now.Format("02/01")] = day.stage
		}
		check(now)
	}

	// Restart on the deadline day, after its mail went: a new process, a new store
	// handle, a new schedule; its first run (at start) must not send the mail again.
	if err := sc.jobs.Stop(); err != nil {
		t.Fatal(err)
	}
	s.store.Close()
	s = openSite(t, path, set, sender)
	sc = schedule(t, s, time.Date(2026, 10, 15, 14, 0, 0, 0, hcm))
	check(time.Date(2026, 10, 15, 14, 0, 0, 0, hcm))
	for _, day := range []struct {
		date  int
		stage string
	}{{16, "đã quá hạn 1 ngày"}, {17, ""}, {18, "đã quá hạn 3 ngày"}, {19, ""}, {20, ""}, {21, ""}} {
		now := sc.nextDay(t)
		if day.stage != "" {
			want[now.Format("02/01")] = day.stage
		}
		check(now)
	}
	if err := sc.jobs.Stop(); err != nil {
		t.Fatal(err)
	}

	for _, m := range box.Mails() {
		if m.To != "thu.ky@langson.example.vn" {
			t.Errorf("a reminder went to %s", m.To)
		}
		if !m.TLS {
			t.Errorf("a mail was accepted without STARTTLS")
		}
		link := "https://goc.example.gov.vn/officer/reports?agency=P20&period=2026-Q3"
		if !strings.Contains(m.Body, link) {
			t.Errorf("mail %q has no link to %s:\n%s", m.Subject, link, m.Body)
		}
		for _, code := range p20Missing {
			if !strings.Contains(m.Body, code) {
				t.Errorf("mail %q does not name the missing %s", m.Subject, code)
			}
		}
		if strings.Contains(m.Body, obs[len(obs)-1].Indicator+":") && obs[len(obs)-1].Agency == "P20" {
			t.Errorf("mail %q lists the indicator already sent", m.Subject)
		}
		if !strings.Contains(m.Body, "hết ngày 15/10/2026") || !strings.Contains(m.Body, "Submit at:") {
			t.Errorf("mail %q lacks the deadline or the English part:\n%s", m.Subject, m.Body)
		}
	}
	var stages []string
	for _, m := range box.Mails() {
		for _, s := range []string{"còn 3 ngày", "hạn cuối hôm nay", "đã quá hạn 1 ngày", "đã quá hạn 3 ngày"} {
			if strings.Contains(m.Subject, s) {
				stages = append(stages, s)
			}
		}
	}
	t.Logf("%d reminders over 11 days and a restart: %v", len(stages), stages)
	if !slices.Equal(stages, []string{"còn 3 ngày", "hạn cuối hôm nay", "đã quá hạn 1 ngày", "đã quá hạn 3 ngày"}) {
		t.Errorf("stages mailed = %v", stages)
	}
}

// TestTwoReplicasSendEachReminderOnce runs the reminders of two replicas sharing one
// store at the same moment: each reason is claimed by one of them only.
func TestTwoReplicasSendEachReminderOnce(t *testing.T) {
	box := smtptest.Start(t, true)
	addr := box.Addr
	sender := &reminder.SMTP{Addr: addr, From: "goc@example.gov.vn", RootCAs: box.CA.Pool()}
	path := filepath.Join(t.TempDir(), "goc.db")
	set := settings(addr)
	a, b := openSite(t, path, set, sender), openSite(t, path, set, sender)
	now := time.Date(2026, 10, 12, 9, 0, 0, 0, hcm)
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, s := range []*site{a, b} {
		wg.Go(func() { errs[i] = s.rem.Run(t.Context(), now) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	// Nobody has sent anything: Lang Son's and Ha Noi's officers, once each.
	got := map[string]int{}
	for _, m := range box.Mails() {
		got[m.To]++
	}
	if len(got) != 2 || got["thu.ky@langson.example.vn"] != 1 || got["van.phong@hanoi.example.vn"] != 1 {
		t.Fatalf("mails by address = %v, want one each for the two officers who did not opt out", got)
	}
}

// TestARelayWithoutStartTLSGetsNoMail: G-OC refuses to send officers' addresses in
// clear, and the reminder stays unsent for the next run.
func TestARelayWithoutStartTLSGetsNoMail(t *testing.T) {
	box := smtptest.Start(t, false) // no STARTTLS offered
	path := filepath.Join(t.TempDir(), "goc.db")
	set := settings(box.Addr)
	s := openSite(t, path, set, &reminder.SMTP{Addr: box.Addr, From: "goc@example.gov.vn"})
	err := s.rem.Run(t.Context(), time.Date(2026, 10, 12, 9, 0, 0, 0, hcm))
	if err == nil || !strings.Contains(err.Error(), "STARTTLS") {
		t.Fatalf("Run = %v, want a STARTTLS refusal", err)
	}
	if n := len(box.Mails()); n != 0 {
		t.Fatalf("%d mails went in clear", n)
	}
	// Released: a relay that offers STARTTLS later gets the mail.
	good := smtptest.Start(t, true)
	s2 := openSite(t, path, set, &reminder.SMTP{Addr: good.Addr, From: "goc@example.gov.vn", RootCAs: good.CA.Pool()})
	if err := s2.rem.Run(t.Context(), time.Date(2026, 10, 12, 10, 0, 0, 0, hcm)); err != nil {
		t.Fatal(err)
	}
	if n := len(good.Mails()); n != 2 {
		t.Fatalf("%d mails after the relay was fixed, want 2", n)
	}
}

func observation(code, agency string, p period.Period) indicators.Observation {
	ind, _ := indicators.DefaultCatalogue().Get(code)
	o := indicators.Observation{SeriesKey: indicators.SeriesKey{Indicator: code, Agency: agency, Period: p},
		Value: 50, Source: indicators.FromSubmission, Submitter: "test"}
	if ind != nil && ind.IsRatio() {
		n, d := 50.0, 100.0
		o.Numerator, o.Denominator = &n, &d
	}
	return o
}
