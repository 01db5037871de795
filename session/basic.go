package session

// Credentials sent with every request, as HTTP Basic clients (Kanboard's
// JSON-RPC) send them: no session is created. A password is checked by the
// login's own path (checkLogin: queue, per-login lockout, per-address
// limit, argon2id), an API token by the same lookup as x-easydb-token.

import (
	"context"
	"database/sql"
	"net/http"
	"time"

	"github.com/groupd/groupd/errors"
	"github.com/groupd/groupd/passwords"
	"github.com/groupd/groupd/policy"
)

// WithClientAddress returns ctx carrying r's client address (ClientAddress),
// as RequireAuth does: the address that the login limits count and that an
// API token's last use records.
func (s *Service) WithClientAddress(ctx context.Context, r *http.Request) context.Context {
	return context.WithValue(ctx, addressKey{}, s.ClientAddress(r))
}

// AuthenticateBasic checks credentials sent with a request: login with
// either its password (counted as a login attempt from
// ClientAddressFrom(ctx), lockout and limits included) or one of its user's
// API tokens (APITokenPrefix). It returns a Session that is not stored (ID
// 0, no token): the authenticated user, its principal and, for an API
// token, the token's scope. A wrong password is error.user.login_failed,
// a blocked login error.user.login_blocked, a disabled user
// error.user.login_disabled; an API token that is unknown, expired, or not
// login's, error.user.login_failed.
func (s *Service) AuthenticateBasic(ctx context.Context, login, secret string) (*Session, error) {
	if login == "" || secret == "" {
		return nil, errors.UsernameOrPasswordEmpty()
	}
	if IsAPIToken(secret) {
		sess, err := s.findAPIToken(ctx, secret, ClientAddressFrom(ctx))
		if err != nil {
			if errors.CodeOf(err) == "error.user.session_not_found" {
				return nil, errors.LoginFailed()
			}
			return nil, err
		}
		owner, err := s.users.LoginName(ctx, s.db, sess.UserID)
		if err != nil {
			return nil, err
		}
		if owner != login {
			// Another user's token: the login and the token must agree.
			return nil, errors.LoginFailed()
		}
		sess.Token = ""
		return sess, nil
	}
	release, err := s.enterLoginQueue()
	if err != nil {
		return nil, err
	}
	defer release()
	var userID int64
	err = s.checkLogin(ctx, login, secret, ClientAddressFrom(ctx), func(_ *sql.Tx, u *passwords.Credentials, _ time.Time) error {
		userID = u.UserID
		return nil
	})
	if err != nil {
		return nil, err
	}
	p, err := s.UserPrincipal(ctx, userID)
	if err != nil {
		return nil, err
	}
	if p == nil { // deleted or disabled since the check
		return nil, errors.LoginFailed()
	}
	return &Session{UserID: userID, AuthMethod: MethodEasydb, AuthenticatedAt: s.now(), Principal: p}, nil
}

// UserPrincipal is user userID's principal, as its sessions carry it (from
// the principal cache); nil when the user does not exist or is disabled.
// It checks no credential: the caller has (Kanboard's application token
// acts as root).
func (s *Service) UserPrincipal(ctx context.Context, userID int64) (*policy.Principal, error) {
	id, err := s.identity(ctx, userID)
	if err != nil || id == nil || id.loginDisabled {
		return nil, err
	}
	return id.principal, nil
}
