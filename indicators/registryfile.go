package indicators

import (
	"bytes"
	_ "embed" // the demo registry ships inside the binary
	"errors"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"go.yaml.in/yaml/v3"
)

// The registry of Viet Nam's agencies that `goc demo` and the tests use, and that `goc`
// prints as an example of the file format.
//
//go:embed data/agencies.yaml
var defaultAgenciesYAML string

// defaultRegistryName is how messages about the embedded file name it: its path in the
// repository, where someone would go to fix it.
const defaultRegistryName = "indicators/data/agencies.yaml"

// DefaultRegistryYAML returns the embedded registry file: Viet Nam's ministries, the
// provinces before and after the 2025 merger, and a sample of districts and communes.
// Each call returns a fresh copy the caller may change.
func DefaultRegistryYAML() []byte { return []byte(defaultAgenciesYAML) }

// DefaultRegistry parses the embedded registry file. It panics only if that file is
// broken, which the package's tests rule out before a release.
func DefaultRegistry() *Registry {
	r, err := ParseRegistry(defaultRegistryName, []byte(defaultAgenciesYAML))
	if err != nil {
		panic(fmt.Sprintf("embedded agency registry is broken: %v", err))
	}
	return r
}

// RegistryProblem is one thing wrong with a registry: where it is and what is wrong.
type RegistryProblem struct {
	// Line is the 1-based line in the file, or 0 when the agencies did not come from a
	// file or the problem has no single place.
	Line int
	// Index is the agency's position in the list (agencies[Index]), or -1 for a
	// problem of the whole registry.
	Index int
	// Code is the agency's code, when it has one.
	Code string
	// Field is the key the problem is about ("parent", "successors"), or "" for the
	// entry as a whole.
	Field string
	// Message says what is wrong, in English, without the place.
	Message string

	item int      // which element of a list field (successors) is wrong; -1 for none
	also []string // other fields whose bad value may be the real cause of this problem
}

// String is the problem without the file and line: "agencies[12] (P08): successor
// "N99" is not in the registry".
func (p RegistryProblem) String() string {
	switch {
	case p.Index < 0:
		return p.Message
	case p.Code == "":
		return fmt.Sprintf("agencies[%d]: %s", p.Index, p.Message)
	}
	return fmt.Sprintf("agencies[%d] (%s): %s", p.Index, p.Code, p.Message)
}

// RegistryError lists every problem found in a registry, so that whoever edits the file
// can fix them all in one pass.
type RegistryError struct {
	// Name is the file the agencies came from, or "" when they were built in code.
	Name     string
	Problems []RegistryProblem
}

// Error prints one problem a line, each led by file:line as compilers do, so editors
// and terminals can jump to it.
func (e *RegistryError) Error() string {
	var b strings.Builder
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteByte('\n')
		}
		switch {
		case e.Name != "" && p.Line > 0:
			fmt.Fprintf(&b, "%s:%d: ", e.Name, p.Line)
		case e.Name != "":
			fmt.Fprintf(&b, "%s: ", e.Name)
		default:
			b.WriteString("agency registry: ")
		}
		b.WriteString(p.String())
	}
	return b.String()
}

// ParseRegistry reads a registry file (YAML, a list under "agencies:"; see
// DefaultRegistryYAML for an example) and builds the registry. name is what messages
// call the file. Every problem is reported, each with its line, as a *RegistryError:
// unknown keys, malformed dates and codes, parents and successors that are missing or
// do not fit, as well as everything NewRegistry checks.
func ParseRegistry(name string, data []byte) (*Registry, error) {
	f := &registryFile{}
	list := f.decode(data)
	if f.fatal {
		return nil, f.err(name)
	}
	r, problems := buildRegistry(list)
	for _, p := range problems {
		f.place(p)
	}
	f.check(list)
	if len(f.problems) > 0 {
		return nil, f.err(name)
	}
	return r, nil
}

