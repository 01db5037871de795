package client

import (
	"context"
	"net/url"
	"strconv"
	"time"
)

// APIToken is a personal API token as groupd shows it (PUT, GET
// /api/v1/token). Secret is set only in the answer to CreateAPIToken.
type APIToken struct {
	ID    int64  `json:"_id"`
	User  int64  `json:"user_id"`
	Name  string `json:"name"`
	Scope struct {
		ReadOnly     bool                      `json:"read_only"`
		SystemRights map[string]map[string]any `json:"system_rights"`
	} `json:"scope"`
	Created         string  `json:"created"`
	Expires         *string `json:"expires"`
	LastUsed        *string `json:"last_used"`
	LastUsedAddress *string `json:"last_used_address"`
	Secret          string  `json:"secret,omitempty"`
}

// APITokenSpec is what CreateAPIToken asks for.
type APITokenSpec struct {
	Name     string
	Expires  time.Time // zero: never
	ReadOnly bool
	// SystemRights: at most these of the caller's system rights; nil: all.
	SystemRights map[string]map[string]any
}

// CreateAPIToken creates a token for the logged-in user; the answer carries
// its secret, the only time groupd shows it.
func (c *Client) CreateAPIToken(ctx context.Context, spec APITokenSpec) (*APIToken, error) {
	body := map[string]any{"name": spec.Name}
	if !spec.Expires.IsZero() {
		body["expires"] = spec.Expires.UTC().Format(time.RFC3339Nano)
	}
	scope := map[string]any{}
	if spec.ReadOnly {
		scope["read_only"] = true
	}
	if spec.SystemRights != nil {
		scope["system_rights"] = spec.SystemRights
	}
	if len(scope) > 0 {
		body["scope"] = scope
	}
	var t APIToken
	if _, err := c.do(ctx, request{method: "PUT", path: "/api/v1/token", body: body, out: &t}); err != nil {
		return nil, err
	}
	return &t, nil
}

// ListAPITokens lists the tokens of user userID (0: the logged-in user's).
func (c *Client) ListAPITokens(ctx context.Context, userID int64) ([]APIToken, error) {
	var q url.Values
	if userID != 0 {
		q = url.Values{"user": {strconv.FormatInt(userID, 10)}}
	}
	var out []APIToken
	if _, err := c.get(ctx, request{method: "GET", path: "/api/v1/token", query: q, out: &out}); err != nil {
		return nil, err
	}
	return out, nil
}

// RevokeAPIToken revokes token id.
func (c *Client) RevokeAPIToken(ctx context.Context, id int64) error {
	_, err := c.do(ctx, request{method: "DELETE", path: "/api/v1/token/" + strconv.FormatInt(id, 10)})
	return err
}
