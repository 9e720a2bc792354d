// Command probebench measures G-OC's portal prober side by side with
// blackbox_exporter, on this machine, against the same loopback targets, and prints
// the results as Markdown for BENCHMARKS.md. scripts/bench-probes.sh builds
// blackbox_exporter and runs it; `go test ./...` never does.
//
// Three measurements:
//
//  1. Throughput and CPU: N targets (distinct paths on one loopback server, in its own
//     process so its CPU is not counted), probed with and without TLS, C at a time.
//     G-OC runs its prober in this process (the http check only: what blackbox's
//     http_2xx module does). blackbox_exporter is driven as Prometheus drives it: GET
//     /probe?target=URL&module=http_2xx over kept-alive connections, C at a time. CPU
//     is user+system time of the process doing the probing (this one, or blackbox's),
//     read from the kernel; for blackbox the driver's own CPU is given apart.
//  2. Timing error: a target that waits a known delay before answering; the error is
//     the measured time to first byte minus that delay, for both probers.
//  3. The scheduled pipeline at the aim: M portals on G-OC's real scheduler,
//     sink and SQLite store, for a few intervals, with CPU use, delay and misses. With
//     -sched-batch it runs once per batch window listed, one after another in the same
//     process, so the windows are compared on the same machine at the same time; one
//     portal in -sched-delay-every waits the known delay, and its time to first byte
//     gives the timing error of probes started in batches.
package main

import (
	"bufio"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"flag"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/g-oc/goc/collectors/probe"
	"github.com/g-oc/goc/collectors/schedule"
	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/internal/outbound"
	"github.com/g-oc/goc/internal/store/sqlite"
)

func main() {
	serve := flag.Bool("serve", false, "internal: run the target servers and write their addresses to -info")
	info := flag.String("info", "", "internal: where -serve writes its addresses")
	bbx := flag.String("blackbox", "", "blackbox_exporter binary (empty: G-OC only)")
	n := flag.Int("n", 1000, "targets per round")
	rounds := flag.Int("rounds", 3, "rounds over the targets per measurement")
	conc := flag.Int("c", 32, "probes at once")
	delay := flag.Duration("delay", 50*time.Millisecond, "the known delay of the timing target")
	timingProbes := flag.Int("timing", 200, "probes of the timing target")
	schedN := flag.Int("sched-n", 10000, "portals in the scheduled run (0: skip it)")
	schedInterval := flag.Duration("sched-interval", 20*time.Second, "interval of the scheduled run")
	schedRuns := flag.Int("sched-intervals", 3, "intervals the scheduled run lasts")
	schedBatch := flag.String("sched-batch", "", "batch windows of the scheduled run, comma-separated (e.g. off,10ms,50ms): one run each, in this order (empty: the scheduler's default, once)")
	schedDelayEvery := flag.Int("sched-delay-every", 100, "in the scheduled run, one portal in this many is the delayed target (0: none)")
	schedSigned := flag.Bool("sched-signed", false, "with -sched-names, put the portals in a signed zone (signed.test., delegated from test., whose key is the trust anchor), so every probe proves the chain and checks the signature on the portal's address records")
	schedNames := flag.Bool("sched-names", false, "in the scheduled run, name each portal (pNNNNN.portal.test, an unsigned zone on a loopback DNS server, A 127.0.0.1 and AAAA ::1, both served), so every probe makes its DNS lookups, its IPv6 fetch and its DNSSEC queries")
	schedRedirect := flag.Bool("sched-https-redirect", false, "in the scheduled run, give each HTTPS portal a plain-HTTP address that redirects to it, so its https_redirect check makes its request as on port 443 (without it the check stops at the non-standard port)")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of each scheduled run to this file (the window is added before the extension when there are several)")
	schedRaw := flag.Bool("sched-raw", false, "after the scheduled runs, fetch the same portals on the same grid with net/http alone, once per batch window, as the floor under G-OC's pipeline (IP-address portals only)")
	memProfile := flag.String("memprofile", "", "after each scheduled run, write the allocation profile (since the process started) to this file, named as -cpuprofile")
	overload := flag.Duration("overload", 0, "instead of the other runs: ask the scheduler for twice what it can do for this long (e.g. 2m), sampling RSS and goroutines")
	overloadRunners := flag.Int("overload-runners", 100, "runners (probes at once) of the overload run")
	overloadHold := flag.Duration("overload-hold", time.Second, "how long the target holds each probe of the overload run")
	overloadFactor := flag.Float64("overload-factor", 2, "the overload run asks this many times what the runners can do")
	flag.Parse()
	if *serve {
		if err := runServers(*info); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	var windows []time.Duration
	for w := range strings.SplitSeq(*schedBatch, ",") {
		switch w = strings.TrimSpace(w); w {
		case "":
		case "off", "0":
			windows = append(windows, -1)
		default:
			d, err := time.ParseDuration(w)
			if err != nil || d <= 0 {
				fmt.Fprintf(os.Stderr, "probebench: -sched-batch: %q is not off or a positive duration such as 10ms\n", w)
				os.Exit(2)
			}
			windows = append(windows, d)
		}
	}
	if len(windows) == 0 {
		windows = []time.Duration{0}
	}
	if *overload > 0 {
		oc := overloadConf{duration: *overload, runners: *overloadRunners, hold: *overloadHold, factor: *overloadFactor, interval: *schedInterval}
		if err := runOverload(oc); err != nil {
			fmt.Fprintln(os.Stderr, "probebench:", err)
			os.Exit(1)
		}
		return
	}
	sc := schedConf{n: *schedN, interval: *schedInterval, intervals: *schedRuns, windows: windows,
		delayEvery: *schedDelayEvery, delay: *delay, profile: *cpuProfile, memProfile: *memProfile, raw: *schedRaw, redirect: *schedRedirect, names: *schedNames || *schedSigned, signed: *schedSigned}
	if err := run(*bbx, *n, *rounds, *conc, *delay, *timingProbes, sc); err != nil {
		fmt.Fprintln(os.Stderr, "probebench:", err)
		os.Exit(1)
	}
}

// ---- target servers (a child process) --------------------------------------------

type addrs struct {
	HTTP, HTTPS, CA string
	// DNS answers for the zone portal.test (unsigned): every name under it is
	// 127.0.0.1 and ::1, where the two servers also listen on the same ports.
	DNS string
	// HTTPPort and HTTPSPort are the servers' ports, on 127.0.0.1 and [::1].
	HTTPPort, HTTPSPort string
	// Anchor is the DS of test.'s key: the trust anchor of signedZone, served by the
	// same DNS server (signed.test., delegated from test., both signed).
	Anchor string
}

const (
	zone       = "portal.test."
	signedZone = "signed.test."
	topZone    = "test."
)

// signer is one signed zone of serveDNS: its key, and its sets signed once.
type signer struct {
	name string
	key  *dns.DNSKEY
	priv crypto.Signer
}

func newSigner(name string) (*signer, error) {
	k := &dns.DNSKEY{Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypeDNSKEY, Class: dns.ClassINET, Ttl: 3600},
		Flags: 257, Protocol: 3, Algorithm: dns.ECDSAP256SHA256}
	priv, err := k.Generate(256)
	if err != nil {
		return nil, err
	}
	return &signer{name: name, key: k, priv: priv.(crypto.Signer)}, nil
}

