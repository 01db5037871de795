// Package web is groupd's HTTP plumbing: handlers that return errors, JSON
// decoding with a body limit, the request logger, access logs, metrics and
// panic recovery. Packages that own routes (session, group, user, ...) use it;
// it knows nothing of their resources.
package web

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/gorilla/mux"
	"github.com/groupd/groupd/errors"
)

// APIVersion is sent in X-Easydb-API-Version on every response.
const APIVersion = "1"

// HandlerFunc is an HTTP handler that returns its error instead of writing
// it: the adapter writes every error the same way (errors.Write).
type HandlerFunc func(w http.ResponseWriter, r *http.Request) error

// Handle adapts h to http.Handler.
func Handle(h HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			Error(w, r, err)
		}
	})
}

// StatusClientClosed is recorded (access log, metrics) for a request whose
// client went away before the answer: nginx's 499.
const StatusClientClosed = 499

// Error writes err as an easydb error with the request's logger. When the
// client has gone (its request context is canceled, as a browser does with
// a superseded request), there is nobody to answer and nothing went wrong on
// the server: the failure of the work it abandoned is not a server error.
// A database deadline (-db-timeout) is not a cancellation and is answered.
func Error(w http.ResponseWriter, r *http.Request, err error) {
	// A refusal of the request itself (realm api or user) is still
	// answered: the server cancels the context of a request whose body
	// failed to arrive in time (BodyDeadline), and that client is owed the
	// reason.
	if errors.Is(r.Context().Err(), context.Canceled) && errors.From(err).Realm == errors.RealmServer {
		Logger(r.Context()).Debug("client went away", slog.Any("err", err))
		w.WriteHeader(StatusClientClosed)
		return
	}
	errors.Write(r.Context(), w, Logger(r.Context()), namingDatabase(err))
}

// namingDatabase is err, except that a failure of the database that reached
// here untyped, or typed only as error.server.generic, becomes
// error.server.database (see isDatabaseFailure), so that an operator sees the
// database named whichever code path met it. This is decided here, where
// requests are answered, so that package errors knows nothing of drivers,
// sockets or system calls.
func namingDatabase(err error) error {
	e := errors.From(err) // untyped: error.server.generic with err as its cause
	if e.Code == "error.server.generic" && e.Cause() != nil && isDatabaseFailure(e.Cause()) {
		return errors.Database(e.Cause())
	}
	return e
}

// isDatabaseFailure reports whether err is the database failing or out of
// reach rather than groupd: anything PostgreSQL reported (an error with an
// SQLSTATE), a connection that broke or was refused, a closed pool, or a
// database call that ran out of the request's database time (-db-timeout).
// A transaction already ended (sql.ErrTxDone) is the last: when the
// database time runs out, database/sql rolls the transaction back itself,
// and the request's next statement or its commit is told so.
func isDatabaseFailure(err error) bool {
	if err == nil {
		return false
	}
	var state interface{ SQLState() string }
	var netErr *net.OpError
	return errors.As(err, &state) || errors.As(err, &netErr) || errors.Is(err, driver.ErrBadConn) ||
		errors.Is(err, sql.ErrConnDone) || errors.Is(err, sql.ErrTxDone) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// JSON writes v with status 200.
func JSON(w http.ResponseWriter, v any) error {
	return JSONStatus(w, http.StatusOK, v)
}

// JSONStatus writes v as JSON with the given status.
func JSONStatus(w http.ResponseWriter, status int, v any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return errors.ServerGeneric(err)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	// A failed write means the client went away: nothing to tell it.
	_, _ = w.Write(buf.Bytes())
	return nil
}

// RawJSON writes body, already JSON, with status 200.
// JSONArray writes items, each a JSON value, as one JSON array, without
// copying them into one buffer first: the answer to a 10,000-group bulk is
// 27 MB.
func JSONArray(w http.ResponseWriter, items [][]byte) error {
	n := 3 // [ ] \n
	for _, it := range items {
		n += len(it) + 1
	}
	if len(items) > 0 {
		n--
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(n))
	w.WriteHeader(http.StatusOK)
	bw := arrayWriters.Get().(*bufio.Writer)
	defer arrayWriters.Put(bw)
	bw.Reset(w)
	bw.WriteByte('[')
	for i, it := range items {
		if i > 0 {
			bw.WriteByte(',')
		}
		bw.Write(it)
	}
	bw.WriteString("]\n")
	_ = bw.Flush() // a client gone away is no error of the handler's
	bw.Reset(nil)
	return nil
}

// arrayWriters are JSONArray's buffers, reused: one of 32 KiB per answer
// was a fifth of the garbage of a read by id.
var arrayWriters = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 32<<10) }}

