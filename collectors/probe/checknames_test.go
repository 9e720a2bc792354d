package probe_test

import (
	"slices"
	"testing"

	"github.com/g-oc/goc/collectors/probe"
	"github.com/g-oc/goc/collectors/probe/probeconfig"
)

// The config file is checked against probeconfig's names; a check the prober runs
// but the config does not know (or the other way round) could never be chosen, or
// would pass validation and then fail at start.
func TestProberRunsExactlyTheChecksTheConfigKnows(t *testing.T) {
	if got, want := probe.CheckNames(), probeconfig.CheckNames(); !slices.Equal(got, want) {
		t.Errorf("prober's checks %v, config's %v", got, want)
	}
}
