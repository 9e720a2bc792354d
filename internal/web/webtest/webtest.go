// Package webtest drives a real browser (Debian's chromium, headless, through chromedp)
// against G-OC's pages in tests: it loads a page at a desktop and a phone size, fails
// on any console error or failed request, runs axe-core for accessibility and writes
// screenshots. Every page test in internal/web uses it; keep its API stable.
//
// axe-core 4.14.1 (npm package axe-core, MPL-2.0) is vendored as
// testdata/axe-core/axe.min.js with its licence and embedded here, so the check needs no
// network and no Node at test time.
package webtest

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

//go:embed testdata/axe-core/axe.min.js
var axeSource string

// Viewport is a window size a page is checked at.
type Viewport struct {
	Name          string
	Width, Height int64
	// Mobile emulates a phone: the page's meta viewport applies and touch is on.
	Mobile bool
}

// The two sizes every page is checked at.
var (
	Desktop = Viewport{Name: "desktop", Width: 1366, Height: 768}
	Phone   = Viewport{Name: "phone", Width: 390, Height: 844, Mobile: true}
)

// Viewports is both sizes, for a loop.
func Viewports() []Viewport { return []Viewport{Desktop, Phone} }

// Browser is one headless chromium for a test (or a whole package's tests), with a
// fresh profile.
type Browser struct {
	ctx    context.Context
	cancel context.CancelFunc
}

// ChromiumPath is the browser used: $GOC_CHROMIUM, else Debian's /usr/bin/chromium,
// else "chromium" on PATH. scripts/test.sh installs it; a missing browser fails the
// test, it never skips it.
func ChromiumPath() (string, error) {
	if p := os.Getenv("GOC_CHROMIUM"); p != "" {
		return p, nil
	}
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium", nil
	}
	p, err := exec.LookPath("chromium")
	if err != nil {
		return "", fmt.Errorf("no chromium: install it (apt-get install -y chromium, as scripts/test.sh does) or set GOC_CHROMIUM: %w", err)
	}
	return p, nil
}

// Start launches chromium headless with a fresh user-data directory under t's temp
// dir. It is closed when t ends.
func Start(t testing.TB) *Browser {
	t.Helper()
	path, err := ChromiumPath()
	if err != nil {
		t.Fatal(err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(int(Desktop.Width), int(Desktop.Height)),
	)
	actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	// The first Run starts the browser; it must not carry a timeout (chromedp's rule).
	if err := chromedp.Do(ctx); err != nil {
		cancel()
		acancel()
		t.Fatalf("start chromium %s: %v", path, err)
	}
	b := &Browser{ctx: ctx, cancel: func() { cancel(); acancel() }}
	t.Cleanup(b.cancel)
	return b
}

// Tab is one page open in the browser, with everything that went wrong in it so far.
type Tab struct {
	// Ctx runs chromedp actions in this tab, with a deadline: chromedp.Do(tab.Ctx, ...).
	Ctx    context.Context
	cancel context.CancelFunc
	vp     Viewport

	mu       sync.Mutex
	problems []string
	docs     map[network.RequestID]bool
	docURLs  []string
	// Status is the HTTP status of the last document loaded in the tab.
	status int
}

// Open opens url in a new tab at the viewport's size and waits for it to load. It
// fails t only if the browser cannot load it at all; a page's own errors are in
// Problems. The tab closes when t ends.
func (b *Browser) Open(t testing.TB, url string, vp Viewport) *Tab {
	t.Helper()
	tctx, tcancel := chromedp.NewContext(b.ctx)
	ctx, cancel := context.WithTimeout(tctx, 60*time.Second)
	tab := &Tab{Ctx: ctx, cancel: func() { cancel(); tcancel() }, vp: vp, docs: map[network.RequestID]bool{}}
	t.Cleanup(tab.cancel)
	if err := chromedp.Listen(ctx, tab.event); err != nil {
		t.Fatalf("open tab: %v", err)
	}
	emulate := []chromedp.EmulateViewportOption{}
	if vp.Mobile {
		emulate = append(emulate, chromedp.EmulateMobile, chromedp.EmulateTouch, chromedp.EmulatePortrait)
	}
	err := chromedp.Do(ctx,
		chromedp.EmulateViewport(vp.Width, vp.Height, emulate...),
		// axe is injected by the test, which a strict Content-Security-Policy would block.
		chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			_, err := cdp.Call(ctx, t, page.SetBypassCSP, page.SetBypassCSPParams{Enabled: true})
			return err
		}),
		chromedp.Navigate(url),
	)
	if err != nil {
		t.Fatalf("load %s at %s: %v", url, vp.Name, err)
	}
	return tab
}

// event records console errors, uncaught exceptions, browser-log errors and failed
// requests. It runs in chromedp's event loop, so it only appends under a lock.
func (tab *Tab) event(ev any) {
	tab.mu.Lock()
	defer tab.mu.Unlock()
	switch e := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		if e.Type == runtime.ConsoleAPICalledTypeError || e.Type == runtime.ConsoleAPICalledTypeAssert {
			var parts []string
			for _, a := range e.Args {
				if a.Value != nil {
					parts = append(parts, string(a.Value))
				} else {
					parts = append(parts, a.Description)
				}
			}
			tab.problems = append(tab.problems, "console."+string(e.Type)+": "+strings.Join(parts, " "))
		}
	case *runtime.EventExceptionThrown:
		msg := e.ExceptionDetails.Text
		if e.ExceptionDetails.Exception != nil {
			msg += " " + e.ExceptionDetails.Exception.Description
		}
		tab.problems = append(tab.problems, "exception: "+msg)
	case *log.EventEntryAdded:
		// A document's own 4xx is reported here too; the page test asserts that status
		// itself, so only other entries count.
		if e.Entry.Level == log.EntryLevelError && !(e.Entry.Source == log.EntrySourceNetwork && tab.isDocURL(e.Entry.URL)) {
			tab.problems = append(tab.problems, "log: "+e.Entry.Text+" "+e.Entry.URL)
		}
	case *network.EventRequestWillBeSent:
		if e.Type == network.ResourceTypeDocument {
			tab.docs[e.RequestID] = true
			tab.docURLs = append(tab.docURLs, e.Request.URL)
		}
	case *network.EventResponseReceived:
		if tab.docs[e.RequestID] {
			tab.status = int(e.Response.Status)
			return
		}
		if e.Response.Status >= 400 {
			tab.problems = append(tab.problems, fmt.Sprintf("request failed: %d %s", e.Response.Status, e.Response.URL))
		}
	case *network.EventLoadingFailed:
		if !e.Canceled {
			tab.problems = append(tab.problems, "request failed: "+e.ErrorText+" ("+string(e.Type)+")")
		}
	}
}