// registryFields are the keys an agency entry may have, in the order the file uses.
func registryFields() []string {
	return []string{
		"code", "name_vi", "name_en", "kind", "parent", "valid_from", "valid_to",
		"successors", "portal", "gso_code",
	}
}

// registryFile holds what decoding one file learnt: where each entry and field is, so
// that problems found later can be given a line.
type registryFile struct {
	agenciesLine int             // line of the "agencies:" key
	entries      []registryEntry // one per agency in the list handed to buildRegistry
	problems     []RegistryProblem
	fatal        bool // the YAML could not be read: nothing more to check
}

// registryEntry is where one agency sits in the file.
type registryEntry struct {
	index  int                   // position under "agencies:"
	line   int                   // line of the entry
	values map[string]*yaml.Node // the value of each key
	bad    map[string]bool       // keys whose value could not be read
}

// registryYAMLLine finds the line in the YAML library's syntax errors ("yaml: line 3: ...").
var registryYAMLLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

func (f *registryFile) decode(data []byte) []*Agency {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			f.fail(0, `the file is empty: want a list of agencies under "agencies:"`)
		} else {
			f.syntax(err)
		}
		return nil
	}
	var more yaml.Node
	switch err := dec.Decode(&more); {
	case err == nil:
		f.fail(more.Line, `a second YAML document ("---"): put every agency under the one "agencies:" list`)
	case !errors.Is(err, io.EOF):
		f.syntax(err)
	}
	root := registryResolve(&doc)
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = registryResolve(root.Content[0])
	}
	if root.Kind != yaml.MappingNode {
		f.fail(root.Line, `want a mapping with the key "agencies:" holding a list of agencies`)
		return nil
	}
	var agencies *yaml.Node
	for k, v := range registryPairs(root) {
		switch {
		case k.Value != "agencies":
			f.add(RegistryProblem{Line: k.Line, Index: -1, Message: fmt.Sprintf("unknown field %q at the top (want agencies)", k.Value)})
		case agencies != nil:
			f.add(RegistryProblem{Line: k.Line, Index: -1, Message: fmt.Sprintf(`"agencies:" is given twice (first on line %d)`, f.agenciesLine)})
		default:
			agencies, f.agenciesLine = registryResolve(v), k.Line
		}
	}
	if agencies == nil {
		f.fail(root.Line, `no "agencies:" list`)
		return nil
	}
	if agencies.ShortTag() == "!!null" {
		return nil // an empty list: buildRegistry says what is missing
	}
	if agencies.Kind != yaml.SequenceNode {
		f.fail(agencies.Line, `"agencies:" must be a list, each item starting with "- code: ..."`)
		return nil
	}
	var list []*Agency
	for i, item := range agencies.Content {
		item = registryResolve(item)
		if item.Kind != yaml.MappingNode {
			f.add(RegistryProblem{Line: item.Line, Index: i, Message: "want a mapping of fields (code, name_vi, kind, ...)"})
			continue
		}
		a, e := f.decodeAgency(i, item)
		list = append(list, a)
		f.entries = append(f.entries, e)
	}
	return list
}

