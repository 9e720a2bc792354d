package intake_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/xuri/excelize/v2"

	"github.com/g-oc/goc/collectors/feed"
	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/internal/api"
	"github.com/g-oc/goc/internal/auth"
	"github.com/g-oc/goc/internal/intake"
	"github.com/g-oc/goc/internal/metrics"
	"github.com/g-oc/goc/internal/outbound"
	"github.com/g-oc/goc/internal/query"
	"github.com/g-oc/goc/internal/store"
	"github.com/g-oc/goc/internal/store/sqlite"
	"github.com/g-oc/goc/internal/submission"
)

// sourceRow is one value as every source sends it.
type sourceRow struct {
	indicator              string
	value                  string // "" when not sent
	numerator, denominator string
}

// One set of rows goes through every way a value comes in, each into its own real
// SQLite store: a KPI feed pulled over HTTP (CSV and Prometheus text), API submissions
// (JSON, CSV, XLSX table, the Excel template) and the bulk importer (CSV and XLSX).
// Every source must give the same verdict and store the same figures.
func TestEverySourceGivesTheSameVerdictAndStoresTheSameValues(t *testing.T) {
	good := []sourceRow{
		// The typed 69.1 is within tolerance of 5123/7410: checked, not stored.
		{"dossiers_fully_online", "69.1", "5123", "7410"},
		{"work_records_online", "", "40", "100"},
	}
	bad := []sourceRow{
		{"dossiers_fully_online", "", "5123", "7410"},
		{"work_records_online", "", "130", "100"}, // numerator above denominator
	}
	fraction := []sourceRow{
		{"dossiers_fully_online", "", "40.5", "100"}, // a count that is not whole
	}
	num, den := 5123.0, 7410.0 // computed at run time, as the validator does
	want := []string{
		fmt.Sprintf("dossiers_fully_online P20 2026-Q3 %v 5123/7410", num/den*100),
		"work_records_online P20 2026-Q3 40 40/100",
	}
	sources := sourcesUnderTest(t)
	for _, tc := range []struct {
		name string
		rows []sourceRow
		want []string // stored; nil for a refusal
		rule string   // the rule every source refuses with
	}{
		{"good rows", good, want, ""},
		{"numerator above denominator", bad, nil, "numerator_above_denominator"},
		{"fractional numerator", fraction, nil, "not_whole"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, src := range sources {
				t.Run(src.name, func(t *testing.T) {
					st := openStore(t)
					rules, err := src.send(t, st, tc.rows)
					if err != nil {
						t.Fatalf("%s: %v", src.name, err)
					}
					if got := storedValues(t, st); !slices.Equal(got, tc.want) {
						t.Errorf("stored %q\nwant   %q", got, tc.want)
					}
					if tc.rule == "" && len(rules) != 0 {
						t.Errorf("refused with %v", rules)
					}
					if tc.rule != "" && !slices.Contains(rules, tc.rule) {
						t.Errorf("rules %v, want %s", rules, tc.rule)
					}
				})
			}
		})
	}
}

type source struct {
	name string
	// send delivers the rows for P20, 2026-Q3 and returns the rules of every problem.
	send func(t *testing.T, st *sqlite.Store, rows []sourceRow) ([]string, error)
}

var sourcesNow = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

