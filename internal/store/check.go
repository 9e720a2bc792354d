package store

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/indicators/period"
)

// Times a store keeps: every backend stores instants as unix nanoseconds, which reach
// from 1678 to 2262; G-OC accepts a safe margin inside that.
const (
	minYear = 1900
	maxYear = 2200
)

// CheckObservation refuses what a store cannot keep faithfully, so that every backend
// rejects exactly the same observations. Range checks against the catalogue are the
// submission layer's job, not the store's.
func CheckObservation(o *indicators.Observation) error {
	switch {
	case strings.TrimSpace(o.Indicator) == "":
		return errors.New("empty indicator")
	case strings.TrimSpace(o.Agency) == "":
		return errors.New("empty agency")
	case badKey(o.Indicator):
		return fmt.Errorf("indicator %q contains a control character or a backslash", o.Indicator)
	case badKey(o.Agency):
		return fmt.Errorf("agency %q contains a control character or a backslash", o.Agency)
	case o.Period.IsZero():
		return errors.New("no period")
	case !o.Source.Valid():
		return fmt.Errorf("unknown source %q", o.Source)
	case !finite(o.Value):
		return fmt.Errorf("value %v is not a finite number", o.Value)
	case o.Numerator != nil && !finite(*o.Numerator):
		return fmt.Errorf("numerator %v is not a finite number", *o.Numerator)
	case o.Denominator != nil && !finite(*o.Denominator):
		return fmt.Errorf("denominator %v is not a finite number", *o.Denominator)
	}
	if _, err := period.New(o.Period.Kind, o.Period.Year, o.Period.Index); err != nil {
		return err
	}
	if !o.ReceivedAt.IsZero() && !inRange(o.ReceivedAt) {
		return fmt.Errorf("received time %s is outside %d-%d", o.ReceivedAt.Format(time.RFC3339), minYear, maxYear)
	}
	return nil
}

// CheckProbeResult refuses a probe result a store cannot keep faithfully, alike in
// every backend.
func CheckProbeResult(r *indicators.ProbeResult) error {
	switch {
	case strings.TrimSpace(r.Target) == "":
		return errors.New("empty target")
	case badKey(r.Target):
		return fmt.Errorf("target %q contains a control character or a backslash", r.Target)
	case badKey(r.Agency):
		return fmt.Errorf("agency %q contains a control character or a backslash", r.Agency)
	case r.Time.IsZero():
		return errors.New("no time")
	case !inRange(r.Time):
		return fmt.Errorf("time %s is outside %d-%d", r.Time.Format(time.RFC3339), minYear, maxYear)
	}
	for k, v := range r.Phases {
		if !finite(v) {
			return fmt.Errorf("phase %s duration %v is not a finite number", k, v)
		}
		if strings.TrimSpace(k) == "" || badKey(k) {
			return fmt.Errorf("phase name %q is empty or contains a control character or a backslash", k)
		}
	}
	return nil
}

// inRange reports whether t falls within the years every backend can store.
func inRange(t time.Time) bool { y := t.Year(); return y >= minYear && y <= maxYear }

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

// badKey reports a control character or a backslash in a code, URL or name. Neither
// belongs in one, and InfluxDB's line protocol cannot carry either in a tag value or
// field key (a line break ends the line; a backslash escapes what follows it), so
// every backend refuses them alike.
func badKey(s string) bool {
	return strings.ContainsRune(s, '\\') || strings.IndexFunc(s, unicode.IsControl) >= 0
}
