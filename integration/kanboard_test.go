package integration

// Kanboard's JSON-RPC (issue 16): real JSON-RPC over HTTP against the real
// server, every exchange validated against the OpenAPI document by
// Server.Do. /work's reference is ../shared/reference/kanboard-wire.md.

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/groupd/groupd/server"
)

// kanboardToken is the application API token of the test servers.
const kanboardToken = "kanboard-app-token-for-tests"

func startKanboard(t *testing.T, configure ...func(*server.Config)) *Server {
	t.Helper()
	return MustStartServer(t, append([]func(*server.Config){func(c *server.Config) {
		c.KanboardAPIToken = kanboardToken
	}}, configure...)...)
}

func basicAuth(login, secret string) []string {
	return []string{"Authorization", "Basic " + base64.StdEncoding.EncodeToString([]byte(login+":"+secret))}
}

// kb is a JSON-RPC client of one server with one set of credentials.
type kb struct {
	s      *Server
	header []string
}

func appClient(s *Server) kb { return kb{s: s, header: basicAuth("jsonrpc", kanboardToken)} }

// post sends body (a string as is, anything else as JSON) to /jsonrpc.php.
func (k kb) post(t testing.TB, body any, header ...string) *Response {
	t.Helper()
	return k.s.Do(t, "POST", "/jsonrpc.php", body, append(append([]string{}, k.header...), header...)...)
}

type rpcErr struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Data    string `json:"data"`
}

type rpcResp struct {
	JSONRPC string          `json:"jsonrpc"`
	Result  json.RawMessage `json:"result"`
	Error   *rpcErr         `json:"error"`
	ID      json.RawMessage `json:"id"`
}

// answer decodes a single response of HTTP 200.
func answer(t testing.TB, r *Response) rpcResp {
	t.Helper()
	if r.StatusCode != 200 {
		t.Fatalf("HTTP %d %s", r.StatusCode, r.Body)
	}
	var out rpcResp
	r.JSON(t, &out)
	if out.JSONRPC != "2.0" {
		t.Fatalf("no jsonrpc 2.0: %s", r.Body)
	}
	return out
}

// call runs method with params (id 1) and returns the result's JSON text.
func (k kb) call(t testing.TB, method string, params any) string {
	t.Helper()
	req := map[string]any{"jsonrpc": "2.0", "method": method, "id": 1}
	if params != nil {
		req["params"] = params
	}
	a := answer(t, k.post(t, req))
	if a.Error != nil {
		t.Fatalf("%s %v: error %+v", method, params, *a.Error)
	}
	if string(a.ID) != "1" {
		t.Fatalf("%s: id %s", method, a.ID)
	}
	return string(a.Result)
}

// callError runs method and returns its JSON-RPC error.
func (k kb) callError(t testing.TB, method string, params any) rpcErr {
	t.Helper()
	a := answer(t, k.post(t, map[string]any{"jsonrpc": "2.0", "method": method, "params": params, "id": "e"}))
	if a.Error == nil {
		t.Fatalf("%s %v: want an error, got %s", method, params, a.Result)
	}
	if string(a.ID) != `"e"` {
		t.Fatalf("%s: id %s", method, a.ID)
	}
	return *a.Error
}

// mustStatus asserts the whole exchange was answered status with Kanboard's
// one error object (id null).
func mustStatus(t testing.TB, r *Response, status, code int, message string) {
	t.Helper()
	if r.StatusCode != status {
		t.Fatalf("want HTTP %d, got %d %s", status, r.StatusCode, r.Body)
	}
	want := fmt.Sprintf(`{"jsonrpc":"2.0","error":{"code":%d,"message":%q},"id":null}`, code, message)
	if string(r.Body) != want {
		t.Fatalf("want body %s, got %s", want, r.Body)
	}
	if status == 401 && r.Header.Get("WWW-Authenticate") != `Basic realm="JsonRPC"` {
		t.Fatalf("401 without WWW-Authenticate: %v", r.Header)
	}
}

func eq(t testing.TB, what, got, want string) {
	t.Helper()
	if got != want {
		t.Fatalf("%s: got %s, want %s", what, got, want)
	}
}

func atoi(t testing.TB, s string) int64 {
	t.Helper()
	var n int64
	if err := json.Unmarshal([]byte(s), &n); err != nil || n <= 0 {
		t.Fatalf("want a positive JSON integer, got %s", s)
	}
	return n
}