func (tab *Tab) isDocURL(u string) bool {
	for _, d := range tab.docURLs {
		if d == u {
			return true
		}
	}
	return false
}

// Status is the HTTP status of the last document the tab loaded.
func (tab *Tab) Status() int {
	tab.mu.Lock()
	defer tab.mu.Unlock()
	return tab.status
}

// Problems lists the console errors, exceptions and failed requests seen so far.
func (tab *Tab) Problems() []string {
	tab.mu.Lock()
	defer tab.mu.Unlock()
	return append([]string(nil), tab.problems...)
}

// NoProblems fails t with every console error and failed request seen in the tab.
func (tab *Tab) NoProblems(t testing.TB) {
	t.Helper()
	for _, p := range tab.Problems() {
		t.Errorf("%s: %s", tab.vp.Name, p)
	}
}

// Violation is one axe-core rule a page breaks.
type Violation struct {
	ID      string   `json:"id"`
	Impact  string   `json:"impact"`
	Help    string   `json:"help"`
	Targets []string `json:"targets"`
}

// Axe runs axe-core (WCAG 2.0/2.1 A and AA rules and best practices) on the page as it
// is now and returns the violations of serious or critical impact.
func (tab *Tab) Axe() ([]Violation, error) {
	if _, err := chromedp.Run(tab.Ctx, chromedp.Evaluate[chromedp.Void](axeSource)); err != nil {
		return nil, fmt.Errorf("inject axe-core: %w", err)
	}
	const run = `axe.run(document, {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]}, resultTypes: ["violations"]})
	.then(r => JSON.stringify(r.violations.filter(v => v.impact === "serious" || v.impact === "critical")
	.map(v => ({id: v.id, impact: v.impact, help: v.help, targets: v.nodes.slice(0, 5).map(n => n.target.join(" "))}))))`
	raw, err := chromedp.Run(tab.Ctx, chromedp.Evaluate[string](run, chromedp.EvalAwaitPromise))
	if err != nil {
		return nil, fmt.Errorf("run axe-core: %w", err)
	}
	var vs []Violation
	if err := json.Unmarshal([]byte(raw), &vs); err != nil {
		return nil, fmt.Errorf("read axe-core result: %w", err)
	}
	return vs, nil
}

// AxeClean fails t on each serious or critical accessibility violation.
func (tab *Tab) AxeClean(t testing.TB) {
	t.Helper()
	vs, err := tab.Axe()
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range vs {
		t.Errorf("%s: axe %s (%s): %s at %v", tab.vp.Name, v.ID, v.Impact, v.Help, v.Targets)
	}
}

// NoSidewaysScroll fails t when the page is wider than the window (a phone reader
// would have to scroll sideways).
func (tab *Tab) NoSidewaysScroll(t testing.TB) {
	t.Helper()
	over, err := chromedp.Run(tab.Ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth - document.documentElement.clientWidth`))
	if err != nil {
		t.Fatalf("measure page width: %v", err)
	}
	if over > 0 {
		t.Errorf("%s: the page is %d px wider than the %d px window", tab.vp.Name, over, tab.vp.Width)
	}
}

// Screenshot writes a PNG of what the window shows (the first screen of the page) to
// path, making its folder.
func (tab *Tab) Screenshot(t testing.TB, path string) {
	t.Helper()
	tab.shot(t, path, chromedp.CaptureScreenshot())
}

// FullScreenshot writes a PNG of the whole page, however long, to path.
func (tab *Tab) FullScreenshot(t testing.TB, path string) {
	t.Helper()
	tab.shot(t, path, chromedp.FullScreenshot(100))
}

func (tab *Tab) shot(t testing.TB, path string, a chromedp.Action[[]byte]) {
	t.Helper()
	png, err := chromedp.Run(tab.Ctx, a)
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// Check is the standard check of one page at one size: it loads url, asserts the
// document's HTTP status, no console error or failed request, no sideways scroll, no
// serious or critical axe violation, and writes a screenshot to shotDir/NAME-SIZE.png
// when shotDir is not empty. It returns the tab for further checks.
func (b *Browser) Check(t testing.TB, url string, wantStatus int, vp Viewport, shotDir, name string) *Tab {
	t.Helper()
	tab := b.Open(t, url, vp)
	if got := tab.Status(); got != wantStatus {
		t.Errorf("%s %s: HTTP %d, want %d", vp.Name, url, got, wantStatus)
	}
	tab.NoProblems(t)
	tab.NoSidewaysScroll(t)
	tab.AxeClean(t)
	if shotDir != "" {
		tab.Screenshot(t, filepath.Join(shotDir, name+"-"+vp.Name+".png"))
	}
	return tab
}
