package integration

// The access matrix (issue 7): every endpoint and method, called by every
// kind of caller, answers exactly the allow or deny that docs/api.md and
// docs/users.md specify, and a denied write changes nothing.

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

// accessCaller is one kind of caller: the grants it holds, and its client.
type accessCaller struct {
	name string
	// systemRights of the caller's user (JSON); acl are the rights an ACL
	// entry on the target group grants it, uacl on the target user.
	systemRights string
	acl, uacl    string
	owner        bool // owns the target group and user (and the victims)
	member       bool // static member of the target group (and the victims)
	c            *Client
	uid          int64
}

// accessCallers: anonymous, expired, authenticated without rights, each
// single right alone, owner and member alone and with system.group, and root.
var accessCallers = []*accessCaller{
	{name: "none"}, {name: "expired"}, {name: "plain"},
	{name: "system.group", systemRights: `{"system.group":{}}`},
	{name: "system.group.create", systemRights: `{"system.group":{"create":true}}`},
	{name: "system.user", systemRights: `{"system.user":{}}`},
	{name: "system.user.create", systemRights: `{"system.user":{"create":true}}`},
	{name: "acl.bag_read", acl: "bag_read"}, {name: "acl.bag_write", acl: "bag_write"},
	{name: "acl.bag_delete", acl: "bag_delete"}, {name: "acl.link", acl: "link"}, {name: "acl.unlink", acl: "unlink"},
	{name: "uacl.read", uacl: "read"}, {name: "uacl.write", uacl: "write"}, {name: "uacl.delete", uacl: "delete"},
	{name: "owner", owner: true}, {name: "member", member: true},
	{name: "system.group+acl.bag_read", systemRights: `{"system.group":{}}`, acl: "bag_read"},
	{name: "system.group+owner", systemRights: `{"system.group":{}}`, owner: true},
	{name: "system.group+member", systemRights: `{"system.group":{}}`, member: true},
	{name: "system.user+uacl.read", systemRights: `{"system.user":{}}`, uacl: "read"},
	{name: "root"},
}

// accessOp is one endpoint and method with the callers it allows.
type accessOp struct {
	name  string
	write bool // a denied call must leave the database unchanged
	allow []string
	do    func(tb testing.TB, c *accessCaller) *Response
	after func(tb testing.TB, c *accessCaller, r *Response) // undo an allowed change the next callers must not see
}

