package intake

import (
	"math"
	"strconv"
	"strings"
)

// parseDecimal reads a plain decimal number as officers write it: digits, an optional
// sign, a decimal point and an exponent. It refuses what strconv.ParseFloat would take
// but no officer means (hex floats, "Inf", "NaN", underscores).
//
// With comma set (a semicolon-separated CSV from a Vietnamese Excel) the comma is the
// decimal mark, "95,5" reads as 95.5, and a dot may only separate thousands: it counts
// as one where the digits before the comma group in threes after the first group
// ("1.000" is 1000, "1.234.567,5" is 1234567.5). A dot anywhere else ("1.5", "12.34",
// "1.0000") could be either mark: the number is refused as ambiguous, never guessed.
func parseDecimal(s string, comma bool) (float64, numberError) {
	s = trimSpace(s)
	if s == "" {
		return 0, errNotNumber
	}
	if comma {
		var e numberError
		if s, e = fromDecimalComma(s); e != numberOK {
			return 0, e
		}
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

// fromDecimalComma rewrites a number of a decimal-comma file with a decimal point and
// no thousands separators.
func fromDecimalComma(s string) (string, numberError) {
	if strings.Count(s, ",") > 1 {
		return "", errSeparator
	}
	whole, frac, hasFrac := strings.Cut(s, ",")
	if strings.Contains(frac, ".") {
		return "", errAmbiguous
	}
	if strings.Contains(whole, ".") {
		if !groupsOfThree(whole) {
			return "", errAmbiguous
		}
		whole = strings.ReplaceAll(whole, ".", "")
	}
	if hasFrac {
		return whole + "." + frac, numberOK
	}
	return whole, numberOK
}

// groupsOfThree matches [+-]?d{1,3}(.ddd)+: digits grouped in threes by dots.
func groupsOfThree(s string) bool {
	if s != "" && (s[0] == '+' || s[0] == '-') {
		s = s[1:]
	}
	groups := strings.Split(s, ".")
	if len(groups) < 2 {
		return false
	}
	for i, g := range groups {
		if g == "" || len(g) > 3 || (i > 0 && len(g) != 3) {
			return false
		}
		for j := 0; j < len(g); j++ {
			if g[j] < '0' || g[j] > '9' {
				return false
			}
		}
	}
	return true
}

type numberError uint8

const (
	numberOK numberError = iota
	errNotNumber
	errSeparator
	errPercentSign
	errOutOfRange
	errAmbiguous
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