func RawJSON(w http.ResponseWriter, body []byte) error {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
	return nil
}

// ReadBody reads the whole request body within the limit set by the
// middleware (Observe's maxBody). An empty body is returned as nil.
func ReadBody(r *http.Request) ([]byte, error) {
	return ReadBodyMax(r, -1)
}

// ReadBodyMax reads the whole request body, as ReadBody, but refuses one
// over limit bytes (limit < 0: only the middleware's limit): a declared
// Content-Length over it unread, a body without one once limit+1 bytes
// have arrived.
func ReadBodyMax(r *http.Request, limit int64) ([]byte, error) {
	if r.Body == nil {
		return nil, nil
	}
	body := io.Reader(r.Body)
	if limit >= 0 {
		if r.ContentLength > limit {
			return nil, errors.BodyTooLarge(limit)
		}
		body = io.LimitReader(r.Body, limit+1)
	}
	b, err := io.ReadAll(body)
	if limit >= 0 && int64(len(b)) > limit {
		return nil, errors.BodyTooLarge(limit)
	}
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, errors.BodyTooLarge(tooLarge.Limit)
		}
		var typed *errors.Error
		if errors.As(err, &typed) { // a body too slow (BodyDeadline)
			return nil, typed
		}
		return nil, errors.InvalidContent("cannot read request body: " + err.Error())
	}
	return b, nil
}

// DecodeJSON reads the body and unmarshals it into v; a body that is not JSON
// is error.api.invalid_content. Callers validate the shape themselves, so
// that every wrong attribute is named.
func DecodeJSON(r *http.Request, v any) error {
	b, err := readJSON(r)
	if err != nil {
		return err
	}
	if p, ok := v.(*any); ok {
		return decodeValue(b, p, "body")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return errors.InvalidContent("request body: " + err.Error())
	}
	return nil
}

// readJSON reads the body, which must be valid JSON, without the blanks
// around it.
func readJSON(r *http.Request) ([]byte, error) {
	b, err := ReadBody(r)
	if err != nil {
		return nil, err
	}
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return nil, errors.InvalidContent("request body expected: JSON")
	}
	if !json.Valid(b) {
		return nil, errors.InvalidContent("request body is not valid JSON")
	}
	return b, nil
}

// DecodeJSONArray reads a body that should be a JSON array and passes its
// elements to each, one at a time, decoded as DecodeJSON decodes (numbers as
// json.Number; a number no float64 holds is refused with its path). A bulk
// body of 10,000 groups is thus never held whole as generic values, which
// took more memory than anything else groupd does (hundreds of MiB of maps
// for a 4 MB body). A body that is valid JSON but no array (null included)
// is returned whole with array false, for the caller to refuse as it
// refuses any other wrong shape.
func DecodeJSONArray(r *http.Request, each func(i int, v any) error) (whole any, array bool, err error) {
	return decodeArray(r, 0, each)
}

