package errors

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
)

// Write sends err as an easydb error response. It is the one place where an
// error becomes HTTP: a server error gets a fresh uuid, which is logged
// together with the cause and sent without it, so that an operator can find
// the cause from what a client reports, and a client never sees internals.
func Write(ctx context.Context, w http.ResponseWriter, log *slog.Logger, err error) {
	e := Logged(ctx, log, err)
	body, mErr := json.Marshal(e)
	if mErr != nil { // cannot happen: strings only
		body = []byte(`{"realm":"server","code":"error.server.generic"}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(e.Status())
	_, _ = w.Write(append(body, '\n'))
}

// newUUID returns a random RFC 4122 version 4 UUID.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
