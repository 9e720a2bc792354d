package indicators

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// AgencyKind is what sort of state body an agency is.
type AgencyKind string

// Agency kinds.
const (
	KindNational          AgencyKind = "national" // the country: root of the hierarchy
	KindMinistry          AgencyKind = "ministry"
	KindMinisterialAgency AgencyKind = "ministerial_agency" // cơ quan ngang bộ
	KindGovernmentAgency  AgencyKind = "government_agency"  // cơ quan thuộc Chính phủ
	KindProvince          AgencyKind = "province"
	KindDistrict          AgencyKind = "district"
	KindCommune           AgencyKind = "commune"
)

// Level is the tier of government whose targets judge an agency of this kind.
func (k AgencyKind) Level() Level {
	switch k {
	case KindNational:
		return National
	case KindMinistry, KindMinisterialAgency, KindGovernmentAgency:
		return Ministry
	case KindProvince:
		return Province
	case KindDistrict:
		return District
	case KindCommune:
		return Commune
	}
	return ""
}

// Date is a civil date (no time of day), as laws set them: "2025-07-01".
type Date struct{ time.Time }

// ParseDate reads YYYY-MM-DD.
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, strings.TrimSpace(s))
	if err != nil {
		return Date{}, fmt.Errorf("date %q: want YYYY-MM-DD", s)
	}
	return Date{t}, nil
}

// String is YYYY-MM-DD, or "" for the zero date.
func (d Date) String() string {
	if d.IsZero() {
		return ""
	}
	return d.Format(time.DateOnly)
}

// MarshalText writes YYYY-MM-DD.
func (d Date) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText reads YYYY-MM-DD.
func (d *Date) UnmarshalText(b []byte) error {
	v, err := ParseDate(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// MarshalJSON writes "YYYY-MM-DD", as the API's description says. Without it the
// embedded time.Time's MarshalJSON wins over MarshalText and writes a timestamp.
func (d Date) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// UnmarshalJSON reads "YYYY-MM-DD", or the RFC 3339 timestamp servers wrote before
// MarshalJSON existed, so a client reads both.
func (d *Date) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("date: %w", err)
	}
	if s == "" {
		*d = Date{}
		return nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		*d = Date{time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)}
		return nil
	}
	return d.UnmarshalText([]byte(s))
}

// Agency is one state body that reports or is monitored.
type Agency struct {
	Code   string     `json:"code" yaml:"code"`
	NameVI string     `json:"name_vi" yaml:"name_vi"`
	NameEN string     `json:"name_en" yaml:"name_en"`
	Kind   AgencyKind `json:"kind" yaml:"kind"`
	Parent string     `json:"parent,omitempty" yaml:"parent,omitempty"`
	// ValidFrom and ValidTo bound the agency's life; zero means open. ValidTo is the last
	// day it existed.
	ValidFrom Date `json:"valid_from,omitzero" yaml:"valid_from,omitempty"`
	ValidTo   Date `json:"valid_to,omitzero" yaml:"valid_to,omitempty"`
	// Successors are the agencies that took this one over (a merger or a split).
	Successors []string `json:"successors,omitempty" yaml:"successors,omitempty"`
	// Predecessors is filled in by the registry from the others' Successors.
	Predecessors []string `json:"predecessors,omitempty" yaml:"-"`
	// Portal is the agency's public portal, which collectors probe.
	Portal string `json:"portal,omitempty" yaml:"portal,omitempty"`
	// GSOCode is the official administrative-unit code, where there is one.
	GSOCode string `json:"gso_code,omitempty" yaml:"gso_code,omitempty"`
}

// Level is the tier whose targets judge this agency.
func (a *Agency) Level() Level { return a.Kind.Level() }

// ActiveOn reports whether the agency existed on day d.
func (a *Agency) ActiveOn(d time.Time) bool {
	if !a.ValidFrom.IsZero() && d.Before(a.ValidFrom.Time) {
		return false
	}
	if !a.ValidTo.IsZero() && d.After(a.ValidTo.Time) {
		return false
	}
	return true
}

// ActiveDuring reports whether the agency existed at any time in [from, to).
func (a *Agency) ActiveDuring(from, to time.Time) bool {
	if !a.ValidFrom.IsZero() && !a.ValidFrom.Before(to) {
		return false
	}
	if !a.ValidTo.IsZero() && a.ValidTo.Before(from) {
		return false
	}
	return true
}

// Registry is the agency hierarchy, with the successions that connect units before and
// after a reorganisation.
type Registry struct {
	list     []*Agency
	index    map[string]*Agency
	children map[string][]string
	root     string
}

// NewRegistry checks the agencies and links parents, children and predecessors. There
// must be exactly one national agency: the root. It reports every problem it finds, not
// only the first, as a *RegistryError.
func NewRegistry(list []*Agency) (*Registry, error) {
	r, problems := buildRegistry(list)
	if len(problems) > 0 {
		return nil, &RegistryError{Problems: problems}
	}
	return r, nil
}

