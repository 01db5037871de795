package integration

// The Noko v2 surface (issue 17) over real HTTP, every exchange validated
// against the OpenAPI document by Server.Do: authentication in each form,
// Noko's parameters (query string, JSON body with and without a
// Content-Type, id lists as arrays or comma strings), pages through Link,
// 201/204 answers, errors, and what teams, users, project groups and
// projects become in the core.

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// noko is a Noko client of a test server: the token in X-NokoToken and a
// User-Agent, as Noko requires.
type noko struct {
	s     *Server
	token string
}

func (n noko) do(tb testing.TB, method, path string, body any, header ...string) *Response {
	tb.Helper()
	h := append([]string{"X-NokoToken", n.token, "User-Agent", "groupd-tests"}, header...)
	return n.s.Do(tb, method, "/noko/v2"+path, body, h...)
}

// bare sends body as Noko's Python client does: no Content-Type.
func (n noko) bare(tb testing.TB, method, path string, body any) *Response {
	tb.Helper()
	return n.do(tb, method, path, body, "Content-Type", "")
}

type nokoErr struct {
	Message string `json:"message"`
	Errors  []struct {
		Resource, Field, Code string
	} `json:"errors"`
}

// mustNoko asserts status and, for an error, returns its body.
func mustNoko(tb testing.TB, r *Response, status int) nokoErr {
	tb.Helper()
	if r.StatusCode != status {
		tb.Fatalf("%s %s: want %d, got %d %s", r.Request.Method, r.Request.URL, status, r.StatusCode, r.Body)
	}
	var e nokoErr
	if status >= 400 {
		r.JSON(tb, &e)
		if e.Message == "" {
			tb.Fatalf("want a Noko error, got %s", r.Body)
		}
	}
	return e
}

// mustValidation asserts a 422 naming field with code.
func mustValidation(tb testing.TB, r *Response, field, code string) {
	tb.Helper()
	e := mustNoko(tb, r, 422)
	if len(e.Errors) != 1 || e.Errors[0].Field != field || e.Errors[0].Code != code {
		tb.Fatalf("want errors [{%s %s}], got %s", field, code, r.Body)
	}
}

type nokoTeam struct {
	ID    int64  `json:"id"`
	Name  string `json:"name"`
	URL   string `json:"url"`
	Users []struct {
		ID    int64   `json:"id"`
		Email *string `json:"email"`
	} `json:"users"`
	CreatedAt string `json:"created_at"`
}

func (t nokoTeam) userIDs() []int64 {
	out := []int64{}
	for _, u := range t.Users {
		out = append(out, u.ID)
	}
	return out
}

type nokoUser struct {
	ID    int64   `json:"id"`
	Email *string `json:"email"`
	State string  `json:"state"`
	Teams []struct {
		ID   int64  `json:"id"`
		Name string `json:"name"`
	} `json:"teams"`
}

func ids(xs ...int64) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = fmt.Sprint(x)
	}
	return strings.Join(s, ",")
}

var linkRel = regexp.MustCompile(`<([^>]+)>; rel="([a-z]+)"`)

// links parses a Link header into rel -> absolute URL.
func links(tb testing.TB, r *Response) map[string]string {
	tb.Helper()
	out := map[string]string{}
	for _, m := range linkRel.FindAllStringSubmatch(r.Header.Get("Link"), -1) {
		if !strings.HasPrefix(m[1], "http://") {
			tb.Fatalf("link %q is not absolute", m[1])
		}
		out[m[2]] = m[1]
	}
	return out
}

// follow requests an absolute link of the server as the Python client does:
// its own query parameters appended again (duplicate keys: the first wins).
func (n noko) follow(tb testing.TB, link string, again url.Values) *Response {
	tb.Helper()
	u, err := url.Parse(link)
	if err != nil {
		tb.Fatal(err)
	}
	q := u.RawQuery
	if len(again) > 0 {
		q += "&" + again.Encode()
	}
	return n.s.Do(tb, "GET", u.Path+"?"+q, nil, "X-NokoToken", n.token, "User-Agent", "groupd-tests")
}

