package api

import (
	"net/url"
	"strconv"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/indicators/period"
)

// params reads query parameters and collects every problem, so one 400 names every bad
// parameter with the same wording on every endpoint.
type params struct {
	q     url.Values
	probs []Problem
}

func newParams(q url.Values) *params { return &params{q: q} }

func (p *params) fail(field, reason string) {
	p.probs = append(p.probs, Problem{Field: field, Reason: reason})
}

// required returns a parameter that must be present.
func (p *params) required(name string) string {
	v := p.q.Get(name)
	if v == "" {
		p.fail(name, "bắt buộc / required")
	}
	return v
}

// period parses an optional period; ok is false when absent or bad.
func (p *params) period(name string) (per period.Period, ok bool) {
	v := p.q.Get(name)
	if v == "" {
		return period.Period{}, false
	}
	per, err := period.Parse(v)
	if err != nil {
		p.fail(name, "kỳ không hợp lệ / "+err.Error())
		return period.Period{}, false
	}
	return per, true
}

// boolean parses an optional true/false parameter; absent is false.
func (p *params) boolean(name string) bool {
	v := p.q.Get(name)
	if v == "" {
		return false
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		p.fail(name, "phải là true hoặc false / must be true or false")
	}
	return b
}

// level parses an optional level; absent is "".
func (p *params) level(name string) indicators.Level {
	v := p.q.Get(name)
	if v == "" {
		return ""
	}
	l, err := indicators.ParseLevel(v)
	if err != nil {
		p.fail(name, err.Error())
	}
	return l
}
