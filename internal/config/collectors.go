package config

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/g-oc/goc/collectors/feed"
	"github.com/g-oc/goc/collectors/probe"
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
	Probes      Probes
	Feeds       []Feed
	// AllowInternal lists the internal networks (CIDR), addresses and address:port
	// pairs probes and feeds may reach; every other loopback, private, link-local or
	// metadata address is refused, by name or by redirect.
	AllowInternal []string
}

// Probes configures portal probes.
type Probes struct {
	Interval     time.Duration
	Timeout      time.Duration
	MaxBodyBytes int64
	MaxRedirects int
	UserAgent    string
	// Resolver is the DNS server (host:port) for AAAA and DNSSEC lookups; empty means
	// the first nameserver of /etc/resolv.conf.
	Resolver string
	// TrustAnchorsFile holds DNSSEC trust anchors as DS records; empty means the IANA
	// root anchors. Resolved against the config file's folder.
	TrustAnchorsFile string
	// Checks are the checks run on every target that names none; empty means all.
	Checks []string
	// RegistryPortals adds the portal of every agency in the registry that exists today.
	RegistryPortals bool
	// Retention is how long probe history is kept (0: for ever).
	Retention time.Duration
	// Summary writes the monthly portal indicators from probe history.
	Summary bool
	Targets []ProbeTarget
}

// Policy is the outbound policy of probes and feeds: public addresses, and the internal
// ones listed in collectors.allow_internal.
func (c *Collectors) Policy() *outbound.Policy {
	p, _ := outbound.NewPolicy(c.AllowInternal) // each entry was checked when loaded
	return p
}

// ProbeTarget is one portal to probe.
type ProbeTarget struct {
	URL    string
	Agency string
	// Expect is text the page must contain; empty checks nothing.
	Expect string
	// HTTPURL is the plain-HTTP address checked for a redirect to HTTPS.
	HTTPURL string
	// Interval overrides probes.interval when set.
	Interval time.Duration
	Checks   []string

	line int // where the agency is written, for CheckAgencies
}

// Feed is one KPI feed to pull.
type Feed struct {
	Name     string
	URL      string
	Format   string
	Interval time.Duration
	Timeout  time.Duration
	MaxBytes int64
	// Token is sent as a bearer token; Username and Password as HTTP basic
	// authentication; QuerySecrets are added to the URL's query when the request is
	// made (a feed that wants ?api_key=): none of them is ever shown.
	Token        secret.Secret
	Username     string
	Password     secret.Secret
	QuerySecrets map[string]secret.Secret
	// Agency, Indicator and Period apply to records that do not name their own.
	Agency, Indicator, Period string
	// Records is the JSON path of the records, or the Prometheus metric name prefix.
	Records string
	Sheet   string
	Fields  FeedFields

	line, indicatorLine int
}

// FeedFields name where each part of a value is in a record (key, column or label).
type FeedFields struct {
	Indicator, Agency, Period, Value, Numerator, Denominator string
}

func defaultCollectors() Collectors {
	return Collectors{
		Concurrency: DefaultCollectorConcurrency,
		Probes: Probes{
			Interval: DefaultProbeInterval, Timeout: DefaultProbeTimeout,
			MaxBodyBytes: DefaultProbeMaxBody, MaxRedirects: DefaultProbeMaxRedirects,
			UserAgent: probe.DefaultUserAgent, Retention: DefaultProbeRetention, Summary: true,
		},
	}
}

