package pluginhost

import (
	"context"
	"fmt"
	"net/http"

	"github.com/grafana/grafana-plugin-sdk-go/backend"

	gocapi "github.com/g-oc/goc/api/client"
)

// CheckHealth is Grafana's "Save & test": G-OC must answer, its store must be ready, and
// the token, when one is set, must be one G-OC accepts.
func (d *Datasource) CheckHealth(ctx context.Context, _ *backend.CheckHealthRequest) (*backend.CheckHealthResult, error) {
	fail := func(msg string) (*backend.CheckHealthResult, error) {
		return &backend.CheckHealthResult{Status: backend.HealthStatusError, Message: msg}, nil
	}
	if d.settingsErr != nil {
		return fail(d.settingsErr.Error())
	}
	r, err := d.client.api.GetReadinessWithResponse(ctx)
	if err == nil {
		err = gocapi.Check(r.HTTPResponse, r.Body)
	}
	if err != nil {
		if gocapi.StatusOf(err) == http.StatusServiceUnavailable {
			return fail("G-OC đang chạy nhưng kho dữ liệu chưa sẵn sàng / G-OC is up but its store is not ready: " + err.Error())
		}
		return fail(err.Error())
	}
	inds, err := d.client.indicators(ctx)
	if err != nil {
		return fail(err.Error())
	}
	if d.settings.Token == "" {
		return &backend.CheckHealthResult{Status: backend.HealthStatusOk, Message: fmt.Sprintf(
			"G-OC tại %s sẵn sàng, %d chỉ tiêu; chưa nhập mã truy cập (chỉ đọc) / G-OC at %s is ready with %d indicators; no token set (read-only)",
			d.settings.URL, len(inds), d.settings.URL, len(inds))}, nil
	}
	var who struct {
		Name         string `json:"name"`
		Agency       string `json:"agency"`
		AgencyNameVI string `json:"agency_name_vi"`
	}
	w, err := d.client.api.WhoamiWithResponse(ctx)
	if err == nil {
		_, err = decode(w.HTTPResponse, w.Body, &who)
	}
	if err != nil {
		if gocapi.StatusOf(err) == http.StatusUnauthorized {
			return fail("G-OC từ chối mã truy cập / G-OC rejected the token: " + err.Error())
		}
		return fail(err.Error())
	}
	return &backend.CheckHealthResult{Status: backend.HealthStatusOk, Message: fmt.Sprintf(
		"G-OC tại %s sẵn sàng, %d chỉ tiêu; mã truy cập %q hợp lệ cho %s (%s) / G-OC at %s is ready with %d indicators; token %q is valid for %s",
		d.settings.URL, len(inds), who.Name, who.AgencyNameVI, who.Agency, d.settings.URL, len(inds), who.Name, who.Agency)}, nil
}
