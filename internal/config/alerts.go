package config

import (
	"fmt"
	"net/mail"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"

	"github.com/g-oc/goc/internal/secret"
)

// Alerts holds the thresholds of the Prometheus alerting rules `goc alerts rules`
// writes, and the deadline reminders `goc serve` mails to reporting officers.
type Alerts struct {
	// RunbookBaseURL is where docs/runbooks/ of this repository is published; each
	// alert links to its page under it.
	RunbookBaseURL string
	// Job is the Prometheus job name G-OC is scraped under (for "replicas missing").
	Job string
	// Replicas is how many G-OC replicas should be up.
	Replicas int
	// PortalDownFor is how long a portal must fail its probes before it alerts.
	PortalDownFor time.Duration
	// PortalSlowSeconds and PortalSlowFor: a probe slower than this, for that long.
	PortalSlowSeconds float64
	PortalSlowFor     time.Duration
	// RegressionLookback is "the last period" a portal's HTTPS, IPv6, DNSSEC or mobile
	// check is compared with; RegressionFor how long the loss must last.
	RegressionLookback time.Duration
	RegressionFor      time.Duration
	// CertExpiryDays: a certificate expiring within this many days alerts.
	CertExpiryDays int
	// FeedFailingFor is how long a feed must keep failing.
	FeedFailingFor time.Duration
	// SubmissionOverdueDays is how many days after the deadline a missing report alerts.
	SubmissionOverdueDays int
	// ProgressFor is how long an indicator's lower status class must hold.
	ProgressFor time.Duration
	// SpoolBacklogFor is how long the InfluxDB spool must keep growing.
	SpoolBacklogFor time.Duration
	// SchedulerLagSeconds is the 90th-percentile scheduling delay that alerts.
	SchedulerLagSeconds float64
	// RefreshEvery is how often the submission and progress metrics are recomputed.
	RefreshEvery time.Duration

	Reminders Reminders
}

// Reminders configures the deadline mails to reporting officers.
type Reminders struct {
	// Enabled turns the reminder job on in `goc serve`.
	Enabled bool
	// BaseURL is the portal's public address; mails link to BaseURL + ReportsPath.
	BaseURL     string
	ReportsPath string
	// BeforeDays lists how many days before the deadline day a reminder goes out.
	BeforeDays []int
	// OnDeadline sends one on the deadline day itself.
	OnDeadline bool
	// AfterEveryDays repeats a reminder every so many days after the deadline while the
	// report is missing; AfterMax caps how many (0: no cap).
	AfterEveryDays int
	AfterMax       int
	// CheckEvery is how often the reminder job looks at the calendar.
	CheckEvery time.Duration
	SMTP       SMTP
	// Officers are the reporting officers' addresses, by agency.
	Officers []Officer
	// OptOut lists addresses that receive no reminder.
	OptOut []string

	line int
}

// SMTP is the mail relay; STARTTLS is always required.
type SMTP struct {
	// Addr is host:port of the relay (587 is usual for STARTTLS).
	Addr     string
	Username string
	Password secret.Secret
	// From is the sender address.
	From string
	// CAFile, when set, is the PEM bundle the relay's certificate is checked against
	// instead of the system roots.
	CAFile string
}

// Officer is one agency's reporting officers.
type Officer struct {
	Agency string
	Emails []string

	line int
}

// Defaults of the alerts section.
const (
	DefaultRunbookBaseURL = "https://github.com/g-oc/goc/blob/main/docs/runbooks"
	DefaultReportsPath    = "/officer/reports"
)

// DefaultAlerts is the section of an empty file.
func DefaultAlerts() Alerts {
	return Alerts{
		RunbookBaseURL:        DefaultRunbookBaseURL,
		Job:                   "goc",
		Replicas:              1,
		PortalDownFor:         5 * time.Minute,
		PortalSlowSeconds:     5,
		PortalSlowFor:         15 * time.Minute,
		RegressionLookback:    7 * 24 * time.Hour,
		RegressionFor:         time.Hour,
		CertExpiryDays:        14,
		FeedFailingFor:        30 * time.Minute,
		SubmissionOverdueDays: 3,
		ProgressFor:           time.Hour,
		SpoolBacklogFor:       15 * time.Minute,
		SchedulerLagSeconds:   30,
		RefreshEvery:          5 * time.Minute,
		Reminders: Reminders{
			ReportsPath:    DefaultReportsPath,
			BeforeDays:     []int{7, 1},
			OnDeadline:     true,
			AfterEveryDays: 3,
			CheckEvery:     time.Hour,
		},
	}
}

