package auth

import "context"

type contextKey int

const (
	principalKey contextKey = iota
	clientKey
)

// Principal is the caller an access token proved: the customer and the session (device).
type Principal struct {
	Customer Customer
	DeviceID string
	// Legacy is true for a token Shopsys issued (no kid, imported key): it has no session here.
	Legacy bool
	// Login is how the session began (a legacy token's is web).
	Login LoginInfo
}

// NewContextWithPrincipal returns ctx carrying the authenticated caller.
func NewContextWithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey, p)
}

// PrincipalFromContext returns the authenticated caller, or nil for an anonymous request.
func PrincipalFromContext(ctx context.Context) *Principal {
	p, _ := ctx.Value(principalKey).(*Principal)
	return p
}

// Client describes where a request came from, for throttling and the audit log.
type Client struct {
	IP        string
	UserAgent string
}

// NewContextWithClient returns ctx carrying the request's origin.
func NewContextWithClient(ctx context.Context, c Client) context.Context {
	return context.WithValue(ctx, clientKey, c)
}

// ClientFromContext returns the request's origin (zero when unknown).
func ClientFromContext(ctx context.Context) Client {
	c, _ := ctx.Value(clientKey).(Client)
	return c
}
