package session

import (
	"context"
	"database/sql"
	"encoding/json"
	"github.com/groupd/groupd/rights"
	"time"

	"github.com/groupd/groupd/errors"
)

// The SQL of API tokens (apitoken.go). The table api_tokens belongs to this
// package.

const apiTokenColumns = `id, user_id, name, read_only, system_rights, created_at,
	COALESCE(expires_at, 'epoch'), COALESCE(last_used_at, 'epoch'), COALESCE(last_used_address, ''), token_hash`

// noTime is what a NULL timestamp reads as (COALESCE to 'epoch').
var noTime = time.Unix(0, 0)

func scanAPIToken(row interface{ Scan(...any) error }) (*apiTokenRow, error) {
	var (
		r      apiTokenRow
		scope  []byte
		hash   []byte
		expiry time.Time
		used   time.Time
	)
	if err := row.Scan(&r.ID, &r.UserID, &r.Name, &r.ReadOnly, &scope, &r.CreatedAt, &expiry, &used,
		&r.LastUsedAddress, &hash); err != nil {
		return nil, err
	}
	if !expiry.Equal(noTime) {
		r.ExpiresAt = expiry
	}
	if !used.Equal(noTime) {
		r.LastUsedAt = used
	}
	if scope != nil {
		m, err := rights.DecodeStored(scope)
		if err != nil {
			return nil, errors.Errorf("api token %d system_rights: %w", r.ID, err)
		}
		r.SystemRights = m
	}
	copy(r.hash[:], hash)
	return &r, nil
}

func insertAPIToken(ctx context.Context, tx *sql.Tx, userID int64, name string, hash []byte, scope APITokenScope,
	now, expires time.Time) (*APIToken, error) {
	var rightsJSON any
	if scope.SystemRights != nil {
		b, err := json.Marshal(scope.SystemRights)
		if err != nil {
			return nil, errors.ServerGeneric(err)
		}
		rightsJSON = b
	}
	var expiresAt any
	if !expires.IsZero() {
		expiresAt = expires
	}
	r, err := scanAPIToken(tx.QueryRowContext(ctx, `INSERT INTO api_tokens (user_id, name, token_hash, read_only,
			system_rights, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
		RETURNING `+apiTokenColumns, userID, name, hash, scope.ReadOnly, rightsJSON, now, expiresAt))
	if err != nil {
		return nil, errors.Database(err)
	}
	return &r.APIToken, nil
}

// touchAPIToken records that the live token with hash was used at now from
// address and returns it; nil when there is no such token or it has expired.
func touchAPIToken(ctx context.Context, q querier, hash []byte, now time.Time, address string) (*apiTokenRow, error) {
	r, err := scanAPIToken(q.QueryRowContext(ctx, `UPDATE api_tokens SET
			last_used_at = GREATEST(last_used_at, $2), last_used_address = COALESCE(NULLIF($3, ''), last_used_address)
		WHERE token_hash = $1 AND (expires_at IS NULL OR expires_at > $2)
		RETURNING `+apiTokenColumns, hash, now, address))
	if err == sql.ErrNoRows {
		return nil, nil
	}
	if err != nil {
		return nil, errors.Database(err)
	}
	return r, nil
}

// deleteAPIToken deletes token id and returns it with its hash; nil if
// there is none.
func deleteAPIToken(ctx context.Context, tx *sql.Tx, id int64) (*APIToken, []byte, error) {
	r, err := scanAPIToken(tx.QueryRowContext(ctx, `DELETE FROM api_tokens WHERE id = $1 RETURNING `+apiTokenColumns, id))
	if err == sql.ErrNoRows {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, errors.Database(err)
	}
	return &r.APIToken, r.hash[:], nil
}

// listAPITokens lists the tokens of userID, oldest first (at most
// MaxAPITokensPerUser exist).
func listAPITokens(ctx context.Context, q querier, userID int64) ([]APIToken, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+apiTokenColumns+` FROM api_tokens WHERE user_id = $1 ORDER BY id`,
		userID)
	if err != nil {
		return nil, errors.Database(err)
	}
	defer rows.Close()
	out := []APIToken{}
	for rows.Next() {
		r, err := scanAPIToken(rows)
		if err != nil {
			return nil, errors.Database(err)
		}
		out = append(out, r.APIToken)
	}
	if err := rows.Err(); err != nil {
		return nil, errors.Database(err)
	}
	return out, nil
}

// deleteExpiredAPITokens deletes tokens past their expiry (the janitor).
func deleteExpiredAPITokens(ctx context.Context, q querier, now time.Time) error {
	if _, err := q.ExecContext(ctx, `DELETE FROM api_tokens WHERE expires_at <= $1`, now); err != nil {
		return errors.Database(err)
	}
	return nil
}

// apiTokenLockClass namespaces the per-user advisory locks of API token
// creates ("tok").
const apiTokenLockClass = 0x746f6b

// lockAPITokenCreates serialises, until the end of tx, the API token creates
// of user userID across all processes. hashint8 folds the id into the lock's
// 32 bits; two users sharing a hash only wait for each other.
func lockAPITokenCreates(ctx context.Context, tx *sql.Tx, userID int64) error {
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1, hashint8($2))`, apiTokenLockClass, userID); err != nil {
		return errors.Database(err)
	}
	return nil
}
