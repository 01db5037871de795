package integration

// The defects of issue 14, one test each: client values that PostgreSQL
// cannot hold (NUL, invalid UTF-8, \u0000 in jsonb, timestamps out of its
// range) reached it and answered 500; sub-second `when` values were cut to
// seconds; names of invisible fillers were accepted; a caller with bag_read
// alone saw a group in full format. And from issue 23: unbounded filters.

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"
)

// mustInvalidValue asserts a typed 400 error.api.invalid_value naming param
// (parameters.attribute).
func mustInvalidValue(tb testing.TB, what string, r *Response, param string) {
	tb.Helper()
	var e APIError
	if err := json.Unmarshal(r.Body, &e); err != nil || r.StatusCode != 400 || e.Code != "error.api.invalid_value" {
		tb.Errorf("%s: want 400 error.api.invalid_value, got %d %.300s", what, r.StatusCode, r.Body)
		return
	}
	if !strings.HasPrefix(e.Parameters["attribute"], param) {
		tb.Errorf("%s: the error names %q, want %q: %s", what, e.Parameters["attribute"], param, r.Body)
	}
}

// TestQueryParamsNotStorable: NUL and invalid UTF-8 in a filter answer a
// typed 400 naming the parameter, and filters are capped (issue 23: 64 KB
// name filters took 22 s of PostgreSQL CPU each).
func TestQueryParamsNotStorable(t *testing.T) {
	t.Parallel()
	s := MustStartServer(t)
	root := s.Root(t)
	groups(t, root.Do(t, "PUT", "/api/v1/group", `[{"group":{"name":"plain","reference":"ref"}}]`))
	for _, c := range []struct{ path, param string }{
		{"/api/v1/group?name=%00", "name"},
		{"/api/v1/group?name=a%00b", "name"},
		{"/api/v1/group?name=%FF", "name"},
		{"/api/v1/group?reference=%00", "reference"},
		{"/api/v1/group?reference=%C3", "reference"},
		{"/api/v1/group?type=custom-%00", "type"},
		{"/api/v1/group?type=custom-%FE", "type"},
		{"/api/v1/user?login=%00", "login"},
		{"/api/v1/user?login=%FF%FE", "login"},
		{"/api/v1/user?type=custom-%00", "type"},
		{"/api/v1/group?name=" + strings.Repeat("x", 257), "name"},
		{"/api/v1/group?name=" + url.QueryEscape(strings.Repeat("é", 257)), "name"},
		{"/api/v1/group?name=" + strings.Repeat("x", 65536), "name"},
		{"/api/v1/group?reference=" + strings.Repeat("r", 1025), "reference"},
		{"/api/v1/user?login=" + strings.Repeat("x", 257), "login"},
		{"/api/v1/user?login=" + strings.Repeat("x", 65536), "login"},
	} {
		mustInvalidValue(t, c.path[:min(len(c.path), 60)], root.Do(t, "GET", c.path, nil), c.param)
	}
	// At the limit, the filters work: 256 characters (not bytes) of a name.
	long := strings.Repeat("é", 256)
	out := groups(t, root.Do(t, "PUT", "/api/v1/group", js([]map[string]any{{"group": map[string]any{"name": long}}})))
	found := groups(t, root.Do(t, "GET", "/api/v1/group?name="+url.QueryEscape(long), nil))
	if len(found) != 1 || found[0].Group.ID != out[0].Group.ID {
		t.Errorf("a 256-character name filter found %d groups", len(found))
	}
	if r := root.Do(t, "GET", "/api/v1/user?login="+strings.Repeat("x", 256), nil); r.StatusCode != 200 {
		t.Errorf("a 256-character login filter: %d %s", r.StatusCode, r.Body)
	}
	if r := root.Do(t, "GET", "/api/v1/group?reference="+strings.Repeat("r", 1024), nil); r.StatusCode != 200 {
		t.Errorf("a 1024-character reference filter: %d %s", r.StatusCode, r.Body)
	}
}

