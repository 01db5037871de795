package integration

// Personal API tokens (issue 15): create, use, list and revoke over real
// HTTP; scopes; expiry; revocation and a disabled user seen by a second
// process within 100 ms; the secret nowhere after its creation.

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

type apiTokenOut struct {
	ID    int64  `json:"_id"`
	User  int64  `json:"user_id"`
	Name  string `json:"name"`
	Scope struct {
		ReadOnly     bool           `json:"read_only"`
		SystemRights map[string]any `json:"system_rights"`
	} `json:"scope"`
	Created         string  `json:"created"`
	Expires         *string `json:"expires"`
	LastUsed        *string `json:"last_used"`
	LastUsedAddress *string `json:"last_used_address"`
	Secret          string  `json:"secret"`
}

// createAPIToken creates a token through c and returns it with its secret.
func createAPIToken(t *testing.T, c *Client, body string) apiTokenOut {
	t.Helper()
	r := c.Do(t, "PUT", "/api/v1/token", body)
	if r.StatusCode != 200 {
		t.Fatalf("PUT /api/v1/token %s: %d %s", body, r.StatusCode, r.Body)
	}
	var tok apiTokenOut
	r.JSON(t, &tok)
	if !strings.HasPrefix(tok.Secret, "gdp_") || len(tok.Secret) != 47 || tok.ID == 0 {
		t.Fatalf("created token: %s", r.Body)
	}
	return tok
}

func listAPITokens(t *testing.T, c *Client, query string) []apiTokenOut {
	t.Helper()
	r := c.Do(t, "GET", "/api/v1/token"+query, nil)
	if r.StatusCode != 200 {
		t.Fatalf("GET /api/v1/token%s: %d %s", query, r.StatusCode, r.Body)
	}
	var out []apiTokenOut
	r.JSON(t, &out)
	if bytes.Contains(r.Body, []byte("gdp_")) || bytes.Contains(r.Body, []byte(`"secret"`)) {
		t.Fatalf("a token list carries a secret: %s", r.Body)
	}
	return out
}

// waitRefused polls s with secret until a GET of path is refused with
// session_not_found, and returns how long that took from since.
func waitRefused(t *testing.T, s *Server, secret, path string, since time.Time) time.Duration {
	t.Helper()
	client := &http.Client{Timeout: 10 * time.Second}
	for {
		r := rawDo(client, "GET", s.URL()+path, secret, nil)
		if r.Err != nil {
			t.Fatalf("GET %s: %v", path, r.Err)
		}
		if bytes.Contains(r.Body, []byte(secret)) || bytes.Contains(r.Body, []byte(secret[4:])) {
			t.Fatalf("GET %s: the answer carries the secret: %s", path, r.Body)
		}
		if r.Status == 400 && r.Code == "error.user.session_not_found" {
			return time.Since(since)
		}
		if r.Status != 200 {
			t.Fatalf("GET %s: %d %s", path, r.Status, r.Body)
		}
		if time.Since(since) > 5*time.Second {
			t.Fatalf("GET %s: still accepted after 5s", path)
		}
	}
}

