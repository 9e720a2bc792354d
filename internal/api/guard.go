package api

import (
	"context"
	"io"
	"net/http"
	"runtime"
	"strconv"
	"time"

	"golang.org/x/sync/semaphore"

	"github.com/g-oc/goc/internal/auth"
	"github.com/g-oc/goc/internal/limit"
)

// Limits bound what clients can make the server do: the memory of uploads being
// parsed at once, and the rate of writes and of failed authentication per client
// address and per token. The zero value takes the defaults below.
type Limits struct {
	// UploadBudget is how many bytes of submissions may be read and parsed at once,
	// over the whole server (default 64 MiB). A submission waits up to UploadWait for
	// its share (its Content-Length, or the largest submission when it sends none); past
	// that it gets 503 with Retry-After. Reading and parsing cost memory in proportion
	// to the bytes, so this bounds the memory uploads can take together.
	UploadBudget int64
	// SmallUpload is the size up to which a submission that says its Content-Length
	// counts as small (default 256 KiB: one agency's period of values is a few KB), and
	// SmallUploadBudget the bytes kept for small submissions alone (default 16 MiB). A
	// small submission takes its share from that reserve, never from UploadBudget, so an
	// agency sending a few values is not kept waiting behind twenty 5 MB files.
	SmallUpload, SmallUploadBudget int64
	// UploadWait is how long a submission waits for budget (default 10 s).
	UploadWait time.Duration
	// HeavyReads is how many costly reads may run at once over the whole server:
	// observations, exports and workbooks, completeness, probes, rankings, progress,
	// series and cards (default half the CPUs, at least 2: the other reader
	// connections of the embedded store, 4 or one per CPU, stay free for the checks of
	// submissions, /metrics and the pages). One more is answered at once with 429 and
	// Retry-After instead of waiting: a queue of readers only adds to the time each one
	// waits for the CPU, until they all time out, while a quick refusal keeps the
	// others fast.
	HeavyReads int
	// Exports is how many raw exports (/api/v1/reports/export.csv|xlsx) stream at once
	// (default 1), apart from HeavyReads: an export of a whole indicator runs for as long
	// as the store is large, and must not hold the slots of the pages. One more gets 429
	// with Retry-After at once.
	Exports int
	// WritesPerAddr limits submissions per client address (default 10 a second, bursts
	// of 60); WritesPerToken per token (default 5 a second, bursts of 30).
	WritesPerAddr, WritesPerToken limit.Options
	// AuthFailures limits failed authentications per client address (default 10 a
	// minute): once spent, the address gets 429 before its token is even checked.
	AuthFailures limit.Options
}

// Default limits.
const (
	DefaultUploadBudget      = 64 << 20
	DefaultSmallUpload       = 256 << 10
	DefaultSmallUploadBudget = 16 << 20
	DefaultUploadWait        = 10 * time.Second
)

// guard holds the Server's limits, built once.
type guard struct {
	budget      *semaphore.Weighted
	budgetBytes int64
	small       *semaphore.Weighted // the reserve of small submissions
	smallMax    int64               // the largest small submission
	wait        time.Duration
	reads       *semaphore.Weighted // heavy reads at once
	exports     *semaphore.Weighted // raw exports at once
	addrWrites  *limit.Limiter
	tokenWrites *limit.Limiter
	authFails   *limit.Limiter
}

func newGuard(l Limits, now func() time.Time) *guard {
	if l.UploadBudget <= 0 {
		l.UploadBudget = DefaultUploadBudget
	}
	if l.UploadWait <= 0 {
		l.UploadWait = DefaultUploadWait
	}
	if l.SmallUpload <= 0 {
		l.SmallUpload = DefaultSmallUpload
	}
	if l.SmallUploadBudget <= 0 {
		l.SmallUploadBudget = DefaultSmallUploadBudget
	}
	l.SmallUpload = min(l.SmallUpload, l.SmallUploadBudget)
	if l.Exports <= 0 {
		l.Exports = 1
	}
	if l.HeavyReads <= 0 {
		l.HeavyReads = max(2, runtime.GOMAXPROCS(0)/2)
	}
	def := func(o limit.Options, every time.Duration, burst int) limit.Options {
		if o.Every <= 0 {
			o.Every = every
		}
		if o.Burst <= 0 {
			o.Burst = burst
		}
		if o.Now == nil {
			o.Now = now
		}
		return o
	}
	return &guard{
		budget:      semaphore.NewWeighted(l.UploadBudget),
		budgetBytes: l.UploadBudget,
		small:       semaphore.NewWeighted(l.SmallUploadBudget),
		smallMax:    l.SmallUpload,
		wait:        l.UploadWait,
		reads:       semaphore.NewWeighted(int64(l.HeavyReads)),
		exports:     semaphore.NewWeighted(int64(l.Exports)),
		addrWrites:  limit.New(def(l.WritesPerAddr, 100*time.Millisecond, 60)),
		tokenWrites: limit.New(def(l.WritesPerToken, 200*time.Millisecond, 30)),
		authFails:   limit.New(def(l.AuthFailures, 6*time.Second, 10)),
	}
}

