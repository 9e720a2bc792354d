package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"
)

// The README test runs the README's shell examples in order, as a new user pastes them,
// against a fresh `goc demo`, and fails when one does not do what the README says.
//
// How a README block is read:
//   - Every fenced block opened with ```sh is run with bash (-e, -o pipefail), in a
//     scratch folder where the demo keeps its data (./goc-demo-data), with the goc built
//     for the tests first on PATH. Each block runs in its own bash; exported variables
//     and the working folder carry over to the next block, as in one terminal.
//   - The line `<!-- readme-test: skip: REASON -->` before a block skips it, and the
//     reason is logged. `<!-- readme-test: exit: N -->` says the block ends with exit
//     status N (a command that refuses on purpose); otherwise it must end with 0.
//   - A fence without a language, or ```text or ```json, directly after a sh block (only
//     blank lines between) is that block's expected output: each of its lines must be
//     found in what the block printed (stdout and stderr), in order. "…" in it stands
//     for anything, and white space is ignored (jq and the README lay JSON out
//     differently).
//   - The demo listens on ports the kernel chose, and its TLS portal too, so
//     127.0.0.1:8080 and localhost:8080 (the demo), and 127.0.0.1:8443 (its portal), are
//     replaced by the addresses it printed before a block runs.
//   - curl answers an HTTP error with exit status 22 and its body (--fail-with-body), so
//     an example whose request is refused fails here, even though the README's curl
//     only prints the refusal.

// readmeBlock is one ```sh block of the README with what the README says about it.
type readmeBlock struct {
	line     int // of the opening fence
	script   string
	skip     string // the reason, when skipped
	exit     int
	expected []string // lines of the expected output; nil when the README shows none
}

var readmeMarker = regexp.MustCompile(`^<!--\s*readme-test:\s*(skip|exit):\s*(.*?)\s*-->$`)

// readmeBlocks extracts the sh blocks of a README in order.
func readmeBlocks(text string) ([]readmeBlock, error) {
	var (
		blocks  []readmeBlock
		pending []string // markers seen since the last block
		lines   = strings.Split(text, "\n")
	)
	for i := 0; i < len(lines); i++ {
		l := strings.TrimSpace(lines[i])
		if m := readmeMarker.FindStringSubmatch(l); m != nil {
			pending = append(pending, m[1]+":"+m[2])
			continue
		}
		if !strings.HasPrefix(l, "```") {
			if l != "" {
				pending = nil
			}
			continue
		}
		lang := strings.TrimSpace(strings.TrimPrefix(l, "```"))
		start := i
		var body []string
		for i++; i < len(lines) && strings.TrimSpace(lines[i]) != "```"; i++ {
			body = append(body, lines[i])
		}
		if i == len(lines) {
			return nil, fmt.Errorf("README.md:%d: fenced block never closed", start+1)
		}
		switch {
		case lang == "sh":
			b := readmeBlock{line: start + 1, script: strings.Join(body, "\n")}
			for _, p := range pending {
				kind, arg, _ := strings.Cut(p, ":")
				switch kind {
				case "skip":
					if arg == "" {
						return nil, fmt.Errorf("README.md:%d: a skip needs its reason", start+1)
					}
					b.skip = arg
				case "exit":
					n, err := strconv.Atoi(arg)
					if err != nil {
						return nil, fmt.Errorf("README.md:%d: exit %q is not a number", start+1, arg)
					}
					b.exit = n
				}
			}
			blocks = append(blocks, b)
		case (lang == "" || lang == "text" || lang == "json") && len(blocks) > 0 && followsBlock(lines, start, blocks[len(blocks)-1].line):
			blocks[len(blocks)-1].expected = body
		}
		pending = nil
	}
	return blocks, nil
}

// followsBlock reports whether only blank lines lie between the fence at start and the
// closing fence of the block opened at line prev (1-based).
func followsBlock(lines []string, start, prev int) bool {
	j := start - 1
	for j >= 0 && strings.TrimSpace(lines[j]) == "" {
		j--
	}
	if j < 0 || strings.TrimSpace(lines[j]) != "```" {
		return false
	}
	// lines[j] closes a block; find where that block opened.
	k := j - 1
	for k >= 0 && !strings.HasPrefix(strings.TrimSpace(lines[k]), "```") {
		k--
	}
	return k+1 == prev
}

// squeeze drops white space, so that layout differences do not count.
func squeeze(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, s)
}

// missingOutput returns the first expected line not found, in order, in got.
func missingOutput(expected []string, got string) string {
	g := squeeze(got)
	at := 0
	for _, line := range expected {
		for _, frag := range strings.Split(line, "…") {
			f := squeeze(frag)
			if f == "" {
				continue
			}
			k := strings.Index(g[at:], f)
			if k < 0 {
				return fmt.Sprintf("%q (of the line %q)", frag, line)
			}
			at += k + len(f)
		}
	}
	return ""
}

