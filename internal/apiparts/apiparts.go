// Package apiparts holds the concrete parts cmd/goc hands internal/api: the files it
// offers for download, made by reports and reports/template, and the feed statuses of
// the collectors' puller. It belongs to the wiring layer (README, Layout): the API
// defines the small interfaces it needs and imports no other presenter and no
// collector; this package fills them, and the tests that serve the API share it.
package apiparts

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/g-oc/goc/collectors/feed"
	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/indicators/period"
	"github.com/g-oc/goc/internal/api"
	"github.com/g-oc/goc/internal/query"
	"github.com/g-oc/goc/reports"
	"github.com/g-oc/goc/reports/template"
)

// Workbooks makes the API's files with reports and reports/template.
type Workbooks struct{}

var _ api.Workbooks = Workbooks{}

// RankingWorkbook writes reports.RankingWorkbook.
func (Workbooks) RankingWorkbook(w io.Writer, rep *query.RankingReport, loc *time.Location) error {
	f, err := reports.RankingWorkbook(rep, loc)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Write(w)
}

// CardWorkbook writes reports.CardWorkbook.
func (Workbooks) CardWorkbook(w io.Writer, card *query.Card, loc *time.Location) error {
	f, err := reports.CardWorkbook(card, loc)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Write(w)
}

// NewExporter starts reports.NewExporter.
func (Workbooks) NewExporter(format string, w io.Writer, meta api.ExportMeta) (api.Exporter, error) {
	return reports.NewExporter(format, w, reports.ExportMeta{Names: meta.Names, Location: meta.Location, Query: meta.Query, GeneratedAt: meta.GeneratedAt})
}

// Template gathers template.SpecFor; its *template.SpecError becomes an *api.TemplateError.
func (Workbooks) Template(ctx context.Context, q api.TemplateQuery, agency, per string, dueDays int, loc *time.Location, now time.Time) (api.Template, error) {
	spec, err := template.SpecFor(ctx, q, agency, per, dueDays, loc, now)
	if se, ok := errors.AsType[*template.SpecError](err); ok {
		return nil, &api.TemplateError{Field: se.Field, Reason: se.Reason}
	}
	if err != nil {
		return nil, err
	}
	return &submissionTemplate{spec}, nil
}

// submissionTemplate is a template.Spec seen as an api.Template.
type submissionTemplate struct{ spec template.Spec }

func (t *submissionTemplate) Agency() string        { return t.spec.Agency.Code }
func (t *submissionTemplate) Period() period.Period { return t.spec.Period }

func (t *submissionTemplate) Codes() []string {
	codes := make([]string, len(t.spec.Indicators))
	for i, ind := range t.spec.Indicators {
		codes[i] = ind.Code
	}
	return codes
}

func (t *submissionTemplate) Prefill(current map[string]indicators.Observation) {
	t.spec.Current = current
}

func (t *submissionTemplate) Write(w io.Writer) error { return template.Write(w, t.spec) }

func (t *submissionTemplate) FileName() string {
	return template.FileName(t.spec.Agency.Code, t.spec.Period)
}

// Feeds shows a puller's feed statuses to the API.
func Feeds(p *feed.Puller) api.FeedStatuses { return feeds{p} }

type feeds struct{ p *feed.Puller }

func (f feeds) Statuses() []api.FeedStatus {
	list := f.p.Statuses()
	out := make([]api.FeedStatus, len(list))
	for i, s := range list {
		out[i] = FeedStatus(s)
	}
	return out
}

// FeedStatus is the API's copy of one feed's status, field for field.
func FeedStatus(s feed.Status) api.FeedStatus {
	out := api.FeedStatus{Name: s.Name, URL: s.URL, Format: string(s.Format), LastRun: s.LastRun, LastSuccess: s.LastSuccess,
		LastResult: s.LastResult, Values: s.Values, Written: s.Written, Errors: s.Errors}
	if e := s.Error; e != nil {
		out.Error = &api.FeedError{Time: e.Time, Reason: e.Reason, Message: e.Message, Problems: e.Problems}
	}
	return out
}
