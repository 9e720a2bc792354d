package config

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/g-oc/goc/collectors/feed/feedconfig"
	"github.com/g-oc/goc/collectors/probe/probeconfig"
	"github.com/g-oc/goc/indicators/period"
	"github.com/g-oc/goc/internal/outbound"
	"github.com/g-oc/goc/internal/redact"
	"github.com/g-oc/goc/internal/secret"
)

// Defaults of the collectors section.
const (
	DefaultCollectorConcurrency = 300
	DefaultProbeInterval        = time.Minute
	DefaultProbeTimeout         = 10 * time.Second
	DefaultProbeMaxBody         = 1 << 20
	DefaultProbeMaxRedirects    = 10
	// DefaultProbeRetention keeps 35 days of probe history: the design's 30 days
	// online, plus the few days after a month ends in which its summary is written.
	DefaultProbeRetention = 35 * 24 * time.Hour
	DefaultFeedInterval   = 15 * time.Minute
	DefaultFeedTimeout    = 30 * time.Second
	DefaultFeedMaxBytes   = 10 << 20
)

// Collectors configures the probes of agency portals and the KPI feeds that `goc
// serve` schedules.
type Collectors struct {
	// Concurrency caps the probe and feed runs going on at once.
	Concurrency int
	// BatchWindow rounds the start of each job to a multiple of it, so the jobs due
	// within one window start together and the runtime wakes once for them, not once
	// each (see schedule.Options.BatchWindow). Zero: the scheduler's default; negative
	// ("off" in the file): every job starts at its own even offset.
	BatchWindow time.Duration
	Probes      Probes
	Feeds       []Feed
	// AllowInternal lists the internal networks (CIDR), addresses and address:port
	// pairs probes and feeds may reach; every other loopback, private, link-local or
	// metadata address is refused, by name or by redirect.
	AllowInternal []string

	// lines maps each setting's path to its line in the file, for the checks made
	// after loading (CheckAgencies, CheckFeedIndicators).
	lines map[string]int
}

// Probes configures portal probes: the probe collector's own settings type, which
// validates itself.
type Probes = probeconfig.Probes

// Policy is the outbound policy of probes and feeds: public addresses, and the internal
// ones listed in collectors.allow_internal.
func (c *Collectors) Policy() *outbound.Policy {
	p, _ := outbound.NewPolicy(c.AllowInternal) // each entry was checked when loaded
	return p
}

// ProbeTarget is one portal to probe.
type ProbeTarget = probeconfig.Target

// Feed is one KPI feed to pull: the feed collector's own type, which validates itself.
type Feed = feedconfig.Feed

// FeedFields name where each part of a value is in a record (key, column or label).
type FeedFields = feedconfig.Fields

func defaultCollectors() Collectors {
	return Collectors{
		Concurrency: DefaultCollectorConcurrency,
		Probes: Probes{
			Interval: DefaultProbeInterval, Timeout: DefaultProbeTimeout,
			MaxBodyBytes: DefaultProbeMaxBody, MaxRedirects: DefaultProbeMaxRedirects,
			UserAgent: probeconfig.DefaultUserAgent, Retention: DefaultProbeRetention, Summary: true,
		},
	}
}

func (d *decoder) collectors(n *yaml.Node, path string, c *Collectors) {
	d.mapping(n, path, fields{
		"concurrency":  setting(d, &c.Concurrency, parsePositiveInt),
		"batch_window": setting(d, &c.BatchWindow, parseBatchWindow),
		"probes":       func(v *yaml.Node, p string) { d.probes(v, p, &c.Probes) },
		"feeds":        func(v *yaml.Node, p string) { c.Feeds = d.feeds(v, p) },
		"allow_internal": func(v *yaml.Node, p string) {
			d.scalarList(v, p, "[10.20.0.0/16, 127.0.0.1:9100]", func(n *yaml.Node, path, text string) {
				if _, err := outbound.NewPolicy([]string{text}); err != nil {
					d.add(n.Line, path, "%q is not a CIDR, an IP address or IP:port (names are not accepted: their address could change)", text)
					return
				}
				c.AllowInternal = append(c.AllowInternal, text)
			})
		},
	})
	c.lines = d.lines
	// Each collector judges its own settings; what spans the list (a portal or a
	// feed name given twice) is the file's, judged here with the line of the first.
	d.merge(c.Probes.Validate(path + ".probes"))
	for i, f := range c.Feeds {
		d.merge(f.Validate(fmt.Sprintf("%s.feeds[%d]", path, i)))
	}
	d.duplicates(c, path)
}

