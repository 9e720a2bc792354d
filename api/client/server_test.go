package client_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/g-oc/goc/api/client"
	"github.com/g-oc/goc/api/contract"
	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/internal/api"
	"github.com/g-oc/goc/internal/apiparts"
	"github.com/g-oc/goc/internal/auth"
	"github.com/g-oc/goc/internal/demo"
	"github.com/g-oc/goc/internal/metrics"
	"github.com/g-oc/goc/internal/query"
	"github.com/g-oc/goc/internal/store/sqlite"
)

// realServer is G-OC's API over a real SQLite file holding the demo history, on
// loopback, with every exchange checked against api/openapi.yaml; it returns its URL
// and an officer token of P20.
func realServer(t *testing.T) (string, string) {
	t.Helper()
	ctx := context.Background()
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "goc.db"), sqlite.WithAutoApprove(true))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	cat, reg := indicators.DefaultCatalogue(), indicators.DefaultRegistry()
	if _, err := st.WriteObservations(ctx, demo.History(cat, reg, now)); err != nil {
		t.Fatal(err)
	}
	tok, err := auth.NewToken()
	if err != nil {
		t.Fatal(err)
	}
	tokens, err := auth.NewTokens([]auth.Entry{{Name: "officer-P20", Agency: "P20", SHA256: auth.Hash(tok)}})
	if err != nil {
		t.Fatal(err)
	}
	clock := func() time.Time { return now }
	s := api.New(api.Options{Query: query.New(st, cat, reg, clock), Writer: st, Pinger: st, Auth: tokens,
		Metrics: metrics.New(), Now: clock, Workbooks: apiparts.Workbooks{}})
	srv := httptest.NewServer(contract.Check(t, s.Handler()))
	t.Cleanup(srv.Close)
	return srv.URL, tok
}

