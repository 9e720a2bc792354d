package intake

import (
	"fmt"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Text as officers send it: Vietnamese written decomposed (NFD, as some Mac and web
// tools write it) reads the same as composed text but compares unequal, and spaces
// copied from web pages and Word are often no-break or zero-width. The rule, the same
// for every source:
//   - every text value is normalised to NFC;
//   - spaces at either end, no-break (U+00A0, U+2007, U+202F) and zero-width (U+200B,
//     U+200C, U+200D, U+2060, U+FEFF) ones included, are trimmed;
//   - a code or period with such a character left inside ("P\u200b20") is refused with
//     its place (rule invisible_character): it would look right and match nothing;
//   - the status, which is words, reads a no-break space as a space and drops
//     zero-width ones.

// invisible reports the no-break and zero-width spaces.
func invisible(r rune) bool {
	switch r {
	case '\u00a0', '\u2007', '\u202f', '\u200b', '\u200c', '\u200d', '\u2060', '\ufeff':
		return true
	}
	return false
}

func zeroWidth(r rune) bool {
	switch r {
	case '\u200b', '\u200c', '\u200d', '\u2060', '\ufeff':
		return true
	}
	return false
}

// trimSpace trims spaces, no-break and zero-width ones too, at both ends.
func trimSpace(s string) string {
	// Most values start and end with a printable ASCII byte: nothing to trim, checked
	// without decoding runes, as this runs for every cell of a million-row import.
	if s == "" || (s[0] > ' ' && s[0] < 0x80 && s[len(s)-1] > ' ' && s[len(s)-1] < 0x80) {
		return s
	}
	return strings.TrimFunc(s, func(r rune) bool { return unicode.IsSpace(r) || invisible(r) })
}

// cleanText is a value as compared: trimmed and in NFC.
func cleanText(s string) string {
	s = trimSpace(s)
	if isASCII(s) {
		return s // NFC already; codes and periods nearly always are
	}
	return norm.NFC.String(s)
}

// hidden finds a space or an invisible character inside a code: the character, named
// by its code point (such as U+200B), and its 1-based position.
func hidden(code string) (string, int, bool) {
	if plainASCII(code) {
		return "", 0, false
	}
	i := 0
	for _, r := range code {
		i++
		if invisible(r) || unicode.IsSpace(r) || unicode.Is(unicode.Cf, r) {
			return fmt.Sprintf("U+%04X", r), i, true
		}
	}
	return "", 0, false
}

// wordsText is a text of words (the status) as compared: NFC, no-break spaces read as
// spaces, zero-width ones dropped, runs of spaces made one, lower case.
func wordsText(s string) string {
	s = cleanText(s)
	var b strings.Builder
	space := false
	for _, r := range s {
		switch {
		case zeroWidth(r):
			continue
		case unicode.IsSpace(r) || invisible(r):
			space = true
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// plainASCII reports a string of printable ASCII without spaces: nearly every code.
func plainASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f {
			return false
		}
	}
	return true
}