func TestAPITokens(t *testing.T) {
	a := MustStartServer(t)
	b := MustStartServerOn(t, a.Config.DatabaseURL)
	root := a.Root(t)
	uid := a.MustCreateUser(t, "job", `{"system.group":{"create":true},"system.user":{}}`)
	job := a.LoginAs(t, "job")
	var secrets []string

	// Create, and use in the header and as token=, on both processes.
	full := createAPIToken(t, job, `{"name":"nightly import"}`)
	secrets = append(secrets, full.Secret)
	if full.User != uid || full.Name != "nightly import" || full.Expires != nil || full.LastUsed != nil ||
		full.Scope.ReadOnly || full.Scope.SystemRights != nil {
		t.Fatalf("created token: %+v", full)
	}
	asToken := &Client{s: a, Token: full.Secret, UserID: uid}
	r := asToken.Do(t, "PUT", "/api/v1/group", `[{"group":{"name":"made-by-token"}}]`)
	if r.StatusCode != 200 {
		t.Fatalf("create a group with the token: %d %s", r.StatusCode, r.Body)
	}
	made := groups(t, r)[0]
	if made.Owner.User.ID != uid {
		t.Fatalf("a group made with the token is owned by its user: %s", r.Body)
	}
	r = b.Do(t, "GET", "/api/v1/session?token="+url.QueryEscape(full.Secret), nil)
	var sess struct {
		Token         string `json:"token"`
		Authenticated struct {
			Method string `json:"method"`
		} `json:"authenticated"`
		User struct {
			User struct {
				ID int64 `json:"_id"`
			} `json:"user"`
		} `json:"user"`
	}
	r.JSON(t, &sess)
	noSecret(t, r, secrets)
	if r.StatusCode != 200 || sess.User.User.ID != uid || sess.Authenticated.Method != "api_token" || sess.Token != "gdp_..." {
		t.Fatalf("GET /api/v1/session?token=<secret>: %d %s", r.StatusCode, r.Body)
	}
	// An API token is no session: it cannot log in or out.
	r = b.Do(t, "POST", "/api/v1/session/deauthenticate?token="+url.QueryEscape(full.Secret), nil)
	MustError(t, r, 400, "error.user.session_not_found")
	noSecret(t, r, secrets)

	// List: no secret, the last use recorded (time and address).
	before := time.Now().Add(-time.Minute)
	list := listAPITokens(t, job, "")
	if len(list) != 1 || list[0].ID != full.ID || list[0].Secret != "" {
		t.Fatalf("list: %+v", list)
	}
	if list[0].LastUsed == nil || list[0].LastUsedAddress == nil || *list[0].LastUsedAddress != "127.0.0.1" {
		t.Fatalf("last use not recorded: %+v", list[0])
	}
	if used, err := time.Parse(time.RFC3339Nano, *list[0].LastUsed); err != nil || used.Before(before) {
		t.Fatalf("last_used %q", *list[0].LastUsed)
	}

	// A use within the touch interval (a minute) is served from memory:
	// last_used_at is not written again.
	var stored time.Time
	if err := a.DB.QueryRow(`SELECT last_used_at FROM api_tokens WHERE id = $1`, full.ID).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if resp := asToken.Do(t, "GET", "/api/v1/group", nil); resp.StatusCode != 200 {
			t.Fatalf("GET with the token: %d %s", resp.StatusCode, resp.Body)
		}
	}
	var again time.Time
	if err := a.DB.QueryRow(`SELECT last_used_at FROM api_tokens WHERE id = $1`, full.ID).Scan(&again); err != nil ||
		!again.Equal(stored) {
		t.Fatalf("last_used_at written again within the minute: %v -> %v (%v)", stored, again, err)
	}

	// Read-only scope: reads work, every write is refused with a typed error
	// and writes nothing.
	ro := createAPIToken(t, job, `{"name":"reader","scope":{"read_only":true}}`)
	secrets = append(secrets, ro.Secret)
	readOnly := &Client{s: a, Token: ro.Secret, UserID: uid}
	if resp := readOnly.Do(t, "GET", fmt.Sprintf("/api/v1/group/%d", made.Group.ID), nil); resp.StatusCode != 200 {
		t.Fatalf("read with a read-only token: %d %s", resp.StatusCode, resp.Body)
	}
	e := MustError(t, readOnly.Do(t, "PUT", "/api/v1/group", `[{"group":{"name":"must-not-exist"}}]`),
		400, "error.user.insufficient_rights")
	if e.Parameters["type"] != "api_token" || e.Parameters["right"] != "write" || e.Parameters["operation"] != "create" ||
		e.Parameters["ids"] != fmt.Sprint(ro.ID) {
		t.Fatalf("read-only refusal parameters: %+v", e.Parameters)
	}
	MustError(t, readOnly.Do(t, "DELETE", fmt.Sprintf("/api/v1/token/%d", full.ID), nil), 400, "error.user.insufficient_rights")
	MustError(t, readOnly.Do(t, "PUT", "/api/v1/token", `{"name":"escalate"}`), 400, "error.user.insufficient_rights")
	var n int
	if err := a.DB.QueryRow(`SELECT count(*) FROM groups WHERE name = 'must-not-exist'`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("a refused write wrote: %d %v", n, err)
	}
	if got := listAPITokens(t, job, ""); len(got) != 2 {
		t.Fatalf("a refused token create wrote: %+v", got)
	}

	// A system-right scope: the token uses only what it names; a scope beyond
	// the user's rights is refused.
	narrow := createAPIToken(t, job, `{"name":"no creates","scope":{"system_rights":{"system.group":{}}}}`)
	secrets = append(secrets, narrow.Secret)
	MustError(t, (&Client{s: a, Token: narrow.Secret}).Do(t, "PUT", "/api/v1/group", `[{"group":{"name":"narrow"}}]`),
		400, "error.user.no_system_right")
	// A token made with the narrow token is no wider than it.
	narrowClient := &Client{s: a, Token: narrow.Secret, UserID: uid}
	MustError(t, narrowClient.Do(t, "PUT", "/api/v1/token", `{"name":"x","scope":{"system_rights":{"system.group":{"create":true}}}}`),
		400, "error.user.no_system_right")
	child := createAPIToken(t, narrowClient, `{"name":"child"}`)
	secrets = append(secrets, child.Secret)
	if fmt.Sprint(child.Scope.SystemRights) != "map[system.group:map[]]" {
		t.Fatalf("a token made with a scoped token has scope %v", child.Scope.SystemRights)
	}
	MustError(t, (&Client{s: a, Token: child.Secret}).Do(t, "PUT", "/api/v1/group", `[{"group":{"name":"child"}}]`),
		400, "error.user.no_system_right")
	if resp := narrowClient.Do(t, "DELETE", fmt.Sprintf("/api/v1/token/%d", child.ID), nil); resp.StatusCode != 200 {
		t.Fatalf("revoke child: %d %s", resp.StatusCode, resp.Body)
	}
	MustError(t, job.Do(t, "PUT", "/api/v1/token", `{"name":"x","scope":{"system_rights":{"system.root":{}}}}`),
		400, "error.user.no_system_right")
	MustError(t, job.Do(t, "PUT", "/api/v1/token", `{"name":"x","scope":{"system_rights":{"system.group":{"edit_acl":true}}}}`),
		400, "error.user.no_system_right")
	MustError(t, job.Do(t, "PUT", "/api/v1/token", `{"name":"x","scope":{"system_rights":{"system.nonsense":{}}}}`),
		400, "error.user.right_not_found")
	MustError(t, job.Do(t, "PUT", "/api/v1/token", `{"scope":{}}`), 400, "error.api.attribute_expected")
	MustError(t, job.Do(t, "PUT", "/api/v1/token", `{"name":"x","expires":"2001-01-01T00:00:00Z"}`), 400, "error.api.invalid_value")
	MustError(t, job.Do(t, "PUT", "/api/v1/token", `{"name":"x","secret":"gdp_mine"}`), 400, "error.api.attribute_not_accepted")

	// Other users' tokens: system.user alone does not suffice; root may.
	MustError(t, job.Do(t, "GET", "/api/v1/token?user=1", nil), 400, "error.user.no_system_right")
	if got := listAPITokens(t, root, fmt.Sprintf("?user=%d", uid)); len(got) != 3 {
		t.Fatalf("root lists job's tokens: %+v", got)
	}
	a.MustCreateUser(t, "tokenadmin", `{"system.user":{"manage_api_tokens":true}}`)
	admin := a.LoginAs(t, "tokenadmin")
	if got := listAPITokens(t, admin, fmt.Sprintf("?user=%d", uid)); len(got) != 3 {
		t.Fatalf("manage_api_tokens lists job's tokens: %+v", got)
	}
	other := a.MustCreateUser(t, "other", "")
	otherClient := a.LoginAs(t, "other")
	MustError(t, otherClient.Do(t, "DELETE", fmt.Sprintf("/api/v1/token/%d", narrow.ID), nil), 400, "error.user.object_not_found")
	_ = other

	// Revocation: both processes have the token cached; both refuse it
	// within 100 ms of the answer to the DELETE.
	for _, s := range []*Server{a, b} {
		if r := rawDo(http.DefaultClient, "GET", s.URL()+"/api/v1/group", full.Secret, nil); r.Status != 200 {
			t.Fatalf("token before revocation: %v", r)
		}
	}
	r = job.Do(t, "DELETE", fmt.Sprintf("/api/v1/token/%d", full.ID), nil)
	if r.StatusCode != 200 {
		t.Fatalf("revoke: %d %s", r.StatusCode, r.Body)
	}
	revoked := time.Now()
	for _, s := range []*Server{b, a} {
		if d := waitRefused(t, s, full.Secret, "/api/v1/group", revoked); d > 100*time.Millisecond {
			t.Errorf("revocation took %v to reach a process", d)
		} else {
			t.Logf("revocation refused on %s after %v", s.URL(), d)
		}
	}
	MustError(t, job.Do(t, "DELETE", fmt.Sprintf("/api/v1/token/%d", full.ID), nil), 400, "error.user.object_not_found")

	// An administrator revokes another user's token.
	if resp := admin.Do(t, "DELETE", fmt.Sprintf("/api/v1/token/%d", narrow.ID), nil); resp.StatusCode != 200 {
		t.Fatalf("admin revokes: %d %s", resp.StatusCode, resp.Body)
	}

	// Disabling the user stops its tokens on every process within 100 ms.
	for _, s := range []*Server{a, b} {
		if r := rawDo(http.DefaultClient, "GET", s.URL()+"/api/v1/group", ro.Secret, nil); r.Status != 200 {
			t.Fatalf("token before disabling: %v", r)
		}
	}
	r = root.Do(t, "POST", "/api/v1/user", fmt.Sprintf(`[{"user":{"_id":%d,"_version":2,"login_disabled":true}}]`, uid))
	if r.StatusCode != 200 {
		t.Fatalf("disable: %d %s", r.StatusCode, r.Body)
	}
	disabled := time.Now()
	for _, s := range []*Server{b, a} {
		if d := waitRefused(t, s, ro.Secret, "/api/v1/group", disabled); d > 100*time.Millisecond {
			t.Errorf("disabling took %v to reach a process", d)
		} else {
			t.Logf("disabled user's token refused on %s after %v", s.URL(), d)
		}
	}

	// Audit trail: the creates and the revocations, never a secret.
	r = root.Do(t, "GET", "/api/v1/events?type=api_token", nil)
	var events []struct {
		Action   string `json:"action"`
		ObjectID int64  `json:"object_id"`
		Actor    int64  `json:"actor_user_id"`
	}
	r.JSON(t, &events)
	noSecret(t, r, secrets)
	var actions []string
	for _, e := range events {
		actions = append(actions, fmt.Sprintf("%s %d by %d", e.Action, e.ObjectID, e.Actor))
	}
	want := []string{fmt.Sprintf("create %d by %d", full.ID, uid), fmt.Sprintf("create %d by %d", ro.ID, uid),
		fmt.Sprintf("create %d by %d", narrow.ID, uid), fmt.Sprintf("create %d by %d", child.ID, uid),
		fmt.Sprintf("delete %d by %d", child.ID, uid), fmt.Sprintf("delete %d by %d", full.ID, uid)}
	if len(actions) != 7 || strings.Join(actions[:6], ";") != strings.Join(want, ";") ||
		!strings.HasPrefix(actions[6], fmt.Sprintf("delete %d by ", narrow.ID)) || strings.HasSuffix(actions[6], fmt.Sprint(uid)) {
		t.Fatalf("audit events: %v", actions)
	}

	// Deleting the user deletes its tokens.
	var left int
	if resp := root.Do(t, "DELETE", fmt.Sprintf("/api/v1/group/%d", made.Group.ID), nil); resp.StatusCode != 200 {
		t.Fatalf("delete the user's group: %d %s", resp.StatusCode, resp.Body)
	}
	r = root.Do(t, "DELETE", fmt.Sprintf("/api/v1/user/%d", uid), nil)
	if r.StatusCode != 200 {
		t.Fatalf("delete user: %d %s", r.StatusCode, r.Body)
	}
	if err := a.DB.QueryRow(`SELECT count(*) FROM api_tokens WHERE user_id = $1`, uid).Scan(&left); err != nil || left != 0 {
		t.Fatalf("tokens of a deleted user: %d %v", left, err)
	}

	assertNoSecrets(t, []*Server{a, b}, secrets)
}

