package integration

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/groupd/groupd/server"
)

// userOut is a user in full format, as a client decodes it.
type userOut struct {
	Basetype string         `json:"_basetype"`
	User     map[string]any `json:"user"`
	Owner    *struct {
		User *struct {
			ID int64 `json:"_id"`
		} `json:"user"`
		Group *struct {
			ID int64 `json:"_id"`
		} `json:"group"`
	} `json:"_owner"`
	ACL          []map[string]any          `json:"_acl"`
	SystemRights map[string]map[string]any `json:"_system_rights"`
	Groups       []struct {
		Basetype string `json:"_basetype"`
		Group    struct {
			ID   int64   `json:"_id"`
			Name *string `json:"name"`
			Type string  `json:"type"`
		} `json:"group"`
	} `json:"_groups"`
	Emails []struct {
		Email             string `json:"email"`
		UseForLogin       bool   `json:"use_for_login"`
		UseForEmail       bool   `json:"use_for_email"`
		NeedsConfirmation bool   `json:"needs_confirmation"`
	} `json:"_emails"`
	HasACL    bool           `json:"_has_acl"`
	Generated map[string]any `json:"_generated_rights"`
}

func (u userOut) id() int64      { return int64(u.User["_id"].(float64)) }
func (u userOut) version() int64 { return int64(u.User["_version"].(float64)) }

func (u userOut) groupIDs() []int64 {
	var out []int64
	for _, g := range u.Groups {
		out = append(out, g.Group.ID)
	}
	return out
}

func (u userOut) rights() string {
	var names []string
	for n := range u.Generated {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, ",")
}

func users(tb testing.TB, r *Response) []userOut {
	tb.Helper()
	if r.StatusCode != 200 {
		tb.Fatalf("want 200, got %d %s", r.StatusCode, r.Body)
	}
	var out []userOut
	r.JSON(tb, &out)
	return out
}

func logins(us []userOut) string {
	var out []string
	for _, u := range us {
		if l, ok := u.User["login"].(string); ok {
			out = append(out, l)
		}
	}
	return strings.Join(out, ",")
}

// mkGroups creates groups as c and returns their ids by name.
func mkGroups(tb testing.TB, c *Client, body string) map[string]int64 {
	tb.Helper()
	out := map[string]int64{}
	for _, g := range groups(tb, c.Do(tb, "PUT", "/api/v1/group", body)) {
		out[*g.Group.Name] = g.Group.ID
	}
	return out
}

type memberResult struct {
	ID     int64  `json:"_id"`
	Result string `json:"result"`
}

func members(tb testing.TB, c *Client, groupID int64, body string) []memberResult {
	tb.Helper()
	r := c.Do(tb, "POST", fmt.Sprintf("/api/v1/group/%d/members", groupID), body)
	if r.StatusCode != 200 {
		tb.Fatalf("POST members: %d %s", r.StatusCode, r.Body)
	}
	var out []memberResult
	r.JSON(tb, &out)
	return out
}

