package web

import (
	"context"
	"fmt"
	"log/slog"
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

func (r *recorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
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
			reqLog := log.With(slog.Group("request", slog.String("method", r.Method), slog.String("path", r.URL.Path)))
			ctx := context.WithValue(WithLogger(r.Context(), reqLog), infoKey, info)
			r = r.WithContext(ctx)
			rec := &recorder{ResponseWriter: w}
			rec.Header().Set("X-Easydb-API-Version", APIVersion)

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
					slog.String("method", r.Method), slog.String("route", info.Route),
					slog.Int("status", status), slog.Duration("duration", d), slog.Int64("bytes", rec.bytes),
				}
				if info.UserID != 0 {
					attrs = append(attrs, slog.Int64("user_id", info.UserID))
				}
				log.LogAttrs(ctx, slog.LevelInfo, "request", attrs...)
				if metrics != nil {
					metrics.requests.WithLabelValues(info.Route, r.Method, strconv.Itoa(status)).Inc()
					metrics.duration.WithLabelValues(info.Route, r.Method).Observe(d.Seconds())
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