// TestGeneratedClientReadsEveryAnswerOfARealServer: each read a caller of G-OC makes
// comes back typed, with figures as float64 and nullable fields as pointers, and a
// JSON submission (values as numbers, the oneOf of the description) is stored and
// receipted; a bad one is refused with each problem's place in the error.
func TestGeneratedClientReadsEveryAnswerOfARealServer(t *testing.T) {
	base, tok := realServer(t)
	ctx := context.Background()
	c, err := client.New(base, client.Options{Token: tok, Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	ok := func(name string, hr *http.Response, body []byte, typed bool) {
		t.Helper()
		if err := client.Check(hr, body); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !typed {
			t.Fatalf("%s: 200 but no typed answer: %.200s", name, body)
		}
	}

	inds, err := c.ListIndicatorsWithResponse(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ok("indicators", inds.HTTPResponse, inds.Body, inds.JSON200 != nil)
	if len(inds.JSON200.Indicators) < 20 {
		t.Errorf("%d indicators", len(inds.JSON200.Indicators))
	}

	ags, err := c.ListAgenciesWithResponse(ctx, &client.ListAgenciesParams{Limit: ptr(5)})
	if err != nil {
		t.Fatal(err)
	}
	ok("agencies", ags.HTTPResponse, ags.Body, ags.JSON200 != nil)
	if len(ags.JSON200.Agencies) != 5 || ags.JSON200.Next == nil {
		t.Errorf("a page of 5 agencies with a next cursor: %d, next %v", len(ags.JSON200.Agencies), ags.JSON200.Next)
	}

	obs, err := c.ListObservationsWithResponse(ctx, &client.ListObservationsParams{Indicator: ptr("dossiers_fully_online"),
		Agency: ptr("P20"), From: ptr("2025"), To: ptr("2025")})
	if err != nil {
		t.Fatal(err)
	}
	ok("observations", obs.HTTPResponse, obs.Body, obs.JSON200 != nil)
	if len(obs.JSON200.Observations) == 0 {
		t.Fatalf("no observations of P20 in 2025: %.300s", obs.Body)
	}
	// A figure keeps its decimals: the typed value is the value the server sent.
	var raw struct {
		Observations []struct {
			Value float64 `json:"value"`
		} `json:"observations"`
	}
	if err := json.Unmarshal(obs.Body, &raw); err != nil {
		t.Fatal(err)
	}
	if v := obs.JSON200.Observations[0].Value; v != raw.Observations[0].Value {
		t.Errorf("typed value %v, sent %v", v, raw.Observations[0].Value)
	}

	prog, err := c.GetProgressWithResponse(ctx, &client.GetProgressParams{Indicator: "dossiers_fully_online", Agency: ptr("P20"), Year: ptr(2025)})
	if err != nil {
		t.Fatal(err)
	}
	ok("progress", prog.HTTPResponse, prog.Body, prog.JSON200 != nil)

	rank, err := c.GetRankingsWithResponse(ctx, &client.GetRankingsParams{Group: "provinces", Period: ptr("2025"), Include: ptr("provenance,trends")})
	if err != nil {
		t.Fatal(err)
	}
	ok("rankings", rank.HTTPResponse, rank.Body, rank.JSON200 != nil)
	if e := rank.JSON200.Entries; e == nil || len(*e) < 30 {
		t.Errorf("provinces ranked: %.300s", rank.Body)
	}

	card, err := c.GetAgencyCardWithResponse(ctx, "P20")
	if err != nil {
		t.Fatal(err)
	}
	ok("card", card.HTTPResponse, card.Body, card.JSON200 != nil)

	series, err := c.GetSeriesWithResponse(ctx, &client.GetSeriesParams{Indicator: "dossiers_fully_online", Agency: ptr("P20")})
	if err != nil {
		t.Fatal(err)
	}
	ok("series", series.HTTPResponse, series.Body, series.JSON200 != nil)

	comp, err := c.GetCompletenessWithResponse(ctx, &client.GetCompletenessParams{Period: "2026-Q3"})
	if err != nil {
		t.Fatal(err)
	}
	ok("completeness", comp.HTTPResponse, comp.Body, comp.JSON200 != nil)

	probes, err := c.ListProbesWithResponse(ctx, &client.ListProbesParams{})
	if err != nil {
		t.Fatal(err)
	}
	ok("probes", probes.HTTPResponse, probes.Body, probes.JSON200 != nil)

	who, err := c.WhoamiWithResponse(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ok("whoami", who.HTTPResponse, who.Body, who.JSON200 != nil)
	if who.JSON200.Agency != "P20" {
		t.Errorf("whoami %+v", who.JSON200)
	}

	tpl, err := c.GetTemplateWithResponse(ctx, &client.GetTemplateParams{Agency: "P20", Period: "2026-Q4"})
	if err != nil {
		t.Fatal(err)
	}
	if err := client.Check(tpl.HTTPResponse, tpl.Body); err != nil || !strings.HasPrefix(string(tpl.Body), "PK") {
		t.Fatalf("template: %v, %.4q", err, tpl.Body)
	}

	var good client.SubmissionBody
	if err := json.Unmarshal([]byte(`{"agency":"P20","period":"2026-Q4","values":[
		{"indicator":"dossiers_fully_online","numerator":540,"denominator":1000}]}`), &good); err != nil {
		t.Fatal(err)
	}
	sub, err := c.PostSubmissionWithResponse(ctx, &client.PostSubmissionParams{IdempotencyKey: ptr("client-test-1")}, good)
	if err != nil {
		t.Fatal(err)
	}
	if sub.StatusCode() != http.StatusCreated || sub.JSON201 == nil || sub.JSON201.Created != 1 || sub.JSON201.Agency != "P20" {
		t.Fatalf("submission: %d %s", sub.StatusCode(), sub.Body)
	}

	var bad client.SubmissionBody
	if err := json.Unmarshal([]byte(`{"agency":"P20","period":"2026-Q4","values":[
		{"indicator":"work_records_online","value":"ninety"}]}`), &bad); err != nil {
		t.Fatal(err)
	}
	sub, err = c.PostSubmissionWithResponse(ctx, &client.PostSubmissionParams{}, bad)
	if err != nil {
		t.Fatal(err)
	}
	err = client.Check(sub.HTTPResponse, sub.Body)
	if client.StatusOf(err) != http.StatusUnprocessableEntity || !strings.Contains(err.Error(), "values[0].value: ") {
		t.Fatalf("a bad submission: %v", err)
	}
}
