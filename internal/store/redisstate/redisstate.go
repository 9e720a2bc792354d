// Package redisstate keeps in Redis the state that several G-OC replicas must share and
// that InfluxDB cannot hold because it changes in place: signed-in sessions
// (store.Sessions), the API's idempotency keys, the log of reminder mails sent
// (store.ReminderLog), and the revision ledger with the review workflow (Ledger). With
// it, a browser or a client may be sent to any replica.
//
// Every key starts with "goc:" so that the Redis database can be shared with the
// scheduler's slot claims (goc:slot:...). Each write is one atomic Redis command, Lua
// script or WATCH/MULTI transaction, so two replicas racing on one key see one winner.
//
// Durability is Redis's: run it with appendonly yes and appendfsync always (see the
// README's multi-replica section), or a Redis crash forgets acknowledged revisions,
// approvals, sessions, keys and claims.
package redisstate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/g-oc/goc/internal/store"
	"github.com/g-oc/goc/internal/store/idempotency"
)

var (
	_ store.Sessions        = (*State)(nil)
	_ store.ReminderLog     = (*State)(nil)
	_ store.IdempotencyKeys = (*State)(nil)
)

// State is the shared state in one Redis database.
type State struct {
	rdb *redis.Client
	// ledger is a second connection pool for the revision ledger, whose transactions
	// grow with a submission (a bulk load of 5,000 values is some 15,000 commands in
	// one EXEC) and, on a loaded machine with appendfsync always, outlast the 3 s read
	// timeout that suits the scheduler's one-command slot claims.
	ledger *redis.Client
	now    func() time.Time
}

// Options configure Open.
type Options struct {
	// Addr is host:port of the Redis server.
	Addr string
	// Password is Redis AUTH's; empty when the server needs none.
	Password string
	// DB is the database number.
	DB int
	// Now is the clock of idempotency keys' retention; time.Now when nil.
	Now func() time.Time
}

// Open connects and checks that Redis answers.
func Open(ctx context.Context, o Options) (*State, error) {
	if o.Addr == "" {
		return nil, errors.New("redis: open: no address")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	rdb := redis.NewClient(&redis.Options{Addr: o.Addr, Password: o.Password, DB: o.DB})
	if err := rdb.Ping(ctx).Err(); err != nil {
		rdb.Close()
		return nil, fmt.Errorf("redis at %s does not answer: %w", o.Addr, err)
	}
	ledger := redis.NewClient(&redis.Options{Addr: o.Addr, Password: o.Password, DB: o.DB,
		ReadTimeout: ledgerTimeout, WriteTimeout: ledgerTimeout})
	return &State{rdb: rdb, ledger: ledger, now: o.Now}, nil
}

// Client is the connection, for the scheduler's locker to share.
func (s *State) Client() *redis.Client { return s.rdb }

// Ping checks that Redis answers.
func (s *State) Ping(ctx context.Context) error {
	if err := s.rdb.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("redis: %w", err)
	}
	return nil
}

// Close closes the connection.
func (s *State) Close() error { return errors.Join(s.rdb.Close(), s.ledger.Close()) }

// ledgerTimeout bounds one read or write of the ledger's connection.
const ledgerTimeout = 30 * time.Second

// Keys. A session is a hash; an index sorted by last activity finds idle ones.
const (
	sessionPrefix = "goc:session:"
	sessionsSeen  = "goc:sessions:seen"
	keyPrefix     = "goc:idempotency:"
	reminderKey   = "goc:reminder:"
)

// SaveSession stores a new session, or replaces one with the same IDHash.
func (s *State) SaveSession(ctx context.Context, ss store.Session) error {
	k := sessionPrefix + ss.IDHash
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Del(ctx, k)
		p.HSet(ctx, k, "name", ss.Name, "agency", ss.Agency, "role", ss.Role,
			"created", ss.Created.UnixNano(), "seen", ss.Seen.UnixNano())
		p.ZAdd(ctx, sessionsSeen, redis.Z{Score: float64(ss.Seen.UnixNano()), Member: ss.IDHash})
		return nil
	})
	if err != nil {
		return fmt.Errorf("redis: save session: %w", err)
	}
	return nil
}

// Session returns the session with that IDHash, if any.
func (s *State) Session(ctx context.Context, idHash string) (store.Session, bool, error) {
	m, err := s.rdb.HGetAll(ctx, sessionPrefix+idHash).Result()
	if err != nil {
		return store.Session{}, false, fmt.Errorf("redis: read session: %w", err)
	}
	if len(m) == 0 {
		return store.Session{}, false, nil
	}
	created, err1 := strconv.ParseInt(m["created"], 10, 64)
	seen, err2 := strconv.ParseInt(m["seen"], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return store.Session{}, false, fmt.Errorf("redis: read session: damaged times: %w", err)
	}
	return store.Session{IDHash: idHash, Name: m["name"], Agency: m["agency"], Role: m["role"],
		Created: time.Unix(0, created).UTC(), Seen: time.Unix(0, seen).UTC()}, true, nil
}

// touch moves seen forward only, and only of a session that exists.
var touch = redis.NewScript(`
local cur = redis.call('HGET', KEYS[1], 'seen')
if not cur then return 0 end
if tonumber(ARGV[1]) > tonumber(cur) then
  redis.call('HSET', KEYS[1], 'seen', ARGV[1])
  redis.call('ZADD', KEYS[2], ARGV[1], ARGV[2])
end
return 1`)

