package session

import (
	"bytes"
	"io"
	"net/http"
	"strconv"

	"github.com/gorilla/mux"
	"github.com/groupd/groupd/errors"
	"github.com/groupd/groupd/input"
	"github.com/groupd/groupd/rights"
	"github.com/groupd/groupd/web"
)

// RegisterAPITokens mounts the API token routes on r, behind requireAuth
// (RequireAuth, which also refuses a read-only token's writes):
//
//	PUT    /api/v1/token        create a token for the caller; the answer carries its secret, once
//	GET    /api/v1/token        list the caller's tokens (?user=<id>: another user's)
//	DELETE /api/v1/token/{id}   revoke a token
func (s *Service) RegisterAPITokens(r *mux.Router, requireAuth func(http.Handler) http.Handler) {
	r.Handle("/api/v1/token", requireAuth(web.Handle(s.handleCreateAPIToken))).Methods(http.MethodPut)
	r.Handle("/api/v1/token", requireAuth(web.Handle(s.handleListAPITokens))).Methods(http.MethodGet)
	r.Handle("/api/v1/token/{id}", requireAuth(web.Handle(s.handleRevokeAPIToken))).Methods(http.MethodDelete)
}

// maxAPITokenBody bounds a create's body: a name, an expiry and a scope of
// system rights fit many times over.
const maxAPITokenBody = 64 << 10

func (s *Service) handleCreateAPIToken(w http.ResponseWriter, r *http.Request) error {
	p := PrincipalFrom(r.Context())
	raw, err := web.ReadBodyMax(r, maxAPITokenBody)
	if err != nil {
		return err
	}
	r.Body = io.NopCloser(bytes.NewReader(raw))
	var v any
	if decodeJSONErr := web.DecodeJSON(r, &v); decodeJSONErr != nil {
		return decodeJSONErr
	}
	o, err := input.AsObject(v, "body")
	if err != nil {
		return err
	}
	o.Path = ""
	if onlyErr := o.Only("name", "expires", "scope"); onlyErr != nil {
		return onlyErr
	}
	name, ok, err := o.String("name")
	if err != nil {
		return err
	}
	if !ok {
		return errors.AttributeExpected("name")
	}
	if textErr := input.Text(name, "name", MaxAPITokenName); textErr != nil {
		return textErr
	}
	expires, _, err := o.Time("expires")
	if err != nil {
		return err
	}
	var scope APITokenScope
	if o.Has("scope") && !o.IsNull("scope") {
		so, scopeErr := o.Object("scope")
		if scopeErr != nil {
			return scopeErr
		}
		if onlyErr := so.Only("read_only", "system_rights"); onlyErr != nil {
			return onlyErr
		}
		if scope.ReadOnly, _, scopeErr = so.Bool("read_only"); scopeErr != nil {
			return scopeErr
		}
		if so.Has("system_rights") && !so.IsNull("system_rights") {
			if scope.SystemRights, scopeErr = rights.DecodeSystemRights(so.M["system_rights"], so.At("system_rights")); scopeErr != nil {
				return scopeErr
			}
		}
	}
	if sess := FromContext(r.Context()); sess != nil && sess.scopedRights && scope.SystemRights == nil {
		// A token made with a scoped token is scoped no wider: "all of the
		// user's rights" would be more than its maker may use.
		scope.SystemRights = rights.Union(p.SystemRights)
	}
	t, secret, err := s.CreateAPIToken(r.Context(), p, name, expires, scope)
	if err != nil {
		return err
	}
	view := t.View()
	view.Secret = secret
	w.Header().Set("Cache-Control", "no-store")
	return web.JSON(w, view)
}

func (s *Service) handleListAPITokens(w http.ResponseWriter, r *http.Request) error {
	p := PrincipalFrom(r.Context())
	q := r.URL.Query()
	for k := range q {
		if k != "user" && k != "token" {
			return errors.InvalidValue(k, "unknown parameter; user is the only one")
		}
	}
	userID := p.UserID
	if raw := q.Get("user"); raw != "" {
		id, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || id <= 0 {
			return errors.InvalidValue("user", "a user id (positive integer) expected")
		}
		userID = id
	}
	tokens, err := s.ListAPITokens(r.Context(), p, userID)
	if err != nil {
		return err
	}
	out := make([]APITokenView, len(tokens))
	for i := range tokens {
		out[i] = tokens[i].View()
	}
	return web.JSON(w, out)
}

func (s *Service) handleRevokeAPIToken(w http.ResponseWriter, r *http.Request) error {
	raw := mux.Vars(r)["id"]
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id <= 0 {
		return errors.InvalidValue("id", "a token id (positive integer) expected")
	}
	if err := s.RevokeAPIToken(r.Context(), PrincipalFrom(r.Context()), id); err != nil {
		return err
	}
	return web.JSON(w, struct{}{})
}
