// Package session implements easydb sessions: tokens, login with the
// "easydb" method, logout, idle expiry, the lockout after repeated failed
// logins, root's password at first start, and the middleware that turns a
// token into a principal for every other package.
//
// Sessions live in PostgreSQL (table sessions, only the SHA-256 of a token is
// stored), so any groupd process serves any token. Each process caches
// sessions by token hash and principals by user id; writes anywhere announce
// what they changed with pg_notify in their transaction (NotifyUsers,
// NotifyGroups, NotifySessions), and every process drops exactly that when
// the notification arrives. docs/sessions.md describes the flow and the
// design.
package session

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/groupd/groupd/db"
	"github.com/groupd/groupd/errors"
	"github.com/groupd/groupd/policy"
	"github.com/lib/pq"
)

// MethodEasydb is the only authentication method: login and password.
const MethodEasydb = "easydb"

// DefaultLanguage is a session's frontend_language when neither the session
// nor its user has one.
const DefaultLanguage = "en-US"

const (
	tokenBytes   = 32
	tokenLen     = 43 // base64 RawURLEncoding of 32 bytes
	tokenHashLen = sha256.Size

	// maxLoginLen and maxPasswordLen bound what a login attempt hashes and
	// stores; longer input fails like a wrong password.
	maxLoginLen    = 512
	maxPasswordLen = 4096
)

// Config configures the Service. Zero durations and sizes take the defaults
// noted on each field.
type Config struct {
	// IdleTimeout: an authenticated session unused this long expires (7 days).
	IdleTimeout time.Duration
	// UnauthenticatedIdleTimeout: the same for sessions that never
	// authenticated or were deauthenticated (24 hours; at most IdleTimeout).
	UnauthenticatedIdleTimeout time.Duration
	// LoginMaxFailures failed logins for one login within LoginFailureWindow
	// block that login until the window has passed (5 in 15 minutes). A
	// negative LoginMaxFailures turns the lockout off.
	LoginMaxFailures   int
	LoginFailureWindow time.Duration

	// RootPassword is set as root's password when root has none (first
	// start). Empty: one is generated and printed once to Stderr.
	RootPassword string
	// Stderr receives the generated root password (os.Stderr when nil).
	// It is never written to the log.
	Stderr io.Writer

	InstanceName  string // instance.name in the session body
	ServerVersion string // instance.server_version

	// TouchInterval: a session's last_used_at is written at most this often
	// per process (1 minute, and at most a tenth of the idle timeouts).
	TouchInterval time.Duration
	// JanitorInterval: how often expired sessions and old login failures
	// are deleted (1 minute).
	JanitorInterval time.Duration
	// CacheResetInterval: every cache is dropped this often, a safety net
	// behind the notifications (5 minutes).
	CacheResetInterval time.Duration
	// CacheSize bounds each of the two caches (100000 entries).
	CacheSize int
}

func (c Config) withDefaults() Config {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.IdleTimeout, 7*24*time.Hour)
	def(&c.UnauthenticatedIdleTimeout, 24*time.Hour)
	c.UnauthenticatedIdleTimeout = min(c.UnauthenticatedIdleTimeout, c.IdleTimeout)
	if c.LoginMaxFailures == 0 {
		c.LoginMaxFailures = 5
	}
	def(&c.LoginFailureWindow, 15*time.Minute)
	def(&c.TouchInterval, time.Minute)
	c.TouchInterval = min(c.TouchInterval, c.UnauthenticatedIdleTimeout/10)
	def(&c.JanitorInterval, time.Minute)
	def(&c.CacheResetInterval, 5*time.Minute)
	if c.CacheSize <= 0 {
		c.CacheSize = 100000
	}
	if c.Stderr == nil {
		c.Stderr = os.Stderr
	}
	return c
}

// Session is an easydb session as a request sees it.
type Session struct {
	ID int64
	// Token is the token as the client sent it. It is never stored or logged.
	Token           string
	UserID          int64 // 0: not authenticated
	AuthMethod      string
	AuthenticatedAt time.Time
	Language        string // the session's frontend_language, "" if not set
	CreatedAt       time.Time
	LastUsedAt      time.Time
	// Principal is the authenticated user as the policy engine sees it; nil
	// when not authenticated. Shared between requests: never modify it.
	Principal *policy.Principal

	userLanguage string
}

// String describes the session without its token.
func (s *Session) String() string {
	return "session " + strconv.FormatInt(s.ID, 10) + " user " + strconv.FormatInt(s.UserID, 10)
}

// LogValue keeps the token out of logs that are handed a session.
func (s *Session) LogValue() slog.Value {
	return slog.GroupValue(slog.Int64("id", s.ID), slog.Int64("user_id", s.UserID))
}

