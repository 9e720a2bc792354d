package pluginhost_test

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/experimental"

	"github.com/g-oc/goc/grafana/plugin/pkg/plugintest"
)

var update = flag.Bool("update", false, "rewrite the golden frames in testdata/")

// Everything here goes through the real plugin protocol: the plugin binary is built
// once, started as Grafana starts it (go-plugin handshake, gRPC), and it queries a real
// `goc demo` over HTTP.
var (
	plugin *plugintest.Plugin
	demo   *plugintest.Demo
)

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(run(m))
}

func run(m *testing.M) int {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	// The plugin's own log (every failed query is logged) only with -v.
	var pluginLog io.Writer = io.Discard
	if testing.Verbose() {
		pluginLog = os.Stderr
	}
	env, err := plugintest.Start(ctx, pluginLog)
	if err != nil {
		fmt.Fprintln(os.Stderr, "start the plugin and the demo:", err)
		return 1
	}
	defer env.Close()
	plugin, demo = env.Plugin, env.Demo
	return m.Run()
}

func instance(token string) plugintest.Instance {
	return plugintest.NewInstance("goc-test", demo.URL, token)
}

// history is a fixed window of the demo's past, so golden frames do not move as the
// demo's history grows with the calendar.
var (
	from = time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC)
	to   = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
)

func query(refID, queryType, model string) plugintest.Query {
	return plugintest.Query{RefID: refID, QueryType: queryType, JSON: json.RawMessage(model), From: from, To: to}
}

// checkGolden compares one response with testdata/<name>.jsonc, with the demo's random
// port taken out of the executed-query strings.
func checkGolden(t *testing.T, name string, dr backend.DataResponse) {
	t.Helper()
	for _, f := range dr.Frames {
		if f.Meta != nil {
			f.Meta.ExecutedQueryString = strings.ReplaceAll(f.Meta.ExecutedQueryString, demo.URL, "http://goc")
		}
	}
	experimental.CheckGoldenJSONResponse(t, "testdata", name, &dr, *update)
}

func TestHealthSaysReadyAndNamesTheTokensAgency(t *testing.T) {
	res, err := plugin.CheckHealth(context.Background(), instance(demo.Tokens["P20"]))
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != backend.HealthStatusOk || !strings.Contains(res.Message, `"demo-P20"`) || !strings.Contains(res.Message, "Lạng Sơn") {
		t.Errorf("health = %v %q, want OK naming the token demo-P20 and Lạng Sơn", res.Status, res.Message)
	}
}

func TestHealthFailsOnEveryBrokenSetting(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	ln.Close()
	for _, tc := range []struct {
		name string
		in   plugintest.Instance
		want string
	}{
		{"a token G-OC does not know", plugintest.NewInstance("bad-token", demo.URL, "goc_not-a-real-token"), "rejected the token"},
		{"nothing listening", plugintest.NewInstance("closed", closed, ""), "cannot reach G-OC at " + closed},
		{"no URL", plugintest.NewInstance("no-url", "", ""), "URL is not set"},
		{"not an http URL", plugintest.NewInstance("ftp", "ftp://127.0.0.1/", ""), "not an http(s) URL"},
		{"a URL that is not G-OC", plugintest.NewInstance("wrong-path", demo.URL+"/nothing-here", ""), "404"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := plugin.CheckHealth(context.Background(), tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if res.Status != backend.HealthStatusError || !strings.Contains(res.Message, tc.want) {
				t.Errorf("health = %v %q, want an error saying %q", res.Status, res.Message, tc.want)
			}
		})
	}
}

func TestHealthWithoutATokenIsReadOnly(t *testing.T) {
	res, err := plugin.CheckHealth(context.Background(), plugintest.NewInstance("no-token", demo.URL, ""))
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != backend.HealthStatusOk || !strings.Contains(res.Message, "no token set") {
		t.Errorf("health = %v %q", res.Status, res.Message)
	}
}
