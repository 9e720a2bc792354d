// Command gpx_goc is the G-OC data source's backend. Grafana starts it as a plugin
// subprocess and talks to it over gRPC; it is not meant to be run by hand.
package main

import (
	"os"

	"github.com/grafana/grafana-plugin-sdk-go/backend/datasource"
	"github.com/grafana/grafana-plugin-sdk-go/backend/log"

	"github.com/g-oc/goc/grafana/plugin/pkg/models"
	"github.com/g-oc/goc/grafana/plugin/pkg/pluginhost"
)

func main() {
	if err := datasource.Manage(models.PluginID, pluginhost.NewDatasource, datasource.ManageOpts{}); err != nil {
		log.DefaultLogger.Error("plugin stopped", "error", err.Error())
		os.Exit(1)
	}
}
