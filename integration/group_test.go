package integration

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
)

type groupOut struct {
	Basetype string `json:"_basetype"`
	Group    struct {
		ID          int64             `json:"_id"`
		Version     int64             `json:"_version"`
		Type        string            `json:"type"`
		Name        *string           `json:"name"`
		Displayname map[string]string `json:"displayname"`
		Reference   *string           `json:"reference"`
		Comment     *string           `json:"comment"`
	} `json:"group"`
	Owner struct {
		Basetype string `json:"_basetype"`
		User     struct {
			ID int64 `json:"_id"`
		} `json:"user"`
	} `json:"_owner"`
	ACL          []map[string]any          `json:"_acl"`
	SystemRights map[string]map[string]any `json:"_system_rights"`
	HasACL       bool                      `json:"_has_acl"`
	Generated    map[string]any            `json:"_generated_rights"`
}

func (g groupOut) rights() string {
	var names []string
	for n := range g.Generated {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, ",")
}

func groups(tb testing.TB, r *Response) []groupOut {
	tb.Helper()
	if r.StatusCode != 200 {
		tb.Fatalf("want 200, got %d %s", r.StatusCode, r.Body)
	}
	var out []groupOut
	r.JSON(tb, &out)
	return out
}

func names(gs []groupOut) []string {
	var out []string
	for _, g := range gs {
		if g.Group.Name != nil {
			out = append(out, *g.Group.Name)
		}
	}
	return out
}

// TestSeedExamples replays the request and response examples of the easydb
// group API document (seeds/004): PUT students, POST dept_head, GET by id.
func TestSeedExamples(t *testing.T) {
	t.Parallel()
	s := MustStartServer(t)
	root := s.Root(t)

	// put.json: version 1, no id; the response is the same with _id added.
	r := root.Do(t, "PUT", "/api/v1/group", `[{"_basetype":"group","group":{"_version":1,"name":"students",
		"displayname":{"de-DE":"Studenten","en-US":"Students"}}}]`)
	put := groups(t, r)
	if len(put) != 1 || put[0].Group.ID == 0 || put[0].Group.Version != 1 || *put[0].Group.Name != "students" ||
		put[0].Group.Displayname["de-DE"] != "Studenten" || put[0].Group.Displayname["en-US"] != "Students" {
		t.Fatalf("PUT students: %s", r.Body)
	}
	if put[0].Basetype != "group" || put[0].Owner.User.ID != 1 || put[0].Group.Type != "easydb" {
		t.Fatalf("PUT students: owner must be the session user (root), type easydb: %s", r.Body)
	}

	// post.json: dept_head at version 3, next version 4 provided.
	dept := groups(t, root.Do(t, "PUT", "/api/v1/group", `[{"group":{"name":"dept_head",
		"displayname":{"de-DE":"Abteilungsleiter","en-US":"Department heads"}}}]`))[0]
	for v := int64(2); v <= 3; v++ {
		groups(t, root.Do(t, "POST", "/api/v1/group", fmt.Sprintf(`[{"_basetype":"group","group":{"_id":%d,"_version":%d}}]`,
			dept.Group.ID, v)))
	}
	r = root.Do(t, "POST", "/api/v1/group", fmt.Sprintf(`[{"_basetype":"group","group":{"_id":%d,"_version":4,
		"name":"dept_head","displayname":{"de-DE":"Abteilungsleitergruppe","en-US":"Group of Department Heads"}}}]`, dept.Group.ID))
	post := groups(t, r)
	if len(post) != 1 || post[0].Group.Version != 4 || post[0].Group.Displayname["en-US"] != "Group of Department Heads" {
		t.Fatalf("POST dept_head: %s", r.Body)
	}
	// The doc's post.json says "id" where the type requires "_id": refused, naming the attribute.
	e := MustError(t, root.Do(t, "POST", "/api/v1/group", fmt.Sprintf(`[{"group":{"id":%d,"_version":5}}]`, dept.Group.ID)),
		400, "error.api.attribute_not_accepted")
	if e.Parameters["attribute"] != "group.id" || e.Parameters["index"] != "0" {
		t.Fatalf("params: %v", e.Parameters)
	}

	// get_id.json: an array with only dept_head.
	got := groups(t, root.Do(t, "GET", fmt.Sprintf("/api/v1/group/%d", dept.Group.ID), nil))
	if len(got) != 1 || *got[0].Group.Name != "dept_head" || got[0].Group.Version != 4 {
		t.Fatalf("GET dept_head: %+v", got)
	}
	// get.json: all groups, ordered by _id, system group :all first.
	all := groups(t, root.Do(t, "GET", "/api/v1/group", nil))
	if len(all) != 4 || *all[0].Group.Name != ":all" || all[0].Group.Type != "system" || all[0].Group.ID != 1 {
		t.Fatalf("GET all: %v", names(all))
	}
	if all[0].rights() != "bag_read,bag_write,delete,read,write" {
		t.Fatalf("root's rights on a system group: %s", all[0].rights())
	}
	if put[0].rights() != "bag_delete,bag_read,bag_write,delete,link,read,unlink,write" {
		t.Fatalf("root's rights on its group: %s", put[0].rights())
	}
	// An unknown id: an empty array, as the doc says.
	if r := root.Do(t, "GET", "/api/v1/group/999999", nil); r.StatusCode != 200 || strings.TrimSpace(string(r.Body)) != "[]" {
		t.Fatalf("GET unknown id: %d %s", r.StatusCode, r.Body)
	}
}