// authenticate checks the bearer token of r, answering 429 to an address whose failed
// attempts are spent and 401 to a bad token (which counts as a failure).
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) (auth.Principal, bool) {
	// A signed-in page calls the API in process with its session's principal in the
	// context; nothing from the network can put one there.
	if p, ok := auth.FromContext(r.Context()); ok {
		return p, true
	}
	addr := limit.ClientAddr(r)
	if blocked, wait := s.guard.authFails.Blocked(addr); blocked {
		s.metrics.RateLimited.WithLabelValues("auth_failures").Inc()
		limit.TooMany(w, wait)
		return auth.Principal{}, false
	}
	who, err := s.auth.Authenticate(r.Header.Get("Authorization"))
	if err != nil {
		s.guard.authFails.Allow(addr)
		w.Header().Set("WWW-Authenticate", `Bearer realm="goc"`)
		writeError(w, http.StatusUnauthorized, err.Error())
		return auth.Principal{}, false
	}
	return who, true
}

// allowAddrWrite applies the per-address write limit.
func (s *Server) allowAddrWrite(w http.ResponseWriter, r *http.Request) bool {
	if ok, wait := s.guard.addrWrites.Allow(limit.ClientAddr(r)); !ok {
		s.metrics.RateLimited.WithLabelValues("writes_per_address").Inc()
		limit.TooMany(w, wait)
		return false
	}
	return true
}

// allowTokenWrite applies the per-token write limit.
func (s *Server) allowTokenWrite(w http.ResponseWriter, token string) bool {
	if ok, wait := s.guard.tokenWrites.Allow(token); !ok {
		s.metrics.RateLimited.WithLabelValues("writes_per_token").Inc()
		limit.TooMany(w, wait)
		return false
	}
	return true
}

// readBody reads a request body of at most max bytes into one buffer sized from its
// Content-Length, instead of io.ReadAll's doubling, which leaves about twice the
// body in garbage behind each upload.
func readBody(r io.Reader, length, max int64) ([]byte, error) {
	if length <= 0 || length > max {
		return io.ReadAll(r)
	}
	// net/http ends a body at its Content-Length, so length bytes are the whole body.
	buf := make([]byte, length)
	n, err := io.ReadFull(r, buf) // a body cut short is io.ErrUnexpectedEOF: a 400
	return buf[:n], err
}

// uploadShare takes a submission's share of the upload budget: its Content-Length, or
// the largest submission allowed when it does not say. A small submission (its
// Content-Length at most Limits.SmallUpload) takes it from the small reserve, any
// other from the main budget. It returns the share held (to give back with
// releaseShare), or answers 503 with Retry-After and returns a zero share.
//
// 503, not 429: the budget is the whole server's, not this client's allowance, and
// the client did nothing wrong; RFC 9110 gives 503 with Retry-After for a server
// that is temporarily overloaded. It is the only 5xx the server gives by design.
func (s *Server) uploadShare(w http.ResponseWriter, r *http.Request) heldShare {
	n := s.maxBytes
	if r.ContentLength > 0 && r.ContentLength < n {
		n = r.ContentLength
	}
	sem := s.guard.budget
	if r.ContentLength > 0 && r.ContentLength <= s.guard.smallMax {
		sem = s.guard.small
	} else {
		n = min(n, s.guard.budgetBytes)
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.guard.wait)
	defer cancel()
	if err := sem.Acquire(ctx, n); err != nil {
		s.metrics.RateLimited.WithLabelValues("upload_budget").Inc()
		retry := max(1, int(s.guard.wait.Seconds()))
		w.Header().Set("Retry-After", strconv.Itoa(retry))
		s.reject(w, http.StatusServiceUnavailable, "busy",
			"máy chủ đang đọc quá nhiều tệp nộp cùng lúc, thử lại sau "+strconv.Itoa(retry)+" giây / the server is reading too many submissions at once, retry after "+strconv.Itoa(retry)+" s")
		return heldShare{}
	}
	return heldShare{sem, n}
}

// heldShare is bytes held in one of the upload budgets.
type heldShare struct {
	sem *semaphore.Weighted
	n   int64
}

func (s *Server) releaseShare(u heldShare) {
	if u.sem != nil {
		u.sem.Release(u.n)
	}
}

// heavy runs h when one of the Limits.HeavyReads slots is free, and otherwise answers
// 429 with Retry-After at once (see Limits.HeavyReads). 429, not 503: the server is up
// and serving every other request; this one is refused so that it does not slow down
// those already being read, and a client retrying after a second will be served.
func (s *Server) heavy(h http.HandlerFunc) http.HandlerFunc {
	return s.slots(s.guard.reads, "heavy_reads", h)
}

// export runs h when the export slot is free (see Limits.Exports), as heavy does.
func (s *Server) export(h http.HandlerFunc) http.HandlerFunc {
	return s.slots(s.guard.exports, "exports", h)
}

func (s *Server) slots(sem *semaphore.Weighted, name string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !sem.TryAcquire(1) {
			s.metrics.RateLimited.WithLabelValues(name).Inc()
			limit.TooMany(w, time.Second)
			return
		}
		defer sem.Release(1)
		h(w, r)
	}
}
