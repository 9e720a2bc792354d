// Package termbar draws a progress bar for long jobs when stderr is a terminal, and
// stays quiet (one summary line) when it is not, so logs and CI output stay readable.
package termbar

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// Bar reports how far a job has gone. It is not safe for concurrent use.
type Bar struct {
	w        io.Writer
	label    string
	total    int64
	done     int64
	tty      bool
	start    time.Time
	lastDraw time.Time
}

// IsTerminal reports whether w is a character device (a terminal).
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// New starts a bar for total units of work; total may be 0 when unknown.
func New(w io.Writer, label string, total int64) *Bar {
	return &Bar{w: w, label: label, total: total, tty: IsTerminal(w), start: time.Now()}
}

// Add records n more units done and redraws at most ten times a second.
func (b *Bar) Add(n int64) {
	b.done += n
	if b.tty && time.Since(b.lastDraw) > 100*time.Millisecond {
		b.draw()
		b.lastDraw = time.Now()
	}
}

func (b *Bar) draw() {
	if b.total <= 0 {
		fmt.Fprintf(b.w, "\r%s %d", b.label, b.done)
		return
	}
	const width = 30
	frac := float64(b.done) / float64(b.total)
	frac = min(max(frac, 0), 1)
	full := int(frac * width)
	fmt.Fprintf(b.w, "\r%s [%s%s] %3.0f%% %d/%d", b.label, strings.Repeat("=", full), strings.Repeat(" ", width-full), frac*100, b.done, b.total)
}

// Done finishes the bar with a summary line.
func (b *Bar) Done() {
	if b.tty {
		b.draw()
		fmt.Fprintln(b.w)
	}
	fmt.Fprintf(b.w, "%s: %d xong / done in %s\n", b.label, b.done, time.Since(b.start).Round(time.Millisecond))
}