// noSecret fails when an answer carries one of the secrets, whole or
// without its prefix.
func noSecret(t *testing.T, r *Response, secrets []string) {
	t.Helper()
	for _, s := range secrets {
		if bytes.Contains(r.Body, []byte(s)) || bytes.Contains(r.Body, []byte(s[4:])) {
			t.Fatalf("an answer carries a secret: %s", r.Body)
		}
	}
}

// assertNoSecrets checks that no secret is stored (any table, as text) or
// logged by any process. Answers are checked where they are received.
func assertNoSecrets(t *testing.T, servers []*Server, secrets []string) {
	t.Helper()
	for _, s := range servers {
		logs := s.Logs.String()
		for _, secret := range secrets {
			if strings.Contains(logs, secret) || strings.Contains(logs, secret[4:]) {
				t.Errorf("a secret is in the log")
			}
		}
	}
	rows, err := servers[0].DB.Query(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'`)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, name)
	}
	rows.Close()
	for _, table := range tables {
		for _, secret := range secrets {
			var found bool
			q := fmt.Sprintf(`SELECT EXISTS (SELECT 1 FROM %q t WHERE strpos(t::text, $1) > 0 OR strpos(t::text, $2) > 0)`, table)
			if err := servers[0].DB.QueryRow(q, secret, secret[4:]).Scan(&found); err != nil {
				t.Fatal(err)
			}
			if found {
				t.Errorf("a secret is stored in table %s", table)
			}
		}
	}
}

