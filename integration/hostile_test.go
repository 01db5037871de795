package integration

// Hostile input (issue 7): SQL metacharacters, Unicode confusables, 1 MB
// strings, deeply nested JSON, duplicate keys, numbers out of range and null
// in every position. Every answer is a success that stored what was sent, or
// a typed 400; never a 500.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/groupd/groupd/session"
)

// notServerError fails the test on a 500 or on a 400 that is not a typed
// easydb error of realm api or user (Server.Do has checked the rest against
// the OpenAPI document).
func notServerError(tb testing.TB, what string, r *Response) {
	tb.Helper()
	if r.StatusCode == 200 {
		return
	}
	var e APIError
	if err := json.Unmarshal(r.Body, &e); err != nil || r.StatusCode != 400 || (e.Realm != "api" && e.Realm != "user") ||
		e.Code == "" {
		tb.Errorf("%s: want 200 or a typed 400, got %d %.300s", what, r.StatusCode, r.Body)
	}
}

// hostileDo sends a request as c (anonymous when c is nil). Bodies nested
// deeper than the OpenAPI validator can walk in reasonable time (it takes
// seconds per thousand levels, where groupd answers in milliseconds) skip
// the contract check; everything else goes through Server.Do's.
func hostileDo(tb testing.TB, s *Server, c *Client, method, path, body string) *Response {
	tb.Helper()
	var b any
	if body != "" {
		b = body
	}
	start := time.Now()
	defer func() {
		if d := time.Since(start); d > time.Second && os.Getenv("GROUPD_FAULT_DEBUG") != "" {
			tb.Logf("%v: %s %s %.80s", d, method, path, body)
		}
	}()
	if strings.Count(body, "[")+strings.Count(body, "{") < 1000 {
		if c != nil {
			return c.Do(tb, method, path, b)
		}
		return s.Do(tb, method, path, b)
	}
	token := ""
	if c != nil {
		token = c.Token
	}
	r := rawDo(http.DefaultClient, method, s.URL()+path, token, []byte(body))
	if r.Err != nil {
		tb.Fatalf("%s %s: %v", method, path, r.Err)
	}
	return &Response{Response: &http.Response{StatusCode: r.Status}, Body: r.Body}
}

