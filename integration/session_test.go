package integration

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/groupd/groupd/db/dbtest"
	"github.com/groupd/groupd/server"
	"github.com/groupd/groupd/session"
)

// sessOut is the session body as a client decodes it.
type sessOut struct {
	Token         string `json:"token"`
	Authenticated *struct {
		Method    string `json:"method"`
		Timestamp string `json:"timestamp"`
	} `json:"authenticated"`
	User *struct {
		Basetype string `json:"_basetype"`
		User     struct {
			ID          int64   `json:"_id"`
			Version     int64   `json:"_version"`
			Login       *string `json:"login"`
			Type        string  `json:"type"`
			Displayname string  `json:"_generated_displayname"`
		} `json:"user"`
	} `json:"user"`
	Groups []struct {
		Basetype string `json:"_basetype"`
		Group    struct {
			ID          int64             `json:"_id"`
			Name        string            `json:"name"`
			Type        string            `json:"type"`
			Displayname map[string]string `json:"_displayname"`
		} `json:"group"`
	} `json:"groups"`
	SystemRights map[string]map[string]any `json:"system_rights"`
	Instance     struct {
		API           string `json:"api"`
		ServerVersion string `json:"server_version"`
		Name          string `json:"name"`
	} `json:"instance"`
	AuthenticationMethods []struct {
		Method string `json:"method"`
	} `json:"authentication_methods"`
	FrontendLanguage string `json:"frontend_language"`

	raw map[string]json.RawMessage
}

// groupNames are the names of the session's groups, in the order sent.
func (o sessOut) groupNames() []string {
	var out []string
	for _, g := range o.Groups {
		out = append(out, g.Group.Name)
	}
	return out
}

func sessDecode(tb testing.TB, r *Response) sessOut {
	tb.Helper()
	if r.StatusCode != 200 {
		tb.Fatalf("want a session, got %d %s", r.StatusCode, r.Body)
	}
	var o sessOut
	r.JSON(tb, &o)
	r.JSON(tb, &o.raw)
	return o
}

// sessNew runs GET /api/v1/session without a token.
func sessNew(tb testing.TB, s *Server) sessOut {
	tb.Helper()
	o := sessDecode(tb, s.Do(tb, "GET", "/api/v1/session", nil))
	if len(o.Token) != 43 {
		tb.Fatalf("token %q: want 43 characters", o.Token)
	}
	return o
}

// sessGet runs GET /api/v1/session?token=.
func sessGet(tb testing.TB, s *Server, token string) *Response {
	tb.Helper()
	return s.Do(tb, "GET", "/api/v1/session?token="+url.QueryEscape(token), nil)
}

func sessAuth(tb testing.TB, s *Server, token, login, password string) *Response {
	tb.Helper()
	q := url.Values{"token": {token}, "login": {login}, "password": {password}}
	return s.Do(tb, "POST", "/api/v1/session/authenticate?"+q.Encode(), nil)
}

// sessLogin returns the token of a new session authenticated as login.
func sessLogin(tb testing.TB, s *Server, login, password string) string {
	tb.Helper()
	token := sessNew(tb, s).Token
	sessDecode(tb, sessAuth(tb, s, token, login, password))
	return token
}

// sessUser inserts a user with a password directly (the user API is another
// issue's) and returns its id.
func sessUser(tb testing.TB, s *Server, login, password, systemRights string) int64 {
	tb.Helper()
	hash := testPasswordHash(tb, password)
	if systemRights == "" {
		systemRights = "{}"
	}
	var id int64
	if err := s.DB.QueryRow(`INSERT INTO users (login, password_hash, system_rights, owner_user_id)
		VALUES ($1, $2, $3, 1) RETURNING id`, login, hash, systemRights).Scan(&id); err != nil {
		tb.Fatal(err)
	}
	return id
}

// sessGroup inserts a group with system rights and returns its id.
func sessGroup(tb testing.TB, s *Server, name, systemRights string) int64 {
	tb.Helper()
	var id int64
	if err := s.DB.QueryRow(`INSERT INTO groups (name, displayname, system_rights, owner_user_id)
		VALUES ($1, jsonb_build_object('en-US', $1::text || ' (en)', 'de-DE', $1::text || ' (de)'), $2, 1) RETURNING id`,
		name, systemRights).Scan(&id); err != nil {
		tb.Fatal(err)
	}
	return id
}

func sessExec(tb testing.TB, s *Server, fn func(tx *sql.Tx) error) {
	tb.Helper()
	if err := s.DB.InTx(context.Background(), fn); err != nil {
		tb.Fatal(err)
	}
}

