package session

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"
	"github.com/groupd/groupd/errors"
	"github.com/groupd/groupd/policy"
	"github.com/groupd/groupd/rights"
	"github.com/groupd/groupd/web"
)

// TokenHeader carries the token when it is not a parameter.
const TokenHeader = "X-Easydb-Token"

// Register mounts the session API on r:
//
//	GET  /api/v1/session                  create a session, or return the current one
//	POST /api/v1/session/authenticate     log in
//	POST /api/v1/session/deauthenticate   log out
func (s *Service) Register(r *mux.Router) {
	r.Handle("/api/v1/session", web.Handle(s.handleGet)).Methods(http.MethodGet)
	r.Handle("/api/v1/session/authenticate", web.Handle(s.handleAuthenticate)).Methods(http.MethodPost)
	r.Handle("/api/v1/session/deauthenticate", web.Handle(s.handleDeauthenticate)).Methods(http.MethodPost)
}

func (s *Service) handleGet(w http.ResponseWriter, r *http.Request) error {
	p, err := readParams(r)
	if err != nil {
		return err
	}
	token, language := tokenOf(r, p), p.Get("language")
	var sess *Session
	switch {
	case token == "":
		sess, err = s.Create(r.Context(), language, s.ClientAddress(r))
	case IsAPIToken(token) && language != "":
		// An API token has no session to keep a language in.
		err = errors.InvalidValue("language", "an API token has no session language")
	case IsAPIToken(token):
		sess, err = s.Find(context.WithValue(r.Context(), addressKey{}, s.ClientAddress(r)), token)
	case language != "":
		sess, err = s.SetLanguage(r.Context(), token, language, s.ClientAddress(r))
	default:
		sess, err = s.Find(r.Context(), token)
	}
	if err != nil {
		return err
	}
	return s.respond(w, r, sess)
}

func (s *Service) handleAuthenticate(w http.ResponseWriter, r *http.Request) error {
	p, err := readParams(r)
	if err != nil {
		return err
	}
	token := tokenOf(r, p)
	if token == "" {
		return errors.NotAuthenticated()
	}
	sess, err := s.Authenticate(r.Context(), token, p.Get("login"), p.Get("password"), p.Get("method"), s.ClientAddress(r))
	if err != nil {
		return err
	}
	return s.respond(w, r, sess)
}

func (s *Service) handleDeauthenticate(w http.ResponseWriter, r *http.Request) error {
	p, err := readParams(r)
	if err != nil {
		return err
	}
	token := tokenOf(r, p)
	if token == "" {
		return errors.NotAuthenticated()
	}
	sess, err := s.Deauthenticate(r.Context(), token)
	if err != nil {
		return err
	}
	return s.respond(w, r, sess)
}

// ClientAddress is the address that the per-address limits count r
// against (the package function ClientAddress with the configured header).
func (s *Service) ClientAddress(r *http.Request) string {
	return ClientAddress(r, s.cfg.ClientAddressHeader)
}

// --- the session body ---------------------------------------------------------

type body struct {
	Token                 string          `json:"token"`
	Authenticated         *authenticated  `json:"authenticated,omitempty"`
	User                  json.RawMessage `json:"user,omitempty"`
	Groups                json.RawMessage `json:"groups,omitempty"`
	SystemRights          *rights.Map     `json:"system_rights,omitempty"`
	Instance              instance        `json:"instance"`
	AuthenticationMethods []method        `json:"authentication_methods"`
	FrontendLanguage      string          `json:"frontend_language"`
}

type authenticated struct {
	Method    string `json:"method"`
	Timestamp string `json:"timestamp"`
}

type instance struct {
	API           string `json:"api"`
	ServerVersion string `json:"server_version"`
	Name          string `json:"name"`
}

type method struct {
	Method string `json:"method"`
}

func (s *Service) respond(w http.ResponseWriter, r *http.Request, sess *Session) error {
	b := body{
		Token:                 sess.Token,
		Instance:              instance{API: web.APIVersion, ServerVersion: s.cfg.ServerVersion, Name: s.cfg.InstanceName},
		AuthenticationMethods: []method{{Method: MethodEasydb}},
		FrontendLanguage:      sess.FrontendLanguage(),
	}
	if sess.APITokenID != 0 { // the secret is shown once, when the token is created
		b.Token = redactedToken
	}
	if p := sess.Principal; p != nil {
		user, groups, ok, err := s.users.SessionView(r.Context(), s.db, p.UserID, p.SubjectGroups())
		if err != nil {
			return err
		}
		if !ok {
			return errors.SessionNotFound(sess.Token)
		}
		b.Authenticated = &authenticated{Method: sess.AuthMethod, Timestamp: sess.AuthenticatedAt.UTC().Format(time.RFC3339)}
		b.User, b.Groups, b.SystemRights = user, groups, &p.SystemRights
		web.SetUserID(r.Context(), p.UserID)
	}
	w.Header().Set("Cache-Control", "no-store")
	return web.JSON(w, b)
}

// --- parameters ---------------------------------------------------------------

// MaxParamsBody is the largest body a session call accepts (and the largest
// form body read for a token on the other APIs). These calls need no login,
// so a larger body is refused before it is read: the general -max-body of
// 32 MiB, decoded into generic values, let eight anonymous requests take
// gigabytes. Its parameters (a 43-character token, a login, a password, a
// method and a language) fit many times over.
const MaxParamsBody = 4 << 10