// decodeAgency reads one entry field by field, so that a bad field is reported on its own
// line and the others are still read and checked.
func (f *registryFile) decodeAgency(i int, n *yaml.Node) (*Agency, registryEntry) {
	a := &Agency{}
	e := registryEntry{index: i, line: n.Line, values: map[string]*yaml.Node{}, bad: map[string]bool{}}
	var found []RegistryProblem
	problem := func(line int, field, format string, args ...any) {
		found = append(found, RegistryProblem{Line: line, Index: i, Field: field, item: -1, Message: fmt.Sprintf(format, args...)})
		e.bad[field] = true
	}
	keyLine := map[string]int{}
	for k, v := range registryPairs(n) {
		key := k.Value
		if first, dup := keyLine[key]; dup {
			problem(k.Line, key, "field %q is given twice (first on line %d)", key, first)
			continue
		}
		keyLine[key] = k.Line
		v = registryResolve(v)
		e.values[key] = v
		switch key {
		case "code", "name_vi", "name_en", "kind", "parent", "portal", "gso_code":
			s, ok := registryScalar(v)
			if !ok {
				problem(v.Line, key, "%s: want a single value, not a %s", key, registryNodeKind(v))
				continue
			}
			switch key {
			case "code":
				a.Code = s
			case "name_vi":
				a.NameVI = s
			case "name_en":
				a.NameEN = s
			case "kind":
				a.Kind = AgencyKind(s)
			case "parent":
				a.Parent = s
			case "portal":
				a.Portal = s
			case "gso_code":
				a.GSOCode = s
			}
		case "valid_from", "valid_to":
			s, ok := registryScalar(v)
			if !ok {
				problem(v.Line, key, "%s: want a date YYYY-MM-DD, not a %s", key, registryNodeKind(v))
				continue
			}
			if s == "" {
				continue // null: an open end, as if the key were absent
			}
			d, err := ParseDate(s)
			if err != nil {
				problem(v.Line, key, "%s %q is not a date: want YYYY-MM-DD", key, s)
				continue
			}
			if key == "valid_from" {
				a.ValidFrom = d
			} else {
				a.ValidTo = d
			}
		case "successors":
			if v.ShortTag() == "!!null" {
				continue
			}
			if v.Kind != yaml.SequenceNode {
				problem(v.Line, key, "successors: want a list of codes, like [N08], not a %s", registryNodeKind(v))
				continue
			}
			for _, item := range v.Content {
				s, ok := registryScalar(registryResolve(item))
				if !ok || s == "" {
					problem(item.Line, key, "successors: each item must be an agency code")
					continue
				}
				a.Successors = append(a.Successors, s)
			}
		case "predecessors":
			problem(k.Line, key, `unknown field "predecessors": they are worked out from the successors of the former agencies; list successors there instead`)
		default:
			msg := fmt.Sprintf("unknown field %q", key)
			if near := registryNearest(key, registryFields()); near != "" {
				msg += fmt.Sprintf(" (did you mean %s?)", near)
			} else {
				msg += " (want one of " + strings.Join(registryFields(), ", ") + ")"
			}
			problem(k.Line, key, "%s", msg)
		}
	}
	for _, p := range found {
		p.Code = a.Code
		f.add(p)
	}
	return a, e
}

// place gives a problem that buildRegistry found the line of the field it is about, and
// drops it when a field it depends on could not be read: that was reported already, and
// a second message about the same mistake would only mislead.
func (f *registryFile) place(p RegistryProblem) {
	if p.Index < 0 {
		p.Line = f.agenciesLine
		f.add(p)
		return
	}
	e := f.entries[p.Index]
	p.Index = e.index
	if e.bad[p.Field] || slices.ContainsFunc(p.also, func(k string) bool { return e.bad[k] }) {
		return
	}
	p.Line = e.lineOf(p.Field, p.item)
	f.add(p)
}

// lineOf is the line of field's value (of its item'th element for a list), or of the
// entry when the field is absent.
func (e registryEntry) lineOf(field string, item int) int {
	v, ok := e.values[field]
	if !ok {
		return e.line
	}
	if item >= 0 && item < len(v.Content) {
		return v.Content[item].Line
	}
	return v.Line
}