// signed returns rrs with their RRSIG, valid from an hour ago for a day.
func (z *signer) signed(rrs ...dns.RR) []dns.RR {
	h := rrs[0].Header()
	sig := &dns.RRSIG{Hdr: dns.RR_Header{Name: h.Name, Rrtype: dns.TypeRRSIG, Class: dns.ClassINET, Ttl: h.Ttl},
		TypeCovered: h.Rrtype, Algorithm: z.key.Algorithm, Labels: uint8(dns.CountLabel(h.Name)), OrigTtl: h.Ttl,
		Expiration: uint32(time.Now().Add(24 * time.Hour).Unix()), Inception: uint32(time.Now().Add(-time.Hour).Unix()),
		KeyTag: z.key.KeyTag(), SignerName: z.name}
	if err := sig.Sign(z.priv, rrs); err != nil {
		panic("probebench: sign: " + err.Error())
	}
	return append(rrs, sig)
}

// signedAnswer answers for test. and signed.test., both signed, as an authoritative
// server with its signer does: DNSKEY and DS sets signed once, address records signed
// at each answer (the server's CPU, in the servers' process, is not counted).
func signedAnswer(top, sub *signer, m *dns.Msg, name string, qt uint16) {
	soaOf := func(z string) dns.RR {
		rr, _ := dns.NewRR(z + " 3600 IN SOA ns." + z + " hostmaster." + z + " 1 7200 900 1209600 300")
		return rr
	}
	switch {
	case qt == dns.TypeSOA && (name == topZone || name == signedZone):
		m.Answer = []dns.RR{soaOf(name)}
	case qt == dns.TypeDNSKEY && name == topZone:
		m.Answer = top.signed(top.key)
	case qt == dns.TypeDNSKEY && name == signedZone:
		m.Answer = sub.signed(sub.key)
	case qt == dns.TypeDS && name == signedZone:
		m.Answer = top.signed(sub.key.ToDS(dns.SHA256))
	case qt == dns.TypeA && dns.IsSubDomain(signedZone, name) && name != signedZone:
		m.Answer = sub.signed(&dns.A{Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 300}, A: net.IPv4(127, 0, 0, 1)})
	case qt == dns.TypeAAAA && dns.IsSubDomain(signedZone, name) && name != signedZone:
		m.Answer = sub.signed(&dns.AAAA{Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypeAAAA, Class: dns.ClassINET, Ttl: 300}, AAAA: net.IPv6loopback})
	case dns.IsSubDomain(signedZone, name):
		m.Ns = []dns.RR{soaOf(signedZone)}
	default:
		m.Ns = []dns.RR{soaOf(topZone)}
	}
}

