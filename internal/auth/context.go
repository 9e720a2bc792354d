package auth

import "context"

type principalKey struct{}

// NewContext returns ctx carrying p: a signed-in session's principal, which the API
// then treats like a bearer token's.
func NewContext(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// FromContext returns the principal ctx carries, if any.
func FromContext(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}
