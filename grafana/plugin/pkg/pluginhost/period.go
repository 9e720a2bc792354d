package pluginhost

import (
	"strings"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"

	"github.com/g-oc/goc/indicators/period"
)

// resolvePeriod reads a query's period: a period as G-OC writes it (2025, 2025-Q3,
// 2025-09, or the DHIS2 forms), or a periodicity (yearly, half-yearly, quarterly,
// monthly) meaning the last such period that had ended by the end of the panel's time
// range. Dashboards use the second form so they never go stale. Empty stays empty.
func resolvePeriod(spec string, tr backend.TimeRange, now time.Time) (string, error) {
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return "", nil
	}
	if k, err := period.ParseKind(spec); err == nil {
		ref := tr.To
		if ref.IsZero() || ref.After(now) {
			ref = now
		}
		return period.Of(k, ref).Prev().String(), nil
	}
	p, err := period.Parse(spec)
	if err != nil {
		return "", badQuery("kỳ không hợp lệ / not a period: %v (write 2025, 2025-H1, 2025-Q3, 2025-09, or yearly, quarterly... for the last ended one)", err)
	}
	return p.String(), nil
}