func TestGroupErrors(t *testing.T) {
	t.Parallel()
	s := MustStartServer(t)
	root := s.Root(t)
	base := groups(t, root.Do(t, "PUT", "/api/v1/group", `[{"group":{"name":"base"}}]`))[0]
	baseID := base.Group.ID
	s.MustCreateUser(t, "plain", `{}`)
	s.MustCreateUser(t, "reader", `{"system.group":{}}`)
	s.MustCreateUser(t, "creator", `{"system.group":{"create":true}}`)
	plain, reader, creator := s.LoginAs(t, "plain"), s.LoginAs(t, "reader"), s.LoginAs(t, "creator")

	type tc struct {
		name   string
		c      *Client
		method string
		path   string
		body   string
		code   string
		params map[string]string
	}
	id := fmt.Sprint(baseID)
	cases := []tc{
		{"no token", &Client{s: s}, "GET", "/api/v1/group", "", "error.user.not_authenticated", nil},
		{"unknown token", &Client{s: s, Token: "nope"}, "GET", "/api/v1/group", "", "error.user.session_not_found", nil},
		{"list without system.group", plain, "GET", "/api/v1/group", "", "error.user.no_system_right",
			map[string]string{"right": "system.group"}},
		{"read without bag_read", reader, "GET", "/api/v1/group/" + id, "", "error.user.insufficient_rights",
			map[string]string{"operation": "read", "type": "group", "ids": id, "right": "bag_read"}},
		{"create without create", reader, "PUT", "/api/v1/group", `[{"group":{"name":"x"}}]`, "error.user.no_system_right",
			map[string]string{"right": "system.group", "extra_info": "create", "index": "0"}},
		{"create with acl without create_acl", creator, "PUT", "/api/v1/group",
			`[{"group":{"name":"x"},"_acl":[{"who":{"user":{"_id":1}},"rights":{"bag_read":{}}}]}]`,
			"error.user.no_system_right", map[string]string{"right": "system.group", "extra_info": "create_acl"}},
		{"create with system rights without create_system_rights", creator, "PUT", "/api/v1/group",
			`[{"group":{"name":"x"},"_system_rights":{"system.group":{}}}]`,
			"error.user.no_system_right", map[string]string{"right": "system.group", "extra_info": "create_system_rights"}},
		{"update without bag_write", creator, "POST", "/api/v1/group",
			`[{"group":{"_id":` + id + `,"_version":2,"name":"y"}}]`, "error.user.insufficient_rights",
			map[string]string{"operation": "update", "type": "group", "ids": id, "right": "bag_write", "index": "0"}},
		{"delete without bag_delete", creator, "DELETE", "/api/v1/group/" + id, "", "error.user.insufficient_rights",
			map[string]string{"operation": "delete", "type": "group", "ids": id, "right": "bag_delete"}},
		{"other owner on create", root, "PUT", "/api/v1/group",
			`[{"group":{"name":"x"},"_owner":{"_basetype":"user","user":{"_id":` + fmt.Sprint(creator.UserID) + `}}}]`,
			"error.user.change_owner_on_creation", nil},
		{"update unknown group", root, "POST", "/api/v1/group", `[{"group":{"name":"ok"}},{"group":{"_id":424242,"_version":2}}]`,
			"error.user.group_not_found", map[string]string{"id": "424242", "index": "1"}},
		{"acl names unknown group", root, "PUT", "/api/v1/group",
			`[{"group":{"name":"x"},"_acl":[{"who":{"group":{"_id":777777}},"rights":{"bag_read":{}}}]}]`,
			"error.user.group_not_found", map[string]string{"id": "777777", "index": "0"}},
		{"owner is unknown group", root, "POST", "/api/v1/group",
			`[{"group":{"_id":` + id + `,"_version":2},"_owner":{"group":{"_id":888888}}}]`,
			"error.user.group_not_found", map[string]string{"id": "888888"}},
		{"acl names unknown user", root, "PUT", "/api/v1/group",
			`[{"group":{"name":"x"},"_acl":[{"who":{"user":{"_id":999999}},"rights":{"bag_read":{}}}]}]`,
			"error.user.user_not_found", map[string]string{"id": "999999"}},
		{"unknown acl right", root, "PUT", "/api/v1/group",
			`[{"group":{"name":"x"},"_acl":[{"who":{"user":{"_id":1}},"rights":{"bag_fly":{}}}]}]`,
			"error.user.right_not_found", map[string]string{"id": "bag_fly", "index": "0"}},
		{"unknown system right", root, "PUT", "/api/v1/group",
			`[{"group":{"name":"x"},"_system_rights":{"system.fly":{}}}]`,
			"error.user.right_not_found", map[string]string{"id": "system.fly"}},
		{"custom type without custom_type", root, "PUT", "/api/v1/group",
			`[{"group":{"name":"x"},"_system_rights":{"system.user.create_new":{"type":"custom_type"}}}]`,
			"error.user.custom_type_required", nil},
		{"stale version", root, "POST", "/api/v1/group", `[{"group":{"_id":` + id + `,"_version":1}}]`,
			"error.user.version_mismatch", map[string]string{"provided": "1", "expected": "2", "index": "0"}},
		{"create at version 2", root, "PUT", "/api/v1/group", `[{"group":{"name":"x","_version":2}}]`,
			"error.user.version_mismatch", map[string]string{"provided": "2", "expected": "1"}},
		{"duplicate name", root, "PUT", "/api/v1/group", `[{"group":{"name":"fresh"}},{"group":{"name":"base"}}]`,
			"error.user.integrity_constraint_violation", map[string]string{"constraint": "group.name", "index": "1"}},
		{"duplicate name within request", root, "PUT", "/api/v1/group", `[{"group":{"name":"twin"}},{"group":{"name":"twin"}}]`,
			"error.user.integrity_constraint_violation", map[string]string{"constraint": "group.name", "index": "1"}},
		{"duplicate displayname", root, "PUT", "/api/v1/group",
			`[{"group":{"name":"a1","displayname":{"en-US":"Same"}}},{"group":{"name":"a2","displayname":{"en-US":"Same"}}}]`,
			"error.user.integrity_constraint_violation", map[string]string{"constraint": "group.displayname", "index": "1"}},
		{"delete system group", root, "DELETE", "/api/v1/group/1", "", "error.user.delete_system_group",
			map[string]string{"group_id": "1"}},
		{"delete unknown group", root, "DELETE", "/api/v1/group/5555555", "", "error.user.group_not_found",
			map[string]string{"id": "5555555"}},
		{"rename system group", root, "POST", "/api/v1/group", `[{"group":{"_id":1,"_version":2,"name":"everyone"}}]`,
			"error.api.invalid_value", map[string]string{"attribute": "group.name"}},
		{"PUT with _id", root, "PUT", "/api/v1/group", `[{"group":{"_id":5,"name":"x"}}]`,
			"error.api.attribute_not_accepted", map[string]string{"attribute": "group._id", "index": "0"}},
		{"missing group object", root, "PUT", "/api/v1/group", `[{"_basetype":"group"}]`,
			"error.api.attribute_expected", map[string]string{"attribute": "group"}},
		{"missing name", root, "PUT", "/api/v1/group", `[{"group":{"comment":"no name"}}]`,
			"error.api.attribute_expected", map[string]string{"attribute": "group.name"}},
		{"missing version on update", root, "POST", "/api/v1/group", `[{"group":{"_id":` + id + `}}]`,
			"error.api.attribute_expected", map[string]string{"attribute": "group._version"}},
		{"name of wrong type", root, "PUT", "/api/v1/group", `[{"group":{"name":5}}]`,
			"error.api.type_mismatch", map[string]string{"attribute": "group.name", "expected": "string"}},
		{"unknown attribute", root, "PUT", "/api/v1/group", `[{"group":{"name":"x"},"_colour":"red"}]`,
			"error.api.attribute_not_accepted", map[string]string{"attribute": "_colour"}},
		{"control character", root, "PUT", "/api/v1/group", `[{"group":{"name":"a\u0007b"}}]`,
			"error.api.invalid_value", map[string]string{"attribute": "group.name"}},
		{"name too long", root, "PUT", "/api/v1/group", `[{"group":{"name":"` + strings.Repeat("é", 257) + `"}}]`,
			"error.api.invalid_value", map[string]string{"attribute": "group.name"}},
		{"bad culture", root, "PUT", "/api/v1/group", `[{"group":{"displayname":{"english":"x"}}}]`,
			"error.api.invalid_value", map[string]string{"attribute": "group.displayname.english"}},
		{"system type", root, "PUT", "/api/v1/group", `[{"group":{"name":"x","type":"system"}}]`,
			"error.api.invalid_value", map[string]string{"attribute": "group.type"}},
		{"body not an array", root, "PUT", "/api/v1/group", `{"group":{"name":"x"}}`,
			"error.api.type_mismatch", map[string]string{"attribute": "body"}},
		{"body not JSON", root, "PUT", "/api/v1/group", `[{"group":`, "error.api.invalid_content", nil},
		{"limit over 1000", root, "GET", "/api/v1/group?limit=1001", "", "error.api.invalid_value",
			map[string]string{"attribute": "limit"}},
		{"bad type filter", root, "GET", "/api/v1/group?type=weird", "", "error.api.invalid_value",
			map[string]string{"attribute": "type"}},
		{"events without root", reader, "GET", "/api/v1/events", "", "error.user.no_system_right",
			map[string]string{"right": "system.root"}},
	}
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
	// None of the refused requests wrote anything.
	all := groups(t, root.Do(t, "GET", "/api/v1/group", nil))
	if got := strings.Join(names(all), ","); got != ":all,:non_system,base" {
		t.Fatalf("refused requests wrote: %s", got)
	}
	if g := groups(t, root.Do(t, "GET", "/api/v1/group/"+id, nil))[0]; g.Group.Version != 1 {
		t.Fatalf("refused update changed the version: %d", g.Group.Version)
	}
}

