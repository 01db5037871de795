package integration

// The explanation endpoint (issue 19): GET /api/v1/group/{id}/explain?user=
// says which rule grants a user each right on a group, over real HTTP, and
// agrees with the rights the server decides for that user.

import (
	"fmt"
	"sort"
	"strings"
	"testing"
)

type explainOut struct {
	Group struct {
		Group struct {
			ID   int64  `json:"_id"`
			Name string `json:"name"`
		} `json:"group"`
	} `json:"group"`
	User struct {
		ID    int64  `json:"_id"`
		Login string `json:"login"`
	} `json:"user"`
	Rights []struct {
		Right   string `json:"right"`
		Granted bool   `json:"granted"`
		Grounds []struct {
			Rule         string         `json:"rule"`
			ACLIndex     *int           `json:"acl_index"`
			Who          map[string]any `json:"who"`
			EntryRights  []string       `json:"entry_rights"`
			ThroughGroup *struct {
				Group struct {
					ID   int64  `json:"_id"`
					Name string `json:"name"`
				} `json:"group"`
			} `json:"through_group"`
		} `json:"grounds"`
	} `json:"rights"`
}

func explain(t *testing.T, c *Client, groupID, userID int64) explainOut {
	t.Helper()
	r := c.Do(t, "GET", fmt.Sprintf("/api/v1/group/%d/explain?user=%d", groupID, userID), nil)
	if r.StatusCode != 200 {
		t.Fatalf("explain group %d user %d: %d %s", groupID, userID, r.StatusCode, r.Body)
	}
	var out explainOut
	r.JSON(t, &out)
	if out.Group.Group.ID != groupID || out.User.ID != userID || len(out.Rights) != 8 {
		t.Fatalf("explain group %d user %d: %s", groupID, userID, r.Body)
	}
	return out
}

