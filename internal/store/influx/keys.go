package influx

import (
	"context"
	"fmt"

	"github.com/g-oc/goc/internal/store/idempotency"
)

// Idempotency keys (the API's Idempotency-Key header) live in the spool file, through
// the same code as the embedded store's, local to this G-OC like the ledger; or in
// Options.Shared, where every replica finds them.

// IdempotentResponse returns the response recorded for a key, if any.
func (s *Store) IdempotentResponse(ctx context.Context, scope, key string) (fingerprint string, status int, body []byte, found bool, err error) {
	if err := s.enter("read idempotency key"); err != nil {
		return "", 0, nil, false, err
	}
	defer s.mu.RUnlock()
	if s.opt.Shared != nil {
		return s.opt.Shared.IdempotentResponse(ctx, scope, key)
	}
	fingerprint, status, body, found, err = idempotency.Lookup(ctx, s.sp.readers, scope, key, s.now())
	if err != nil {
		return "", 0, nil, false, fmt.Errorf("influx: %w", err)
	}
	return fingerprint, status, body, found, nil
}

// SaveIdempotentResponse records the response to a key unless one is already recorded,
// and returns the response kept (the first one wins).
func (s *Store) SaveIdempotentResponse(ctx context.Context, scope, key, fingerprint string, status int, body []byte) (string, int, []byte, error) {
	if err := s.enter("save idempotency key"); err != nil {
		return "", 0, nil, err
	}
	defer s.mu.RUnlock()
	if s.opt.Shared != nil {
		return s.opt.Shared.SaveIdempotentResponse(ctx, scope, key, fingerprint, status, body)
	}
	f, st, b, err := idempotency.Save(ctx, s.sp.writer, scope, key, fingerprint, status, body, s.now())
	if err != nil {
		return "", 0, nil, fmt.Errorf("influx: %w", err)
	}
	return f, st, b, nil
}