func TestKanboardGroupProcedures(t *testing.T) {
	t.Parallel()
	s := startKanboard(t)
	k := appClient(s)
	root := s.Root(t)

	// createGroup: positional and named, with and without external_id.
	b := atoi(t, k.call(t, "createGroup", []any{"b-team"}))
	a := atoi(t, k.call(t, "createGroup", map[string]any{"name": "A-team", "external_id": "ldap-a"}))
	c := atoi(t, k.call(t, "createGroup", map[string]any{"name": "a-team", "external_id": ""}))
	eq(t, "duplicate name", k.call(t, "createGroup", []any{"b-team"}), "false")
	eq(t, "duplicate external_id (a reference is unique)", k.call(t, "createGroup", []any{"other", "ldap-a"}), "false")

	// getGroup: Kanboard's three columns, a string id works, unknown is null.
	eq(t, "getGroup", k.call(t, "getGroup", []any{a}), fmt.Sprintf(`{"id":%d,"external_id":"ldap-a","name":"A-team"}`, a))
	eq(t, "getGroup by string id", k.call(t, "getGroup", []any{fmt.Sprint(b)}), fmt.Sprintf(`{"id":%d,"external_id":"","name":"b-team"}`, b))
	eq(t, "getGroup unknown", k.call(t, "getGroup", []any{999999}), "null")
	eq(t, "getGroup of a system group", k.call(t, "getGroup", []any{1}), "null")
	eq(t, "getGroup of a non-id", k.call(t, "getGroup", []any{"x"}), "null")

	// getAllGroups: by name in byte order, nb_users as integers, no system groups.
	eq(t, "getAllGroups", k.call(t, "getAllGroups", map[string]any{}), fmt.Sprintf(
		`[{"id":%d,"name":"A-team","external_id":"ldap-a","nb_users":0},{"id":%d,"name":"a-team","external_id":"","nb_users":0},{"id":%d,"name":"b-team","external_id":"","nb_users":0}]`, a, c, b))

	// updateGroup: rename, set and clear external_id (null keeps).
	eq(t, "rename", k.call(t, "updateGroup", []any{b, "B-team"}), "true")
	eq(t, "set external_id", k.call(t, "updateGroup", map[string]any{"group_id": b, "external_id": "ldap-b"}), "true")
	eq(t, "after", k.call(t, "getGroup", []any{b}), fmt.Sprintf(`{"id":%d,"external_id":"ldap-b","name":"B-team"}`, b))
	eq(t, "clear external_id", k.call(t, "updateGroup", []any{b, nil, ""}), "true")
	if g := getGroup(t, root, b); g.Group.Reference != nil {
		t.Fatalf("'' must clear the reference: %+v", g.Group)
	}
	eq(t, "rename to a taken name", k.call(t, "updateGroup", []any{b, "A-team"}), "false")
	eq(t, "unchanged", k.call(t, "getGroup", []any{b}), fmt.Sprintf(`{"id":%d,"external_id":"","name":"B-team"}`, b))
	// Kanboard's quirk: an unknown id answers true; the cause is audited.
	eq(t, "unknown id", k.call(t, "updateGroup", []any{777777, "ghost"}), "true")
	ev := root.Do(t, "GET", "/api/v1/events?type=group&object_id=777777", nil)
	if ev.StatusCode != 200 || !bytes.Contains(ev.Body, []byte(`"action":"refused"`)) ||
		!bytes.Contains(ev.Body, []byte("error.user.group_not_found")) {
		t.Fatalf("the refused updateGroup is not on the audit trail: %d %s", ev.StatusCode, ev.Body)
	}
	if e := k.callError(t, "updateGroup", []any{b}); e.Code != 0 || e.Message == "" {
		t.Fatalf("nothing to update: %+v", e)
	}

	// removeGroup: true, then false.
	eq(t, "removeGroup", k.call(t, "removeGroup", []any{c}), "true")
	eq(t, "removeGroup again", k.call(t, "removeGroup", []any{c}), "false")
	eq(t, "removeGroup of a system group", k.call(t, "removeGroup", []any{1}), "false")
	eq(t, "gone", k.call(t, "getGroup", []any{c}), "null")
}

