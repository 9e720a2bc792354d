// Package plugintest runs the G-OC data source the way Grafana does, without a Grafana
// server: it builds the plugin binary, starts it as a hashicorp/go-plugin subprocess
// with the SDK's handshake, and talks to it over gRPC. It also builds and starts a real
// `goc demo` for the plugin to query. Tests of the plugin and of the generated
// dashboards share it.
package plugintest

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/backend/grpcplugin"
	"github.com/grafana/grafana-plugin-sdk-go/genproto/pluginv2"
	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"

	"github.com/g-oc/goc/grafana/plugin/pkg/models"
)

// Build compiles a main package of the G-OC module (such as
// "github.com/g-oc/goc/cmd/goc") into dir and returns the binary's path.
func Build(ctx context.Context, dir, pkg, name string) (string, error) {
	out := filepath.Join(dir, name)
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, pkg)
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("build %s: %w", pkg, err)
	}
	return out, nil
}

// Demo is a running `goc demo` on a loopback port.
type Demo struct {
	URL string
	// Tokens maps each demo agency code to the submission token the demo printed.
	Tokens map[string]string
	cmd    *exec.Cmd
	done   chan error
}

var (
	servingLine = regexp.MustCompile(`is serving at (http://\S+)`)
	tokenLine   = regexp.MustCompile(`^\s+(\S+)\s+.*\s(goc_\S+)\s*$`)
)

// StartDemo runs `goc demo` from the binary at gocBin on 127.0.0.1 with a port the
// kernel picks, its data in dataDir, and waits until it prints its URL and tokens.
func StartDemo(ctx context.Context, gocBin, dataDir string) (*Demo, error) {
	cmd := exec.Command(gocBin, "demo", "--addr", "127.0.0.1:0", "--data", dataDir)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start goc demo: %w", err)
	}
	d := &Demo{Tokens: map[string]string{}, cmd: cmd, done: make(chan error, 1)}
	ready := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		signalled := false
		for sc.Scan() {
			line := sc.Text()
			if m := servingLine.FindStringSubmatch(line); m != nil {
				d.URL = m[1]
			}
			if m := tokenLine.FindStringSubmatch(line); m != nil {
				d.Tokens[m[1]] = m[2]
			}
			if strings.Contains(line, "Ctrl-C") && !signalled {
				signalled = true
				ready <- nil
			}
		}
		if !signalled {
			ready <- errors.New("goc demo stopped before it was serving")
		}
		d.done <- cmd.Wait()
	}()
	select {
	case err := <-ready:
		if err != nil {
			_ = cmd.Process.Kill()
			return nil, err
		}
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		return nil, errors.New("goc demo did not start within 60s")
	case <-ctx.Done():
		_ = cmd.Process.Kill()
		return nil, ctx.Err()
	}
	if d.URL == "" || len(d.Tokens) == 0 {
		_ = cmd.Process.Kill()
		return nil, fmt.Errorf("goc demo printed no URL or tokens (url %q, %d tokens)", d.URL, len(d.Tokens))
	}
	if err := d.waitForFirstProbe(ctx, 30*time.Second); err != nil {
		d.Stop()
		return nil, err
	}
	return d, nil
}