func TestAccessMatrix(t *testing.T) {
	t.Parallel()
	s := MustStartServer(t)
	root := s.Root(t)
	ctx := context.Background()
	byName := map[string]*accessCaller{}
	for _, c := range accessCallers {
		byName[c.name] = c
		switch c.name {
		case "none":
			c.c = &Client{s: s}
		case "root":
			c.c, c.uid = root, 1
		default:
			c.uid = s.MustCreateUser(t, "a-"+c.name, c.systemRights)
		}
	}
	extra := s.MustCreateUser(t, "a-extra", "") // a member that link/unlink move

	// groupSetup makes a group with the grants of every caller: ACL entries,
	// owner, members. The target group and one victim per caller for DELETE.
	groupSetup := func(name string) int64 {
		var acl []string
		for _, c := range accessCallers {
			if c.acl != "" {
				acl = append(acl, fmt.Sprintf(`{"who":{"user":{"_id":%d}},"rights":{%q:{}}}`, c.uid, c.acl))
			}
		}
		g := groups(t, root.Do(t, "PUT", "/api/v1/group", fmt.Sprintf(`[{"group":{"name":%q},"_acl":[%s]}]`,
			name, strings.Join(acl, ","))))[0]
		var add []string
		for _, c := range accessCallers {
			if c.member {
				add = append(add, fmt.Sprint(c.uid))
			}
		}
		add = append(add, fmt.Sprint(extra))
		if r := root.Do(t, "POST", fmt.Sprintf("/api/v1/group/%d/members", g.Group.ID), `{"add":[`+strings.Join(add, ",")+`]}`); r.StatusCode != 200 {
			t.Fatalf("members: %d %s", r.StatusCode, r.Body)
		}
		return g.Group.ID
	}
	userSetup := func(login string) int64 {
		var acl []string
		for _, c := range accessCallers {
			if c.uacl != "" {
				acl = append(acl, fmt.Sprintf(`{"who":{"user":{"_id":%d}},"rights":{%q:{}}}`, c.uid, c.uacl))
			}
		}
		u := users(t, root.Do(t, "PUT", "/api/v1/user", fmt.Sprintf(`[{"user":{"login":%q},"_acl":[%s]}]`,
			login, strings.Join(acl, ","))))[0]
		return u.id()
	}
	target := groupSetup("a-target")
	targetUser := userSetup("a-target-user")
	victims, victimUsers := map[string]int64{}, map[string]int64{}
	for _, c := range accessCallers {
		victims[c.name] = groupSetup("a-victim-" + c.name)
		victimUsers[c.name] = userSetup("a-victim-user-" + c.name)
	}
	// Hand everything to the owner: the owner of a group or user holds its
	// object rights (a separate step: a create is always owned by its caller).
	owners := []string{}
	for _, c := range accessCallers {
		if c.owner {
			owners = append(owners, fmt.Sprint(c.uid))
		}
	}
	if len(owners) != 2 {
		t.Fatal("want two owners")
	}
	// Both owner callers own everything through a group they are in (an
	// owning group makes every member an owner).
	ownerGroupID := groups(t, root.Do(t, "PUT", "/api/v1/group", `[{"group":{"name":"a-owners"}}]`))[0].Group.ID
	root.Do(t, "POST", fmt.Sprintf("/api/v1/group/%d/members", ownerGroupID), `{"add":[`+strings.Join(owners, ",")+`]}`)
	var owned []string
	for _, id := range append([]int64{target}, mapValues(victims)...) {
		g := groups(t, root.Do(t, "GET", fmt.Sprintf("/api/v1/group/%d", id), nil))[0]
		owned = append(owned, fmt.Sprintf(`{"group":{"_id":%d,"_version":%d},"_owner":{"group":{"_id":%d}}}`,
			id, g.Group.Version+1, ownerGroupID))
	}
	groups(t, root.Do(t, "POST", "/api/v1/group", "["+strings.Join(owned, ",")+"]"))
	owned = nil
	for _, id := range append([]int64{targetUser}, mapValues(victimUsers)...) {
		u := users(t, root.Do(t, "GET", fmt.Sprintf("/api/v1/user/%d", id), nil))[0]
		owned = append(owned, fmt.Sprintf(`{"user":{"_id":%d,"_version":%d},"_owner":{"group":{"_id":%d}}}`,
			id, u.version()+1, ownerGroupID))
	}
	users(t, root.Do(t, "POST", "/api/v1/user", "["+strings.Join(owned, ",")+"]"))

	// Log everybody in; expire one session.
	for _, c := range accessCallers {
		if c.c == nil {
			c.c = s.LoginAs(t, "a-"+c.name)
		}
	}
	expired := byName["expired"].c.Token
	sum := sha256.Sum256([]byte(expired))
	if _, err := s.DB.ExecContext(ctx, `UPDATE sessions SET last_used_at = now() - interval '400 days' WHERE token_hash = $1`,
		sum[:]); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DB.ExecContext(ctx, `SELECT pg_notify('groupd_invalidate', '*')`); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)

	version := func(table string, id int64) int64 {
		var v int64
		if err := s.DB.QueryRow(`SELECT version FROM `+table+` WHERE id = $1`, id).Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	groupAllow := func(extra ...string) []string { return append([]string{"root"}, extra...) }
	bagRead := groupAllow("acl.bag_read", "acl.bag_write", "acl.bag_delete", "owner", "member",
		"system.group+acl.bag_read", "system.group+owner", "system.group+member")
	bagWrite := groupAllow("acl.bag_write", "acl.bag_delete", "owner", "system.group+owner")
	bagDelete := groupAllow("acl.bag_delete", "owner", "system.group+owner")
	systemGroup := groupAllow("system.group", "system.group.create", "system.group+acl.bag_read", "system.group+owner",
		"system.group+member")
	systemUser := groupAllow("system.user", "system.user.create", "system.user+uacl.read")
	everyone := func(except ...string) []string {
		var out []string
		for _, c := range accessCallers {
			if !slices.Contains(except, c.name) {
				out = append(out, c.name)
			}
		}
		return out
	}
	created := 0
	ops := []accessOp{
		{name: "GET /api/v1/session", allow: everyone("expired"),
			do: func(tb testing.TB, c *accessCaller) *Response { return c.c.Do(tb, "GET", "/api/v1/session", nil) }},
		{name: "GET /api/v1/group", allow: systemGroup,
			do: func(tb testing.TB, c *accessCaller) *Response { return c.c.Do(tb, "GET", "/api/v1/group", nil) }},
		{name: "GET /api/v1/group/<id>", allow: intersect(systemGroup, bagRead),
			do: func(tb testing.TB, c *accessCaller) *Response {
				return c.c.Do(tb, "GET", fmt.Sprintf("/api/v1/group/%d", target), nil)
			}},
		{name: "PUT /api/v1/group", write: true, allow: groupAllow("system.group.create"),
			do: func(tb testing.TB, c *accessCaller) *Response {
				created++
				return c.c.Do(tb, "PUT", "/api/v1/group", fmt.Sprintf(`[{"group":{"name":"a-new-%d"}}]`, created))
			}},
		{name: "POST /api/v1/group", write: true, allow: bagWrite,
			do: func(tb testing.TB, c *accessCaller) *Response {
				return c.c.Do(tb, "POST", "/api/v1/group", fmt.Sprintf(`[{"group":{"_id":%d,"_version":%d,"comment":%q}}]`,
					target, version("groups", target)+1, "by "+c.name))
			}},
		{name: "DELETE /api/v1/group/<id>", write: true, allow: bagDelete,
			do: func(tb testing.TB, c *accessCaller) *Response {
				return c.c.Do(tb, "DELETE", fmt.Sprintf("/api/v1/group/%d", victims[c.name]), nil)
			}},
		{name: "GET /api/v1/group/<id>/members", allow: bagRead,
			do: func(tb testing.TB, c *accessCaller) *Response {
				return c.c.Do(tb, "GET", fmt.Sprintf("/api/v1/group/%d/members", target), nil)
			}},
		{name: "POST /api/v1/group/<id>/members add", write: true, allow: groupAllow("acl.link"),
			do: func(tb testing.TB, c *accessCaller) *Response {
				return c.c.Do(tb, "POST", fmt.Sprintf("/api/v1/group/%d/members", target), fmt.Sprintf(`{"add":[%d]}`, targetUser))
			},
			after: func(tb testing.TB, c *accessCaller, r *Response) {
				root.Do(tb, "POST", fmt.Sprintf("/api/v1/group/%d/members", target), fmt.Sprintf(`{"remove":[%d]}`, targetUser))
			}},
		{name: "POST /api/v1/group/<id>/members remove", write: true, allow: groupAllow("acl.unlink"),
			do: func(tb testing.TB, c *accessCaller) *Response {
				return c.c.Do(tb, "POST", fmt.Sprintf("/api/v1/group/%d/members", target), fmt.Sprintf(`{"remove":[%d]}`, extra))
			},
			after: func(tb testing.TB, c *accessCaller, r *Response) {
				root.Do(tb, "POST", fmt.Sprintf("/api/v1/group/%d/members", target), fmt.Sprintf(`{"add":[%d]}`, extra))
			}},
		{name: "GET /api/v1/events", allow: groupAllow(),
			do: func(tb testing.TB, c *accessCaller) *Response {
				return c.c.Do(tb, "GET", "/api/v1/events?limit=5", nil)
			}},
		{name: "GET /api/v1/user", allow: systemUser,
			do: func(tb testing.TB, c *accessCaller) *Response { return c.c.Do(tb, "GET", "/api/v1/user", nil) }},
		{name: "GET /api/v1/user/<id>", allow: groupAllow("system.user+uacl.read"),
			do: func(tb testing.TB, c *accessCaller) *Response {
				return c.c.Do(tb, "GET", fmt.Sprintf("/api/v1/user/%d", targetUser), nil)
			}},
		{name: "GET /api/v1/user/<own id>", allow: everyone("none", "expired"),
			do: func(tb testing.TB, c *accessCaller) *Response {
				return c.c.Do(tb, "GET", fmt.Sprintf("/api/v1/user/%d", max(c.uid, 1)), nil)
			}},
		{name: "PUT /api/v1/user", write: true, allow: groupAllow("system.user.create"),
			do: func(tb testing.TB, c *accessCaller) *Response {
				created++
				return c.c.Do(tb, "PUT", "/api/v1/user", fmt.Sprintf(`[{"user":{"login":"a-new-%d"}}]`, created))
			}},
		{name: "POST /api/v1/user", write: true, allow: groupAllow("uacl.write", "uacl.delete", "owner", "system.group+owner"),
			do: func(tb testing.TB, c *accessCaller) *Response {
				return c.c.Do(tb, "POST", "/api/v1/user", fmt.Sprintf(`[{"user":{"_id":%d,"_version":%d,"first_name":%q}}]`,
					targetUser, version("users", targetUser)+1, "by "+c.name))
			}},
		{name: "DELETE /api/v1/user/<id>", write: true, allow: groupAllow("uacl.delete", "owner", "system.group+owner"),
			do: func(tb testing.TB, c *accessCaller) *Response {
				return c.c.Do(tb, "DELETE", fmt.Sprintf("/api/v1/user/%d", victimUsers[c.name]), nil)
			}},
		{name: "POST /api/v1/session/deauthenticate", write: true, allow: everyone("none", "expired"),
			do: func(tb testing.TB, c *accessCaller) *Response {
				return c.c.Do(tb, "POST", "/api/v1/session/deauthenticate", nil)
			}},
	}

	// snapshot is what a denied write must not change: every row's version
	// and every table's size; of the sessions, the live authenticated ones
	// (any use touches a session, and the janitor deletes the expired one).
	snapshot := func() string {
		var out string
		err := s.DB.QueryRow(`SELECT concat_ws(' | ',
			(SELECT string_agg(id || ':' || version, ',' ORDER BY id) FROM groups),
			(SELECT string_agg(id || ':' || version || ':' || COALESCE(owner_user_id, 0), ',' ORDER BY id) FROM users),
			(SELECT count(*) FROM memberships), (SELECT count(*) FROM group_acl), (SELECT count(*) FROM user_acl),
			(SELECT count(*) FROM events),
			(SELECT count(*) FROM sessions WHERE user_id IS NOT NULL AND last_used_at > now() - interval '1 day'))`).Scan(&out)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	denyCodes := []string{"error.user.no_system_right", "error.user.insufficient_rights"}
	var table []string
	mismatches := 0
	for _, op := range ops {
		var allowed []string
		for _, c := range accessCallers {
			before := ""
			if op.write {
				before = snapshot()
			}
			r := op.do(t, c)
			want := slices.Contains(op.allow, c.name)
			got := r.StatusCode == 200
			var e APIError
			json.Unmarshal(r.Body, &e)
			switch {
			case got != want:
				mismatches++
				t.Errorf("%s as %s: want allowed=%v, got %d %.200s", op.name, c.name, want, r.StatusCode, r.Body)
			case !got && c.name == "none" && e.Code != "error.user.not_authenticated":
				t.Errorf("%s without a token: %s, want error.user.not_authenticated", op.name, e.Code)
			case !got && c.name == "expired" && e.Code != "error.user.session_not_found":
				t.Errorf("%s with an expired token: %s, want error.user.session_not_found", op.name, e.Code)
			case !got && c.name != "none" && c.name != "expired" && !slices.Contains(denyCodes, e.Code):
				t.Errorf("%s as %s: denied with %s, want one of %v", op.name, c.name, e.Code, denyCodes)
			}
			if got {
				allowed = append(allowed, c.name)
				if op.after != nil {
					op.after(t, c, r)
				}
			} else if op.write {
				if after := snapshot(); after != before {
					t.Errorf("%s as %s was denied (%s) but changed the database:\n before %s\n after  %s",
						op.name, c.name, e.Code, before, after)
				}
			}
		}
		sort.Strings(allowed)
		table = append(table, fmt.Sprintf("%-40s %s", op.name, strings.Join(allowed, ", ")))
	}
	t.Logf("%d endpoints x %d callers; allowed:\n%s", len(ops), len(accessCallers), strings.Join(table, "\n"))
}

func intersect(a, b []string) []string {
	var out []string
	for _, x := range a {
		if slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

func mapValues(m map[string]int64) []int64 {
	out := make([]int64, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}
