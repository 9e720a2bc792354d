package feed_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/xuri/excelize/v2"

	"github.com/g-oc/goc/collectors/feed"
	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/internal/outbound"
	"github.com/g-oc/goc/internal/store"
	"github.com/g-oc/goc/internal/store/sqlite"
)

// now is the test's clock: mid-2026, so 2026-Q1 has ended and 2026-Q4 has not begun.
var now = time.Date(2026, 6, 15, 10, 0, 0, 0, time.UTC)

type env struct {
	store   *sqlite.Store
	puller  *feed.Puller
	metrics *feed.Metrics
}

func newEnv(t *testing.T) *env {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "goc.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	m := feed.NewMetrics(prometheus.NewRegistry())
	checker := feed.NewChecker(indicators.DefaultCatalogue(), indicators.DefaultRegistry(), time.FixedZone("ICT", 7*3600), func() time.Time { return now })
	// Every feed server of these tests is on loopback: allowed explicitly.
	return &env{store: st, metrics: m, puller: feed.NewPuller(feed.PullerOptions{Checker: checker, Writer: st, Metrics: m,
		Outbound: outbound.MustPolicy("127.0.0.1/32", "::1/128")})}
}

func (e *env) stored(t *testing.T) []indicators.Observation {
	t.Helper()
	obs, err := e.store.Observations(context.Background(), store.Query{History: true})
	if err != nil {
		t.Fatal(err)
	}
	return obs
}

func serve(t *testing.T, contentType string, body []byte) *httptest.Server {
	t.Helper()
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", contentType)
		w.Write(body)
	}))
	t.Cleanup(s.Close)
	return s
}

const goodJSON = `{"generated": "2026-06-01", "data": {"values": [
  {"kpi": "dossiers_fully_online", "unit": "P20", "period": "2026-Q1", "num": 5123, "den": 7410},
  {"kpi": "ops_level4_share", "unit": "BTC", "period": "2026Q1", "num": 54, "den": 107, "value": 50.47},
  {"kpi": "egdi_rank", "unit": "VN", "period": 2024, "value": 71}
]}}`

const goodCSV = "\xef\xbb\xbfIndicator,Agency,Period,Value,Numerator,Denominator\n" +
	"dossiers_fully_online,P20,2026-Q1,,5123,7410\n" +
	"ops_level4_share,BTC,2026-Q1,50.47,54,107\n" +
	",,,,,\n" +
	"egdi_rank,VN,2024,71,,\n"

const goodProm = `# HELP goc_kpi_dossiers_fully_online_numerator Dossiers processed fully online.
# TYPE goc_kpi_dossiers_fully_online_numerator gauge
goc_kpi_dossiers_fully_online_numerator{agency="P20",period="2026-Q1"} 5123
goc_kpi_dossiers_fully_online_denominator{agency="P20",period="2026-Q1"} 7410
goc_kpi_ops_level4_share_numerator{agency="BTC",period="2026-Q1"} 54
goc_kpi_ops_level4_share_denominator{agency="BTC",period="2026-Q1"} 107
goc_kpi_egdi_rank{agency="VN",period="2024"} 71
# Other families on the same page are not G-OC figures and are ignored.
process_cpu_seconds_total 12.5
`

func workbook(t *testing.T, sheet string, rows [][]any) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		t.Fatal(err)
	}
	for i, row := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow(sheet, cell, &row); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func goodXLSX(t *testing.T) []byte {
	return workbook(t, "KPI", [][]any{
		{"indicator", "agency", "period", "value", "numerator", "denominator"},
		{"dossiers_fully_online", "P20", "2026-Q1", nil, 5123, 7410},
		{"ops_level4_share", "BTC", "2026-Q1", 50.47, 54, 107},
		{"egdi_rank", "VN", "2024", 71, nil, nil},
	})
}