// TestUserMigrationClient replays what the official easydb migration client
// (easydb-migration-tools, easydb/server/user.py and api.py) sends: users
// created by POST /api/v1/user with "_id": null, "_version": 1, its user
// fields (null when the source has none), "_groups": [{"group":{"_id":N}}],
// "_emails" with its sending flags, and "_password"; then logging in as
// those users, by login and by e-mail address.
func TestUserMigrationClient(t *testing.T) {
	t.Parallel()
	const password = "migrated-Secret-42"
	s := MustStartServer(t, func(c *server.Config) {
		c.LogLevel = -8 // everything, to show that no password reaches the log
	})
	root := s.Root(t)
	g := mkGroups(t, root, `[{"group":{"name":"editors"}},{"group":{"name":"readers"}}]`)

	body := fmt.Sprintf(`[{"user":{"_id":null,"_version":1,"last_name":"Smith","first_name":"Jane","remarks":"from easydb 4",
		"login":"jsmith","phone":"+49 30 1234","street":"Main St 1","postal_code":"10115","town":"Berlin","country":"DE",
		"frontend_prefs":{"skin":"aqua"},"login_disabled":false},
		"_groups":[{"group":{"_id":%d}},{"group":{"_id":%d}}],
		"_emails":[{"needs_confirmation":false,"email":"jane@example.com","use_for_login":true,"use_for_email":false,
			"send_email":false,"send_email_include_password":false,"is_primary":true,"intended_primary":false}],
		"_password":%q},
		{"user":{"_id":null,"_version":1,"last_name":null,"first_name":null,"remarks":null,"login":"nomail",
		"phone":null,"street":null,"postal_code":null,"town":null,"country":null,"frontend_prefs":null,
		"login_disabled":false},"_groups":[]}]`, g["editors"], g["readers"], password)
	out := users(t, root.Do(t, "POST", "/api/v1/user", body))
	if len(out) != 2 || out[0].id() < 100 || out[1].id() <= out[0].id() || out[0].version() != 1 {
		t.Fatalf("created: %+v", out)
	}
	jane := out[0]
	if jane.Basetype != "user" || jane.User["login"] != "jsmith" || jane.User["_generated_displayname"] != "Jane Smith" ||
		jane.User["type"] != "easydb" || jane.User["town"] != "Berlin" || jane.User["remarks"] != "from easydb 4" ||
		jane.User["frontend_prefs"].(map[string]any)["skin"] != "aqua" || jane.User["login_disabled"] != false {
		t.Fatalf("jane: %+v", jane.User)
	}
	if !slices.Equal(jane.groupIDs(), []int64{g["editors"], g["readers"]}) || jane.Groups[0].Basetype != "group" ||
		*jane.Groups[0].Group.Name != "editors" || jane.Groups[0].Group.Type != "easydb" {
		t.Fatalf("jane's _groups: %+v", jane.Groups)
	}
	if len(jane.Emails) != 1 || jane.Emails[0].Email != "jane@example.com" || !jane.Emails[0].UseForLogin || jane.Emails[0].UseForEmail {
		t.Fatalf("jane's _emails: %+v", jane.Emails)
	}
	if jane.Owner == nil || jane.Owner.User == nil || jane.Owner.User.ID != 1 || jane.rights() != "delete,read,write" {
		t.Fatalf("owner must be the session user (root), root's rights all: %+v %s", jane.Owner, jane.rights())
	}
	if len(out[1].Groups) != 0 || out[1].User["phone"] != nil {
		t.Fatalf("nomail: %+v", out[1])
	}

	// Logging in as jane, by login and by the e-mail address marked for login.
	c := s.Login(t, "jsmith", password)
	if c.UserID != jane.id() {
		t.Fatalf("logged in as %d, want %d", c.UserID, jane.id())
	}
	if byEmail := s.Login(t, "Jane@Example.com", password); byEmail.UserID != jane.id() {
		t.Fatalf("login by e-mail: %d", byEmail.UserID)
	}
	// Jane reads herself without system.user; no password in any answer.
	r := c.Do(t, "GET", fmt.Sprintf("/api/v1/user/%d", jane.id()), nil)
	self := users(t, r)
	if len(self) != 1 || self[0].User["login"] != "jsmith" || !slices.Equal(self[0].groupIDs(), jane.groupIDs()) {
		t.Fatalf("GET self: %s", r.Body)
	}
	for _, b := range [][]byte{r.Body, []byte(s.Logs.String())} {
		if strings.Contains(string(b), password) || strings.Contains(string(b), "password_hash") ||
			strings.Contains(string(b), "argon2") {
			t.Fatal("a password or its hash was sent or logged")
		}
	}
	var events []struct {
		Type     string          `json:"type"`
		ObjectID int64           `json:"object_id"`
		Action   string          `json:"action"`
		After    json.RawMessage `json:"after"`
	}
	root.Do(t, "GET", "/api/v1/events?type=membership", nil).JSON(t, &events)
	var m struct {
		GroupID int64 `json:"group_id"`
		UserID  int64 `json:"user_id"`
	}
	if len(events) == 2 {
		json.Unmarshal(events[0].After, &m)
	}
	if len(events) != 2 || events[0].Action != "add_member" || events[0].ObjectID != g["editors"] ||
		m.GroupID != g["editors"] || m.UserID != jane.id() {
		t.Fatalf("membership events: %+v", events)
	}
	root.Do(t, "GET", "/api/v1/events?type=user", nil).JSON(t, &events)
	if len(events) != 2 || events[0].Action != "create" || strings.Contains(string(events[0].After), password) {
		t.Fatalf("user events: %+v", events)
	}

	// The same client shape through PUT, and a user read with GET sent back
	// as it is changes nothing but the version.
	put := users(t, root.Do(t, "PUT", "/api/v1/user", `[{"user":{"_version":1,"login":"viaput"},"_groups":[]}]`))[0]
	var read []map[string]any
	root.Do(t, "GET", fmt.Sprintf("/api/v1/user/%d", jane.id()), nil).JSON(t, &read)
	read[0]["user"].(map[string]any)["_version"] = 2
	again := users(t, root.Do(t, "POST", "/api/v1/user", read))[0]
	if put.version() != 1 || again.version() != 2 || again.User["town"] != "Berlin" ||
		!slices.Equal(again.groupIDs(), jane.groupIDs()) || len(again.Emails) != 1 {
		t.Fatalf("sent back: %+v", again)
	}
	if c.Do(t, "GET", fmt.Sprintf("/api/v1/user/%d", jane.id()), nil).StatusCode != 200 {
		t.Fatal("an update without a new password ended the user's session")
	}
}

