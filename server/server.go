// Package server assembles groupd: configuration, the database (a URL or the
// managed local PostgreSQL), migrations, the services of every package, the
// router, and a graceful stop. cmd/groupd is a thin shell around Main, and
// the integration tests start the same Main on 127.0.0.1:0.
package server

import (
	"context"
	"database/sql"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"time"

	"github.com/gorilla/mux"
	"github.com/groupd/groupd/db"
	"github.com/groupd/groupd/errors"
	"github.com/groupd/groupd/object"
	"github.com/groupd/groupd/policy"
	"github.com/groupd/groupd/session"
	"github.com/groupd/groupd/web"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Version is the server version reported in sessions (set by the linker).
var Version = "0.1.0-dev"

// Config is everything groupd can be told. cmd/groupd fills it from flags and
// environment variables; tests fill it directly.
type Config struct {
	Addr             string     // listen address, e.g. 127.0.0.1:8080 or 127.0.0.1:0
	DatabaseURL      string     // empty: run the managed PostgreSQL in DataDir/pg
	DataDir          string     // where the managed PostgreSQL lives
	PostgresBinDir   string     // initdb and postgres of the managed PostgreSQL; empty: searched
	LogFormat        string     // text or json
	LogLevel         slog.Level // minimum level of log lines
	LogOutput        io.Writer  // nil: stderr
	MaxBody          int64      // request body limit in bytes
	MaxBulkItems     int        // most items of a bulk group or user write (0: web.DefaultMaxBulkItems)
	MaxBulkPasswords int        // most passwords of one user write (0: user.DefaultMaxPasswords)
	// AuditRetention: events older than this are deleted, by a sweep every
	// AuditSweepInterval (0: kept forever).
	AuditRetention     time.Duration
	AuditSweepInterval time.Duration // 0: an hour
	ShutdownTimeout    time.Duration // how long in-flight requests may take to finish on stop
	DBMaxOpenConns     int
	DBMaxIdleConns     int
	ManagedNoFsync     bool   // managed PostgreSQL without fsync: throwaway clusters only
	PprofAddr          string // if set, net/http/pprof listens here (loopback only, unless PprofAllowRemote)
	// PprofAllowRemote lets PprofAddr be an address other hosts can reach.
	// The profiler has no authentication and shows the process's memory.
	PprofAllowRemote bool

	// MaxConns bounds the open client connections: when it is reached, new
	// connections wait in the kernel's backlog until one closes, instead of
	// taking file descriptors until there are none left. 0: no bound.
	MaxConns int
	// BodyReadTimeout and BodyMinRate bound how long a request body may
	// take: BodyReadTimeout plus one second per BodyMinRate bytes received
	// (web.BodyDeadline). BodyReadTimeout 0: no bound.
	BodyReadTimeout time.Duration
	BodyMinRate     int64

	// DBTimeout bounds the time one request may spend on the database
	// (waiting for a connection, its statements, its commit): past it the
	// request fails with error.server.database instead of hanging while
	// PostgreSQL is unreachable. 0: no bound.
	DBTimeout time.Duration

	// RootPassword is root's password, set at first start only (when root has
	// none yet). Empty at first start: one is generated and printed once.
	RootPassword string
	// Stderr receives what must reach the operator but never the log: the
	// generated root password. nil: os.Stderr.
	Stderr io.Writer
	// InstanceName is reported in sessions (instance.name).
	InstanceName string

	SessionIdleTimeout time.Duration // a session unused this long expires
	LoginMaxFailures   int           // failed logins within LoginFailureWindow that block a login
	LoginFailureWindow time.Duration

	// The limits of package session (session.Config has the details).
	SessionMaxLifetime         time.Duration // an authenticated session expires this long after its login
	SessionUnauthenticatedTime time.Duration // lifetime of a session that has not logged in
	NewSessionsPerMinute       int           // new sessions per client address and minute; negative: no limit
	AddressMaxFailures         int           // failed logins from one address within LoginFailureWindow that block it
	KnownAddressAge            time.Duration // how long a successful login spares its address from the lockout
	LoginQueue                 int           // login attempts waiting for a password check, at most
	ClientAddressHeader        string        // header with the client's address, set by a reverse proxy
	MinPasswordLength          int           // fewest characters of a new password, root's included

	// KanboardAPIToken is the application API token of the Kanboard JSON-RPC
	// endpoint (Basic jsonrpc:<token>, acting as root); "": application
	// access off.
	KanboardAPIToken string
}

// DefaultConfig is the configuration when nothing is set.
func DefaultConfig() Config {
	return Config{
		Addr:               "127.0.0.1:8080",
		DataDir:            "./var",
		LogFormat:          "text",
		LogLevel:           slog.LevelInfo,
		MaxBody:            32 << 20,
		MaxConns:           4096,
		BodyReadTimeout:    30 * time.Second,
		BodyMinRate:        1024,
		ShutdownTimeout:    10 * time.Second,
		DBTimeout:          60 * time.Second,
		InstanceName:       "groupd",
		SessionIdleTimeout: 7 * 24 * time.Hour,
		LoginMaxFailures:   5,
		LoginFailureWindow: 15 * time.Minute,

		SessionMaxLifetime:         30 * 24 * time.Hour,
		SessionUnauthenticatedTime: 10 * time.Minute,
		NewSessionsPerMinute:       300,
		AddressMaxFailures:         30,
		KnownAddressAge:            30 * 24 * time.Hour,
		LoginQueue:                 64,
		MinPasswordLength:          8,
	}
}

// MaxHeaderBytes bounds a request's line and headers (net/http answers 431
// beyond it). Go's default, 1 MiB, let one request carry a 1 MB method or
// path into the log and the metrics.
const MaxHeaderBytes = 64 << 10

// Main is a running groupd.
type Main struct {
	Config   Config
	Log      *slog.Logger
	DB       *db.DB
	Managed  *db.Managed // nil when DatabaseURL was given
	Registry *prometheus.Registry
	// Sessions is the session service; its RequireAuth guards the other APIs.
	Sessions *session.Service
	// Policy decides what principals may do.
	Policy *policy.Engine
	// Objects is the grouped objects' store (package object), for the
	// surfaces built on it.
	Objects *object.Store

	listener net.Listener
	server   *http.Server
	served   chan error
	closers  []func() error // run in reverse order by Close
}

// NewMain returns a Main for cfg; Open starts it.
func NewMain(cfg Config) *Main {
	return &Main{Config: cfg}
}

// Open starts groupd: database, migrations, services, listener. When it
// returns nil the server is accepting requests at URL().
func (m *Main) Open(ctx context.Context) (err error) {
	defer func() {
		if err != nil {
			m.Close()
		}
	}()
	m.Log = newLogger(m.Config)
	if m.Config.MaxBody <= 0 {
		m.Config.MaxBody = DefaultConfig().MaxBody
	}

	url := m.Config.DatabaseURL
	if url == "" {
		m.Managed, err = db.StartManaged(ctx, db.ManagedOptions{
			Dir: m.Config.DataDir, BinDir: m.Config.PostgresBinDir, NoFsync: m.Config.ManagedNoFsync, Log: m.Log,
		})
		if err != nil {
			return err
		}
		m.closers = append(m.closers, m.Managed.Stop)
		url = m.Managed.URL("groupd")
	}
	m.DB, err = db.Open(ctx, url, db.Options{MaxOpenConns: m.Config.DBMaxOpenConns, MaxIdleConns: m.Config.DBMaxIdleConns})
	if err != nil {
		return err
	}
	m.closers = append(m.closers, m.DB.Close)
	if migrateErr := m.DB.Migrate(ctx, m.Log); migrateErr != nil {
		return migrateErr
	}

	m.Registry = prometheus.NewRegistry()
	m.Registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewDBStatsCollector(m.DB.DB, "groupd"),
	)

	handler, err := m.handler(ctx)
	if err != nil {
		return err
	}

	if m.Config.PprofAddr != "" && !m.Config.PprofAllowRemote {
		if requireLoopbackErr := requireLoopback(ctx, m.Config.PprofAddr); requireLoopbackErr != nil {
			return requireLoopbackErr
		}
	}
	m.listener, err = net.Listen("tcp", m.Config.Addr)
	if err != nil {
		return errors.Errorf("listen on %s: %w", m.Config.Addr, err)
	}
	if m.Config.MaxConns > 0 {
		m.listener = newLimitListener(m.listener, m.Config.MaxConns)
	}
	m.server = &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		MaxHeaderBytes:    MaxHeaderBytes,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(m.Log.Handler(), slog.LevelWarn),
	}
	m.served = make(chan error, 1)
	go func() { m.served <- m.server.Serve(m.listener) }()
	if m.Config.PprofAddr != "" {
		if err := m.startPprof(); err != nil {
			return err
		}
	}
	m.Log.Info("groupd listening", slog.String("url", m.URL()), slog.Bool("managed_postgres", m.Managed != nil))
	return nil
}

