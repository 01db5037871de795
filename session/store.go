package session

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/groupd/groupd/errors"
	"github.com/groupd/groupd/policy"
)

// The SQL of the package. Helpers take a querier: a *sql.Tx when a service
// method needs several statements to be atomic, the *sql.DB itself for the
// single statements of the hot path (a transaction would only add two round
// trips to them).

type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// sessionRow is a row of sessions. Once cached it is never modified.
type sessionRow struct {
	id         int64
	hash       [tokenHashLen]byte
	userID     int64 // 0: not authenticated
	method     string
	authAt     time.Time
	language   string
	createdAt  time.Time
	lastUsedAt time.Time
}

const sessionColumns = `id, token_hash, COALESCE(user_id, 0), COALESCE(auth_method, ''),
	COALESCE(authenticated_at, 'epoch'), COALESCE(language, ''), created_at, last_used_at`

func scanSession(row interface{ Scan(...any) error }) (*sessionRow, error) {
	var r sessionRow
	var hash []byte
	err := row.Scan(&r.id, &hash, &r.userID, &r.method, &r.authAt, &r.language, &r.createdAt, &r.lastUsedAt)
	if err != nil {
		return nil, err
	}
	copy(r.hash[:], hash)
	return &r, nil
}

// cutoffs: a session is alive when last_used_at is after auth (after unauth
// when it is not authenticated) and, when authenticated, authenticated_at is
// after authenticatedSince (the absolute lifetime).
type cutoffs struct{ auth, unauth, authenticatedSince time.Time }

func insertSession(ctx context.Context, q querier, hash []byte, language string, now time.Time) (*sessionRow, error) {
	row := q.QueryRowContext(ctx, `INSERT INTO sessions (token_hash, language, created_at, last_used_at)
		VALUES ($1, NULLIF($2, ''), $3, $3) RETURNING `+sessionColumns, hash, language, now)
	r, err := scanSession(row)
	if err != nil {
		return nil, errors.Database(err)
	}
	return r, nil
}

// touchSession marks the live session with token hash as used at now and
// returns it; nil when there is no such live session.
func touchSession(ctx context.Context, q querier, hash []byte, c cutoffs, now time.Time) (*sessionRow, error) {
	row := q.QueryRowContext(ctx, `UPDATE sessions SET last_used_at = GREATEST(last_used_at, $4)
		WHERE token_hash = $1
		AND last_used_at > CASE WHEN user_id IS NULL THEN $3::timestamptz ELSE $2::timestamptz END
		AND (user_id IS NULL OR authenticated_at > $5)
		RETURNING `+sessionColumns, hash, c.auth, c.unauth, now, c.authenticatedSince)
	r, err := scanSession(row)
	if err == sql.ErrNoRows {
		return nil, nil
	}
	if err != nil {
		return nil, errors.Database(err)
	}
	return r, nil
}

// spendPreauth records that the pre-authentication token with hash is now
// a stored session, until expires, when the token would be dead anyway.
func spendPreauth(ctx context.Context, tx *sql.Tx, hash []byte, expires time.Time) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO preauth_spent (token_hash, expires_at) VALUES ($1, $2)
		ON CONFLICT (token_hash) DO NOTHING`, hash, expires); err != nil {
		return errors.Database(err)
	}
	return nil
}

// isPreauthSpent reports whether the pre-authentication token with hash has
// been stored as a session (which may be gone since).
func isPreauthSpent(ctx context.Context, q querier, hash []byte) (bool, error) {
	var spent bool
	if err := q.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM preauth_spent WHERE token_hash = $1)`, hash).
		Scan(&spent); err != nil {
		return false, errors.Database(err)
	}
	return spent, nil
}

func deleteSpentPreauth(ctx context.Context, q querier, now time.Time) error {
	if _, err := q.ExecContext(ctx, `DELETE FROM preauth_spent WHERE expires_at <= $1`, now); err != nil {
		return errors.Database(err)
	}
	return nil
}

