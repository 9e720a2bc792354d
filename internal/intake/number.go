package intake

import (
	"math"
	"strconv"
	"strings"
)

// parseDecimal reads a plain decimal number as officers write it: digits, an optional
// sign, a decimal point and an exponent. It refuses what strconv.ParseFloat would take
// but no officer means (hex floats, "Inf", "NaN", underscores). With comma set (a
// semicolon-separated CSV from a Vietnamese Excel) "95,5" reads as 95.5.
func parseDecimal(s string, comma bool) (float64, numberError) {
	s = trimSpace(s)
	if s == "" {
		return 0, errNotNumber
	}
	if comma && strings.Count(s, ",") == 1 && !strings.Contains(s, ".") {
		s = strings.Replace(s, ",", ".", 1)
	}
	if !isDecimal(s) {
		switch {
		case strings.ContainsAny(s, ",") || strings.Count(s, ".") > 1:
			return 0, errSeparator
		case strings.HasSuffix(s, "%"):
			return 0, errPercentSign
		}
		return 0, errNotNumber
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, errOutOfRange
	}
	return f, numberOK
}

type numberError uint8

const (
	numberOK numberError = iota
	errNotNumber
	errSeparator
	errPercentSign
	errOutOfRange
)

// isDecimal matches [+-]?(digits[.digits?]|.digits)([eE][+-]?digits)? without a regexp,
// since it runs once per number of million-row imports.
func isDecimal(s string) bool {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	digits := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
		digits++
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			digits++
		}
	}
	if digits == 0 {
		return false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		exp := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			exp++
		}
		if exp == 0 {
			return false
		}
	}
	return i == len(s)
}