func TestKanboardMemberProcedures(t *testing.T) {
	t.Parallel()
	s := startKanboard(t)
	k := appClient(s)
	root := s.Root(t)
	g := atoi(t, k.call(t, "createGroup", []any{"devs", "ldap-devs"}))
	h := atoi(t, k.call(t, "createGroup", []any{"Admins"}))
	u := atoi(t, k.call(t, "createUser", []any{"zoe", "zoe-password", "Zoe Z", "zoe@example.com"}))
	v := atoi(t, k.call(t, "createUser", map[string]any{"username": "al", "password": "al-password"}))

	eq(t, "add", k.call(t, "addGroupMember", []any{g, u}), "true")
	eq(t, "add again", k.call(t, "addGroupMember", []any{g, u}), "false")
	eq(t, "add unknown user", k.call(t, "addGroupMember", []any{g, 999999}), "false")
	eq(t, "add to unknown group", k.call(t, "addGroupMember", []any{999999, u}), "false")
	eq(t, "add to a system group", k.call(t, "addGroupMember", []any{1, u}), "false")
	eq(t, "add second", k.call(t, "addGroupMember", map[string]any{"group_id": fmt.Sprint(g), "user_id": v}), "true")
	eq(t, "add to Admins", k.call(t, "addGroupMember", []any{h, u}), "true")

	eq(t, "isGroupMember", k.call(t, "isGroupMember", []any{g, u}), "true")
	eq(t, "isGroupMember not", k.call(t, "isGroupMember", []any{h, v}), "false")
	eq(t, "isGroupMember unknown", k.call(t, "isGroupMember", []any{999999, u}), "false")
	eq(t, "isGroupMember system group", k.call(t, "isGroupMember", []any{1, u}), "false")

	eq(t, "getMemberGroups", k.call(t, "getMemberGroups", []any{u}),
		fmt.Sprintf(`[{"id":%d,"external_id":"","name":"Admins"},{"id":%d,"external_id":"ldap-devs","name":"devs"}]`, h, g))
	eq(t, "getMemberGroups unknown user", k.call(t, "getMemberGroups", []any{999999}), "[]")

	members := k.call(t, "getGroupMembers", []any{g})
	var rows []map[string]any
	if err := json.Unmarshal([]byte(members), &rows); err != nil || len(rows) != 2 {
		t.Fatalf("getGroupMembers: %s", members)
	}
	if rows[0]["username"] != "al" || rows[1]["username"] != "zoe" || rows[1]["email"] != "zoe@example.com" ||
		rows[1]["name"] != "Zoe Z" || rows[1]["role"] != "app-user" {
		t.Fatalf("getGroupMembers rows: %s", members)
	}
	if !strings.Contains(members, fmt.Sprintf(`"group_id":%d,"user_id":%d`, g, u)) || strings.Contains(members, "password") {
		t.Fatalf("getGroupMembers: ids as integers, no password: %s", members)
	}
	eq(t, "getGroupMembers unknown", k.call(t, "getGroupMembers", []any{999999}), "[]")

	eq(t, "getAllGroups counts", k.call(t, "getAllGroups", nil), fmt.Sprintf(
		`[{"id":%d,"name":"Admins","external_id":"","nb_users":1},{"id":%d,"name":"devs","external_id":"ldap-devs","nb_users":2}]`, h, g))

	eq(t, "remove", k.call(t, "removeGroupMember", []any{g, v}), "true")
	eq(t, "remove again", k.call(t, "removeGroupMember", []any{g, v}), "false")
	eq(t, "isGroupMember after", k.call(t, "isGroupMember", []any{g, v}), "false")

	// The same audit events as the members API.
	ev := root.Do(t, "GET", fmt.Sprintf("/api/v1/events?type=membership&object_id=%d", g), nil)
	if ev.StatusCode != 200 || !bytes.Contains(ev.Body, []byte(`"action":"add_member"`)) ||
		!bytes.Contains(ev.Body, []byte(`"action":"remove_member"`)) {
		t.Fatalf("membership events: %s", ev.Body)
	}

	// Removing a group removes its memberships.
	eq(t, "removeGroup", k.call(t, "removeGroup", []any{h}), "true")
	eq(t, "getMemberGroups after", k.call(t, "getMemberGroups", []any{u}),
		fmt.Sprintf(`[{"id":%d,"external_id":"ldap-devs","name":"devs"}]`, g))
}