// Authenticated reports whether the session has a user.
func (s *Session) Authenticated() bool { return s.Principal != nil }

// FrontendLanguage is the session's language, else its user's, else
// DefaultLanguage.
func (s *Session) FrontendLanguage() string {
	switch {
	case s.Language != "":
		return s.Language
	case s.userLanguage != "":
		return s.userLanguage
	}
	return DefaultLanguage
}

// Service manages sessions. Its methods are safe for concurrent use.
type Service struct {
	db  *db.DB
	cfg Config
	log *slog.Logger

	sessions   *cache[[tokenHashLen]byte, *sessionRow]
	principals *cache[int64, *identity]

	listener  *pq.Listener
	stop      chan struct{}
	wg        sync.WaitGroup
	closeOnce sync.Once
}

// New starts the session service on d: it sets root's password if root has
// none, starts listening for invalidations and starts the janitor. Close
// stops it.
func New(d *db.DB, cfg Config, log *slog.Logger) (*Service, error) {
	if log == nil {
		log = slog.Default()
	}
	cfg = cfg.withDefaults()
	s := &Service{
		db:         d,
		cfg:        cfg,
		log:        log,
		sessions:   newCache[[tokenHashLen]byte, *sessionRow](cfg.CacheSize),
		principals: newCache[int64, *identity](cfg.CacheSize),
		stop:       make(chan struct{}),
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := ensureRootPassword(ctx, d, cfg.RootPassword, cfg.Stderr, log); err != nil {
		return nil, err
	}
	dummy.get() // the first unknown login should not pay for it
	if err := s.listen(d.URL); err != nil {
		return nil, err
	}
	s.wg.Add(2)
	go s.listenLoop()
	go s.janitorLoop()
	return s, nil
}

// Close stops listening and the janitor.
func (s *Service) Close() error {
	var err error
	s.closeOnce.Do(func() {
		close(s.stop)
		err = s.listener.Close()
		s.wg.Wait()
		s.setCaching(false)
	})
	return err
}

func (s *Service) now() time.Time { return s.db.Now() }

func (s *Service) cutoffs(now time.Time) cutoffs {
	return cutoffs{auth: now.Add(-s.cfg.IdleTimeout), unauth: now.Add(-s.cfg.UnauthenticatedIdleTimeout)}
}

// idleTimeout is how long r may stay unused.
func (s *Service) idleTimeout(r *sessionRow) time.Duration {
	if r.userID == 0 {
		return s.cfg.UnauthenticatedIdleTimeout
	}
	return s.cfg.IdleTimeout
}

// newToken returns a fresh token: 32 random bytes, base64url without padding.
func newToken() (string, error) {
	var b [tokenBytes]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", errors.ServerGeneric(errors.Errorf("token: %w", err))
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// hashToken is the SHA-256 of token; ok is false when token cannot be one of
// ours, which spares the database a lookup.
func hashToken(token string) (h [tokenHashLen]byte, ok bool) {
	if len(token) != tokenLen {
		return h, false
	}
	if _, err := base64.RawURLEncoding.DecodeString(token); err != nil {
		return h, false
	}
	return sha256.Sum256([]byte(token)), true
}

// validLanguage accepts language tags such as de-DE or en-US.
func validLanguage(l string) bool {
	if len(l) < 2 || len(l) > 35 {
		return false
	}
	for i, part := range strings.Split(l, "-") {
		if len(part) == 0 || len(part) > 8 || (i == 0 && len(part) > 3) {
			return false
		}
		for _, c := range part {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9') {
				return false
			}
		}
	}
	return true
}

func languageError(l string) error {
	return errors.InvalidValue("language", "a language tag such as en-US expected, got "+strconv.Quote(l))
}

// Create starts a new, unauthenticated session. Anybody may create one.
func (s *Service) Create(ctx context.Context, language string) (*Session, error) {
	if language != "" && !validLanguage(language) {
		return nil, languageError(language)
	}
	token, err := newToken()
	if err != nil {
		return nil, err
	}
	hash := sha256.Sum256([]byte(token))
	epoch := s.sessions.Epoch()
	row, err := insertSession(ctx, s.db, hash[:], language, s.now())
	if err != nil {
		return nil, err
	}
	s.sessions.Put(hash, row, epoch)
	return &Session{ID: row.id, Token: token, Language: row.language, CreatedAt: row.createdAt,
		LastUsedAt: row.lastUsedAt}, nil
}

// Find returns the live session of token, authenticated or not, and counts
// the call as a use. An unknown or expired token is
// error.user.session_not_found with the token as id. A session whose user
// has been disabled is returned as not authenticated.
func (s *Service) Find(ctx context.Context, token string) (*Session, error) {
	row, err := s.findRow(ctx, token)
	if err != nil {
		return nil, err
	}
	return s.withPrincipal(ctx, token, row)
}

// findRow is the live session row of token, from the cache while it was
// written less than TouchInterval ago, else touched in the database.
func (s *Service) findRow(ctx context.Context, token string) (*sessionRow, error) {
	hash, ok := hashToken(token)
	if !ok {
		return nil, errors.SessionNotFound(token)
	}
	now := s.now()
	if r, ok := s.sessions.Get(hash); ok {
		age := now.Sub(r.lastUsedAt)
		if age < s.cfg.TouchInterval && age < s.idleTimeout(r) {
			return r, nil
		}
	}
	epoch := s.sessions.Epoch()
	r, err := touchSession(ctx, s.db, hash[:], s.cutoffs(now), now)
	if err != nil {
		return nil, err
	}
	if r == nil {
		// Drop only what is cached: every Drop costs concurrent loads
		// their Put, and unknown tokens are anybody's to send.
		if _, cached := s.sessions.Get(hash); cached {
			s.sessions.Drop(hash)
		}
		return nil, errors.SessionNotFound(token)
	}
	s.sessions.Put(hash, r, epoch)
	return r, nil
}

// withPrincipal turns a session row into a Session with its principal.
func (s *Service) withPrincipal(ctx context.Context, token string, r *sessionRow) (*Session, error) {
	sess := &Session{ID: r.id, Token: token, Language: r.language, CreatedAt: r.createdAt, LastUsedAt: r.lastUsedAt}
	if r.userID == 0 {
		return sess, nil
	}
	id, err := s.identity(ctx, r.userID)
	if err != nil {
		return nil, err
	}
	if id == nil { // the user is gone, and its sessions with it
		s.sessions.Drop(r.hash)
		return nil, errors.SessionNotFound(token)
	}
	sess.userLanguage = id.language
	if id.loginDisabled {
		return sess, nil
	}
	sess.UserID, sess.AuthMethod, sess.AuthenticatedAt, sess.Principal = r.userID, r.method, r.authAt, id.principal
	return sess, nil
}

// identity resolves a user id, from the cache or with one query.
func (s *Service) identity(ctx context.Context, userID int64) (*identity, error) {
	if id, ok := s.principals.Get(userID); ok {
		return id, nil
	}
	epoch := s.principals.Epoch()
	id, err := findIdentity(ctx, s.db, userID)
	if err != nil || id == nil {
		return nil, err
	}
	s.principals.Put(userID, id, epoch)
	return id, nil
}

// SetLanguage sets the frontend language of the session of token. Anybody
// holding the token may.
func (s *Service) SetLanguage(ctx context.Context, token, language string) (*Session, error) {
	if !validLanguage(language) {
		return nil, languageError(language)
	}
	r, err := s.findRow(ctx, token)
	if err != nil {
		return nil, err
	}
	if r.language != language {
		hash := r.hash
		err = s.db.InTx(ctx, func(tx *sql.Tx) error {
			if r, err = setSessionLanguage(ctx, tx, r.id, language); err != nil {
				return err
			}
			if r == nil {
				return errors.SessionNotFound(token)
			}
			return notifyToken(ctx, tx, r.hash[:])
		})
		s.sessions.Drop(hash)
		if err != nil {
			return nil, err
		}
	}
	return s.withPrincipal(ctx, token, r)
}

// Authenticate logs the session of token in with login and password, by the
// first usable method of methods (a comma-separated list; "" is "easydb").
// Anybody holding a token may try; see docs/sessions.md for the errors and
// the lockout.
func (s *Service) Authenticate(ctx context.Context, token, login, password, methods string) (*Session, error) {
	r, err := s.findRow(ctx, token)
	if err != nil {
		return nil, err
	}
	method, err := chooseMethod(methods)
	if err != nil {
		return nil, err
	}
	if login == "" || password == "" {
		return nil, errors.UsernameOrPasswordEmpty()
	}
	switch method {
	case MethodEasydb:
		r, err = s.authenticateEasydb(ctx, token, r, login, password)
	}
	if err != nil {
		return nil, err
	}
	return s.withPrincipal(ctx, token, r)
}

// chooseMethod validates a comma-separated method list and returns the
// method to use: every listed method must be one groupd offers, and they
// are tried in order (easydb being the only one, it is the choice).
func chooseMethod(list string) (string, error) {
	if list == "" {
		return MethodEasydb, nil
	}
	chosen := ""
	for _, m := range strings.Split(list, ",") {
		m = strings.TrimSpace(m)
		if m != MethodEasydb {
			return "", errors.AuthenticationMethodNotAllowed(m)
		}
		if chosen == "" {
			chosen = m
		}
	}
	return chosen, nil
}

// authenticateEasydb checks login and password in one transaction that
// holds the login's advisory lock, so that the lockout counts every attempt
// exactly once even when attempts arrive at once at several processes.
// Unknown logins and wrong passwords take the same path and the same time
// (an argon2id check against a dummy hash) and are both recorded.
func (s *Service) authenticateEasydb(ctx context.Context, token string, r *sessionRow, login, password string) (*sessionRow, error) {
	key := loginKey(login)
	tooLong := len(login) > maxLoginLen || len(password) > maxPasswordLen
	if tooLong { // checked against the dummy hash, and fails
		password = password[:min(len(password), maxPasswordLen)]
	}
	var (
		result  *sessionRow
		outcome error // a refusal: committed like a success, then returned
	)
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		now := s.now()
		lockout := s.cfg.LoginMaxFailures > 0
		if lockout {
			if err := lockLogin(ctx, tx, key); err != nil {
				return err
			}
			until, blocked, err := findBlockedUntil(ctx, tx, key, now.Add(-s.cfg.LoginFailureWindow),
				s.cfg.LoginMaxFailures, s.cfg.LoginFailureWindow)
			if err != nil {
				return err
			}
			if blocked {
				outcome = errors.LoginBlocked(formatUntil(until))
				return nil
			}
		}
		var u *loginUser
		if !tooLong {
			var err error
			if u, err = findLoginUser(ctx, tx, login); err != nil {
				return err
			}
		}
		hash := ""
		if u != nil {
			hash = u.passwordHash
		}
		if !checkOrDummy(hash, password) {
			outcome = errors.LoginFailed()
			if lockout {
				return insertLoginFailure(ctx, tx, key, now)
			}
			return nil
		}
		if u.loginDisabled {
			outcome = errors.LoginDisabled()
			return nil
		}
		if lockout {
			if err := deleteLoginFailures(ctx, tx, key); err != nil {
				return err
			}
		}
		var err error
		if result, err = setSessionUser(ctx, tx, r.id, u.id, MethodEasydb, now); err != nil {
			return err
		}
		if result == nil {
			outcome = errors.SessionNotFound(token)
			return nil
		}
		return notifyToken(ctx, tx, r.hash[:])
	})
	s.sessions.Drop(r.hash)
	if err != nil {
		return nil, err
	}
	return result, outcome
}