// check applies the rules a registry file must follow beyond what NewRegistry enforces
// for any list of agencies: codes and portals that collectors and URLs can carry, a
// hierarchy that follows Viet Nam's tiers of government, and lifetimes and successions
// that join up day to day, so that a merged unit's history rolls up without gaps.
func (f *registryFile) check(list []*Agency) {
	byCode := map[string]*Agency{}
	for _, a := range list {
		if _, seen := byCode[a.Code]; !seen && a.Code != "" {
			byCode[a.Code] = a
		}
	}
	for k, a := range list {
		e := f.entries[k]
		problem := func(field string, item int, format string, args ...any) {
			if e.bad[field] {
				return
			}
			f.add(RegistryProblem{Line: e.lineOf(field, item), Index: e.index, Code: a.Code, Field: field, item: item, Message: fmt.Sprintf(format, args...)})
		}
		if a.Code != "" && !registryCodePattern.MatchString(a.Code) {
			problem("code", -1, "code %q: use letters, digits and - . _ only, starting with a letter or digit", a.Code)
		}
		for _, n := range []struct{ field, name string }{{"name_vi", a.NameVI}, {"name_en", a.NameEN}} {
			if strings.ContainsFunc(n.name, func(r rune) bool { return unicode.Is(unicode.Mn, r) }) {
				problem(n.field, -1, "%s %q has combining accents (decomposed Unicode): retype it with precomposed letters (NFC) so that search and sorting work", n.field, n.name)
			}
		}
		if a.GSOCode != "" && strings.ContainsFunc(a.GSOCode, func(r rune) bool { return r < '0' || r > '9' }) {
			problem("gso_code", -1, "gso_code %q: want digits only, as the statistics office writes them (quote it to keep leading zeros)", a.GSOCode)
		}
		if a.Portal != "" {
			if u, err := url.Parse(a.Portal); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				problem("portal", -1, "portal %q: want an address starting with https:// or http://", a.Portal)
			}
		}
		if a.Kind == KindNational && a.Parent != "" {
			problem("parent", -1, "the national agency is the root and has no parent")
		}
		if p, ok := byCode[a.Parent]; ok && a.Kind != KindNational {
			f.checkParent(a, p, problem)
		}
		seen := map[string]bool{}
		for n, s := range a.Successors {
			switch succ, ok := byCode[s]; {
			case s == a.Code:
				problem("successors", n, "lists itself as a successor")
			case seen[s]:
				problem("successors", n, "successor %q is listed twice", s)
			case ok:
				f.checkSuccessor(a, succ, n, problem)
			}
			seen[s] = true
		}
	}
	f.checkGSOCodes(list)
}

// registryCodePattern keeps codes safe to put in URLs, tokens, file names and metric labels.
var registryCodePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// registryAllowedParents is Viet Nam's hierarchy: central bodies and provinces answer to the
// country; districts sat in provinces; communes sat in districts until 30 June 2025 and
// sit directly in provinces since.
func registryAllowedParents(k AgencyKind) []AgencyKind {
	switch k {
	case KindMinistry, KindMinisterialAgency, KindGovernmentAgency, KindProvince:
		return []AgencyKind{KindNational}
	case KindDistrict:
		return []AgencyKind{KindProvince}
	case KindCommune:
		return []AgencyKind{KindProvince, KindDistrict}
	}
	return nil
}

func (f *registryFile) checkParent(a, p *Agency, problem func(string, int, string, ...any)) {
	if want := registryAllowedParents(a.Kind); want != nil && p.Kind.Level() != "" && !slices.Contains(want, p.Kind) {
		names := make([]string, len(want))
		for i, k := range want {
			names[i] = string(k)
		}
		problem("parent", -1, "a %s sits under a %s, not under %s (a %s)", a.Kind, strings.Join(names, " or "), p.Code, p.Kind)
	}
	if !p.ValidFrom.IsZero() && (a.ValidFrom.IsZero() || a.ValidFrom.Before(p.ValidFrom.Time)) {
		problem("valid_from", -1, "starts before its parent %s, which began on %s: give a valid_from on or after it", p.Code, p.ValidFrom)
	}
	if !p.ValidTo.IsZero() && (a.ValidTo.IsZero() || a.ValidTo.After(p.ValidTo.Time)) {
		problem("valid_to", -1, "outlives its parent %s, which ended on %s: end it by then or move it under the successor", p.Code, p.ValidTo)
	}
}