func TestKanboardUserProcedures(t *testing.T) {
	t.Parallel()
	s := startKanboard(t)
	k := appClient(s)
	root := s.Root(t)

	// Kanboard's own tests: one user of each role.
	ids := map[string]int64{}
	for _, role := range []string{"app-admin", "app-manager", "app-user"} {
		login := "kb-" + role
		eq(t, "getUserByName before", k.call(t, "getUserByName", []any{login}), "null")
		ids[role] = atoi(t, k.call(t, "createUser", map[string]any{"username": login, "password": "password-" + role,
			"name": "Name " + role, "email": login + "@example.com", "role": role}))
	}
	eq(t, "duplicate username", k.call(t, "createUser", []any{"kb-app-user", "password-x"}), "false")
	eq(t, "unknown role", k.call(t, "createUser", []any{"kb-x", "password-x", "", "", "app-root"}), "false")
	eq(t, "password too short for groupd", k.call(t, "createUser", []any{"kb-short", "short"}), "false")

	want := fmt.Sprintf(`{"id":%d,"username":"kb-app-manager","name":"Name app-manager","email":"kb-app-manager@example.com","role":"app-manager","is_active":1,"is_ldap_user":0,"notifications_enabled":0,"timezone":"","language":"","disable_login_form":0,"twofactor_activated":0,"notifications_filter":4,"nb_failed_login":0,"lock_expiration_date":0,"avatar_path":""}`, ids["app-manager"])
	eq(t, "getUser", k.call(t, "getUser", []any{ids["app-manager"]}), want)
	eq(t, "getUserByName", k.call(t, "getUserByName", map[string]any{"username": "kb-app-manager"}), want)
	eq(t, "getUser unknown", k.call(t, "getUser", []any{999999}), "null")
	for role, id := range ids {
		if got := k.call(t, "getUser", []any{id}); !strings.Contains(got, `"role":"`+role+`"`) {
			t.Fatalf("role %s read back: %s", role, got)
		}
	}
	// The role is what groupd enforces: the manager may create a group,
	// the user may not (403), the admin is root.
	mgr := kb{s: s, header: basicAuth("kb-app-manager", "password-app-manager")}
	atoi(t, mgr.call(t, "createGroup", []any{"managers-group"}))
	usr := kb{s: s, header: basicAuth("kb-app-user", "password-app-user")}
	mustStatus(t, usr.post(t, `{"jsonrpc":"2.0","method":"createGroup","params":["users-group"],"id":1}`), 403, 403, "Forbidden")
	adm := kb{s: s, header: basicAuth("kb-app-admin", "password-app-admin")}
	eq(t, "admin removes a user", adm.call(t, "getAllUsers", nil)[:1], "[")

	all := k.call(t, "getAllUsers", nil)
	if !strings.Contains(all, `"username":"kb-app-admin"`) || strings.Index(all, `"kb-app-admin"`) > strings.Index(all, `"kb-app-user"`) ||
		strings.Contains(all, "password") {
		t.Fatalf("getAllUsers (by username, no secrets): %s", all)
	}

	// updateUser: name, email, role; null keeps.
	u := ids["app-user"]
	eq(t, "updateUser", k.call(t, "updateUser", map[string]any{"id": u, "name": "Renamed", "email": "new@example.com",
		"role": "app-manager"}), "true")
	got := k.call(t, "getUser", []any{u})
	if !strings.Contains(got, `"name":"Renamed","email":"new@example.com","role":"app-manager"`) ||
		!strings.Contains(got, `"username":"kb-app-user"`) {
		t.Fatalf("after updateUser: %s", got)
	}
	eq(t, "updateUser to a taken username", k.call(t, "updateUser", []any{u, "kb-app-admin"}), "false")
	eq(t, "updateUser bad role", k.call(t, "updateUser", []any{u, nil, nil, nil, "boss"}), "false")

	// enable, disable, isActive; an unknown id is Kanboard's true, audited.
	eq(t, "isActiveUser", k.call(t, "isActiveUser", []any{u}), "true")
	eq(t, "disableUser", k.call(t, "disableUser", []any{u}), "true")
	eq(t, "isActiveUser disabled", k.call(t, "isActiveUser", []any{u}), "false")
	if got := k.call(t, "getUser", []any{u}); !strings.Contains(got, `"is_active":0`) {
		t.Fatalf("disabled: %s", got)
	}
	eq(t, "enableUser", k.call(t, "enableUser", []any{u}), "true")
	eq(t, "isActiveUser enabled", k.call(t, "isActiveUser", []any{u}), "true")
	eq(t, "disableUser unknown", k.call(t, "disableUser", []any{888888}), "true")
	ev := root.Do(t, "GET", "/api/v1/events?type=user&object_id=888888", nil)
	if !bytes.Contains(ev.Body, []byte(`"action":"refused"`)) {
		t.Fatalf("refused disableUser not audited: %s", ev.Body)
	}
	eq(t, "isActiveUser unknown", k.call(t, "isActiveUser", []any{888888}), "false")

	// getMe and getVersion.
	me := kb{s: s, header: basicAuth("kb-app-manager", "password-app-manager")}
	if got := me.call(t, "getMe", nil); !strings.Contains(got, fmt.Sprintf(`"id":%d,"username":"kb-app-manager"`, ids["app-manager"])) {
		t.Fatalf("getMe: %s", got)
	}
	mustStatus(t, k.post(t, `{"jsonrpc":"2.0","method":"getMe","id":1}`), 403, 403, "Forbidden")
	if v := k.call(t, "getVersion", []any{}); !strings.HasPrefix(v, `"`) {
		t.Fatalf("getVersion: %s", v)
	}

	// removeUser: true, then false; root cannot be removed.
	eq(t, "removeUser", k.call(t, "removeUser", []any{ids["app-admin"]}), "true")
	eq(t, "removeUser again", k.call(t, "removeUser", []any{ids["app-admin"]}), "false")
	eq(t, "removeUser root", k.call(t, "removeUser", []any{1}), "false")
	eq(t, "getUser removed", k.call(t, "getUser", []any{ids["app-admin"]}), "null")
}

