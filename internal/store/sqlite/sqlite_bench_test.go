package sqlite

import (
	"testing"

	"github.com/g-oc/goc/internal/store/storetest"
)

func BenchmarkWriteObservations(b *testing.B) {
	s, _ := openTemp(b)
	storetest.BenchWriteObservations(b, s, 1000)
}

// 3,400 reporting units × 12 months of one indicator (three loaded, one in ten revised).
func BenchmarkLatestOneIndicatorAllAgencies(b *testing.B) {
	s, _ := openTemp(b)
	storetest.BenchLatestOneIndicator(b, s, 3400, 12)
}

// 10,000 portals, five probe rounds each.
func BenchmarkLatestProbes(b *testing.B) {
	s, _ := openTemp(b)
	storetest.BenchLatestProbes(b, s, 10000, 5)
}
