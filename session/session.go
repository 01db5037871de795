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
	"encoding/json"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/groupd/groupd/db"
	"github.com/groupd/groupd/errors"
	"github.com/groupd/groupd/passwords"
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
	// MaxLifetime: an authenticated session expires this long after it
	// logged in, however busy (30 days).
	MaxLifetime time.Duration
	// UnauthenticatedIdleTimeout: a pre-authentication token is valid this
	// long after it was issued, and a stored session that is not
	// authenticated (logged out, or given a language) expires when unused
	// this long (10 minutes; at most IdleTimeout).
	UnauthenticatedIdleTimeout time.Duration
	// NewSessionsPerMinute: how many sessions one client address may create
	// (GET /api/v1/session without a token) per minute and process (300).
	// Negative: no limit.
	NewSessionsPerMinute int

	// LoginMaxFailures failed logins for one login within LoginFailureWindow
	// block that login until the window has passed (5 in 15 minutes), except
	// from an address the login has logged in from (KnownAddressAge). A
	// negative LoginMaxFailures turns the lockout off.
	LoginMaxFailures   int
	LoginFailureWindow time.Duration
	// AddressMaxFailures failed logins from one client address within
	// LoginFailureWindow block that address, for every login (30). Negative:
	// no limit.
	AddressMaxFailures int
	// KnownAddressAge: after a successful login from an address, the
	// per-login lockout spares that login at that address this long (30
	// days). Negative: spare no address.
	KnownAddressAge time.Duration
	// LoginQueue: how many login attempts may wait for or hold one of the
	// password-hashing slots at once; beyond it attempts are refused with
	// error.user.login_blocked at once (64).
	LoginQueue int
	// ClientAddressHeader names the header from which a reverse proxy in
	// front of groupd passes the client's address (e.g. X-Forwarded-For);
	// empty: the connection's peer address (ClientAddress).
	ClientAddressHeader string

	// MinPasswordLength: the fewest characters a new password may have,
	// root's included (8).
	MinPasswordLength int

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
	def(&c.MaxLifetime, 30*24*time.Hour)
	def(&c.UnauthenticatedIdleTimeout, 10*time.Minute)
	c.UnauthenticatedIdleTimeout = min(c.UnauthenticatedIdleTimeout, c.IdleTimeout)
	defInt := func(n *int, v int) {
		if *n == 0 {
			*n = v
		}
	}
	defInt(&c.NewSessionsPerMinute, 300)
	defInt(&c.LoginMaxFailures, 5)
	defInt(&c.AddressMaxFailures, 30)
	defInt(&c.LoginQueue, 64)
	defInt(&c.MinPasswordLength, 8)
	def(&c.LoginFailureWindow, 15*time.Minute)
	if c.KnownAddressAge == 0 {
		c.KnownAddressAge = 30 * 24 * time.Hour
	}
	def(&c.TouchInterval, time.Minute)
	c.TouchInterval = min(c.TouchInterval, c.UnauthenticatedIdleTimeout/10)
	def(&c.JanitorInterval, time.Minute)
	def(&c.CacheResetInterval, 5*time.Minute)
	if c.CacheSize <= 0 {
		c.CacheSize = 100000
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
	// APITokenID is the API token the request was made with (apitoken.go);
	// 0 for a session.
	APITokenID int64
	// ReadOnly: the API token may only read (RequireAuth refuses writes).
	ReadOnly bool
	// scopedRights: the API token is limited to some system rights, so
	// Principal.SystemRights are the token's, not the user's.
	scopedRights bool

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
	db    *db.DB
	users Users
	cfg   Config
	log   *slog.Logger

	sessions   *cache[[tokenHashLen]byte, *sessionRow]
	principals *cache[int64, *identity]
	// apiTokens caches API tokens by the hash of their secret, scoped the
	// narrowed principals of scoped tokens by token id (apitoken.go).
	apiTokens *cache[[tokenHashLen]byte, *apiTokenRow]
	scoped    *cache[int64, *scopedEntry]

	// preauthKey signs pre-authentication tokens (preauth.go).
	preauthKey []byte
	// newSessions limits session creation per client address.
	newSessions *rateLimiter
	// loginQueue holds a place for every login attempt that waits for or
	// holds a hash slot; when it is full, attempts are refused.
	loginQueue chan struct{}

	listener  *pq.Listener
	stop      chan struct{}
	wg        sync.WaitGroup
	closeOnce sync.Once
}