// formatUntil is t in RFC 3339, rounded up to the second so that the block
// has surely ended at the time given.
func formatUntil(t time.Time) string {
	if t2 := t.Truncate(time.Second); !t2.Equal(t) {
		t = t2.Add(time.Second)
	}
	return t.UTC().Format(time.RFC3339)
}

// Deauthenticate logs the session of token out; it stays valid, without a
// user. A session that is not authenticated is returned unchanged.
func (s *Service) Deauthenticate(ctx context.Context, token string) (*Session, error) {
	r, err := s.findRow(ctx, token)
	if err != nil {
		return nil, err
	}
	if r.userID == 0 {
		return s.withPrincipal(ctx, token, r)
	}
	hash := r.hash
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		var err error
		if r, err = setSessionUser(ctx, tx, r.id, 0, "", s.now()); err != nil {
			return err
		}
		if r == nil {
			return errors.SessionNotFound(token)
		}
		return notifyToken(ctx, tx, r.hash[:])
	})
	s.sessions.Drop(hash)
	if err != nil {
		return nil, err
	}
	return s.withPrincipal(ctx, token, r)
}

// --- janitor ----------------------------------------------------------------

func (s *Service) janitorLoop() {
	defer s.wg.Done()
	t := time.NewTicker(s.cfg.JanitorInterval)
	defer t.Stop()
	for {
		s.janitor()
		select {
		case <-s.stop:
			return
		case <-t.C:
		}
	}
}

// janitor deletes sessions that are no longer alive and login failures
// outside the window. Every process runs it; the deletes are idempotent.
func (s *Service) janitor() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	go func() {
		select {
		case <-s.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	now := s.now()
	n, err := deleteDeadSessions(ctx, s.db, s.cutoffs(now))
	if err == nil {
		err = deleteOldLoginFailures(ctx, s.db, now.Add(-s.cfg.LoginFailureWindow))
	}
	if err != nil && ctx.Err() == nil {
		s.log.Warn("session janitor", slog.Any("error", err))
	}
	if n > 0 {
		s.log.Debug("session janitor: deleted sessions", slog.Int64("count", n))
	}
}
