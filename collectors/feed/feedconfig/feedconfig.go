// Package feedconfig is the feed collector's configuration: one entry of
// collectors.feeds as goc.yaml writes it, and its validation (as blackbox_exporter
// keeps validation on the module type). It imports no network code, so
// internal/config composes it without linking the puller, and the puller takes a
// Feed as it is.
package feedconfig

import (
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/g-oc/goc/internal/problem"
	"github.com/g-oc/goc/internal/secret"
)

// Format is how a feed's payload is written.
type Format string

// Formats, each read by intake's reader of the same name (a test of collectors/feed
// says so).
const (
	JSON       Format = "json"
	CSV        Format = "csv"
	Prometheus Format = "prometheus"
	XLSX       Format = "xlsx"
)

// Formats lists every format.
func Formats() []Format { return []Format{JSON, CSV, Prometheus, XLSX} }

// Fields name where each part of a value is in a record (key, column or label).
type Fields struct {
	Indicator, Agency, Period, Value, Numerator, Denominator string
}

// Feed is one KPI feed to pull.
type Feed struct {
	// Name identifies the feed in logs, metrics and the API; it is the submitter of
	// its observations ("feed:NAME").
	Name   string
	URL    string
	Format Format
	// Interval is how often the feed is pulled; the scheduler's, not the puller's.
	Interval time.Duration
	// Timeout bounds the whole pull: connect, download and reading.
	Timeout time.Duration
	// MaxBytes caps the payload.
	MaxBytes int64
	// Token is sent as a bearer token; Username and Password as HTTP basic
	// authentication; QuerySecrets are added to the URL's query when the request is
	// made (a feed that wants ?api_key=): none of them is ever shown.
	Token        secret.Secret
	Username     string
	Password     secret.Secret
	QuerySecrets map[string]secret.Secret
	// Agency, Indicator and Period apply to records that do not name their own.
	Agency, Indicator, Period string
	// Records is, for JSON, the dotted path of the list of records ("" for a document
	// that is itself the list); for Prometheus, the metric name prefix that marks
	// G-OC figures (other families are ignored).
	Records string
	// Sheet is the XLSX sheet to read; empty means the first.
	Sheet  string
	Fields Fields
}

// name is what a feed name may hold: it becomes a metric label and a submitter.
var name = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,62}$`)

// Validate reports what is wrong with the feed at path (such as
// "collectors.feeds[0]"). Values that do not parse are the file reader's to report;
// Validate judges the values it is given.
func (f Feed) Validate(path string) []problem.Problem {
	var out []problem.Problem
	switch {
	case f.Name == "":
		out = append(out, problem.At(path+".name", "required: a short name such as lang-son-kpi, used in metrics and the API"))
	case !name.MatchString(f.Name):
		out = append(out, problem.At(path+".name", "%q: use lowercase letters, digits, '.', '_' and '-' (at most 63)", f.Name))
	}
	if f.URL == "" {
		out = append(out, problem.At(path+".url", "required: where the feed is published"))
	}
	switch {
	case f.Format == "":
		out = append(out, problem.At(path+".format", "required: one of %s", formatList()))
	case !slices.Contains(Formats(), f.Format):
		out = append(out, problem.At(path+".format", "unknown format %q; known: %s", f.Format, formatList()))
	}
	if f.Timeout > f.Interval {
		out = append(out, problem.At(path+".timeout", "timeout %s is longer than the interval %s", f.Timeout, f.Interval).
			RestingOn(path+".interval"))
	}
	return out
}

func formatList() string {
	s := make([]string, 0, len(Formats()))
	for _, f := range Formats() {
		s = append(s, string(f))
	}
	return strings.Join(s, ", ")
}