// upsertSessionUser stores the session of a pre-authentication token with
// hash, authenticated as userID with method at at; when two requests
// authenticate one token at once, the later one's user wins, as with a
// stored session.
func upsertSessionUser(ctx context.Context, q querier, hash []byte, userID int64, method string, created, at time.Time) (*sessionRow, error) {
	row := q.QueryRowContext(ctx, `INSERT INTO sessions (token_hash, user_id, auth_method, authenticated_at,
			created_at, last_used_at) VALUES ($1, $2, $3, $5, $4, $5)
		ON CONFLICT (token_hash) DO UPDATE SET user_id = EXCLUDED.user_id, auth_method = EXCLUDED.auth_method,
			authenticated_at = EXCLUDED.authenticated_at,
			last_used_at = GREATEST(sessions.last_used_at, EXCLUDED.last_used_at)
		RETURNING `+sessionColumns, hash, userID, method, created, at)
	r, err := scanSession(row)
	if err != nil {
		return nil, errors.Database(err)
	}
	return r, nil
}

// upsertSessionLanguage stores the session of a pre-authentication token
// with hash, with language.
func upsertSessionLanguage(ctx context.Context, q querier, hash []byte, language string, created, now time.Time) (*sessionRow, error) {
	row := q.QueryRowContext(ctx, `INSERT INTO sessions (token_hash, language, created_at, last_used_at)
			VALUES ($1, $2, $3, $4)
		ON CONFLICT (token_hash) DO UPDATE SET language = EXCLUDED.language,
			last_used_at = GREATEST(sessions.last_used_at, EXCLUDED.last_used_at)
		RETURNING `+sessionColumns, hash, language, created, now)
	r, err := scanSession(row)
	if err != nil {
		return nil, errors.Database(err)
	}
	return r, nil
}

// setSessionUser authenticates session id as userID with method at at, or
// deauthenticates it when userID is 0.
func setSessionUser(ctx context.Context, q querier, id, userID int64, method string, at time.Time) (*sessionRow, error) {
	row := q.QueryRowContext(ctx, `UPDATE sessions SET user_id = NULLIF($2, 0), auth_method = NULLIF($3, ''),
		authenticated_at = CASE WHEN $2 = 0 THEN NULL ELSE $4::timestamptz END,
		last_used_at = GREATEST(last_used_at, $4)
		WHERE id = $1 RETURNING `+sessionColumns, id, userID, method, at)
	r, err := scanSession(row)
	if err == sql.ErrNoRows {
		return nil, nil
	}
	if err != nil {
		return nil, errors.Database(err)
	}
	return r, nil
}

func setSessionLanguage(ctx context.Context, q querier, id int64, language string) (*sessionRow, error) {
	row := q.QueryRowContext(ctx, `UPDATE sessions SET language = $2 WHERE id = $1 RETURNING `+sessionColumns,
		id, language)
	r, err := scanSession(row)
	if err == sql.ErrNoRows {
		return nil, nil
	}
	if err != nil {
		return nil, errors.Database(err)
	}
	return r, nil
}

// deleteDeadSessions deletes, in batches, sessions that are no longer alive.
func deleteDeadSessions(ctx context.Context, q querier, c cutoffs) (int64, error) {
	const batch = 5000
	var total int64
	for {
		res, err := q.ExecContext(ctx, `DELETE FROM sessions WHERE id IN (
			SELECT id FROM sessions WHERE last_used_at <= $2 AND (user_id IS NULL OR last_used_at <= $1)
			UNION ALL
			SELECT id FROM sessions WHERE user_id IS NOT NULL AND authenticated_at <= $4
			LIMIT $3)`,
			c.auth, c.unauth, batch, c.authenticatedSince)
		if err != nil {
			return total, errors.Database(err)
		}
		n, _ := res.RowsAffected()
		total += n
		if n < batch {
			return total, nil
		}
	}
}

// --- login ------------------------------------------------------------------

// loginLockClass namespaces the per-login advisory locks ("log").
const loginLockClass = 0x6c6f67

// lockLogin serialises, until the end of tx, every attempt on the same login
// key across all processes, so that counting and recording failures cannot
// interleave.
func lockLogin(ctx context.Context, tx *sql.Tx, key string) error {
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1, hashtext($2))`, loginLockClass, key); err != nil {
		return errors.Database(err)
	}
	return nil
}

// findBlockedUntil reports until when key is blocked: when at least max
// failures lie after since, the block lasts until the max-th newest of them
// leaves the window.
func findBlockedUntil(ctx context.Context, tx *sql.Tx, key string, since time.Time, max int, window time.Duration) (time.Time, bool, error) {
	var at time.Time
	err := tx.QueryRowContext(ctx, `SELECT at FROM login_failures WHERE login = $1 AND at > $2
		ORDER BY at DESC OFFSET $3 LIMIT 1`, key, since, max-1).Scan(&at)
	if err == sql.ErrNoRows {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, errors.Database(err)
	}
	return at.Add(window), true, nil
}

// addressLockClass namespaces the per-address advisory locks ("adr").
const addressLockClass = 0x616472

// lockAddress serialises, until the end of tx, the attempts from one client
// address, so that the per-address limit counts exactly. Always taken after
// the login's lock, never before: no two attempts wait for each other in a
// cycle.
func lockAddress(ctx context.Context, tx *sql.Tx, address string) error {
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1, hashtext($2))`, addressLockClass, address); err != nil {
		return errors.Database(err)
	}
	return nil
}