// paramsBody are the parameters a session call's JSON body may carry. Strings
// only: a value of another type is error.api.type_mismatch, any other key
// error.api.attribute_not_accepted, and null is the same as absent.
type paramsBody struct {
	Token    *string `json:"token"`
	Login    *string `json:"login"`
	Password *string `json:"password"`
	Method   *string `json:"method"`
	Language *string `json:"language"`
}

// paramNames are the keys of paramsBody, which a form body is held to as well.
var paramNames = map[string]bool{"token": true, "login": true, "password": true, "method": true, "language": true}

// readParams collects a session call's parameters: the query string, then
// the body, either application/x-www-form-urlencoded or a JSON object of
// strings ({"token","login","password","method","language"}). The query
// string wins when both name a parameter.
func readParams(r *http.Request) (url.Values, error) {
	p := r.URL.Query()
	raw, err := web.ReadBodyMax(r, MaxParamsBody)
	if err != nil {
		return nil, err
	}
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return p, nil
	}
	var fromBody url.Values
	if isForm(r) {
		if fromBody, err = url.ParseQuery(string(raw)); err != nil {
			return nil, errors.InvalidContent("form body: " + err.Error())
		}
		for k := range fromBody {
			if !paramNames[k] {
				return nil, errors.AttributeNotAccepted(k)
			}
		}
	} else if fromBody, err = decodeParams(raw); err != nil {
		return nil, err
	}
	for k, vs := range fromBody {
		if _, ok := p[k]; !ok {
			p[k] = vs
		}
	}
	return p, nil
}

// decodeParams decodes a JSON body into paramsBody.
func decodeParams(raw []byte) (url.Values, error) {
	if raw[0] != '{' {
		return nil, errors.InvalidContent("request body must be a JSON object or a form")
	}
	var in paramsBody
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) && typeErr.Field != "" {
			return nil, errors.TypeMismatch(typeErr.Field, "string")
		}
		// encoding/json names an unknown key only in its message.
		if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			if unquoted, err := strconv.Unquote(name); err == nil {
				name = unquoted
			}
			return nil, errors.AttributeNotAccepted(name)
		}
		return nil, errors.InvalidContent("request body must be a JSON object or a form")
	}
	if dec.More() {
		return nil, errors.InvalidContent("request body: data after the JSON object")
	}
	v := url.Values{}
	for k, s := range map[string]*string{"token": in.Token, "login": in.Login, "password": in.Password,
		"method": in.Method, "language": in.Language} {
		if s != nil {
			v.Set(k, *s)
		}
	}
	return v, nil
}

func isForm(r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mt == "application/x-www-form-urlencoded"
}

// tokenOf is the token of a request: parameter token (query or body), else
// the X-Easydb-Token header.
func tokenOf(r *http.Request, p url.Values) string {
	if t := p.Get("token"); t != "" {
		return t
	}
	return r.Header.Get(TokenHeader)
}

// requestToken is the token of a request to another API: query parameter
// token, header X-Easydb-Token, or field token of a form body. A form body
// is put back for the handler; other bodies are not touched. The form is
// read before anyone is authenticated, hence within MaxParamsBody: groupd's
// other APIs take JSON, and a form body there carries only the token.
func requestToken(r *http.Request) (string, error) {
	if t := r.URL.Query().Get("token"); t != "" {
		return t, nil
	}
	if t := r.Header.Get(TokenHeader); t != "" {
		return t, nil
	}
	if !isForm(r) || r.Body == nil {
		return "", nil
	}
	raw, err := web.ReadBodyMax(r, MaxParamsBody)
	if err != nil {
		return "", err
	}
	r.Body = io.NopCloser(bytes.NewReader(raw))
	form, err := url.ParseQuery(string(raw))
	if err != nil {
		return "", errors.InvalidContent("form body: " + err.Error())
	}
	return form.Get("token"), nil
}

// --- the middleware ---------------------------------------------------------

type ctxKey struct{}

// RequireAuth lets only requests with an authenticated session through:
// no token, or a session without a user, is error.user.not_authenticated; an
// unknown or expired token is error.user.session_not_found. The session and
// its principal are put into the request's context (FromContext,
// PrincipalFrom) and the user id into the access log.
func (s *Service) RequireAuth(next http.Handler) http.Handler {
	return web.Handle(func(w http.ResponseWriter, r *http.Request) error {
		token, err := requestToken(r)
		if err != nil {
			return err
		}
		authed, err := s.AuthenticateRequest(r, token)
		if err != nil {
			return err
		}
		next.ServeHTTP(w, authed)
		return nil
	})
}

type addressKey struct{}

// ClientAddressFrom is the client address (ClientAddress) of a request that
// passed RequireAuth, "" outside it.
func ClientAddressFrom(ctx context.Context) string {
	a, _ := ctx.Value(addressKey{}).(string)
	return a
}

// NewContext returns ctx carrying sess.
func NewContext(ctx context.Context, sess *Session) context.Context {
	return context.WithValue(ctx, ctxKey{}, sess)
}

// FromContext is the session RequireAuth found, nil outside it.
func FromContext(ctx context.Context) *Session {
	s, _ := ctx.Value(ctxKey{}).(*Session)
	return s
}

// PrincipalFrom is the authenticated principal of a request that passed
// RequireAuth, nil outside it. Never modify it: it is shared.
func PrincipalFrom(ctx context.Context) *policy.Principal {
	if s := FromContext(ctx); s != nil {
		return s.Principal
	}
	return nil
}
