package config

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Problem is one mistake in a configuration file, with where it is.
type Problem struct {
	// File is the name the file was loaded under.
	File string
	// Line is the 1-based line of the offending value, or 0 when the mistake is a
	// missing key in a section that is itself missing.
	Line int
	// Path names the setting, e.g. "tokens[1].sha256".
	Path string
	// Message says what is wrong and, where it helps, what is accepted.
	Message string
}

// String reads "goc.yaml:12: tokens[1].sha256: must be 64 hex characters".
func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Line > 0 {
		fmt.Fprintf(&b, ":%d", p.Line)
	}
	b.WriteString(": ")
	if p.Path != "" {
		b.WriteString(p.Path)
		b.WriteString(": ")
	}
	b.WriteString(p.Message)
	return b.String()
}

// Error holds every problem found in a configuration file, so an operator can fix them
// all in one pass instead of one per run.
type Error struct {
	Problems []Problem
}

// Error lists the problems one per line, in file order.
func (e *Error) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// problems collects mistakes while a file is read.
type problems struct {
	file string
	list []Problem
}

func (ps *problems) add(line int, path, format string, args ...any) {
	ps.list = append(ps.list, Problem{File: ps.file, Line: line, Path: path, Message: fmt.Sprintf(format, args...)})
}

// err is nil when nothing is wrong, else an *Error sorted by line.
func (ps *problems) err() error {
	if len(ps.list) == 0 {
		return nil
	}
	list := slices.Clone(ps.list)
	slices.SortStableFunc(list, func(a, b Problem) int { return cmp.Compare(a.Line, b.Line) })
	return &Error{Problems: list}
}