func TestNokoAuth(t *testing.T) {
	t.Parallel()
	s := MustStartServer(t)
	root := s.Root(t)
	ua := []string{"User-Agent", "groupd-tests"}
	ok := func(r *Response) {
		t.Helper()
		mustNoko(t, r, 200)
	}
	// Each form, with a session token.
	ok(s.Do(t, "GET", "/noko/v2/teams", nil, append(ua, "X-NokoToken", root.Token)...))
	ok(s.Do(t, "GET", "/noko/v2/teams", nil, append(ua, "X-FreckleToken", root.Token)...))
	ok(s.Do(t, "GET", "/noko/v2/teams", nil, append(ua, "Authorization", "Bearer "+root.Token)...))
	ok(s.Do(t, "GET", "/noko/v2/teams?noko_token="+url.QueryEscape(root.Token), nil, ua...))
	// An API token is a token too.
	tok := createAPIToken(t, root, `{"name":"noko"}`)
	ok(s.Do(t, "GET", "/noko/v2/users/1", nil, append(ua, "X-NokoToken", tok.Secret)...))
	ok(s.Do(t, "GET", "/noko/v2/users?noko_token="+url.QueryEscape(tok.Secret), nil, ua...))
	// A read-only one reads, and may not write.
	ro := createAPIToken(t, root, `{"name":"noko-ro","scope":{"read_only":true}}`)
	ok(s.Do(t, "GET", "/noko/v2/teams", nil, append(ua, "X-FreckleToken", ro.Secret)...))
	e := mustNoko(t, s.Do(t, "POST", "/noko/v2/teams?name=ro", nil, append(ua, "X-FreckleToken", ro.Secret)...), 403)
	if len(e.Errors) != 1 || e.Errors[0].Code != "insufficent_permissions" {
		t.Fatalf("read-only write: %+v", e)
	}

	// No token, an unknown one, an easydb header alone: 401, and the token
	// never comes back.
	mustNoko(t, s.Do(t, "GET", "/noko/v2/teams", nil, ua...), 401)
	r := s.Do(t, "GET", "/noko/v2/teams", nil, append(ua, "X-NokoToken", "not-a-token-4711")...)
	mustNoko(t, r, 401)
	if strings.Contains(string(r.Body), "4711") {
		t.Fatalf("the 401 carries the token: %s", r.Body)
	}
	mustNoko(t, s.Do(t, "GET", "/noko/v2/teams", nil, append(ua, "x-easydb-token", root.Token)...), 401)
	mustNoko(t, s.Do(t, "GET", "/noko/v2/teams?noko_token=gdp_unknown", nil, ua...), 401)
	// A User-Agent is required (Go sends none when it is set empty).
	r = s.Do(t, "GET", "/noko/v2/teams", nil, "X-NokoToken", root.Token, "User-Agent", "")
	if e := mustNoko(t, r, 400); !strings.Contains(e.Message, "User-Agent") {
		t.Fatalf("no User-Agent: %s", r.Body)
	}
	// Outside the document (so not through Server.Do): another path under
	// /noko/v2, or another method, is Noko's 404.
	for _, c := range []struct {
		method, path string
		status       int
	}{{"GET", "/noko/v2/nothing", 404}, {"PATCH", "/noko/v2/teams", 404}, {"HEAD", "/noko/v2/teams/1", 404}} {
		r := rawDo(http.DefaultClient, c.method, s.URL()+c.path, root.Token, nil)
		if r.Status != c.status || (c.method != "HEAD" && !strings.Contains(string(r.Body), `"message"`)) {
			t.Errorf("%s %s: %s", c.method, c.path, r)
		}
	}
	// An ended session is 401.
	n := noko{s, s.Login(t, "root", RootPassword).Token}
	mustNoko(t, n.do(t, "GET", "/teams", nil), 200)
	mustNoko(t, s.Do(t, "POST", "/api/v1/session/deauthenticate?token="+url.QueryEscape(n.token), nil), 200)
	mustNoko(t, n.do(t, "GET", "/teams", nil), 401)
}