func TestKanboardProtocol(t *testing.T) {
	t.Parallel()
	s := startKanboard(t)
	k := appClient(s)
	parseError := `{"jsonrpc":"2.0","error":{"code":-32700,"message":"Parse error"},"id":null}`
	invalid := `{"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid Request"},"id":null}`

	for name, body := range map[string]string{"empty": "", "malformed": `{"jsonrpc":`, "a string": `"hello"`,
		"trailing data": `{"jsonrpc":"2.0","method":"getVersion","id":1} x`, "a number": "42",
		"too deep": strings.Repeat("[", 600) + strings.Repeat("]", 600)} {
		r := k.post(t, body, "Content-Type", "text/plain")
		eq(t, name, string(r.Body), parseError)
		if r.StatusCode != 200 || r.Header.Get("Content-Type") != "application/json" {
			t.Fatalf("%s: %d %v", name, r.StatusCode, r.Header)
		}
	}
	get := s.Do(t, "GET", "/jsonrpc.php", nil, k.header...)
	eq(t, "GET", string(get.Body), parseError)

	for name, body := range map[string]string{
		"jsonrpc 1.0":   `{"jsonrpc":"1.0","method":"getVersion","id":1}`,
		"no jsonrpc":    `{"method":"getVersion","id":1}`,
		"no method":     `{"jsonrpc":"2.0","id":1}`,
		"method number": `{"jsonrpc":"2.0","method":5,"id":1}`,
		"scalar params": `{"jsonrpc":"2.0","method":"getGroup","params":5,"id":1}`,
		"empty batch":   `[]`,
	} {
		eq(t, name, string(k.post(t, body).Body), invalid)
	}
	eq(t, "batch of numbers", string(k.post(t, `[1,2]`).Body), "["+parseError+","+parseError+"]")

	eq(t, "method not found", string(k.post(t, `{"jsonrpc":"2.0","method":"getProjects","id":"x-1"}`).Body),
		`{"jsonrpc":"2.0","error":{"code":-32601,"message":"Method not found"},"id":"x-1"}`)
	for _, c := range []struct {
		method string
		params any
		data   string
	}{
		{"getGroup", []any{}, "Wrong number of arguments"},
		{"addGroupMember", []any{1}, "Wrong number of arguments"},
		{"getGroup", []any{1, 2}, "Too many arguments"},
		{"getAllGroups", map[string]any{"x": 1}, "Too many arguments"},
		{"createGroup", map[string]any{"external_id": "x"}, "Missing argument: name"},
		{"addGroupMember", map[string]any{"group_id": 1, "userid": 2}, "Missing argument: user_id"},
	} {
		e := k.callError(t, c.method, c.params)
		if e.Code != -32602 || e.Message != "Invalid params" || e.Data != c.data {
			t.Fatalf("%s %v: %+v, want data %q", c.method, c.params, e, c.data)
		}
	}
	// Missing params, null and {} are no arguments.
	for _, p := range []string{``, `,"params":null`, `,"params":{}`, `,"params":[]`} {
		a := answer(t, k.post(t, `{"jsonrpc":"2.0","method":"getAllGroups"`+p+`,"id":7}`))
		eq(t, "no arguments "+p, string(a.Result), "[]")
	}

	// Notifications: run, not answered.
	for _, body := range []string{`{"jsonrpc":"2.0","method":"createGroup","params":["notified"]}`,
		`{"jsonrpc":"2.0","method":"createGroup","params":["notified-null-id"],"id":null}`,
		`{"jsonrpc":"2.0","method":"noSuchMethod"}`} {
		r := k.post(t, body)
		if r.StatusCode != 200 || len(r.Body) != 0 || r.Header.Get("Content-Type") != "application/json" {
			t.Fatalf("notification %s: %d %v %q", body, r.StatusCode, r.Header, r.Body)
		}
	}
	if got := k.call(t, "getAllGroups", nil); !strings.Contains(got, `"notified"`) || !strings.Contains(got, `"notified-null-id"`) {
		t.Fatalf("the notifications did not run: %s", got)
	}

	// A batch: answers in request order, notifications left out, each call on its own.
	r := k.post(t, `[
		{"jsonrpc":"2.0","method":"createGroup","params":["batch-1"],"id":"one"},
		{"jsonrpc":"2.0","method":"createGroup","params":["batch-note"]},
		{"jsonrpc":"2.0","method":"createGroup","params":["batch-1"],"id":2},
		{"jsonrpc":"2.0","method":"nope","id":3},
		{"jsonrpc":"1.0","method":"getVersion","id":4},
		{"jsonrpc":"2.0","method":"getGroup","params":{"group_id":"x"},"id":5}
	]`)
	var batch []rpcResp
	r.JSON(t, &batch)
	if r.StatusCode != 200 || len(batch) != 5 {
		t.Fatalf("batch: %d %s", r.StatusCode, r.Body)
	}
	eq(t, "batch[0] id", string(batch[0].ID), `"one"`)
	atoi(t, string(batch[0].Result))
	eq(t, "batch[1]", string(batch[1].Result)+string(batch[1].ID), "false2")
	eq(t, "batch[2]", fmt.Sprint(batch[2].Error.Code)+string(batch[2].ID), "-326013")
	eq(t, "batch[3]", fmt.Sprint(batch[3].Error.Code)+string(batch[3].ID), "-32600null")
	eq(t, "batch[4]", string(batch[4].Result)+string(batch[4].ID), "null5")
	if !strings.Contains(k.call(t, "getAllGroups", nil), `"batch-note"`) {
		t.Fatal("the batch's notification did not run")
	}
	only := k.post(t, `[{"jsonrpc":"2.0","method":"createGroup","params":["n1"]},{"jsonrpc":"2.0","method":"getVersion"}]`)
	if only.StatusCode != 200 || len(only.Body) != 0 {
		t.Fatalf("a batch of notifications: %d %q", only.StatusCode, only.Body)
	}
}

