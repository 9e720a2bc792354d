package config

import (
	"fmt"
	"slices"
	"strconv"

	"go.yaml.in/yaml/v3"

	"github.com/g-oc/goc/indicators/period"
)

// Submissions configures what G-OC expects of reporting officers: when each
// periodicity's reports are due, and when a value is unusual enough to need
// confirmation.
type Submissions struct {
	// DueDays is, for each periodicity, how many days after a period ends its reports
	// count as on time (DHIS2's "days after period end to qualify for timely
	// submission"). Every periodicity has one.
	DueDays map[period.Kind]int
	// OutlierDeviations is how many robust standard deviations from the agency's own
	// recent median make a value an outlier that the submitter must confirm.
	OutlierDeviations float64
	// AutoApprove publishes every submission as it is stored (submissions.approval:
	// automatic), for deployments without a reviewer. By default (manual) a reviewer
	// approves each agency's figures for a period before the public sees them.
	AutoApprove bool
}

// Defaults of the submissions section.
const (
	DefaultDueDaysMonthly    = 10
	DefaultDueDaysQuarterly  = 15
	DefaultDueDaysHalfYearly = 20
	DefaultDueDaysYearly     = 30
	DefaultOutlierDeviations = 3.0
	// maxDueDays bounds a due day: a year's reports within a year of its end.
	maxDueDays = 366
)

// DefaultSubmissions is the section of an empty file.
func DefaultSubmissions() Submissions {
	return Submissions{
		DueDays: map[period.Kind]int{
			period.Month:   DefaultDueDaysMonthly,
			period.Quarter: DefaultDueDaysQuarterly,
			period.Half:    DefaultDueDaysHalfYearly,
			period.Year:    DefaultDueDaysYearly,
		},
		OutlierDeviations: DefaultOutlierDeviations,
	}
}

func (d *decoder) submissions(n *yaml.Node, path string, s *Submissions) {
	d.mapping(n, path, fields{
		"due_days": func(v *yaml.Node, p string) {
			if isNull(v) {
				return
			}
			if v.Kind != yaml.MappingNode {
				d.add(v.Line, p, "must be a mapping of periodicity to days, such as {monthly: 10, quarterly: 15}, not %s", kindName(v))
				return
			}
			seen := map[period.Kind]int{}
			for i := 0; i+1 < len(v.Content); i += 2 {
				k, val := v.Content[i], resolve(v.Content[i+1])
				kp := join(p, k.Value)
				kind, err := period.ParseKind(k.Value)
				if err != nil {
					d.add(k.Line, kp, "%v", err)
					continue
				}
				if first, dup := seen[kind]; dup {
					d.add(k.Line, kp, "%s set twice; first at line %d", kind, first)
					continue
				}
				seen[kind] = k.Line
				str, ok := d.str(val, kp)
				if !ok {
					continue
				}
				days, err := strconv.Atoi(str)
				if err != nil || days < 0 || days > maxDueDays {
					d.add(val.Line, kp, "%q must be a whole number of days from 0 to %d", str, maxDueDays)
					continue
				}
				s.DueDays[kind] = days
			}
		},
		"approval": setting(d, &s.AutoApprove, func(str string) (bool, error) {
			switch str {
			case "manual":
				return false, nil
			case "automatic":
				return true, nil
			}
			return false, fmt.Errorf("%q must be manual (a reviewer approves before publication) or automatic", str)
		}),
		"outlier_deviations": setting(d, &s.OutlierDeviations, func(str string) (float64, error) {
			v, err := strconv.ParseFloat(str, 64)
			if err != nil || !(v >= 1 && v <= 100) {
				return 0, fmt.Errorf("%q must be a number from 1 to 100 (3 is usual)", str)
			}
			return v, nil
		}),
	})
}

// Kinds lists the periodicities with a due day, longest first.
func (s Submissions) Kinds() []period.Kind {
	var ks []period.Kind
	for k := range s.DueDays {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}