func TestNokoTeams(t *testing.T) {
	t.Parallel()
	s := MustStartServer(t)
	root := s.Root(t)
	n := noko{s, root.Token}
	var u [5]int64
	for i := range u {
		u[i] = s.MustCreateUser(t, fmt.Sprintf("t-user%d@example.com", i), "")
	}

	// Create as the Python client does: fields in the query string, a body
	// {} without Content-Type, ids as a comma string.
	r := n.bare(t, "POST", "/teams?name=R%26D&user_ids="+url.QueryEscape(ids(u[0], u[1])), "{}")
	mustNoko(t, r, 201)
	var team nokoTeam
	r.JSON(t, &team)
	if team.Name != "R&D" || fmt.Sprint(team.userIDs()) != fmt.Sprint([]int64{u[0], u[1]}) ||
		r.Header.Get("Location") != team.URL || team.URL != s.URL()+"/noko/v2/teams/"+fmt.Sprint(team.ID) {
		t.Fatalf("created team: %s (Location %s)", r.Body, r.Header.Get("Location"))
	}
	if team.Users[0].Email == nil || *team.Users[0].Email != "t-user0@example.com" {
		t.Fatalf("the member's email: %s", r.Body)
	}
	if !regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`).MatchString(team.CreatedAt) {
		t.Fatalf("created_at %q is not ISO 8601 UTC", team.CreatedAt)
	}
	// The team is a group of the core: read back through /api/v1.
	r = root.Do(t, "GET", fmt.Sprintf("/api/v1/group/%d", team.ID), nil)
	var gs []struct {
		Group struct {
			Type string `json:"type"`
			Name string `json:"name"`
		} `json:"group"`
	}
	r.JSON(t, &gs)
	if len(gs) != 1 || gs[0].Group.Type != "custom-noko-team" || gs[0].Group.Name != "R&D" {
		t.Fatalf("the team in /api/v1/group: %s", r.Body)
	}
	r = root.Do(t, "GET", fmt.Sprintf("/api/v1/group/%d/members", team.ID), nil)
	if r.Header.Get("X-Total-Count") != "2" || !strings.Contains(string(r.Body), `"t-user1@example.com"`) {
		t.Fatalf("the team's members in /api/v1: %s", r.Body)
	}

	// A JSON body with ids as an array; a second team.
	r = n.do(t, "POST", "/teams", map[string]any{"name": "Ops", "user_ids": []int64{u[2]}})
	mustNoko(t, r, 201)
	var ops nokoTeam
	r.JSON(t, &ops)

	// Listing: all, by name, by user_ids (teams with any of these users).
	var list []nokoTeam
	r = n.do(t, "GET", "/teams", nil)
	mustNoko(t, r, 200)
	r.JSON(t, &list)
	if len(list) != 2 || list[0].ID != team.ID || list[1].ID != ops.ID {
		t.Fatalf("teams: %s", r.Body)
	}
	n.do(t, "GET", "/teams?name=r%26", nil).JSON(t, &list)
	if len(list) != 1 || list[0].ID != team.ID {
		t.Fatalf("teams?name=r&: %+v", list)
	}
	n.do(t, "GET", "/teams?user_ids="+ids(u[2], u[4]), nil).JSON(t, &list)
	if len(list) != 1 || list[0].ID != ops.ID {
		t.Fatalf("teams?user_ids: %+v", list)
	}
	// The filter in a JSON body on a GET, without Content-Type.
	n.bare(t, "GET", "/teams", `{"user_ids": [`+ids(u[1])+`]}`).JSON(t, &list)
	if len(list) != 1 || list[0].ID != team.ID {
		t.Fatalf("teams with a body filter: %+v", list)
	}
	n.do(t, "GET", "/teams?user_ids=999999", nil).JSON(t, &list)
	if len(list) != 0 {
		t.Fatalf("teams of an unknown user: %+v", list)
	}
	// Another group of the core is no team.
	r = root.Do(t, "PUT", "/api/v1/group", []any{map[string]any{"group": map[string]any{"name": "plain"}}})
	var plain []struct {
		Group struct {
			ID int64 `json:"_id"`
		} `json:"group"`
	}
	r.JSON(t, &plain)
	mustNoko(t, n.do(t, "GET", fmt.Sprintf("/teams/%d", plain[0].Group.ID), nil), 404)

	// One team; rename with PUT.
	r = n.do(t, "GET", fmt.Sprintf("/teams/%d", team.ID), nil)
	mustNoko(t, r, 200)
	r = n.do(t, "PUT", fmt.Sprintf("/teams/%d", team.ID), map[string]any{"name": "Research"})
	mustNoko(t, r, 200)
	r.JSON(t, &team)
	if team.Name != "Research" {
		t.Fatalf("renamed: %s", r.Body)
	}
	mustNoko(t, n.do(t, "PUT", fmt.Sprintf("/teams/%d", team.ID), nil), 200) // nothing to change

	// add_users: 200 with the users it added; members already there are
	// ignored and not in the answer.
	r = n.do(t, "POST", fmt.Sprintf("/teams/%d/add_users", team.ID), map[string]any{"user_ids": []int64{u[1], u[2], u[3], u[4]}})
	mustNoko(t, r, 200)
	var added []struct{ ID int64 }
	r.JSON(t, &added)
	if len(added) != 3 || added[0].ID != u[2] || added[2].ID != u[4] {
		t.Fatalf("add_users: %s", r.Body)
	}
	// A user is in several teams; the user shows its teams.
	var nu nokoUser
	n.do(t, "GET", fmt.Sprintf("/users/%d", u[2]), nil).JSON(t, &nu)
	if len(nu.Teams) != 2 || nu.Teams[0].ID != team.ID || nu.Teams[1].ID != ops.ID {
		t.Fatalf("the user's teams: %+v", nu)
	}

	// The team's users, paged through Link.
	r = n.do(t, "GET", fmt.Sprintf("/teams/%d/users?per_page=2", team.ID), nil)
	mustNoko(t, r, 200)
	var page []struct{ ID int64 }
	r.JSON(t, &page)
	l := links(t, r)
	if len(page) != 2 || page[0].ID != u[0] || l["next"] == "" || l["last"] == "" || l["prev"] != "" || l["first"] != "" {
		t.Fatalf("page 1: %s, Link %s", r.Body, r.Header.Get("Link"))
	}
	seen := []int64{page[0].ID, page[1].ID}
	// Following next with the original parameters again: the first
	// per_page and page (the link's) win.
	for next := l["next"]; next != ""; {
		r = n.follow(t, next, url.Values{"per_page": {"2"}, "page": {"1"}})
		mustNoko(t, r, 200)
		r.JSON(t, &page)
		for _, p := range page {
			seen = append(seen, p.ID)
		}
		next = links(t, r)["next"]
	}
	if fmt.Sprint(seen) != fmt.Sprint(u[:]) {
		t.Fatalf("all pages: %v, want %v", seen, u)
	}
	if l := links(t, r); l["first"] == "" || l["prev"] == "" || l["next"] != "" {
		t.Fatalf("last page's Link: %s", r.Header.Get("Link"))
	}

	// remove_users: non-members ignored; 204 with no body.
	r = n.bare(t, "PUT", fmt.Sprintf("/teams/%d/remove_users", team.ID), `{"user_ids": "`+ids(u[0], u[2])+`"}`)
	mustNoko(t, r, 204)
	if len(r.Body) != 0 {
		t.Fatalf("204 with a body: %q", r.Body)
	}
	mustNoko(t, n.do(t, "PUT", fmt.Sprintf("/teams/%d/remove_users?user_ids=%d", team.ID, u[0]), nil), 204)
	n.do(t, "GET", fmt.Sprintf("/teams/%d", team.ID), nil).JSON(t, &team)
	if fmt.Sprint(team.userIDs()) != fmt.Sprint([]int64{u[1], u[3], u[4]}) {
		t.Fatalf("after remove_users: %+v", team.Users)
	}
	mustNoko(t, n.do(t, "PUT", fmt.Sprintf("/teams/%d/remove_all_users", team.ID), nil), 204)
	if r := root.Do(t, "GET", fmt.Sprintf("/api/v1/group/%d/members", team.ID), nil); r.Header.Get("X-Total-Count") != "0" {
		t.Fatalf("after remove_all_users: %s", r.Body)
	}

	// DELETE: 204; the users stay.
	mustNoko(t, n.do(t, "DELETE", fmt.Sprintf("/teams/%d", ops.ID), nil), 204)
	mustNoko(t, n.do(t, "GET", fmt.Sprintf("/teams/%d", ops.ID), nil), 404)
	mustNoko(t, n.do(t, "GET", fmt.Sprintf("/users/%d", u[2]), nil), 200)

	// Errors.
	mustValidation(t, n.do(t, "POST", "/teams", map[string]any{}), "name", "missing_field")
	mustValidation(t, n.do(t, "POST", "/teams", map[string]any{"name": "Research"}), "name", "already_exists")
	mustNoko(t, n.do(t, "POST", "/teams", map[string]any{"name": 5}), 400)
	mustNoko(t, n.do(t, "POST", "/teams", map[string]any{"name": ""}), 400)
	if e := mustNoko(t, n.bare(t, "POST", "/teams", `{"name": `), 400); e.Message != "JSON Parsing Error" {
		t.Fatalf("bad JSON: %+v", e)
	}
	if e := mustNoko(t, n.bare(t, "POST", "/teams", `["name"]`), 400); e.Message != "Body should be JSON Hash" {
		t.Fatalf("an array body: %+v", e)
	}
	mustNoko(t, n.do(t, "POST", "/teams?name=x&user_ids=1,a", nil), 400)
	mustNoko(t, n.do(t, "POST", "/teams?name=x&user_ids=-1", nil), 400)
	mustValidation(t, n.do(t, "POST", fmt.Sprintf("/teams/%d/add_users", team.ID), map[string]any{}), "user_ids", "missing_field")
	mustValidation(t, n.do(t, "PUT", fmt.Sprintf("/teams/%d/remove_users", team.ID), nil), "user_ids", "missing_field")
	for _, path := range []string{"/teams/999999", "/teams/abc", "/teams/999999/users", "/teams/0"} {
		mustNoko(t, n.do(t, "GET", path, nil), 404)
	}
	mustNoko(t, n.do(t, "PUT", "/teams/999999", map[string]any{"name": "x"}), 404)
	mustNoko(t, n.do(t, "DELETE", "/teams/999999", nil), 404)
	mustNoko(t, n.do(t, "POST", "/teams/999999/add_users?user_ids=1", nil), 404)
	mustNoko(t, n.do(t, "PUT", "/teams/999999/remove_users?user_ids=1", nil), 404)
	mustNoko(t, n.do(t, "PUT", "/teams/999999/remove_all_users", nil), 404)
	many := make([]int64, 101)
	for i := range many {
		many[i] = int64(i + 1)
	}
	mustNoko(t, n.do(t, "GET", "/teams?user_ids="+ids(many...), nil), 400)
	mustNoko(t, n.do(t, "GET", "/teams?page=0", nil), 400)
	mustNoko(t, n.do(t, "GET", "/teams?per_page=x", nil), 400)
	if r := n.do(t, "GET", "/teams?per_page=5000", nil); r.StatusCode != 200 {
		t.Fatalf("per_page over the most: %d %s", r.StatusCode, r.Body)
	}
}

// TestNokoTeamRights: the core decides, as for /api/v1: a team the caller
// cannot see is 404, a missing right 403, and a refused step of a create
// leaves no team behind.
func TestNokoTeamRights(t *testing.T) {
	t.Parallel()
	s := MustStartServer(t)
	root := noko{s, s.Root(t).Token}
	member := s.MustCreateUser(t, "r-member", "")
	r := root.do(t, "POST", "/teams", map[string]any{"name": "Secret", "user_ids": []int64{member}})
	var secret nokoTeam
	r.JSON(t, &secret)

	s.MustCreateUser(t, "r-creator", `{"system.group":{"create":true}}`)
	c := noko{s, s.LoginAs(t, "r-creator").Token}
	// Cannot see the root's team: 404 for every operation on it.
	for _, op := range []struct{ method, path string }{{"GET", ""}, {"PUT", "?name=x"}, {"DELETE", ""},
		{"GET", "/users"}, {"POST", "/add_users?user_ids=1"}, {"PUT", "/remove_users?user_ids=1"},
		{"PUT", "/remove_all_users"}} {
		mustNoko(t, c.do(t, op.method, fmt.Sprintf("/teams/%d%s", secret.ID, op.path), nil), 404)
	}
	// Creates a team it owns; adding users needs link, which an owner lacks:
	// 403, and the team is gone again.
	e := mustNoko(t, c.do(t, "POST", "/teams", map[string]any{"name": "Mine", "user_ids": []int64{member}}), 403)
	if e.Errors[0].Code != "insufficent_permissions" {
		t.Fatalf("403: %+v", e)
	}
	var list []nokoTeam
	root.do(t, "GET", "/teams?name=Mine", nil).JSON(t, &list)
	if len(list) != 0 {
		t.Fatalf("the refused create left a team: %+v", list)
	}
	r = c.do(t, "POST", "/teams", map[string]any{"name": "Mine"})
	mustNoko(t, r, 201)
	var mine nokoTeam
	r.JSON(t, &mine)
	mustNoko(t, c.do(t, "PUT", fmt.Sprintf("/teams/%d", mine.ID), map[string]any{"name": "Mine2"}), 200)
	mustNoko(t, c.do(t, "POST", fmt.Sprintf("/teams/%d/add_users", mine.ID), map[string]any{"user_ids": []int64{member}}), 403)
	mustNoko(t, c.do(t, "PUT", fmt.Sprintf("/teams/%d/remove_all_users", mine.ID), nil), 204) // nothing to remove
	c.do(t, "GET", "/teams", nil).JSON(t, &list)
	if len(list) != 1 || list[0].ID != mine.ID {
		t.Fatalf("the creator sees: %+v", list)
	}
	// Without system.group nothing of teams is readable: 403.
	s.MustCreateUser(t, "r-plain", "")
	p := noko{s, s.LoginAs(t, "r-plain").Token}
	mustNoko(t, p.do(t, "GET", "/teams", nil), 403)
	mustNoko(t, p.do(t, "POST", "/teams?name=x", nil), 403)
	mustNoko(t, c.do(t, "DELETE", fmt.Sprintf("/teams/%d", mine.ID), nil), 204)
}

func TestNokoUsers(t *testing.T) {
	t.Parallel()
	s := MustStartServer(t)
	n := noko{s, s.Root(t).Token}
	r := n.bare(t, "POST", "/users?email=jane%40example.com&first_name=Jane&role=member", "{}")
	mustNoko(t, r, 201)
	var jane struct {
		nokoUser
		FirstName *string `json:"first_name"`
		URL       string  `json:"url"`
		Role      string  `json:"role"`
	}
	r.JSON(t, &jane)
	if jane.Email == nil || *jane.Email != "jane@example.com" || jane.FirstName == nil || *jane.FirstName != "Jane" ||
		jane.State != "active" || jane.Role != "member" || r.Header.Get("Location") != jane.URL {
		t.Fatalf("created user: %s", r.Body)
	}
	// The user's address is its login: it logs in with it.
	r = n.do(t, "POST", "/users", map[string]any{"email": "joe@example.com", "last_name": "Doe"})
	mustNoko(t, r, 201)
	mustValidation(t, n.do(t, "POST", "/users", map[string]any{"email": "jane@example.com"}), "email", "already_exists")
	mustValidation(t, n.do(t, "POST", "/users", map[string]any{"first_name": "x"}), "email", "missing_field")
	mustValidation(t, n.do(t, "POST", "/users", map[string]any{"email": "a@example.com", "role": "king"}), "role", "invalid")
	mustNoko(t, n.do(t, "POST", "/users", map[string]any{"email": "not an address"}), 400)

	// Listing, filtered and paged.
	for i := 0; i < 3; i++ {
		s.MustCreateUser(t, fmt.Sprintf("u-list%d@example.com", i), "")
	}
	r = n.do(t, "GET", "/users?email=u-list&per_page=2", nil)
	mustNoko(t, r, 200)
	var list []nokoUser
	r.JSON(t, &list)
	l := links(t, r)
	if len(list) != 2 || l["next"] == "" || !strings.Contains(l["next"], "email=u-list") {
		t.Fatalf("users page 1: %s, Link %s", r.Body, r.Header.Get("Link"))
	}
	n.follow(t, l["next"], nil).JSON(t, &list)
	if len(list) != 1 {
		t.Fatalf("users page 2: %+v", list)
	}
	mustNoko(t, n.do(t, "GET", fmt.Sprintf("/users/%d", jane.ID), nil), 200)
	mustNoko(t, n.do(t, "GET", "/users/999999", nil), 404)

	// Rights: without system.user, only oneself.
	self := s.MustCreateUser(t, "u-self", "")
	c := noko{s, s.LoginAs(t, "u-self").Token}
	mustNoko(t, c.do(t, "GET", fmt.Sprintf("/users/%d", self), nil), 200)
	mustNoko(t, c.do(t, "GET", fmt.Sprintf("/users/%d", jane.ID), nil), 403)
	mustNoko(t, c.do(t, "GET", "/users", nil), 403)
	mustNoko(t, c.do(t, "POST", "/users?email=x@example.com", nil), 403)
}

type nokoProject struct {
	ID               int64 `json:"id"`
	Name             string
	BillingIncrement int  `json:"billing_increment"`
	Billable         bool `json:"billable"`
	Group            *struct {
		ID   int64   `json:"id"`
		Name *string `json:"name"`
	} `json:"group"`
}

type nokoProjectGroup struct {
	ID       int64  `json:"id"`
	Name     string `json:"name"`
	URL      string `json:"url"`
	Projects []struct {
		ID int64 `json:"id"`
	} `json:"projects"`
}

func (g nokoProjectGroup) projectIDs() []int64 {
	out := []int64{}
	for _, p := range g.Projects {
		out = append(out, p.ID)
	}
	return out
}

// projectGroupOf is the project's group id (0: none), read through Noko.
func (n noko) projectGroupOf(tb testing.TB, id int64) int64 {
	tb.Helper()
	var p nokoProject
	r := n.do(tb, "GET", fmt.Sprintf("/projects/%d", id), nil)
	mustNoko(tb, r, 200)
	r.JSON(tb, &p)
	if p.Group == nil {
		return 0
	}
	return p.Group.ID
}

func (n noko) projectGroup(tb testing.TB, id int64) nokoProjectGroup {
	tb.Helper()
	var g nokoProjectGroup
	r := n.do(tb, "GET", fmt.Sprintf("/project_groups/%d", id), nil)
	mustNoko(tb, r, 200)
	r.JSON(tb, &g)
	return g
}

func TestNokoProjectGroups(t *testing.T) {
	t.Parallel()
	s := MustStartServer(t)
	root := s.Root(t)
	n := noko{s, root.Token}
	var p [6]int64
	for i := range p {
		r := n.do(t, "POST", "/projects", map[string]any{"name": fmt.Sprintf("P%d", i), "billing_increment": 10})
		mustNoko(t, r, 201)
		var pr nokoProject
		r.JSON(t, &pr)
		if pr.BillingIncrement != 10 || !pr.Billable || pr.Group != nil || r.Header.Get("Location") == "" {
			t.Fatalf("created project: %s", r.Body)
		}
		p[i] = pr.ID
	}

	// Create as the Python client does.
	r := n.bare(t, "POST", "/project_groups?name=A&project_ids="+url.QueryEscape(ids(p[0], p[1])), "{}")
	mustNoko(t, r, 201)
	var a nokoProjectGroup
	r.JSON(t, &a)
	if a.Name != "A" || fmt.Sprint(a.projectIDs()) != fmt.Sprint([]int64{p[0], p[1]}) || r.Header.Get("Location") != a.URL {
		t.Fatalf("created project group: %s", r.Body)
	}
	// In the core: a group of type custom-noko-project-group holding the objects.
	r = root.Do(t, "GET", fmt.Sprintf("/api/v1/group/%d/objects", a.ID), nil)
	if r.Header.Get("X-Total-Count") != "2" || !strings.Contains(string(r.Body), `"noko.project"`) {
		t.Fatalf("the group's objects in /api/v1: %s", r.Body)
	}
	r = root.Do(t, "GET", fmt.Sprintf("/api/v1/group/%d", a.ID), nil)
	if !strings.Contains(string(r.Body), `"custom-noko-project-group"`) {
		t.Fatalf("the project group in /api/v1/group: %s", r.Body)
	}
	// On create, projects move from their old group.
	r = n.do(t, "POST", "/project_groups", map[string]any{"name": "B", "project_ids": []int64{p[1], p[2]}})
	mustNoko(t, r, 201)
	var b nokoProjectGroup
	r.JSON(t, &b)
	if got := n.projectGroup(t, a.ID).projectIDs(); fmt.Sprint(got) != fmt.Sprint([]int64{p[0]}) {
		t.Fatalf("A after B's create: %v", got)
	}
	var pr nokoProject
	n.do(t, "GET", fmt.Sprintf("/projects/%d", p[1]), nil).JSON(t, &pr)
	if pr.Group == nil || pr.Group.ID != b.ID || pr.Group.Name == nil || *pr.Group.Name != "B" {
		t.Fatalf("the moved project: %+v", pr)
	}

	// add_projects ignores projects in another group; the answer is the
	// projects of the request in the group now.
	r = n.do(t, "POST", fmt.Sprintf("/project_groups/%d/add_projects", a.ID), map[string]any{"projects": []int64{p[2], p[3]}})
	mustNoko(t, r, 200)
	var added []nokoProject
	r.JSON(t, &added)
	if len(added) != 1 || added[0].ID != p[3] || n.projectGroupOf(t, p[2]) != b.ID {
		t.Fatalf("add_projects: %s", r.Body)
	}
	// remove_projects ignores non-members.
	mustNoko(t, n.bare(t, "PUT", fmt.Sprintf("/project_groups/%d/remove_projects", a.ID), `{"project_ids":"`+ids(p[0], p[1])+`"}`), 204)
	if n.projectGroupOf(t, p[0]) != 0 || n.projectGroupOf(t, p[1]) != b.ID {
		t.Fatal("remove_projects moved the wrong projects")
	}
	// Lists, filtered.
	var list []nokoProjectGroup
	n.do(t, "GET", "/project_groups", nil).JSON(t, &list)
	if len(list) != 2 {
		t.Fatalf("project groups: %+v", list)
	}
	n.do(t, "GET", "/project_groups?name=b", nil).JSON(t, &list)
	if len(list) != 1 || list[0].ID != b.ID {
		t.Fatalf("project_groups?name=b: %+v", list)
	}
	n.do(t, "GET", "/project_groups?project_ids="+ids(p[3], p[5]), nil).JSON(t, &list)
	if len(list) != 1 || list[0].ID != a.ID {
		t.Fatalf("project_groups?project_ids: %+v", list)
	}
	var projects []nokoProject
	n.do(t, "GET", fmt.Sprintf("/projects?project_group_ids=%d", b.ID), nil).JSON(t, &projects)
	if len(projects) != 2 || projects[0].ID != p[1] || projects[1].ID != p[2] {
		t.Fatalf("projects?project_group_ids: %+v", projects)
	}
	// A group's projects, paged through Link.
	r = n.do(t, "GET", fmt.Sprintf("/project_groups/%d/projects?per_page=1", b.ID), nil)
	mustNoko(t, r, 200)
	r.JSON(t, &projects)
	next := links(t, r)["next"]
	if len(projects) != 1 || projects[0].ID != p[1] || next == "" {
		t.Fatalf("page 1: %s, Link %s", r.Body, r.Header.Get("Link"))
	}
	n.follow(t, next, url.Values{"per_page": {"1"}}).JSON(t, &projects)
	if len(projects) != 1 || projects[0].ID != p[2] {
		t.Fatalf("page 2: %+v", projects)
	}
	// remove_all_projects ungroups every project of the group.
	mustNoko(t, n.do(t, "PUT", fmt.Sprintf("/project_groups/%d/remove_all_projects", b.ID), nil), 204)
	if n.projectGroupOf(t, p[1]) != 0 || n.projectGroupOf(t, p[2]) != 0 || len(n.projectGroup(t, b.ID).Projects) != 0 {
		t.Fatal("remove_all_projects left projects in the group")
	}
	// DELETE keeps the projects, in no group.
	mustNoko(t, n.do(t, "DELETE", fmt.Sprintf("/project_groups/%d", a.ID), nil), 204)
	mustNoko(t, n.do(t, "GET", fmt.Sprintf("/project_groups/%d", a.ID), nil), 404)
	if n.projectGroupOf(t, p[3]) != 0 {
		t.Fatal("the deleted group's project is still in a group")
	}
	// A rename.
	r = n.do(t, "PUT", fmt.Sprintf("/project_groups/%d?name=Bee", b.ID), nil)
	mustNoko(t, r, 200)
	if !strings.Contains(string(r.Body), `"name":"Bee"`) {
		t.Fatalf("renamed: %s", r.Body)
	}

	// The draft's /groups paths are the same project groups.
	r = n.do(t, "POST", "/groups", map[string]any{"name": "Draft", "projects": []int64{p[4]}})
	mustNoko(t, r, 201)
	var d nokoProjectGroup
	r.JSON(t, &d)
	mustNoko(t, n.do(t, "GET", fmt.Sprintf("/groups/%d", d.ID), nil), 200)
	mustNoko(t, n.do(t, "GET", fmt.Sprintf("/project_groups/%d", d.ID), nil), 200)
	mustNoko(t, n.do(t, "POST", fmt.Sprintf("/groups/%d/projects", d.ID), map[string]any{"projects": []int64{p[5]}}), 200)
	n.do(t, "GET", fmt.Sprintf("/groups/%d/projects", d.ID), nil).JSON(t, &projects)
	if len(projects) != 2 {
		t.Fatalf("draft group's projects: %+v", projects)
	}
	mustNoko(t, n.do(t, "PUT", fmt.Sprintf("/groups/%d/projects?projects=%d", d.ID, p[4]), nil), 204)
	mustNoko(t, n.do(t, "PUT", fmt.Sprintf("/groups/%d/remove_projects?projects=%d", d.ID, p[4]), nil), 204)
	mustNoko(t, n.do(t, "DELETE", fmt.Sprintf("/groups/%d/projects", d.ID), nil), 204)
	if n.projectGroupOf(t, p[5]) != 0 {
		t.Fatal("DELETE /groups/:id/projects left a project")
	}
	mustNoko(t, n.do(t, "POST", fmt.Sprintf("/groups/%d/add_projects", d.ID), map[string]any{"projects": []int64{p[5]}}), 200)
	mustNoko(t, n.do(t, "PUT", fmt.Sprintf("/groups/%d/remove_all_projects", d.ID), nil), 204)
	n.do(t, "GET", "/groups?name=draft", nil).JSON(t, &list)
	if len(list) != 1 {
		t.Fatalf("GET /groups: %+v", list)
	}
	mustNoko(t, n.do(t, "PUT", fmt.Sprintf("/groups/%d", d.ID), map[string]any{"name": "Draft2"}), 200)
	mustNoko(t, n.do(t, "DELETE", fmt.Sprintf("/groups/%d", d.ID), nil), 204)

	// Errors; a refused request writes nothing.
	mustValidation(t, n.do(t, "POST", "/project_groups", map[string]any{"name": "C", "project_ids": []int64{p[0], 999999}}), "project_ids", "missing")
	n.do(t, "GET", "/project_groups?name=C", nil).JSON(t, &list)
	if len(list) != 0 || n.projectGroupOf(t, p[0]) != 0 {
		t.Fatalf("a refused create wrote: %+v", list)
	}
	mustValidation(t, n.do(t, "POST", fmt.Sprintf("/project_groups/%d/add_projects", b.ID), map[string]any{"projects": []int64{p[0], 999999}}), "projects", "missing")
	if n.projectGroupOf(t, p[0]) != 0 {
		t.Fatal("a refused add_projects moved a project")
	}
	mustValidation(t, n.do(t, "PUT", fmt.Sprintf("/project_groups/%d/remove_projects", b.ID), map[string]any{}), "project_ids", "missing_field")
	mustValidation(t, n.do(t, "POST", "/project_groups", nil), "name", "missing_field")
	mustValidation(t, n.do(t, "POST", "/project_groups?name=Bee", nil), "name", "already_exists")
	mustNoko(t, n.do(t, "POST", "/project_groups?name=x&project_ids=x", nil), 400)
	for _, path := range []string{"/project_groups/999999", "/project_groups/999999/projects", "/groups/x", "/projects/999999", "/projects/x"} {
		mustNoko(t, n.do(t, "GET", path, nil), 404)
	}
	mustNoko(t, n.do(t, "PUT", "/project_groups/999999/remove_all_projects", nil), 404)
	// A team is no project group, nor the reverse.
	r = n.do(t, "POST", "/teams?name=T", nil)
	var team nokoTeam
	r.JSON(t, &team)
	mustNoko(t, n.do(t, "GET", fmt.Sprintf("/project_groups/%d", team.ID), nil), 404)
	mustNoko(t, n.do(t, "GET", fmt.Sprintf("/teams/%d", b.ID), nil), 404)
}

func TestNokoProjects(t *testing.T) {
	t.Parallel()
	s := MustStartServer(t)
	n := noko{s, s.Root(t).Token}
	r := n.do(t, "POST", "/project_groups?name=G", nil)
	var g nokoProjectGroup
	r.JSON(t, &g)
	r = n.bare(t, "POST", fmt.Sprintf("/projects?name=Gear&project_group_id=%d&billable=false&color=%%23ff9898", g.ID), "{}")
	mustNoko(t, r, 201)
	var gear nokoProject
	r.JSON(t, &gear)
	if gear.Group == nil || gear.Group.ID != g.ID || gear.Billable || gear.BillingIncrement != 15 ||
		!strings.Contains(string(r.Body), `"color":"#ff9898"`) || !strings.Contains(string(r.Body), `"enabled":true`) {
		t.Fatalf("created project: %s", r.Body)
	}
	r = n.do(t, "GET", fmt.Sprintf("/projects/%d", gear.ID), nil)
	mustNoko(t, r, 200)
	for i := 0; i < 3; i++ {
		mustNoko(t, n.do(t, "POST", "/projects", map[string]any{"name": fmt.Sprintf("Sprocket %d", i)}), 201)
	}
	var list []nokoProject
	r = n.do(t, "GET", "/projects?name=sprocket&per_page=2", nil)
	mustNoko(t, r, 200)
	r.JSON(t, &list)
	l := links(t, r)
	if len(list) != 2 || l["next"] == "" || l["last"] != l["next"] {
		t.Fatalf("projects page 1: %s, Link %s", r.Body, r.Header.Get("Link"))
	}
	n.follow(t, l["next"], url.Values{"name": {"gear"}}).JSON(t, &list)
	if len(list) != 1 || list[0].Name != "Sprocket 2" {
		t.Fatalf("projects page 2: %+v", list)
	}
	mustValidation(t, n.do(t, "POST", "/projects", map[string]any{}), "name", "missing_field")
	mustValidation(t, n.do(t, "POST", "/projects", map[string]any{"name": "x", "billing_increment": 7}), "billing_increment", "invalid")
	mustValidation(t, n.do(t, "POST", "/projects", map[string]any{"name": "x", "color": "red"}), "color", "invalid")
	mustValidation(t, n.do(t, "POST", "/projects", map[string]any{"name": "x", "project_group_id": 999999}), "project_group_id", "missing")
	mustNoko(t, n.do(t, "POST", "/projects", map[string]any{"name": "x", "billable": "maybe"}), 400)
	mustNoko(t, n.do(t, "GET", "/projects?billable=true", nil), 400)
	mustNoko(t, n.do(t, "GET", "/projects?project_group_ids=1,2", nil), 400)

	// Rights are the core's: creating needs system.object create; putting
	// into a group needs link on it; a project in a group the caller cannot
	// read is a 404.
	s.MustCreateUser(t, "p-maker", `{"system.object":{"create":true},"system.group":{}}`)
	c := noko{s, s.LoginAs(t, "p-maker").Token}
	mustNoko(t, c.do(t, "GET", fmt.Sprintf("/projects/%d", gear.ID), nil), 404)
	mustValidation(t, c.do(t, "POST", "/projects", map[string]any{"name": "y", "project_group_id": g.ID}), "project_group_id", "missing")
	r = c.do(t, "POST", "/projects", map[string]any{"name": "Mine"})
	mustNoko(t, r, 201)
	var own nokoProject
	r.JSON(t, &own)
	s.MustCreateUser(t, "p-plain", "")
	mustNoko(t, noko{s, s.LoginAs(t, "p-plain").Token}.do(t, "POST", "/projects?name=z", nil), 403)

	// Project groups: one the caller cannot see is a 404 for every
	// operation; its own new group lacks link, so a create with projects is
	// refused (403) and leaves no group behind.
	for _, op := range []struct{ method, path string }{{"GET", ""}, {"PUT", "?name=x"}, {"DELETE", ""},
		{"GET", "/projects"}, {"POST", fmt.Sprintf("/add_projects?projects=%d", own.ID)},
		{"PUT", fmt.Sprintf("/remove_projects?projects=%d", gear.ID)}, {"PUT", "/remove_all_projects"}} {
		mustNoko(t, c.do(t, op.method, fmt.Sprintf("/project_groups/%d%s", g.ID, op.path), nil), 404)
	}
	s.MustCreateUser(t, "p-grouper", `{"system.object":{"create":true,"read_all":true},"system.group":{"create":true}}`)
	gc := noko{s, s.LoginAs(t, "p-grouper").Token}
	r = gc.do(t, "POST", "/projects", map[string]any{"name": "Theirs"})
	var theirs nokoProject
	r.JSON(t, &theirs)
	e := mustNoko(t, gc.do(t, "POST", "/project_groups", map[string]any{"name": "Refused", "projects": []int64{theirs.ID}}), 403)
	if e.Errors[0].Code != "insufficent_permissions" {
		t.Fatalf("403: %+v", e)
	}
	var list2 []nokoProjectGroup
	n.do(t, "GET", "/project_groups?name=Refused", nil).JSON(t, &list2)
	if len(list2) != 0 {
		t.Fatalf("the refused create left a group: %+v", list2)
	}
	r = gc.do(t, "POST", "/project_groups", map[string]any{"name": "Empty"})
	mustNoko(t, r, 201)
	var empty nokoProjectGroup
	r.JSON(t, &empty)
	mustNoko(t, gc.do(t, "POST", fmt.Sprintf("/project_groups/%d/add_projects", empty.ID), map[string]any{"projects": []int64{theirs.ID}}), 403)
	// A project the caller cannot see is missing (an ungrouped one is
	// visible to root and read_all only), for a caller that may create the
	// group; one that may not is refused that first (403), as the core
	// decides the create before the move in the same transaction.
	s.MustCreateUser(t, "p-blind", `{"system.group":{"create":true}}`)
	blind := noko{s, s.LoginAs(t, "p-blind").Token}
	mustValidation(t, blind.do(t, "POST", "/project_groups", map[string]any{"name": "Mine", "projects": []int64{own.ID}}), "projects", "missing")
	mustNoko(t, c.do(t, "POST", "/project_groups", map[string]any{"name": "Mine", "projects": []int64{own.ID}}), 403)
	// The token never travels in a Link.
	r = s.Do(t, "GET", "/noko/v2/projects?per_page=1&noko_token="+url.QueryEscape(n.token), nil, "User-Agent", "t")
	mustNoko(t, r, 200)
	if l := r.Header.Get("Link"); l == "" || strings.Contains(l, "noko_token") {
		t.Fatalf("Link: %q", l)
	}
}
