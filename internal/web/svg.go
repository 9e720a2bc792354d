package web

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/g-oc/goc/internal/query"
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

// lineChart is the indicator page's chart: the national series with a dashed line per
// target. Coordinates are computed here; the template only draws them.
type lineChart struct {
	W, H        int
	Left, Right float64
	Top, Bottom float64
	Points      string
	Dots        []chartDot
	Targets     []chartTarget
	YTicks      []chartTick
	XTicks      []chartTick
	Label       string
}

type chartDot struct {
	X, Y  float64
	Title string
}

type chartTarget struct {
	Y     float64
	Label string
}

type chartTick struct {
	Pos   float64
	Label string
}

// chartPoint is one value to plot, with its label for the axis and the dot's title.
type chartPoint struct {
	Label string
	Value float64
	Title string
}

// targetLine is a target to draw across the chart.
type targetLine struct {
	Value float64
	Label string
}

// newLineChart scales points and targets into a w×h chart with room for axis labels.
// It returns nil when there is nothing to plot.
func newLineChart(points []chartPoint, targets []targetLine, w, h int, label string, fmtY func(float64) string) *lineChart {
	if len(points) == 0 {
		return nil
	}
	c := &lineChart{W: w, H: h, Left: 56, Right: float64(w) - 28, Top: 12, Bottom: float64(h) - 28, Label: label}
	lo, hi := points[0].Value, points[0].Value
	for _, p := range points {
		lo, hi = math.Min(lo, p.Value), math.Max(hi, p.Value)
	}
	for _, t := range targets {
		lo, hi = math.Min(lo, t.Value), math.Max(hi, t.Value)
	}
	if hi == lo {
		hi, lo = hi+1, lo-1
	}
	span := hi - lo
	lo, hi = lo-span*0.05, hi+span*0.05
	y := func(v float64) float64 { return c.Bottom - (v-lo)/(hi-lo)*(c.Bottom-c.Top) }
	step := 0.0
	if len(points) > 1 {
		step = (c.Right - c.Left) / float64(len(points)-1)
	}
	var b strings.Builder
	for i, p := range points {
		x := c.Left + float64(i)*step
		if len(points) == 1 {
			x = (c.Left + c.Right) / 2
		}
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%.1f,%.1f", x, y(p.Value))
		c.Dots = append(c.Dots, chartDot{X: x, Y: y(p.Value), Title: p.Title})
	}
	c.Points = b.String()
	for _, t := range targets {
		c.Targets = append(c.Targets, chartTarget{Y: y(t.Value), Label: t.Label})
	}
	for i := 0; i <= 4; i++ {
		v := lo + (hi-lo)*float64(i)/4
		c.YTicks = append(c.YTicks, chartTick{Pos: y(v), Label: fmtY(v)})
	}
	// At most six labels on the time axis, always the first and the last.
	n := len(points)
	every := max(1, (n+5)/6)
	for i := 0; i < n; i++ {
		if i%every == 0 || i == n-1 {
			if i == n-1 && i%every != 0 && n > 1 && float64(i%every) < float64(every)/2 {
				c.XTicks = c.XTicks[:len(c.XTicks)-1]
			}
			c.XTicks = append(c.XTicks, chartTick{Pos: c.Dots[i].X, Label: points[i].Label})
		}
	}
	return c
}

// barChart is the portal page's chart: one bar per hour, its height the hour's uptime,
// and the hour's median latency as a line over it.
type barChart struct {
	W, H        int
	Left, Right float64
	Top, Bottom float64
	Bars        []chartBar
	Latency     string
	YTicks      []chartTick
	LatTicks    []chartTick
	XTicks      []chartTick
	Label       string
}

type chartBar struct {
	X, Y, W, H float64
	Down       bool
	Title      string
}

// newBarChart draws a portal's hours: a bar per hour as tall as its uptime (a failing
// hour in the "down" colour and pattern), and its median latency as a line.
func newBarChart(h *query.PortalHistory, w, hgt int, l Lang) *barChart {
	if len(h.Hours) == 0 {
		return nil
	}
	c := &barChart{W: w, H: hgt, Left: 48, Right: float64(w) - 48, Top: 10, Bottom: float64(hgt) - 26,
		Label: l.T("portal.chart")}
	total := h.To.Sub(h.From).Hours()
	bw := (c.Right - c.Left) / total
	xOf := func(t time.Time) float64 { return c.Left + t.Sub(h.From).Hours()*bw }
	maxLat := 0.0
	for _, hr := range h.Hours {
		if hr.MedianSeconds != nil {
			maxLat = math.Max(maxLat, *hr.MedianSeconds)
		}
	}
	if maxLat == 0 {
		maxLat = 1
	}
	var b strings.Builder
	for _, hr := range h.Hours {
		up := float64(hr.Successes) / float64(hr.Probes)
		x := xOf(hr.Start)
		height := up * (c.Bottom - c.Top)
		c.Bars = append(c.Bars, chartBar{X: x, Y: c.Bottom - height, W: math.Max(bw, 0.5), H: height, Down: hr.Successes < hr.Probes,
			Title: fmt.Sprintf("%s: %s %%", hr.Start.Format("2006-01-02 15:04Z"), l.Num(100*up, 1))})
		if hr.MedianSeconds != nil {
			if b.Len() > 0 {
				b.WriteByte(' ')
			}
			fmt.Fprintf(&b, "%.1f,%.1f", x+bw/2, c.Bottom-(*hr.MedianSeconds/maxLat)*(c.Bottom-c.Top))
		}
	}
	c.Latency = b.String()
	for i := 0; i <= 2; i++ {
		f := float64(i) / 2
		pos := c.Bottom - f*(c.Bottom-c.Top)
		c.YTicks = append(c.YTicks, chartTick{Pos: pos, Label: l.Num(100*f, 0) + " %"})
		c.LatTicks = append(c.LatTicks, chartTick{Pos: pos, Label: l.Num(1000*maxLat*f, 0) + " ms"})
	}
	for d := h.From; !d.After(h.To); d = d.Add(7 * 24 * time.Hour) {
		c.XTicks = append(c.XTicks, chartTick{Pos: xOf(d), Label: l.Date(d)})
	}
	return c
}