// serveDNS answers for zone, as an unsigned zone's server does: A and AAAA for every
// name under it, the SOA at its apex, no data (with the SOA) for anything else.
func serveDNS() (string, string, error) {
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		return "", "", err
	}
	top, err := newSigner(topZone)
	if err != nil {
		return "", "", err
	}
	sub, err := newSigner(signedZone)
	if err != nil {
		return "", "", err
	}
	soa, _ := dns.NewRR(zone + " 300 IN SOA ns." + zone + " hostmaster." + zone + " 1 7200 900 1209600 300")
	h := dns.HandlerFunc(func(w dns.ResponseWriter, q *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(q)
		m.Authoritative = true
		if len(q.Question) == 1 && dns.IsSubDomain(topZone, dns.CanonicalName(q.Question[0].Name)) &&
			!dns.IsSubDomain(zone, dns.CanonicalName(q.Question[0].Name)) {
			if opt := q.IsEdns0(); opt != nil {
				m.SetEdns0(4096, opt.Do())
			}
			signedAnswer(top, sub, m, dns.CanonicalName(q.Question[0].Name), q.Question[0].Qtype)
			w.WriteMsg(m)
			return
		}
		if len(q.Question) != 1 || !dns.IsSubDomain(zone, dns.CanonicalName(q.Question[0].Name)) {
			m.Rcode = dns.RcodeRefused
			w.WriteMsg(m)
			return
		}
		name := dns.CanonicalName(q.Question[0].Name)
		var rr dns.RR
		switch qt := q.Question[0].Qtype; {
		case qt == dns.TypeA && name != zone:
			rr = &dns.A{Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 300}, A: net.IPv4(127, 0, 0, 1)}
		case qt == dns.TypeAAAA && name != zone:
			rr = &dns.AAAA{Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypeAAAA, Class: dns.ClassINET, Ttl: 300}, AAAA: net.IPv6loopback}
		case qt == dns.TypeSOA && name == zone:
			rr = soa
		}
		if rr != nil {
			m.Answer = []dns.RR{rr}
		} else {
			m.Ns = []dns.RR{soa}
		}
		w.WriteMsg(m)
	})
	go (&dns.Server{PacketConn: pc, Handler: h}).ActivateAndServe()
	return pc.LocalAddr().String(), top.key.ToDS(dns.SHA256).String(), nil
}

// dualStack listens on 127.0.0.1 and [::1] at one port the kernel picks (free on
// both: a wildcard listener holds it first).
func dualStack() (v4, v6 net.Listener, port string, err error) {
	wild, err := net.Listen("tcp", "[::]:0")
	if err != nil {
		return nil, nil, "", err
	}
	_, port, _ = net.SplitHostPort(wild.Addr().String())
	wild.Close()
	if v4, err = net.Listen("tcp4", "127.0.0.1:"+port); err != nil {
		return nil, nil, "", err
	}
	if v6, err = net.Listen("tcp6", "[::1]:"+port); err != nil {
		v4.Close()
		return nil, nil, "", err
	}
	return v4, v6, port, nil
}

const page = `<!doctype html><html lang="vi"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Cổng thông tin điện tử</title></head><body>`

func runServers(info string) error {
	dir := filepath.Dir(info)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "probebench CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &key.PublicKey, key)
	if err != nil {
		return err
	}
	ca, _ := x509.ParseCertificate(caDER)
	leafKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leafTmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}, DNSNames: []string{"*." + strings.TrimSuffix(zone, "."), "*." + strings.TrimSuffix(signedZone, ".")}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		KeyUsage: x509.KeyUsageDigitalSignature}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, ca, &leafKey.PublicKey, key)
	if err != nil {
		return err
	}
	caFile := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o600); err != nil {
		return err
	}
	body := []byte(page + strings.Repeat("<p>Thủ tục hành chính, dịch vụ công trực tuyến.</p>\n", 150) + "</body></html>")
	// The delayed target logs how long each answer really waited (a sleep overshoots
	// by up to a millisecond on a busy machine), so the prober's own error can be told
	// apart from the server's.
	var mu sync.Mutex
	var waited []served
	var httpsHost string // set before either server serves
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// /https/PATH is a portal's plain-HTTP address: it sends the visitor to
		// https://…/PATH, as a portal on port 80 does.
		if rest, ok := strings.CutPrefix(r.URL.Path, "/https/"); ok {
			u := "https://" + httpsHost + "/" + rest
			if r.URL.RawQuery != "" {
				u += "?" + r.URL.RawQuery
			}
			http.Redirect(w, r, u, http.StatusMovedPermanently)
			return
		}
		if r.URL.Path == "/delay-log" {
			mu.Lock()
			json.NewEncoder(w).Encode(waited)
			waited = nil
			mu.Unlock()
			return
		}
		// The delay is the path's last part after /delay/: /delay/50ms, or
		// /portal/00100/delay/50ms for a scheduled portal that keeps its place in name order.
		if i := strings.LastIndex(r.URL.Path, "/delay/"); i >= 0 {
			d := r.URL.Path[i+len("/delay/"):]
			if dd, err := time.ParseDuration(d); err == nil {
				start := time.Now()
				time.Sleep(dd)
				w.Header().Set("Content-Type", "text/html; charset=utf-8")
				w.WriteHeader(http.StatusOK)
				mu.Lock()
				waited = append(waited, served{Key: r.URL.RawQuery, Secs: time.Since(start).Seconds()})
				mu.Unlock()
				w.Write(body)
				return
			}
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(body)
	})
	l1, l1v6, httpPort, err := dualStack()
	if err != nil {
		return err
	}
	l2, l2v6, httpsPort, err := dualStack()
	if err != nil {
		return err
	}
	dnsAddr, anchor, err := serveDNS()
	if err != nil {
		return err
	}
	httpsHost = l2.Addr().String()
	for _, l := range []net.Listener{l1, l1v6} {
		go (&http.Server{Handler: h}).Serve(l)
	}
	for _, l := range []net.Listener{l2, l2v6} {
		tlsSrv := &http.Server{Handler: h, TLSConfig: &tls.Config{Certificates: []tls.Certificate{{
			Certificate: [][]byte{leafDER, caDER}, PrivateKey: leafKey}}}}
		go tlsSrv.ServeTLS(l, "", "")
	}
	a := addrs{HTTP: "http://" + l1.Addr().String(), HTTPS: "https://" + l2.Addr().String(), CA: caFile,
		DNS: dnsAddr, HTTPPort: httpPort, HTTPSPort: httpsPort, Anchor: anchor}
	b, _ := json.Marshal(a)
	if err := os.WriteFile(info+".tmp", b, 0o600); err != nil {
		return err
	}
	if err := os.Rename(info+".tmp", info); err != nil {
		return err
	}
	// Stop when the parent goes: it closes our stdin.
	io.Copy(io.Discard, os.Stdin)
	return nil
}

