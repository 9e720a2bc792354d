package dashboards

import (
	"encoding/json"
	"reflect"

	"github.com/grafana/grafana-foundation-sdk/go/cog/variants"
	"github.com/grafana/grafana-foundation-sdk/go/common"

	"github.com/g-oc/goc/grafana/plugin/pkg/models"
)

// DatasourceVariable is the dashboard variable that picks the G-OC data source, so the
// dashboards work whatever UID an admin gave it.
const DatasourceVariable = "datasource"

// datasourceRef points a panel at the data source the variable picked.
func datasourceRef() common.DataSourceRef {
	t, uid := models.PluginID, "${"+DatasourceVariable+"}"
	return common.DataSourceRef{Type: &t, Uid: &uid}
}

// Target is a panel target of the G-OC data source: the query model the plugin reads,
// with Grafana's refId and data source reference. It is a foundation-sdk data query
// variant, so panels built with the SDK accept it.
type Target struct {
	RefID string
	Query models.Query
}

var _ variants.Dataquery = Target{}

// ImplementsDataqueryVariant marks Target as a data query.
func (Target) ImplementsDataqueryVariant() {}

// DataqueryType is the plugin's ID.
func (Target) DataqueryType() string { return models.PluginID }

// Validate accepts every target; the plugin reports bad ones on the panel.
func (Target) Validate() error { return nil }

// Equals compares two targets.
func (t Target) Equals(other variants.Dataquery) bool {
	o, ok := other.(Target)
	return ok && reflect.DeepEqual(t, o)
}

// MarshalJSON writes the target as Grafana stores it: refId and datasource beside the
// query model's fields.
func (t Target) MarshalJSON() ([]byte, error) {
	model, err := json.Marshal(t.Query)
	if err != nil {
		return nil, err
	}
	m := map[string]any{}
	if err := json.Unmarshal(model, &m); err != nil {
		return nil, err
	}
	m["refId"] = t.RefID
	m["datasource"] = datasourceRef()
	return json.Marshal(m)
}

// Build makes Target its own builder, for the SDK's WithTarget.
func (t Target) Build() (variants.Dataquery, error) { return t, nil }

// target builds a panel target.
func target(refID string, q models.Query) Target { return Target{RefID: refID, Query: q} }
