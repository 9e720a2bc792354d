package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

type obsPage struct {
	Observations []struct {
		Indicator     string   `json:"indicator"`
		Agency        string   `json:"agency"`
		Period        string   `json:"period"`
		Revision      int      `json:"revision"`
		PreviousValue *float64 `json:"previous_value"`
	} `json:"observations"`
	Count   int    `json:"count"`
	Limit   int    `json:"limit"`
	Next    string `json:"next"`
	NextURL string `json:"next_url"`
}

// walk follows next_url from path and returns every item key and the pages seen.
func walkObservations(t *testing.T, f *fixture, path string) (keys []string, prev map[string]bool, pages int) {
	t.Helper()
	prev = map[string]bool{}
	for path != "" {
		var pg obsPage
		if code := f.get(t, path, &pg); code != http.StatusOK {
			t.Fatalf("GET %s: %d", path, code)
		}
		if pg.Count != len(pg.Observations) || pg.Count > pg.Limit {
			t.Fatalf("GET %s: count %d for %d observations, limit %d", path, pg.Count, len(pg.Observations), pg.Limit)
		}
		for _, o := range pg.Observations {
			k := fmt.Sprintf("%s/%s/%s r%d", o.Indicator, o.Agency, o.Period, o.Revision)
			keys = append(keys, k)
			prev[k] = o.PreviousValue != nil
		}
		pages++
		if pages > 1000 {
			t.Fatal("more than 1000 pages")
		}
		path = pg.NextURL
	}
	return keys, prev, pages
}

func TestObservationsHistoryComesInBoundedPagesWhoseCursorWalksEverythingOnce(t *testing.T) {
	f := newFixture(t, true)
	// Revisions, so that history pages have previous values to carry across a boundary.
	for _, v := range []string{"510", "514", "517"} {
		if code, body := f.submit(t, f.tokens["P20"], `{"agency":"P20","period":"2026-Q3","values":[{"indicator":"dossiers_fully_online","numerator":`+v+`,"denominator":1000}]}`); code != 201 {
			t.Fatalf("submit: %d %v", code, body)
		}
	}
	total := f.count(t)
	var first obsPage
	f.get(t, "/api/v1/observations?history=true", &first)
	if first.Count != 1000 || first.Limit != 1000 || first.Next == "" {
		t.Fatalf("default page: %d observations, limit %d, next %q; want 1000 of %d and a cursor", first.Count, first.Limit, first.Next, total)
	}
	keys, _, pages := walkObservations(t, f, "/api/v1/observations?history=true&limit=5000")
	if len(keys) != total {
		t.Fatalf("pages of 5000 gave %d observations, the store holds %d", len(keys), total)
	}
	seen := map[string]bool{}
	for _, k := range keys {
		if seen[k] {
			t.Fatalf("%s came twice", k)
		}
		seen[k] = true
	}
	if want := (total + 4999) / 5000; pages != want {
		t.Errorf("%d pages, want %d", pages, want)
	}
	// Pages of one observation: the previous value of each revision is still given when
	// the revision before it ended the previous page.
	small, prev, _ := walkObservations(t, f, "/api/v1/observations?history=true&agency=P20&indicator=dossiers_fully_online&from=2026-Q3&to=2026-Q3&limit=1")
	if len(small) < 3 {
		t.Fatalf("history of P20 2026-Q3: %v", small)
	}
	for _, k := range small {
		if !strings.HasSuffix(k, " r1") && !prev[k] {
			t.Errorf("%s: no previous_value across a page boundary", k)
		}
	}
}

func TestPageParametersAreCheckedAndNamed(t *testing.T) {
	f := newFixture(t, false)
	for _, path := range []string{
		"/api/v1/observations?limit=0", "/api/v1/observations?limit=5001", "/api/v1/observations?limit=ten",
		"/api/v1/observations?cursor=%21%21", "/api/v1/observations?cursor=e30", // {} is not a key
		"/api/v1/agencies?limit=-1", "/api/v1/probes?limit=100000", "/api/v1/feeds?cursor=@@",
		"/api/v1/completeness?period=2025-Q1&limit=0",
	} {
		var body struct {
			Problems []struct{ Field string } `json:"problems"`
		}
		code := f.get(t, path, &body)
		if code != 400 || len(body.Problems) == 0 || (body.Problems[0].Field != "limit" && body.Problems[0].Field != "cursor") {
			t.Errorf("GET %s: %d %+v, want 400 naming limit or cursor", path, code, body.Problems)
		}
	}
}

func TestAgenciesComeInPagesInRegistryOrder(t *testing.T) {
	f := newFixture(t, false)
	var all struct {
		Agencies []struct{ Code string } `json:"agencies"`
	}
	f.get(t, "/api/v1/agencies?limit=5000", &all)
	var walked []string
	path := "/api/v1/agencies?limit=7"
	for path != "" {
		var pg struct {
			Agencies []struct{ Code string } `json:"agencies"`
			NextURL  string                  `json:"next_url"`
		}
		f.get(t, path, &pg)
		if len(pg.Agencies) > 7 {
			t.Fatalf("page of %d agencies, limit 7", len(pg.Agencies))
		}
		for _, a := range pg.Agencies {
			walked = append(walked, a.Code)
		}
		path = pg.NextURL
	}
	if len(walked) != len(all.Agencies) || len(walked) < 100 {
		t.Fatalf("walked %d agencies in pages of 7, %d in one page", len(walked), len(all.Agencies))
	}
	for i := range walked {
		if walked[i] != all.Agencies[i].Code {
			t.Fatalf("agency %d: %s in pages, %s in one page", i, walked[i], all.Agencies[i].Code)
		}
	}
}
