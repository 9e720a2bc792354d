package opendata_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/internal/demo"
	"github.com/g-oc/goc/internal/opendata"
	"github.com/g-oc/goc/internal/query"
	"github.com/g-oc/goc/internal/store/sqlite"
)

// A reader finds the licence on the page and on every file, and an indicator's stable
// URL leads to the newest release's file of it.
func TestOpenDataPagesNameTheLicenceAndLeadToTheNewestRelease(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "goc.db"), sqlite.WithAutoApprove(true))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cat, reg := indicators.DefaultCatalogue(), indicators.DefaultRegistry()
	if _, err := st.WriteObservations(ctx, demo.History(cat, reg, testNow)); err != nil {
		t.Fatal(err)
	}
	q := query.New(st, cat, reg, func() time.Time { return testNow }).PublicView()
	lic := opendata.Licence{Name: "CC0-1.0", Title: "CC0 1.0", Path: "https://creativecommons.org/publicdomain/zero/1.0/"}
	srv := httptest.NewServer(opendata.NewServer(opendata.ServerOptions{Query: q, Dir: t.TempDir(), Licence: lic, FiguresVersion: st.FiguresVersion}))
	defer srv.Close()
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(path string) (*http.Response, string) {
		t.Helper()
		resp, err := noFollow.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if want := "<" + lic.Path + `>; rel="license"`; resp.Header.Get("Link") != want {
			t.Errorf("GET %s: Link %q, want %q", path, resp.Header.Get("Link"), want)
		}
		return resp, string(b)
	}
	resp, page := get("/opendata/")
	if resp.StatusCode != 200 || !strings.Contains(page, "CC0 1.0 (CC0-1.0)") || !strings.Contains(page, "observations") {
		t.Fatalf("index: %d\n%s", resp.StatusCode, page)
	}
	resp, _ = get("/opendata/indicators/dossiers_fully_online.csv")
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusFound || !strings.HasPrefix(loc, "/opendata/releases/") {
		t.Fatalf("indicator URL: %d → %q", resp.StatusCode, loc)
	}
	resp, csv := get(loc)
	if resp.StatusCode != 200 || !strings.HasPrefix(csv, "indicator,agency,period,") || !strings.Contains(resp.Header.Get("Cache-Control"), "immutable") {
		t.Errorf("release file: %d %q %.60s", resp.StatusCode, resp.Header.Get("Cache-Control"), csv)
	}
	if resp, _ := get("/opendata/indicators/no_such.csv"); resp.StatusCode != 404 {
		t.Errorf("unknown indicator: %d, want 404", resp.StatusCode)
	}
	_, desc := get("/opendata/datapackage.json")
	if !strings.Contains(desc, `"CC0-1.0"`) {
		t.Errorf("datapackage.json does not name the configured licence")
	}
}
