package db

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/groupd/groupd/errors"
)

// ErrNoPostgres is returned when no PostgreSQL server binaries can be found.
var ErrNoPostgres = errors.New("PostgreSQL server binaries (initdb, postgres) not found: install PostgreSQL " +
	"(e.g. apt-get install postgresql) or set GROUPD_DATABASE_URL")

// ManagedOptions configure a managed cluster.
type ManagedOptions struct {
	// Dir holds the cluster: Dir/pg is the data directory and the socket's
	// directory, Dir/postgres.log its log.
	Dir string
	// BinDir holds initdb and postgres; empty: FindPostgresBinDir.
	BinDir string
	// NoFsync turns fsync off: for throwaway test clusters only.
	NoFsync bool
	// Settings are extra "-c name=value" settings.
	Settings map[string]string
	Log      *slog.Logger
}

// Managed is a PostgreSQL server that groupd runs as its child: initdb on
// first start, postgres on a Unix socket (no TCP port), stopped with groupd.
// Started as root, the server runs as the postgres user. Only groupd's own
// OS user and the server's may connect, as the superuser postgres (peer
// authentication, writeAuthConfig).
type Managed struct {
	opts    ManagedOptions
	binDir  string
	dataDir string
	sockDir string
	cred    *syscall.Credential
	cmd     *exec.Cmd
	exited  chan struct{}
	waitErr error
	log     *slog.Logger
}

// FindPostgresBinDir finds the directory with initdb and postgres: on PATH,
// via pg_config --bindir, or the newest /usr/lib/postgresql/*/bin.
func FindPostgresBinDir() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			if isExec(filepath.Join(filepath.Dir(real), "postgres")) {
				return filepath.Dir(real), nil
			}
		}
		if isExec(filepath.Join(filepath.Dir(p), "postgres")) {
			return filepath.Dir(p), nil
		}
	}
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		dir := strings.TrimSpace(string(out))
		if isExec(filepath.Join(dir, "initdb")) && isExec(filepath.Join(dir, "postgres")) {
			return dir, nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return pgMajor(dirs[i]) > pgMajor(dirs[j]) })
	for _, dir := range dirs {
		if isExec(filepath.Join(dir, "initdb")) && isExec(filepath.Join(dir, "postgres")) {
			return dir, nil
		}
	}
	return "", ErrNoPostgres
}

func pgMajor(binDir string) float64 {
	v, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(binDir)), 64)
	return v
}

func isExec(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}

// StartManaged initialises the cluster if needed and starts it. It returns
// once the server accepts connections and the database "groupd" exists.
func StartManaged(ctx context.Context, opts ManagedOptions) (*Managed, error) {
	binDir := opts.BinDir
	if binDir == "" {
		var err error
		if binDir, err = FindPostgresBinDir(); err != nil {
			return nil, err
		}
	} else if !isExec(filepath.Join(binDir, "initdb")) || !isExec(filepath.Join(binDir, "postgres")) {
		return nil, ErrNoPostgres
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, err
	}
	log := opts.Log
	if log == nil {
		log = slog.Default()
	}
	m := &Managed{opts: opts, binDir: binDir, dataDir: filepath.Join(dir, "pg"), log: log,
		exited: make(chan struct{})}
	m.sockDir = m.dataDir
	if mkdirAllErr := os.MkdirAll(dir, 0o700); mkdirAllErr != nil {
		return nil, errors.Errorf("data dir: %w", mkdirAllErr)
	}
	if os.Geteuid() == 0 {
		if m.cred, err = unprivilegedCredential(user.Lookup); err != nil {
			return nil, err
		}
		if err := m.makeReachable(dir); err != nil {
			return nil, err
		}
	}
	// A Unix socket path is limited to 107 bytes; a deep data dir gets its
	// socket in a short private directory instead.
	if len(m.sockDir)+len("/.s.PGSQL.5432") > 100 {
		short, err := os.MkdirTemp("", "groupd-pg-")
		if err != nil {
			return nil, err
		}
		m.sockDir = short
		if err := m.chown(short); err != nil {
			return nil, err
		}
	}
	if _, err := os.Stat(filepath.Join(m.dataDir, "PG_VERSION")); os.IsNotExist(err) {
		if err := m.initdb(ctx); err != nil {
			return nil, err
		}
	}
	// Every start, so that a cluster made by an older groupd (with trust
	// authentication) gets the same rules.
	if err := m.writeAuthConfig(); err != nil {
		return nil, err
	}
	if err := m.clearStalePid(ctx); err != nil {
		return nil, err
	}
	if err := m.start(ctx); err != nil {
		return nil, err
	}
	if err := m.waitReady(ctx); err != nil {
		m.Stop()
		return nil, err
	}
	if err := m.ensureDatabase(ctx, "groupd"); err != nil {
		m.Stop()
		return nil, err
	}
	return m, nil
}