// TestUserErrors: every refusal of the user and members API, with its
// exact parameters; none of them writes anything.
func TestUserErrors(t *testing.T) {
	t.Parallel()
	s := MustStartServer(t)
	root := s.Root(t)
	g := mkGroups(t, root, `[{"group":{"name":"plain"}},{"group":{"name":"rooty"},"_system_rights":{"system.root":{}}},
		{"group":{"name":"linkable"}}]`)
	plainG, rootyG, linkG := g["plain"], g["rooty"], g["linkable"]

	s.MustCreateUser(t, "nobody", `{}`)
	s.MustCreateUser(t, "lister", `{"system.user":{}}`)
	creatorID := s.MustCreateUser(t, "creator", `{"system.user":{"create":true}}`)
	s.MustCreateUser(t, "grantor", `{"system.user":{"create":true,"create_system_rights":true}}`)
	bossID := s.MustCreateUser(t, "boss", `{"system.user":{"create":true,"edit_acl":false}}`)
	nobody, lister, creator, grantor, boss := s.LoginAs(t, "nobody"), s.LoginAs(t, "lister"), s.LoginAs(t, "creator"),
		s.LoginAs(t, "grantor"), s.LoginAs(t, "boss")
	// linkable: creator may link (not unlink); boss may unlink (not link).
	groups(t, root.Do(t, "POST", "/api/v1/group", fmt.Sprintf(`[{"group":{"_id":%d,"_version":2},"_acl":[
		{"who":{"user":{"_id":%d}},"rights":{"link":{},"bag_read":{}}},{"who":{"user":{"_id":%d}},"rights":{"unlink":{}}}]}]`,
		linkG, creatorID, bossID)))

	// target: owned by boss (so boss has write and delete), in linkable.
	target := users(t, boss.Do(t, "PUT", "/api/v1/user", `[{"user":{"login":"target","reference":"T-1"},
		"_emails":[{"email":"target@example.com","use_for_login":true}]}]`))[0]
	tid := fmt.Sprint(target.id())
	users(t, root.Do(t, "POST", "/api/v1/user", fmt.Sprintf(`[{"user":{"_id":%s,"_version":2},"_groups":[{"group":{"_id":%d}}]}]`,
		tid, linkG)))
	// A holder of system.root that boss owns: boss may not touch it.
	rootHolder := users(t, root.Do(t, "PUT", "/api/v1/user", fmt.Sprintf(`[{"user":{"login":"deputy"},
		"_system_rights":{"system.root":{}},"_acl":[{"who":{"user":{"_id":%d}},"rights":{"delete":{}}}]}]`, bossID)))[0]
	// A user whose login is an e-mail address.
	users(t, boss.Do(t, "PUT", "/api/v1/user", `[{"user":{"login":"mail.login@example.org"}}]`))
	// boss owns a group: boss cannot be deleted.
	if _, err := s.DB.Exec(`INSERT INTO groups (name, owner_user_id) VALUES ('bosses', $1)`, bossID); err != nil {
		t.Fatal(err)
	}

	type tc struct {
		name   string
		c      *Client
		method string
		path   string
		body   string
		code   string
		params map[string]string
	}
	u := func(format string, args ...any) string { return fmt.Sprintf(format, args...) }
	update := func(extra string) string {
		return u(`[{"user":{"_id":%s,"_version":3}%s}]`, tid, extra)
	}
	cases := []tc{
		{"no token", &Client{s: s}, "GET", "/api/v1/user", "", "error.user.not_authenticated", nil},
		{"list without system.user", nobody, "GET", "/api/v1/user", "", "error.user.no_system_right",
			map[string]string{"right": "system.user"}},
		{"get other without system.user", nobody, "GET", "/api/v1/user/1", "", "error.user.no_system_right",
			map[string]string{"right": "system.user"}},
		{"get without read", lister, "GET", "/api/v1/user/" + tid, "", "error.user.insufficient_rights",
			map[string]string{"operation": "read", "type": "user", "ids": tid, "right": "read"}},
		{"get unknown", lister, "GET", "/api/v1/user/999999", "", "error.user.user_not_found",
			map[string]string{"id": "999999"}},
		{"bad groupids", lister, "GET", "/api/v1/user?groupids=1,x", "", "error.api.invalid_value",
			map[string]string{"attribute": "groupids"}},
		{"create without create", lister, "PUT", "/api/v1/user", `[{"user":{"login":"x"}}]`, "error.user.no_system_right",
			map[string]string{"right": "system.user", "extra_info": "create", "index": "0"}},
		{"create with acl without create_acl", creator, "PUT", "/api/v1/user",
			`[{"user":{"login":"x"},"_acl":[{"who":{"user":{"_id":1}},"rights":{"read":{}}}]}]`,
			"error.user.no_system_right", map[string]string{"right": "system.user", "extra_info": "create_acl"}},
		{"create with system rights without create_system_rights", creator, "PUT", "/api/v1/user",
			`[{"user":{"login":"x"},"_system_rights":{"system.group":{}}}]`,
			"error.user.no_system_right", map[string]string{"right": "system.user", "extra_info": "create_system_rights"}},
		{"grant system.root without it", grantor, "PUT", "/api/v1/user",
			`[{"user":{"login":"x"},"_system_rights":{"system.root":{}}}]`,
			"error.user.no_system_right", map[string]string{"right": "system.root", "index": "0"}},
		{"other owner on create", root, "PUT", "/api/v1/user",
			u(`[{"user":{"login":"x"},"_owner":{"user":{"_id":%d}}}]`, creatorID), "error.user.change_owner_on_creation", nil},
		{"create with a system group", root, "POST", "/api/v1/user", `[{"user":{"_id":null,"_version":1,"login":"x"},
			"_groups":[{"group":{"_id":1}}]}]`, "error.user.user_update_system_group",
			map[string]string{"user_id": "0", "group_id": "1", "index": "0"}},
		{"create linking without link right", creator, "PUT", "/api/v1/user",
			u(`[{"user":{"login":"x"},"_groups":[{"group":{"_id":%d,"name":"ignored"}}]}]`, plainG),
			"error.user.insufficient_rights", map[string]string{"operation": "update", "type": "group",
				"ids": fmt.Sprint(plainG), "right": "link", "index": "0"}},
		{"link a group holding system.root", creator, "PUT", "/api/v1/user",
			u(`[{"user":{"login":"x"},"_groups":[{"group":{"_id":%d}}]}]`, rootyG), "error.user.no_system_right",
			map[string]string{"right": "system.root", "index": "0"}},
		{"update without write", lister, "POST", "/api/v1/user", update(""), "error.user.insufficient_rights",
			map[string]string{"operation": "update", "type": "user", "ids": tid, "right": "write", "index": "0"}},
		{"stale version", boss, "POST", "/api/v1/user", u(`[{"user":{"_id":%s,"_version":2}}]`, tid),
			"error.user.version_mismatch", map[string]string{"provided": "2", "expected": "3", "index": "0"}},
		{"update unknown", boss, "POST", "/api/v1/user", `[{"user":{"login":"fresh"}},{"user":{"_id":424242,"_version":2}}]`,
			"error.user.user_not_found", map[string]string{"id": "424242", "index": "1"}},
		{"acl change without edit_acl", boss, "POST", "/api/v1/user", update(`,"_acl":[{"who":{"user":{"_id":1}},"rights":{"read":{}}}]`),
			"error.user.no_system_right", map[string]string{"right": "system.user", "extra_info": "edit_acl"}},
		{"owner change without edit_acl", boss, "POST", "/api/v1/user", update(`,"_owner":{"user":{"_id":1}}`),
			"error.user.no_system_right", map[string]string{"right": "system.user", "extra_info": "edit_acl"}},
		{"system rights change without edit_system_rights", boss, "POST", "/api/v1/user", update(`,"_system_rights":{"system.group":{}}`),
			"error.user.no_system_right", map[string]string{"right": "system.user", "extra_info": "edit_system_rights"}},
		{"link without link", boss, "POST", "/api/v1/user", update(u(`,"_groups":[{"group":{"_id":%d}},{"group":{"_id":%d}}]`, linkG, plainG)),
			"error.user.insufficient_rights", map[string]string{"operation": "update", "type": "group",
				"ids": fmt.Sprint(plainG), "right": "link"}},
		{"system group in _groups", boss, "POST", "/api/v1/user", update(u(`,"_groups":[{"group":{"_id":%d}},{"group":{"_id":2}}]`, linkG)),
			"error.user.user_update_system_group", map[string]string{"user_id": tid, "group_id": "2", "index": "0"}},
		{"unknown group in _groups", boss, "POST", "/api/v1/user", update(`,"_groups":[{"group":{"_id":777777}}]`),
			"error.user.group_not_found", map[string]string{"id": "777777", "index": "0"}},
		{"unknown user in _acl", root, "POST", "/api/v1/user", update(`,"_acl":[{"who":{"user":{"_id":999999}},"rights":{"read":{}}}]`),
			"error.user.user_not_found", map[string]string{"id": "999999", "index": "0"}},
		{"group right in a user's _acl", root, "PUT", "/api/v1/user", `[{"user":{"login":"x"},"_acl":[{"who":{"user":{"_id":1}},"rights":{"bag_read":{}}}]}]`,
			"error.user.right_not_found", map[string]string{"id": "bag_read", "index": "0"}},
		{"root's groups", root, "POST", "/api/v1/user", u(`[{"user":{"_id":1,"_version":2},"_groups":[{"group":{"_id":%d}}]}]`, plainG),
			"error.user.user_update_system_group", map[string]string{"user_id": "1", "group_id": fmt.Sprint(plainG)}},
		{"root's login", root, "POST", "/api/v1/user", `[{"user":{"_id":1,"_version":2,"login":"admin"}}]`,
			"error.user.update_system_user", map[string]string{"user_id": "1", "attribute": "user.login"}},
		{"root loses system.root", root, "POST", "/api/v1/user", `[{"user":{"_id":1,"_version":2},"_system_rights":{"system.group":{}}}]`,
			"error.user.update_system_user", map[string]string{"user_id": "1", "attribute": "_system_rights.system.root"}},
		{"root's acl", root, "POST", "/api/v1/user", `[{"user":{"_id":1,"_version":2},"_acl":[{"who":{"user":{"_id":1}},"rights":{"read":{}}}]}]`,
			"error.user.update_system_user", map[string]string{"user_id": "1", "attribute": "_acl"}},
		{"disable own login", boss, "POST", "/api/v1/user", u(`[{"user":{"_id":%d,"_version":2,"login_disabled":true}}]`, bossID),
			"error.user.user_auto_disable", nil},
		{"change a holder of system.root", boss, "POST", "/api/v1/user",
			u(`[{"user":{"_id":%d,"_version":2}, "_password":"take-over"}]`, rootHolder.id()),
			"error.user.no_system_right", map[string]string{"right": "system.root"}},
		{"duplicate login", boss, "PUT", "/api/v1/user", `[{"user":{"login":"fresh"}},{"user":{"login":"TARGET"}}]`,
			"error.user.integrity_constraint_violation", map[string]string{"constraint": "user.login", "index": "1"}},
		{"login equal to a login e-mail", boss, "PUT", "/api/v1/user", `[{"user":{"login":"target@EXAMPLE.com"}}]`,
			"error.user.integrity_constraint_violation", map[string]string{"constraint": "user.login", "index": "0"}},
		{"login e-mail equal to a login", boss, "PUT", "/api/v1/user", `[{"user":{"login":"y"},"_emails":[{"email":"x@y.org"},{"email":"Mail.Login@example.org","use_for_login":true}]}]`,
			"error.user.integrity_constraint_violation", map[string]string{"constraint": "_emails.email", "index": "0"}},
		{"login e-mail taken", boss, "POST", "/api/v1/user", `[{"user":{"_id":null,"login":"z"},"_emails":[{"email":"Target@example.com","use_for_login":true}]}]`,
			"error.user.integrity_constraint_violation", map[string]string{"constraint": "_emails.email", "index": "0"}},
		{"login e-mail twice in a request", boss, "PUT", "/api/v1/user", `[{"user":{"login":"a1"},"_emails":[{"email":"same@x.org","use_for_login":true}]},
			{"user":{"login":"a2"},"_emails":[{"email":"SAME@x.org","use_for_login":true}]}]`,
			"error.user.integrity_constraint_violation", map[string]string{"constraint": "_emails.email", "index": "1"}},
		{"duplicate reference", boss, "PUT", "/api/v1/user", `[{"user":{"login":"r1","reference":"T-1"}}]`,
			"error.user.integrity_constraint_violation", map[string]string{"constraint": "user.reference", "index": "0"}},
		{"delete root", root, "DELETE", "/api/v1/user/1", "", "error.user.delete_system_user", map[string]string{"user_id": "1"}},
		{"delete without delete", lister, "DELETE", "/api/v1/user/" + tid, "", "error.user.insufficient_rights",
			map[string]string{"operation": "delete", "type": "user", "ids": tid, "right": "delete"}},
		{"delete a holder of system.root", boss, "DELETE", u("/api/v1/user/%d", rootHolder.id()), "", "error.user.no_system_right",
			map[string]string{"right": "system.root"}},
		{"delete unknown", root, "DELETE", "/api/v1/user/5555555", "", "error.user.user_not_found", map[string]string{"id": "5555555"}},
		{"delete an owner of groups", root, "DELETE", u("/api/v1/user/%d", bossID), "", "error.user.integrity_constraint_violation",
			map[string]string{"constraint": "group._owner"}},
		{"PUT with _id", root, "PUT", "/api/v1/user", `[{"user":{"_id":5,"login":"x"}}]`,
			"error.api.attribute_not_accepted", map[string]string{"attribute": "user._id", "index": "0"}},
		{"password true", root, "PUT", "/api/v1/user", `[{"user":{"login":"x"},"_password":true}]`,
			"error.api.invalid_value", map[string]string{"attribute": "_password"}},
		{"bad e-mail", root, "PUT", "/api/v1/user", `[{"user":{"login":"x"},"_emails":[{"email":"not an address"}]}]`,
			"error.api.invalid_value", map[string]string{"attribute": "_emails[0].email"}},
		{"bare group id", root, "PUT", "/api/v1/user", `[{"user":{"login":"x"},"_groups":[5]}]`,
			"error.api.type_mismatch", map[string]string{"attribute": "_groups[0]"}},
		{"unknown attribute", root, "PUT", "/api/v1/user", `[{"user":{"login":"x","mood":"ok"}}]`,
			"error.api.attribute_not_accepted", map[string]string{"attribute": "user.mood"}},
		{"system type", root, "PUT", "/api/v1/user", `[{"user":{"login":"x","type":"system"}}]`,
			"error.api.invalid_value", map[string]string{"attribute": "user.type"}},
		{"bad language", root, "PUT", "/api/v1/user", `[{"user":{"login":"x","frontend_language":"english"}}]`,
			"error.api.invalid_value", map[string]string{"attribute": "user.frontend_language"}},
		{"missing version on update", root, "POST", "/api/v1/user", `[{"user":{"_id":1}}]`,
			"error.api.attribute_expected", map[string]string{"attribute": "user._version"}},

		// Members.
		{"members of unknown group", root, "GET", "/api/v1/group/888888/members", "", "error.user.group_not_found",
			map[string]string{"id": "888888"}},
		{"members without bag_read", lister, "GET", u("/api/v1/group/%d/members", plainG), "", "error.user.insufficient_rights",
			map[string]string{"operation": "read", "type": "group", "ids": fmt.Sprint(plainG), "right": "bag_read"}},
		{"members limit", root, "GET", u("/api/v1/group/%d/members?limit=1001", plainG), "", "error.api.invalid_value",
			map[string]string{"attribute": "limit"}},
		{"add without link", boss, "POST", u("/api/v1/group/%d/members", linkG), u(`{"add":[%s]}`, tid),
			"error.user.insufficient_rights", map[string]string{"operation": "update", "type": "group", "ids": fmt.Sprint(linkG), "right": "link"}},
		{"remove without unlink", creator, "POST", u("/api/v1/group/%d/members", linkG), u(`{"remove":[%s]}`, tid),
			"error.user.insufficient_rights", map[string]string{"operation": "update", "type": "group", "ids": fmt.Sprint(linkG), "right": "unlink"}},
		{"members of a system group", root, "POST", "/api/v1/group/1/members", u(`{"add":[%s]}`, tid),
			"error.user.user_update_system_group", map[string]string{"user_id": tid, "group_id": "1"}},
		{"root into a group", root, "POST", u("/api/v1/group/%d/members", plainG), `{"add":[1]}`,
			"error.user.user_update_system_group", map[string]string{"user_id": "1", "group_id": fmt.Sprint(plainG)}},
		{"members of a group holding system.root", creator, "POST", u("/api/v1/group/%d/members", rootyG), u(`{"add":[%s]}`, tid),
			"error.user.no_system_right", map[string]string{"right": "system.root"}},
		{"add and remove one id", root, "POST", u("/api/v1/group/%d/members", plainG), u(`{"add":[%s],"remove":[%s]}`, tid, tid),
			"error.api.invalid_value", map[string]string{"attribute": "remove[0]"}},
		{"members body not an object", root, "POST", u("/api/v1/group/%d/members", plainG), `[1]`,
			"error.api.type_mismatch", map[string]string{"attribute": "body"}},
		{"members of unknown group, POST", root, "POST", "/api/v1/group/888888/members", `{"add":[1]}`,
			"error.user.group_not_found", map[string]string{"id": "888888"}},
	}
	var before int
	s.DB.QueryRow(`SELECT (SELECT count(*) FROM users) + (SELECT count(*) FROM memberships) + (SELECT count(*) FROM events)
		+ (SELECT sum(version) FROM users)`).Scan(&before)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var body any
			if c.body != "" {
				body = c.body
			}
			e := MustError(t, c.c.Do(t, c.method, c.path, body), 400, c.code)
			for k, v := range c.params {
				if e.Parameters[k] != v {
					t.Errorf("parameter %s = %q, want %q (all: %v)", k, e.Parameters[k], v, e.Parameters)
				}
			}
		})
	}
	var after int
	s.DB.QueryRow(`SELECT (SELECT count(*) FROM users) + (SELECT count(*) FROM memberships) + (SELECT count(*) FROM events)
		+ (SELECT sum(version) FROM users)`).Scan(&after)
	if after != before {
		t.Fatalf("refused requests wrote: %d -> %d", before, after)
	}
}

