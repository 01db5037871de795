package session

import (
	"context"
	"net/http"

	"github.com/groupd/groupd/errors"
	"github.com/groupd/groupd/web"
)

// AuthenticateRequest is RequireAuth for a surface that finds the token
// elsewhere (Noko's X-NokoToken, say): token is a session token or an API
// token; the result is r carrying the session and its principal
// (FromContext, PrincipalFrom), with the user id in the access log. No
// token or a session without a user is error.user.not_authenticated, an
// unknown or expired token error.user.session_not_found, and a write with a
// read-only API token ReadOnlyRefusal, exactly as RequireAuth decides.
func (s *Service) AuthenticateRequest(r *http.Request, token string) (*http.Request, error) {
	if token == "" {
		return nil, errors.NotAuthenticated()
	}
	ctx := context.WithValue(r.Context(), addressKey{}, s.ClientAddress(r))
	sess, err := s.Find(ctx, token)
	if err != nil {
		return nil, err
	}
	if !sess.Authenticated() {
		return nil, errors.NotAuthenticated()
	}
	web.SetUserID(r.Context(), sess.UserID)
	if sess.ReadOnly && r.Method != http.MethodGet && r.Method != http.MethodHead {
		return nil, ReadOnlyRefusal(r.Method, sess.APITokenID)
	}
	return r.WithContext(NewContext(ctx, sess)), nil
}