// handler builds the router with every package's routes.
func (m *Main) handler(ctx context.Context) (http.Handler, error) {
	r := mux.NewRouter()
	r.Use(web.RouteTemplate)
	r.NotFoundHandler = web.Handle(func(w http.ResponseWriter, r *http.Request) error {
		return errors.InvalidAPI(r.URL.Path)
	})
	r.MethodNotAllowedHandler = web.Handle(func(w http.ResponseWriter, r *http.Request) error {
		return errors.InvalidRequestMethod(r.Method, r.URL.Path)
	})

	r.Handle("/healthz", web.Handle(func(w http.ResponseWriter, r *http.Request) error {
		return web.JSON(w, map[string]string{"status": "ok"})
	})).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/readyz", web.Handle(m.readyz)).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/metrics", promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{})).Methods(http.MethodGet)

	if err := m.registerServices(ctx, r); err != nil {
		return nil, err
	}
	observed := web.Observe(m.Log, web.NewMetrics(m.Registry), m.Config.MaxBody)(withTimeout(r, m.Config.DBTimeout))
	return web.BodyDeadline(m.Config.BodyReadTimeout, m.Config.BodyMinRate)(observed), nil
}

// withTimeout gives every request's context a deadline of d: every database
// call runs on that context, so none waits past it, even on a server that
// stopped answering (db's deadline connector), and errors.From reports it as
// error.server.database.
func withTimeout(next http.Handler, d time.Duration) http.Handler {
	if d <= 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), d)
		defer cancel()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