func (f *registryFile) checkSuccessor(a, succ *Agency, n int, problem func(string, int, string, ...any)) {
	if a.Kind.Level() != "" && succ.Kind.Level() != "" && a.Kind.Level() != succ.Kind.Level() {
		problem("successors", n, "successor %q is at the %s level, this agency at the %s level", succ.Code, succ.Kind.Level(), a.Kind.Level())
	}
	if a.ValidTo.IsZero() {
		return // buildRegistry reports the missing valid_to
	}
	if next := a.ValidTo.AddDate(0, 0, 1); !succ.ActiveOn(next) {
		problem("successors", n, "successor %q does not exist on %s, the day after this agency's valid_to", succ.Code, next.Format("2006-01-02"))
	}
}

// checkGSOCodes refuses two agencies that hold the same official code at the same time:
// feeds and templates name units by that code. A new unit may reuse a former unit's code.
func (f *registryFile) checkGSOCodes(list []*Agency) {
	first := map[string][]int{}
	for k, a := range list {
		if a.GSOCode == "" || f.entries[k].bad["gso_code"] {
			continue
		}
		for _, j := range first[a.GSOCode] {
			if b := list[j]; registryOverlap(a, b) {
				e := f.entries[k]
				f.add(RegistryProblem{Line: e.lineOf("gso_code", -1), Index: e.index, Code: a.Code, Field: "gso_code", item: -1,
					Message: fmt.Sprintf("gso_code %q is also held by %s over the same time", a.GSOCode, b.Code)})
				break
			}
		}
		first[a.GSOCode] = append(first[a.GSOCode], k)
	}
}

// registryOverlap reports whether two agencies existed on some common day.
func registryOverlap(a, b *Agency) bool {
	if !a.ValidTo.IsZero() && !b.ValidFrom.IsZero() && a.ValidTo.Before(b.ValidFrom.Time) {
		return false
	}
	if !b.ValidTo.IsZero() && !a.ValidFrom.IsZero() && b.ValidTo.Before(a.ValidFrom.Time) {
		return false
	}
	return true
}

func (f *registryFile) add(p RegistryProblem) { f.problems = append(f.problems, p) }

func (f *registryFile) fail(line int, msg string) {
	f.add(RegistryProblem{Line: line, Index: -1, item: -1, Message: msg})
	f.fatal = true
}

func (f *registryFile) syntax(err error) {
	msg := err.Error()
	line := 0
	if m := registryYAMLLine.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
	} else {
		msg = strings.TrimPrefix(msg, "yaml: ")
	}
	f.fail(line, "not valid YAML: "+msg)
}

// err sorts the problems by line, keeping the order they were found within a line.
func (f *registryFile) err(name string) error {
	slices.SortStableFunc(f.problems, func(a, b RegistryProblem) int { return a.Line - b.Line })
	return &RegistryError{Name: name, Problems: f.problems}
}

// registryPairs walks a mapping's keys and values in file order.
func registryPairs(n *yaml.Node) func(func(*yaml.Node, *yaml.Node) bool) {
	return func(yield func(*yaml.Node, *yaml.Node) bool) {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if !yield(n.Content[i], n.Content[i+1]) {
				return
			}
		}
	}
}

// registryResolve follows an alias (*name) to the node it stands for.
func registryResolve(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

// registryScalar is a node's text as written ("02" stays "02"); null is "".
func registryScalar(n *yaml.Node) (string, bool) {
	if n.Kind != yaml.ScalarNode {
		return "", false
	}
	if n.ShortTag() == "!!null" {
		return "", true
	}
	return n.Value, true
}

// registryNodeKind names a node's shape for messages.
func registryNodeKind(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "list"
	case yaml.MappingNode:
		return "mapping"
	}
	return "value"
}

// registryNearest finds the known key a misspelt one was probably meant to be: at most two
// edits away.
func registryNearest(key string, known []string) string {
	best, bestDist := "", 3
	for _, k := range known {
		if d := registryEditDistance(key, k); d < bestDist {
			best, bestDist = k, d
		}
	}
	return best
}

// registryEditDistance is the Levenshtein distance between a and b.
func registryEditDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