// TestSessionFlow is the easydb client flow end to end: a token, login,
// authenticated calls, logout; with the exact session body in each state.
func TestSessionFlow(t *testing.T) {
	t.Parallel()
	s := MustStartServer(t, func(c *server.Config) {
		c.InstanceName = "flow-test"
		c.LogLevel = -8 // everything, to show that no token or password reaches the log
	})

	r := s.Do(t, "GET", "/api/v1/session", nil)
	if r.Header.Get("X-Easydb-API-Version") != "1" {
		t.Fatalf("X-Easydb-API-Version %q", r.Header.Get("X-Easydb-API-Version"))
	}
	anon := sessDecode(t, r)
	if !regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`).MatchString(anon.Token) {
		t.Fatalf("token %q is not 32 bytes of base64url", anon.Token)
	}
	wantUnauthenticated := func(o sessOut) {
		t.Helper()
		for _, k := range []string{"user", "groups", "system_rights", "authenticated"} {
			if _, ok := o.raw[k]; ok {
				t.Fatalf("unauthenticated session has %q: %v", k, o.raw)
			}
		}
		if o.Instance.API != "1" || o.Instance.ServerVersion != server.Version || o.Instance.Name != "flow-test" {
			t.Fatalf("instance %+v", o.Instance)
		}
		if len(o.AuthenticationMethods) != 1 || o.AuthenticationMethods[0].Method != "easydb" {
			t.Fatalf("authentication_methods %+v", o.AuthenticationMethods)
		}
		if o.FrontendLanguage != "en-US" {
			t.Fatalf("frontend_language %q", o.FrontendLanguage)
		}
	}
	wantUnauthenticated(anon)
	if again := sessNew(t, s); again.Token == anon.Token {
		t.Fatal("two sessions got the same token")
	}
	// Before it logs in, a session is a signed token and nothing is stored.
	var stored int
	s.DB.QueryRow(`SELECT count(*) FROM sessions`).Scan(&stored)
	if stored != 0 {
		t.Fatalf("%d sessions stored before any login", stored)
	}
	wantUnauthenticated(sessDecode(t, sessGet(t, s, anon.Token)))

	// Log in as root: the same token, now stored by its SHA-256.
	before := time.Now().Add(-time.Second)
	root := sessDecode(t, sessAuth(t, s, anon.Token, "root", RootPassword))
	if root.Token != anon.Token {
		t.Fatalf("authenticate changed the token")
	}
	s.DB.QueryRow(`SELECT count(*) FROM sessions WHERE token_hash = sha256(convert_to($1, 'UTF8'))`, anon.Token).Scan(&stored)
	if stored != 1 {
		t.Fatal("the authenticated session is not stored by the SHA-256 of its token")
	}
	s.DB.QueryRow(`SELECT count(*) FROM sessions WHERE encode(token_hash, 'escape') LIKE '%' || $1 || '%'`, anon.Token).Scan(&stored)
	if stored != 0 {
		t.Fatal("the token itself is stored")
	}
	if root.Authenticated == nil || root.Authenticated.Method != "easydb" {
		t.Fatalf("authenticated %s", root.raw["authenticated"])
	}
	if ts, err := time.Parse(time.RFC3339, root.Authenticated.Timestamp); err != nil || ts.Before(before.Truncate(time.Second)) || ts.After(time.Now().Add(time.Second)) {
		t.Fatalf("authenticated.timestamp %q (%v)", root.Authenticated.Timestamp, err)
	}
	if u := root.User; u == nil || u.Basetype != "user" || u.User.ID != 1 || *u.User.Login != "root" || u.User.Type != "system" ||
		u.User.Displayname != "Root" || u.User.Version < 1 {
		t.Fatalf("user %s", root.raw["user"])
	}
	if got := root.groupNames(); !slices.Equal(got, []string{":all"}) {
		t.Fatalf("root (a system user) must be in :all only, got %v", got)
	}
	if g := root.Groups[0]; g.Basetype != "group" || g.Group.ID != 1 || g.Group.Type != "system" ||
		g.Group.Displayname["en-US"] != "All users" {
		t.Fatalf("group short format: %s", root.raw["groups"])
	}
	if string(root.raw["system_rights"]) != `{"system.root":{}}` {
		t.Fatalf("root system_rights %s", root.raw["system_rights"])
	}

	// A call with the token sees the same session.
	got := sessDecode(t, sessGet(t, s, anon.Token))
	if got.User == nil || got.User.User.ID != 1 || string(got.raw["system_rights"]) != `{"system.root":{}}` {
		t.Fatalf("GET with token: %v", got.raw)
	}

	// A user in a group: groups are the static group plus :all and
	// :non_system, system rights the union of user and groups.
	uid := sessUser(t, s, "alice", "alice-pw", `{"system.group":{"create":true,"edit_acl":false}}`)
	gid := sessGroup(t, s, "editors", `{"system.group":{"edit_acl":true},"system.tagmanager":{}}`)
	sessGroup(t, s, "unrelated", `{"system.datamodel":{}}`) // not alice's: its rights must not count
	sessExec(t, s, func(tx *sql.Tx) error {
		_, err := tx.Exec(`INSERT INTO memberships (group_id, user_id) VALUES ($1, $2)`, gid, uid)
		return err
	})
	alice := sessDecode(t, sessAuth(t, s, sessNew(t, s).Token, "alice", "alice-pw"))
	if got := alice.groupNames(); !slices.Equal(got, []string{":all", ":non_system", "editors"}) {
		t.Fatalf("alice's groups %v", got)
	}
	if g := alice.Groups[2].Group; g.ID != gid || g.Type != "easydb" || g.Displayname["de-DE"] != "editors (de)" {
		t.Fatalf("editors short format %s", alice.raw["groups"])
	}
	if string(alice.raw["system_rights"]) != `{"system.group":{"create":true,"edit_acl":true},"system.tagmanager":{}}` {
		t.Fatalf("alice's system_rights %s", alice.raw["system_rights"])
	}
	if alice.User.User.Displayname != "alice" || alice.User.User.Type != "easydb" {
		t.Fatalf("alice %s", alice.raw["user"])
	}

	// Log out: the token stays valid, without a user; again is a no-op.
	out := sessDecode(t, s.Do(t, "POST", "/api/v1/session/deauthenticate?token="+anon.Token, nil))
	wantUnauthenticated(out)
	if out.Token != anon.Token {
		t.Fatal("deauthenticate changed the token")
	}
	wantUnauthenticated(sessDecode(t, sessGet(t, s, anon.Token)))
	wantUnauthenticated(sessDecode(t, s.Do(t, "POST", "/api/v1/session/deauthenticate?token="+anon.Token, nil)))
	var userID sql.NullInt64
	s.DB.QueryRow(`SELECT user_id FROM sessions WHERE token_hash = sha256(convert_to($1, 'UTF8'))`, anon.Token).Scan(&userID)
	if userID.Valid {
		t.Fatal("deauthenticated session still has a user in the database")
	}
	// ... and can log in again.
	sessDecode(t, sessAuth(t, s, anon.Token, "root", RootPassword))

	// language is stored with the session.
	de := sessDecode(t, s.Do(t, "GET", "/api/v1/session?language=de-DE", nil))
	if de.FrontendLanguage != "de-DE" {
		t.Fatalf("frontend_language %q", de.FrontendLanguage)
	}
	fr := sessDecode(t, s.Do(t, "GET", "/api/v1/session?language=fr-FR&token="+de.Token, nil))
	if fr.FrontendLanguage != "fr-FR" || sessDecode(t, sessGet(t, s, de.Token)).FrontendLanguage != "fr-FR" {
		t.Fatalf("language not updated: %q", fr.FrontendLanguage)
	}

	logs := s.Logs.String()
	for _, secret := range []string{anon.Token, de.Token, RootPassword, "alice-pw"} {
		if strings.Contains(logs, secret) {
			t.Fatalf("a token or password reached the log:\n%s", logs)
		}
	}
	if !strings.Contains(logs, "user_id=1") {
		t.Fatalf("the access log does not name the user:\n%s", logs)
	}
}

// TestSessionTokenPassing: the token as query parameter, header
// x-easydb-token or form field; authenticate parameters from the query, a
// form body or a JSON body.
func TestSessionTokenPassing(t *testing.T) {
	t.Parallel()
	s := MustStartServer(t)
	form := []string{"Content-Type", "application/x-www-form-urlencoded"}

	viaQuery := sessNew(t, s).Token
	sessDecode(t, sessAuth(t, s, viaQuery, "root", RootPassword))

	viaForm := sessNew(t, s).Token
	body := url.Values{"token": {viaForm}, "login": {"root"}, "password": {RootPassword}}.Encode()
	if o := sessDecode(t, s.Do(t, "POST", "/api/v1/session/authenticate", body, form...)); o.User == nil {
		t.Fatalf("form authenticate: %s", o.raw)
	}

	viaJSON := sessNew(t, s).Token
	o := sessDecode(t, s.Do(t, "POST", "/api/v1/session/authenticate",
		map[string]string{"token": viaJSON, "login": "root", "password": RootPassword, "method": "easydb"}))
	if o.User == nil {
		t.Fatalf("JSON authenticate: %s", o.raw)
	}

	// Token in the header, login and password in a form body.
	viaHeader := sessNew(t, s).Token
	body = url.Values{"login": {"root"}, "password": {RootPassword}}.Encode()
	if o := sessDecode(t, s.Do(t, "POST", "/api/v1/session/authenticate", body, append(form, "x-easydb-token", viaHeader)...)); o.User == nil {
		t.Fatalf("header authenticate: %s", o.raw)
	}

	for name, r := range map[string]*Response{
		"query":  sessGet(t, s, viaQuery),
		"header": s.Do(t, "GET", "/api/v1/session", nil, "x-easydb-token", viaForm),
		"form":   s.Do(t, "GET", "/api/v1/session", "token="+url.QueryEscape(viaJSON), form...),
	} {
		if o := sessDecode(t, r); o.User == nil || o.User.User.ID != 1 {
			t.Fatalf("token via %s: %s", name, r.Body)
		}
	}
	if o := sessDecode(t, s.Do(t, "POST", "/api/v1/session/deauthenticate", nil, "x-easydb-token", viaHeader)); o.User != nil {
		t.Fatalf("deauthenticate via header: %s", o.raw)
	}
	if o := sessDecode(t, s.Do(t, "POST", "/api/v1/session/deauthenticate", "token="+viaForm, form...)); o.User != nil {
		t.Fatalf("deauthenticate via form: %s", o.raw)
	}
}

// TestSessionErrors: every error of the session API, by code and parameters.
func TestSessionErrors(t *testing.T) {
	t.Parallel()
	s := MustStartServer(t, func(c *server.Config) { c.LoginMaxFailures = 100 })
	token := sessNew(t, s).Token
	sessUser(t, s, "dora", "dora-pw", "")
	s.DB.Exec(`UPDATE users SET login_disabled = true WHERE login = 'dora'`)
	unknown := strings.Repeat("A", 43)

	cases := []struct {
		name, method, path string
		body               any
		header             []string
		code               string
		params             map[string]string
	}{
		{"unknown token", "GET", "/api/v1/session?token=" + unknown, nil, nil,
			"error.user.session_not_found", map[string]string{"id": unknown}},
		{"malformed token", "GET", "/api/v1/session?token=abc%20def", nil, nil,
			"error.user.session_not_found", map[string]string{"id": "abc def"}},
		{"unknown token in header", "GET", "/api/v1/session", nil, []string{"x-easydb-token", unknown},
			"error.user.session_not_found", map[string]string{"id": unknown}},
		{"authenticate, unknown token", "POST", "/api/v1/session/authenticate?login=root&password=x&token=" + unknown, nil, nil,
			"error.user.session_not_found", map[string]string{"id": unknown}},
		{"deauthenticate, unknown token", "POST", "/api/v1/session/deauthenticate?token=" + unknown, nil, nil,
			"error.user.session_not_found", map[string]string{"id": unknown}},
		{"authenticate without token", "POST", "/api/v1/session/authenticate?login=root&password=x", nil, nil,
			"error.user.not_authenticated", nil},
		{"deauthenticate without token", "POST", "/api/v1/session/deauthenticate", nil, nil,
			"error.user.not_authenticated", nil},
		{"no login", "POST", "/api/v1/session/authenticate?password=x&token=" + token, nil, nil,
			"error.user.username_or_password_empty", nil},
		{"no password", "POST", "/api/v1/session/authenticate?login=root&token=" + token, nil, nil,
			"error.user.username_or_password_empty", nil},
		{"empty password", "POST", "/api/v1/session/authenticate?login=root&password=&token=" + token, nil, nil,
			"error.user.username_or_password_empty", nil},
		{"wrong password", "POST", "/api/v1/session/authenticate?login=root&password=nope&token=" + token, nil, nil,
			"error.user.login_failed", nil},
		{"unknown login", "POST", "/api/v1/session/authenticate?login=nobody&password=nope&token=" + token, nil, nil,
			"error.user.login_failed", nil},
		{"login is case-sensitive", "POST", "/api/v1/session/authenticate?login=ROOT&password=" + RootPassword + "&token=" + token, nil, nil,
			"error.user.login_failed", nil},
		{"disabled, right password", "POST", "/api/v1/session/authenticate?login=dora&password=dora-pw&token=" + token, nil, nil,
			"error.user.login_disabled", nil},
		{"disabled, wrong password", "POST", "/api/v1/session/authenticate?login=dora&password=nope&token=" + token, nil, nil,
			"error.user.login_failed", nil},
		{"unknown method", "POST", "/api/v1/session/authenticate?method=ldap&login=root&password=x&token=" + token, nil, nil,
			"error.user.authentication_method_not_allowed", map[string]string{"method": "ldap"}},
		{"unknown method in a list", "POST", "/api/v1/session/authenticate?method=easydb,anonymous&login=root&password=x&token=" + token, nil, nil,
			"error.user.authentication_method_not_allowed", map[string]string{"method": "anonymous"}},
		{"JSON body, password not a string", "POST", "/api/v1/session/authenticate",
			map[string]any{"token": token, "login": "root", "password": 7}, nil,
			"error.api.type_mismatch", map[string]string{"attribute": "password", "expected": "string"}},
		{"body neither JSON nor form", "POST", "/api/v1/session/authenticate", "[1,2]", nil,
			"error.api.invalid_content", nil},
		{"bad language", "GET", "/api/v1/session?language=" + url.QueryEscape("<script>"), nil, nil,
			"error.api.invalid_value", nil},
		{"wrong verb", "GET", "/api/v1/session/authenticate", nil, nil,
			"error.api.invalid_request_method", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := MustError(t, s.Do(t, c.method, c.path, c.body, c.header...), 400, c.code)
			for k, v := range c.params {
				if e.Parameters[k] != v {
					t.Fatalf("parameter %s = %q, want %q (%v)", k, e.Parameters[k], v, e.Parameters)
				}
			}
			if c.params == nil && strings.HasPrefix(c.code, "error.user.") && len(e.Parameters) != 0 {
				t.Fatalf("unexpected parameters %v", e.Parameters)
			}
		})
	}

	// An unknown login and a wrong password are indistinguishable, body
	// and all.
	a := s.Do(t, "POST", "/api/v1/session/authenticate?login=nobody&password=nope&token="+token, nil)
	b := s.Do(t, "POST", "/api/v1/session/authenticate?login=root&password=nope&token="+token, nil)
	if string(a.Body) != string(b.Body) {
		t.Fatalf("unknown login %s, wrong password %s", a.Body, b.Body)
	}
	// The failed attempts left the session as it was.
	if o := sessDecode(t, sessGet(t, s, token)); o.User != nil {
		t.Fatal("a failed login authenticated the session")
	}
}

// TestSessionLoginTiming: an unknown login costs the same as a wrong
// password (both run argon2id), so the answer time does not reveal which
// logins exist. Not parallel: other tests' load would blur the timing.
func TestSessionLoginTiming(t *testing.T) {
	s := MustStartServer(t, func(c *server.Config) { c.LoginMaxFailures = 1000 })
	token := sessNew(t, s).Token
	var known, unknown []time.Duration
	for range 7 { // interleaved, so that load changes hit both alike
		for _, login := range []string{"root", "no-such-user"} {
			start := time.Now()
			MustError(t, sessAuth(t, s, token, login, "wrong"), 400, "error.user.login_failed")
			if login == "root" {
				known = append(known, time.Since(start))
			} else {
				unknown = append(unknown, time.Since(start))
			}
		}
	}
	median := func(ds []time.Duration) time.Duration {
		slices.Sort(ds)
		return ds[len(ds)/2]
	}
	k, u := median(known), median(unknown)
	t.Logf("median login_failed: existing user %v, unknown login %v", k, u)
	if u < k/2 || u > k*2 {
		t.Fatalf("unknown login %v vs wrong password %v: distinguishable", u, k)
	}
}

// TestSessionLoginByEmail: an e-mail address marked use_for_login is a login
// (case-insensitive); one that is not marked is not.
func TestSessionLoginByEmail(t *testing.T) {
	t.Parallel()
	s := MustStartServer(t)
	uid := sessUser(t, s, "emil", "emil-pw", "")
	sessExec(t, s, func(tx *sql.Tx) error {
		_, err := tx.Exec(`INSERT INTO user_emails (user_id, position, email, use_for_login) VALUES
			($1, 0, 'Emil@Example.org', true), ($1, 1, 'other@example.org', false)`, uid)
		return err
	})
	for _, login := range []string{"emil", "Emil@Example.org", "emil@example.ORG"} {
		o := sessDecode(t, sessAuth(t, s, sessNew(t, s).Token, login, "emil-pw"))
		if o.User == nil || o.User.User.ID != uid {
			t.Fatalf("login %q: %s", login, o.raw)
		}
	}
	MustError(t, sessAuth(t, s, sessNew(t, s).Token, "other@example.org", "emil-pw"), 400, "error.user.login_failed")
}

// TestSessionExpiry: a session expires after SessionIdleTimeout without use,
// and use keeps it alive.
func TestSessionExpiry(t *testing.T) {
	// Not parallel: its time windows are seconds long, and the heavy parallel
	// tests of this package must not stretch them.
	s := MustStartServer(t, func(c *server.Config) { c.SessionIdleTimeout = time.Second })
	token := sessLogin(t, s, "root", RootPassword)
	idle := sessNew(t, s).Token

	// In use for twice the timeout: alive.
	for end := time.Now().Add(2 * time.Second); time.Now().Before(end); time.Sleep(200 * time.Millisecond) {
		if o := sessDecode(t, sessGet(t, s, token)); o.User == nil {
			t.Fatal("session lost its user while in use")
		}
	}
	// Unused for longer than the timeout: gone, in every way a token is used.
	MustError(t, sessGet(t, s, idle), 400, "error.user.session_not_found")
	time.Sleep(1200 * time.Millisecond)
	e := MustError(t, sessGet(t, s, token), 400, "error.user.session_not_found")
	if e.Parameters["id"] != token {
		t.Fatalf("id %q", e.Parameters["id"])
	}
	MustError(t, sessAuth(t, s, token, "root", RootPassword), 400, "error.user.session_not_found")
	MustError(t, s.Do(t, "POST", "/api/v1/session/deauthenticate?token="+token, nil), 400, "error.user.session_not_found")
}

// TestSessionLockout: after LoginMaxFailures failures within the window a
// login is blocked, even with the right password, until the window passes;
// a concurrent burst is counted exactly; unknown logins are blocked alike.
// The attempts come from one address at which bob never logged in (the
// lockout spares those where it did: TestSessionAddressLimits).
func TestSessionLockout(t *testing.T) {
	// Not parallel: its time windows are seconds long, and the heavy parallel
	// tests of this package must not stretch them.
	const maxFailures, window, burst = 3, 5 * time.Second, 12
	s := MustStartServer(t, func(c *server.Config) {
		c.LoginMaxFailures = maxFailures
		c.LoginFailureWindow = window
		c.ClientAddressHeader = "X-Forwarded-For"
	})
	sessUser(t, s, "bob", "bob-pw", "")
	token := sessNew(t, s).Token
	sessAuthFromClient := func(tb testing.TB, s *Server, token, login, password string) *Response {
		return sessAuthFrom(tb, s, "192.0.2.7", token, login, password)
	}

	// A success clears the failures before it (from its address, which
	// bob never logged in from before).
	for _, addr := range []string{"192.0.2.8", "192.0.2.9"} {
		for range maxFailures - 1 {
			MustError(t, sessAuthFrom(t, s, addr, token, "bob", "wrong"), 400, "error.user.login_failed")
		}
		sessDecode(t, sessAuthFrom(t, s, addr, token, "bob", "bob-pw"))
		var left int
		s.DB.QueryRow(`SELECT count(*) FROM login_failures WHERE login = 'bob'`).Scan(&left)
		if left != 0 {
			t.Fatalf("%d failures left after a success", left)
		}
	}

	// A concurrent burst of wrong passwords: exactly maxFailures are
	// checked, the rest blocked.
	start := time.Now()
	codes := map[string]int{}
	var untils []time.Time
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range burst {
		wg.Add(1)
		go func() {
			defer wg.Done()
			q := url.Values{"token": {token}, "login": {"bob"}, "password": {"wrong"}}
			status, e, err := sessPost(s.URL()+"/api/v1/session/authenticate?"+q.Encode(), "X-Forwarded-For", "192.0.2.7")
			mu.Lock()
			defer mu.Unlock()
			if err != nil || status != 400 {
				codes[fmt.Sprintf("status %d %v", status, err)]++
				return
			}
			codes[e.Code]++
			if e.Code == "error.user.login_blocked" {
				u, err := time.Parse(time.RFC3339, e.Parameters["until"])
				if err != nil {
					codes["bad until "+e.Parameters["until"]]++
				}
				untils = append(untils, u)
			}
		}()
	}
	wg.Wait()
	if codes["error.user.login_failed"] != maxFailures || codes["error.user.login_blocked"] != burst-maxFailures || len(codes) != 2 {
		t.Fatalf("burst of %d: want %d login_failed and the rest login_blocked, got %v", burst, maxFailures, codes)
	}
	for _, u := range untils {
		if u.Before(start.Add(window).Truncate(time.Second)) || u.After(time.Now().Add(window+time.Second)) {
			t.Fatalf("until %v: want about %v after %v", u, window, start)
		}
	}

	// The right password is blocked too, and the session stays as it was.
	e := MustError(t, sessAuthFromClient(t, s, token, "bob", "bob-pw"), 400, "error.user.login_blocked")
	until, _ := time.Parse(time.RFC3339, e.Parameters["until"])
	if o := sessDecode(t, sessDeauth(t, s, token)); o.User != nil {
		t.Fatal("blocked session has a user")
	}
	if e.Parameters["reason"] != "login" {
		t.Fatalf("reason %q, want login", e.Parameters["reason"])
	}
	var stored int
	s.DB.QueryRow(`SELECT count(*) FROM login_failures WHERE login = 'bob'`).Scan(&stored)
	if stored != maxFailures {
		t.Fatalf("%d failures stored, want %d: blocked attempts are not failures", stored, maxFailures)
	}

	// Other logins are not affected; an unknown login is blocked the same
	// way, so the block reveals nothing either.
	sessDecode(t, sessAuthFromClient(t, s, sessNew(t, s).Token, "root", RootPassword))
	for range maxFailures {
		MustError(t, sessAuthFromClient(t, s, token, "ghost", "x"), 400, "error.user.login_failed")
	}
	MustError(t, sessAuthFromClient(t, s, token, "ghost", "x"), 400, "error.user.login_blocked")

	// Once the window has passed, the right password works.
	time.Sleep(time.Until(until) + 50*time.Millisecond)
	if o := sessDecode(t, sessAuthFromClient(t, s, token, "bob", "bob-pw")); o.User == nil {
		t.Fatal("not authenticated after the block")
	}
}

// sessAuthFrom is sessAuth from client address addr, for a server whose
// ClientAddressHeader is X-Forwarded-For.
func sessAuthFrom(tb testing.TB, s *Server, addr, token, login, password string) *Response {
	tb.Helper()
	q := url.Values{"token": {token}, "login": {login}, "password": {password}}
	return s.Do(tb, "POST", "/api/v1/session/authenticate?"+q.Encode(), nil, "X-Forwarded-For", addr)
}

// sessPost is a POST that is safe to call from any goroutine; header are
// name, value pairs.
func sessPost(u string, header ...string) (int, APIError, error) {
	var e APIError
	req, err := http.NewRequest("POST", u, nil)
	if err != nil {
		return 0, e, err
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, e, err
	}
	defer resp.Body.Close()
	err = json.NewDecoder(resp.Body).Decode(&e)
	return resp.StatusCode, e, err
}

func sessDeauth(tb testing.TB, s *Server, token string) *Response {
	tb.Helper()
	return s.Do(tb, "POST", "/api/v1/session/deauthenticate?token="+url.QueryEscape(token), nil)
}

// TestSessionRootPassword: at first start without a configured password,
// root gets a generated one, printed once to stderr and never logged; of
// several processes starting at once, exactly one prints; a later start
// prints nothing.
func TestSessionRootPassword(t *testing.T) {
	t.Parallel()
	dbURL := dbtest.NewDatabaseURL(t) // root has no password yet
	const starters = 3
	var (
		wg   sync.WaitGroup
		outs [starters]*syncBuffer
		logs [starters]*syncBuffer
		srvs [starters]*server.Main
		errs [starters]error
	)
	for i := range starters {
		outs[i], logs[i] = &syncBuffer{}, &syncBuffer{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			srvs[i], errs[i] = startUnmanaged(dbURL, "", outs[i], logs[i])
		}()
	}
	wg.Wait()
	for i, m := range srvs {
		if m != nil {
			t.Cleanup(func() { m.Close() })
		}
		if errs[i] != nil {
			t.Fatalf("start %d: %v", i, errs[i])
		}
	}
	line := regexp.MustCompile(`(?m)^groupd: generated password for user root: (\S+)$`)
	var printed []string
	for _, o := range outs {
		for _, m := range line.FindAllStringSubmatch(o.String(), -1) {
			printed = append(printed, m[1])
		}
	}
	if len(printed) != 1 {
		t.Fatalf("want the password printed exactly once, got %d times: %q", len(printed), printed)
	}
	pw := printed[0]
	for i, l := range logs {
		if strings.Contains(l.String(), pw) {
			t.Fatalf("process %d logged the password:\n%s", i, l.String())
		}
	}
	s := &Server{Main: srvs[0], Logs: &syncBuffer{}, t: t}
	for _, m := range srvs {
		s.Main = m
		sessDecode(t, sessAuth(t, s, sessNew(t, s).Token, "root", pw))
	}
	// A restart does not print again, and GROUPD_ROOT_PASSWORD no longer
	// changes the password once one is set.
	out := &syncBuffer{}
	m, err := startUnmanaged(dbURL, "ignored-now", out, &syncBuffer{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	if out.String() != "" {
		t.Fatalf("second start printed %q", out.String())
	}
	s.Main = m
	sessDecode(t, sessAuth(t, s, sessNew(t, s).Token, "root", pw))
	MustError(t, sessAuth(t, s, sessNew(t, s).Token, "root", "ignored-now"), 400, "error.user.login_failed")
}

// TestSessionTwoProcesses: two groupd processes on one database. A change
// written through one, with its notification in the same transaction, is
// seen by the other within 100 ms although the other caches sessions and
// principals. Not parallel: the 100 ms are about notifications, not about
// the load of other tests.
func TestSessionTwoProcesses(t *testing.T) {
	a := MustStartServer(t)
	b := MustStartServerOn(t, a.Config.DatabaseURL)
	uid := sessUser(t, a, "carol", "carol-pw", "")
	gid := sessGroup(t, a, "staff", `{"system.group":{"create":true}}`)
	token := sessLogin(t, a, "carol", "carol-pw") // logged in at A, used at B
	warm := sessDecode(t, sessGet(t, b, token))
	if got := warm.groupNames(); !slices.Equal(got, []string{":all", ":non_system"}) {
		t.Fatalf("carol's groups at B: %v", got)
	}

	// Without a notification B keeps what it cached: the cache is real.
	sessExec(t, a, func(tx *sql.Tx) error {
		_, err := tx.Exec(`UPDATE users SET system_rights = '{"system.tagmanager":{}}' WHERE id = $1`, uid)
		return err
	})
	time.Sleep(150 * time.Millisecond)
	if o := sessDecode(t, sessGet(t, b, token)); len(o.SystemRights) != 0 {
		t.Fatalf("B did not cache the principal: %s", o.raw["system_rights"])
	}

	// waitAtB polls B until cond holds and returns how long that took.
	waitAtB := func(what string, cond func(o sessOut, r *Response) bool) time.Duration {
		t.Helper()
		start := time.Now()
		for {
			r := sessGet(t, b, token)
			var o sessOut
			if r.StatusCode == 200 {
				o = sessDecode(t, r)
			}
			if cond(o, r) {
				d := time.Since(start)
				t.Logf("%s: seen at B after %v", what, d)
				if d > 100*time.Millisecond {
					t.Errorf("%s: B saw it after %v, want within 100ms", what, d)
				}
				return d
			}
			if time.Since(start) > 5*time.Second {
				t.Fatalf("%s: B never saw it; last %d %s", what, r.StatusCode, r.Body)
			}
			time.Sleep(2 * time.Millisecond)
		}
	}

	// A membership with NotifyUsers in its transaction.
	sessExec(t, a, func(tx *sql.Tx) error {
		if _, err := tx.Exec(`INSERT INTO memberships (group_id, user_id) VALUES ($1, $2)`, gid, uid); err != nil {
			return err
		}
		return session.NotifyUsers(context.Background(), tx, uid)
	})
	waitAtB("membership (NotifyUsers)", func(o sessOut, _ *Response) bool {
		return slices.Contains(o.groupNames(), "staff") && o.SystemRights["system.group"]["create"] == true &&
			o.SystemRights["system.tagmanager"] != nil
	})

	// A group's system rights with NotifyGroups.
	sessExec(t, a, func(tx *sql.Tx) error {
		if _, err := tx.Exec(`UPDATE groups SET system_rights = '{"system.datamodel":{}}' WHERE id = $1`, gid); err != nil {
			return err
		}
		return session.NotifyGroups(context.Background(), tx, gid)
	})
	waitAtB("group system rights (NotifyGroups)", func(o sessOut, _ *Response) bool {
		return o.SystemRights["system.datamodel"] != nil && o.SystemRights["system.group"] == nil
	})

	// Logged out at A: B sees an unauthenticated session.
	sessDecode(t, a.Do(t, "POST", "/api/v1/session/deauthenticate?token="+token, nil))
	waitAtB("deauthenticate", func(o sessOut, _ *Response) bool { return o.Token != "" && o.User == nil })

	// Sessions deleted (as a password change does) with NotifySessions.
	token = sessLogin(t, a, "carol", "carol-pw")
	sessDecode(t, sessGet(t, b, token))
	sessExec(t, a, func(tx *sql.Tx) error {
		if _, err := tx.Exec(`DELETE FROM sessions WHERE user_id = $1`, uid); err != nil {
			return err
		}
		return session.NotifySessions(context.Background(), tx, uid)
	})
	waitAtB("sessions deleted (NotifySessions)", func(_ sessOut, r *Response) bool {
		var e APIError
		json.Unmarshal(r.Body, &e)
		return e.Code == "error.user.session_not_found"
	})
}

// startUnmanaged starts a groupd on databaseURL with rootPassword and stderr.
// It reports errors rather than failing the test, so goroutines may call it.
func startUnmanaged(databaseURL, rootPassword string, stderr, logs *syncBuffer) (*server.Main, error) {
	cfg := server.DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	cfg.DatabaseURL = databaseURL
	cfg.RootPassword = rootPassword
	cfg.Stderr = stderr
	cfg.LogOutput = logs
	m := server.NewMain(cfg)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := m.Open(ctx); err != nil {
		return nil, fmt.Errorf("%w\n%s", err, logs.String())
	}
	return m, nil
}