// Users is what session asks about users, whose tables it neither reads
// nor writes: package user owns them. The wiring passes user.Logins; session
// does not import user. Each method reads on q, session's transaction when
// the read belongs to it (a login reads the credentials in the transaction
// that counts its failure), else the database.
type Users interface {
	// Credentials are the credentials of the user a login names (its login,
	// else an e-mail address marked use_for_login); nil if none.
	Credentials(ctx context.Context, q db.Querier, login string) (*passwords.Credentials, error)
	// CredentialsByID are the credentials of user id; nil if it is gone.
	CredentialsByID(ctx context.Context, q db.Querier, id int64) (*passwords.Credentials, error)
	// LoginName is what user id logs in with ("" if nothing or gone).
	LoginName(ctx context.Context, q db.Querier, id int64) (string, error)
	// Principal resolves user id into its principal, with its
	// login_disabled and frontend_language; p is nil when it is gone.
	Principal(ctx context.Context, q db.Querier, id int64) (p *policy.Principal, loginDisabled bool, language string, err error)
	// SessionView is the session body's user and groups (short formats),
	// read fresh; ok is false when the user is gone.
	SessionView(ctx context.Context, q db.Querier, userID int64, groupIDs []int64) (user, groups json.RawMessage, ok bool, err error)
}

