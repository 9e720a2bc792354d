package web

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/g-oc/goc/internal/auth"
	"github.com/g-oc/goc/internal/forwarded"
	"github.com/g-oc/goc/internal/limit"
	"github.com/g-oc/goc/internal/store"
)

// Signing in. A reporting officer or reviewer types the agency's token into a form
// once; the server then keeps a session for the browser. The cookie carries only an
// opaque random id (256 bits); the session's state (who, since when, last seen) lives
// in the store (store.Sessions), under the SHA-256 of that id, so any replica serves
// the next request and a copy of the database opens no session. Nothing in the cookie
// needs signing or encrypting, which is why gorilla/sessions and gorilla/securecookie
// are not used: they earn their keep when state travels in the cookie, and here it
// does not (see the README's "Sign-in and sessions").

// SessionStore is where sessions are kept: store.Sessions, which both backends have.
type SessionStore interface {
	SaveSession(ctx context.Context, s store.Session) error
	Session(ctx context.Context, idHash string) (store.Session, bool, error)
	TouchSession(ctx context.Context, idHash string, at time.Time) error
	DeleteSession(ctx context.Context, idHash string) error
	DeleteSessionsSeenBefore(ctx context.Context, t time.Time) (int, error)
}

// Keys checks tokens: a token typed on the sign-in form, and on every request that the
// session's token is still configured, unexpired and not retired (auth.Keyring), so
// revoking a token ends its sessions at once.
type Keys interface {
	Check(token string) (auth.Principal, error)
	Valid(p auth.Principal) error
}

// sessionCookie names the cookie holding the session id.
const sessionCookie = "goc_session"

// Default session lifetimes: a session ends after 30 minutes without a request, and 12
// hours after sign-in whatever happens (a working day, then sign in again).
const (
	DefaultSessionIdle = 30 * time.Minute
	DefaultSessionMax  = 12 * time.Hour
)

// touchEvery is how stale the stored "last seen" may get before a request writes it
// again: a page view does not cost a write each time, and idle expiry is at most this
// much late.
const touchEvery = time.Minute

// sessions is the Server's sign-in machinery.
type sessions struct {
	store SessionStore
	keys  Keys
	idle  time.Duration
	max   time.Duration
	// fails counts failed sign-ins per client address; a client whose bucket is empty
	// gets 429 before its token is even checked.
	fails *limit.Limiter
	// cop refuses unsafe requests (every form) sent from another origin.
	cop *http.CrossOriginProtection
}

// sessionState is what a request's cookie turned out to be.
type sessionState int

const (
	noSession      sessionState = iota // no cookie, or one naming no session
	activeSession                      // a live session
	expiredSession                     // a session past its idle or absolute limit, or whose token was revoked
)

// newSessionID makes a random session id and the hash the store keeps.
func newSessionID() (id, hash string, err error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", "", fmt.Errorf("new session id: %w", err)
	}
	id = base64.RawURLEncoding.EncodeToString(b)
	return id, hashID(id), nil
}

func hashID(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:])
}

// who returns the principal of r's session. An expired session, or one whose token no
// longer checks out, is deleted and reported as expiredSession.
func (s *Server) who(r *http.Request) (auth.Principal, sessionState, error) {
	if s.sess == nil {
		return auth.Principal{}, noSession, nil
	}
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" || len(c.Value) > 100 {
		return auth.Principal{}, noSession, nil
	}
	ctx := r.Context()
	h := hashID(c.Value)
	ss, ok, err := s.sess.store.Session(ctx, h)
	if err != nil {
		return auth.Principal{}, noSession, err
	}
	if !ok {
		// The cookie names a session that ended (signed out, pruned, or expired on
		// another replica): the reader had signed in, so say it expired.
		return auth.Principal{}, expiredSession, nil
	}
	p := auth.Principal{Name: ss.Name, Agency: ss.Agency, Role: ss.Role}
	now := s.now()
	if now.Sub(ss.Seen) >= s.sess.idle || now.Sub(ss.Created) >= s.sess.max || s.sess.keys.Valid(p) != nil {
		if err := s.sess.store.DeleteSession(ctx, h); err != nil {
			return auth.Principal{}, noSession, err
		}
		return auth.Principal{}, expiredSession, nil
	}
	if now.Sub(ss.Seen) >= touchEvery {
		if err := s.sess.store.TouchSession(ctx, h, now); err != nil {
			return auth.Principal{}, noSession, err
		}
	}
	return p, activeSession, nil
}