// TestBulkIsOneTransaction: a 10,000-item PUT whose item 9,999 is bad
// writes nothing, and the same PUT without it writes all.
func TestBulkIsOneTransaction(t *testing.T) {
	t.Parallel()
	s := MustStartServer(t)
	root := s.Root(t)
	items := make([]map[string]any, 10000)
	for i := range items {
		items[i] = map[string]any{"group": map[string]any{"name": fmt.Sprintf("bulk-%05d", i),
			"reference": fmt.Sprintf("ref-%05d", i), "displayname": map[string]string{"en-US": fmt.Sprintf("Bulk %d", i)}},
			"_acl": []any{map[string]any{"who": map[string]any{"group": map[string]any{"_id": 2}}, "rights": map[string]any{"bag_read": map[string]any{}}}}}
	}
	items[9999]["group"].(map[string]any)["reference"] = "ref-00017" // taken by item 17
	e := MustError(t, root.Do(t, "PUT", "/api/v1/group", items), 400, "error.user.integrity_constraint_violation")
	if e.Parameters["index"] != "9999" || e.Parameters["constraint"] != "group.reference" {
		t.Fatalf("params %v", e.Parameters)
	}
	var n int
	s.DB.QueryRow(`SELECT (SELECT count(*) FROM groups) + (SELECT count(*) FROM group_acl) + (SELECT count(*) FROM events)`).Scan(&n)
	if n != 2 {
		t.Fatalf("a failed bulk wrote rows: %d", n)
	}
	items[9999]["group"].(map[string]any)["reference"] = "ref-09999"
	out := groups(t, root.Do(t, "PUT", "/api/v1/group", items))
	if len(out) != 10000 || *out[9999].Group.Name != "bulk-09999" || out[0].Group.ID >= out[1].Group.ID || len(out[5].ACL) != 1 {
		t.Fatalf("bulk PUT returned %d groups", len(out))
	}
	s.DB.QueryRow(`SELECT count(*) FROM events WHERE object_type = 'group' AND action = 'create'`).Scan(&n)
	if n != 10000 {
		t.Fatalf("want 10000 audit events, got %d", n)
	}
}

