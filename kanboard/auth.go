package kanboard

import (
	"crypto/subtle"
	"encoding/base64"
	"log/slog"
	"strings"

	"github.com/groupd/groupd/errors"
	"github.com/groupd/groupd/user"
	"github.com/groupd/groupd/web"
)

// AppUser is the login of Kanboard's application credentials: Basic
// jsonrpc:<token>, the token being GROUPD_KANBOARD_API_TOKEN. No groupd
// user can log in through this surface under that name, as in Kanboard.
const AppUser = "jsonrpc"

// AuthHeader is Kanboard's alternative to Authorization (its
// API_AUTHENTICATION_HEADER): base64 of "login:password".
const AuthHeader = "X-API-Auth"

// credentials are the login and secret a request carries: X-API-Auth when
// it is set, else HTTP Basic, as Kanboard's server reads them.
func credentials(x *exchange) (login, secret string) {
	if h := x.r.Header.Get(AuthHeader); h != "" {
		raw, err := base64.StdEncoding.DecodeString(h)
		if err != nil {
			return "", ""
		}
		login, secret, _ = strings.Cut(string(raw), ":")
		return login, secret
	}
	login, secret, _ = x.r.BasicAuth()
	return login, secret
}

// authenticate checks the exchange's credentials once, at its first call:
// the application token acts as root (application access is off while no
// token is configured); any other login goes through groupd's login with
// its lockout (a password) or its API tokens (a gdp_ secret). A failure is
// HTTP 401 for the whole exchange; its cause goes to the log only.
func (x *exchange) authenticate() error {
	if x.authed {
		return nil
	}
	ctx := x.s.sessions.WithClientAddress(x.r.Context(), x.r)
	login, secret := credentials(x)
	if login == AppUser {
		token := x.s.appToken
		if token == "" || subtle.ConstantTimeCompare([]byte(secret), []byte(token)) != 1 {
			x.refuse(login, "application access off or wrong application token")
			return errUnauthorized
		}
		p, err := x.s.sessions.UserPrincipal(ctx, user.RootID)
		if err != nil {
			return err
		}
		if p == nil {
			x.refuse(login, "root is disabled")
			return errUnauthorized
		}
		x.authed, x.principal, x.app = true, p, true
		web.SetUserID(x.r.Context(), p.UserID)
		return nil
	}
	sess, err := x.s.sessions.AuthenticateBasic(ctx, login, secret)
	if err != nil {
		if errors.From(err).Realm == errors.RealmServer {
			return err
		}
		x.refuse(login, errors.From(err).Error())
		return errUnauthorized
	}
	x.authed, x.principal, x.readOnly = true, sess.Principal, sess.ReadOnly
	web.SetUserID(x.r.Context(), sess.UserID)
	return nil
}

// refuse logs an authentication failure as Kanboard does ("API
// authentication failure for <login>"), with groupd's reason.
func (x *exchange) refuse(login, cause string) {
	web.Logger(x.r.Context()).Warn("kanboard: authentication failure", slog.String("login", login),
		slog.String("cause", cause))
}