// TestLoginNotStorable: a login with NUL or invalid UTF-8, in the query, a
// form or JSON, gets byte for byte the answer of an unknown login, and counts
// towards the lockout like one.
func TestLoginNotStorable(t *testing.T) {
	t.Parallel()
	s := MustStartServer(t)
	unknown := sessAuth(t, s, sessNew(t, s).Token, "nobody-by-this-name", "x")
	MustError(t, unknown, 400, "error.user.login_failed")
	form := func(q url.Values) *Response {
		return s.Do(t, "POST", "/api/v1/session/authenticate", q.Encode(), "Content-Type", "application/x-www-form-urlencoded")
	}
	for _, login := range []string{"x\x00y", "\xff", "root\x00", "a\xc3", strings.Repeat("é", 300) + "\x00"} {
		for how, send := range map[string]func() *Response{
			"query": func() *Response { return sessAuth(t, s, sessNew(t, s).Token, login, "x") },
			"form": func() *Response {
				return form(url.Values{"token": {sessNew(t, s).Token}, "login": {login}, "password": {"x"}})
			},
			"json": func() *Response {
				return s.Do(t, "POST", "/api/v1/session/authenticate",
					js(map[string]string{"token": sessNew(t, s).Token, "login": login, "password": "x"}))
			},
		} {
			r := send()
			if r.StatusCode != unknown.StatusCode || string(r.Body) != string(unknown.Body) {
				t.Errorf("login %q by %s: got %d %s, want the unknown login's %d %s", login, how, r.StatusCode, r.Body,
					unknown.StatusCode, unknown.Body)
			}
		}
	}
	// The failures were counted: the lockout (5 in 15 minutes) holds the
	// login, as it would an unknown one.
	var n int
	if err := s.DB.QueryRow(`SELECT count(*) FROM login_failures WHERE login = $1`, "x\uFFFDy").Scan(&n); err != nil || n != 3 {
		t.Errorf("failures recorded for x\\x00y: %d (%v), want 3", n, err)
	}
}

// TestJSONBNul: \u0000 in a string or key of frontend_prefs (groups and
// users) or of a right's parameters is refused by name; nothing is written.
func TestJSONBNul(t *testing.T) {
	t.Parallel()
	s := MustStartServer(t)
	root := s.Root(t)
	var before int
	s.DB.QueryRow(`SELECT count(*) FROM groups`).Scan(&before)
	for _, c := range []struct{ method, path, body, attr string }{
		{"PUT", "/api/v1/group", `[{"group":{"name":"p1","frontend_prefs":{"k":"a\u0000b"}}}]`, "group.frontend_prefs.k"},
		{"PUT", "/api/v1/group", `[{"group":{"name":"p2","frontend_prefs":{"a\u0000":1}}}]`, "group.frontend_prefs"},
		{"PUT", "/api/v1/group", `[{"group":{"name":"p3","frontend_prefs":{"l":[1,{"m":["\u0000"]}]}}}]`, "group.frontend_prefs.l[1].m[0]"},
		{"PUT", "/api/v1/user", `[{"user":{"login":"u1","frontend_prefs":{"k":"\u0000"}}}]`, "user.frontend_prefs.k"},
		{"PUT", "/api/v1/user", `[{"user":{"login":"u2","frontend_prefs":{"\u0000":{}}}}]`, "user.frontend_prefs"},
		{"PUT", "/api/v1/group", `[{"group":{"name":"r1"},"_system_rights":{"system.user.create_new":{"type":"custom","custom_type":"a\u0000"}}}]`,
			"_system_rights.system.user.create_new.custom_type"},
		{"PUT", "/api/v1/user", `[{"user":{"login":"u3"},"_system_rights":{"system.user.create_new":{"type":"custom","custom_type":"\u0000"}}}]`,
			"_system_rights.system.user.create_new.custom_type"},
	} {
		r := root.Do(t, c.method, c.path, c.body)
		mustInvalidValue(t, c.body, r, c.attr)
	}
	var after int
	s.DB.QueryRow(`SELECT count(*) FROM groups`).Scan(&after)
	if after != before {
		t.Errorf("refused requests wrote %d groups", after-before)
	}
	// \u0001 and other escapes PostgreSQL can hold are stored as sent.
	g := groups(t, root.Do(t, "PUT", "/api/v1/group", `[{"group":{"name":"ok","frontend_prefs":{"k\u0001":"\u0001\u001f"}}}]`))[0]
	r := root.Do(t, "GET", fmt.Sprintf("/api/v1/group/%d", g.Group.ID), nil)
	if !strings.Contains(string(r.Body), `"frontend_prefs":{"k\u0001":"\u0001\u001f"}`) {
		t.Errorf("control escapes did not round-trip: %s", r.Body)
	}
}