// TestUserBulkIsOneTransaction: a 1,000-item PUT whose last item is bad
// writes nothing (no user, address, membership or event), and the same PUT
// without the fault writes all.
func TestUserBulkIsOneTransaction(t *testing.T) {
	t.Parallel()
	s := MustStartServer(t)
	root := s.Root(t)
	g := mkGroups(t, root, `[{"group":{"name":"all-imported"}}]`)["all-imported"]
	items := make([]map[string]any, 1000)
	for i := range items {
		items[i] = map[string]any{
			"user":    map[string]any{"_id": nil, "_version": 1, "login": fmt.Sprintf("bulk-%04d", i), "reference": fmt.Sprintf("ref-%04d", i)},
			"_emails": []any{map[string]any{"email": fmt.Sprintf("bulk-%04d@example.com", i), "use_for_login": true}},
			"_groups": []any{map[string]any{"group": map[string]any{"_id": g}}},
		}
	}
	items[999]["_emails"] = []any{map[string]any{"email": "BULK-0017@example.com", "use_for_login": true}} // item 17's
	e := MustError(t, root.Do(t, "POST", "/api/v1/user", items), 400, "error.user.integrity_constraint_violation")
	if e.Parameters["index"] != "999" || e.Parameters["constraint"] != "_emails.email" {
		t.Fatalf("params %v", e.Parameters)
	}
	var n int
	s.DB.QueryRow(`SELECT (SELECT count(*) FROM users) + (SELECT count(*) FROM user_emails) + (SELECT count(*) FROM memberships)
		+ (SELECT count(*) FROM events WHERE object_type <> 'group')`).Scan(&n)
	if n != 1 {
		t.Fatalf("a failed bulk wrote rows: %d", n)
	}
	items[999]["_emails"] = []any{map[string]any{"email": "bulk-0999@example.com", "use_for_login": true}}
	out := users(t, root.Do(t, "POST", "/api/v1/user", items))
	if len(out) != 1000 || out[999].User["login"] != "bulk-0999" || out[0].id() >= out[1].id() ||
		!slices.Equal(out[500].groupIDs(), []int64{g}) {
		t.Fatalf("bulk POST returned %d users", len(out))
	}
	r := root.Do(t, "GET", fmt.Sprintf("/api/v1/group/%d/members?limit=1", g), nil)
	if r.Header.Get("X-Total-Count") != "1000" {
		t.Fatalf("members: X-Total-Count %q", r.Header.Get("X-Total-Count"))
	}
	s.DB.QueryRow(`SELECT count(*) FROM events WHERE object_type IN ('user', 'membership')`).Scan(&n)
	if n != 2000 {
		t.Fatalf("want 2000 audit events, got %d", n)
	}
}