// URL is the connection URL of database name on this cluster.
func (m *Managed) URL(name string) string {
	return fmt.Sprintf("postgres:///%s?host=%s&user=postgres&sslmode=disable", name, m.sockDir)
}

// DataDir is the cluster's data directory.
func (m *Managed) DataDir() string { return m.dataDir }

// Pid is the postmaster's process id.
func (m *Managed) Pid() int {
	if m.cmd == nil || m.cmd.Process == nil {
		return 0
	}
	return m.cmd.Process.Pid
}

// ServerUser is the OS user a managed PostgreSQL runs as when groupd is
// started as root (PostgreSQL refuses to run as root).
const ServerUser = "postgres"

// unprivilegedCredential is the credential of ServerUser, found with lookup.
// There is no fallback to a shared account such as nobody: every process of
// that account (and there are many) could then reach the cluster's socket
// and its files.
func unprivilegedCredential(lookup func(string) (*user.User, error)) (*syscall.Credential, error) {
	u, err := lookup(ServerUser)
	if err != nil {
		return nil, errors.Errorf("running as root, groupd runs its PostgreSQL as the user %q, which does not "+
			"exist (%v): create it (installing PostgreSQL does), run groupd as an unprivileged user, or set "+
			"GROUPD_DATABASE_URL", ServerUser, err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), NoSetGroups: true}, nil
}

// writeAuthConfig writes the cluster's client authentication: connections
// only on the Unix socket, by peer authentication (the kernel's word for
// the connecting process's OS user), and only from groupd's own OS user and
// the server's, each mapped to the superuser postgres. Any other local user
// is refused, even one that can reach the socket; there is no password to
// keep or leak.
func (m *Managed) writeAuthConfig() error {
	self, err := user.Current()
	if err != nil {
		return errors.Errorf("managed PostgreSQL: cannot name groupd's OS user for peer authentication: %w", err)
	}
	server := self.Username
	if m.cred != nil {
		server = ServerUser
	}
	hba := "# Written by groupd at every start; changes are overwritten.\n" +
		"local all all peer map=groupd\n"
	ident := "# Written by groupd at every start; changes are overwritten.\n" +
		"groupd " + self.Username + " postgres\n"
	if server != self.Username {
		ident += "groupd " + server + " postgres\n"
	}
	for name, content := range map[string]string{"pg_hba.conf": hba, "pg_ident.conf": ident} {
		path := filepath.Join(m.dataDir, name)
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			return errors.Errorf("managed PostgreSQL: write %s: %w", name, err)
		}
		if err := m.chown(path); err != nil {
			return err
		}
	}
	return nil
}

// childEnv is the whole environment of the managed PostgreSQL's processes:
// what they need from groupd's, and nothing else. groupd's own may hold
// secrets (GROUPD_ROOT_PASSWORD, a database URL, API tokens) that the server
// user could otherwise read in /proc/<pid>/environ.
func childEnv() []string {
	env := []string{"LC_ALL=C", "LANG=C"}
	for _, name := range []string{"PATH", "TZ", "TMPDIR"} {
		if v, ok := os.LookupEnv(name); ok {
			env = append(env, name+"="+v)
		}
	}
	return env
}

func (m *Managed) chown(path string) error {
	if m.cred == nil {
		return nil
	}
	return os.Chown(path, int(m.cred.Uid), int(m.cred.Gid))
}