// granted is the explanation's granted rights, sorted, joined by commas;
// it checks on the way that a right is granted exactly when it has grounds.
func (e explainOut) granted(t *testing.T) string {
	t.Helper()
	var out []string
	for _, r := range e.Rights {
		if r.Granted != (len(r.Grounds) > 0) {
			t.Fatalf("%s: granted %v with %d grounds", r.Right, r.Granted, len(r.Grounds))
		}
		if r.Granted {
			out = append(out, r.Right)
		}
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}

// rules is the rules of right's grounds, as "rule" or "acl:<index>@<through group>".
func (e explainOut) rules(right string) string {
	var out []string
	for _, r := range e.Rights {
		if r.Right != right {
			continue
		}
		for _, g := range r.Grounds {
			s := g.Rule
			if g.ACLIndex != nil {
				s += fmt.Sprintf(":%d", *g.ACLIndex)
			}
			if g.ThroughGroup != nil {
				s += "@" + g.ThroughGroup.Group.Name
			}
			out = append(out, s)
		}
	}
	return strings.Join(out, ",")
}

// seenRights is what the user itself is told of its rights on the group
// (_generated_rights of GET /api/v1/group/{id}), or "" when it may not read
// the group.
func seenRights(t *testing.T, c *Client, groupID int64) string {
	t.Helper()
	r := c.Do(t, "GET", fmt.Sprintf("/api/v1/group/%d", groupID), nil)
	if r.StatusCode == 400 {
		MustError(t, r, 400, "error.user.insufficient_rights")
		return ""
	}
	gs := groups(t, r)
	if len(gs) != 1 {
		t.Fatalf("GET group %d: %s", groupID, r.Body)
	}
	return gs[0].rights()
}

// TestExplainEndpoint: for a user in several situations (nothing, an ACL
// entry through a group it joins, ownership through a group, membership of
// an easydb group, an entry naming the user, :all, an inactive entry) the
// explanation names the granting rule, and its granted rights are exactly
// the _generated_rights the user is shown on the same group by the server:
// the explanation agrees with the policy engine's decisions. Refusals are
// typed errors.
func TestExplainEndpoint(t *testing.T) {
	t.Parallel()
	s := MustStartServer(t)
	root := s.Root(t)
	carolID := s.MustCreateUser(t, "carol", `{"system.group":{}}`)
	carol := s.LoginAs(t, "carol")
	daveID := s.MustCreateUser(t, "dave", `{"system.group":{}}`)
	g := mkGroups(t, root, `[{"group":{"name":"team"}},{"group":{"name":"admins"}}]`)
	team, admins := g["team"], g["admins"]
	g = mkGroups(t, root, fmt.Sprintf(`[
		{"group":{"name":"doc"},"_acl":[
			{"who":{"group":{"_id":%d}},"rights":{"bag_write":{},"link":{}}},
			{"who":{"group":{"_id":%d}},"rights":{"bag_read":{}},"active":false}]},
		{"group":{"name":"owned"}},
		{"group":{"name":"direct"},"_acl":[{"who":{"user":{"_id":%d}},"rights":{"unlink":{}}}]},
		{"group":{"name":"public"},"_acl":[{"who":{"group":{"_id":1}},"rights":{"bag_read":{}}}]},
		{"group":{"name":"closed"}}]`, team, admins, carolID))
	doc, owned, direct, public, closed := g["doc"], g["owned"], g["direct"], g["public"], g["closed"]
	groups(t, root.Do(t, "POST", "/api/v1/group", fmt.Sprintf(
		`[{"group":{"_id":%d,"_version":2},"_owner":{"_basetype":"group","group":{"_id":%d}}}]`, owned, admins)))

	check := func(what string, group int64, wantGranted string) explainOut {
		t.Helper()
		e := explain(t, root, group, carolID)
		if got := e.granted(t); got != wantGranted {
			t.Fatalf("%s: explained %q, want %q", what, got, wantGranted)
		}
		// Without bag_read carol is refused the group, and shown nothing.
		shown := wantGranted
		if !strings.Contains(","+wantGranted+",", ",bag_read,") {
			shown = ""
		}
		if seen := seenRights(t, carol, group); seen != shown {
			t.Fatalf("%s: carol is shown _generated_rights %q, the explanation says %q", what, seen, wantGranted)
		}
		return e
	}

	// Nothing grants carol anything on doc, owned or closed yet.
	for _, id := range []int64{doc, owned, closed} {
		check("before joining", id, "")
	}
	e := check("an entry naming carol", direct, "unlink")
	if got := e.rules("unlink"); got != "acl:0" {
		t.Fatalf("direct: unlink grounds %q", got)
	}
	e = check(":all", public, "bag_read")
	if got := e.rules("bag_read"); got != "acl:0@:all" {
		t.Fatalf("public: bag_read grounds %q", got)
	}

	// Joining team: the first entry of doc's ACL grants, through team; the
	// inactive second entry (admins) grants nothing.
	members(t, root, team, fmt.Sprintf(`{"add":[%d]}`, carolID))
	e = check("member of team", doc, "bag_read,bag_write,link")
	for _, right := range []string{"bag_read", "bag_write", "link"} {
		if got := e.rules(right); got != "acl:0@team" {
			t.Fatalf("doc: %s grounds %q, want acl:0@team", right, got)
		}
	}
	// team is an easydb group: its members read it.
	e = check("team itself", team, "bag_read")
	if got := e.rules("bag_read"); got != "member" {
		t.Fatalf("team: bag_read grounds %q", got)
	}

	// Joining admins: ownership of owned through admins; doc's inactive
	// entry still grants nothing.
	members(t, root, admins, fmt.Sprintf(`{"add":[%d]}`, carolID))
	e = check("member of admins", owned, "bag_delete,bag_read,bag_write")
	if got := e.rules("bag_delete"); got != "owner@admins" {
		t.Fatalf("owned: bag_delete grounds %q", got)
	}
	e = check("doc, member of admins too", doc, "bag_read,bag_write,link")
	if got := e.rules("bag_read"); got != "acl:0@team" {
		t.Fatalf("doc: inactive entry counted: %q", got)
	}

	// Root: system.root grants everything.
	e = explain(t, root, closed, 1)
	if got := e.granted(t); got != "bag_delete,bag_read,bag_write,delete,link,read,unlink,write" {
		t.Fatalf("root: %q", got)
	}
	if got := e.rules("link"); got != "system.root" {
		t.Fatalf("root: link grounds %q", got)
	}

	// Carol may explain herself on a group she reads, not others, and not
	// on a group she cannot read.
	if got := explain(t, carol, doc, carolID).granted(t); got != "bag_read,bag_write,link" {
		t.Fatalf("carol about herself: %q", got)
	}
	MustError(t, carol.Do(t, "GET", fmt.Sprintf("/api/v1/group/%d/explain?user=%d", doc, daveID), nil), 400,
		"error.user.no_system_right")
	MustError(t, carol.Do(t, "GET", fmt.Sprintf("/api/v1/group/%d/explain?user=%d", closed, carolID), nil), 400,
		"error.user.insufficient_rights")
	for _, q := range []string{"", "?user=", "?user=0", "?user=x", "?user=-1"} {
		MustError(t, root.Do(t, "GET", fmt.Sprintf("/api/v1/group/%d/explain%s", doc, q), nil), 400,
			"error.api.invalid_value")
	}
	MustError(t, root.Do(t, "GET", fmt.Sprintf("/api/v1/group/999999/explain?user=%d", carolID), nil), 400,
		"error.user.group_not_found")
	MustError(t, root.Do(t, "GET", fmt.Sprintf("/api/v1/group/%d/explain?user=999999", doc), nil), 400,
		"error.user.user_not_found")
	s.MustCreateUser(t, "erin", `{}`)
	MustError(t, s.LoginAs(t, "erin").Do(t, "GET", fmt.Sprintf("/api/v1/group/%d/explain?user=%d", doc, carolID), nil), 400,
		"error.user.no_system_right")
}
