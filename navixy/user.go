package navixy

import "context"

type authAnswer struct {
	okay
	Hash string `json:"hash"`
}

// auth is user/auth {login, password}: a groupd login with its lockout, by
// login or login e-mail. The hash is the new session's token.
func (h *Handler) auth(ctx context.Context, c *call) (any, error) {
	login, err := c.params.RequiredString("login")
	if err != nil {
		return nil, err
	}
	password, err := c.params.RequiredString("password")
	if err != nil {
		return nil, err
	}
	address := h.sessions.ClientAddress(c.r)
	sess, err := h.sessions.Create(ctx, "", address)
	if err != nil {
		return nil, err
	}
	if sess, err = h.sessions.Authenticate(ctx, sess.Token, login, password, "", address); err != nil {
		return nil, err
	}
	return authAnswer{okay: succeeded, Hash: sess.Token}, nil
}

// logout is user/logout: the hash's session ends; the hash is refused
// from then on (code 4).
func (h *Handler) logout(ctx context.Context, c *call) (any, error) {
	if _, err := h.sessions.Deauthenticate(ctx, c.hash); err != nil {
		return nil, err
	}
	return succeeded, nil
}
