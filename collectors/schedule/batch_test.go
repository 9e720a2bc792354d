package schedule

import (
	"testing"
	"time"
)

// TestBatchWindowNeverCrowdsTheRunners checks the window each group of jobs gets: the
// one asked for, narrowed so that the jobs starting together in one window never
// take more than a quarter of the runners, and none when that would be under 1 ms.
func TestBatchWindowNeverCrowdsTheRunners(t *testing.T) {
	for _, tc := range []struct {
		name           string
		want, interval time.Duration
		n, conc        int
		got            time.Duration
	}{
		{"10,000 a minute, default runners", DefaultBatchWindow, time.Minute, 10000, 300, 25 * time.Millisecond},
		{"10,000 a minute at 50 ms, 100 runners", 50 * time.Millisecond, time.Minute, 10000, 100, 50 * time.Millisecond},
		// 25 runners a window at 1,000 a second: 25 ms.
		{"60,000 a minute at 50 ms, 100 runners", 50 * time.Millisecond, time.Minute, 60000, 100, 25 * time.Millisecond},
		{"too many for any window", DefaultBatchWindow, time.Minute, 100000, 4, 0},
		{"off", -1, time.Minute, 10000, 300, 0},
		{"no jobs", DefaultBatchWindow, time.Minute, 0, 300, 0},
		{"a few feeds", DefaultBatchWindow, 15 * time.Minute, 3, 300, 25 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := batchWindow(tc.want, tc.interval, tc.n, tc.conc); got != tc.got {
				t.Errorf("batchWindow(%s, %s, %d jobs, %d runners) = %s, want %s", tc.want, tc.interval, tc.n, tc.conc, got, tc.got)
			}
			// What the window is for: no window holds more than a quarter of the runners.
			if w := batchWindow(tc.want, tc.interval, tc.n, tc.conc); w > 0 {
				if most := (int64(tc.n)*int64(w) + int64(tc.interval) - 1) / int64(tc.interval); most > int64(max(tc.conc/4, 1)) {
					t.Errorf("a %s window holds up to %d jobs, over a quarter of %d runners", w, most, tc.conc)
				}
			}
		})
	}
}
