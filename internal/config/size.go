package config

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ParseSize reads a byte count: a whole number of bytes ("1048576") or a whole number
// with a binary unit ("512KiB", "10MiB", "1GiB"; "10 MiB" also works). Decimal units
// (KB, MB, GB) are refused because people use them for both 1000 and 1024.
func ParseSize(s string) (int64, error) {
	s = strings.TrimSpace(s)
	i := strings.IndexFunc(s, func(r rune) bool { return r < '0' || r > '9' })
	num, unit := s, "B"
	if i >= 0 {
		num, unit = s[:i], strings.TrimSpace(s[i:])
	}
	if num == "" {
		return 0, fmt.Errorf("size %q: want a whole number of bytes, or one with KiB, MiB or GiB such as 10MiB", s)
	}
	mult, binary := unitBytes(unit)
	if !binary {
		return 0, fmt.Errorf("size %q: unknown unit %q; use B, KiB, MiB or GiB (1 MiB = 1048576 bytes)", s, unit)
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n > math.MaxInt64/mult {
		return 0, fmt.Errorf("size %q: too large", s)
	}
	return n * mult, nil
}

// unitBytes is the number of bytes in a binary unit.
func unitBytes(unit string) (int64, bool) {
	switch unit {
	case "B":
		return 1, true
	case "KiB":
		return 1 << 10, true
	case "MiB":
		return 1 << 20, true
	case "GiB":
		return 1 << 30, true
	}
	return 0, false
}