// TestUserMembershipGrantsVisibility: a user granted bag_read through a
// group sees that group in GET /api/v1/group and loses it when removed from
// the group, at once in the process that wrote, and within moments in
// another process on the same database (its cached principal is dropped by
// the write's notification).
func TestUserMembershipGrantsVisibility(t *testing.T) {
	t.Parallel()
	a := MustStartServer(t)
	b := MustStartServerOn(t, a.Config.DatabaseURL)
	root := a.Root(t)
	g := mkGroups(t, root, `[{"group":{"name":"team"}}]`)
	team := g["team"]
	mkGroups(t, root, fmt.Sprintf(`[{"group":{"name":"doc"},"_acl":[{"who":{"group":{"_id":%d}},"rights":{"bag_read":{}}}]}]`, team))
	uid := a.MustCreateUser(t, "carol", `{"system.group":{}}`)
	atA := a.LoginAs(t, "carol")
	atB := &Client{s: b, Token: atA.Token, UserID: uid} // the same session, used at B

	sees := func(c *Client) string {
		return strings.Join(names(groups(t, c.Do(t, "GET", "/api/v1/group", nil))), ",")
	}
	// eventually polls B, whose cache learns of the change by notification.
	eventually := func(what, want string) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			got := sees(atB)
			if got == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: B shows %q, want %q", what, got, want)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	if got, gotB := sees(atA), sees(atB); got != "" || gotB != "" {
		t.Fatalf("before: %q %q", got, gotB)
	}

	// Joined through the user API (_groups).
	u := users(t, root.Do(t, "GET", fmt.Sprintf("/api/v1/user/%d", uid), nil))[0]
	users(t, root.Do(t, "POST", "/api/v1/user", fmt.Sprintf(`[{"user":{"_id":%d,"_version":%d},"_groups":[{"group":{"_id":%d}}]}]`,
		uid, u.version()+1, team)))
	if got := sees(atA); got != "team,doc" {
		t.Fatalf("after joining, A shows %q", got)
	}
	eventually("joined", "team,doc")

	// Removed through the members API.
	if res := members(t, root, team, fmt.Sprintf(`{"remove":[%d]}`, uid)); res[0].Result != "removed" {
		t.Fatalf("remove: %+v", res)
	}
	if got := sees(atA); got != "" {
		t.Fatalf("after removal, A shows %q", got)
	}
	eventually("removed", "")

	// Added through the members API, removed through the user API.
	members(t, root, team, fmt.Sprintf(`{"add":[%d]}`, uid))
	if got := sees(atA); got != "team,doc" {
		t.Fatalf("after re-adding, A shows %q", got)
	}
	eventually("re-added", "team,doc")
	u = users(t, root.Do(t, "GET", fmt.Sprintf("/api/v1/user/%d", uid), nil))[0]
	users(t, root.Do(t, "POST", "/api/v1/user", fmt.Sprintf(`[{"user":{"_id":%d,"_version":%d},"_groups":[]}]`, uid, u.version()+1)))
	if got := sees(atA); got != "" {
		t.Fatalf("after leaving, A shows %q", got)
	}
	eventually("left", "")
}