func jsonFeed(url string) *feed.Feed {
	return &feed.Feed{Name: "lang-son-kpi", URL: url, Format: feed.JSON, Records: "data.values",
		Fields: feed.Fields{Indicator: "kpi", Agency: "unit", Numerator: "num", Denominator: "den"}}
}

func TestEachFormatStoresEveryValue(t *testing.T) {
	tests := []struct {
		format feed.Format
		ctype  string
		body   func(t *testing.T) []byte
		feed   func(url string) *feed.Feed
	}{
		{feed.JSON, "application/json", func(*testing.T) []byte { return []byte(goodJSON) }, jsonFeed},
		{feed.CSV, "text/csv", func(*testing.T) []byte { return []byte(goodCSV) }, func(url string) *feed.Feed {
			return &feed.Feed{Name: "kpi-csv", URL: url, Format: feed.CSV}
		}},
		{feed.Prometheus, "text/plain; version=0.0.4", func(*testing.T) []byte { return []byte(goodProm) }, func(url string) *feed.Feed {
			return &feed.Feed{Name: "kpi-prom", URL: url, Format: feed.Prometheus, Records: "goc_kpi_"}
		}},
		{feed.XLSX, "application/octet-stream", goodXLSX, func(url string) *feed.Feed {
			return &feed.Feed{Name: "kpi-xlsx", URL: url, Format: feed.XLSX, Sheet: "KPI"}
		}},
	}
	for _, tt := range tests {
		t.Run(string(tt.format), func(t *testing.T) {
			e := newEnv(t)
			srv := serve(t, tt.ctype, tt.body(t))
			f := tt.feed(srv.URL)
			st, err := e.puller.Pull(context.Background(), f)
			if err != nil {
				t.Fatalf("pull: %v", err)
			}
			if st.LastResult != feed.ResultOK || st.Values != 3 || st.Written != 3 || st.Error != nil {
				t.Fatalf("status = %+v", st)
			}
			got := map[string]string{}
			for _, o := range e.stored(t) {
				if o.Source != indicators.FromFeed || o.Submitter != "feed:"+f.Name {
					t.Errorf("%s: source %s, submitter %s", o.Indicator, o.Source, o.Submitter)
				}
				s := fmt.Sprintf("%s %s %.2f", o.Agency, o.Period, o.Value)
				if o.Numerator != nil {
					s += fmt.Sprintf(" %g/%g", *o.Numerator, *o.Denominator)
				}
				got[o.Indicator] = s
			}
			want := map[string]string{
				"dossiers_fully_online": "P20 2026-Q1 69.14 5123/7410",
				"ops_level4_share":      "BTC 2026-Q1 50.47 54/107",
				"egdi_rank":             "VN 2024 71.00",
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("stored %v\nwant   %v", got, want)
			}
			if v := value(t, e.metrics.Written.WithLabelValues(f.Name)); v != 3 {
				t.Errorf("goc_feed_values_written_total = %v, want 3", v)
			}
			// The same payload again is a repeat: no new revision.
			st, err = e.puller.Pull(context.Background(), f)
			if err != nil || st.Written != 0 || len(e.stored(t)) != 3 {
				t.Errorf("second pull: err %v, written %d, %d rows stored", err, st.Written, len(e.stored(t)))
			}
		})
	}
}