func TestAPITokenExpiry(t *testing.T) {
	a := MustStartServer(t)
	b := MustStartServerOn(t, a.Config.DatabaseURL)
	a.MustCreateUser(t, "cron", "")
	cron := a.LoginAs(t, "cron")
	expires := time.Now().Add(2 * time.Second).UTC().Truncate(time.Millisecond)
	tok := createAPIToken(t, cron, fmt.Sprintf(`{"name":"short","expires":%q}`, expires.Format(time.RFC3339Nano)))
	if tok.Expires == nil {
		t.Fatalf("expires not shown: %+v", tok)
	}
	if got, err := time.Parse(time.RFC3339Nano, *tok.Expires); err != nil || !got.Equal(expires) {
		t.Fatalf("expires %q, want %v", *tok.Expires, expires)
	}
	// Both processes accept it, and cache it.
	for _, s := range []*Server{a, b} {
		if r := rawDo(http.DefaultClient, "GET", s.URL()+"/api/v1/session", tok.Secret, nil); r.Status != 200 {
			t.Fatalf("token before expiry: %v", r)
		}
	}
	time.Sleep(time.Until(expires))
	for _, s := range []*Server{a, b} {
		if d := waitRefused(t, s, tok.Secret, "/api/v1/session", expires); d > 100*time.Millisecond {
			t.Errorf("expiry took %v to reach a process", d)
		}
	}
	assertNoSecrets(t, []*Server{a, b}, []string{tok.Secret})
}
