package main

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/g-oc/goc/api/client"
)

// apiClient is the generated G-OC client (api/client) for --server: retries what a retry
// can fix, honouring Retry-After, and says so on stderr.
func apiClient(e *env, server, token string, timeout time.Duration) (*client.ClientWithResponses, error) {
	u, err := url.Parse(strings.TrimRight(server, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, usageError{fmt.Sprintf("--server %q không phải URL http(s) / is not an http(s) URL", server)}
	}
	return client.New(u.String(), client.Options{Token: token, Timeout: timeout, Retry: client.Retry{
		OnRetry: func(n int, wait time.Duration, why error) {
			fmt.Fprintf(e.stderr, "gửi lại lần %d sau %s / retrying (attempt %d) in %s: %v\n", n, wait, n, wait, why)
		},
	}})
}

// unreachable is the exit of a command whose server could not be reached or failed:
// exit code 4, try again later.
func unreachable(err error) error {
	if client.Unreachable(err) || client.StatusOf(err) >= 500 {
		return exitError{exitUnreachable, err.Error()}
	}
	return err
}
