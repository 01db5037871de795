package session

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/binary"
	"time"

	"github.com/groupd/groupd/db"
	"github.com/groupd/groupd/errors"
)

// A pre-authentication token is what GET /api/v1/session hands out: a token
// that is valid without a row in the database, because it proves itself.
// Its 32 bytes are
//
//	issued (6 bytes, Unix milliseconds) | nonce (10 random bytes) | MAC (16 bytes)
//
// where MAC is the first 16 bytes of HMAC-SHA256(key, preauthDomain|issued|nonce)
// with the key every process reads from the table server_keys. Encoded like a
// stored session's token (43 characters of base64url), it is just as opaque
// to a client: authenticating with it stores the session under the token's
// SHA-256, so the client keeps using the same token, as easydb's flow wants.
// Until then the server stores nothing, and the token is valid for
// UnauthenticatedIdleTimeout after it was issued.
const (
	preauthIssuedLen = 6
	preauthNonceLen  = 10
	preauthMACLen    = tokenBytes - preauthIssuedLen - preauthNonceLen

	// preauthKeyName is the key's row in server_keys.
	preauthKeyName = "preauth"
	// preauthDomain separates this MAC from any other use of the key.
	preauthDomain = "groupd pre-authentication token v1\x00"
	// preauthSkew is how far in the future a token's issue time may lie:
	// processes' clocks differ a little.
	preauthSkew = time.Minute
)

// loadServerKey returns the secret named name from server_keys, creating a
// random one first when there is none. Of several processes starting at
// once, the first INSERT wins and all read its key.
func loadServerKey(ctx context.Context, d *db.DB, name string) ([]byte, error) {
	fresh := make([]byte, 32)
	if _, err := rand.Read(fresh); err != nil {
		return nil, errors.Errorf("server key %s: %w", name, err)
	}
	var key []byte
	err := d.InTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO server_keys (name, secret) VALUES ($1, $2)
			ON CONFLICT (name) DO NOTHING`, name, fresh); err != nil {
			return errors.Database(err)
		}
		if err := tx.QueryRowContext(ctx, `SELECT secret FROM server_keys WHERE name = $1`, name).Scan(&key); err != nil {
			return errors.Database(err)
		}
		return nil
	})
	if err != nil {
		return nil, errors.Errorf("server key %s: %w", name, err)
	}
	if len(key) < 32 {
		return nil, errors.Errorf("server key %s: %d bytes, want at least 32", name, len(key))
	}
	return key, nil
}

func preauthMAC(key, issuedAndNonce []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(preauthDomain))
	m.Write(issuedAndNonce)
	return m.Sum(nil)[:preauthMACLen]
}

// newPreauthToken issues a pre-authentication token at now.
func (s *Service) newPreauthToken(now time.Time) (string, error) {
	var b [tokenBytes]byte
	var ms [8]byte
	binary.BigEndian.PutUint64(ms[:], uint64(now.UnixMilli()))
	copy(b[:preauthIssuedLen], ms[8-preauthIssuedLen:])
	if _, err := rand.Read(b[preauthIssuedLen : preauthIssuedLen+preauthNonceLen]); err != nil {
		return "", errors.ServerGeneric(errors.Errorf("token: %w", err))
	}
	copy(b[preauthIssuedLen+preauthNonceLen:], preauthMAC(s.preauthKey, b[:preauthIssuedLen+preauthNonceLen]))
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// preauthIssued returns when token was issued, if it is a pre-authentication
// token of this deployment (its MAC verifies); any other token, a stored
// session's included, is not (with a chance of 2^-128).
func (s *Service) preauthIssued(token string) (time.Time, bool) {
	if len(token) != tokenLen {
		return time.Time{}, false
	}
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(b) != tokenBytes {
		return time.Time{}, false
	}
	body, mac := b[:preauthIssuedLen+preauthNonceLen], b[preauthIssuedLen+preauthNonceLen:]
	if !hmac.Equal(mac, preauthMAC(s.preauthKey, body)) {
		return time.Time{}, false
	}
	var ms [8]byte
	copy(ms[8-preauthIssuedLen:], body[:preauthIssuedLen])
	return time.UnixMilli(int64(binary.BigEndian.Uint64(ms[:]))), true
}

// preauthRow is the session a live pre-authentication token stands for,
// with id 0 (not stored); nil when token is not one or has expired.
func (s *Service) preauthRow(token string, hash [tokenHashLen]byte, now time.Time) *sessionRow {
	issued, ok := s.preauthIssued(token)
	if !ok || !now.Before(issued.Add(s.cfg.UnauthenticatedIdleTimeout)) || issued.After(now.Add(preauthSkew)) {
		return nil
	}
	return &sessionRow{hash: hash, createdAt: issued, lastUsedAt: issued}
}