// makeReachable gives the unprivileged server user its cluster directory and
// a way to reach it: PostgreSQL must be able to traverse every parent of its
// data directory. A parent that blocks it (such as /root, mode 0700) gets the
// search bit for others (o+x: traverse, not list), and a warning says so.
func (m *Managed) makeReachable(dir string) error {
	if err := os.MkdirAll(m.dataDir, 0o700); err != nil {
		return err
	}
	if err := m.chown(m.dataDir); err != nil {
		return err
	}
	for p := dir; ; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		if err != nil {
			return err
		}
		st := fi.Sys().(*syscall.Stat_t)
		mode := fi.Mode().Perm()
		reachable := mode&0o001 != 0 ||
			(st.Uid == m.cred.Uid && mode&0o100 != 0) ||
			(st.Gid == m.cred.Gid && mode&0o010 != 0)
		if !reachable {
			if err := os.Chmod(p, fi.Mode()|0o001); err != nil {
				return errors.Errorf("make %s reachable for the PostgreSQL user: %w", p, err)
			}
			m.log.Warn("granted search permission (o+x) so that PostgreSQL can reach its data directory",
				slog.String("dir", p))
		}
		if p == "/" || p == filepath.Dir(p) {
			return nil
		}
	}
}

func (m *Managed) command(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, filepath.Join(m.binDir, name), args...)
	cmd.Dir = m.dataDir
	cmd.Env = childEnv()
	// Its own process group: a Ctrl-C in the terminal reaches groupd, which
	// then finishes its requests before it stops the server itself.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Credential: m.cred}
	return cmd
}

func (m *Managed) initdb(ctx context.Context) error {
	if err := os.MkdirAll(m.dataDir, 0o700); err != nil {
		return err
	}
	if err := m.chown(m.dataDir); err != nil {
		return err
	}
	cmd := m.command(ctx, "initdb", "-D", m.dataDir, "-U", "postgres", "--auth-local=peer", "--auth-host=reject",
		"--encoding=UTF8", "--locale=C", "--no-instructions")
	if m.opts.NoFsync {
		cmd.Args = append(cmd.Args, "--no-sync")
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	m.log.Info("initialising PostgreSQL cluster", slog.String("dir", m.dataDir))
	if err := cmd.Run(); err != nil {
		// A half-made cluster would stop every later start: remove it.
		entries, _ := os.ReadDir(m.dataDir)
		for _, e := range entries {
			os.RemoveAll(filepath.Join(m.dataDir, e.Name()))
		}
		return errors.Errorf("initdb: %w: %s", err, strings.TrimSpace(out.String()))
	}
	return nil
}

// clearStalePid handles a postmaster.pid left by a killed run. If its process
// is a postgres still shutting down (its groupd was killed), wait for it; if
// the process is gone or is something else, the file is stale: remove it.
func (m *Managed) clearStalePid(ctx context.Context) error {
	pidFile := filepath.Join(m.dataDir, "postmaster.pid")
	for deadline := time.Now().Add(30 * time.Second); ; {
		b, err := os.ReadFile(pidFile)
		if os.IsNotExist(err) {
			return nil
		}
		if err != nil {
			return err
		}
		line, _, _ := strings.Cut(string(b), "\n")
		pid, _ := strconv.Atoi(strings.TrimSpace(line))
		if pid <= 0 || !isPostgres(pid) {
			m.log.Warn("removing stale postmaster.pid", slog.Int("pid", pid))
			return os.Remove(pidFile)
		}
		if isOrphan(pid) && time.Now().Before(deadline) {
			// The postmaster of a killed groupd is shutting down on its own
			// (it was told to by the parent-death signal); give it a moment.
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(100 * time.Millisecond):
			}
			continue
		}
		return errors.Errorf("the PostgreSQL cluster in %s is in use by process %d (another groupd?)", m.dataDir, pid)
	}
}

func isPostgres(pid int) bool {
	comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	if err != nil {
		return false
	}
	c := strings.TrimSpace(string(comm))
	return c == "postgres" || c == "postmaster"
}

// isOrphan reports whether pid's parent is gone (it was reparented to init or
// a subreaper, i.e. not a running groupd).
func isOrphan(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	// the fields after the command name, which is in parentheses
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	fields := strings.Fields(s[i+1:])
	if len(fields) < 2 {
		return true
	}
	ppid, _ := strconv.Atoi(fields[1])
	if ppid <= 1 {
		return true
	}
	comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", ppid))
	c := strings.TrimSpace(string(comm))
	return !strings.HasPrefix(c, "groupd") && !strings.HasSuffix(c, ".test")
}

