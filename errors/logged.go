package errors

import (
	"context"
	"log/slog"
)

// Logged is err as a typed error ready to be sent by any surface: a server
// error gets a fresh uuid, logged together with its cause (never sent), so
// that an operator finds the cause from what a client reports. Write uses
// it for easydb's body; surfaces with their own error body (Noko) too.
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