func TestKanboardAuth(t *testing.T) {
	t.Parallel()
	s := startKanboard(t, func(c *server.Config) { c.LoginMaxFailures = 2 })
	root := s.Root(t)
	reader := s.MustCreateUser(t, "kb-reader", `{"system.group":{}}`)
	s.MustCreateUser(t, "kb-locked", `{"system.group":{}}`)
	version := `{"jsonrpc":"2.0","method":"getVersion","id":1}`
	none := kb{s: s}

	mustStatus(t, none.post(t, version), 401, 401, "Unauthorized")
	mustStatus(t, kb{s: s, header: basicAuth("jsonrpc", "wrong")}.post(t, version), 401, 401, "Unauthorized")
	mustStatus(t, kb{s: s, header: basicAuth("jsonrpc", "")}.post(t, version), 401, 401, "Unauthorized")
	// One 401 for a whole batch.
	mustStatus(t, none.post(t, "["+version+","+version+"]"), 401, 401, "Unauthorized")
	// The JSON is read before the credentials.
	eq(t, "malformed without credentials", string(none.post(t, `{`, "Content-Type", "text/plain").Body),
		`{"jsonrpc":"2.0","error":{"code":-32700,"message":"Parse error"},"id":null}`)

	// Application access is off while no token is configured.
	off := MustStartServer(t)
	mustStatus(t, kb{s: off, header: basicAuth("jsonrpc", "")}.post(t, version), 401, 401, "Unauthorized")
	mustStatus(t, kb{s: off, header: basicAuth("jsonrpc", kanboardToken)}.post(t, version), 401, 401, "Unauthorized")

	// login:password, through groupd's login.
	rd := kb{s: s, header: basicAuth("kb-reader", "pw-kb-reader")}
	answer(t, rd.post(t, version))
	mustStatus(t, kb{s: s, header: basicAuth("kb-reader", "wrong")}.post(t, version), 401, 401, "Unauthorized")
	// X-API-Auth instead of Authorization.
	hdr := kb{s: s, header: []string{"X-API-Auth", base64.StdEncoding.EncodeToString([]byte("kb-reader:pw-kb-reader"))}}
	answer(t, hdr.post(t, version))
	mustStatus(t, kb{s: s, header: []string{"X-API-Auth", "not base64!"}}.post(t, version), 401, 401, "Unauthorized")
	mustStatus(t, hdr.post(t, `{"jsonrpc":"2.0","method":"getAllUsers","id":1}`), 403, 403, "Forbidden")
	// X-API-Auth wins over Authorization.
	answer(t, hdr.post(t, version, basicAuth("kb-reader", "wrong")...))

	// The lockout: two failures block the login, even with the right password.
	for i := 0; i < 2; i++ {
		mustStatus(t, kb{s: s, header: basicAuth("kb-locked", "wrong")}.post(t, version), 401, 401, "Unauthorized")
	}
	mustStatus(t, kb{s: s, header: basicAuth("kb-locked", "pw-kb-locked")}.post(t, version), 401, 401, "Unauthorized")

	// login:<API token>, only the token's own login.
	readerClient := s.LoginAs(t, "kb-reader")
	tok := createAPIToken(t, readerClient, `{"name":"kanboard"}`)
	answer(t, kb{s: s, header: basicAuth("kb-reader", tok.Secret)}.post(t, version))
	mustStatus(t, kb{s: s, header: basicAuth("root", tok.Secret)}.post(t, version), 401, 401, "Unauthorized")
	ro := createAPIToken(t, readerClient, `{"name":"kanboard-ro","scope":{"read_only":true}}`)
	roClient := kb{s: s, header: basicAuth("kb-reader", ro.Secret)}
	answer(t, roClient.post(t, `{"jsonrpc":"2.0","method":"getAllGroups","id":1}`))
	mustStatus(t, roClient.post(t, `{"jsonrpc":"2.0","method":"createGroup","params":["ro"],"id":1}`), 403, 403, "Forbidden")
	// Revoked: 401.
	if r := root.Do(t, "DELETE", fmt.Sprintf("/api/v1/token/%d", tok.ID), nil); r.StatusCode != 200 {
		t.Fatalf("revoke: %d %s", r.StatusCode, r.Body)
	}
	mustStatus(t, kb{s: s, header: basicAuth("kb-reader", tok.Secret)}.post(t, version), 401, 401, "Unauthorized")

	// 403: a right the procedure needs is missing (kb-reader has no system.user).
	mustStatus(t, rd.post(t, `{"jsonrpc":"2.0","method":"getAllUsers","id":1}`), 403, 403, "Forbidden")
	// ... and reading itself needs none.
	if got := rd.call(t, "getUser", []any{reader}); !strings.Contains(got, `"username":"kb-reader"`) {
		t.Fatalf("getUser of itself: %s", got)
	}
	if strings.Contains(s.Logs.String(), "pw-kb-reader") || strings.Contains(s.Logs.String(), tok.Secret) {
		t.Fatal("a password or a token reached the log")
	}
}