func (m *Main) readyz(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := m.DB.Ready(ctx); err != nil {
		return errors.Database(err)
	}
	return web.JSON(w, map[string]string{"status": "ready"})
}

// requireLoopback refuses an address that other hosts could reach: every
// address its host names must be a loopback address. An empty host means
// every interface.
func requireLoopback(ctx context.Context, addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return errors.Errorf("-pprof-addr %q: %w", addr, err)
	}
	refuse := errors.Errorf("-pprof-addr %q is not a loopback address: the profiler has no authentication "+
		"(use 127.0.0.1:<port>, or -pprof-allow-remote to serve it anyway)", addr)
	if host == "" {
		return refuse
	}
	ips, err := net.DefaultResolver.LookupIPAddr(ctx, host)
	if err != nil {
		return errors.Errorf("-pprof-addr %q: %w", addr, err)
	}
	for _, ip := range ips {
		if !ip.IP.IsLoopback() {
			return refuse
		}
	}
	return nil
}

// startPprof serves the Go profiler on its own listener, never on the API's.
func (m *Main) startPprof() error {
	ln, err := net.Listen("tcp", m.Config.PprofAddr)
	if err != nil {
		return errors.Errorf("pprof listen on %s: %w", m.Config.PprofAddr, err)
	}
	if ip := ln.Addr().(*net.TCPAddr).IP; !m.Config.PprofAllowRemote && !ip.IsLoopback() {
		ln.Close()
		return errors.Errorf("-pprof-addr %q listens on %s, not a loopback address", m.Config.PprofAddr, ip)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	m.closers = append(m.closers, srv.Close)
	m.Log.Info("pprof listening", slog.String("addr", ln.Addr().String()))
	return nil
}

// URL is the base URL the server listens on, e.g. http://127.0.0.1:8080.
func (m *Main) URL() string {
	if m.listener == nil {
		return ""
	}
	return "http://" + m.listener.Addr().String()
}

// Close stops groupd gracefully: no new connections, in-flight requests get
// up to ShutdownTimeout to finish, then the services, the database pool and
// the managed PostgreSQL are stopped, in that order.
func (m *Main) Close() error {
	var errs []error
	if m.server != nil {
		ctx, cancel := context.WithTimeout(context.Background(), m.Config.ShutdownTimeout)
		if err := m.server.Shutdown(ctx); err != nil {
			errs = append(errs, errors.Errorf("stop serving HTTP within %v: %w", m.Config.ShutdownTimeout, err))
			m.server.Close()
		}
		cancel()
		if err := <-m.served; err != nil && err != http.ErrServerClosed {
			errs = append(errs, err)
		}
		m.server = nil
	}
	for i := len(m.closers) - 1; i >= 0; i-- {
		if err := m.closers[i](); err != nil && !errors.Is(err, sql.ErrConnDone) {
			errs = append(errs, err)
		}
	}
	m.closers = nil
	return errors.Join(errs...)
}

func newLogger(cfg Config) *slog.Logger {
	out := cfg.LogOutput
	if out == nil {
		out = os.Stderr
	}
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(out, opts))
	}
	return slog.New(slog.NewTextHandler(out, opts))
}