// duplicates reports a portal listed twice and a feed name given twice.
func (d *decoder) duplicates(c *Collectors, path string) {
	urls := map[string]int{} // url → line of its first use
	for i, t := range c.Probes.Targets {
		p := fmt.Sprintf("%s.probes.targets[%d].url", path, i)
		if t.URL == "" || d.reported(p) {
			continue
		}
		if first, dup := urls[t.URL]; dup {
			d.add(d.lineAt(p), p, "%s is listed twice; first at line %d", t.URL, first)
			continue
		}
		urls[t.URL] = d.lineAt(p)
	}
	names := map[string]int{}
	for i, f := range c.Feeds {
		p := fmt.Sprintf("%s.feeds[%d].name", path, i)
		if f.Name == "" || d.reported(p) {
			continue
		}
		if first, dup := names[f.Name]; dup {
			d.add(d.lineAt(p), p, "%q already names the feed at line %d", f.Name, first)
			continue
		}
		names[f.Name] = d.lineAt(p)
	}
}

func (d *decoder) probes(n *yaml.Node, path string, p *Probes) {
	d.mapping(n, path, fields{
		"interval":           setting(d, &p.Interval, parseDuration),
		"timeout":            setting(d, &p.Timeout, parseDuration),
		"max_body":           setting(d, &p.MaxBodyBytes, parsePositiveSize),
		"max_redirects":      setting(d, &p.MaxRedirects, parsePositiveInt),
		"user_agent":         d.text(&p.UserAgent),
		"resolver":           setting(d, &p.Resolver, parseResolver),
		"trust_anchors_file": d.file(&p.TrustAnchorsFile),
		"checks":             func(v *yaml.Node, q string) { p.Checks = d.checks(v, q) },
		"registry_portals":   setting(d, &p.RegistryPortals, parseBool),
		"retention":          setting(d, &p.Retention, parseRetention),
		"summary":            setting(d, &p.Summary, parseBool),
		"targets":            func(v *yaml.Node, q string) { p.Targets = d.targets(v, q) },
	})
}

// items reads a list of mappings, calling item for each; it reports a value that is
// not a list.
func (d *decoder) items(v *yaml.Node, path, what string, item func(n *yaml.Node, p string)) {
	if isNull(v) {
		return
	}
	if v.Kind != yaml.SequenceNode {
		d.add(v.Line, path, "must be a list of %s, not %s", what, kindName(v))
		return
	}
	for i, n := range v.Content {
		p := fmt.Sprintf("%s[%d]", path, i)
		d.lines[p] = resolve(n).Line
		item(resolve(n), p)
	}
}

func (d *decoder) checks(v *yaml.Node, path string) []string {
	if isNull(v) {
		return nil
	}
	if v.Kind != yaml.SequenceNode {
		d.add(v.Line, path, "must be a list of checks such as [http, ipv6], not %s", kindName(v))
		return nil
	}
	var out []string
	for _, n := range v.Content {
		out = append(out, strings.TrimSpace(resolve(n).Value))
	}
	return out
}

func (d *decoder) targets(v *yaml.Node, path string) []ProbeTarget {
	var out []ProbeTarget
	d.items(v, path, "targets", func(n *yaml.Node, p string) {
		var t ProbeTarget
		if !d.mapping(n, p, fields{
			"url":      setting(d, &t.URL, parsePortalURL),
			"agency":   d.text(&t.Agency),
			"expect":   d.text(&t.Expect),
			"http_url": setting(d, &t.HTTPURL, parsePlainURL),
			"interval": setting(d, &t.Interval, parseDuration),
			"checks":   func(v *yaml.Node, q string) { t.Checks = d.checks(v, q) },
		}) {
			return
		}
		out = append(out, t)
	})
	return out
}

func (d *decoder) feeds(v *yaml.Node, path string) []Feed {
	var out []Feed
	d.items(v, path, "feeds", func(n *yaml.Node, p string) {
		f := Feed{Interval: DefaultFeedInterval, Timeout: DefaultFeedTimeout, MaxBytes: DefaultFeedMaxBytes}
		if !d.mapping(n, p, fields{
			"name":      d.text(&f.Name),
			"url":       setting(d, &f.URL, parsePortalURL),
			"format":    d.text((*string)(&f.Format)),
			"interval":  setting(d, &f.Interval, parseDuration),
			"timeout":   setting(d, &f.Timeout, parseDuration),
			"max_bytes": setting(d, &f.MaxBytes, parsePositiveSize),
			"token":     d.secret(&f.Token),
			"username":  d.text(&f.Username),
			"password":  d.secret(&f.Password),
			"query_secrets": func(v *yaml.Node, q string) {
				v = resolve(v)
				if isNull(v) {
					return
				}
				if v.Kind != yaml.MappingNode {
					d.add(v.Line, q, "must be a mapping of query parameter names to secrets, such as api_key: {env: KPI_KEY}")
					return
				}
				f.QuerySecrets = map[string]secret.Secret{}
				for i := 0; i+1 < len(v.Content); i += 2 {
					name := v.Content[i].Value
					var sec secret.Secret
					d.secret(&sec)(v.Content[i+1], q+"."+name)
					f.QuerySecrets[name] = sec
				}
			},
			"agency":    d.text(&f.Agency),
			"indicator": d.text(&f.Indicator),
			"period": setting(d, &f.Period, func(s string) (string, error) {
				p, err := period.Parse(s)
				if err != nil {
					return "", err
				}
				return p.String(), nil
			}),
			"records": d.text(&f.Records),
			"sheet":   d.text(&f.Sheet),
			"fields": func(v *yaml.Node, q string) {
				ff := &f.Fields
				d.mapping(v, q, fields{
					"indicator": d.text(&ff.Indicator), "agency": d.text(&ff.Agency), "period": d.text(&ff.Period),
					"value": d.text(&ff.Value), "numerator": d.text(&ff.Numerator), "denominator": d.text(&ff.Denominator),
				})
			},
		}) {
			return
		}
		out = append(out, f)
	})
	return out
}