// signedIn wraps a page that needs a session with one of roles. Without a session the
// reader is sent to sign in (and back here after); with the wrong role, the 403 page
// says why.
func (s *Server) signedIn(h func(w http.ResponseWriter, r *http.Request, p auth.Principal) error, roles ...string) handler {
	return func(w http.ResponseWriter, r *http.Request) error {
		if s.sess == nil {
			return notFound()
		}
		p, st, err := s.who(r)
		if err != nil {
			return err
		}
		if st != activeSession {
			next := r.URL.Path
			if r.Method != http.MethodGet {
				next = "/reports"
			} else if r.URL.RawQuery != "" {
				next += "?" + r.URL.RawQuery
			}
			q := url.Values{"next": {next}}
			if st == expiredSession {
				q.Set("expired", "1")
				clearSessionCookie(w, r)
			}
			http.Redirect(w, r, "/signin?"+q.Encode(), http.StatusSeeOther)
			return nil
		}
		// The layout shows who is signed in; the API calls carry the same principal.
		r = r.WithContext(auth.NewContext(r.Context(), p))
		for _, role := range roles {
			if p.Is(role) {
				return h(w, r, p)
			}
		}
		return forbiddenRole(p, roles)
	}
}

// forbiddenRole is the 403 for a page the principal's role does not open.
func forbiddenRole(p auth.Principal, roles []string) *pageError {
	var vi, en []string
	for _, r := range roles {
		vi, en = append(vi, roleVI(r)), append(en, r)
	}
	return &pageError{Status: http.StatusForbidden, Title: "error.forbidden",
		VI: fmt.Sprintf("Trang này dành cho %s; %s đăng nhập với vai trò %s của %s.", strings.Join(vi, ", "), p.Name, roleVI(roleOf(p)), p.Agency),
		EN: fmt.Sprintf("This page is for a %s; %s is signed in as %s of %s.", strings.Join(en, ", "), p.Name, roleOf(p), p.Agency)}
}

// forbiddenAgency is the 403 for an agency outside the principal's scope.
func forbiddenAgency(p auth.Principal, agency string) *pageError {
	return &pageError{Status: http.StatusForbidden, Title: "error.forbidden",
		VI: fmt.Sprintf("%s (%s của %s) không được xem đơn vị %s, vì %s không thuộc %s.", p.Name, roleVI(roleOf(p)), p.Agency, agency, agency, p.Agency),
		EN: fmt.Sprintf("%s (%s of %s) may not see agency %s: it is not part of %s.", p.Name, roleOf(p), p.Agency, agency, p.Agency)}
}

func roleOf(p auth.Principal) string {
	if p.Role == "" {
		return auth.Officer
	}
	return p.Role
}

func roleVI(role string) string {
	switch role {
	case auth.Officer:
		return "cán bộ báo cáo"
	case auth.Reviewer:
		return "người duyệt"
	case auth.Operator:
		return "người vận hành"
	}
	return role
}

// inScope reports whether p may act for agency: an agency in p's subtree, or anything
// for an operator.
func (s *Server) inScope(p auth.Principal, agency string) bool {
	if p.Is(auth.Operator) {
		return true
	}
	return s.query.Registry().Within(agency, p.Agency)
}

// signInPage is the data of /signin.
type signInPage struct {
	Next    string
	Expired bool
	// Error is the message key of why the last attempt failed; empty on first view.
	Error string
}

func (s *Server) signInForm(w http.ResponseWriter, r *http.Request) error {
	if s.sess == nil {
		return notFound()
	}
	if p, st, err := s.who(r); err == nil && st == activeSession {
		http.Redirect(w, r, s.home(p, r.URL.Query().Get("next")), http.StatusSeeOther)
		return nil
	}
	return s.renderPrivate(w, r, http.StatusOK, pageOpts{Template: "signin", Nav: "signin",
		Data: signInPage{Next: localPath(r.URL.Query().Get("next")), Expired: r.URL.Query().Get("expired") == "1"}})
}

