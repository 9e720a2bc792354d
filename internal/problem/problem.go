// Package problem is the one type every part of a configuration reports its mistakes
// with, so that a collector can check its own settings (Validate) without knowing the
// file they were read from: it names the place by path, and internal/config, which
// read the file, adds the file and the line.
package problem

import (
	"fmt"
	"strings"
)

// Problem is one mistake in a configuration file, with where it is.
type Problem struct {
	// File is the name the file was loaded under; empty until the reader of the file
	// fills it in.
	File string
	// Line is the 1-based line of the offending value, or 0 when the mistake is a
	// missing key in a section that is itself missing, or not known yet.
	Line int
	// Path names the setting, e.g. "tokens[1].sha256".
	Path string
	// Message says what is wrong and, where it helps, what is accepted.
	Message string
	// Rests names the other settings the judgement rests on (a timeout judged
	// against an interval): when one of them could not be read, its default was
	// judged instead, so the reader of the file leaves the problem out.
	Rests []string
}

// At is a problem at path, its line left for the reader of the file.
func At(path, format string, args ...any) Problem {
	return Problem{Path: path, Message: fmt.Sprintf(format, args...)}
}

// RestingOn is p, judged against the settings at paths too.
func (p Problem) RestingOn(paths ...string) Problem {
	p.Rests = append(p.Rests, paths...)
	return p
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