// TestMembersPagingAndIdempotency: the members sub-resource pages by
// limit/offset with X-Total-Count, and its writes are set operations that
// report per id and can be repeated.
func TestMembersPagingAndIdempotency(t *testing.T) {
	t.Parallel()
	s := MustStartServer(t)
	root := s.Root(t)
	g := mkGroups(t, root, `[{"group":{"name":"crowd"}}]`)["crowd"]
	var ids []int64
	if err := s.DB.QueryRow(`WITH u AS (INSERT INTO users (login, owner_user_id)
		SELECT 'm' || i, 1 FROM generate_series(1, 250) i RETURNING id) SELECT array_agg(id ORDER BY id) FROM u`).
		Scan((*int64Array)(&ids)); err != nil {
		t.Fatal(err)
	}
	add := func(ids []int64) string {
		b, _ := json.Marshal(map[string][]int64{"add": ids})
		return string(b)
	}
	res := members(t, root, g, add(append([]int64{999999}, ids...)))
	if len(res) != 251 || res[0] != (memberResult{999999, "not_found"}) || res[1] != (memberResult{ids[0], "added"}) {
		t.Fatalf("first add: %d results, %+v", len(res), res[:2])
	}
	// Again: nothing changes, and the answer says so.
	res = members(t, root, g, add(ids[:3]))
	if len(res) != 3 || res[2] != (memberResult{ids[2], "already_member"}) {
		t.Fatalf("repeated add: %+v", res)
	}
	var events int
	s.DB.QueryRow(`SELECT count(*) FROM events WHERE object_type = 'membership' AND object_id = $1`, g).Scan(&events)
	if events != 250 {
		t.Fatalf("want 250 membership events, got %d", events)
	}

	// Pages, by id, with the total.
	var got []int64
	for offset := 0; offset < 300; offset += 100 {
		r := root.Do(t, "GET", fmt.Sprintf("/api/v1/group/%d/members?limit=100&offset=%d", g, offset), nil)
		if r.StatusCode != 200 || r.Header.Get("X-Total-Count") != "250" {
			t.Fatalf("page at %d: %d %q", offset, r.StatusCode, r.Header.Get("X-Total-Count"))
		}
		var page []struct {
			Basetype string `json:"_basetype"`
			User     struct {
				ID    int64  `json:"_id"`
				Login string `json:"login"`
			} `json:"user"`
		}
		r.JSON(t, &page)
		for _, m := range page {
			got = append(got, m.User.ID)
		}
		if offset == 200 && (len(page) != 50 || page[0].Basetype != "user" || page[49].User.Login != "m250") {
			t.Fatalf("last page: %+v", page)
		}
	}
	if !slices.Equal(got, ids) {
		t.Fatalf("pages: %d ids, want %d in order", len(got), len(ids))
	}
	if r := root.Do(t, "GET", fmt.Sprintf("/api/v1/group/%d/members?offset=250", g), nil); strings.TrimSpace(string(r.Body)) != "[]" {
		t.Fatalf("past the end: %s", r.Body)
	}

	// Remove, twice; an unknown id; adds and removes in one request.
	res = members(t, root, g, fmt.Sprintf(`{"remove":[%d,%d]}`, ids[0], ids[1]))
	if res[0].Result != "removed" || res[1].Result != "removed" {
		t.Fatalf("remove: %+v", res)
	}
	res = members(t, root, g, fmt.Sprintf(`{"add":[%d],"remove":[%d,%d,424242]}`, ids[0], ids[1], ids[2]))
	want := []memberResult{{ids[0], "added"}, {ids[1], "not_member"}, {ids[2], "removed"}, {424242, "not_found"}}
	if !slices.Equal(res, want) {
		t.Fatalf("mixed: %+v", res)
	}
	if r := root.Do(t, "GET", fmt.Sprintf("/api/v1/group/%d/members?limit=0", g), nil); r.Header.Get("X-Total-Count") != "248" {
		t.Fatalf("after removals: X-Total-Count %q", r.Header.Get("X-Total-Count"))
	}
	// The user side agrees.
	r := root.Do(t, "GET", fmt.Sprintf("/api/v1/user?groupids=%d&limit=1", g), nil)
	if r.Header.Get("X-Total-Count") != "248" {
		t.Fatalf("groupids: X-Total-Count %q", r.Header.Get("X-Total-Count"))
	}

	// The computed members of the system groups: every user; every
	// non-system user.
	r = root.Do(t, "GET", "/api/v1/group/1/members?limit=2", nil)
	if r.Header.Get("X-Total-Count") != "251" || !strings.Contains(string(r.Body), `"login":"root"`) {
		t.Fatalf(":all members: %q %s", r.Header.Get("X-Total-Count"), r.Body)
	}
	r = root.Do(t, "GET", "/api/v1/group/2/members?limit=2&offset=1", nil)
	if r.Header.Get("X-Total-Count") != "250" || !strings.Contains(string(r.Body), `"login":"m2"`) {
		t.Fatalf(":non_system members: %q %s", r.Header.Get("X-Total-Count"), r.Body)
	}
}

