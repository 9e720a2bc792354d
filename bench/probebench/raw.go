package main

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"slices"
	"sync"
	"syscall"
	"time"
)

// rawOnce is the floor the scheduled run is compared with: the same portals on the
// same grid (even offsets over the interval, rounded down to window) fetched by
// net/http alone, as a bare program would do it with what G-OC's probe keeps of a
// browser's manners (a fresh connection a probe, TLS sessions resumed, one X25519
// key share). No scheduler library, no checks, no results kept: what is left is the
// cost of a timer, a goroutine, a connection, a handshake, a request and its answer.
//
// bare says how: false, net/http's client with a fresh transport a probe; true, one
// goroutine that dials, shakes hands, writes the request and reads the answer with
// http.ReadResponse, without net/http's transport (its dial, handshake, read and
// write goroutines). A 48 MiB ballast gives the heap G-OC's size, so that the garbage
// collector runs about as often as in G-OC's run and not ten times as often.
func rawOnce(targets []string, roots *x509.CertPool, sc schedConf, window time.Duration, bare bool) (string, error) {
	urls := slices.Clone(targets)
	slices.Sort(urls) // G-OC spreads its jobs in name order
	n := len(urls)
	offsets := make([]time.Duration, n)
	for i := range urls {
		o := time.Duration(int64(sc.interval) * int64(i) / int64(n))
		if window > 0 {
			o = o.Truncate(window)
		}
		offsets[i] = o
	}
	sessions := tls.NewLRUClientSessionCache(n)
	var failed, done int64
	var mu sync.Mutex
	get := func(u string) bool {
		if bare {
			return bareGet(u, roots, sessions)
		}
		tr := &http.Transport{
			DialContext:       (&net.Dialer{KeepAlive: -1}).DialContext,
			DisableKeepAlives: true,
			TLSClientConfig: &tls.Config{RootCAs: roots, ClientSessionCache: sessions,
				CurvePreferences: []tls.CurveID{tls.X25519, tls.CurveP256}},
		}
		defer tr.CloseIdleConnections()
		resp, err := (&http.Client{Transport: tr, Timeout: 10 * time.Second}).Get(u)
		if err != nil {
			return false
		}
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return err == nil && resp.StatusCode < 400
	}
	fetch := func(u string) {
		ok := get(u)
		mu.Lock()
		done++
		if !ok {
			failed++
		}
		mu.Unlock()
	}
	ballast := make([]byte, 48<<20)
	defer runtime.KeepAlive(ballast)
	runtime.GC()
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	load0 := loadavg()
	c0, k0, sw0, t0 := selfCPU(), selfSys(), switches(), time.Now()
	var wg sync.WaitGroup
	for round := range sc.intervals {
		base := t0.Add(time.Duration(round) * sc.interval)
		for i := 0; i < n; {
			at := base.Add(offsets[i])
			time.Sleep(time.Until(at))
			for ; i < n && base.Add(offsets[i]).Equal(at); i++ {
				u := urls[i]
				wg.Go(func() { fetch(u) })
			}
		}
	}
	wg.Wait()
	time.Sleep(time.Until(t0.Add(time.Duration(sc.intervals)*sc.interval + time.Second)))
	wall, cpu, kern, sw := time.Since(t0), selfCPU()-c0, selfSys()-k0, switches()-sw0
	runtime.ReadMemStats(&ms1)
	runs := float64(done)
	cores := cpu.Seconds() / wall.Seconds()
	how := "net/http client"
	if bare {
		how = "one goroutine: dial, tls.Client, http.ReadResponse"
	}
	return fmt.Sprintf("%s | %s | %d | %d | %s → %s | %.1f%% | %.3f | %.0f%% | %.1f | %.1f | %d", how, windowName(window), done, failed, load0, loadavg(),
		100*cores, float64(cpu.Microseconds())/1000/runs, 100*kern.Seconds()/cpu.Seconds(), float64(sw)/runs,
		float64(ms1.TotalAlloc-ms0.TotalAlloc)/1024/runs, ms1.NumGC-ms0.NumGC), nil
}

// selfSys is this process's CPU time in the kernel: on loopback it includes the
// kernel's work for the other end of each connection (the SYN, the data), which a
// probe of a remote portal leaves to the network.
func selfSys() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Stime.Nano())
}

// bareGet fetches u on a fresh connection in the calling goroutine.
func bareGet(u string, roots *x509.CertPool, sessions tls.ClientSessionCache) bool {
	pu, err := url.Parse(u)
	if err != nil {
		return false
	}
	conn, err := (&net.Dialer{KeepAlive: -1, Timeout: 10 * time.Second}).Dial("tcp", pu.Host)
	if err != nil {
		return false
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	if pu.Scheme == "https" {
		tc := tls.Client(conn, &tls.Config{RootCAs: roots, ServerName: pu.Hostname(), ClientSessionCache: sessions,
			CurvePreferences: []tls.CurveID{tls.X25519, tls.CurveP256}})
		if err := tc.Handshake(); err != nil {
			return false
		}
		conn = tc
	}
	if _, err := io.WriteString(conn, "GET "+pu.RequestURI()+" HTTP/1.1\r\nHost: "+pu.Host+"\r\nUser-Agent: probebench\r\nConnection: close\r\n\r\n"); err != nil {
		return false
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return false
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return err == nil && resp.StatusCode < 400
}
