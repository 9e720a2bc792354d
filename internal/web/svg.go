package web

import (
	"fmt"
	"math"
	"strings"
)

// Charts are drawn on the server as inline SVG: they need no script and no library,
// print sharply, cost a few hundred bytes, and read the same figures as the table beside
// them. Each chart carries a text alternative; the numbers are also in the page as text.

// sparkline is a small trend line for a table cell.
type sparkline struct {
	W, H   int
	Points string
	// LastX, LastY mark the newest point.
	LastX, LastY float64
	Label        string
}

// newSparkline scales values into a w×h box; it returns nil for fewer than two values.
func newSparkline(values []float64, w, h int, label string) *sparkline {
	if len(values) < 2 {
		return nil
	}
	lo, hi := values[0], values[0]
	for _, v := range values {
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	if hi == lo {
		hi, lo = hi+1, lo-1
	}
	const pad = 2.0
	sx := (float64(w) - 2*pad) / float64(len(values)-1)
	sy := (float64(h) - 2*pad) / (hi - lo)
	var b strings.Builder
	s := &sparkline{W: w, H: h, Label: label}
	for i, v := range values {
		x := pad + float64(i)*sx
		y := float64(h) - pad - (v-lo)*sy
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%.1f,%.1f", x, y)
		s.LastX, s.LastY = x, y
	}
	s.Points = b.String()
	return s
}