func TestMalformedFeedChangesNothingAndSaysWhere(t *testing.T) {
	badXLSX := func(t *testing.T) []byte {
		return workbook(t, "KPI", [][]any{
			{"indicator", "agency", "period", "value", "numerator", "denominator"},
			{"dossiers_fully_online", "P20", "2026-Q1", nil, 5123, 7410},
			{"dossiers_fully_online", "P21", "2026-Q1", nil, "năm nghìn", 7410},
		})
	}
	tests := []struct {
		name   string
		feed   func(url string) *feed.Feed
		body   func(t *testing.T) []byte
		reason string
		where  string
		msg    string
	}{
		{"json syntax", jsonFeed, text(`{"data": {"values": [` + "\n" + `{"kpi": "egdi_rank",, "unit": "VN"}]}}`),
			feed.ReasonParse, "$", "invalid JSON at line 2, column 21"},
		{"json text where a number belongs", jsonFeed,
			text(`{"data": {"values": [{"kpi": "dossiers_fully_online", "unit": "P20", "period": "2026-Q1", "num": "5123", "den": 7410}]}}`),
			feed.ReasonInvalid, "data.values[0].num", "must be a number"},
		{"json list missing", jsonFeed, text(`{"values": []}`), feed.ReasonParse, "data.values", "not found"},
		{"one bad record spoils the feed", jsonFeed, text(`{"data": {"values": [
			{"kpi": "dossiers_fully_online", "unit": "P20", "period": "2026-Q1", "num": 5123, "den": 7410},
			{"kpi": "dossiers_fully_online", "unit": "P99", "period": "2026-Q1", "num": 10, "den": 20}]}}`),
			feed.ReasonInvalid, "data.values[1].unit", `agency "P99" is not in the registry`},
		{"numerator above denominator", jsonFeed, text(`{"data": {"values": [
			{"kpi": "dossiers_fully_online", "unit": "P20", "period": "2026-Q1", "num": 9000, "den": 7410}]}}`),
			feed.ReasonInvalid, "data.values[0].num", "numerator 9000 is larger than denominator 7410"},
		{"period not started", jsonFeed, text(`{"data": {"values": [
			{"kpi": "dossiers_fully_online", "unit": "P20", "period": "2026-Q4", "num": 1, "den": 2}]}}`),
			feed.ReasonInvalid, "data.values[0].period", "has not started yet"},
		{"wrong periodicity", jsonFeed, text(`{"data": {"values": [
			{"kpi": "dossiers_fully_online", "unit": "P20", "period": "2026-03", "num": 1, "den": 2}]}}`),
			feed.ReasonInvalid, "data.values[0].kpi", "is reported quarterly"},
		{"csv decimal comma", csvFeed, text("indicator,agency,period,value,numerator,denominator\ndossiers_fully_online,P20,2026-Q1,,\"5123,5\",7410\n"),
			feed.ReasonInvalid, "dòng/line 2, cột/column 5 (numerator)", "use a dot for decimals"},
		{"csv missing column", csvFeed, text("indicator,period,value\negdi_rank,2024,71\n"),
			feed.ReasonParse, "dòng/line 1", `column "agency" is missing`},
		{"csv out of bounds", csvFeed, text("indicator,agency,period,value\negdi_rank,VN,2024,250\n"),
			feed.ReasonInvalid, "dòng/line 2, cột/column 4 (value)", "outside the allowed range [1, 193]"},
		{"prometheus syntax", promFeed, text("goc_kpi_egdi_rank{agency=\"VN\",period=\"2024\"} 71\ngoc_kpi_egdi_rank{agency=\"VN\" 72\n"),
			feed.ReasonParse, "dòng/line 2", "invalid exposition"},
		{"prometheus missing denominator", promFeed, text("goc_kpi_dossiers_fully_online_numerator{agency=\"P20\",period=\"2026-Q1\"} 5\n"),
			feed.ReasonInvalid, `goc_kpi_dossiers_fully_online_numerator{agency="P20",period="2026-Q1"}`, "required for a ratio indicator"},
		{"xlsx text in a number cell", xlsxFeed, badXLSX, feed.ReasonInvalid, "KPI!E3", "must be a number"},
		{"xlsx that is not a workbook", xlsxFeed, text("PK not really a zip"), feed.ReasonParse, "", "not an Excel workbook"},
		{"xlsx without the sheet", func(url string) *feed.Feed { f := xlsxFeed(url); f.Sheet = "Data"; return f }, goodXLSX,
			feed.ReasonParse, "Data", "no such sheet"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			// An earlier good pull left a value; the bad payload must not touch it.
			earlier := serve(t, "application/json", []byte(`{"data": {"values": [
				{"kpi": "dossiers_fully_online", "unit": "P20", "period": "2026-Q1", "num": 4000, "den": 7410}]}}`))
			if _, err := e.puller.Pull(context.Background(), &feed.Feed{Name: "earlier", URL: earlier.URL, Format: feed.JSON,
				Records: "data.values", Fields: feed.Fields{Indicator: "kpi", Agency: "unit", Numerator: "num", Denominator: "den"}}); err != nil {
				t.Fatal(err)
			}
			before := e.stored(t)

			srv := serve(t, "application/octet-stream", tt.body(t))
			f := tt.feed(srv.URL)
			st, err := e.puller.Pull(context.Background(), f)
			if err == nil {
				t.Fatalf("pull accepted a bad payload: %+v", st)
			}
			if after := e.stored(t); len(after) != len(before) || after[0].Value != before[0].Value || after[0].Revision != 1 {
				t.Fatalf("the store changed: before %v, after %v", before, after)
			}
			fe := st.Error
			if fe == nil || fe.Reason != tt.reason || st.LastResult != feed.ResultError {
				t.Fatalf("status = %+v, want a %s error", st, tt.reason)
			}
			found := false
			for _, p := range fe.Problems {
				if p.Place.String() == tt.where && strings.Contains(p.Reason, tt.msg) {
					found = true
				}
			}
			if !found {
				t.Fatalf("problems %v, want one at %q saying …%s…", fe.Problems, tt.where, tt.msg)
			}
			if v := value(t, e.metrics.Errors.WithLabelValues(f.Name, tt.reason)); v != 1 {
				t.Errorf("goc_feed_errors_total{reason=%q} = %v, want 1", tt.reason, v)
			}
			if v := value(t, e.metrics.Failing.WithLabelValues(f.Name)); v != 1 {
				t.Errorf("goc_feed_failing = %v, want 1", v)
			}
		})
	}
}