// New starts the session service on d: it starts listening for
// invalidations and starts the janitor. users answers its questions about
// users. Close stops it.
func New(d *db.DB, users Users, cfg Config, log *slog.Logger) (*Service, error) {
	if users == nil {
		return nil, errors.Errorf("session: no Users given")
	}
	if log == nil {
		log = slog.Default()
	}
	cfg = cfg.withDefaults()
	s := &Service{
		db:         d,
		users:      users,
		cfg:        cfg,
		log:        log,
		sessions:   newCache[[tokenHashLen]byte, *sessionRow](cfg.CacheSize),
		principals: newCache[int64, *identity](cfg.CacheSize),
		apiTokens:  newCache[[tokenHashLen]byte, *apiTokenRow](cfg.CacheSize),
		scoped:     newCache[int64, *scopedEntry](cfg.CacheSize),
		stop:       make(chan struct{}),
		// A minute per refill of the bucket; 100,000 addresses bound its memory to a
		// few MiB.
		newSessions: newRateLimiter(cfg.NewSessionsPerMinute, time.Minute, 100000),
		loginQueue:  make(chan struct{}, max(cfg.LoginQueue, 1)),
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var err error
	if s.preauthKey, err = loadServerKey(ctx, d, preauthKeyName); err != nil {
		return nil, err
	}
	passwords.Dummy()
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
	return cutoffs{auth: now.Add(-s.cfg.IdleTimeout), unauth: now.Add(-s.cfg.UnauthenticatedIdleTimeout),
		authenticatedSince: now.Add(-s.cfg.MaxLifetime)}
}

// alive reports whether r may still be used at now without asking the
// database: it was used within its idle timeout, and an authenticated one
// is within its lifetime.
func (s *Service) alive(r *sessionRow, now time.Time) bool {
	if r.userID == 0 {
		return now.Sub(r.lastUsedAt) < s.cfg.UnauthenticatedIdleTimeout
	}
	return now.Sub(r.lastUsedAt) < s.cfg.IdleTimeout && now.Sub(r.authAt) < s.cfg.MaxLifetime
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

// Create starts a new, unauthenticated session for a client at address
// (ClientAddress). Anybody may create one, but one address only
// NewSessionsPerMinute a minute. Without a language nothing is stored: the
// token is a pre-authentication token (preauth.go). With a language the
// session is stored, as it must keep the language.
func (s *Service) Create(ctx context.Context, language, address string) (*Session, error) {
	if language != "" && !validLanguage(language) {
		return nil, languageError(language)
	}
	now := s.now()
	if ok, until := s.newSessions.allow(address, now); !ok {
		return nil, errors.LoginBlocked(formatUntil(until), BlockedNewSessions)
	}
	if language == "" {
		token, err := s.newPreauthToken(now)
		if err != nil {
			return nil, err
		}
		issued := time.UnixMilli(now.UnixMilli())
		return &Session{Token: token, CreatedAt: issued, LastUsedAt: issued}, nil
	}
	token, err := newToken()
	if err != nil {
		return nil, err
	}
	hash := sha256.Sum256([]byte(token))
	epoch := s.sessions.Epoch()
	row, err := insertSession(ctx, s.db, hash[:], language, now)
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
//
// An API token (APITokenPrefix) is found as the authenticated session of
// its user, narrowed by its scope, used from ClientAddressFrom(ctx); an
// unknown, revoked or expired one, or one whose user is disabled, is
// error.user.session_not_found without the secret.
func (s *Service) Find(ctx context.Context, token string) (*Session, error) {
	if IsAPIToken(token) {
		return s.findAPIToken(ctx, token, ClientAddressFrom(ctx))
	}
	row, err := s.findRow(ctx, token)
	if err != nil {
		return nil, err
	}
	return s.withPrincipal(ctx, token, row)
}

// findRow is the live session row of token, from the cache while it was
// written less than TouchInterval ago, else touched in the database; for a
// live pre-authentication token that is not stored, a row with id 0.
func (s *Service) findRow(ctx context.Context, token string) (*sessionRow, error) {
	if IsAPIToken(token) { // an API token is no session to log in, out, or give a language
		return nil, errors.SessionNotFound(redactedToken)
	}
	hash, ok := hashToken(token)
	if !ok {
		return nil, errors.SessionNotFound(token)
	}
	now := s.now()
	if r, ok := s.sessions.Get(hash); ok {
		if now.Sub(r.lastUsedAt) < s.cfg.TouchInterval && s.alive(r, now) {
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
		if preauthRow := s.preauthRow(token, hash, now); preauthRow != nil {
			spent, err := isPreauthSpent(ctx, s.db, hash[:])
			if err != nil {
				return nil, err
			}
			if !spent {
				return preauthRow, nil
			}
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
	p, loginDisabled, language, err := s.users.Principal(ctx, s.db, userID)
	if err != nil || p == nil {
		return nil, err
	}
	id := &identity{principal: p, loginDisabled: loginDisabled, language: language}
	s.principals.Put(userID, id, epoch)
	return id, nil
}

// SetLanguage sets the frontend language of the session of token. Anybody
// holding the token may. A pre-authentication token's session is stored
// by it, which counts as creating a session for address.
func (s *Service) SetLanguage(ctx context.Context, token, language, address string) (*Session, error) {
	if !validLanguage(language) {
		return nil, languageError(language)
	}
	r, err := s.findRow(ctx, token)
	if err != nil {
		return nil, err
	}
	if r.id == 0 {
		if ok, until := s.newSessions.allow(address, s.now()); !ok {
			return nil, errors.LoginBlocked(formatUntil(until), BlockedNewSessions)
		}
	}
	if r.id == 0 || r.language != language {
		hash := r.hash
		err = s.db.InTx(ctx, func(tx *sql.Tx) error {
			if r.id == 0 {
				if err = spendPreauth(ctx, tx, hash[:], r.createdAt.Add(s.cfg.UnauthenticatedIdleTimeout)); err != nil {
					return err
				}
				r, err = upsertSessionLanguage(ctx, tx, hash[:], language, r.createdAt, s.now())
			} else {
				r, err = setSessionLanguage(ctx, tx, r.id, language)
			}
			if err != nil {
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
// first usable method of methods (a comma-separated list; "" is "easydb"),
// for a client at address (ClientAddress; "" when unknown). Anybody holding
// a token may try; see docs/sessions.md for the errors and the limits.
func (s *Service) Authenticate(ctx context.Context, token, login, password, methods, address string) (*Session, error) {
	// Shed load first: a refused attempt costs no query.
	release, err := s.enterLoginQueue()
	if err != nil {
		return nil, err
	}
	defer release()
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
		r, err = s.authenticateEasydb(ctx, token, r, login, password, address)
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

// authenticateEasydb checks login and password (checkLogin) and, in the
// transaction that records the success, puts the user into the session: a
// pre-authentication token's session is stored now, under the token's hash.
func (s *Service) authenticateEasydb(ctx context.Context, token string, r *sessionRow, login, password, address string) (*sessionRow, error) {
	var result *sessionRow
	err := s.checkLogin(ctx, login, password, address, func(tx *sql.Tx, u *passwords.Credentials, now time.Time) error {
		var err error
		if r.id == 0 {
			if err = spendPreauth(ctx, tx, r.hash[:], r.createdAt.Add(s.cfg.UnauthenticatedIdleTimeout)); err != nil {
				return err
			}
			result, err = upsertSessionUser(ctx, tx, r.hash[:], u.UserID, MethodEasydb, r.createdAt, now)
		} else {
			result, err = setSessionUser(ctx, tx, r.id, u.UserID, MethodEasydb, now)
		}
		if err != nil {
			return err
		}
		if result == nil {
			return errors.SessionNotFound(token)
		}
		return notifyToken(ctx, tx, r.hash[:])
	})
	s.sessions.Drop(r.hash)
	if err != nil {
		return nil, err
	}
	return result, nil
}

// The reasons of error.user.login_blocked, its parameter reason.
const (
	BlockedLogin       = "login"        // the per-login lockout
	BlockedAddress     = "address"      // the per-address limit on failed logins
	BlockedBusy        = "busy"         // the login queue is full
	BlockedNewSessions = "new_sessions" // the per-address limit on new sessions
)

// enterLoginQueue takes a place in the login queue, or refuses at once with
// error.user.login_blocked (reason busy) when it is full: the queue bounds
// how many attempts wait for a hash slot. release gives the place back.
func (s *Service) enterLoginQueue() (release func(), err error) {
	select {
	case s.loginQueue <- struct{}{}:
		return func() { <-s.loginQueue }, nil
	default:
		return nil, errors.LoginBlocked(formatUntil(s.now().Add(time.Second)), BlockedBusy)
	}
}

// checkLogin decides a login attempt of login with password from address
// and, when the password is right, runs onSuccess in the transaction that
// records the success. Unknown logins and wrong passwords take the same
// path and the same time (an argon2id check against a dummy hash). The
// caller holds a place in the login queue (enterLoginQueue).
//
// The password is hashed outside any transaction, holding no database
// connection, in three steps:
//
//  1. (The caller's place in the login queue.)
//  2. A short transaction that holds the login's advisory lock (and the
//     address's): it checks the per-address limit and, unless the address
//     is one this login has logged in from, the per-login lockout; reads the
//     user; and records a failure in advance. Attempts on one login are thus
//     counted exactly, across all processes, and a blocked burst costs no
//     hashing.
//  3. The hash. Wrong: the failure stays recorded. Right: a second
//     transaction withdraws the failure, clears the login's failures from
//     this address, remembers the address, and runs onSuccess, unless the
//     user was disabled or its password changed meanwhile.
func (s *Service) checkLogin(ctx context.Context, login, password, address string,
	onSuccess func(tx *sql.Tx, u *passwords.Credentials, now time.Time) error) error {
	key := loginKey(login)
	tooLong := len(login) > maxLoginLen || len(password) > maxPasswordLen
	if tooLong { // checked against the dummy hash, and fails
		password = password[:min(len(password), maxPasswordLen)]
	}
	lockout := s.cfg.LoginMaxFailures > 0
	perAddress := s.cfg.AddressMaxFailures > 0 && address != ""
	counting := lockout || perAddress
	var (
		u        *passwords.Credentials
		reserved int64
		outcome  error // a refusal: committed, then returned
	)
	if counting {
		err := s.db.InTx(ctx, func(tx *sql.Tx) error {
			now := s.now()
			since := now.Add(-s.cfg.LoginFailureWindow)
			if err := lockLogin(ctx, tx, key); err != nil {
				return err
			}
			if perAddress {
				if err := lockAddress(ctx, tx, address); err != nil {
					return err
				}
				until, blocked, err := findAddressBlockedUntil(ctx, tx, address, since, s.cfg.AddressMaxFailures,
					s.cfg.LoginFailureWindow)
				if err != nil {
					return err
				}
				if blocked {
					outcome = errors.LoginBlocked(formatUntil(until), BlockedAddress)
					return nil
				}
			}
			if lockout {
				known := false
				if address != "" && s.cfg.KnownAddressAge > 0 {
					var err error
					if known, err = isKnownAddress(ctx, tx, key, address, now.Add(-s.cfg.KnownAddressAge)); err != nil {
						return err
					}
				}
				if !known {
					until, blocked, err := findBlockedUntil(ctx, tx, key, since, s.cfg.LoginMaxFailures,
						s.cfg.LoginFailureWindow)
					if err != nil {
						return err
					}
					if blocked {
						outcome = errors.LoginBlocked(formatUntil(until), BlockedLogin)
						return nil
					}
				}
			}
			if !tooLong {
				var err error
				if u, err = s.users.Credentials(ctx, tx, login); err != nil {
					return err
				}
			}
			var err error
			reserved, err = insertLoginFailure(ctx, tx, key, address, now)
			return err
		})
		if err != nil {
			return err
		}
		if outcome != nil {
			return outcome
		}
	} else if !tooLong {
		var err error
		if u, err = s.users.Credentials(ctx, s.db, login); err != nil {
			return err
		}
	}

	hash := ""
	if u != nil {
		hash = u.Hash
	}
	ok, err := passwords.CheckOrDummy(ctx, hash, password)
	if err != nil { // the request ended while it waited for a hash slot
		return errors.LoginBlocked(formatUntil(s.now().Add(time.Second)), BlockedBusy)
	}
	if !ok {
		return errors.LoginFailed()
	}
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		now := s.now()
		cur, credentialsErr := s.users.CredentialsByID(ctx, tx, u.UserID)
		if credentialsErr != nil {
			return credentialsErr
		}
		if cur == nil || cur.Hash != u.Hash { // gone, or the password changed while hashing
			outcome = errors.LoginFailed()
			return nil
		}
		if cur.LoginDisabled { // not a failure: the password was right
			outcome = errors.LoginDisabled()
			if counting {
				return deleteLoginFailure(ctx, tx, reserved)
			}
			return nil
		}
		if counting {
			if deleteLoginFailuresErr := deleteLoginFailures(ctx, tx, key, address); deleteLoginFailuresErr != nil {
				return deleteLoginFailuresErr
			}
			if address != "" && s.cfg.KnownAddressAge > 0 {
				if rememberAddressErr := rememberAddress(ctx, tx, key, address, now); rememberAddressErr != nil {
					return rememberAddressErr
				}
			}
		}
		return onSuccess(tx, cur, now)
	})
	if err != nil {
		return err
	}
	return outcome
}

// VerifyPassword checks that password is the current password of user
// userID, as a login of that user from the request's client address
// (ClientAddressFrom(ctx)) would, limits and lockout included:
// error.user.login_failed when it is not, error.user.login_blocked when the
// login or the address is blocked. The user API asks it before a user
// changes its own password.
func (s *Service) VerifyPassword(ctx context.Context, userID int64, password string) error {
	address := ClientAddressFrom(ctx)
	login, err := s.users.LoginName(ctx, s.db, userID)
	if err != nil {
		return err
	}
	if password == "" {
		return errors.LoginFailed()
	}
	release, err := s.enterLoginQueue()
	if err != nil {
		return err
	}
	defer release()
	return s.checkLogin(ctx, login, password, address, func(tx *sql.Tx, u *passwords.Credentials, now time.Time) error {
		if u.UserID != userID {
			return errors.LoginFailed()
		}
		return nil
	})
}

// CheckNewPassword refuses a new password shorter than MinPasswordLength
// characters (error.api.invalid_value on attribute).
func (s *Service) CheckNewPassword(attribute, password string) error {
	return passwords.CheckLength(attribute, password, s.cfg.MinPasswordLength)
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
		var setUserErr error
		if r, setUserErr = setSessionUser(ctx, tx, r.id, 0, "", s.now()); setUserErr != nil {
			return setUserErr
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
	if err == nil {
		err = deleteSpentPreauth(ctx, s.db, now)
	}
	if err == nil {
		err = deleteExpiredAPITokens(ctx, s.db, now)
	}
	if err == nil && s.cfg.KnownAddressAge > 0 {
		err = deleteOldLoginAddresses(ctx, s.db, now.Add(-s.cfg.KnownAddressAge))
	}
	if err != nil && ctx.Err() == nil {
		s.log.Warn("session janitor", slog.Any("error", err))
	}
	if n > 0 {
		s.log.Debug("session janitor: deleted sessions", slog.Int64("count", n))
	}
}