// waitForFirstProbe waits until the demo has probed its own portal, which it does just
// after it starts serving, so portal panels have a row from the first query.
func (d *Demo) waitForFirstProbe(ctx context.Context, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		var body struct {
			Count int `json:"count"`
		}
		resp, err := http.Get(d.URL + "/api/v1/probes")
		if err == nil {
			err = json.NewDecoder(resp.Body).Decode(&body)
			resp.Body.Close()
			if err == nil && body.Count > 0 {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("goc demo at %s had probed no portal after %s", d.URL, limit)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Stop interrupts the demo and waits for it to exit.
func (d *Demo) Stop() {
	_ = d.cmd.Process.Signal(os.Interrupt)
	select {
	case <-d.done:
	case <-time.After(10 * time.Second):
		_ = d.cmd.Process.Kill()
		<-d.done
	}
}

// Plugin is the data source's backend running as Grafana runs it.
type Plugin struct {
	client      *goplugin.Client
	data        grpcplugin.DataClient
	diagnostics grpcplugin.DiagnosticsClient
	resource    grpcplugin.ResourceClient
}

// Launch starts the plugin binary with the SDK's handshake (protocol version, magic
// cookie) and dispenses its data, diagnostics and resource services over gRPC.
func Launch(bin string, logOut io.Writer) (*Plugin, error) {
	c := goplugin.NewClient(&goplugin.ClientConfig{
		HandshakeConfig: goplugin.HandshakeConfig{
			ProtocolVersion:  grpcplugin.ProtocolVersion,
			MagicCookieKey:   grpcplugin.MagicCookieKey,
			MagicCookieValue: grpcplugin.MagicCookieValue,
		},
		VersionedPlugins: map[int]goplugin.PluginSet{
			grpcplugin.ProtocolVersion: {
				"data":        &grpcplugin.DataGRPCPlugin{},
				"diagnostics": &grpcplugin.DiagnosticsGRPCPlugin{},
				"resource":    &grpcplugin.ResourceGRPCPlugin{},
			},
		},
		Cmd:              exec.Command(bin),
		AllowedProtocols: []goplugin.Protocol{goplugin.ProtocolGRPC},
		Logger:           hclog.New(&hclog.LoggerOptions{Name: "gpx_goc", Output: logOut, Level: hclog.Warn}),
		StartTimeout:     30 * time.Second,
	})
	rpc, err := c.Client()
	if err != nil {
		c.Kill()
		return nil, fmt.Errorf("start plugin %s: %w", bin, err)
	}
	p := &Plugin{client: c}
	for name, dst := range map[string]any{"data": &p.data, "diagnostics": &p.diagnostics, "resource": &p.resource} {
		raw, err := rpc.Dispense(name)
		if err != nil {
			c.Kill()
			return nil, fmt.Errorf("dispense %s: %w", name, err)
		}
		var ok bool
		switch dst := dst.(type) {
		case *grpcplugin.DataClient:
			*dst, ok = raw.(grpcplugin.DataClient)
		case *grpcplugin.DiagnosticsClient:
			*dst, ok = raw.(grpcplugin.DiagnosticsClient)
		case *grpcplugin.ResourceClient:
			*dst, ok = raw.(grpcplugin.ResourceClient)
		}
		if !ok {
			c.Kill()
			return nil, fmt.Errorf("plugin's %s service has type %T", name, raw)
		}
	}
	return p, nil
}

// Kill stops the plugin process.
func (p *Plugin) Kill() { p.client.Kill() }

// Instance is a configured data source, as Grafana would hand it to the plugin.
type Instance struct {
	UID      string
	URL      string
	Token    string
	JSONData map[string]any
	// Updated changes when the settings change, which makes the plugin build a new
	// instance; New sets it.
	Updated time.Time
}

// NewInstance is a data source pointing at url with a token (may be empty).
func NewInstance(uid, url, token string) Instance {
	return Instance{UID: uid, URL: url, Token: token, Updated: time.Now()}
}

func (in Instance) pluginContext() backend.PluginContext {
	jd, _ := json.Marshal(in.JSONData)
	if in.JSONData == nil {
		jd = []byte("{}")
	}
	secure := map[string]string{}
	if in.Token != "" {
		secure[models.SecureTokenKey] = in.Token
	}
	return backend.PluginContext{
		//lint:ignore SA1019 Grafana still sends OrgID beside Namespace; the test mirrors what it sends.
		OrgID:    1,
		PluginID: models.PluginID,
		User:     &backend.User{Login: "admin", Role: "Admin"},
		DataSourceInstanceSettings: &backend.DataSourceInstanceSettings{
			ID: 1, UID: in.UID, Name: "G-OC", URL: in.URL, Type: models.PluginID,
			JSONData: jd, DecryptedSecureJSONData: secure, Updated: in.Updated,
		},
	}
}

// CheckHealth is Grafana's "Save & test".
func (p *Plugin) CheckHealth(ctx context.Context, in Instance) (*backend.CheckHealthResult, error) {
	resp, err := p.diagnostics.CheckHealth(ctx, &pluginv2.CheckHealthRequest{
		PluginContext: backend.ToProto().PluginContext(in.pluginContext()),
	})
	if err != nil {
		return nil, fmt.Errorf("CheckHealth: %w", err)
	}
	return backend.FromProto().CheckHealthResponse(resp), nil
}

// Query is one panel target: its refId, query type, JSON model and time range.
type Query struct {
	RefID     string
	QueryType string
	JSON      json.RawMessage
	From, To  time.Time
}

// QueryData sends the queries in one request, as a panel with several targets does.
func (p *Plugin) QueryData(ctx context.Context, in Instance, qs ...Query) (*backend.QueryDataResponse, error) {
	req := &backend.QueryDataRequest{PluginContext: in.pluginContext()}
	for _, q := range qs {
		req.Queries = append(req.Queries, backend.DataQuery{
			RefID: q.RefID, QueryType: q.QueryType, JSON: q.JSON,
			TimeRange: backend.TimeRange{From: q.From, To: q.To},
			Interval:  time.Hour, MaxDataPoints: 1000,
		})
	}
	resp, err := p.data.QueryData(ctx, backend.ToProto().QueryDataRequest(req))
	if err != nil {
		return nil, fmt.Errorf("QueryData: %w", err)
	}
	out, err := backend.FromProto().QueryDataResponse(resp)
	if err != nil {
		return nil, fmt.Errorf("QueryData: decode frames: %w", err)
	}
	return out, nil
}

// Resource is a CallResource answer.
type Resource struct {
	Status int
	Body   []byte
}

// CallResource sends GET path (such as "indicators" or "agencies?kind=province") to
// the plugin's resource handler and collects the streamed answer.
func (p *Plugin) CallResource(ctx context.Context, in Instance, path string) (Resource, error) {
	pth, _, _ := strings.Cut(path, "?")
	stream, err := p.resource.CallResource(ctx, &pluginv2.CallResourceRequest{
		PluginContext: backend.ToProto().PluginContext(in.pluginContext()),
		Path:          pth,
		Method:        "GET",
		Url:           path,
		Headers:       map[string]*pluginv2.StringList{},
	})
	if err != nil {
		return Resource{}, fmt.Errorf("CallResource %s: %w", path, err)
	}
	var r Resource
	for {
		msg, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return r, nil
		}
		if err != nil {
			return r, fmt.Errorf("CallResource %s: %w", path, err)
		}
		if msg.Code != 0 {
			r.Status = int(msg.Code)
		}
		r.Body = append(r.Body, msg.Body...)
	}
}

// Env is the plugin binary launched as Grafana launches it, next to a running demo.
type Env struct {
	Demo   *Demo
	Plugin *Plugin
	dir    string
}

// Start builds goc and the plugin into a temporary folder, starts `goc demo` and
// launches the plugin. pluginLog receives the plugin's own log.
func Start(ctx context.Context, pluginLog io.Writer) (*Env, error) {
	dir, err := os.MkdirTemp("", "goc-plugin-test-")
	if err != nil {
		return nil, err
	}
	e := &Env{dir: dir}
	gocBin, err := Build(ctx, dir, "github.com/g-oc/goc/cmd/goc", "goc")
	if err != nil {
		e.Close()
		return nil, err
	}
	pluginBin, err := Build(ctx, dir, "github.com/g-oc/goc/grafana/plugin/pkg", "gpx_goc_linux_amd64")
	if err != nil {
		e.Close()
		return nil, err
	}
	if e.Demo, err = StartDemo(ctx, gocBin, filepath.Join(dir, "demo")); err != nil {
		e.Close()
		return nil, err
	}
	if e.Plugin, err = Launch(pluginBin, pluginLog); err != nil {
		e.Close()
		return nil, err
	}
	return e, nil
}

// Close stops the plugin and the demo and removes the temporary folder.
func (e *Env) Close() {
	if e.Plugin != nil {
		e.Plugin.Kill()
	}
	if e.Demo != nil {
		e.Demo.Stop()
	}
	_ = os.RemoveAll(e.dir)
}
