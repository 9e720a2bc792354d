package api_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	spec "github.com/g-oc/goc/api"
	"github.com/g-oc/goc/api/contract"
	"github.com/g-oc/goc/internal/web/webtest"
)

func TestOpenAPIDescriptionIsServedAsWritten(t *testing.T) {
	f := newFixture(t, false)
	resp, err := http.Get(f.srv.URL + "/api/v1/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/yaml") {
		t.Fatalf("GET /api/v1/openapi.yaml: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	onDisk, err := os.ReadFile("../../api/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(body, onDisk) || !bytes.Equal(body, spec.OpenAPI()) {
		t.Error("the served description differs from api/openapi.yaml")
	}
	if !bytes.HasPrefix(body, []byte("openapi: 3.1")) {
		t.Errorf("not an OpenAPI 3.1 document: %.40s", body)
	}
}

// Every route the API's mux serves is in the description, and every path of the
// description is served: a new route cannot ship undescribed.
func TestEveryRouteIsDescribed(t *testing.T) {
	doc, err := contract.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile("api.go")
	if err != nil {
		t.Fatal(err)
	}
	described := map[string]bool{}
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			described[method+" "+path] = true
		}
	}
	served := map[string]bool{}
	for _, line := range strings.Split(string(src), "\n") {
		line = strings.TrimSpace(line)
		for _, prefix := range []string{`route("`, `mux.Handle("`} {
			if rest, ok := strings.CutPrefix(line, prefix); ok {
				pattern, _, _ := strings.Cut(rest, `"`)
				if method, path, ok := strings.Cut(pattern, " "); ok {
					if path == "/api/docs/" {
						path = "/api/docs/{file}"
					}
					served[method+" "+path] = true
				}
			}
		}
	}
	if len(served) < 25 {
		t.Fatalf("found only %d routes in api.go; has the route table moved?", len(served))
	}
	for r := range served {
		if !described[r] {
			t.Errorf("%s is served but not described in api/openapi.yaml", r)
		}
	}
	for r := range described {
		if !served[r] {
			t.Errorf("%s is described in api/openapi.yaml but not served", r)
		}
	}
}

// The docs page renders the description with the vendored Swagger UI in a real
// browser, under the pages' Content-Security-Policy, with nothing fetched from
// elsewhere: every operation of the description shows.
func TestDocsPageShowsEveryOperationInABrowser(t *testing.T) {
	f := newFixture(t, false)
	doc, err := contract.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ops := 0
	for _, item := range doc.Paths.Map() {
		ops += len(item.Operations())
	}
	b := webtest.Start(t)
	tab := b.Open(t, f.srv.URL+"/api/docs", webtest.Desktop)
	if tab.Status() != http.StatusOK {
		t.Fatalf("GET /api/docs: %d", tab.Status())
	}
	ctx, cancel := context.WithTimeout(tab.Ctx, 60*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.WaitVisible[string](".opblock")); err != nil {
		t.Fatalf("Swagger UI did not render: %v; problems: %v", err, tab.Problems())
	}
	shown, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll(".opblock").length`))
	if err != nil {
		t.Fatal(err)
	}
	if shown != ops {
		t.Errorf("the page shows %d operations, the description has %d", shown, ops)
	}
	tab.NoProblems(t)
	if dir := os.Getenv("GOC_SHOTS"); dir != "" {
		tab.Screenshot(t, dir+"/api-docs.png")
	}
}
