package web

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/gorilla/mux"
	"github.com/groupd/groupd/errors"
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the HTTP metrics of one server.
type Metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

// NewMetrics registers the HTTP metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "groupd_http_requests_total",
			Help: "HTTP requests by route template, method and status.",
		}, []string{"route", "method", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "groupd_http_request_duration_seconds",
			Help:    "HTTP request latency by route template and method.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route", "method"}),
	}
	reg.MustRegister(m.requests, m.duration)
	return m
}

type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the connection (read deadlines).
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func (r *recorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// MethodLabel is a request's method as the access log and the metrics record
// it: GET, PUT, POST, DELETE, HEAD, or OTHER for anything else. The method
// is chosen by the client, so recording it raw would let every request with
// an invented method (up to the header limit each) add a metric series that
// lives as long as the process and a log line as long as the method.
func MethodLabel(method string) string {
	switch method {
	case http.MethodGet, http.MethodPut, http.MethodPost, http.MethodDelete, http.MethodHead:
		return method
	}
	return "OTHER"
}

// maxLoggedPath is the longest path a log line carries; the rest is cut.
const maxLoggedPath = 256

// logPath is path shortened for a log line: a client chooses it, up to the
// header limit, and it would otherwise go whole into every line the request
// logs.
func logPath(path string) string {
	if len(path) <= maxLoggedPath {
		return path
	}
	return path[:maxLoggedPath] + "..."
}

// RouteTemplate is a router middleware (mux.Router.Use) that records the
// matched route's template for the access log and the metrics, so that
// /api/v1/group/{id} is one series, not one per id.
func RouteTemplate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if route := mux.CurrentRoute(r); route != nil {
			if tpl, err := route.GetPathTemplate(); err == nil {
				Info(r.Context()).Route = tpl
			}
		}
		next.ServeHTTP(w, r)
	})
}

// Observe is the outermost middleware, wrapped around the whole router: it gives the request its logger,
// limits the body to maxBody bytes, turns a panic into error.server.generic,
// and writes one access-log line and the metrics when the request is done.
// The query string is never logged: it may carry the token.
func Observe(log *slog.Logger, metrics *Metrics, maxBody int64) mux.MiddlewareFunc {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			info := &RequestInfo{Route: "unmatched"}
			method := MethodLabel(r.Method)
			reqLog := log.With(slog.Group("request", slog.String("method", method), slog.String("path", logPath(r.URL.Path))))
			ctx := context.WithValue(WithLogger(r.Context(), reqLog), infoKey, info)
			r = r.WithContext(ctx)
			rec := &recorder{ResponseWriter: w}
			rec.Header().Set("X-Easydb-API-Version", APIVersion)
			// Answers carry sessions, users and rights: no cache keeps them.
			// A handler serving something cacheable (the console's files)
			// sets its own.
			rec.Header().Set("Cache-Control", "no-store")

			defer func() {
				if p := recover(); p != nil {
					if p == http.ErrAbortHandler {
						panic(p)
					}
					err := errors.ServerGeneric(fmt.Errorf("panic: %v\n%s", p, debug.Stack()))
					if rec.status == 0 {
						Error(rec, r, err)
					} else {
						reqLog.Error("panic after response started", slog.Any("cause", err.Cause()))
					}
				}
				d := time.Since(start)
				status := rec.status
				if status == 0 {
					status = http.StatusOK
				}
				attrs := []slog.Attr{
					slog.String("method", method), slog.String("route", info.Route),
					slog.Int("status", status), slog.Duration("duration", d), slog.Int64("bytes", rec.bytes),
				}
				if info.UserID != 0 {
					attrs = append(attrs, slog.Int64("user_id", info.UserID))
				}
				log.LogAttrs(ctx, slog.LevelInfo, "request", attrs...)
				if metrics != nil {
					metrics.requests.WithLabelValues(info.Route, method, strconv.Itoa(status)).Inc()
					metrics.duration.WithLabelValues(info.Route, method).Observe(d.Seconds())
				}
			}()

			if r.ContentLength > maxBody {
				// Refuse without reading a byte of it.
				Error(rec, r, errors.BodyTooLarge(maxBody))
				return
			}
			if r.Body != nil {
				r.Body = http.MaxBytesReader(rec, r.Body, maxBody)
			}
			next.ServeHTTP(rec, r)
		})
	}
}

// BodyDeadline is a middleware that bounds how long reading a request's body
// may take: the body must arrive within grace plus one second for every
// minRate bytes received so far. The deadline is the connection's read
// deadline (http.ResponseController), so a client trickling its body stops
// blocking a read, and its connection is closed, once it falls behind; a
// client sending at minRate or faster is never cut, whatever the body's
// size. Without it a body could hold its connection forever: the server's
// ReadHeaderTimeout covers only the headers.
//
// Requests without a body get no deadline: the server reads from their
// connection in the background while the handler runs (to notice a client
// that goes away), and a deadline passing there would cancel the request.
// For the same reason the deadline is lifted once the body is read to its
// end. grace <= 0 turns the middleware off.
func BodyDeadline(grace time.Duration, minRate int64) mux.MiddlewareFunc {
	return func(next http.Handler) http.Handler {
		if grace <= 0 {
			return next
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Body == nil || r.Body == http.NoBody {
				next.ServeHTTP(w, r)
				return
			}
			b := &deadlineBody{body: r.Body, rc: http.NewResponseController(w), grace: grace, minRate: minRate,
				start: time.Now()}
			if err := b.rc.SetReadDeadline(b.deadline()); err != nil {
				// A connection that cannot have a deadline (none in groupd's
				// server) is served as it is.
				next.ServeHTTP(w, r)
				return
			}
			r.Body = b
			next.ServeHTTP(w, r)
		})
	}
}

// deadlineBody moves the connection's read deadline forward as the body
// arrives (BodyDeadline).
type deadlineBody struct {
	body     io.ReadCloser
	rc       *http.ResponseController
	grace    time.Duration
	minRate  int64
	start    time.Time
	received int64
	done     bool
}

func (b *deadlineBody) deadline() time.Time {
	d := b.start.Add(b.grace)
	if b.minRate > 0 {
		d = d.Add(time.Duration(float64(b.received) / float64(b.minRate) * float64(time.Second)))
	}
	return d
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	if b.done {
		return b.body.Read(p)
	}
	n, err := b.body.Read(p)
	b.received += int64(n)
	switch {
	case err == io.EOF:
		// Lift the deadline before the server's background read of the
		// idle connection can run into it.
		b.done = true
		_ = b.rc.SetReadDeadline(time.Time{})
	case err != nil:
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			b.done = true
			return n, errors.BodyTooSlow(b.grace, b.minRate)
		}
	default:
		_ = b.rc.SetReadDeadline(b.deadline())
	}
	return n, err
}

func (b *deadlineBody) Close() error { return b.body.Close() }