// signIn checks the token from the form and opens a session. A client that failed too
// often is answered 429 with Retry-After before its token is looked at.
func (s *Server) signIn(w http.ResponseWriter, r *http.Request) error {
	if s.sess == nil {
		return notFound()
	}
	addr := limit.ClientAddr(r)
	if blocked, wait := s.sess.fails.Blocked(addr); blocked {
		return tooMany(w, wait)
	}
	r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
	if err := r.ParseForm(); err != nil {
		return &pageError{Status: http.StatusBadRequest, Title: "error.bad",
			VI: "Biểu mẫu đăng nhập không đọc được.", EN: "The sign-in form could not be read."}
	}
	next := localPath(r.PostFormValue("next"))
	p, err := s.sess.keys.Check(strings.TrimSpace(r.PostFormValue("token")))
	if err != nil {
		s.sess.fails.Allow(addr)
		key := "signin.bad"
		switch {
		case strings.TrimSpace(r.PostFormValue("token")) == "":
			key = "signin.empty"
		case errors.Is(err, auth.ErrExpired):
			key = "signin.expired_token"
		case errors.Is(err, auth.ErrRetired):
			key = "signin.retired"
		}
		return s.renderPrivate(w, r, http.StatusUnauthorized, pageOpts{Template: "signin", Nav: "signin",
			Data: signInPage{Next: next, Error: key}})
	}
	// Sessions abandoned without signing out are removed here, at the next sign-in
	// (one indexed delete), so the table holds at most the sessions of the last idle
	// period.
	if _, err := s.sess.store.DeleteSessionsSeenBefore(r.Context(), s.now().Add(-s.sess.idle)); err != nil {
		s.log.Warn("prune sessions", "err", err)
	}
	id, h, err := newSessionID()
	if err != nil {
		return err
	}
	now := s.now()
	if err := s.sess.store.SaveSession(r.Context(), store.Session{IDHash: h, Name: p.Name, Agency: p.Agency, Role: p.Role, Created: now, Seen: now}); err != nil {
		return err
	}
	// Replacing the cookie with a fresh id at every sign-in leaves nothing for a
	// planted (fixated) id to take over.
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: id, Path: "/", HttpOnly: true,
		Secure: forwarded.Secure(r), SameSite: http.SameSiteStrictMode})
	s.log.Info("signed in", "name", p.Name, "agency", p.Agency, "role", roleOf(p))
	http.Redirect(w, r, s.home(p, next), http.StatusSeeOther)
	return nil
}

// signOut ends the session in the store and clears the cookie.
func (s *Server) signOut(w http.ResponseWriter, r *http.Request) error {
	if s.sess == nil {
		return notFound()
	}
	if c, err := r.Cookie(sessionCookie); err == nil && c.Value != "" {
		if err := s.sess.store.DeleteSession(r.Context(), hashID(c.Value)); err != nil {
			return err
		}
	}
	clearSessionCookie(w, r)
	http.Redirect(w, r, "/", http.StatusSeeOther)
	return nil
}

func clearSessionCookie(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		Secure: forwarded.Secure(r), SameSite: http.SameSiteStrictMode})
}

// home is where a principal lands after signing in: next when given, else its role's
// first page.
func (s *Server) home(p auth.Principal, next string) string {
	if next = localPath(next); next != "" && next != "/" {
		return next
	}
	if p.Is(auth.Officer) {
		return "/reports/" + url.PathEscape(p.Agency)
	}
	return "/review"
}

// localPath keeps a redirect target on this site: a path, never another host.
func localPath(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return ""
	}
	return next
}

// tooMany is the 429 page with Retry-After in whole seconds.
func tooMany(w http.ResponseWriter, wait time.Duration) error {
	secs := max(1, int(math.Ceil(wait.Seconds())))
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	return &pageError{Status: http.StatusTooManyRequests, Title: "error.toomany",
		VI: fmt.Sprintf("Đăng nhập sai quá nhiều lần từ địa chỉ này. Vui lòng thử lại sau %d giây.", secs),
		EN: fmt.Sprintf("Too many failed sign-ins from this address. Please try again in %d seconds.", secs)}
}

// crossOrigin wraps an unsafe (form) route in the standard library's cross-origin
// protection: a POST whose Sec-Fetch-Site or Origin says it came from another site is
// refused with the 403 page before the handler runs.
func (s *Server) crossOrigin(h http.Handler) http.Handler {
	return s.sess.cop.Handler(h)
}

func (s *Server) crossOriginDenied(w http.ResponseWriter, r *http.Request) {
	s.errorPage(w, r, &pageError{Status: http.StatusForbidden, Title: "error.forbidden",
		VI: "Biểu mẫu này được gửi từ một trang web khác nên bị từ chối. Hãy mở trang trên G-OC rồi gửi lại.",
		EN: "This form was sent from another website and was refused. Open the page on G-OC and send it again."})
}
