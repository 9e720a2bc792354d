package feed_test

import (
	"testing"

	"github.com/g-oc/goc/collectors/feed"
	"github.com/g-oc/goc/internal/intake"
)

// A format the config accepts must be one intake reads: feedconfig spells the names
// without importing intake, so this is where they are held together.
func TestEveryFeedFormatIsAnIntakeFormat(t *testing.T) {
	for _, f := range feed.Formats() {
		switch intake.Format(f) {
		case intake.JSON, intake.CSV, intake.Prometheus, intake.XLSX:
		default:
			t.Errorf("feed format %q is not one of intake's", f)
		}
	}
	if len(feed.Formats()) != 4 {
		t.Errorf("formats = %v, want intake's four", feed.Formats())
	}
}