// aclWhen is a group with one ACL entry for user 1 valid in [from, to).
func aclWhen(name, from, to string) string {
	when := map[string]any{}
	if from != "" {
		when["from"] = from
	}
	if to != "" {
		when["to"] = to
	}
	return js([]map[string]any{{"group": map[string]any{"name": name},
		"_acl": []map[string]any{{"who": map[string]any{"user": map[string]any{"_id": 1}}, "rights": map[string]any{"bag_read": map[string]any{}},
			"when": when}}}})
}

// TestWhenOutOfRange: timestamps that PostgreSQL or RFC 3339 output cannot
// hold are refused by name, the edges of the range are stored.
func TestWhenOutOfRange(t *testing.T) {
	t.Parallel()
	s := MustStartServer(t)
	root := s.Root(t)
	for i, v := range []string{
		"0000-01-01T00:00:00Z", "0000-12-31T23:59:59Z", "0001-01-01T00:00:00+00:01",
		"9999-12-31T23:59:59-23:59", "9999-12-31T23:00:00-01:00", "2026-01-01T00:00:00+24:00",
		"2026-01-01T00:00:00-24:00", "2026-01-01T00:00:00+99:99", "10000-01-01T00:00:00Z", "-0001-01-01T00:00:00Z",
		"2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z", "2026-01-01T24:00:00Z", "2026-01-01", "now", " ",
	} {
		for _, end := range []string{"from", "to"} {
			body := aclWhen(fmt.Sprintf("w%d%s", i, end), v, "")
			if end == "to" {
				body = aclWhen(fmt.Sprintf("w%d%s", i, end), "", v)
			}
			mustInvalidValue(t, end+" "+v, root.Do(t, "PUT", "/api/v1/group", body), "_acl[0].when."+end)
		}
	}
	for i, c := range [][2]string{
		{"0001-01-01T00:00:00Z", "9999-12-31T23:59:59.999999Z"},
		{"0001-01-01T23:59:00+23:59", "9999-12-31T00:00:00-23:59"},
	} {
		g := groups(t, root.Do(t, "PUT", "/api/v1/group", aclWhen(fmt.Sprintf("edge%d", i), c[0], c[1])))[0]
		when := g.ACL[0]["when"].(map[string]any)
		from, _ := time.Parse(time.RFC3339Nano, c[0])
		to, _ := time.Parse(time.RFC3339Nano, c[1])
		if when["from"] != from.UTC().Format("2006-01-02T15:04:05.999999Z07:00") ||
			when["to"] != to.UTC().Format("2006-01-02T15:04:05.999999Z07:00") {
			t.Errorf("edge %v came back as %v", c, when)
		}
	}
}