// int64Array scans a PostgreSQL bigint[] ("{1,2,3}").
type int64Array []int64

func (a *int64Array) Scan(src any) error {
	var s string
	switch v := src.(type) {
	case []byte:
		s = string(v)
	case string:
		s = v
	default:
		return fmt.Errorf("int64Array: %T", src)
	}
	*a = nil
	for _, f := range strings.Split(strings.Trim(s, "{}"), ",") {
		var n int64
		if _, err := fmt.Sscan(f, &n); err != nil {
			return err
		}
		*a = append(*a, n)
	}
	return nil
}

// TestUserPasswordAndSelfService: a user without write on itself changes
// what system.user.write_self and system.user.change_password allow, and
// nothing else; a new password ends the user's other sessions (the caller's
// own stays), and a password set by an administrator ends all of them.
func TestUserPasswordAndSelfService(t *testing.T) {
	t.Parallel()
	s := MustStartServer(t)
	root := s.Root(t)
	uid := s.MustCreateUser(t, "dave", `{"system.user.write_self":{"displayname":true},"system.user.change_password":{}}`)
	first, second := s.LoginAs(t, "dave"), s.LoginAs(t, "dave")
	get := func(c *Client) userOut { return users(t, c.Do(t, "GET", fmt.Sprintf("/api/v1/user/%d", uid), nil))[0] }

	me := get(first)
	if me.rights() != "" {
		t.Fatalf("dave's rights on himself: %s", me.rights())
	}
	users(t, first.Do(t, "POST", "/api/v1/user", fmt.Sprintf(`[{"user":{"_id":%d,"_version":2,"displayname":"Dave D.",
		"frontend_language":"de-DE","frontend_prefs":{"theme":"dark"}}}]`, uid)))
	e := MustError(t, first.Do(t, "POST", "/api/v1/user", fmt.Sprintf(`[{"user":{"_id":%d,"_version":3,"first_name":"David"}}]`, uid)),
		400, "error.user.insufficient_rights")
	if e.Parameters["right"] != "write" || e.Parameters["ids"] != fmt.Sprint(uid) {
		t.Fatalf("params %v", e.Parameters)
	}

	// Changing one's own password takes the current one: without it, with a
	// wrong one, or with a new one that is too short, nothing changes.
	change := func(extra string) *Response {
		return first.Do(t, "POST", "/api/v1/user", fmt.Sprintf(`[{"user":{"_id":%d,"_version":3},"_password":"new-pw-1"%s}]`, uid, extra))
	}
	if e := MustError(t, change(""), 400, "error.api.attribute_expected"); e.Parameters["attribute"] != "_old_password" {
		t.Fatalf("without _old_password: %v", e.Parameters)
	}
	MustError(t, change(`,"_old_password":"not-my-password"`), 400, "error.user.login_failed")
	if e := MustError(t, first.Do(t, "POST", "/api/v1/user", fmt.Sprintf(`[{"user":{"_id":%d,"_version":3},"_password":"short","_old_password":"pw-dave"}]`, uid)),
		400, "error.api.invalid_value"); e.Parameters["attribute"] != "_password" {
		t.Fatalf("short password: %v", e.Parameters)
	}
	users(t, change(`,"_old_password":"pw-dave"`))
	if me := get(first); me.User["displayname"] != "Dave D." || me.version() != 3 {
		t.Fatalf("after the change: %+v", me.User)
	}
	MustError(t, second.Do(t, "GET", fmt.Sprintf("/api/v1/user/%d", uid), nil), 400, "error.user.session_not_found")
	third := s.Login(t, "dave", "new-pw-1")

	// An administrator sets it: every session of dave ends.
	users(t, root.Do(t, "POST", "/api/v1/user", fmt.Sprintf(`[{"user":{"_id":%d,"_version":4},"_password":"new-pw-2"}]`, uid)))
	for _, c := range []*Client{first, third} {
		MustError(t, c.Do(t, "GET", fmt.Sprintf("/api/v1/user/%d", uid), nil), 400, "error.user.session_not_found")
	}
	MustError(t, s.Do(t, "POST", "/api/v1/session/authenticate?token="+s.Root(t).Token+"&login=dave&password=new-pw-1", nil),
		400, "error.user.login_failed")
	s.Login(t, "dave", "new-pw-2")

	// Disabled by an administrator: no more login.
	users(t, root.Do(t, "POST", "/api/v1/user", fmt.Sprintf(`[{"user":{"_id":%d,"_version":5,"login_disabled":true}}]`, uid)))
	MustError(t, s.Do(t, "POST", "/api/v1/session/authenticate?token="+s.Root(t).Token+"&login=dave&password=new-pw-2", nil),
		400, "error.user.login_disabled")
}

