// Command groupd serves the easydb 5 group API.
//
// Every flag has an environment variable; a flag given on the command line
// wins over the variable. With no database URL, groupd runs its own
// PostgreSQL from the locally installed server binaries in the data directory.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/groupd/groupd/db"
	"github.com/groupd/groupd/errors"
	"github.com/groupd/groupd/server"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stderr))
}

func run(args []string, stderr io.Writer) int {
	cfg, err := parseConfig(args, os.Getenv, stderr)
	unsetRootPassword()
	if err == flag.ErrHelp {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "groupd:", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	m := server.NewMain(cfg)
	if err := m.Open(ctx); err != nil {
		if errors.Is(err, db.ErrNoPostgres) {
			fmt.Fprintln(stderr, "groupd:", err)
		} else {
			fmt.Fprintln(stderr, "groupd: start:", err)
		}
		return 1
	}
	<-ctx.Done()
	stop() // a second signal kills the process the usual way
	m.Log.Info("stopping", slog.Duration("shutdown_timeout", cfg.ShutdownTimeout))
	if err := m.Close(); err != nil {
		fmt.Fprintln(stderr, "groupd: stop:", err)
		return 1
	}
	return 0
}

// parseConfig reads flags, each defaulting to its environment variable.
func parseConfig(args []string, getenv func(string) string, stderr io.Writer) (server.Config, error) {
	cfg := server.DefaultConfig()
	fs := flag.NewFlagSet("groupd", flag.ContinueOnError)
	fs.SetOutput(stderr)

	env := func(names ...string) string {
		for _, n := range names {
			if v := getenv(n); v != "" {
				return v
			}
		}
		return ""
	}
	str := func(p *string, name, help string, envs ...string) {
		if v := env(envs...); v != "" {
			*p = v
		}
		fs.StringVar(p, name, *p, fmt.Sprintf("%s (env %s)", help, joinEnv(envs)))
	}
	var envErr error
	dur := func(p *time.Duration, name, help string, envs ...string) {
		if v := env(envs...); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil {
				envErr = fmt.Errorf("%s: %w", envs[0], err)
			}
			*p = d
		}
		fs.DurationVar(p, name, *p, fmt.Sprintf("%s (env %s)", help, joinEnv(envs)))
	}
	num := func(p *int, name, help string, envs ...string) {
		if v := env(envs...); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil {
				envErr = fmt.Errorf("%s: %w", envs[0], err)
			}
			*p = n
		}
		fs.IntVar(p, name, *p, fmt.Sprintf("%s (env %s)", help, joinEnv(envs)))
	}

	str(&cfg.Addr, "addr", "listen address", "GROUPD_ADDR")
	str(&cfg.DatabaseURL, "database-url", "PostgreSQL URL; empty: run a managed PostgreSQL in <data-dir>/pg",
		"GROUPD_DATABASE_URL", "DATABASE_URL")
	str(&cfg.DataDir, "data-dir", "data directory of the managed PostgreSQL", "GROUPD_DATA_DIR")
	str(&cfg.PostgresBinDir, "postgres-bin", "directory with initdb and postgres for the managed PostgreSQL "+
		"(default: PATH, pg_config --bindir, newest /usr/lib/postgresql/*/bin)", "GROUPD_POSTGRES_BIN")
	str(&cfg.LogFormat, "log-format", "log format: text or json", "GROUPD_LOG_FORMAT")
	level := "info"
	str(&level, "log-level", "log level: debug, info, warn or error", "GROUPD_LOG_LEVEL")
	maxBody := int(cfg.MaxBody)
	num(&maxBody, "max-body", "largest accepted request body in bytes", "GROUPD_MAX_BODY")
	num(&cfg.MaxBulkItems, "max-bulk-items", "most items of a bulk write (0: 20000)", "GROUPD_MAX_BULK_ITEMS")
	num(&cfg.MaxBulkPasswords, "max-bulk-passwords", "most passwords of a user write (0: 1000)", "GROUPD_MAX_BULK_PASSWORDS")
	dur(&cfg.AuditRetention, "audit-retention", "delete older audit events hourly (0: never)", "GROUPD_AUDIT_RETENTION")
	dur(&cfg.ShutdownTimeout, "shutdown-timeout", "how long in-flight requests may take to finish on stop",
		"GROUPD_SHUTDOWN_TIMEOUT")
	num(&cfg.DBMaxOpenConns, "db-max-open", "most open database connections (0: 64)", "GROUPD_DB_MAX_OPEN")
	num(&cfg.DBMaxIdleConns, "db-max-idle", "most idle database connections (0: as db-max-open)", "GROUPD_DB_MAX_IDLE")
	dur(&cfg.DBTimeout, "db-timeout", "longest time one request may spend on the database; past it the request "+
		"fails with error.server.database (0: no limit)", "GROUPD_DB_TIMEOUT")
	str(&cfg.PprofAddr, "pprof-addr", "serve net/http/pprof on this address (off when empty; loopback only "+
		"unless -pprof-allow-remote)",
		"GROUPD_PPROF_ADDR")
	boolean := func(p *bool, name, help string, envs ...string) {
		if v := env(envs...); v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil {
				envErr = fmt.Errorf("%s: %w", envs[0], err)
			}
			*p = b
		}
		fs.BoolVar(p, name, *p, fmt.Sprintf("%s (env %s)", help, joinEnv(envs)))
	}
	boolean(&cfg.PprofAllowRemote, "pprof-allow-remote", "let -pprof-addr be a non-loopback address "+
		"(the profiler has no authentication)", "GROUPD_PPROF_ALLOW_REMOTE")
	num(&cfg.MaxConns, "max-conns", "most open client connections; more wait in the backlog (0: no limit)",
		"GROUPD_MAX_CONNS")
	dur(&cfg.BodyReadTimeout, "body-read-timeout", "a request body must arrive within this plus one second per "+
		"-body-min-rate bytes (0: no limit)", "GROUPD_BODY_READ_TIMEOUT")
	minRate := int(cfg.BodyMinRate)
	num(&minRate, "body-min-rate", "slowest accepted request body, in bytes per second, after -body-read-timeout",
		"GROUPD_BODY_MIN_RATE")
	str(&cfg.InstanceName, "instance-name", "instance name reported in sessions", "GROUPD_INSTANCE_NAME")
	dur(&cfg.SessionIdleTimeout, "session-idle-timeout", "a session unused this long expires",
		"GROUPD_SESSION_IDLE_TIMEOUT")
	num(&cfg.LoginMaxFailures, "login-max-failures", "failed logins within the window that block a login",
		"GROUPD_LOGIN_MAX_FAILURES")
	dur(&cfg.LoginFailureWindow, "login-failure-window", "the window of login-max-failures, and the block's length",
		"GROUPD_LOGIN_FAILURE_WINDOW")
	num(&cfg.AddressMaxFailures, "login-max-failures-per-address", "failed logins from one client address "+
		"within login-failure-window that block the address for every login (negative: no limit)",
		"GROUPD_LOGIN_MAX_FAILURES_PER_ADDRESS")
	dur(&cfg.KnownAddressAge, "login-known-address-age", "after a successful login from an address, the "+
		"login's lockout spares that address this long (negative: spare none)", "GROUPD_LOGIN_KNOWN_ADDRESS_AGE")
	num(&cfg.LoginQueue, "login-queue", "login attempts that may wait for a password check at once; more are "+
		"refused with error.user.login_blocked", "GROUPD_LOGIN_QUEUE")
	num(&cfg.NewSessionsPerMinute, "new-sessions-per-minute", "sessions one client address may create per "+
		"minute (negative: no limit)", "GROUPD_NEW_SESSIONS_PER_MINUTE")
	dur(&cfg.SessionMaxLifetime, "session-max-lifetime", "an authenticated session expires this long after its "+
		"login, however busy", "GROUPD_SESSION_MAX_LIFETIME")
	dur(&cfg.SessionUnauthenticatedTime, "session-unauthenticated-timeout", "a session that has not logged in "+
		"expires this long after it was created or last used", "GROUPD_SESSION_UNAUTHENTICATED_TIMEOUT")
	str(&cfg.ClientAddressHeader, "client-address-header", "header that a reverse proxy sets to the client's "+
		"address, e.g. X-Forwarded-For (its last entry counts); empty: the connection's address",
		"GROUPD_CLIENT_ADDRESS_HEADER")
	num(&cfg.MinPasswordLength, "min-password-length", "fewest characters of a new password, root's included",
		"GROUPD_MIN_PASSWORD_LENGTH")
	str(&cfg.KanboardAPIToken, "kanboard-api-token", "application API token of the Kanboard JSON-RPC endpoint "+
		"/jsonrpc.php (Basic jsonrpc:<token>, acts as root; empty: application access off; prefer the environment: "+
		"a flag shows in ps)", "GROUPD_KANBOARD_API_TOKEN")
	// Read at first start only, never a flag: a flag would show in ps.
	cfg.RootPassword = getenv("GROUPD_ROOT_PASSWORD")

	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: groupd [flags]\n\nServes the easydb 5 group API. Flags:\n")
		fs.PrintDefaults()
		fmt.Fprintf(fs.Output(), "\nEnvironment only:\n  GROUPD_ROOT_PASSWORD\n    \tpassword of user root, "+
			"set at first start (unset: generated and printed once)\n")
	}
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if envErr != nil {
		return cfg, envErr
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if cfg.LogFormat != "text" && cfg.LogFormat != "json" {
		return cfg, fmt.Errorf("-log-format must be text or json, not %q", cfg.LogFormat)
	}
	if err := cfg.LogLevel.UnmarshalText([]byte(level)); err != nil {
		return cfg, fmt.Errorf("-log-level: %w", err)
	}
	if maxBody <= 0 {
		return cfg, fmt.Errorf("-max-body must be positive")
	}
	cfg.MaxBody = int64(maxBody)
	if cfg.MaxConns < 0 || cfg.BodyReadTimeout < 0 || minRate < 0 {
		return cfg, fmt.Errorf("-max-conns, -body-read-timeout and -body-min-rate must not be negative")
	}
	cfg.BodyMinRate = int64(minRate)
	if cfg.MaxBulkItems < 0 || cfg.MaxBulkPasswords < 0 || cfg.AuditRetention < 0 {
		return cfg, fmt.Errorf("-max-bulk-items, -max-bulk-passwords and -audit-retention cannot be negative")
	}
	if cfg.LoginQueue <= 0 || cfg.MinPasswordLength <= 0 {
		return cfg, fmt.Errorf("-login-queue and -min-password-length must be positive")
	}
	return cfg, nil
}

// unsetRootPassword removes GROUPD_ROOT_PASSWORD from the environment once
// parseConfig has read it: no child process (the managed PostgreSQL among
// them) and no later reader of the environment sees root's password.
func unsetRootPassword() {
	os.Unsetenv("GROUPD_ROOT_PASSWORD")
}

func joinEnv(names []string) string {
	s := names[0]
	for _, n := range names[1:] {
		s += ", " + n
	}
	return s
}