// TestWhenPrecision: `when` keeps microseconds; what a client read it can
// send back unchanged, without edit_acl, and root's resend moves nothing.
func TestWhenPrecision(t *testing.T) {
	t.Parallel()
	s := MustStartServer(t)
	root := s.Root(t)
	// An editor with bag_write (as owner) but no edit_acl.
	s.MustCreateUser(t, "editor", `{"system.group":{"create":true}}`)
	editor := s.LoginAs(t, "editor")
	const from, to = "2026-03-01T12:00:00.123456Z", "2030-01-01T00:00:00.5+02:00"
	g := groups(t, root.Do(t, "PUT", "/api/v1/group", aclWhen("precise", from, to)))[0]
	when := g.ACL[0]["when"].(map[string]any)
	if when["from"] != "2026-03-01T12:00:00.123456Z" || when["to"] != "2029-12-31T22:00:00.5Z" {
		t.Fatalf("when came back as %v", when)
	}
	// Give the editor the group, through the database, as a grant would.
	if _, err := s.DB.Exec(`UPDATE groups SET owner_user_id = (SELECT id FROM users WHERE login = 'editor') WHERE id = $1`,
		g.Group.ID); err != nil {
		t.Fatal(err)
	}
	r := editor.Do(t, "GET", fmt.Sprintf("/api/v1/group/%d", g.Group.ID), nil)
	var read []map[string]any
	r.JSON(t, &read)
	item := read[0]
	inner := item["group"].(map[string]any)
	inner["_version"] = inner["_version"].(float64) + 1
	inner["comment"] = "edited"
	back := groups(t, editor.Do(t, "POST", "/api/v1/group", []any{item}))[0]
	if got := back.ACL[0]["when"]; fmt.Sprint(got) != fmt.Sprint(when) {
		t.Errorf("the editor's resend moved the window: %v, want %v", got, when)
	}
	// Root resends what it read: the window stays to the microsecond.
	r = root.Do(t, "GET", fmt.Sprintf("/api/v1/group/%d", g.Group.ID), nil)
	r.JSON(t, &read)
	item = read[0]
	item["group"].(map[string]any)["_version"] = item["group"].(map[string]any)["_version"].(float64) + 1
	back = groups(t, root.Do(t, "POST", "/api/v1/group", []any{item}))[0]
	if got := back.ACL[0]["when"]; fmt.Sprint(got) != fmt.Sprint(when) {
		t.Errorf("root's resend moved the window: %v, want %v", got, when)
	}
	var stored string
	if err := s.DB.QueryRow(`SELECT (valid_from AT TIME ZONE 'UTC')::text FROM group_acl WHERE group_id = $1`,
		g.Group.ID).Scan(&stored); err != nil || stored != "2026-03-01 12:00:00.123456" {
		t.Errorf("stored from %s (%v)", stored, err)
	}
	// Nanoseconds are cut to the microseconds PostgreSQL holds, as stored.
	g = groups(t, root.Do(t, "PUT", "/api/v1/group", aclWhen("nanos", "2026-03-01T12:00:00.123456789Z", "")))[0]
	if got := g.ACL[0]["when"].(map[string]any)["from"]; got != "2026-03-01T12:00:00.123456Z" {
		t.Errorf("nanoseconds came back as %v", got)
	}
}

