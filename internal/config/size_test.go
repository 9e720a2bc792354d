package config

import (
	"strings"
	"testing"
)

func TestSizesAcceptBytesAndBinaryUnits(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		err  string
	}{
		{in: "1048576", want: 1 << 20},
		{in: "512KiB", want: 512 << 10},
		{in: "10MiB", want: 10 << 20},
		{in: "10 MiB", want: 10 << 20},
		{in: "2GiB", want: 2 << 30},
		{in: "100B", want: 100},
		{in: "0", want: 0},
		{in: "10MB", err: `unknown unit "MB"`},
		{in: "10mib", err: `unknown unit "mib"`},
		{in: "1.5MiB", err: `unknown unit ".5MiB"`},
		{in: "MiB", err: "want a whole number of bytes"},
		{in: "-1", err: "want a whole number of bytes"},
		{in: "", err: "want a whole number of bytes"},
		{in: "99999999999999999999", err: "too large"},
		{in: "9000000000GiB", err: "too large"},
	}
	for _, tt := range tests {
		got, err := ParseSize(tt.in)
		switch {
		case tt.err == "" && (err != nil || got != tt.want):
			t.Errorf("ParseSize(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
		case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
			t.Errorf("ParseSize(%q) = %d, %v; want error with %q", tt.in, got, err, tt.err)
		}
	}
}

func TestZeroSubmissionSizeIsRefused(t *testing.T) {
	_, err := Parse("x.yaml", []byte("server: {max_submission_bytes: 0}\nstore: {path: x}\n"), "")
	if err == nil || err.Error() != `x.yaml:1: server.max_submission_bytes: size "0" must be positive` {
		t.Fatalf("got %v", err)
	}
}
