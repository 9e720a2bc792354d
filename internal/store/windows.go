package store

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/g-oc/goc/indicators"
)

// The uptime windows every portal's status carries. They are kept by the store as
// results are written, in whole UTC hours and days, so that the status of 10,000
// portals is one read and never a scan of their history:
//   - Day (24 h): the hour of the newest result written and the 23 hours before it;
//   - Week (7 d): that hour's UTC day and the 6 days before it;
//   - Month (30 d): that day and the 29 days before it.
//
// The windows move when a newer hour arrives, not with the wall clock, so a store
// that has received nothing for a while answers as of its newest result (AsOf).
const (
	DayWindowHours  = 24
	WeekWindowDays  = 7
	MonthWindowDays = 30
)

// ProbeWindow is a portal's probes over one window.
type ProbeWindow struct {
	Probes    int `json:"probes"`
	Successes int `json:"successes"`
	// Latency counts the total durations of the successful probes.
	Latency LatencyHistogram `json:"-"`
	// Median, when set, is the median a backend computed itself (InfluxDB, on the
	// server) instead of keeping Latency.
	Median *float64 `json:"-"`
}

// Uptime is Successes / Probes in percent; nil when there were no probes.
func (w ProbeWindow) Uptime() *float64 {
	if w.Probes == 0 {
		return nil
	}
	u := 100 * float64(w.Successes) / float64(w.Probes)
	return &u
}

// MedianSeconds is the median total duration of the window's successful probes, to
// within the histogram's resolution; nil when none succeeded.
func (w ProbeWindow) MedianSeconds() *float64 {
	if w.Median != nil {
		return w.Median
	}
	return w.Latency.Median()
}

// Add counts one result.
func (w *ProbeWindow) Add(r *indicators.ProbeResult) {
	w.Probes++
	if r.Success {
		w.Successes++
		if d, ok := r.Phases[indicators.PhaseTotal]; ok {
			w.Latency.Add(d)
		}
	}
}

// Merge adds (sign 1) or removes (sign -1) another window's counts.
func (w *ProbeWindow) Merge(o ProbeWindow, sign int) {
	w.Probes += sign * o.Probes
	w.Successes += sign * o.Successes
	w.Latency.Merge(&o.Latency, sign)
}

// ProbeStatus is one portal's newest result and its uptime windows.
type ProbeStatus struct {
	Latest indicators.ProbeResult
	Day    ProbeWindow
	Week   ProbeWindow
	Month  ProbeWindow
}

// ProbeStatuses is the status of every portal, ordered by target.
type ProbeStatuses struct {
	// AsOf is the start of the hour the windows end in: the hour of the newest result
	// written. Zero when nothing was written.
	AsOf     time.Time
	Statuses []ProbeStatus
}

// ProbeStatusReader is the optional capability of a store that keeps uptime windows
// as it writes: the status page and the probe list read every portal at once from it.
type ProbeStatusReader interface {
	ProbeStatuses(ctx context.Context) (ProbeStatuses, error)
}

// ProbeStatusPager is the optional capability of a store that reads portal statuses a
// page at a time: the portals whose target sorts after `after`, at most limit of them,
// in target order. The probe list reads through it so that it holds one page, however
// many portals there are.
type ProbeStatusPager interface {
	ProbeStatusPage(ctx context.Context, after string, limit int) (ProbeStatuses, error)
}

// WindowBounds gives, for windows as of the hour asOf, the first hour of the day
// window and the first days of the week and month windows (all UTC).
func WindowBounds(asOf time.Time) (dayFrom, weekFrom, monthFrom time.Time) {
	h := asOf.UTC().Truncate(time.Hour)
	d := DayOf(h)
	return h.Add(-(DayWindowHours - 1) * time.Hour), d.AddDate(0, 0, -(WeekWindowDays - 1)), d.AddDate(0, 0, -(MonthWindowDays - 1))
}

// DayOf is the start of t's UTC day.
func DayOf(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// HourOf is the start of t's UTC hour.
func HourOf(t time.Time) time.Time { return t.UTC().Truncate(time.Hour) }

// latencyBuckets is how many buckets a LatencyHistogram has. Bucket 0 holds durations
// under 1 ms; bucket i holds [latencyBase·latencyGrowth^(i-1), latencyBase·latencyGrowth^i);
// the last also holds everything beyond (about 81 s, past every probe timeout).
const (
	latencyBuckets = 64
	latencyBase    = 0.001
	latencyGrowth  = 1.2
)

// LatencyHistogram counts durations in buckets 20% wide, so that windows can be added
// and subtracted as results come and go and still give a median within 10%.
type LatencyHistogram struct {
	Counts [latencyBuckets]int64
}

func latencyBucket(seconds float64) int {
	if !(seconds >= latencyBase) { // also NaN
		return 0
	}
	i := 1 + int(math.Floor(math.Log(seconds/latencyBase)/math.Log(latencyGrowth)))
	return min(max(i, 1), latencyBuckets-1)
}

func bucketBounds(i int) (lo, hi float64) {
	if i == 0 {
		return 0, latencyBase
	}
	return latencyBase * math.Pow(latencyGrowth, float64(i-1)), latencyBase * math.Pow(latencyGrowth, float64(i))
}

// Add counts one duration in seconds.
func (h *LatencyHistogram) Add(seconds float64) { h.Counts[latencyBucket(seconds)]++ }

// Merge adds (sign 1) or subtracts (sign -1) another histogram.
func (h *LatencyHistogram) Merge(o *LatencyHistogram, sign int) {
	for i, c := range o.Counts {
		h.Counts[i] += int64(sign) * c
	}
}

// Total is how many durations the histogram holds.
func (h *LatencyHistogram) Total() int64 {
	var n int64
	for _, c := range h.Counts {
		n += c
	}
	return n
}

// Median interpolates the median inside its bucket, as Prometheus's
// histogram_quantile does; nil when the histogram is empty.
func (h *LatencyHistogram) Median() *float64 {
	n := h.Total()
	if n <= 0 {
		return nil
	}
	rank := float64(n) / 2
	var seen float64
	for i, c := range h.Counts {
		if c <= 0 {
			continue
		}
		if seen+float64(c) >= rank {
			lo, hi := bucketBounds(i)
			m := lo + (hi-lo)*(rank-seen)/float64(c)
			m = math.Round(m*1e6) / 1e6
			return &m
		}
		seen += float64(c)
	}
	return nil
}

// MarshalBinary encodes the counts as unsigned varints: most buckets are empty, so a
// histogram takes about 70 bytes.
func (h *LatencyHistogram) MarshalBinary() ([]byte, error) {
	b := make([]byte, 0, latencyBuckets+16)
	for _, c := range h.Counts {
		if c < 0 {
			return nil, fmt.Errorf("latency histogram: negative count %d", c)
		}
		b = binary.AppendUvarint(b, uint64(c))
	}
	return b, nil
}

// UnmarshalBinary reads what MarshalBinary wrote; an empty input is an empty
// histogram.
func (h *LatencyHistogram) UnmarshalBinary(b []byte) error {
	*h = LatencyHistogram{}
	if len(b) == 0 {
		return nil
	}
	for i := range h.Counts {
		v, n := binary.Uvarint(b)
		if n <= 0 {
			return errors.New("latency histogram: truncated")
		}
		h.Counts[i] = int64(v)
		b = b[n:]
	}
	if len(b) != 0 {
		return errors.New("latency histogram: trailing bytes")
	}
	return nil
}
