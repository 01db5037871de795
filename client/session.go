package client

import (
	"context"
	"encoding/json"
)

// Session is the body of /api/v1/session: the token and, once logged in, the
// user, its effective groups and its combined system rights.
type Session struct {
	Token         string `json:"token"`
	Authenticated *struct {
		Method    string `json:"method"`
		Timestamp string `json:"timestamp"`
	} `json:"authenticated,omitempty"`
	User         *ShortRef       `json:"user,omitempty"`
	Groups       []ShortRef      `json:"groups,omitempty"`
	SystemRights json.RawMessage `json:"system_rights,omitempty"`
	Instance     struct {
		API           string `json:"api"`
		ServerVersion string `json:"server_version"`
		Name          string `json:"name"`
	} `json:"instance"`
	FrontendLanguage *string `json:"frontend_language,omitempty"`
}

// ShortRef is a user or a group in easydb's short format ({"_basetype":
// "user","user":{...}} or the same with "group").
type ShortRef struct {
	Basetype string     `json:"_basetype,omitempty"`
	User     *UserShort `json:"user,omitempty"`
	Group    *GroupRef  `json:"group,omitempty"`
}

// UserShort is the user part of a short format.
type UserShort struct {
	ID                   int64   `json:"_id"`
	Version              int64   `json:"_version,omitempty"`
	Login                *string `json:"login,omitempty"`
	Type                 string  `json:"type,omitempty"`
	GeneratedDisplayname string  `json:"_generated_displayname,omitempty"`
}

// GroupRef is the group part of a short format. Reference is not part of
// easydb's short format; groupctl's export adds it so that memberships can
// be matched on another server.
type GroupRef struct {
	ID          int64             `json:"_id"`
	Name        *string           `json:"name,omitempty"`
	Type        string            `json:"type,omitempty"`
	Displayname map[string]string `json:"_displayname,omitempty"`
	Reference   *string           `json:"reference,omitempty"`
}

// Label is how a short reference reads for people: a login or group name,
// else the id.
func (r ShortRef) Label() string {
	switch {
	case r.User != nil && r.User.Login != nil:
		return *r.User.Login
	case r.User != nil:
		return "user#" + itoa(r.User.ID)
	case r.Group != nil && r.Group.Name != nil:
		return *r.Group.Name
	case r.Group != nil:
		return "group#" + itoa(r.Group.ID)
	}
	return ""
}

// NewSession asks for a new session and keeps its token in c.Token.
func (c *Client) NewSession(ctx context.Context) (*Session, error) {
	var s Session
	if _, err := c.get(ctx, request{method: "GET", path: "/api/v1/session", out: &s}); err != nil {
		return nil, err
	}
	c.Token = s.Token
	return &s, nil
}

// Session returns the session of c.Token.
func (c *Client) Session(ctx context.Context) (*Session, error) {
	var s Session
	if _, err := c.get(ctx, request{method: "GET", path: "/api/v1/session", out: &s}); err != nil {
		return nil, err
	}
	return &s, nil
}

// Authenticate logs the session of c.Token in. The password travels in the
// JSON body, never in the URL.
func (c *Client) Authenticate(ctx context.Context, login, password string) (*Session, error) {
	var s Session
	body := map[string]string{"token": c.Token, "login": login, "password": password, "method": "easydb"}
	if _, err := c.do(ctx, request{method: "POST", path: "/api/v1/session/authenticate", body: body, out: &s}); err != nil {
		return nil, err
	}
	return &s, nil
}

// Login gets a new session and logs it in; c.Token is the new token.
func (c *Client) Login(ctx context.Context, login, password string) (*Session, error) {
	if _, err := c.NewSession(ctx); err != nil {
		return nil, err
	}
	return c.Authenticate(ctx, login, password)
}

// Deauthenticate logs the session out (the token stays, without a user).
func (c *Client) Deauthenticate(ctx context.Context) error {
	_, err := c.do(ctx, request{method: "POST", path: "/api/v1/session/deauthenticate"})
	return err
}