// TestConcurrentUpdatesOneWinner: updates racing on the same version; exactly
// one wins, the others get version_mismatch, no lost update.
func TestConcurrentUpdatesOneWinner(t *testing.T) {
	t.Parallel()
	s := MustStartServer(t)
	root := s.Root(t)
	g := groups(t, root.Do(t, "PUT", "/api/v1/group", `[{"group":{"name":"contested"}}]`))[0]
	const n = 16
	var wg sync.WaitGroup
	results := make([]*Response, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			results[i] = root.Do(t, "POST", "/api/v1/group",
				fmt.Sprintf(`[{"group":{"_id":%d,"_version":2,"comment":"writer %d"}}]`, g.Group.ID, i))
		}(i)
	}
	wg.Wait()
	winners := 0
	var winner string
	for i, r := range results {
		if r.StatusCode == 200 {
			winners++
			winner = fmt.Sprintf("writer %d", i)
			continue
		}
		MustError(t, r, 400, "error.user.version_mismatch")
	}
	if winners != 1 {
		t.Fatalf("want exactly one winner, got %d", winners)
	}
	got := groups(t, root.Do(t, "GET", fmt.Sprintf("/api/v1/group/%d", g.Group.ID), nil))[0]
	if got.Group.Version != 2 || got.Group.Comment == nil || *got.Group.Comment != winner {
		t.Fatalf("stored %v %v, winner %s", got.Group.Version, got.Group.Comment, winner)
	}
}

