// Package pluginhost is the G-OC data source's backend: it answers Grafana's QueryData,
// CheckHealth and CallResource calls by asking G-OC's HTTP API. Each query type lives in
// its own file and is registered in handlers; adding one is a file plus a map entry.
package pluginhost

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/backend/instancemgmt"
	"github.com/grafana/grafana-plugin-sdk-go/backend/log"
	"github.com/grafana/grafana-plugin-sdk-go/backend/resource/httpadapter"
	"github.com/grafana/grafana-plugin-sdk-go/data"

	gocapi "github.com/g-oc/goc/api/client"
	"github.com/g-oc/goc/grafana/plugin/pkg/models"
)

// Datasource is one configured G-OC data source: one G-OC URL and token.
type Datasource struct {
	backend.CallResourceHandler
	settings    models.Settings
	settingsErr error
	client      *client
	log         log.Logger
}

var (
	_ backend.QueryDataHandler      = (*Datasource)(nil)
	_ backend.CheckHealthHandler    = (*Datasource)(nil)
	_ backend.CallResourceHandler   = (*Datasource)(nil)
	_ instancemgmt.InstanceDisposer = (*Datasource)(nil)
)

// NewDatasource builds an instance from its settings. Bad settings do not fail here:
// they are reported on every query and by the health check, where an admin sees them.
func NewDatasource(_ context.Context, s backend.DataSourceInstanceSettings) (instancemgmt.Instance, error) {
	set, err := models.LoadSettings(s.URL, s.JSONData, s.DecryptedSecureJSONData)
	d := &Datasource{settings: set, settingsErr: err, log: log.DefaultLogger}
	d.client, err = newClient(set.URL, set.Token, time.Duration(set.TimeoutSeconds)*time.Second)
	if err != nil && d.settingsErr == nil {
		d.settingsErr = err
	}
	d.CallResourceHandler = httpadapter.New(d.resources())
	return d, nil
}

// Dispose is called when the settings change and the instance is replaced.
func (d *Datasource) Dispose() {
	if d.client != nil {
		d.client.http.CloseIdleConnections()
	}
}

// queryFunc answers one query of one type.
type queryFunc func(ctx context.Context, c *client, q models.Query, tr backend.TimeRange) (data.Frames, error)

// handlers maps each query type to the function that answers it.
func handlers() map[models.QueryType]queryFunc {
	return map[models.QueryType]queryFunc{
		models.Series:       querySeries,
		models.Progress:     queryProgress,
		models.Ranking:      queryRanking,
		models.Probes:       queryProbes,
		models.Completeness: queryCompleteness,
	}
}

// QueryData answers each query on its own: one failing query does not hide the others'
// data, and its error reaches its panel as a readable message.
func (d *Datasource) QueryData(ctx context.Context, req *backend.QueryDataRequest) (*backend.QueryDataResponse, error) {
	resp := backend.NewQueryDataResponse()
	hs := handlers()
	for _, dq := range req.Queries {
		resp.Responses[dq.RefID] = d.query(ctx, hs, dq)
	}
	return resp, nil
}

func (d *Datasource) query(ctx context.Context, hs map[models.QueryType]queryFunc, dq backend.DataQuery) backend.DataResponse {
	if d.settingsErr != nil {
		return backend.ErrDataResponseWithSource(backend.StatusBadRequest, backend.ErrorSourceDownstream, d.settingsErr.Error())
	}
	q, err := models.ParseQuery(dq.QueryType, dq.JSON)
	if err != nil {
		return backend.ErrDataResponseWithSource(backend.StatusBadRequest, backend.ErrorSourceDownstream, err.Error())
	}
	h, ok := hs[q.QueryType]
	if !ok {
		return backend.ErrDataResponseWithSource(backend.StatusBadRequest, backend.ErrorSourceDownstream,
			fmt.Sprintf("loại truy vấn %q không có / unknown query type %q (want one of %v)", q.QueryType, q.QueryType, models.QueryTypes()))
	}
	frames, err := h(ctx, d.client, q, dq.TimeRange)
	if err != nil {
		d.log.Warn("query failed", "refId", dq.RefID, "queryType", q.QueryType, "error", err)
		return errorResponse(err)
	}
	for _, f := range frames {
		f.RefID = dq.RefID
	}
	return backend.DataResponse{Frames: frames}
}

// errorResponse turns an error into a panel error with the status and source Grafana
// uses to tell a broken plugin from a broken upstream.
func errorResponse(err error) backend.DataResponse {
	var qe *queryError
	switch st := gocapi.StatusOf(err); {
	case errors.As(err, &qe):
		return backend.ErrDataResponseWithSource(backend.StatusBadRequest, backend.ErrorSourceDownstream, err.Error())
	case st >= 500:
		return backend.ErrDataResponseWithSource(backend.StatusBadGateway, backend.ErrorSourceDownstream, err.Error())
	case st != 0:
		return backend.ErrDataResponseWithSource(backend.Status(st), backend.ErrorSourceDownstream, err.Error())
	case gocapi.Unreachable(err):
		return backend.ErrDataResponseWithSource(backend.StatusBadGateway, backend.ErrorSourceDownstream, err.Error())
	case errors.Is(err, context.DeadlineExceeded):
		return backend.ErrDataResponseWithSource(backend.StatusTimeout, backend.ErrorSourceDownstream, err.Error())
	}
	return backend.ErrDataResponseWithSource(backend.StatusInternal, backend.ErrorSourcePlugin, err.Error())
}

// queryError is a query that cannot be run as written: the user must change it.
type queryError struct{ msg string }

func (e *queryError) Error() string { return e.msg }

func badQuery(format string, args ...any) error { return &queryError{fmt.Sprintf(format, args...)} }
