package main

import (
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/g-oc/goc/internal/auth"
)

// An officer whose imported figures a reviewer returned, and who imports the same
// file again unchanged, sends them back for review, as a submission of the same
// values through the API does; the trail says they came back unchanged.
func TestImportingTheSameFileAfterAReturnResubmitsIt(t *testing.T) {
	s := newSite(t)
	reviewer, err := auth.NewToken()
	if err != nil {
		t.Fatal(err)
	}
	cfg, _ := os.ReadFile(s.config)
	os.WriteFile(s.config, append(cfg, fmt.Sprintf("  - {name: btttt, agency: VN, role: reviewer, sha256: %s}\n", auth.Hash(reviewer))...), 0o600)
	hist, current := s.history(t)
	returned := current.Add(-3).String()
	if out, errOut, code := runGoc(t, "import", hist, "--config", s.config, "--submitter", "can-bo-lang-son"); code != 0 {
		t.Fatalf("import: exit %d\n%s\n%s", code, out, errOut)
	}

	srv := startGoc(t, "serve", "--config", s.config)
	req, _ := http.NewRequest(http.MethodPost, srv.url+"/api/v1/submissions/P20/"+returned+"/return",
		strings.NewReader(`{"comment":"kiểm tra lại mẫu số / check the denominator"}`))
	req.Header.Set("Authorization", "Bearer "+reviewer)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("return %s: %d", returned, resp.StatusCode)
	}
	srv.cmd.Process.Kill() // the import holds the store's only writer; serve again after
	srv.cmd.Wait()

	out, errOut, code := runGoc(t, "import", hist, "--config", s.config, "--submitter", "can-bo-lang-son")
	if code != 0 || !strings.Contains(out, "0 phiên bản mới / new revisions, 8 không đổi / unchanged") {
		t.Fatalf("import again: exit %d\n%s\n%s", code, out, errOut)
	}

	srv = startGoc(t, "serve", "--config", s.config)
	var got struct {
		Submission struct {
			State, Comment string
			ChangedBy      string `json:"changed_by"`
		}
		Trail []struct{ Who, From, To, Comment string }
	}
	srv.getJSONAs(t, reviewer, "/api/v1/submissions/P20/"+returned, &got)
	if got.Submission.State != "submitted" || got.Submission.ChangedBy != "can-bo-lang-son" ||
		!strings.Contains(got.Submission.Comment, "resubmitted unchanged") {
		t.Errorf("after the same file again, %s is %+v, want submitted again by can-bo-lang-son", returned, got.Submission)
	}
	if n := len(got.Trail); n != 3 || got.Trail[n-1].From != "returned" || got.Trail[n-1].To != "submitted" {
		t.Errorf("trail of %s: %+v, want submitted, returned, submitted again", returned, got.Trail)
	}
	// The periods no reviewer returned did not move.
	var other struct{ Trail []struct{ To string } }
	srv.getJSONAs(t, reviewer, "/api/v1/submissions/P20/"+current.Add(-2).String(), &other)
	if len(other.Trail) != 1 {
		t.Errorf("trail of a period never returned: %+v, want its one submission", other.Trail)
	}
}