// decodeArray is DecodeJSONArray refusing an array of more than maxItems
// elements (0: any number) before it decodes the first one too many.
func decodeArray(r *http.Request, maxItems int, each func(i int, v any) error) (whole any, array bool, err error) {
	trimmed, err := readJSON(r)
	if err != nil {
		return nil, false, err
	}
	if trimmed[0] != '[' {
		err := decodeValue(trimmed, &whole, "body")
		return whole, false, err
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.UseNumber()
	if _, err := dec.Token(); err != nil { // [
		return nil, false, errors.InvalidContent("request body: " + err.Error())
	}
	for i := 0; dec.More(); i++ {
		if maxItems > 0 && i >= maxItems {
			return nil, false, errors.TooManyItems("items", maxItems)
		}
		var v any
		if err := dec.Decode(&v); err != nil {
			return nil, false, errors.InvalidContent("request body: " + err.Error())
		}
		if err := checkRange(v, "body["+strconv.Itoa(i)+"]"); err != nil {
			return nil, false, err
		}
		if err := each(i, v); err != nil {
			return nil, false, err
		}
	}
	return nil, true, nil
}

// DefaultMaxBulkItems is the default of the most items a bulk request may
// carry (-max-bulk-items): twice the largest bulk the benchmarks send (10,000
// groups with ACLs), and far below what runs PostgreSQL into its jsonb
// limit (docs/benchmarks.md, "Measurements behind the code").
const DefaultMaxBulkItems = 20000

// DecodeItems reads a bulk body, an array, decoding and checking its
// elements one at a time with item (web.DecodeJSONArray); an element's error
// carries its index, and a body that is no array is a type mismatch at
// "body". An array of more than maxItems elements (0: DefaultMaxBulkItems)
// is refused as soon as the decoder reaches the first one too many, with
// the limit in the error (errors.TooManyItems).
func DecodeItems[T any](r *http.Request, maxItems int, item func(v any, index int) (T, error)) ([]T, error) {
	if maxItems <= 0 {
		maxItems = DefaultMaxBulkItems
	}
	var items []T
	_, array, err := decodeArray(r, maxItems, func(i int, v any) error {
		it, err := item(v, i)
		if err != nil {
			return errors.WithIndex(err, i)
		}
		items = append(items, it)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if !array {
		return nil, errors.TypeMismatch("body", "array")
	}
	return items, nil
}

// decodeValue unmarshals valid JSON b into v with numbers as json.Number,
// and refuses a number no float64 holds with its path below path.
func decodeValue(b []byte, v *any, path string) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return errors.InvalidContent("request body: " + err.Error())
	}
	return checkRange(*v, path)
}

// checkRange refuses a number in v that no float64 holds, naming its path.
func checkRange(v any, path string) error {
	at := outOfRange(v)
	if at == nil {
		return nil
	}
	for i := len(at) - 1; i >= 0; i-- {
		if strings.HasPrefix(at[i], "[") {
			path += at[i]
		} else {
			path += "." + at[i]
		}
	}
	return errors.InvalidValue(path, "number out of range")
}

// outOfRange finds a number that no float64 holds (1e400, or 1e-400, which
// would silently become 0) and returns its path, innermost first ("[3]" for
// an array index). Such a number could not be stored as sent (PostgreSQL
// refuses some of them outright), so it is refused as the client's error.
func outOfRange(v any) []string {
	switch x := v.(type) {
	case json.Number:
		f, err := x.Float64()
		mantissa, _, _ := strings.Cut(strings.ToLower(string(x)), "e")
		if err != nil || (f == 0 && strings.ContainsAny(mantissa, "123456789")) {
			return []string{}
		}
	case []any:
		for i, e := range x {
			if at := outOfRange(e); at != nil {
				return append(at, "["+strconv.Itoa(i)+"]")
			}
		}
	case map[string]any:
		for k, e := range x {
			if at := outOfRange(e); at != nil {
				return append(at, k)
			}
		}
	}
	return nil
}

// PathInt64 reads a positive integer path variable; anything else is an api error.
func PathInt64(r *http.Request, name string) (int64, error) {
	s := mux.Vars(r)[name]
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, errors.InvalidValue(name, "positive integer expected, got "+strconv.Quote(s))
	}
	return n, nil
}

// --- request-scoped state ------------------------------------------------

type ctxKey int

const (
	loggerKey ctxKey = iota
	infoKey
)

// RequestInfo collects what the access log reports beyond the response:
// filled in by later handlers (the session middleware sets the user id).
type RequestInfo struct {
	UserID int64
	Route  string
}

// Logger is the request's logger (with the request group), or the default.
func Logger(ctx context.Context) *slog.Logger {
	if l, ok := ctx.Value(loggerKey).(*slog.Logger); ok {
		return l
	}
	return slog.Default()
}

// WithLogger returns ctx carrying l.
func WithLogger(ctx context.Context, l *slog.Logger) context.Context {
	return context.WithValue(ctx, loggerKey, l)
}

// Info is the request's access-log record, or a throwaway one.
func Info(ctx context.Context) *RequestInfo {
	if i, ok := ctx.Value(infoKey).(*RequestInfo); ok {
		return i
	}
	return &RequestInfo{}
}

// SetUserID records the acting user for the access log.
func SetUserID(ctx context.Context, id int64) { Info(ctx).UserID = id }