// value reads one counter or gauge.
func value(t *testing.T, m prometheus.Metric) float64 {
	t.Helper()
	var d dto.Metric
	if err := m.Write(&d); err != nil {
		t.Fatal(err)
	}
	if d.Counter != nil {
		return d.Counter.GetValue()
	}
	return d.Gauge.GetValue()
}

func text(s string) func(*testing.T) []byte { return func(*testing.T) []byte { return []byte(s) } }

func csvFeed(url string) *feed.Feed { return &feed.Feed{Name: "kpi-csv", URL: url, Format: feed.CSV} }
func promFeed(url string) *feed.Feed {
	return &feed.Feed{Name: "kpi-prom", URL: url, Format: feed.Prometheus, Records: "goc_kpi_"}
}
func xlsxFeed(url string) *feed.Feed {
	return &feed.Feed{Name: "kpi-xlsx", URL: url, Format: feed.XLSX}
}

func TestUnchangedFeedIsAnsweredWithNotModified(t *testing.T) {
	for _, validator := range []string{"ETag", "Last-Modified"} {
		t.Run(validator, func(t *testing.T) {
			e := newEnv(t)
			var full, conditional atomic.Int32
			const etag, modified = `"v1"`, "Mon, 01 Jun 2026 00:00:00 GMT"
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Header.Get("If-None-Match") == etag || r.Header.Get("If-Modified-Since") == modified {
					conditional.Add(1)
					w.WriteHeader(http.StatusNotModified)
					return
				}
				full.Add(1)
				if validator == "ETag" {
					w.Header().Set("ETag", etag)
				} else {
					w.Header().Set("Last-Modified", modified)
				}
				w.Write([]byte(goodJSON))
			}))
			defer srv.Close()
			f := jsonFeed(srv.URL)
			for i, want := range []string{feed.ResultOK, feed.ResultNotModified, feed.ResultNotModified} {
				st, err := e.puller.Pull(context.Background(), f)
				if err != nil || st.LastResult != want {
					t.Fatalf("pull %d: result %q, err %v; want %q", i+1, st.LastResult, err, want)
				}
			}
			if full.Load() != 1 || conditional.Load() != 2 {
				t.Errorf("%d full and %d conditional requests, want 1 and 2", full.Load(), conditional.Load())
			}
			if v := value(t, e.metrics.Runs.WithLabelValues(f.Name, feed.ResultNotModified)); v != 2 {
				t.Errorf("goc_feed_pulls_total{result=not_modified} = %v, want 2", v)
			}
		})
	}
}

