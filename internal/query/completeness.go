package query

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/indicators/period"
	"github.com/g-oc/goc/internal/store"
)

// Reporting completeness, as DHIS2 defines it: the reporting rate is reports received
// over reports expected, and a report is on time when it is received within the due
// days after its period ends.

// ReportStatus is where one agency's report for a period stands.
type ReportStatus string

// Report statuses.
const (
	OnTime  ReportStatus = "on_time"
	Late    ReportStatus = "late"
	Missing ReportStatus = "missing"
	// Pending: nothing yet, but the deadline has not passed.
	Pending ReportStatus = "pending"
)

// ReportSources are the sources that count as an agency reporting: its submissions,
// feeds it publishes, and the demo history that stands in for submissions.
var ReportSources = []indicators.Source{indicators.FromSubmission, indicators.FromFeed, indicators.FromDemo}

// AgencyReport is one agency's report for a period.
type AgencyReport struct {
	Agency string                `json:"agency"`
	NameVI string                `json:"name_vi"`
	NameEN string                `json:"name_en"`
	Kind   indicators.AgencyKind `json:"kind"`
	Status ReportStatus          `json:"status"`
	// ReceivedAt is when the first value of the period arrived.
	ReceivedAt *time.Time `json:"received_at,omitempty"`
	// IndicatorsExpected and IndicatorsReceived count the indicators of the period's
	// periodicity the agency's level reports, and those it has sent; Missing names the
	// rest, so a partial report shows what it lacks.
	IndicatorsExpected int      `json:"indicators_expected"`
	IndicatorsReceived int      `json:"indicators_received"`
	MissingIndicators  []string `json:"missing_indicators,omitempty"`
}

// Completeness is who has reported for a period.
type Completeness struct {
	Period      period.Period `json:"period"`
	Periodicity string        `json:"periodicity"`
	DueDays     int           `json:"due_days"`
	// Deadline is the first instant a report counts as late: the period's end plus
	// DueDays, in the server's time zone.
	Deadline time.Time `json:"deadline"`
	AsOf     time.Time `json:"as_of"`
	Expected int       `json:"expected"`
	Received int       `json:"received"`
	OnTime   int       `json:"on_time"`
	Late     int       `json:"late"`
	Missing  int       `json:"missing"`
	Pending  int       `json:"pending"`
	// ReportingRate is Received / Expected and OnTimeRate OnTime / Expected, 0 to 1.
	ReportingRate float64        `json:"reporting_rate"`
	OnTimeRate    float64        `json:"on_time_rate"`
	Agencies      []AgencyReport `json:"agencies"`
	// More is true when the filter's Limit cut the list: more agencies follow the last.
	More bool `json:"-"`
}

// CompletenessFilter narrows the agencies listed; counts follow Level and Within.
type CompletenessFilter struct {
	// Level keeps agencies of one level; Within keeps an agency and those below it.
	Level  indicators.Level
	Within string
	// Status keeps agencies of one status in the list; the counts still cover every
	// agency Level and Within keep.
	Status ReportStatus
	// After and Limit page the list, in the registry's order: the agencies after the
	// one coded After (from the start when empty; when that agency has gone, those whose
	// code sorts after it), at most Limit of them (every one when 0). Completeness.More
	// says whether more follow.
	After string
	Limit int
}

// defaultAgencyChunk is how many agencies' reports (or observations) are read from the
// store at once: the memory of a completeness read is one chunk of reports and one page
// of the list, whatever the number of agencies or the size of the store.
const defaultAgencyChunk = 500

// Deadline is the first late instant for a period's reports, due dueDays after it ends.
func Deadline(p period.Period, dueDays int, loc *time.Location) time.Time {
	return p.End(loc).AddDate(0, 0, dueDays)
}