// buildRegistry does NewRegistry's work and returns its problems placed by entry and
// field, so that ParseRegistry can name the line of each.
func buildRegistry(list []*Agency) (*Registry, []RegistryProblem) {
	r := &Registry{index: make(map[string]*Agency, len(list)), children: map[string][]string{}}
	var problems []RegistryProblem
	add := func(i int, a *Agency, field string, format string, args ...any) *RegistryProblem {
		problems = append(problems, RegistryProblem{Index: i, Code: a.Code, Field: field, item: -1, Message: fmt.Sprintf(format, args...)})
		return &problems[len(problems)-1]
	}
	first := make(map[string]int, len(list)) // code -> index of the entry that holds it
	var order []int                          // index in list of each agency kept in r.list
	for i, a := range list {
		if a.Code == "" {
			add(i, a, "code", "code is empty")
			continue
		}
		if j, dup := first[a.Code]; dup {
			add(i, a, "code", "code %q is used twice (first by agencies[%d])", a.Code, j)
			continue
		}
		if a.Kind.Level() == "" {
			add(i, a, "kind", "kind %q is not known (want one of %s)", a.Kind, agencyKindList())
		}
		if a.NameVI == "" {
			add(i, a, "name_vi", "name_vi is empty")
		}
		if !a.ValidFrom.IsZero() && !a.ValidTo.IsZero() && a.ValidTo.Before(a.ValidFrom.Time) {
			add(i, a, "valid_to", "valid_to %s is before valid_from %s", a.ValidTo, a.ValidFrom).also = []string{"valid_from"}
		}
		a.Predecessors = nil
		first[a.Code] = i
		order = append(order, i)
		r.index[a.Code] = a
		r.list = append(r.list, a)
	}
	for k, a := range r.list {
		i := order[k]
		if a.Kind == KindNational {
			if r.root != "" {
				add(i, a, "kind", "a second national agency; %s is already the root", r.root)
			} else {
				r.root = a.Code
			}
		} else if a.Parent == "" {
			add(i, a, "", "parent is empty: every agency but the national one needs a parent")
		} else if _, ok := r.index[a.Parent]; !ok {
			add(i, a, "parent", "parent %q is not in the registry", a.Parent)
		} else {
			r.children[a.Parent] = append(r.children[a.Parent], a.Code)
		}
		if len(a.Successors) > 0 && a.ValidTo.IsZero() {
			add(i, a, "successors", "has successors but no valid_to: give the last day it existed").also = []string{"valid_to"}
		}
		for n, s := range a.Successors {
			succ, ok := r.index[s]
			if !ok {
				add(i, a, "successors", "successor %q is not in the registry", s).item = n
				continue
			}
			succ.Predecessors = append(succ.Predecessors, a.Code)
		}
	}
	if r.root == "" {
		problems = append(problems, RegistryProblem{Index: -1, item: -1, Message: "no agency of kind national: the registry needs the country as its root"})
	}
	for _, cyc := range r.cycles() {
		a := r.index[cyc[0]]
		add(first[a.Code], a, "parent", "parent links form a cycle: %s", strings.Join(append(cyc, cyc[0]), " → "))
	}
	return r, problems
}

// cycles finds each loop of parent links once, as the codes on it starting from the
// agency that comes first in the list. A registry with a loop would send Within and
// Subtree round it for ever.
func (r *Registry) cycles() [][]string {
	pos := make(map[string]int, len(r.list))
	for i, a := range r.list {
		pos[a.Code] = i
	}
	done := map[string]bool{} // agencies already known to reach the root, a gap or a loop
	var out [][]string
	for _, a := range r.list {
		var path []string
		onPath := map[string]int{}
		c := a.Code
		for {
			if done[c] {
				break
			}
			if at, ok := onPath[c]; ok {
				loop := path[at:]
				start := 0
				for j, code := range loop {
					if pos[code] < pos[loop[start]] {
						start = j
					}
				}
				out = append(out, append(slices.Clone(loop[start:]), loop[:start]...))
				break
			}
			ag, ok := r.index[c]
			if !ok || ag.Kind == KindNational || ag.Parent == "" {
				break
			}
			onPath[c] = len(path)
			path = append(path, c)
			c = ag.Parent
		}
		for _, code := range path {
			done[code] = true
		}
	}
	return out
}

// agencyKindList lists the agency kinds for messages.
func agencyKindList() string {
	return strings.Join([]string{string(KindNational), string(KindMinistry), string(KindMinisterialAgency),
		string(KindGovernmentAgency), string(KindProvince), string(KindDistrict), string(KindCommune)}, ", ")
}

// Root is the national agency's code.
func (r *Registry) Root() string { return r.root }

// All lists every agency, current and former, in file order.
func (r *Registry) All() []*Agency { return r.list }

// Get finds an agency by code.
func (r *Registry) Get(code string) (*Agency, bool) {
	a, ok := r.index[code]
	return a, ok
}

// Children lists the direct children of code, whatever their dates.
func (r *Registry) Children(code string) []*Agency {
	out := make([]*Agency, 0, len(r.children[code]))
	for _, c := range r.children[code] {
		out = append(out, r.index[c])
	}
	return out
}

// Within reports whether code is scope or lies below it (a token for a province may
// submit for its districts and communes).
func (r *Registry) Within(code, scope string) bool {
	for c := code; c != ""; {
		if c == scope {
			return true
		}
		a, ok := r.index[c]
		if !ok || a.Kind == KindNational {
			return false
		}
		c = a.Parent
	}
	return false
}

// Subtree lists scope and every agency below it, depth first.
func (r *Registry) Subtree(scope string) []*Agency {
	var out []*Agency
	var walk func(string)
	walk = func(c string) {
		a, ok := r.index[c]
		if !ok {
			return
		}
		out = append(out, a)
		for _, ch := range r.children[c] {
			walk(ch)
		}
	}
	walk(scope)
	return out
}

// OfKind lists the agencies of the given kinds that were active on day d (any day if d is
// zero), in file order.
func (r *Registry) OfKind(d time.Time, kinds ...AgencyKind) []*Agency {
	var out []*Agency
	for _, a := range r.list {
		if slices.Contains(kinds, a.Kind) && (d.IsZero() || a.ActiveOn(d)) {
			out = append(out, a)
		}
	}
	return out
}