// TestUserVisibilityAndDelete: who reads which user (owner, the user's ACL,
// a group's ACL on its users), the filters, and deletion.
func TestUserVisibilityAndDelete(t *testing.T) {
	t.Parallel()
	s := MustStartServer(t)
	root := s.Root(t)
	aliceID := s.MustCreateUser(t, "alice", `{"system.user":{"create":true}}`)
	bobID := s.MustCreateUser(t, "bob", `{"system.user":{}}`)
	alice, bob := s.LoginAs(t, "alice"), s.LoginAs(t, "bob")
	g := mkGroups(t, root, fmt.Sprintf(`[{"group":{"name":"staff"},"_acl":[{"who":{"user":{"_id":%d}},"rights":{"write":{}}}]},
		{"group":{"name":"other"}}]`, bobID))

	made := users(t, alice.Do(t, "PUT", "/api/v1/user", `[{"user":{"login":"a-made","type":"custom-sync"}}]`))[0]
	if made.rights() != "delete,read,write" || made.User["type"] != "custom-sync" {
		t.Fatalf("alice's user: %s %v", made.rights(), made.User["type"])
	}
	users(t, root.Do(t, "PUT", "/api/v1/user", fmt.Sprintf(`[{"user":{"login":"acl-read"},
		"_acl":[{"who":{"user":{"_id":%d}},"rights":{"read":{}}}]}]`, bobID)))
	staffer := users(t, root.Do(t, "PUT", "/api/v1/user", fmt.Sprintf(`[{"user":{"login":"staffer"},
		"_groups":[{"group":{"_id":%d}}]},{"user":{"login":"outsider"},"_groups":[{"group":{"_id":%d}}]}]`, g["staff"], g["other"])))[0]

	r := bob.Do(t, "GET", "/api/v1/user", nil)
	if got := logins(users(t, r)); got != "acl-read,staffer" || r.Header.Get("X-Total-Count") != "2" {
		t.Fatalf("bob sees %q (%s)", got, r.Header.Get("X-Total-Count"))
	}
	if u := users(t, bob.Do(t, "GET", fmt.Sprintf("/api/v1/user/%d", staffer.id()), nil))[0]; u.rights() != "read,write" {
		t.Fatalf("bob's rights on a staff member: %s", u.rights())
	}
	if got := logins(users(t, alice.Do(t, "GET", "/api/v1/user", nil))); got != "a-made" {
		t.Fatalf("alice sees %q", got)
	}
	for _, c := range []struct{ query, want string }{
		{fmt.Sprintf("groupids=%d", g["staff"]), "staffer"},
		{fmt.Sprintf("groupids=%d,%d", g["staff"], g["other"]), "staffer,outsider"},
		{"groupids=2", "alice,bob,a-made,acl-read,staffer,outsider"},
		{"type=system", "root"},
		{"type=custom-sync", "a-made"},
		{"limit=2&offset=1", "alice,bob"},
		{"login=STAFF", "staffer"},
		{"login=%25", ""},
		{"login=a-&groupids=2", "a-made"},
		// By match quality: the login that starts with "o" before those
		// that merely contain it, whatever the ids.
		{"login=o", "outsider,root,bob"},
		{"login=o&limit=1&offset=1", "root"},
	} {
		if got := logins(users(t, root.Do(t, "GET", "/api/v1/user?"+c.query, nil))); got != c.want {
			t.Errorf("?%s: got %q want %q", c.query, got, c.want)
		}
	}

	// bob may write staff members but not delete them; alice deletes hers.
	MustError(t, bob.Do(t, "DELETE", fmt.Sprintf("/api/v1/user/%d", staffer.id()), nil), 400, "error.user.insufficient_rights")
	r = alice.Do(t, "DELETE", fmt.Sprintf("/api/v1/user/%d", made.id()), nil)
	if r.StatusCode != 200 || strings.TrimSpace(string(r.Body)) != "{}" {
		t.Fatalf("DELETE: %d %s", r.StatusCode, r.Body)
	}
	MustError(t, root.Do(t, "GET", fmt.Sprintf("/api/v1/user/%d", made.id()), nil), 400, "error.user.user_not_found")

	// Deleting a member removes its memberships, with events, and its
	// sessions end.
	users(t, root.Do(t, "POST", "/api/v1/user", fmt.Sprintf(`[{"user":{"_id":%d,"_version":2},"_groups":[{"group":{"_id":%d}}]}]`,
		aliceID, g["staff"])))
	r = root.Do(t, "DELETE", fmt.Sprintf("/api/v1/user/%d", aliceID), nil)
	if r.StatusCode != 200 {
		t.Fatalf("DELETE alice: %d %s", r.StatusCode, r.Body)
	}
	MustError(t, alice.Do(t, "GET", "/api/v1/user", nil), 400, "error.user.session_not_found")
	var n int
	s.DB.QueryRow(`SELECT count(*) FROM memberships WHERE user_id = $1`, aliceID).Scan(&n)
	if n != 0 {
		t.Fatalf("memberships left: %d", n)
	}
	var events []struct {
		Action string `json:"action"`
	}
	root.Do(t, "GET", fmt.Sprintf("/api/v1/events?type=membership&object_id=%d", g["staff"]), nil).JSON(t, &events)
	if len(events) != 3 || events[2].Action != "remove_member" {
		t.Fatalf("staff membership events: %+v", events)
	}
}