// served is how long the delayed target really waited for one answer, with the query
// that asked (the scheduled run tells its portals apart by it).
type served struct {
	Key  string  `json:"k"`
	Secs float64 `json:"s"`
}

// ---- CPU accounting -----------------------------------------------------------------

func selfCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// switches is how many times this process has given up a CPU (it blocked, voluntary)
// or been made to (involuntary): every wake-up of an idle runtime is one voluntary switch.
func switches() int64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Nvcsw + ru.Nivcsw
}

// procCPU reads a process's user+system time from /proc (clock ticks of 10 ms).
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond
}

// ---- measurements -----------------------------------------------------------------

type result struct {
	who, scheme        string
	probes, failed     int
	wall               time.Duration
	cpu, driverCPU     time.Duration
	perSec, cpuPerProb float64 // probes/s, ms of CPU per probe
}

func pool(targets []string, rounds, conc int, do func(string) bool) (ok, failed int, wall time.Duration) {
	var nOK, nFail atomic.Int64
	ch := make(chan string, conc)
	var wg sync.WaitGroup
	start := time.Now()
	for range conc {
		wg.Go(func() {
			for t := range ch {
				if do(t) {
					nOK.Add(1)
				} else {
					nFail.Add(1)
				}
			}
		})
	}
	for range rounds {
		for _, t := range targets {
			ch <- t
		}
	}
	close(ch)
	wg.Wait()
	return int(nOK.Load()), int(nFail.Load()), time.Since(start)
}

func measureGOC(p *probe.Prober, scheme string, targets []string, rounds, conc int) result {
	runtime.GC()
	c0 := selfCPU()
	ok, failed, wall := pool(targets, rounds, conc, func(t string) bool {
		return p.Probe(context.Background(), probe.Target{URL: t}).Success
	})
	cpu := selfCPU() - c0
	return finish(result{who: "G-OC", scheme: scheme, probes: ok + failed, failed: failed, wall: wall, cpu: cpu})
}

func measureBlackbox(base string, pid int, scheme string, targets []string, rounds, conc int) result {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conc, MaxConnsPerHost: conc}}
	runtime.GC()
	c0, d0 := procCPU(pid), selfCPU()
	ok, failed, wall := pool(targets, rounds, conc, func(t string) bool {
		resp, err := client.Get(base + "/probe?module=http_2xx&target=" + t)
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			if sc.Text() == "probe_success 1" {
				io.Copy(io.Discard, resp.Body)
				return true
			}
		}
		return false
	})
	return finish(result{who: "blackbox_exporter", scheme: scheme, probes: ok + failed, failed: failed, wall: wall,
		cpu: procCPU(pid) - c0, driverCPU: selfCPU() - d0})
}

func finish(r result) result {
	r.perSec = float64(r.probes) / r.wall.Seconds()
	r.cpuPerProb = float64(r.cpu.Microseconds()) / 1000 / float64(r.probes)
	return r
}