// parsePromDuration reads a duration as Prometheus writes them (30s, 5m, 1h30m, 7d).
func parsePromDuration(s string) (time.Duration, error) {
	v, err := model.ParseDuration(s)
	if err != nil || v <= 0 {
		return 0, fmt.Errorf("%q is not a positive duration; write e.g. 30s, 5m, 1h or 7d", s)
	}
	return time.Duration(v), nil
}

func parseIntIn(lo, hi int) func(string) (int, error) {
	return func(s string) (int, error) {
		v, err := strconv.Atoi(s)
		if err != nil || v < lo || v > hi {
			return 0, fmt.Errorf("%q must be a whole number from %d to %d", s, lo, hi)
		}
		return v, nil
	}
}

func parseFloatIn(lo, hi float64) func(string) (float64, error) {
	return func(s string) (float64, error) {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil || !(v >= lo && v <= hi) {
			return 0, fmt.Errorf("%q must be a number from %g to %g", s, lo, hi)
		}
		return v, nil
	}
}

func parseHTTPBase(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("%q must be an http:// or https:// address", s)
	}
	return strings.TrimRight(s, "/"), nil
}

func parseEmail(s string) (string, error) {
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" {
		return "", fmt.Errorf("%q is not a mail address such as thu.ky@langson.gov.vn", s)
	}
	return strings.ToLower(a.Address), nil
}