func js(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func nested(depth int, leaf string) string {
	return strings.Repeat(`{"a":`, depth) + leaf + strings.Repeat(`}`, depth)
}

// TestHostileStrings: values that are dangerous elsewhere are plain text
// here: stored and read back byte for byte, or refused with a typed error.
func TestHostileStrings(t *testing.T) {
	t.Parallel()
	s := MustStartServer(t)
	root := s.Root(t)

	stored := []string{
		`'; DROP TABLE groups; --`, `" OR "1"="1`, `\'; SELECT pg_sleep(10); --`, `$1::text`, `/* */ UNION SELECT 1`,
		`100%_done\`, `%`, `_`, `\`, `<script>alert(1)</script>`, `{{.}}`, `${jndi:ldap://x}`,
		"admin", "аdmin", "ａｄｍｉｎ", "ﬁle", "file", "é", "e\u0301", "İstanbul", "istanbul", "ß", "SS",
		"👩‍👩‍👧", "日本語", "مرحبا",
	}
	refused := map[string]string{
		"nul\x00byte": "NUL", "bell\x07": "control", "tab\there": "tab in a name", "rlo\u202eevil": "right-to-left override",
		"zw\u200bspace": "zero-width space", "   ": "blank", "": "empty", strings.Repeat("x", 1<<20): "1 MB",
	}
	var items []map[string]any
	for i, v := range stored {
		items = append(items, map[string]any{"group": map[string]any{"name": v, "reference": "ref " + v,
			"comment": v, "displayname": map[string]string{"en-US": v}}})
		_ = i
	}
	out := groups(t, root.Do(t, "PUT", "/api/v1/group", items))
	if len(out) != len(stored) {
		t.Fatalf("stored %d of %d", len(out), len(stored))
	}
	for i, v := range stored {
		g := groups(t, root.Do(t, "GET", fmt.Sprintf("/api/v1/group/%d", out[i].Group.ID), nil))[0]
		if *g.Group.Name != v || *g.Group.Reference != "ref "+v || *g.Group.Comment != v || g.Group.Displayname["en-US"] != v {
			t.Errorf("%q came back as name %q reference %q comment %q displayname %q", v, *g.Group.Name,
				*g.Group.Reference, *g.Group.Comment, g.Group.Displayname["en-US"])
		}
		// The name filter is a substring match: metacharacters match only themselves.
		r := root.Do(t, "GET", "/api/v1/group?name="+url.QueryEscape(v)+"&limit=1000", nil)
		found := false
		for _, h := range groups(t, r) {
			if h.Group.ID == g.Group.ID {
				found = true
			}
			name, dn := "", h.Group.Displayname["en-US"]
			if h.Group.Name != nil {
				name = *h.Group.Name
			}
			if !strings.Contains(strings.ToLower(name), strings.ToLower(v)) &&
				!strings.Contains(strings.ToLower(dn), strings.ToLower(v)) && !strings.EqualFold(name, v) {
				t.Errorf("filter name=%q matched %q", v, name)
			}
		}
		if !found {
			t.Errorf("filter name=%q did not find the group", v)
		}
	}
	var n int
	if err := s.DB.QueryRow(`SELECT count(*) FROM groups`).Scan(&n); err != nil || n != len(stored)+2 {
		t.Fatalf("groups: %d (%v)", n, err)
	}
	for v, what := range refused {
		r := hostileDo(t, s, root, "PUT", "/api/v1/group", js([]map[string]any{{"group": map[string]any{"name": v}}}))
		if r.StatusCode == 200 {
			t.Errorf("%s name accepted", what)
		}
		notServerError(t, what+" name", r)
	}

	// 1 MB in every text field, and in the places a client cannot expect a limit.
	mb := strings.Repeat("é", 1<<19) // 1 MB of UTF-8
	for _, field := range []string{"name", "comment", "reference", "authorization_info"} {
		r := hostileDo(t, s, root, "PUT", "/api/v1/group", js([]map[string]any{{"group": map[string]any{"name": "big-" + field, field: mb}}}))
		notServerError(t, "1 MB "+field, r)
	}
	r := hostileDo(t, s, root, "PUT", "/api/v1/group", js([]map[string]any{{"group": map[string]any{"name": "big-prefs",
		"frontend_prefs": map[string]any{"k": mb}}}}))
	notServerError(t, "1 MB frontend_prefs value", r)
	if r.StatusCode == 200 {
		g := groups(t, root.Do(t, "GET", fmt.Sprintf("/api/v1/group/%d", groups(t, r)[0].Group.ID), nil))[0]
		_ = g
	}
	for _, body := range []string{
		fmt.Sprintf(`[{"group":{"name":"dn","displayname":{%q:"x"}}}]`, mb[:1000]),
		fmt.Sprintf(`[{"group":{"name":"acl"},"_acl":[{"who":{"user":{"_id":1}},"rights":{%q:{}}}]}]`, mb),
		fmt.Sprintf(`[{"group":{"name":"sr"},"_system_rights":{"system.datamodel":{%q:%q}}}]`, mb[:100], mb),
		fmt.Sprintf(`[{"group":{"name":"type","type":"custom-%s"}}]`, mb),
	} {
		notServerError(t, "1 MB in "+body[:40], hostileDo(t, s, root, "PUT", "/api/v1/group", body))
	}
	// The session: a 100 kB login, password, token and language, over
	// session.MaxParamsBody and refused unread. (net/http drains a refused
	// body up to 256 kB, so the answer reaches the client; beyond that the
	// connection is closed under the still-sending client:
	// TestSessionBodyCapUnderLoad.)
	big := mb[:100000]
	sess := sessNew(t, s).Token
	for _, p := range []url.Values{
		{"login": {big}, "password": {"x"}}, {"login": {"root"}, "password": {big}}, {"login": {"root"}, "password": {"x"}, "method": {big}},
	} {
		body, _ := json.Marshal(map[string]string{"token": sess, "login": p.Get("login"), "password": p.Get("password"),
			"method": p.Get("method")})
		resp := hostileDo(t, s, nil, "POST", "/api/v1/session/authenticate", string(body))
		notServerError(t, "100 kB session parameter", resp)
		if resp.StatusCode == 200 {
			t.Errorf("100 kB session parameter logged in")
		}
	}
	r = s.Do(t, "POST", "/api/v1/session/authenticate", "token="+url.QueryEscape(big)+"&login=root&password=x",
		"Content-Type", "application/x-www-form-urlencoded")
	// Session calls take no more than session.MaxParamsBody, unread beyond.
	if e := MustError(t, r, 400, "error.api.invalid_content"); e.Parameters["limit"] != strconv.Itoa(session.MaxParamsBody) {
		t.Errorf("100 kB form body: want parameters.limit %d, got %v", session.MaxParamsBody, e.Parameters)
	}
	notServerError(t, "100 kB language", hostileDo(t, s, nil, "GET", "/api/v1/session", fmt.Sprintf(`{"language":%q}`, big)))
	// A 60 kB filter (10,000 é, escaped; a longer request line is refused by net/http itself:
	// server.MaxHeaderBytes).
	notServerError(t, "60 kB name filter", hostileDo(t, s, root, "GET", "/api/v1/group?name="+url.QueryEscape(mb[:20000]), ""))
	if t.Failed() {
		return
	}
	// Nothing of the refused requests was written.
	if err := s.DB.QueryRow(`SELECT count(*) FROM groups`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d hostile strings stored verbatim, %d refused; 1 MB values answered with typed errors", len(stored), len(refused))
}

// TestHostileStructure: nesting, duplicate keys, numbers out of range.
func TestHostileStructure(t *testing.T) {
	t.Parallel()
	s := MustStartServer(t)
	root := s.Root(t)
	g := groups(t, root.Do(t, "PUT", "/api/v1/group", `[{"group":{"name":"target"}}]`))[0].Group.ID
	uid := s.MustCreateUser(t, "target-user", "")

	deep := strings.Repeat("[", 100000) + strings.Repeat("]", 100000)
	cases := []struct{ method, path, body string }{
		// Nesting: 10^5 levels as the body, inside frontend_prefs, in rights parameters, in a session body.
		{"PUT", "/api/v1/group", deep},
		{"PUT", "/api/v1/group", `[{"group":{"name":"deep1","frontend_prefs":` + nested(100000, "1") + `}}]`},
		{"PUT", "/api/v1/group", `[{"group":{"name":"deep2","frontend_prefs":` + nested(9000, "1") + `}}]`},
		{"PUT", "/api/v1/group", `[{"group":{"name":"deep3","frontend_prefs":` + nested(2000, "1") + `}}]`},
		{"PUT", "/api/v1/group", `[{"group":{"name":"deep4"},"_system_rights":{"system.datamodel":{"p":` + nested(9000, "1") + `}}}]`},
		{"PUT", "/api/v1/group", `[{"group":{"name":"deep5"},"_acl":[{"who":` + nested(9000, "1") + `}]}]`},
		{"PUT", "/api/v1/user", `[{"user":{"login":"deep","frontend_prefs":` + nested(9000, "1") + `}}]`},
		{"POST", fmt.Sprintf("/api/v1/group/%d/members", g), `{"add":` + strings.Repeat("[", 9000) + strings.Repeat("]", 9000) + `}`},
		{"GET", "/api/v1/session", nested(100000, `"x"`)},
		// Duplicate keys: the last one counts (encoding/json), or a typed refusal.
		{"PUT", "/api/v1/group", `[{"group":{"name":"dup-a","name":"dup-b"}}]`},
		{"PUT", "/api/v1/group", `[{"group":{"name":"dup-c"},"group":{"name":"dup-d"}}]`},
		{"POST", "/api/v1/group", fmt.Sprintf(`[{"group":{"_id":%d,"_version":2,"_version":7}}]`, g)},
		{"PUT", "/api/v1/group", `[{"group":{"name":"dup-e","displayname":{"en-US":"a","en-US":"b"}}}]`},
		{"PUT", "/api/v1/group", `[{"group":{"name":"dup-f"},"_acl":[{"who":{"user":{"_id":1}},"who":{"group":{"_id":1}},"rights":{"bag_read":{},"bag_read":{"_grantable":true}}}]}]`},
		// Numbers out of range, fractional, negative, in every numeric place.
		{"PUT", "/api/v1/group", `[{"group":{"name":"n1","_version":1e400}}]`},
		{"PUT", "/api/v1/group", `[{"group":{"name":"n2","_version":9223372036854775808}}]`},
		{"PUT", "/api/v1/group", `[{"group":{"name":"n3","_version":-9223372036854775809}}]`},
		{"POST", "/api/v1/group", `[{"group":{"_id":9223372036854775807,"_version":2}}]`},
		{"POST", "/api/v1/group", `[{"group":{"_id":1e20,"_version":2}}]`},
		{"POST", "/api/v1/group", `[{"group":{"_id":1.5,"_version":2}}]`},
		{"POST", "/api/v1/group", `[{"group":{"_id":-1,"_version":2}}]`},
		{"POST", "/api/v1/group", fmt.Sprintf(`[{"group":{"_id":%d,"_version":9223372036854775807}}]`, g)},
		{"PUT", "/api/v1/group", `[{"group":{"name":"n4"},"_owner":{"user":{"_id":1e300}}}]`},
		{"PUT", "/api/v1/group", `[{"group":{"name":"n5"},"_acl":[{"who":{"group":{"_id":9223372036854775807}},"rights":{"bag_read":{}}}]}]`},
		{"PUT", "/api/v1/group", `[{"group":{"name":"n6","frontend_prefs":{"big":1e400,"small":1e-400,"long":123456789012345678901234567890}}}]`},
		{"PUT", "/api/v1/group", `[{"group":{"name":"n7","frontend_prefs":{"huge":1e999999}}}]`},
		{"PUT", "/api/v1/group", `[{"group":{"name":"n8"},"_system_rights":{"system.datamodel":{"n":1e400}}}]`},
		{"PUT", "/api/v1/group", `[{"group":{"name":"n9"},"_acl":[{"who":{"user":{"_id":1}},"rights":{"bag_read":{}},"when":{"from":"99999-01-01T00:00:00Z"}}]}]`},
		{"PUT", "/api/v1/group", `[{"group":{"name":"n10"},"_acl":[{"who":{"user":{"_id":1}},"rights":{"bag_read":{}},"when":{"to":"0001-01-01T00:00:00Z"}}]}]`},
		{"POST", fmt.Sprintf("/api/v1/group/%d/members", g), `{"add":[1e400,9223372036854775808,-1,0,1.5]}`},
		{"POST", fmt.Sprintf("/api/v1/group/%d/members", g), fmt.Sprintf(`{"add":[9223372036854775807,%d]}`, uid)},
		{"GET", "/api/v1/group?limit=1e3", ""},
		{"GET", "/api/v1/group?limit=99999999999999999999&offset=-1", ""},
		{"GET", "/api/v1/group?offset=9223372036854775807", ""},
		{"GET", "/api/v1/group?member=9223372036854775808", ""},
		{"GET", "/api/v1/group/9223372036854775807", ""},
		{"GET", "/api/v1/group/9223372036854775808", ""},
		{"GET", "/api/v1/group/-1", ""},
		{"DELETE", "/api/v1/group/9223372036854775807", ""},
		{"GET", "/api/v1/user/9223372036854775807", ""},
		{"GET", "/api/v1/events?after=9223372036854775808", ""},
		{"GET", "/api/v1/events?limit=-1", ""},
		// Wrong JSON types where objects, arrays and strings belong.
		{"PUT", "/api/v1/group", `{"group":{"name":"not-an-array"}}`},
		{"PUT", "/api/v1/group", `[1,"x",true,[]]`},
		{"PUT", "/api/v1/group", `"[]"`},
		{"PUT", "/api/v1/group", `[{"group":{"name":["x"],"comment":{"a":1}}}]`},
		{"PUT", "/api/v1/user", `[{"user":{"login":1},"_password":123}]`},
		{"POST", "/api/v1/session/authenticate", `{"login":["root"],"password":{"$ne":null}}`},
		{"PUT", "/api/v1/group", `[{"group":{"name":"x"}}] trailing`},
		{"PUT", "/api/v1/group", "\xff\xfe[]"},
	}
	for _, c := range cases {
		r := hostileDo(t, s, root, c.method, c.path, c.body)
		what := c.method + " " + c.path + " " + c.body
		if len(what) > 120 {
			what = what[:120] + "..."
		}
		notServerError(t, what, r)
	}
	// Duplicate keys that were accepted stored one of the values given.
	for _, pair := range [][2]string{{"dup-a", "dup-b"}, {"dup-c", "dup-d"}} {
		var n int
		s.DB.QueryRow(`SELECT count(*) FROM groups WHERE name IN ($1, $2)`, pair[0], pair[1]).Scan(&n)
		if n > 1 {
			t.Errorf("duplicate keys %v made %d groups", pair, n)
		}
	}
	// Nested JSON that was accepted reads back the same.
	var prefs string
	if err := s.DB.QueryRow(`SELECT COALESCE(frontend_prefs::text, '') FROM groups WHERE name = 'deep3'`).Scan(&prefs); err == nil {
		var a, b any
		json.Unmarshal([]byte(prefs), &a)
		json.Unmarshal([]byte(nested(2000, "1")), &b)
		if fmt.Sprint(a) != fmt.Sprint(b) {
			t.Error("2,000 levels of frontend_prefs came back different")
		}
	}
}

// TestHostileNulls sends null in every position of valid requests: every
// key of every object and every element of every array, one at a time, to
// the group, user, members and session APIs.
func TestHostileNulls(t *testing.T) {
	t.Parallel()
	s := MustStartServer(t)
	root := s.Root(t)
	uid := s.MustCreateUser(t, "nulls", "")
	base := groups(t, root.Do(t, "PUT", "/api/v1/group", `[{"group":{"name":"null-base"}}]`))[0].Group.ID
	version := int64(1)

	templates := []struct {
		method, path, body string
		update             bool // body needs base's next version
	}{
		{"PUT", "/api/v1/group", `[{"_basetype":"group","group":{"_version":1,"name":"n%d","displayname":{"de-DE":"N%d","en-US":"N%d"},
			"comment":"c","reference":"r%d","frontend_prefs":{"a":[1,{"b":2}]},"authorization_info":"i","type":"easydb"},
			"_owner":{"_basetype":"user","user":{"_id":1}},
			"_acl":[{"who":{"user":{"_id":1}},"rights":{"bag_read":{"_grantable":true}},"active":true,
				"when":{"from":"2026-01-01T00:00:00Z","to":"2030-01-01T00:00:00Z"}}],
			"_system_rights":{"system.group":{"create":true},"system.user.create_new":{"type":"easydb"}}}]`, false},
		{"POST", "/api/v1/group", `[{"group":{"_id":%[1]s,"_version":%[2]s,"name":"null-base","displayname":{"en-US":"B"}},
			"_acl":[{"who":{"group":{"_id":2}},"rights":{"bag_read":{}}}],"_system_rights":{}}]`, true},
		{"PUT", "/api/v1/user", `[{"_basetype":"user","user":{"_version":1,"login":"u%d","first_name":"F","last_name":"L",
			"frontend_language":"de-DE","reference":"ur%d","login_disabled":false},
			"_groups":[{"group":{"_id":%[1]s}}],"_emails":[{"email":"u%d@example.org","use_for_login":true}],
			"_password":"pw-pw-pw-pw","_acl":[{"who":{"user":{"_id":1}},"rights":{"read":{}}}],"_system_rights":{}}]`, false},
		{"POST", "/api/v1/group/%[1]s/members", `{"add":[%[3]s],"remove":[]}`, false},
		{"POST", "/api/v1/session/authenticate", `{"token":"%[4]s","login":"nulls","password":"pw-nulls","method":"easydb"}`, false},
	}
	sent, ok, refused := 0, 0, 0
	for _, tpl := range templates {
		variants := nullVariants(t, tpl.body)
		for i, v := range variants {
			body := v
			// Fill in what each variant needs: a unique suffix, base's id and
			// version, the user, a fresh session.
			body = strings.ReplaceAll(body, "%d", fmt.Sprint(i))
			token := ""
			if strings.Contains(body, "%[4]s") {
				token = sessNew(t, s).Token
			}
			body = strings.NewReplacer("%[1]s", fmt.Sprint(base), "%[2]s", fmt.Sprint(version+1), "%[3]s", fmt.Sprint(uid),
				"%[4]s", token).Replace(body)
			path := strings.ReplaceAll(tpl.path, "%[1]s", fmt.Sprint(base))
			var r *Response
			if tpl.method == "POST" && strings.HasPrefix(path, "/api/v1/session") {
				r = s.Do(t, tpl.method, path, body)
			} else {
				r = root.Do(t, tpl.method, path, body)
			}
			sent++
			notServerError(t, tpl.method+" "+path+" "+body, r)
			if r.StatusCode == 200 {
				ok++
				if tpl.update {
					version++
				}
			} else {
				refused++
			}
		}
	}
	if sent < 80 {
		t.Fatalf("only %d variants", sent)
	}
	t.Logf("%d requests with a null somewhere: %d accepted, %d refused with a typed 400, no 500", sent, ok, refused)
}

// nullVariants returns body with the whole body, and then each value in it
// (object member or array element, at any depth), replaced by null.
func nullVariants(tb testing.TB, body string) []string {
	tb.Helper()
	// Placeholders are not JSON: keep them as strings while walking.
	var v any
	quoted := quotePlaceholders(body)
	if err := json.Unmarshal([]byte(quoted), &v); err != nil {
		tb.Fatalf("template %s: %v", quoted, err)
	}
	out := []string{"null"}
	var paths [][]any
	var walk func(x any, path []any)
	walk = func(x any, path []any) {
		switch y := x.(type) {
		case map[string]any:
			for k, e := range y {
				p := append(append([]any{}, path...), k)
				paths = append(paths, p)
				walk(e, p)
			}
		case []any:
			for i, e := range y {
				p := append(append([]any{}, path...), i)
				paths = append(paths, p)
				walk(e, p)
			}
		}
	}
	walk(v, nil)
	for _, p := range paths {
		var c any
		json.Unmarshal([]byte(quoted), &c)
		setNull(c, p)
		b, _ := json.Marshal(c)
		out = append(out, unquotePlaceholders(string(b)))
	}
	return out
}

func setNull(x any, path []any) {
	for i, step := range path {
		last := i == len(path)-1
		switch k := step.(type) {
		case string:
			m := x.(map[string]any)
			if last {
				m[k] = nil
				return
			}
			x = m[k]
		case int:
			a := x.([]any)
			if last {
				a[k] = nil
				return
			}
			x = a[k]
		}
	}
}

// Placeholders %[1]s (an id) appear unquoted in the templates; they travel
// through encoding/json as the strings "\u0001..." and are put back after.
func quotePlaceholders(s string) string {
	for _, p := range []string{"%[1]s", "%[2]s", "%[3]s"} {
		s = strings.ReplaceAll(s, `:`+p, `:"`+p+`"`)
		s = strings.ReplaceAll(s, `[`+p+`]`, `["`+p+`"]`)
	}
	return s
}

func unquotePlaceholders(s string) string {
	for _, p := range []string{"%[1]s", "%[2]s", "%[3]s"} {
		s = strings.ReplaceAll(s, `"`+p+`"`, p)
	}
	return s
}