// Completeness lists every agency that must report for p, with its status. An agency
// must report when it existed on the period's last day and its level reports at least
// one indicator of p's periodicity. Its report is received when at least one of those
// indicators has a value from a report source; it is on time when that first value
// arrived before the deadline.
//
// The reports are read from the store for 500 agencies at a time, by
// their codes, so the read holds one chunk of reports and one page of the list: it
// does not grow with the history, with the agencies the store holds beyond the
// registry, or with the registry. The counts cover every expected agency.
func (s *Service) Completeness(ctx context.Context, p period.Period, dueDays int, loc *time.Location, now time.Time, f CompletenessFilter) (Completeness, error) {
	if f.Within != "" {
		if _, ok := s.registry.Get(f.Within); !ok {
			return Completeness{}, &NotFoundError{"agency", f.Within}
		}
	}
	if loc == nil {
		loc = time.UTC
	}
	deadline := Deadline(p, dueDays, loc)
	out := Completeness{Period: p, Periodicity: p.Kind.String(), DueDays: dueDays, Deadline: deadline, AsOf: now, Agencies: []AgencyReport{}}

	byLevel := map[indicators.Level][]string{}
	var codes []string
	for _, ind := range s.catalogue.All() {
		if ind.Periodicity != p.Kind {
			continue
		}
		codes = append(codes, ind.Code)
		for _, l := range ind.Levels {
			byLevel[l] = append(byLevel[l], ind.Code)
		}
	}
	lastDay := p.End(nil).AddDate(0, 0, -1)
	var expected []*indicators.Agency
	for _, a := range s.registry.All() {
		if len(byLevel[a.Level()]) == 0 || !a.ActiveOn(lastDay) {
			continue
		}
		if f.Level != "" && a.Level() != f.Level {
			continue
		}
		if f.Within != "" && !s.registry.Within(a.Code, f.Within) {
			continue
		}
		expected = append(expected, a)
	}
	if len(expected) == 0 {
		return out, nil
	}
	// The page starts after the agency coded f.After; when it has gone from the
	// registry, at the agencies whose code sorts after it.
	inPage := func(i int) bool { return true }
	if f.After != "" {
		if at := slices.IndexFunc(expected, func(a *indicators.Agency) bool { return a.Code == f.After }); at >= 0 {
			inPage = func(i int) bool { return i > at }
		} else {
			inPage = func(i int) bool { return expected[i].Code > f.After }
		}
	}

	q := store.Query{Indicators: codes, From: p.Start(nil), To: p.End(nil), Kinds: []period.Kind{p.Kind}, Sources: ReportSources}
	step := max(1, s.agencyChunk)
	for start := 0; start < len(expected); start += step {
		chunk := expected[start:min(len(expected), start+step)]
		reports, err := s.reportsOf(ctx, q, p, chunk)
		if err != nil {
			return Completeness{}, err
		}
		for j, a := range chunk {
			r := reportOf(a, byLevel[a.Level()], reports[a.Code], deadline, now, loc)
			switch r.Status {
			case OnTime:
				out.OnTime++
			case Late:
				out.Late++
			case Pending:
				out.Pending++
			default:
				out.Missing++
			}
			if !inPage(start+j) || (f.Status != "" && r.Status != f.Status) {
				continue
			}
			if f.Limit > 0 && len(out.Agencies) == f.Limit {
				out.More = true
				continue
			}
			out.Agencies = append(out.Agencies, r)
		}
	}
	out.Expected = len(expected)
	out.Received = out.OnTime + out.Late
	out.ReportingRate = float64(out.Received) / float64(out.Expected)
	out.OnTimeRate = float64(out.OnTime) / float64(out.Expected)
	return out, nil
}

// received is what the store holds of one agency's report for a period.
type received struct {
	indicators map[string]bool
	first      time.Time
	revised    bool
}

// reportsOf reads the reports of a chunk of agencies for p: which indicators each has
// sent and when its first value arrived.
func (s *Service) reportsOf(ctx context.Context, q store.Query, p period.Period, chunk []*indicators.Agency) (map[string]*received, error) {
	q.Agencies = make([]string, len(chunk))
	for i, a := range chunk {
		q.Agencies[i] = a.Code
	}
	// Completeness is about receipt: a report counts once received, approved or not,
	// so it reads the stored figures whoever asks.
	latest, err := s.store.Observations(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("read reports for %s: %w", p, err)
	}
	reports := map[string]*received{}
	for _, o := range latest {
		if o.Period != p {
			continue
		}
		g := reports[o.Agency]
		if g == nil {
			g = &received{indicators: map[string]bool{}}
			reports[o.Agency] = g
		}
		g.indicators[o.Indicator] = true
		if g.first.IsZero() || o.ReceivedAt.Before(g.first) {
			g.first = o.ReceivedAt
		}
		g.revised = g.revised || o.Revision > 1
	}
	// A corrected value's latest revision arrived after the first one: the first
	// arrival is in the history, read only for the agencies that corrected something.
	var revised []string
	for code, g := range reports {
		if g.revised {
			revised = append(revised, code)
		}
	}
	if len(revised) > 0 {
		slices.Sort(revised)
		hq := q
		hq.Agencies, hq.History = revised, true
		hist, err := s.store.Observations(ctx, hq)
		if err != nil {
			return nil, fmt.Errorf("read report history for %s: %w", p, err)
		}
		for _, o := range hist {
			if g := reports[o.Agency]; g != nil && o.Period == p && o.ReceivedAt.Before(g.first) {
				g.first = o.ReceivedAt
			}
		}
	}
	return reports, nil
}

// reportOf is one agency's report: what it sent of the indicators its level reports,
// and its status against the deadline.
func reportOf(a *indicators.Agency, want []string, g *received, deadline, now time.Time, loc *time.Location) AgencyReport {
	r := AgencyReport{Agency: a.Code, NameVI: a.NameVI, NameEN: a.NameEN, Kind: a.Kind, IndicatorsExpected: len(want)}
	for _, c := range want {
		if g != nil && g.indicators[c] {
			r.IndicatorsReceived++
		} else {
			r.MissingIndicators = append(r.MissingIndicators, c)
		}
	}
	switch {
	case r.IndicatorsReceived > 0 && g.first.Before(deadline):
		r.Status = OnTime
	case r.IndicatorsReceived > 0:
		r.Status = Late
	case now.Before(deadline):
		r.Status = Pending
	default:
		r.Status = Missing
	}
	if r.IndicatorsReceived > 0 {
		t := g.first.In(loc)
		r.ReceivedAt = &t
	}
	return r
}
