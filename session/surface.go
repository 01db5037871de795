package session

import "context"

// WithClientAddress returns ctx carrying the client address (ClientAddress)
// of its request, as RequireAuth sets it: for a surface that carries the
// token its own way (Navixy's hash) and calls Find itself, so that an API
// token records where it was used and VerifyPassword counts the attempt
// against that address.
func WithClientAddress(ctx context.Context, address string) context.Context {
	return context.WithValue(ctx, addressKey{}, address)
}