// TestKanboardRights: each procedure needs what /api/v1 needs for the same
// change, and a refusal changes nothing.
func TestKanboardRights(t *testing.T) {
	t.Parallel()
	s := startKanboard(t)
	k := appClient(s)
	root := s.Root(t)
	g := atoi(t, k.call(t, "createGroup", []any{"guarded"}))
	member := atoi(t, k.call(t, "createUser", []any{"kb-member", "member-password"}))
	// kb-reader may read groups, but holds no link on "guarded".
	s.MustCreateUser(t, "kb-reader", `{"system.group":{},"system.user":{}}`)
	linker := s.MustCreateUser(t, "kb-linker", `{"system.group":{},"system.user":{}}`)
	if r := root.Do(t, "POST", "/api/v1/group", fmt.Sprintf(`[{"group":{"_id":%d,"_version":2,"name":"guarded"},"_acl":[
		{"who":{"user":{"_id":%d}},"rights":{"link":{},"bag_read":{}}}]}]`, g, linker)); r.StatusCode != 200 {
		t.Fatalf("grant link: %d %s", r.StatusCode, r.Body)
	}
	before := root.Do(t, "GET", fmt.Sprintf("/api/v1/group/%d/members", g), nil)
	rd := kb{s: s, header: basicAuth("kb-reader", "pw-kb-reader")}
	mustStatus(t, rd.post(t, fmt.Sprintf(`{"jsonrpc":"2.0","method":"addGroupMember","params":[%d,%d],"id":1}`, g, member)),
		403, 403, "Forbidden")
	after := root.Do(t, "GET", fmt.Sprintf("/api/v1/group/%d/members", g), nil)
	if !bytes.Equal(before.Body, after.Body) {
		t.Fatalf("a refused addGroupMember changed the members: %s -> %s", before.Body, after.Body)
	}
	eq(t, "isGroupMember", k.call(t, "isGroupMember", []any{g, member}), "false")
	// Nor may it rename or delete the group.
	mustStatus(t, rd.post(t, fmt.Sprintf(`{"jsonrpc":"2.0","method":"updateGroup","params":[%d,"taken-over"],"id":1}`, g)),
		403, 403, "Forbidden")
	mustStatus(t, rd.post(t, fmt.Sprintf(`{"jsonrpc":"2.0","method":"removeGroup","params":[%d],"id":1}`, g)),
		403, 403, "Forbidden")
	// A caller without system.group gets 403 for an unknown group, not
	// Kanboard's true, and leaves no "refused" event behind.
	s.MustCreateUser(t, "kb-nobody", `{}`)
	nb := kb{s: s, header: basicAuth("kb-nobody", "pw-kb-nobody")}
	mustStatus(t, nb.post(t, `{"jsonrpc":"2.0","method":"updateGroup","params":[888888,"ghost"],"id":1}`),
		403, 403, "Forbidden")
	if ev := root.Do(t, "GET", "/api/v1/events?type=group&object_id=888888", nil); ev.StatusCode != 200 ||
		bytes.Contains(ev.Body, []byte(`"action":"refused"`)) {
		t.Fatalf("a refusal by a caller without system.group was audited: %d %s", ev.StatusCode, ev.Body)
	}

	// With link it may.
	ln := kb{s: s, header: basicAuth("kb-linker", "pw-kb-linker")}
	eq(t, "addGroupMember with link", ln.call(t, "addGroupMember", []any{g, member}), "true")
	// Without unlink it may not remove.
	mustStatus(t, ln.post(t, fmt.Sprintf(`{"jsonrpc":"2.0","method":"removeGroupMember","params":[%d,%d],"id":1}`, g, member)),
		403, 403, "Forbidden")
	eq(t, "still a member", k.call(t, "isGroupMember", []any{g, member}), "true")

	// A 403 in a batch ends it: the calls before it are done, those after not run.
	r := ln.post(t, `[{"jsonrpc":"2.0","method":"createGroup","params":["before-403"],"id":1},
		{"jsonrpc":"2.0","method":"createGroup","params":["denied"],"id":2},
		{"jsonrpc":"2.0","method":"createGroup","params":["after-403"],"id":3}]`)
	mustStatus(t, r, 403, 403, "Forbidden")
	all := k.call(t, "getAllGroups", nil)
	if strings.Contains(all, "before-403") || strings.Contains(all, "after-403") {
		// kb-linker holds no system.group create: the first call is refused already
		t.Fatalf("refused creates were written: %s", all)
	}
	// An app-manager may create groups, not delete one it does not own.
	atoi(t, k.call(t, "createUser", []any{"kb-mgr", "mgr-password", "", "", "app-manager"}))
	m := kb{s: s, header: basicAuth("kb-mgr", "mgr-password")}
	r = m.post(t, fmt.Sprintf(`[{"jsonrpc":"2.0","method":"createGroup","params":["before-403"],"id":1},
		{"jsonrpc":"2.0","method":"removeGroup","params":[%d],"id":2},
		{"jsonrpc":"2.0","method":"createGroup","params":["after-403"],"id":3}]`, g))
	mustStatus(t, r, 403, 403, "Forbidden")
	all = k.call(t, "getAllGroups", nil)
	if !strings.Contains(all, `"before-403"`) || strings.Contains(all, "after-403") || !strings.Contains(all, `"guarded"`) {
		t.Fatalf("a batch cut by a 403: %s", all)
	}
}

