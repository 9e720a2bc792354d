package indicators

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

//go:embed data/catalogue.yaml
var builtinCatalogue []byte

// DefaultCatalogueYAML is the built-in catalogue file, for `goc` to print as an example.
func DefaultCatalogueYAML() []byte { return bytes.Clone(builtinCatalogue) }

// DefaultCatalogue is the built-in catalogue of the Resolution's targets. The embedded
// file is checked by the package's tests, so failing here is a build defect.
func DefaultCatalogue() *Catalogue {
	list, err := ParseCatalogue("catalogue.yaml (built in)", builtinCatalogue)
	if err != nil {
		panic(err)
	}
	c, err := NewCatalogue(list)
	if err != nil {
		panic(err)
	}
	return c
}

type catalogueFile struct {
	Indicators []yaml.Node `yaml:"indicators"`
}

// ParseCatalogue reads a catalogue file's indicators. Every problem is reported with the
// file name and line, so an operator can fix an override file in one pass.
func ParseCatalogue(name string, data []byte) ([]*Indicator, error) {
	var f catalogueFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return nil, yamlError(name, err)
	}
	var (
		list []*Indicator
		errs []string
		seen = map[string]int{}
	)
	for i := range f.Indicators {
		n := &f.Indicators[i]
		ind := new(Indicator)
		if err := decodeStrict(n, ind); err != nil {
			errs = append(errs, placeError(name, n, err)...)
			continue
		}
		where := fmt.Sprintf("%s:%d: indicators[%d] (%s)", name, n.Line, i, ind.Code)
		if prev, dup := seen[ind.Code]; dup {
			errs = append(errs, fmt.Sprintf("%s: code is also used at line %d", where, prev))
			continue
		}
		seen[ind.Code] = n.Line
		for _, msg := range ind.check() {
			errs = append(errs, where+": "+msg)
		}
		list = append(list, ind)
	}
	if len(errs) > 0 {
		return nil, errors.New(strings.Join(errs, "\n"))
	}
	return list, nil
}

// decodeStrict decodes one node rejecting unknown keys: yaml.Node.Decode has no
// KnownFields switch, so the node is re-encoded and decoded by a strict decoder. Line
// numbers are kept by encoding the node inside a document that pads to its line.
func decodeStrict(n *yaml.Node, out any) error {
	b, err := yaml.Marshal(n)
	if err != nil {
		return err
	}
	pad := strings.Repeat("\n", max(n.Line-1, 0))
	dec := yaml.NewDecoder(strings.NewReader(pad + indentAt(string(b), n.Column)))
	dec.KnownFields(true)
	return dec.Decode(out)
}

// indentAt shifts a block so its first line starts at the original column; only the
// line numbers matter for messages, the indentation keeps the block valid YAML.
func indentAt(s string, col int) string {
	if col <= 1 {
		return s
	}
	ind := strings.Repeat(" ", col-1)
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i := range lines {
		lines[i] = ind + lines[i]
	}
	return strings.Join(lines, "\n") + "\n"
}

// placeError gives every message a line. Errors from UnmarshalText methods (periods,
// periodicities, dates) come without one, so the line is that of the scalar the message
// quotes, or of the entry.
func placeError(name string, n *yaml.Node, err error) []string {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		return prefixLines(name, err)
	}
	line := n.Line
	if s := findQuotedScalar(n, err.Error()); s != nil {
		line = s.Line
	}
	return []string{fmt.Sprintf("%s:%d: %s", name, line, strings.TrimPrefix(err.Error(), "yaml: "))}
}

func findQuotedScalar(n *yaml.Node, msg string) *yaml.Node {
	if n.Kind == yaml.ScalarNode && n.Value != "" && strings.Contains(msg, strconv.Quote(n.Value)) {
		return n
	}
	for _, c := range n.Content {
		if f := findQuotedScalar(c, msg); f != nil {
			return f
		}
	}
	return nil
}

func yamlError(name string, err error) error {
	return errors.New(strings.Join(prefixLines(name, err), "\n"))
}

// prefixLines turns yaml's "line 12: ..." messages into "file:12: ...".
func prefixLines(name string, err error) []string {
	var te *yaml.TypeError
	var msgs []string
	if errors.As(err, &te) {
		msgs = te.Errors
	} else {
		msgs = []string{strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	out := make([]string, 0, len(msgs))
	for _, m := range msgs {
		m = strings.TrimPrefix(m, "yaml: ")
		if rest, ok := strings.CutPrefix(m, "line "); ok {
			if num, msg, ok := strings.Cut(rest, ": "); ok {
				out = append(out, fmt.Sprintf("%s:%s: %s", name, num, msg))
				continue
			}
		}
		out = append(out, name+": "+m)
	}
	return out
}