func parsePositiveInt(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%q must be a whole number above 0", s)
	}
	return n, nil
}

// parseBatchWindow takes "off" (or 0) for no batching, or a window up to a second:
// a wider one would start a second's probes at once and make the load uneven.
func parseBatchWindow(s string) (time.Duration, error) {
	if s == "off" || s == "0" {
		return -1, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 || d > time.Second {
		return 0, fmt.Errorf("%q must be off or a duration from 1ms to 1s, such as 50ms", s)
	}
	if d < time.Millisecond {
		return 0, fmt.Errorf("%q is under 1ms: write off to start every job at its own time", s)
	}
	return d, nil
}

func parseBool(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "true", "yes", "on":
		return true, nil
	case "false", "no", "off":
		return false, nil
	}
	return false, fmt.Errorf("%q must be true or false", s)
}

// parseRetention takes a duration; "0" keeps history for ever.
func parseRetention(s string) (time.Duration, error) {
	if s == "0" {
		return 0, nil
	}
	d, err := parseDuration(s)
	if err != nil {
		return 0, err
	}
	if d < 32*24*time.Hour {
		return 0, fmt.Errorf("%q is shorter than 32 days (768h): a month's history must last until its summary is written", s)
	}
	return d, nil
}

func parseResolver(s string) (string, error) {
	host, port, err := net.SplitHostPort(s)
	if err != nil || host == "" {
		return "", fmt.Errorf("%q is not host:port; write e.g. 127.0.0.1:53", s)
	}
	if n, err := strconv.Atoi(port); err != nil || n <= 0 || n > 65535 {
		return "", fmt.Errorf("port %q of %q must be a number from 1 to 65535", port, s)
	}
	return s, nil
}

func parsePortalURL(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("%q is not an http:// or https:// address", redact.URL(s))
	}
	// A credential in a URL is shown wherever the URL is (API, pages, metrics, logs);
	// it belongs in a secret field, which is not.
	if u.User != nil {
		return "", fmt.Errorf("%s holds a user name or password: give them as username and password (a secret: {env: NAME} or {file: PATH})", redact.URL(s))
	}
	for name := range u.Query() {
		if redact.SecretParam(name) {
			return "", fmt.Errorf("%s carries %s in its query: give it under query_secrets (a secret: {env: NAME} or {file: PATH}) or as token", redact.URL(s), name)
		}
	}
	return s, nil
}

func parsePlainURL(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "http" || u.Host == "" {
		return "", fmt.Errorf("%q is not an http:// address", s)
	}
	return s, nil
}

// agencyRef is an agency code the collectors name, with where it is written.
type agencyRef struct {
	path, code string
	line       int
}

// agencies lists the agency codes the collectors name, for CheckAgencies.
func (c *Collectors) agencies() []agencyRef {
	var out []agencyRef
	for i, t := range c.Probes.Targets {
		if t.Agency != "" {
			p := fmt.Sprintf("collectors.probes.targets[%d].agency", i)
			out = append(out, agencyRef{p, t.Agency, c.lines[p]})
		}
	}
	for i, f := range c.Feeds {
		if f.Agency != "" {
			p := fmt.Sprintf("collectors.feeds[%d].agency", i)
			out = append(out, agencyRef{p, f.Agency, c.lines[p]})
		}
	}
	return out
}

// CheckFeedIndicators reports, with its line, each feed whose default indicator the
// catalogue does not know. Like CheckAgencies it is a second step, because the
// catalogue may itself come from the config.
func (c *Config) CheckFeedIndicators(known func(code string) bool) error {
	ps := &problems{file: c.file}
	for i, f := range c.Collectors.Feeds {
		if p := fmt.Sprintf("collectors.feeds[%d].indicator", i); f.Indicator != "" && !known(f.Indicator) {
			ps.add(c.Collectors.lines[p], p, "unknown indicator %q", f.Indicator)
		}
	}
	return ps.err()
}
