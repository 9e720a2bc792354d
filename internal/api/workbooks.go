package api

import (
	"context"
	"io"
	"time"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/indicators/period"
	"github.com/g-oc/goc/internal/intake"
	"github.com/g-oc/goc/internal/query"
)

// Workbooks makes the files the API offers for download: ranking workbooks, report
// cards, raw exports and submission templates. The API only asks for them; the
// concrete ones (reports and reports/template, in internal/apiparts) are handed down by
// cmd/goc, so the API imports no other presenter. The file routes answer 503 when nil.
type Workbooks interface {
	// RankingWorkbook writes the workbook of a ranking report.
	RankingWorkbook(w io.Writer, rep *query.RankingReport, loc *time.Location) error
	// CardWorkbook writes one agency's report card.
	CardWorkbook(w io.Writer, card *query.Card, loc *time.Location) error
	// NewExporter starts a raw export of the given format ("xlsx" or "csv") on w.
	NewExporter(format string, w io.Writer, meta ExportMeta) (Exporter, error)
	// Template gathers the submission template of an agency and period, due dueDays
	// after the period ends in loc; a *TemplateError when it cannot be made.
	Template(ctx context.Context, q TemplateQuery, agency, period string, dueDays int, loc *time.Location, now time.Time) (Template, error)
}

// ExportMeta describes an export for its About sheet.
type ExportMeta struct {
	// Names gives an agency's name for the agency-name column.
	Names func(code string) string
	// Location is the zone received-at times are shown in.
	Location *time.Location
	// Query describes what was asked for.
	Query       string
	GeneratedAt time.Time
}

// Exporter writes observations as they are read, one page at a time; Close finishes
// the file.
type Exporter interface {
	Write(obs []indicators.Observation) error
	Close() error
}

// TemplateQuery is what gathering a template asks of the query layer.
type TemplateQuery interface {
	Catalogue() *indicators.Catalogue
	Registry() *indicators.Registry
	PreviousValues(ctx context.Context, agency string, p period.Period, codes []string) (map[string]indicators.Observation, error)
}

// Template is one submission template, gathered and not yet written.
type Template interface {
	// Agency is the agency's code, Period the period the template is for.
	Agency() string
	Period() period.Period
	// Codes are the indicators the template lists, in row order.
	Codes() []string
	// Prefill fills the input cells with what was already sent for the period, by code.
	Prefill(current map[string]indicators.Observation)
	Write(w io.Writer) error
	// FileName is the name the template is offered under.
	FileName() string
}

// TemplateError is a template that cannot be made: an unknown agency (Field "agency",
// answered 404), a period that has not started or that the agency reports nothing at
// (answered 400).
type TemplateError struct{ Field, Reason string }

func (e *TemplateError) Error() string { return e.Field + ": " + e.Reason }

// FeedStatuses reports the state of every configured feed, by name: the collectors'
// puller, through internal/apiparts.
type FeedStatuses interface {
	Statuses() []FeedStatus
}

// FeedStatus is one feed's state as GET /api/v1/feeds shows it; the fields of the
// puller's status (collectors/feed.Status), which internal/apiparts copies and its test
// keeps in step.
type FeedStatus struct {
	Name        string    `json:"name"`
	URL         string    `json:"url"`
	Format      string    `json:"format"`
	LastRun     time.Time `json:"last_run,omitzero"`
	LastSuccess time.Time `json:"last_success,omitzero"`
	// LastResult is ok, not_modified or error; empty before the first pull.
	LastResult string `json:"last_result,omitempty"`
	// Values is how many values the last good payload held, and Written how many of
	// them were new revisions.
	Values  int `json:"values"`
	Written int `json:"written"`
	// Error is the last pull's error; null when it succeeded.
	Error *FeedError `json:"error"`
	// Errors counts failed pulls since G-OC started.
	Errors int `json:"errors"`
}

// FeedError is a feed's last failed pull.
type FeedError struct {
	Time   time.Time `json:"time"`
	Reason string    `json:"reason"`
	// Message is one line for logs and the API.
	Message string `json:"message"`
	// Problems lists every bad place in the payload, for parse and invalid errors.
	Problems []intake.Problem `json:"problems,omitempty"`
}