// findAddressBlockedUntil is findBlockedUntil for the failures from address,
// whatever their login.
func findAddressBlockedUntil(ctx context.Context, tx *sql.Tx, address string, since time.Time, max int, window time.Duration) (time.Time, bool, error) {
	var at time.Time
	err := tx.QueryRowContext(ctx, `SELECT at FROM login_failures WHERE address = $1 AND at > $2
		ORDER BY at DESC OFFSET $3 LIMIT 1`, address, since, max-1).Scan(&at)
	if err == sql.ErrNoRows {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, errors.Database(err)
	}
	return at.Add(window), true, nil
}

// insertLoginFailure records a failure of key from address ("" unknown)
// and returns its id.
func insertLoginFailure(ctx context.Context, tx *sql.Tx, key, address string, at time.Time) (int64, error) {
	var id int64
	err := tx.QueryRowContext(ctx, `INSERT INTO login_failures (login, address, at) VALUES ($1, NULLIF($2, ''), $3)
		RETURNING id`, key, address, at).Scan(&id)
	if err != nil {
		return 0, errors.Database(err)
	}
	return id, nil
}

// deleteLoginFailure withdraws one recorded failure.
func deleteLoginFailure(ctx context.Context, tx *sql.Tx, id int64) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM login_failures WHERE id = $1`, id); err != nil {
		return errors.Database(err)
	}
	return nil
}

// deleteLoginFailures clears the failures of key from address ("" unknown).
func deleteLoginFailures(ctx context.Context, tx *sql.Tx, key, address string) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM login_failures WHERE login = $1
		AND address IS NOT DISTINCT FROM NULLIF($2, '')`, key, address); err != nil {
		return errors.Database(err)
	}
	return nil
}

func deleteOldLoginFailures(ctx context.Context, q querier, before time.Time) error {
	if _, err := q.ExecContext(ctx, `DELETE FROM login_failures WHERE at <= $1`, before); err != nil {
		return errors.Database(err)
	}
	return nil
}

// isKnownAddress reports whether key has logged in successfully from
// address after since.
func isKnownAddress(ctx context.Context, tx *sql.Tx, key, address string, since time.Time) (bool, error) {
	var known bool
	err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM login_addresses
		WHERE login = $1 AND address = $2 AND last_success > $3)`, key, address, since).Scan(&known)
	if err != nil {
		return false, errors.Database(err)
	}
	return known, nil
}

// rememberAddress records that key logged in successfully from address at.
func rememberAddress(ctx context.Context, tx *sql.Tx, key, address string, at time.Time) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO login_addresses (login, address, last_success) VALUES ($1, $2, $3)
		ON CONFLICT (login, address) DO UPDATE SET last_success = GREATEST(login_addresses.last_success, EXCLUDED.last_success)`,
		key, address, at); err != nil {
		return errors.Database(err)
	}
	return nil
}

func deleteOldLoginAddresses(ctx context.Context, q querier, before time.Time) error {
	if _, err := q.ExecContext(ctx, `DELETE FROM login_addresses WHERE last_success <= $1`, before); err != nil {
		return errors.Database(err)
	}
	return nil
}

// loginKey is the lockout's key for login: lower case, at most maxLoginLen
// bytes, and storable as text (invalid UTF-8 and NUL become U+FFFD), so that
// every login a client can send, even one no user can have, is counted
// like an unknown login instead of failing in PostgreSQL.
func loginKey(login string) string {
	key := strings.ToLower(login)
	key = key[:min(len(key), maxLoginLen)]
	return strings.ReplaceAll(strings.ToValidUTF8(key, "\uFFFD"), "\x00", "\uFFFD")
}

// --- the principal ----------------------------------------------------------

// identity is what a session's user id resolves to. Once cached it is never
// modified.
type identity struct {
	principal     *policy.Principal
	loginDisabled bool
	language      string // the user's frontend_language
}