func startBlackbox(bin, dir, caFile string) (base string, cmd *exec.Cmd, err error) {
	cfg := filepath.Join(dir, "blackbox.yml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(`modules:
  http_2xx:
    prober: http
    timeout: 10s
    http:
      preferred_ip_protocol: ip4
      tls_config:
        ca_file: %s
`, caFile)), 0o600); err != nil {
		return "", nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	addr := l.Addr().String()
	l.Close()
	cmd = exec.Command(bin, "--config.file="+cfg, "--web.listen-address="+addr, "--log.level=error")
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // never outlive the benchmark
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	base = "http://" + addr
	for range 100 {
		if resp, err := http.Get(base + "/-/healthy"); err == nil {
			resp.Body.Close()
			return base, cmd, nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	cmd.Process.Kill()
	return "", nil, fmt.Errorf("blackbox_exporter did not answer on %s", addr)
}

// timing probes the delayed target n times, one after another, and returns the
// errors of the first-byte phase against the nominal delay and against the wait the
// server itself measured for each answer.
func timing(logBase string, n int, delay time.Duration, measure func() (float64, error)) (nominal, served []float64, err error) {
	fetchLog := func() ([]float64, error) {
		l, err := delayLog(logBase)
		var v []float64
		for _, s := range l {
			v = append(v, s.Secs)
		}
		return v, err
	}
	if _, err := fetchLog(); err != nil { // start from an empty log
		return nil, nil, err
	}
	var got []float64
	for range n {
		v, err := measure()
		if err != nil {
			return nil, nil, err
		}
		got = append(got, v)
	}
	waited, err := fetchLog()
	if err != nil {
		return nil, nil, err
	}
	if len(waited) != len(got) {
		return nil, nil, fmt.Errorf("server logged %d answers for %d probes", len(waited), len(got))
	}
	for i, v := range got {
		nominal = append(nominal, v-delay.Seconds())
		served = append(served, v-waited[i])
	}
	slices.Sort(nominal)
	slices.Sort(served)
	return nominal, served, nil
}

// delayLog fetches (and empties) the delayed target's log of the waits it served.
func delayLog(base string) ([]served, error) {
	resp, err := http.Get(base + "/delay-log")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var v []served
	return v, json.NewDecoder(resp.Body).Decode(&v)
}

func stats(errs []float64) string {
	var sum, abs float64
	for _, e := range errs {
		sum += e
		if e < 0 {
			abs += -e
		} else {
			abs += e
		}
	}
	q := func(p float64) float64 { return errs[min(len(errs)-1, int(p*float64(len(errs))))] * 1000 }
	return fmt.Sprintf("%.3f | %.3f | %.3f | %.3f | %.3f", sum/float64(len(errs))*1000, abs/float64(len(errs))*1000, q(0.5), q(0.99), errs[len(errs)-1]*1000)
}

func blackboxPhase(base, target string) (float64, error) {
	resp, err := http.Get(base + "/probe?module=http_2xx&target=" + target)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), `probe_http_duration_seconds{phase="processing"} `); ok {
			return strconv.ParseFloat(v, 64)
		}
	}
	return 0, fmt.Errorf("no processing phase in blackbox's answer")
}

// startServers runs the target servers in a child process, so that their CPU and
// memory are not counted as G-OC's, with a temporary folder for their files and the
// run's; stop ends it and removes the folder.
func startServers() (dir string, a addrs, stop func(), err error) {
	if dir, err = os.MkdirTemp("", "probebench-"); err != nil {
		return "", a, nil, err
	}
	a, stop, err = startServersIn(dir)
	if err != nil {
		os.RemoveAll(dir)
		return "", a, nil, err
	}
	inner := stop
	return dir, a, func() { inner(); os.RemoveAll(dir) }, nil
}

func startServersIn(dir string) (a addrs, stop func(), err error) {
	info := filepath.Join(dir, "addrs.json")
	self, err := os.Executable()
	if err != nil {
		return a, nil, err
	}
	srv := exec.Command(self, "-serve", "-info", info)
	srv.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stdin, _ := srv.StdinPipe()
	srv.Stderr = os.Stderr
	if err := srv.Start(); err != nil {
		return a, nil, err
	}
	stop = func() { stdin.Close(); srv.Wait() }
	for range 200 {
		if b, err := os.ReadFile(info); err == nil && json.Unmarshal(b, &a) == nil {
			break
		}
		time.Sleep(25 * time.Millisecond)
	}
	if a.HTTP == "" {
		stop()
		return a, nil, fmt.Errorf("the target servers did not start")
	}
	return a, stop, nil
}

func run(bbx string, n, rounds, conc int, delay time.Duration, timingN int, sc schedConf) error {
	dir, a, stop, err := startServers()
	if err != nil {
		return err
	}
	defer stop()
	pemData, _ := os.ReadFile(a.CA)
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pemData)
	prober, err := probe.New(probe.Options{RootCAs: roots, Checks: []string{probe.CheckHTTP}, Outbound: outbound.MustPolicy("127.0.0.1/32", "::1/128")})
	if err != nil {
		return err
	}
	var bbBase string
	var bbCmd *exec.Cmd
	if bbx != "" {
		if bbBase, bbCmd, err = startBlackbox(bbx, dir, a.CA); err != nil {
			return err
		}
		defer bbCmd.Process.Kill()
	}

	fmt.Printf("## Probe benchmark: %d loopback targets × %d rounds, %d at a time, %s, %d CPUs, %s, load average %s\n\n",
		n, rounds, conc, runtime.Version(), runtime.NumCPU(), time.Now().UTC().Format("2006-01-02"), loadavg())
	if rounds > 0 && n > 0 {
		if err := throughput(bbx, bbBase, bbCmd, prober, a, n, rounds, conc); err != nil {
			return err
		}
	}
	if timingN > 0 {
		if err := timings(bbx, bbBase, prober, a, delay, timingN); err != nil {
			return err
		}
	}
	if sc.n > 0 {
		if err := scheduled(dir, a, roots, sc); err != nil {
			return err
		}
	}
	return nil
}

// throughput is measurement 1: probes per second and CPU per probe, both probers.
func throughput(bbx, bbBase string, bbCmd *exec.Cmd, prober *probe.Prober, a addrs, n, rounds, conc int) error {
	fmt.Println("| prober | scheme | probes | failed | probes/s | CPU ms/probe (prober) | CPU ms/probe (driver) |")
	fmt.Println("|---|---|---|---|---|---|---|")
	var table []result
	for _, scheme := range []string{"http", "https"} {
		base := a.HTTP
		if scheme == "https" {
			base = a.HTTPS
		}
		targets := make([]string, n)
		for i := range targets {
			targets[i] = fmt.Sprintf("%s/portal/%05d", base, i)
		}
		// Warm both up with one round, so neither pays for first-use costs.
		measureGOC(prober, scheme, targets[:min(n, 100)], 1, conc)
		if bbx != "" {
			measureBlackbox(bbBase, bbCmd.Process.Pid, scheme, targets[:min(n, 100)], 1, conc)
		}
		runs := []result{measureGOC(prober, scheme, targets, rounds, conc)}
		if bbx != "" {
			runs = append(runs, measureBlackbox(bbBase, bbCmd.Process.Pid, scheme, targets, rounds, conc))
		}
		for _, r := range runs {
			drv := "—"
			if r.driverCPU > 0 {
				drv = fmt.Sprintf("%.3f", float64(r.driverCPU.Microseconds())/1000/float64(r.probes))
			}
			fmt.Printf("| %s | %s | %d | %d | %.0f | %.3f | %s |\n", r.who, r.scheme, r.probes, r.failed, r.perSec, r.cpuPerProb, drv)
			table = append(table, r)
		}
	}
	if bbx != "" {
		fmt.Println()
		for i := 0; i+1 < len(table); i += 2 {
			g, b := table[i], table[i+1]
			fmt.Printf("- %s: G-OC makes %.2f× blackbox_exporter's probes per second and uses %.2f× its CPU per probe (%.2f× counting the driver, which stands in for Prometheus).\n",
				g.scheme, g.perSec/b.perSec, g.cpuPerProb/b.cpuPerProb,
				g.cpuPerProb/(b.cpuPerProb+float64(b.driverCPU.Microseconds())/1000/float64(b.probes)))
		}
	}
	return nil
}

// timings is measurement 2: the timing error against a known delay, one probe at a time.
func timings(bbx, bbBase string, prober *probe.Prober, a addrs, delay time.Duration, timingN int) error {
	fmt.Printf("\n### Time to first byte against a server that waits %s (%d probes each, one at a time, ms)\n\n", delay, timingN)
	fmt.Println("Error = measured time to first byte − the wait: first the nominal wait, then the wait the server measured for that very answer.")
	fmt.Println()
	fmt.Println("| prober | scheme | against | mean error | mean abs error | median | p99 | max |")
	fmt.Println("|---|---|---|---|---|---|---|---|")
	for _, scheme := range []string{"http", "https"} {
		base := a.HTTP
		if scheme == "https" {
			base = a.HTTPS
		}
		target := base + "/delay/" + delay.String()
		nominal, served, err := timing(a.HTTP, timingN, delay, func() (float64, error) {
			r := prober.Probe(context.Background(), probe.Target{URL: target})
			if !r.Success {
				return 0, fmt.Errorf("timing probe failed: %s", r.Error)
			}
			return r.Phases.Processing, nil
		})
		if err != nil {
			return err
		}
		fmt.Printf("| G-OC | %s | nominal | %s |\n| G-OC | %s | served | %s |\n", scheme, stats(nominal), scheme, stats(served))
		if bbx != "" {
			nominal, served, err := timing(a.HTTP, timingN, delay, func() (float64, error) { return blackboxPhase(bbBase, target) })
			if err != nil {
				return err
			}
			fmt.Printf("| blackbox_exporter | %s | nominal | %s |\n| blackbox_exporter | %s | served | %s |\n", scheme, stats(nominal), scheme, stats(served))
		}
	}
	return nil
}

// schedConf is the scheduled run's setting: N portals every interval for so many
// intervals, once per batch window (0: the scheduler's default, negative: none).
type schedConf struct {
	n, intervals, delayEvery int
	interval, delay          time.Duration
	windows                  []time.Duration
	profile                  string
	memProfile               string
	redirect                 bool // HTTPS portals get a plain address that redirects
	names                    bool // portals are names under zone, not 127.0.0.1
	signed                   bool // names under signedZone instead
	raw                      bool // also run the portals with net/http alone (rawOnce)
}

// watched passes results on to the store and keeps the first-byte time of the
// delayed portals' probes, by the query that tells them apart.
type watched struct {
	schedule.ProbeWriter
	mu        sync.Mutex
	ttfb      map[string][]float64
	delay     string
	redirects int // results whose https_redirect check found the redirect
	ipv6      int // results whose page answered over IPv6
	dnssec    int // results with a DNSSEC status (signed-valid, unsigned or bogus)
	valid     int // of which signed-valid
}

func (w *watched) WriteProbeResults(ctx context.Context, rs []indicators.ProbeResult) error {
	w.mu.Lock()
	for _, r := range rs {
		if r.HTTPSRedirect {
			w.redirects++
		}
		if r.IPv6 {
			w.ipv6++
		}
		if r.DNSSEC != "" {
			w.dnssec++
		}
		if r.DNSSEC == "signed-valid" {
			w.valid++
		}
		if i := strings.Index(r.Target, "/delay/"+w.delay+"?"); i >= 0 && r.Success {
			k := r.Target[i+len("/delay/"+w.delay+"?"):]
			w.ttfb[k] = append(w.ttfb[k], r.Phases[indicators.PhaseProcessing])
		}
	}
	w.mu.Unlock()
	return w.ProbeWriter.WriteProbeResults(ctx, rs)
}

// scheduled runs G-OC's real pipeline (scheduler, prober with every check, sink,
// SQLite) once per batch window and prints one row each, then the timing error of
// the delayed portals in each run.
func scheduled(dir string, a addrs, roots *x509.CertPool, sc schedConf) error {
	perMin := float64(sc.n) * float64(time.Minute) / float64(sc.interval)
	fmt.Printf("\n### Scheduled pipeline: %d portals (half HTTPS) every %s for %d intervals, all four checks, results to SQLite\n\n", sc.n, sc.interval, sc.intervals)
	if sc.signed {
		fmt.Println("The portals are names in a signed zone (signed.test., delegated from test., the trust anchor) on a loopback DNS server, each with A 127.0.0.1 and AAAA ::1, signed: every probe makes its DNS lookups, fetches the page again over IPv6 and proves its zone's DNSSEC chain.")
	} else if sc.names {
		fmt.Println("The portals are names in an unsigned zone on a loopback DNS server, each with A 127.0.0.1 and AAAA ::1: every probe makes its DNS lookups, fetches the page again over IPv6 and asks for the zone's SOA, DNSKEY and DS.")
	} else {
		fmt.Println("The portals are IP addresses on loopback: no DNS lookup, and the ipv6 and dnssec checks stop at the address (-sched-names names them).")
	}
	if sc.redirect {
		fmt.Println("Each HTTPS portal's plain-HTTP address redirects to it, so its https_redirect check makes a request as on port 443.")
	} else {
		fmt.Println("The HTTPS portals are on a non-standard port, so their https_redirect check makes no request (-sched-https-redirect gives them one).")
	}
	fmt.Println()
	if sc.delayEvery > 0 {
		fmt.Printf("One portal in %d waits %s before it answers (its time to first byte gives the timing error below).\n\n", sc.delayEvery, sc.delay)
	}
	fmt.Println("| batch window | rate | runs | succeeded | missed | overlapping | load avg before → after | CPU used (cores) | % of one core | CPU ms/probe | of which kernel | context switches/probe | KiB allocated/probe | GC cycles | started ≤ 10 ms late | ≤ 100 ms | ≤ 1 s | https_redirect found | ipv6 reached | dnssec status |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
	var errRows []string
	for i, w := range sc.windows {
		row, errs, err := scheduledOnce(filepath.Join(dir, fmt.Sprintf("sched-%d.db", i)), a, roots, sc, w, profileName(sc.profile, w, len(sc.windows)), profileName(sc.memProfile, w, len(sc.windows)))
		if err != nil {
			return err
		}
		fmt.Printf("| %s | %.0f portals/min | %s |\n", windowName(w), perMin, row)
		if len(errs) > 0 {
			slices.Sort(errs)
			errRows = append(errRows, fmt.Sprintf("| %s | %d | %s |", windowName(w), len(errs), stats(errs)))
		}
	}
	if sc.raw {
		fmt.Printf("\nThe same portals on the same grid fetched without G-OC (a fresh connection a probe, TLS sessions resumed, X25519; no scheduler library, checks or store), by net/http's client and by one goroutine a probe without net/http's transport: the floors under G-OC's pipeline. A 48 MiB ballast keeps their garbage collections about as rare as G-OC's.\n\n")
		fmt.Println("| fetched by | batch window | probes | failed | load avg before → after | % of one core | CPU ms/probe | of which kernel | context switches/probe | KiB allocated/probe | GC cycles |")
		fmt.Println("|---|---|---|---|---|---|---|---|---|---|---|")
		urls := make([]string, 0, sc.n)
		for _, t := range portals(a, sc, zone) {
			urls = append(urls, t.URL)
		}
		for _, w := range sc.windows {
			if w == 0 {
				w = schedule.DefaultBatchWindow
			}
			for _, bare := range []bool{false, true} {
				row, err := rawOnce(urls, roots, sc, w, bare)
				if err != nil {
					return err
				}
				fmt.Printf("| %s |\n", row)
			}
		}
	}
	if len(errRows) > 0 {
		fmt.Printf("\nTiming error of the delayed portals in each run: measured time to first byte − the wait the server measured for that answer (ms).\n\n")
		fmt.Println("| batch window | probes | mean error | mean abs error | median | p99 | max |")
		fmt.Println("|---|---|---|---|---|---|---|")
		for _, r := range errRows {
			fmt.Println(r)
		}
	}
	return nil
}

func windowName(w time.Duration) string {
	switch {
	case w < 0:
		return "off"
	case w == 0:
		return "default"
	}
	return w.String()
}

func profileName(p string, w time.Duration, runs int) string {
	if p == "" || runs == 1 {
		return p
	}
	ext := filepath.Ext(p)
	return strings.TrimSuffix(p, ext) + "-" + windowName(w) + ext
}

// portals are the scheduled run's targets: half HTTPS, one in delayEvery the delayed
// target, named under names when sc.names.
func portals(a addrs, sc schedConf, names string) []probe.Target {
	out := make([]probe.Target, sc.n)
	for i := range out {
		base, plain := a.HTTPS, a.HTTP
		if sc.names {
			base = fmt.Sprintf("https://p%05d.%s:%s", i, strings.TrimSuffix(names, "."), a.HTTPSPort)
			plain = fmt.Sprintf("http://p%05d.%s:%s", i, strings.TrimSuffix(names, "."), a.HTTPPort)
		}
		https := i%2 == 0
		if !https {
			base = plain
		}
		u := fmt.Sprintf("%s/portal/%05d", base, i)
		if sc.delayEvery > 0 && i%sc.delayEvery == (i/sc.delayEvery)%2 { // HTTPS and HTTP by turns
			// The same name as the others plus /delay/: it keeps its place in name
			// order, so the delayed portals are spread over the interval like the rest.
			u = fmt.Sprintf("%s/portal/%05d/delay/%s?%05d", base, i, sc.delay, i)
		}
		t := probe.Target{URL: u, Agency: "P20"}
		if sc.redirect && https {
			t.HTTPURL = plain + "/https" + strings.TrimPrefix(u, base)
		}
		out[i] = t
	}
	return out
}

func scheduledOnce(db string, a addrs, roots *x509.CertPool, sc schedConf, window time.Duration, profile, memProfile string) (row string, errs []float64, err error) {
	st, err := sqlite.Open(context.Background(), db)
	if err != nil {
		return "", nil, err
	}
	defer st.Close()
	po := probe.Options{RootCAs: roots, Outbound: outbound.MustPolicy("127.0.0.1/32", "::1/128")}
	if sc.names {
		po.Resolver = a.DNS
	}
	names := zone
	if sc.signed {
		ta, err := probe.ParseTrustAnchors(a.Anchor)
		if err != nil {
			return "", nil, err
		}
		po.TrustAnchors, names = ta, signedZone
	}
	prober, err := probe.New(po)
	if err != nil {
		return "", nil, err
	}
	reg := prometheus.NewRegistry()
	targets := portals(a, sc, names)
	jobs := make([]schedule.ProbeJob, len(targets))
	for i, t := range targets {
		jobs[i] = schedule.ProbeJob{Interval: sc.interval, Target: t}
	}
	w := &watched{ProbeWriter: st, ttfb: map[string][]float64{}, delay: sc.delay.String()}
	sink := schedule.NewSink(w, time.Second, nil, nil)
	s, err := schedule.New(schedule.Options{Prober: prober, Probes: jobs, Sink: sink, Concurrency: 100, Registerer: reg, BatchWindow: window})
	if err != nil {
		return "", nil, err
	}
	if _, err := delayLog(a.HTTP); err != nil { // start from an empty log
		return "", nil, err
	}
	runtime.GC()
	if profile != "" {
		f, err := os.Create(profile)
		if err != nil {
			return "", nil, err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return "", nil, err
		}
	}
	load0 := loadavg()
	var ms0 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	c0, k0, t0, sw0 := selfCPU(), selfSys(), time.Now(), switches()
	s.Start()
	time.Sleep(time.Duration(sc.intervals)*sc.interval + time.Second)
	if err := s.Shutdown(); err != nil {
		return "", nil, err
	}
	wall, cpu, kern, sw := time.Since(t0), selfCPU()-c0, selfSys()-k0, switches()-sw0
	if profile != "" {
		pprof.StopCPUProfile()
	}
	var ms1 runtime.MemStats
	runtime.ReadMemStats(&ms1)
	if memProfile != "" {
		f, err := os.Create(memProfile)
		if err != nil {
			return "", nil, err
		}
		defer f.Close()
		if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
			return "", nil, err
		}
	}
	fams, _ := reg.Gather()
	get := func(name, status string) (v float64, h *dto.Histogram) {
		for _, f := range fams {
			if f.GetName() != name {
				continue
			}
			for _, m := range f.GetMetric() {
				ok := status == ""
				for _, lp := range m.GetLabel() {
					if lp.GetName() == "status" && lp.GetValue() == status {
						ok = true
					}
				}
				if !ok {
					continue
				}
				switch {
				case m.Counter != nil:
					v += m.Counter.GetValue()
				case m.Histogram != nil:
					h = m.Histogram
				}
			}
		}
		return v, h
	}
	runs, _ := get("goc_collector_runs_total", "")
	okRuns, _ := get("goc_collector_runs_total", "success")
	missed, _ := get("goc_collector_missed_runs_total", "")
	overlaps, _ := get("goc_collector_overlapping_runs_total", "")
	_, delay := get("goc_collector_scheduling_delay_seconds", "")
	// The delayed portals' errors, each against the wait the server measured for it
	// (a portal probed twice has two answers, matched in order).
	waits, err := delayLog(a.HTTP)
	if err != nil {
		return "", nil, err
	}
	byKey := map[string][]float64{}
	for _, s := range waits {
		byKey[s.Key] = append(byKey[s.Key], s.Secs)
	}
	for k, got := range w.ttfb {
		for i, v := range got {
			if i < len(byKey[k]) {
				errs = append(errs, v-byKey[k][i])
			}
		}
	}
	cores := cpu.Seconds() / wall.Seconds()
	w.mu.Lock()
	redirects, ipv6, dnssec, valid := w.redirects, w.ipv6, w.dnssec, w.valid
	w.mu.Unlock()
	row = fmt.Sprintf("%.0f | %.0f | %.0f | %.0f | %s → %s | %.3f of %d | %.1f%% | %.3f | %.0f%% | %.1f | %.1f | %d | %s | %s | %s | %d | %d | %d (%d signed-valid)", runs, okRuns, missed, overlaps,
		load0, loadavg(), cores, runtime.NumCPU(), 100*cores, float64(cpu.Microseconds())/1000/runs, 100*kern.Seconds()/cpu.Seconds(), float64(sw)/runs,
		float64(ms1.TotalAlloc-ms0.TotalAlloc)/1024/runs, ms1.NumGC-ms0.NumGC,
		share(delay, 0.01), share(delay, 0.1), share(delay, 1), redirects, ipv6, dnssec, valid)
	return row, errs, nil
}

// loadavg is the machine's one-minute load average: the benchmark shares the machine,
// and a busy one explains a slow run.
func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Fields(string(b))[0]
}

func share(h *dto.Histogram, le float64) string {
	if h == nil || h.GetSampleCount() == 0 {
		return "—"
	}
	for _, b := range h.GetBucket() {
		if b.GetUpperBound() >= le {
			return fmt.Sprintf("%.1f%%", 100*float64(b.GetCumulativeCount())/float64(h.GetSampleCount()))
		}
	}
	return "100%"
}