func parseJob(s string) (string, error) {
	if !model.LabelValue(s).IsValid() || s == "" || strings.ContainsAny(s, `"\`) {
		return "", fmt.Errorf("%q is not a usable Prometheus job name", s)
	}
	return s, nil
}

func (d *decoder) alerts(n *yaml.Node, path string, a *Alerts) {
	d.mapping(n, path, fields{
		"runbook_base_url":        setting(d, &a.RunbookBaseURL, parseHTTPBase),
		"job":                     setting(d, &a.Job, parseJob),
		"replicas":                setting(d, &a.Replicas, parseIntIn(1, 1000)),
		"portal_down_for":         setting(d, &a.PortalDownFor, parsePromDuration),
		"portal_slow_seconds":     setting(d, &a.PortalSlowSeconds, parseFloatIn(0.001, 600)),
		"portal_slow_for":         setting(d, &a.PortalSlowFor, parsePromDuration),
		"regression_lookback":     setting(d, &a.RegressionLookback, parsePromDuration),
		"regression_for":          setting(d, &a.RegressionFor, parsePromDuration),
		"cert_expiry_days":        setting(d, &a.CertExpiryDays, parseIntIn(1, 365)),
		"feed_failing_for":        setting(d, &a.FeedFailingFor, parsePromDuration),
		"submission_overdue_days": setting(d, &a.SubmissionOverdueDays, parseIntIn(0, 366)),
		"progress_for":            setting(d, &a.ProgressFor, parsePromDuration),
		"spool_backlog_for":       setting(d, &a.SpoolBacklogFor, parsePromDuration),
		"scheduler_lag_seconds":   setting(d, &a.SchedulerLagSeconds, parseFloatIn(0.001, 3600)),
		"refresh_every":           setting(d, &a.RefreshEvery, parsePromDuration),
		"reminders":               func(v *yaml.Node, p string) { d.reminders(v, p, &a.Reminders) },
	})
}

func (d *decoder) reminders(n *yaml.Node, path string, r *Reminders) {
	r.line = resolveLine(n)
	d.mapping(n, path, fields{
		"enabled":      setting(d, &r.Enabled, parseBool),
		"base_url":     setting(d, &r.BaseURL, parseHTTPBase),
		"reports_path": setting(d, &r.ReportsPath, parseReportsPath),
		"before_days": func(v *yaml.Node, p string) {
			r.BeforeDays = d.intList(v, p, 1, 366)
		},
		"on_deadline":      setting(d, &r.OnDeadline, parseBool),
		"after_every_days": setting(d, &r.AfterEveryDays, parseIntIn(0, 366)),
		"after_max":        setting(d, &r.AfterMax, parseIntIn(0, 1000)),
		"check_every":      setting(d, &r.CheckEvery, parsePromDuration),
		"smtp": func(v *yaml.Node, p string) {
			d.mapping(v, p, fields{
				"addr":     setting(d, &r.SMTP.Addr, parseAddr),
				"username": d.text(&r.SMTP.Username),
				"password": setting(d, &r.SMTP.Password, func(s string) (secret.Secret, error) { return secret.New(s), nil }),
				"from":     setting(d, &r.SMTP.From, parseEmail),
				"ca_file":  d.file(&r.SMTP.CAFile),
			})
		},
		"officers": func(v *yaml.Node, p string) { r.Officers = d.officers(v, p) },
		"opt_out": func(v *yaml.Node, p string) {
			for _, e := range d.strList(v, p) {
				if a, err := parseEmail(e.s); err != nil {
					d.add(e.line, p, "%v", err)
				} else {
					r.OptOut = append(r.OptOut, a)
				}
			}
		},
	})
	if !r.Enabled {
		return
	}
	line := max(r.line, d.lineOf(path+".enabled"))
	for _, c := range []struct {
		key     string
		missing bool
	}{{"base_url", r.BaseURL == ""}, {"smtp.addr", r.SMTP.Addr == ""}, {"smtp.from", r.SMTP.From == ""}} {
		if c.missing && !d.reported(join(path, c.key)) {
			d.add(line, join(path, c.key), "required when reminders are enabled")
		}
	}
	if len(r.Officers) == 0 && !d.reported(join(path, "officers")) {
		d.add(line, join(path, "officers"), "required when reminders are enabled: at least one agency with its officers' addresses")
	}
}

func parseReportsPath(s string) (string, error) {
	if !strings.HasPrefix(s, "/") || strings.ContainsAny(s, " ?#") {
		return "", fmt.Errorf("%q must be a path starting with /, such as %s", s, DefaultReportsPath)
	}
	return s, nil
}

// resolveLine is the line of a node, 0 for none.
func resolveLine(n *yaml.Node) int {
	if n = resolve(n); n == nil {
		return 0
	}
	return n.Line
}

type lineString struct {
	s    string
	line int
}

// strList reads a list of single values.
func (d *decoder) strList(v *yaml.Node, path string) []lineString {
	v = resolve(v)
	if isNull(v) {
		return nil
	}
	if v.Kind != yaml.SequenceNode {
		d.add(v.Line, path, "must be a list, not %s", kindName(v))
		return nil
	}
	var out []lineString
	for i, n := range v.Content {
		s, ok := d.str(resolve(n), fmt.Sprintf("%s[%d]", path, i))
		if ok && s != "" {
			out = append(out, lineString{s, n.Line})
		}
	}
	return out
}

func (d *decoder) intList(v *yaml.Node, path string, lo, hi int) []int {
	var out []int
	for _, e := range d.strList(v, path) {
		x, err := parseIntIn(lo, hi)(e.s)
		if err != nil {
			d.add(e.line, path, "%v", err)
			continue
		}
		if slices.Contains(out, x) {
			d.add(e.line, path, "%d is listed twice", x)
			continue
		}
		out = append(out, x)
	}
	return out
}

func (d *decoder) officers(v *yaml.Node, path string) []Officer {
	var out []Officer
	seen := map[string]int{}
	d.items(v, path, "agencies with their officers", func(n *yaml.Node, p string) {
		o := Officer{line: n.Line}
		if !d.mapping(n, p, fields{
			"agency": d.text(&o.Agency),
			"emails": func(v *yaml.Node, q string) {
				for _, e := range d.strList(v, q) {
					if a, err := parseEmail(e.s); err != nil {
						d.add(e.line, q, "%v", err)
					} else {
						o.Emails = append(o.Emails, a)
					}
				}
			},
		}) {
			return
		}
		o.line = max(n.Line, d.lineOf(p+".agency"))
		switch first, dup := seen[o.Agency]; {
		case o.Agency == "":
			d.add(o.line, p+".agency", "required: the code of the agency these officers report for")
		case dup:
			d.add(o.line, p+".agency", "%s is listed twice; first at line %d", o.Agency, first)
		default:
			seen[o.Agency] = o.line
		}
		if len(o.Emails) == 0 && !d.reported(p+".emails") {
			d.add(o.line, p+".emails", "required: at least one address")
		}
		out = append(out, o)
	})
	return out
}

// agencies lists the agency codes the reminders name, for CheckAgencies.
func (a *Alerts) agencies() []agencyRef {
	var out []agencyRef
	for i, o := range a.Reminders.Officers {
		if o.Agency != "" {
			out = append(out, agencyRef{fmt.Sprintf("alerts.reminders.officers[%d].agency", i), o.Agency, o.line})
		}
	}
	return out
}

// OptedOut reports whether an address asked for no reminders.
func (r Reminders) OptedOut(addr string) bool {
	return slices.Contains(r.OptOut, strings.ToLower(addr))
}