// TouchSession records activity at a time; it never moves Seen backwards.
func (s *State) TouchSession(ctx context.Context, idHash string, at time.Time) error {
	if err := touch.Run(ctx, s.rdb, []string{sessionPrefix + idHash, sessionsSeen}, at.UnixNano(), idHash).Err(); err != nil {
		return fmt.Errorf("redis: touch session: %w", err)
	}
	return nil
}

// DeleteSession ends a session; deleting none is not an error.
func (s *State) DeleteSession(ctx context.Context, idHash string) error {
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Del(ctx, sessionPrefix+idHash)
		p.ZRem(ctx, sessionsSeen, idHash)
		return nil
	})
	if err != nil {
		return fmt.Errorf("redis: delete session: %w", err)
	}
	return nil
}

// prune deletes the sessions whose seen (exact, in the hash) is before ARGV[1]; the
// index's float score only narrows the search.
var prune = redis.NewScript(`
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
local n = 0
for _, id in ipairs(ids) do
  local seen = redis.call('HGET', ARGV[3] .. id, 'seen')
  if not seen then
    redis.call('ZREM', KEYS[1], id)
  elseif tonumber(seen) < tonumber(ARGV[1]) then
    redis.call('DEL', ARGV[3] .. id)
    redis.call('ZREM', KEYS[1], id)
    n = n + 1
  end
end
return n`)

// DeleteSessionsSeenBefore ends every session idle since before t, and says how many.
func (s *State) DeleteSessionsSeenBefore(ctx context.Context, t time.Time) (int, error) {
	// Scores are float64: a margin of a millisecond over t keeps every candidate.
	upper := strconv.FormatFloat(float64(t.UnixNano()+int64(time.Millisecond)), 'f', 0, 64)
	n, err := prune.Run(ctx, s.rdb, []string{sessionsSeen}, t.UnixNano(), upper, sessionPrefix).Int()
	if err != nil {
		return 0, fmt.Errorf("redis: prune sessions: %w", err)
	}
	return n, nil
}

// response is a recorded idempotent response.
type response struct {
	Fingerprint string `json:"f"`
	Status      int    `json:"s"`
	Body        []byte `json:"b"`
}

func idempotencyKey(scope, key string) string {
	// The scope is a token's name and the key the client's: a length prefix keeps
	// ("a:b", "c") and ("a", "b:c") apart.
	return keyPrefix + strconv.Itoa(len(scope)) + ":" + scope + ":" + key
}

// IdempotentResponse returns the response recorded for a key, if any. Keys expire
// after idempotency.Retention, as in the SQL backends.
func (s *State) IdempotentResponse(ctx context.Context, scope, key string) (fingerprint string, status int, body []byte, found bool, err error) {
	b, err := s.rdb.Get(ctx, idempotencyKey(scope, key)).Bytes()
	switch {
	case errors.Is(err, redis.Nil):
		return "", 0, nil, false, nil
	case err != nil:
		return "", 0, nil, false, fmt.Errorf("redis: read idempotency key: %w", err)
	}
	var r response
	if err := json.Unmarshal(b, &r); err != nil {
		return "", 0, nil, false, fmt.Errorf("redis: read idempotency key: %w", err)
	}
	return r.Fingerprint, r.Status, r.Body, true, nil
}

// SaveIdempotentResponse records the response to a key unless one is already
// recorded, and returns the response kept: the first one wins, across replicas too.
func (s *State) SaveIdempotentResponse(ctx context.Context, scope, key, fingerprint string, status int, body []byte) (string, int, []byte, error) {
	b, err := json.Marshal(response{fingerprint, status, body})
	if err != nil {
		return "", 0, nil, fmt.Errorf("redis: save idempotency key: %w", err)
	}
	k := idempotencyKey(scope, key)
	// SET NX GET answers the value already there, if any, in the same command.
	old, err := s.rdb.SetArgs(ctx, k, b, redis.SetArgs{Mode: "NX", Get: true, TTL: idempotency.Retention}).Bytes()
	switch {
	case errors.Is(err, redis.Nil):
		return fingerprint, status, body, nil // ours was kept
	case err != nil:
		return "", 0, nil, fmt.Errorf("redis: save idempotency key: %w", err)
	}
	var r response
	if err := json.Unmarshal(old, &r); err != nil {
		return "", 0, nil, fmt.Errorf("redis: save idempotency key: the kept response: %w", err)
	}
	return r.Fingerprint, r.Status, r.Body, nil
}

// ReminderRetention is how long a reminder claim is kept: longer than any reporting
// period, so a reason is never reminded twice.
const ReminderRetention = 2 * 366 * 24 * time.Hour

// ClaimReminder records key as sent at `at` and reports true, or reports false when
// key was claimed before. Of concurrent claims exactly one gets true.
func (s *State) ClaimReminder(ctx context.Context, key string, at time.Time) (bool, error) {
	ok, err := s.rdb.SetNX(ctx, reminderKey+key, at.UTC().Format(time.RFC3339Nano), ReminderRetention).Result()
	if err != nil {
		return false, fmt.Errorf("redis: claim reminder: %w", err)
	}
	return ok, nil
}

// ReleaseReminder forgets a claim whose mail could not be sent.
func (s *State) ReleaseReminder(ctx context.Context, key string) error {
	if err := s.rdb.Del(ctx, reminderKey+key).Err(); err != nil {
		return fmt.Errorf("redis: release reminder: %w", err)
	}
	return nil
}