// TestVisibilityAndFilters: what a non-root user sees, and the filters.
func TestVisibilityAndFilters(t *testing.T) {
	t.Parallel()
	s := MustStartServer(t)
	root := s.Root(t)
	aliceID := s.MustCreateUser(t, "alice", `{"system.group":{"create":true}}`)
	bobID := s.MustCreateUser(t, "bob", `{"system.group":{}}`)
	alice, bob := s.LoginAs(t, "alice"), s.LoginAs(t, "bob")

	// root makes: team (bob is a member), custom-x (custom), secret, viaacl (ACL grants bag_read to team).
	made := groups(t, root.Do(t, "PUT", "/api/v1/group", `[
		{"group":{"name":"team","reference":"T-1","displayname":{"en-US":"The Team"}}},
		{"group":{"name":"plugin","type":"custom-x"}},
		{"group":{"name":"secret"}}]`))
	team := made[0].Group.ID
	s.AddMember(t, team, bobID)
	viaACL := groups(t, root.Do(t, "PUT", "/api/v1/group", fmt.Sprintf(`[{"group":{"name":"viaacl"},
		"_acl":[{"who":{"group":{"_id":%d}},"rights":{"bag_write":{}}},
		        {"who":{"user":{"_id":%d}},"rights":{"bag_read":{}},"active":false}]}]`, team, aliceID)))[0]
	// alice makes her own.
	mine := groups(t, alice.Do(t, "PUT", "/api/v1/group", `[{"group":{"name":"alices"}}]`))[0]
	if mine.Owner.User.ID != aliceID || mine.rights() != "bag_delete,bag_read,bag_write" {
		t.Fatalf("owner's rights: %s", mine.rights())
	}

	r := bob.Do(t, "GET", "/api/v1/group", nil)
	if got := strings.Join(names(groups(t, r)), ","); got != "team,viaacl" {
		t.Fatalf("bob sees %s", got)
	}
	if r.Header.Get("X-Total-Count") != "2" {
		t.Fatalf("X-Total-Count %q", r.Header.Get("X-Total-Count"))
	}
	bobView := groups(t, bob.Do(t, "GET", fmt.Sprintf("/api/v1/group/%d", viaACL.Group.ID), nil))[0]
	if bobView.rights() != "bag_read,bag_write" {
		t.Fatalf("bob's rights via the team's ACL entry: %s", bobView.rights())
	}
	// bag_write through the ACL lets bob update it, but not change its ACL.
	groups(t, bob.Do(t, "POST", "/api/v1/group", fmt.Sprintf(`[{"group":{"_id":%d,"_version":2,"comment":"by bob"}}]`, viaACL.Group.ID)))
	MustError(t, bob.Do(t, "POST", "/api/v1/group", fmt.Sprintf(`[{"group":{"_id":%d,"_version":3},"_acl":[]}]`, viaACL.Group.ID)),
		400, "error.user.no_system_right")
	// alice: her own only (the inactive entry grants nothing).
	if got := strings.Join(names(groups(t, alice.Do(t, "GET", "/api/v1/group", nil))), ","); got != "alices" {
		t.Fatalf("alice sees %s", got)
	}

	// Filters, as root.
	for _, c := range []struct{ query, want string }{
		{"name=TEAM", "team"},
		{"name=the%20team", "team"},
		{"name=%25", ""},
		{"reference=T-1", "team"},
		{"type=custom-x", "plugin"},
		{"type=system,custom-x", ":all,:non_system,plugin"},
		{fmt.Sprintf("member=%d", bobID), ":all,:non_system,team"},
		{"limit=2&offset=1", ":non_system,team"},
		{"offset=100", ""},
	} {
		resp := root.Do(t, "GET", "/api/v1/group?"+c.query, nil)
		if got := strings.Join(names(groups(t, resp)), ","); got != c.want {
			t.Errorf("?%s: got %q want %q", c.query, got, c.want)
		}
	}
	r = root.Do(t, "GET", "/api/v1/group?limit=2&offset=1", nil)
	if r.Header.Get("X-Total-Count") != "7" {
		t.Fatalf("X-Total-Count with paging: %q", r.Header.Get("X-Total-Count"))
	}
}