func openStore(t *testing.T) *sqlite.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "goc.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func storedValues(t *testing.T, st *sqlite.Store) []string {
	t.Helper()
	obs, err := st.Observations(context.Background(), store.Query{})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, o := range obs {
		s := fmt.Sprintf("%s %s %s %v", o.Indicator, o.Agency, o.Period, o.Value)
		if o.Numerator != nil {
			s += fmt.Sprintf(" %v/%v", *o.Numerator, *o.Denominator)
		}
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

func csvOf(rows []sourceRow, sep string) string {
	var b strings.Builder
	b.WriteString(strings.Join([]string{"agency", "period", "indicator", "value", "numerator", "denominator"}, sep) + "\n")
	num := func(s string) string {
		if sep == ";" {
			return strings.ReplaceAll(s, ".", ",") // a Vietnamese Excel writes decimal commas
		}
		return s
	}
	for _, r := range rows {
		b.WriteString(strings.Join([]string{"P20", "2026-Q3", r.indicator, num(r.value), num(r.numerator), num(r.denominator)}, sep) + "\n")
	}
	return b.String()
}

func tableXLSX(t *testing.T, rows []sourceRow) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	f.SetSheetRow("Sheet1", "A1", &[]any{"agency", "period", "indicator", "value", "numerator", "denominator"})
	num := func(s string) any {
		if s == "" {
			return nil
		}
		var x float64
		fmt.Sscan(s, &x)
		return x
	}
	for i, r := range rows {
		f.SetSheetRow("Sheet1", fmt.Sprintf("A%d", i+2), &[]any{"P20", "2026-Q3", r.indicator, num(r.value), num(r.numerator), num(r.denominator)})
	}
	var b bytes.Buffer
	if err := f.Write(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// templateXLSX fills P20's 2026-Q3 template: the rows given, "no data" for the others.
func templateXLSX(t *testing.T, rows []sourceRow) []byte {
	b, spec := makeTemplate(t, "P20", "2026-Q3")
	return fill(t, b, func(f *excelize.File) {
		given := map[string]sourceRow{}
		for _, r := range rows {
			given[r.indicator] = r
		}
		for _, ind := range spec.Indicators {
			row := rowOf(t, f, ind.Code)
			r, ok := given[ind.Code]
			if !ok {
				f.SetCellStr(intake.SheetData, cell(intake.TemplateColStatus, row), intake.StatusNoData)
				continue
			}
			for col, s := range map[int]string{intake.TemplateColValue: r.value, intake.TemplateColNumerator: r.numerator, intake.TemplateColDenominator: r.denominator} {
				if s != "" {
					var x float64
					fmt.Sscan(s, &x)
					setNum(t, f, col, row, x)
				}
			}
		}
	})
}

func promOf(rows []sourceRow) string {
	var b strings.Builder
	for _, r := range rows {
		labels := `{agency="P20",period="2026-Q3"}`
		for suffix, s := range map[string]string{"": r.value, "_numerator": r.numerator, "_denominator": r.denominator} {
			if s != "" {
				fmt.Fprintf(&b, "goc_kpi_%s%s%s %s\n", r.indicator, suffix, labels, s)
			}
		}
	}
	return b.String()
}

func sourcesUnderTest(t *testing.T) []source {
	cat, reg := indicators.DefaultCatalogue(), indicators.DefaultRegistry()
	clock := func() time.Time { return sourcesNow }

	pull := func(format feed.Format, records string, body func([]sourceRow) string) func(*testing.T, *sqlite.Store, []sourceRow) ([]string, error) {
		return func(t *testing.T, st *sqlite.Store, rows []sourceRow) ([]string, error) {
			payload := body(rows)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, payload) }))
			defer srv.Close()
			p := feed.NewPuller(feed.PullerOptions{Checker: feed.NewChecker(cat, reg, time.UTC, clock), Writer: st,
				Metrics: feed.NewMetrics(prometheus.NewRegistry()), Outbound: outbound.MustPolicy(srv.Listener.Addr().String())})
			status, _ := p.Pull(context.Background(), &feed.Feed{Name: "kpi", URL: srv.URL, Format: format, Records: records})
			var rules []string
			if status.Error != nil {
				for _, pr := range status.Error.Problems {
					rules = append(rules, pr.Rule)
				}
				if len(rules) == 0 {
					return nil, fmt.Errorf("feed error without problems: %s", status.Error.Message)
				}
			}
			return rules, nil
		}
	}

	post := func(contentType string, body func(*testing.T, []sourceRow) []byte) func(*testing.T, *sqlite.Store, []sourceRow) ([]string, error) {
		return func(t *testing.T, st *sqlite.Store, rows []sourceRow) ([]string, error) {
			tok, err := auth.NewToken()
			if err != nil {
				return nil, err
			}
			tokens, err := auth.NewTokens([]auth.Entry{{Name: "lang-son", Agency: "P20", SHA256: auth.Hash(tok)}})
			if err != nil {
				return nil, err
			}
			s := api.New(api.Options{Query: query.New(st, cat, reg, clock), Writer: st, Pinger: st, Auth: tokens,
				Metrics: metrics.New(), Now: clock, Location: time.UTC})
			srv := httptest.NewServer(s.Handler())
			defer srv.Close()
			req, _ := http.NewRequest(http.MethodPost, srv.URL+"/api/v1/submissions", bytes.NewReader(body(t, rows)))
			req.Header.Set("Authorization", "Bearer "+tok)
			req.Header.Set("Content-Type", contentType)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return nil, err
			}
			defer resp.Body.Close()
			var answer struct {
				Problems []intake.Problem `json:"problems"`
			}
			if err := decodeJSON(resp.Body, &answer); err != nil {
				return nil, err
			}
			var rules []string
			for _, p := range answer.Problems {
				rules = append(rules, p.Rule)
			}
			switch {
			case resp.StatusCode == http.StatusCreated && len(rules) == 0:
			case resp.StatusCode == http.StatusUnprocessableEntity && len(rules) > 0:
			default:
				return nil, fmt.Errorf("status %d with problems %v", resp.StatusCode, answer.Problems)
			}
			return rules, nil
		}
	}

	bulk := func(format intake.Format, body func(*testing.T, []sourceRow) []byte) func(*testing.T, *sqlite.Store, []sourceRow) ([]string, error) {
		return func(t *testing.T, st *sqlite.Store, rows []sourceRow) ([]string, error) {
			b := body(t, rows)
			res, err := submission.Import(context.Background(), submission.ImportOptions{
				Rules: intake.Rules{Catalogue: cat, Registry: reg, Location: time.UTC, Now: sourcesNow},
				Read: func(h intake.Handler) error {
					return intake.Read(context.Background(), format, bytes.NewReader(b), int64(len(b)), intake.Options{Catalogue: cat, Registry: reg}, h)
				},
				Begin:  func(ctx context.Context) (submission.Loader, error) { return st.BeginBulk(ctx) },
				Writer: st, Submitter: "goc-import",
			})
			var rules []string
			for _, p := range res.Problems {
				rules = append(rules, p.Rule)
			}
			return rules, err
		}
	}

	text := func(f func([]sourceRow) string) func(*testing.T, []sourceRow) []byte {
		return func(_ *testing.T, rows []sourceRow) []byte { return []byte(f(rows)) }
	}
	commaCSV := func(rows []sourceRow) string { return csvOf(rows, ",") }
	semicolonCSV := func(rows []sourceRow) string { return csvOf(rows, ";") }
	jsonBody := func(rows []sourceRow) string {
		var items []string
		for _, r := range rows {
			parts := []string{fmt.Sprintf(`"indicator":%q`, r.indicator)}
			for k, s := range map[string]string{"value": r.value, "numerator": r.numerator, "denominator": r.denominator} {
				if s != "" {
					parts = append(parts, fmt.Sprintf("%q:%s", k, s))
				}
			}
			items = append(items, "{"+strings.Join(parts, ",")+"}")
		}
		return `{"agency":"P20","period":"2026-Q3","values":[` + strings.Join(items, ",") + `]}`
	}
	return []source{
		{"feed CSV", pull(feed.CSV, "", commaCSV)},
		{"feed Prometheus", pull(feed.Prometheus, "goc_kpi_", promOf)},
		{"API JSON", post(api.ContentTypeJSON, text(jsonBody))},
		{"API CSV", post(api.ContentTypeCSV, text(commaCSV))},
		{"API CSV, Vietnamese Excel", post(api.ContentTypeCSV, text(semicolonCSV))},
		{"API XLSX table", post(api.ContentTypeXLSX, tableXLSX)},
		{"API template", post(api.ContentTypeXLSX, templateXLSX)},
		{"bulk import CSV", bulk(intake.CSV, text(commaCSV))},
		{"bulk import XLSX", bulk(intake.XLSX, tableXLSX)},
	}
}

func decodeJSON(r io.Reader, v any) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%w: %s", err, b)
	}
	return nil
}