// feedName is what a feed name may hold: it becomes a metric label and a submitter.
var feedName = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,62}$`)

func (d *decoder) collectors(n *yaml.Node, path string, c *Collectors) {
	d.mapping(n, path, fields{
		"concurrency": setting(d, &c.Concurrency, parsePositiveInt),
		"probes":      func(v *yaml.Node, p string) { d.probes(v, p, &c.Probes) },
		"feeds":       func(v *yaml.Node, p string) { c.Feeds = d.feeds(v, p) },
		"allow_internal": func(v *yaml.Node, p string) {
			v = resolve(v)
			if isNull(v) {
				return
			}
			if v.Kind != yaml.SequenceNode {
				d.add(v.Line, p, "must be a list of networks or addresses, such as [10.20.0.0/16, 127.0.0.1:9100]")
				return
			}
			for i, n := range v.Content {
				s := strings.TrimSpace(resolve(n).Value)
				if _, err := outbound.NewPolicy([]string{s}); err != nil {
					d.add(n.Line, fmt.Sprintf("%s[%d]", p, i), "%q is not a CIDR, an IP address or IP:port (names are not accepted: their address could change)", s)
					continue
				}
				c.AllowInternal = append(c.AllowInternal, s)
			}
		},
	})
	pr := &c.Probes
	if pr.Timeout > pr.Interval && !d.reported(path+".probes.timeout") && !d.reported(path+".probes.interval") {
		d.add(d.lineOf(path+".probes.timeout", path+".probes.interval"), path+".probes.timeout",
			"timeout %s is longer than the interval %s: a slow portal would miss every other probe", pr.Timeout, pr.Interval)
	}
	for i, t := range pr.Targets {
		p := fmt.Sprintf("%s.probes.targets[%d].interval", path, i)
		if t.Interval > 0 && pr.Timeout > t.Interval && !d.reported(p) {
			d.add(d.lineOf(p), p, "interval %s is shorter than probes.timeout %s", t.Interval, pr.Timeout)
		}
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
		item(resolve(n), fmt.Sprintf("%s[%d]", path, i))
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
		s := strings.TrimSpace(resolve(n).Value)
		if !slices.Contains(probe.CheckNames(), s) {
			d.add(n.Line, path, "unknown check %q; known: %s", s, strings.Join(probe.CheckNames(), ", "))
			continue
		}
		out = append(out, s)
	}
	return out
}

func (d *decoder) targets(v *yaml.Node, path string) []ProbeTarget {
	var out []ProbeTarget
	urls := map[string]int{} // url → line of its first use
	d.items(v, path, "targets", func(n *yaml.Node, p string) {
		t := ProbeTarget{line: n.Line}
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
		line := func(key string) int { return max(n.Line, d.lineOf(p+"."+key)) }
		t.line = line("agency")
		switch first, dup := urls[t.URL]; {
		case t.URL == "" && !d.reported(p+".url"):
			d.add(line("url"), p+".url", "required: the portal's address, such as https://langson.gov.vn")
		case dup && t.URL != "":
			d.add(line("url"), p+".url", "%s is listed twice; first at line %d", t.URL, first)
		case t.URL != "":
			urls[t.URL] = line("url")
		}
		if t.Agency == "" {
			d.add(line("agency"), p+".agency", "required: the code of the agency whose portal it is")
		}
		out = append(out, t)
	})
	return out
}

func (d *decoder) feeds(v *yaml.Node, path string) []Feed {
	var out []Feed
	names := map[string]int{}
	d.items(v, path, "feeds", func(n *yaml.Node, p string) {
		f := Feed{line: n.Line, Interval: DefaultFeedInterval, Timeout: DefaultFeedTimeout, MaxBytes: DefaultFeedMaxBytes}
		if !d.mapping(n, p, fields{
			"name":      d.text(&f.Name),
			"url":       setting(d, &f.URL, parsePortalURL),
			"format":    setting(d, &f.Format, parseFeedFormat),
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
		line := func(key string) int { return max(n.Line, d.lineOf(p+"."+key)) }
		f.line, f.indicatorLine = line("agency"), line("indicator")
		switch first, dup := names[f.Name]; {
		case f.Name == "":
			d.add(line("name"), p+".name", "required: a short name such as lang-son-kpi, used in metrics and the API")
		case !feedName.MatchString(f.Name):
			d.add(line("name"), p+".name", "%q: use lowercase letters, digits, '.', '_' and '-' (at most 63)", f.Name)
		case dup:
			d.add(line("name"), p+".name", "%q already names the feed at line %d", f.Name, first)
		default:
			names[f.Name] = line("name")
		}
		if f.URL == "" && !d.reported(p+".url") {
			d.add(line("url"), p+".url", "required: where the feed is published")
		}
		if f.Format == "" && !d.reported(p+".format") {
			d.add(line("format"), p+".format", "required: one of %s", formatList())
		}
		if f.Timeout > f.Interval && !d.reported(p+".timeout") && !d.reported(p+".interval") {
			d.add(line("timeout"), p+".timeout", "timeout %s is longer than the interval %s", f.Timeout, f.Interval)
		}
		out = append(out, f)
	})
	return out
}

func formatList() string {
	var s []string
	for _, f := range feed.Formats() {
		s = append(s, string(f))
	}
	return strings.Join(s, ", ")
}

func parseFeedFormat(s string) (string, error) {
	if slices.Contains(feed.Formats(), feed.Format(s)) {
		return s, nil
	}
	return "", fmt.Errorf("unknown format %q; known: %s", s, formatList())
}

func parsePositiveInt(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%q must be a whole number above 0", s)
	}
	return n, nil
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
			out = append(out, agencyRef{fmt.Sprintf("collectors.probes.targets[%d].agency", i), t.Agency, t.line})
		}
	}
	for i, f := range c.Feeds {
		if f.Agency != "" {
			out = append(out, agencyRef{fmt.Sprintf("collectors.feeds[%d].agency", i), f.Agency, f.line})
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
		if f.Indicator != "" && !known(f.Indicator) {
			ps.add(f.indicatorLine, fmt.Sprintf("collectors.feeds[%d].indicator", i), "unknown indicator %q", f.Indicator)
		}
	}
	return ps.err()
}