func (m *Managed) start(ctx context.Context) error {
	logPath := filepath.Join(filepath.Dir(m.dataDir), "postgres.log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	args := []string{"-D", m.dataDir, "-k", m.sockDir,
		"-c", "listen_addresses=", "-c", "unix_socket_permissions=0700",
		"-c", "max_connections=200", "-c", "log_min_messages=warning"}
	if m.opts.NoFsync {
		args = append(args, "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	}
	keys := make([]string, 0, len(m.opts.Settings))
	for k := range m.opts.Settings {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		args = append(args, "-c", k+"="+m.opts.Settings[k])
	}
	// The child is started from a goroutine locked to its OS thread, which
	// stays alive until the child exits: Pdeathsig fires when the creating
	// thread dies, so this makes it fire only when groupd itself dies (kill
	// -9 included). SIGINT is PostgreSQL's fast shutdown: no orphan server.
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		cmd := m.command(context.Background(), "postgres", args...)
		cmd.SysProcAttr.Pdeathsig = syscall.SIGINT
		cmd.Stdout, cmd.Stderr = logFile, logFile
		if err := cmd.Start(); err != nil {
			started <- err
			close(m.exited)
			logFile.Close()
			return
		}
		m.cmd = cmd
		started <- nil
		m.waitErr = cmd.Wait()
		logFile.Close()
		close(m.exited)
		// Returning while locked ends this OS thread, which is what we want:
		// the child is gone.
	}()
	if err := <-started; err != nil {
		return errors.Errorf("start postgres: %w", err)
	}
	m.log.Info("started managed PostgreSQL", slog.Int("pid", m.cmd.Process.Pid), slog.String("socket_dir", m.sockDir))
	return nil
}

func (m *Managed) waitReady(ctx context.Context) error {
	url := m.URL("postgres")
	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case <-m.exited:
			return errors.Errorf("postgres exited during start-up (%v); see %s", m.waitErr,
				filepath.Join(filepath.Dir(m.dataDir), "postgres.log"))
		default:
		}
		db, err := sql.Open("postgres", url)
		if err == nil {
			pctx, cancel := context.WithTimeout(ctx, time.Second)
			err = db.PingContext(pctx)
			cancel()
			db.Close()
			if err == nil {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return errors.Errorf("postgres did not accept connections within 60s: %v", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(25 * time.Millisecond):
		}
	}
}

// CreateDatabase creates database name (optionally from a template).
func (m *Managed) CreateDatabase(ctx context.Context, name, template string) error {
	db, err := sql.Open("postgres", m.URL("postgres"))
	if err != nil {
		return err
	}
	defer db.Close()
	q := `CREATE DATABASE ` + quoteIdent(name)
	if template != "" {
		q += ` TEMPLATE ` + quoteIdent(template)
	}
	_, err = db.ExecContext(ctx, q)
	return err
}

func (m *Managed) ensureDatabase(ctx context.Context, name string) error {
	db, err := sql.Open("postgres", m.URL("postgres"))
	if err != nil {
		return err
	}
	defer db.Close()
	var exists bool
	if scanErr := db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).
		Scan(&exists); scanErr != nil {
		return scanErr
	}
	if exists {
		return nil
	}
	_, err = db.ExecContext(ctx, `CREATE DATABASE `+quoteIdent(name))
	return err
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// Stop shuts the server down: fast shutdown (SIGINT) and, if it has not
// exited after 20 s, immediate shutdown (SIGQUIT), then SIGKILL.
func (m *Managed) Stop() error {
	return m.stop(syscall.SIGINT, 20*time.Second)
}

// StopImmediately shuts the server down without its shutdown checkpoint
// (SIGQUIT, then SIGKILL): the next start would run crash recovery. For a
// throwaway cluster whose data is deleted next, such as the tests'.
func (m *Managed) StopImmediately() error {
	return m.stop(syscall.SIGQUIT, 5*time.Second)
}

func (m *Managed) stop(first syscall.Signal, wait time.Duration) error {
	if m.cmd == nil || m.cmd.Process == nil {
		return nil
	}
	steps := []struct {
		sig  syscall.Signal
		wait time.Duration
	}{{first, wait}, {syscall.SIGQUIT, 5 * time.Second}, {syscall.SIGKILL, 5 * time.Second}}
	if first == syscall.SIGQUIT {
		steps = steps[1:]
	}
	for _, step := range steps {
		select {
		case <-m.exited:
			return nil
		default:
		}
		_ = m.cmd.Process.Signal(step.sig)
		select {
		case <-m.exited:
			m.log.Info("stopped managed PostgreSQL")
			return nil
		case <-time.After(step.wait):
		}
	}
	return errors.New("managed PostgreSQL did not stop")
}

// Exited is closed when the server process has exited.
func (m *Managed) Exited() <-chan struct{} { return m.exited }