// TestDeleteCascades: deleting a group removes its memberships and the ACL
// entries naming it, records an event, and answers {}.
func TestDeleteCascades(t *testing.T) {
	t.Parallel()
	s := MustStartServer(t)
	root := s.Root(t)
	uid := s.MustCreateUser(t, "member", `{"system.group":{}}`)
	gs := groups(t, root.Do(t, "PUT", "/api/v1/group", `[{"group":{"name":"doomed"}},{"group":{"name":"other"}}]`))
	doomed, other := gs[0].Group.ID, gs[1].Group.ID
	s.AddMember(t, doomed, uid)
	groups(t, root.Do(t, "POST", "/api/v1/group", fmt.Sprintf(`[{"group":{"_id":%d,"_version":2},
		"_acl":[{"who":{"group":{"_id":%d}},"rights":{"bag_read":{}}}]}]`, other, doomed)))
	member := s.LoginAs(t, "member")
	if got := strings.Join(names(groups(t, member.Do(t, "GET", "/api/v1/group", nil))), ","); got != "doomed,other" {
		t.Fatalf("member sees %s", got)
	}
	r := root.Do(t, "DELETE", fmt.Sprintf("/api/v1/group/%d", doomed), nil)
	if r.StatusCode != 200 || strings.TrimSpace(string(r.Body)) != "{}" {
		t.Fatalf("DELETE: %d %s", r.StatusCode, r.Body)
	}
	var n int
	s.DB.QueryRow(`SELECT (SELECT count(*) FROM memberships) + (SELECT count(*) FROM group_acl)`).Scan(&n)
	if n != 0 {
		t.Fatalf("memberships or ACL entries left: %d", n)
	}
	if got := names(groups(t, member.Do(t, "GET", "/api/v1/group", nil))); len(got) != 0 {
		t.Fatalf("member still sees %v", got)
	}
	var events []struct {
		Action string          `json:"action"`
		Before json.RawMessage `json:"before"`
		After  json.RawMessage `json:"after"`
	}
	root.Do(t, "GET", fmt.Sprintf("/api/v1/events?type=group&object_id=%d", doomed), nil).JSON(t, &events)
	if len(events) != 2 || events[0].Action != "create" || events[1].Action != "delete" || string(events[1].After) != "null" {
		t.Fatalf("events: %+v", events)
	}
}
