package errors

import (
	"context"
	"log/slog"
)

// Logged returns err as an *Error; a server error gets a fresh uuid, logged
// with its cause, as Write does. It is for a surface that reports a server
// error in its own wire format (Kanboard's JSON-RPC error object), where the
// uuid is the only detail a client gets.
func Logged(ctx context.Context, log *slog.Logger, err error) *Error {
	e := From(err)
	if e.Realm != RealmServer {
		return e
	}
	c := *e
	c.UUID = newUUID()
	if log == nil {
		log = slog.Default()
	}
	log.ErrorContext(ctx, "server error", slog.String("code", c.Code), slog.String("uuid", c.UUID),
		slog.Any("cause", c.cause))
	return &c
}