// TestInvisibleNames: a name, displayname or login needs one visible
// character; fillers that render blank are not one.
func TestInvisibleNames(t *testing.T) {
	t.Parallel()
	s := MustStartServer(t)
	root := s.Root(t)
	for _, v := range []string{"\u3164", "\u3164\u3164\u3164", "\u115f", "\u1160\u115f", "\uffa0\uffa0", "\u2800\u2800",
		"\u3164 \u2800", "\u00a0\u3000", "\u0301\u0301", "\u3164\u0301"} {
		mustInvalidValue(t, fmt.Sprintf("name %+q", v), root.Do(t, "PUT", "/api/v1/group",
			js([]map[string]any{{"group": map[string]any{"name": v}}})), "group.name")
		mustInvalidValue(t, fmt.Sprintf("displayname %+q", v), root.Do(t, "PUT", "/api/v1/group",
			js([]map[string]any{{"group": map[string]any{"displayname": map[string]string{"en-US": v}}}})), "group.displayname.en-US")
		mustInvalidValue(t, fmt.Sprintf("login %+q", v), root.Do(t, "PUT", "/api/v1/user",
			js([]map[string]any{{"user": map[string]any{"login": v}}})), "user.login")
	}
	// A filler next to a visible character is text like any other.
	for _, v := range []string{"a\u3164", "\u2800x", "한\u3164글", "é", "e\u0301", "⠁"} {
		if r := root.Do(t, "PUT", "/api/v1/group", js([]map[string]any{{"group": map[string]any{"name": v}}})); r.StatusCode != 200 {
			t.Errorf("name %+q: %d %s", v, r.StatusCode, r.Body)
		}
	}
}

// TestBagReadNotFullFormat: without bag_write a group is answered without
// _acl and _system_rights, by id and in listings; _generated_rights still
// says what the caller may do; with bag_write the full format is back.
func TestBagReadNotFullFormat(t *testing.T) {
	t.Parallel()
	s := MustStartServer(t)
	root := s.Root(t)
	readerID := s.MustCreateUser(t, "reader", `{"system.group":{}}`)
	writerID := s.MustCreateUser(t, "writer", `{"system.group":{}}`)
	acl := fmt.Sprintf(`[{"who":{"user":{"_id":%d}},"rights":{"bag_read":{}}},{"who":{"user":{"_id":%d}},"rights":{"bag_write":{}}}]`,
		readerID, writerID)
	g := groups(t, root.Do(t, "PUT", "/api/v1/group", `[{"group":{"name":"secretive"},"_acl":`+acl+
		`,"_system_rights":{"system.group":{"create":true}}}]`))[0]
	reader, writer := s.LoginAs(t, "reader"), s.LoginAs(t, "writer")
	for _, path := range []string{fmt.Sprintf("/api/v1/group/%d", g.Group.ID), "/api/v1/group", "/api/v1/group?name=secret"} {
		var rd, wr []map[string]any
		reader.Do(t, "GET", path, nil).JSON(t, &rd)
		writer.Do(t, "GET", path, nil).JSON(t, &wr)
		if len(rd) != 1 || len(wr) != 1 {
			t.Fatalf("%s: reader sees %d, writer %d groups", path, len(rd), len(wr))
		}
		for _, k := range []string{"_acl", "_system_rights"} {
			if _, ok := rd[0][k]; ok {
				t.Errorf("%s: bag_read alone sees %s: %v", path, k, rd[0][k])
			}
			if _, ok := wr[0][k]; !ok {
				t.Errorf("%s: bag_write does not see %s", path, k)
			}
		}
		if got := fmt.Sprint(rd[0]["_generated_rights"]); got != "map[bag_read:map[]]" {
			t.Errorf("%s: reader's _generated_rights %s", path, got)
		}
		if got := fmt.Sprint(wr[0]["_generated_rights"]); got != "map[bag_read:map[] bag_write:map[]]" {
			t.Errorf("%s: writer's _generated_rights %s", path, got)
		}
		if rd[0]["_has_acl"] != true {
			t.Errorf("%s: _has_acl %v", path, rd[0]["_has_acl"])
		}
	}
	// What the writer read in full it may send back unchanged.
	var wr []map[string]any
	writer.Do(t, "GET", fmt.Sprintf("/api/v1/group/%d", g.Group.ID), nil).JSON(t, &wr)
	wr[0]["group"].(map[string]any)["_version"] = 2
	back := groups(t, writer.Do(t, "POST", "/api/v1/group", wr))[0]
	if len(back.ACL) != 2 || len(back.SystemRights) != 1 {
		t.Errorf("the writer's resend changed the ACL or the system rights: %v %v", back.ACL, back.SystemRights)
	}
}
