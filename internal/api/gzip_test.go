package api_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/g-oc/goc/indicators"
)

// TestKeptAnswersAreGivenGzippedToClientsThatAcceptIt asks for the probe list and for
// progress of every agency as clients with different Accept-Encoding do: one that
// accepts gzip gets gzip that decompresses to exactly the plain answer, one that does
// not gets the plain answer, both say Vary: Accept-Encoding, and every exchange passes
// the contract (the servers are wrapped in contract.Check, which decompresses).
func TestKeptAnswersAreGivenGzippedToClientsThatAcceptIt(t *testing.T) {
	ctx := context.Background()
	probeSrv, st, _ := collectorServer(t)
	var rs []indicators.ProbeResult
	for i := range 300 {
		rs = append(rs, indicators.ProbeResult{Target: fmt.Sprintf("https://p%04d.langson.gov.vn", i), Agency: "P20",
			Time: testNow.Add(-time.Minute), Success: i%4 != 0, HTTPStatus: 200})
	}
	if err := st.WriteProbeResults(ctx, rs); err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, true)
	urls := []string{
		probeSrv.URL + "/api/v1/probes",
		f.srv.URL + "/api/v1/progress?indicator=dossiers_fully_online&agency=*&year=2025",
	}
	// DisableCompression: the test sends Accept-Encoding itself and sees the bytes sent.
	raw := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	get := func(t *testing.T, url, acceptEncoding string) (*http.Response, []byte) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		if acceptEncoding != "" {
			req.Header.Set("Accept-Encoding", acceptEncoding)
		}
		resp, err := raw.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s (Accept-Encoding %q): %d %s", url, acceptEncoding, resp.StatusCode, b)
		}
		return resp, b
	}
	tests := []struct {
		acceptEncoding string
		gzipped        bool
	}{
		{"", false},
		{"gzip", true},
		{"br, gzip;q=0.5", true},
		{"*", true},
		{"gzip;q=0", false},
		{"br", false},
		{"identity", false},
	}
	for _, url := range urls {
		// The first request makes the answer; plain is what a client without
		// Accept-Encoding gets.
		_, plain := get(t, url, "")
		if !json.Valid(plain) || len(plain) < 4<<10 {
			t.Fatalf("GET %s: %d bytes of plain answer, valid JSON %v; want a JSON answer large enough to be kept gzipped", url, len(plain), json.Valid(plain))
		}
		for _, tt := range tests {
			t.Run(fmt.Sprintf("%s %q", url[strings.Index(url, "/api"):], tt.acceptEncoding), func(t *testing.T) {
				resp, body := get(t, url, tt.acceptEncoding)
				if !strings.Contains(strings.Join(resp.Header.Values("Vary"), ","), "Accept-Encoding") {
					t.Errorf("Vary %q, want Accept-Encoding: the answer depends on it", resp.Header.Values("Vary"))
				}
				if got := resp.Header.Get("Content-Encoding"); (got == "gzip") != tt.gzipped {
					t.Fatalf("Content-Encoding %q, gzipped want %v", got, tt.gzipped)
				}
				if !tt.gzipped {
					if !bytes.Equal(body, plain) {
						t.Errorf("plain answer of %d bytes differs from the first one (%d bytes)", len(body), len(plain))
					}
					return
				}
				zr, err := gzip.NewReader(bytes.NewReader(body))
				if err != nil {
					t.Fatal(err)
				}
				got, err := io.ReadAll(zr)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, plain) {
					t.Errorf("gzipped answer decompresses to %d bytes that differ from the plain %d", len(got), len(plain))
				}
				if len(body) > len(plain)/3 {
					t.Errorf("gzipped answer is %d bytes for %d plain: not worth keeping", len(body), len(plain))
				}
			})
		}
	}
	// Go's own client (as api/client and goc use it) asks for gzip and decompresses
	// without being told.
	var page struct {
		Count int `json:"count"`
	}
	resp, err := http.Get(urls[0])
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&page); err != nil || page.Count != 300 || !resp.Uncompressed {
		t.Errorf("default client: count %d, err %v, decompressed transparently %v; want 300 portals from a gzipped answer", page.Count, err, resp.Uncompressed)
	}
}