func TestReadmeBlocksAreReadWithMarkersAndOutput(t *testing.T) {
	text := "intro\n<!-- readme-test: skip: needs the internet -->\n```sh\ncurl example.org\n```\n\n" +
		"```sh\necho hi\n```\n\n```\nh…\n```\nprose\n```json\n{}\n```\n" +
		"<!-- readme-test: exit: 3 -->\n\n```sh\nexit 3\n```\n```yaml\na: b\n```\n"
	blocks, err := readmeBlocks(text)
	if err != nil {
		t.Fatal(err)
	}
	if len(blocks) != 3 {
		t.Fatalf("%d blocks, want 3: %+v", len(blocks), blocks)
	}
	if blocks[0].skip != "needs the internet" || blocks[1].skip != "" || blocks[2].exit != 3 {
		t.Errorf("markers: %+v", blocks)
	}
	if len(blocks[1].expected) != 1 || blocks[1].expected[0] != "h…" || blocks[2].expected != nil {
		t.Errorf("expected output: %q and %q", blocks[1].expected, blocks[2].expected)
	}
	if m := missingOutput([]string{`{"a": 1, …}`, "ĐẠT / UP (…)"}, "{\n  \"a\": 1,\n  \"b\": 2\n}\nĐẠT / UP  (2.9 ms)"); m != "" {
		t.Errorf("layout and … should not count: missing %s", m)
	}
	if m := missingOutput([]string{"ranked 34 of 34"}, "ranked 33 of 34"); m == "" {
		t.Error("a different figure was accepted")
	}
}

// TestReadmeExamplesRunAsWritten runs every sh block of README.md in order against a
// fresh demo; see the comment at the top of this file for the rules.
func TestReadmeExamplesRunAsWritten(t *testing.T) {
	for _, tool := range []string{"bash", "curl", "jq"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("the README's examples use %s, which is not installed (scripts/test.sh installs it): %v", tool, err)
		}
	}
	text, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks, err := readmeBlocks(string(text))
	if err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	bin := filepath.Join(work, "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(gocBin, filepath.Join(bin, "goc")); err != nil {
		t.Fatal(err)
	}
	demo := startDemoIn(t, work)
	state := filepath.Join(work, ".readme-test-state")
	// curl as a function: HTTP errors fail the block (see the top of this file). The
	// state file carries exports and the working folder from block to block.
	prelude := fmt.Sprintf(`curl() { command curl --fail-with-body "$@"; }
export PATH=%q:"$PATH"
cd %q
[ -f %q ] && . %q
trap 'rc=$?; { export -p; printf "cd %%q\n" "$PWD"; } > %q; exit $rc' EXIT
`, bin, work, state, state, state)
	for _, b := range blocks {
		name := fmt.Sprintf("README.md:%d", b.line)
		if b.skip != "" {
			t.Logf("%s: skipped: %s", name, b.skip)
			continue
		}
		addrs := strings.NewReplacer(
			"127.0.0.1:8080", demo.addr, "localhost:8080", demo.addr,
			"127.0.0.1:8443", demo.portal,
		)
		script := addrs.Replace(b.script)
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		cmd := exec.CommandContext(ctx, "bash", "-e", "-o", "pipefail", "-c", prelude+script)
		cmd.Dir = work
		cmd.Env = readmeEnv()
		out, err := cmd.CombinedOutput()
		cancel()
		code := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if code != b.exit {
			t.Errorf("%s: exit status %d, want %d\n--- block\n%s\n--- output\n%s", name, code, b.exit, script, out)
			continue
		}
		if b.expected != nil {
			expected := make([]string, len(b.expected))
			for i, l := range b.expected {
				expected[i] = addrs.Replace(l)
			}
			if m := missingOutput(expected, string(out)); m != "" {
				t.Errorf("%s: the output lacks %s, which the README shows\n--- block\n%s\n--- output\n%s", name, m, script, out)
			}
		}
	}
}

// readmeEnv is the environment of a README block: this one without the variables the
// README sets itself, so that a block relying on one it never set fails here too.
func readmeEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "GOC_") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

// readmeDemo is the demo the README's examples talk to.
type readmeDemo struct {
	addr   string // host:port of the demo
	portal string // host:port of its TLS portal
}

var portalLine = regexp.MustCompile(`https://(127\.0\.0\.1:\d+)/`)

// startDemoIn starts `goc demo` in dir as the README says (its data in
// ./goc-demo-data), on ports the kernel chooses, and waits for its banner.
func startDemoIn(t *testing.T, dir string) readmeDemo {
	t.Helper()
	cmd := exec.Command(gocBin, "demo", "--addr", "127.0.0.1:0", "--portal-addr", "127.0.0.1:0")
	cmd.Dir = dir
	cmd.Env = readmeEnv()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	logf, err := os.Create(filepath.Join(dir, "goc-demo.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		logf.Close()
	})
	var d readmeDemo
	banner := make(chan []string, 1)
	go func() {
		var seen []string
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			seen = append(seen, line)
			if m := urlLine.FindStringSubmatch(line); m != nil && d.addr == "" {
				d.addr = strings.TrimPrefix(m[1], "http://")
			}
			if m := portalLine.FindStringSubmatch(line); m != nil && d.portal == "" {
				d.portal = m[1]
			}
			if strings.Contains(line, "Ctrl-C") {
				banner <- seen
				io.Copy(io.Discard, stdout)
				return
			}
		}
		banner <- seen
	}()
	select {
	case seen := <-banner:
		if d.addr == "" || d.portal == "" {
			log, _ := os.ReadFile(filepath.Join(dir, "goc-demo.log"))
			t.Fatalf("the demo printed no URL or no portal URL:\n%s\n%s", strings.Join(seen, "\n"), log)
		}
	case <-time.After(2 * time.Minute):
		t.Fatal("the demo did not print its banner within 2 minutes")
	}
	return d
}