// TestKanboardEasydbRoundTrip: the two surfaces share groups, references
// and audit events.
func TestKanboardEasydbRoundTrip(t *testing.T) {
	t.Parallel()
	s := startKanboard(t)
	k := appClient(s)
	root := s.Root(t)

	id := atoi(t, k.call(t, "createGroup", []any{"from-kanboard", "ref-from-kanboard"}))
	g := getGroup(t, root, id)
	if g.Group.Name == nil || *g.Group.Name != "from-kanboard" || g.Group.Reference == nil || *g.Group.Reference != "ref-from-kanboard" {
		t.Fatalf("read back through /api/v1/group: %+v", g.Group)
	}
	ev := root.Do(t, "GET", fmt.Sprintf("/api/v1/events?type=group&object_id=%d", id), nil)
	if !bytes.Contains(ev.Body, []byte(`"action":"create"`)) || !bytes.Contains(ev.Body, []byte(`"actor_user_id":1`)) {
		t.Fatalf("create event (by root, as the application user): %s", ev.Body)
	}

	created := groups(t, root.Do(t, "PUT", "/api/v1/group", `[{"group":{"name":"from-easydb","reference":"ref-from-easydb"}}]`))[0]
	eq(t, "getGroup of an easydb group", k.call(t, "getGroup", []any{created.Group.ID}),
		fmt.Sprintf(`{"id":%d,"external_id":"ref-from-easydb","name":"from-easydb"}`, created.Group.ID))
	eq(t, "updateGroup of an easydb group", k.call(t, "updateGroup", []any{created.Group.ID, nil, "ref-2"}), "true")
	if g := getGroup(t, root, created.Group.ID); *g.Group.Reference != "ref-2" || g.Group.Version != 2 {
		t.Fatalf("after updateGroup: %+v", g.Group)
	}
	ev = root.Do(t, "GET", fmt.Sprintf("/api/v1/events?type=group&object_id=%d", created.Group.ID), nil)
	if !bytes.Contains(ev.Body, []byte(`"action":"update"`)) {
		t.Fatalf("update event: %s", ev.Body)
	}
}