func TestSizeAndTimeLimitsAreEnforced(t *testing.T) {
	big := []byte(`{"data": {"values": [` + strings.Repeat(" ", 4096) + `]}}`)
	declared := serve(t, "application/json", big)
	chunked := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i < len(big); i += 512 { // no Content-Length: the limit bites while reading
			w.Write(big[i:min(i+512, len(big))])
			w.(http.Flusher).Flush()
		}
	}))
	defer chunked.Close()
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(3 * time.Second):
		case <-r.Context().Done():
		}
	}))
	defer slow.Close()
	broken := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "maintenance", http.StatusServiceUnavailable)
	}))
	defer broken.Close()
	tests := []struct {
		name, url, reason, msg string
	}{
		{"declared too large", declared.URL, feed.ReasonTooLarge, "exceeds the 1024-byte limit"},
		{"streamed too large", chunked.URL, feed.ReasonTooLarge, "exceeds the 1024-byte limit"},
		{"too slow", slow.URL, feed.ReasonTimeout, "took longer than 300ms"},
		{"error status", broken.URL, feed.ReasonStatus, "503 Service Unavailable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			f := jsonFeed(tt.url)
			f.MaxBytes, f.Timeout = 1024, 300*time.Millisecond
			start := time.Now()
			st, err := e.puller.Pull(context.Background(), f)
			if err == nil || st.Error.Reason != tt.reason || !strings.Contains(st.Error.Message, tt.msg) {
				t.Fatalf("status %+v, err %v; want %s …%s…", st, err, tt.reason, tt.msg)
			}
			if time.Since(start) > 2*time.Second {
				t.Errorf("pull took %s", time.Since(start))
			}
			if len(e.stored(t)) != 0 {
				t.Error("something was stored")
			}
		})
	}
}

func TestFeedRedirectedToAnotherLoopbackPortIsRefusedAndShowsNothingOfIt(t *testing.T) {
	internal := serve(t, "text/csv", []byte("secret_column,internal_only\n1,2\n"))
	start := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, internal.URL+"/internal.csv", http.StatusFound)
	}))
	t.Cleanup(start.Close)
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "goc.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	checker := feed.NewChecker(indicators.DefaultCatalogue(), indicators.DefaultRegistry(), time.FixedZone("ICT", 7*3600), func() time.Time { return now })
	// Only the feed's own address is allowed; its URL carries a password and a key.
	puller := feed.NewPuller(feed.PullerOptions{Checker: checker, Writer: st, Outbound: outbound.MustPolicy(start.Listener.Addr().String())})
	u := strings.Replace(start.URL, "http://", "http://officer:hunter2@", 1) + "/kpi.csv?api_key=topsecret&year=2026"
	status, err := puller.Pull(context.Background(), &feed.Feed{Name: "redirected", URL: u, Format: feed.CSV})
	if err == nil || status.Error == nil || !strings.Contains(status.Error.Message, "not in outbound.allow") {
		t.Fatalf("pull redirected to %s: %v, want refused as not allowed", internal.URL, err)
	}
	shown, _ := json.Marshal(puller.Statuses())
	for _, leak := range []string{"secret_column", "hunter2", "topsecret"} {
		if strings.Contains(string(shown), leak) {
			t.Errorf("feed status shows %q: %s", leak, shown)
		}
	}
	if !strings.Contains(string(shown), "api_key=REDACTED") {
		t.Errorf("feed status URL not shown redacted: %s", shown)
	}
}
