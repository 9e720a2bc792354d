package config

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/g-oc/goc/internal/problem"
)

// Problem is one mistake in a configuration file, with where it is; every part of
// the configuration reports with the same type.
type Problem = problem.Problem

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
