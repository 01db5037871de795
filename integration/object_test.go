package integration

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

type objectOut struct {
	Basetype string `json:"_basetype"`
	Object   struct {
		ID         int64          `json:"_id"`
		Version    int64          `json:"_version"`
		Kind       string         `json:"kind"`
		Name       string         `json:"name"`
		Reference  *string        `json:"reference"`
		Attributes map[string]any `json:"attributes"`
	} `json:"object"`
	Group *struct {
		ID int64 `json:"_id"`
	} `json:"_group"`
}

func objects(tb testing.TB, r *Response) []objectOut {
	tb.Helper()
	if r.StatusCode != 200 {
		tb.Fatalf("want 200, got %d %s", r.StatusCode, r.Body)
	}
	var out []objectOut
	r.JSON(tb, &out)
	return out
}

func objectIDs(os []objectOut) []int64 {
	var ids []int64
	for _, o := range os {
		ids = append(ids, o.Object.ID)
	}
	return ids
}

func mustGroup(tb testing.TB, c *Client, name string, acl string) int64 {
	tb.Helper()
	if acl == "" {
		acl = "[]"
	}
	g := groups(tb, c.Do(tb, "PUT", "/api/v1/group", `[{"group":{"name":"`+name+`"},"_acl":`+acl+`}]`))
	return g[0].Group.ID
}

// TestObjectAPI: create, read, list with filters and X-Total-Count, update
// with versions, move in and out through the item's _group, delete, and the
// typed errors, over real HTTP against the OpenAPI document.
func TestObjectAPI(t *testing.T) {
	t.Parallel()
	s := MustStartServer(t)
	root := s.Root(t)
	g := mustGroup(t, root, "projects", "")

	created := objects(t, root.Do(t, "PUT", "/api/v1/object", fmt.Sprintf(`[
		{"object":{"kind":"noko.project","name":"Website","reference":"p-1","attributes":{"color":"#ff9900"}},"_group":{"_id":%d}},
		{"_basetype":"object","object":{"_version":1,"kind":"noko.project","name":"Intranet"}},
		{"object":{"kind":"navixy.tracker","name":"Truck 7","reference":"p-1"},"_group":null}]`, g)))
	if len(created) != 3 || created[0].Group == nil || created[0].Group.ID != g || created[0].Object.Version != 1 ||
		created[0].Object.Attributes["color"] != "#ff9900" || created[1].Group != nil || created[1].Basetype != "object" ||
		created[1].Object.Attributes == nil || created[2].Object.Kind != "navixy.tracker" {
		t.Fatalf("PUT: %+v", created)
	}
	web, intranet, truck := created[0].Object.ID, created[1].Object.ID, created[2].Object.ID

	r := root.Do(t, "GET", fmt.Sprintf("/api/v1/object/%d", web), nil)
	if got := objects(t, r); len(got) != 1 || got[0].Object.Name != "Website" || *got[0].Object.Reference != "p-1" {
		t.Fatalf("GET one: %s", r.Body)
	}
	r = root.Do(t, "GET", "/api/v1/object?kind=noko.project&limit=1", nil)
	if got := objects(t, r); len(got) != 1 || got[0].Object.ID != web || r.Header.Get("X-Total-Count") != "2" {
		t.Fatalf("GET kind, limit: %s %v", r.Body, r.Header)
	}
	r = root.Do(t, "GET", "/api/v1/object?kind=noko.project&offset=1", nil)
	if got := objects(t, r); !slices.Equal(objectIDs(got), []int64{intranet}) || r.Header.Get("X-Total-Count") != "2" {
		t.Fatalf("GET offset: %s", r.Body)
	}
	r = root.Do(t, "GET", "/api/v1/object?name=TRUCK", nil)
	if got := objects(t, r); !slices.Equal(objectIDs(got), []int64{truck}) {
		t.Fatalf("GET name: %s", r.Body)
	}
	r = root.Do(t, "GET", fmt.Sprintf("/api/v1/object?group=%d", g), nil)
	if got := objects(t, r); !slices.Equal(objectIDs(got), []int64{web}) || r.Header.Get("X-Total-Count") != "1" {
		t.Fatalf("GET group: %s", r.Body)
	}
	r = root.Do(t, "GET", "/api/v1/object?group=0", nil)
	if got := objects(t, r); !slices.Equal(objectIDs(got), []int64{intranet, truck}) {
		t.Fatalf("GET group=0: %s", r.Body)
	}
	r = root.Do(t, "GET", fmt.Sprintf("/api/v1/group/%d/objects", g), nil)
	if got := objects(t, r); !slices.Equal(objectIDs(got), []int64{web}) {
		t.Fatalf("GET group objects: %s", r.Body)
	}

	// POST: update (version + 1), move with _group; an item without _id creates
	r = root.Do(t, "POST", "/api/v1/object", fmt.Sprintf(`[
		{"object":{"_id":%d,"_version":2,"name":"Website relaunch"},"_group":null},
		{"object":{"_id":%d,"_version":2},"_group":{"_id":%d}},
		{"object":{"kind":"noko.project","name":"Helpdesk"}}]`, web, intranet, g))
	got := objects(t, r)
	if got[0].Object.Name != "Website relaunch" || got[0].Group != nil || got[0].Object.Version != 2 ||
		got[0].Object.Attributes["color"] != "#ff9900" || got[1].Group == nil || got[1].Group.ID != g ||
		got[2].Object.ID == 0 {
		t.Fatalf("POST: %s", r.Body)
	}

	// errors
	e := MustError(t, root.Do(t, "POST", "/api/v1/object", fmt.Sprintf(`[{"object":{"_id":%d,"_version":2,"name":"x"}}]`, web)),
		400, "error.user.version_mismatch")
	if e.Parameters["expected"] != "3" || e.Parameters["index"] != "0" {
		t.Fatalf("version mismatch: %+v", e)
	}
	e = MustError(t, root.Do(t, "PUT", "/api/v1/object", `[{"object":{"kind":"noko.project","name":"A"}},
		{"object":{"kind":"noko.project","name":"B","reference":"p-1"}}]`), 400, "error.user.integrity_constraint_violation")
	if e.Parameters["constraint"] != "object.reference" || e.Parameters["index"] != "1" {
		t.Fatalf("reference: %+v", e)
	}
	MustError(t, root.Do(t, "PUT", "/api/v1/object", fmt.Sprintf(`[{"object":{"_id":%d,"kind":"a.b","name":"A"}}]`, web)),
		400, "error.api.attribute_not_accepted")
	MustError(t, root.Do(t, "PUT", "/api/v1/object", `[{"object":{"name":"A"}}]`), 400, "error.api.attribute_expected")
	MustError(t, root.Do(t, "PUT", "/api/v1/object", `[{"object":{"kind":"Project","name":"A"}}]`), 400, "error.api.invalid_value")
	MustError(t, root.Do(t, "PUT", "/api/v1/object", `[{"object":{"kind":"a.b","name":"A","attributes":[1]}}]`), 400, "error.api.type_mismatch")
	MustError(t, root.Do(t, "PUT", "/api/v1/object", `[{"object":{"kind":"a.b","name":"A"},"_group":{"_id":999999}}]`), 400, "error.user.group_not_found")
	MustError(t, root.Do(t, "PUT", "/api/v1/object", `[{"object":{"kind":"a.b","name":"A"},"_group":{"_id":1}}]`), 400, "error.user.insufficient_rights")
	e = MustError(t, root.Do(t, "POST", "/api/v1/object", `[{"object":{"_id":999999,"_version":2}}]`), 400, "error.user.object_not_found")
	if e.Parameters["ids"] != "999999" {
		t.Fatalf("object not found: %+v", e)
	}
	MustError(t, root.Do(t, "GET", "/api/v1/object/999999", nil), 400, "error.user.object_not_found")
	MustError(t, root.Do(t, "GET", "/api/v1/object?kind=nokoproject", nil), 400, "error.api.invalid_value")
	MustError(t, root.Do(t, "GET", "/api/v1/object?group=-1", nil), 400, "error.api.invalid_value")
	if n := objects(t, root.Do(t, "GET", "/api/v1/object", nil)); len(n) != 4 {
		t.Fatalf("refused requests wrote: %d objects", len(n))
	}

	r = root.Do(t, "DELETE", fmt.Sprintf("/api/v1/object/%d", truck), nil)
	if r.StatusCode != 200 || strings.TrimSpace(string(r.Body)) != "{}" {
		t.Fatalf("DELETE: %d %s", r.StatusCode, r.Body)
	}
	MustError(t, root.Do(t, "DELETE", fmt.Sprintf("/api/v1/object/%d", truck), nil), 400, "error.user.object_not_found")

	// the audit trail has the objects' creates, updates, moves and delete
	var events []struct {
		Action   string `json:"action"`
		ObjectID int64  `json:"object_id"`
	}
	root.Do(t, "GET", "/api/v1/events?type=object", nil).JSON(t, &events)
	var actions []string
	for _, ev := range events {
		actions = append(actions, ev.Action)
	}
	if want := "create,create,create,update,update,create,delete"; strings.Join(actions, ",") != want {
		t.Fatalf("object events %v, want %s", actions, want)
	}
}

// TestObjectRights: system.object's parameters; link and unlink on the
// groups for moves; visibility through the group's bag_read; a group's
// delete ungrouping its objects.
func TestObjectRights(t *testing.T) {
	t.Parallel()
	s := MustStartServer(t)
	root := s.Root(t)
	clerkID := s.MustCreateUser(t, "clerk", `{"system.group":{}}`)
	clerk := s.LoginAs(t, "clerk")
	s.MustCreateUser(t, "maker", `{"system.object":{"create":true,"edit":true}}`)
	maker := s.LoginAs(t, "maker")
	in := mustGroup(t, root, "in", fmt.Sprintf(`[{"who":{"user":{"_id":%d}},"rights":{"link":{},"bag_read":{}}}]`, clerkID))
	out := mustGroup(t, root, "out", fmt.Sprintf(`[{"who":{"user":{"_id":%d}},"rights":{"unlink":{},"bag_read":{}}}]`, clerkID))
	hidden := mustGroup(t, root, "hidden", "")
	os := objects(t, root.Do(t, "PUT", "/api/v1/object", fmt.Sprintf(`[
		{"object":{"kind":"x.y","name":"one"},"_group":{"_id":%d}},
		{"object":{"kind":"x.y","name":"two"},"_group":{"_id":%d}},
		{"object":{"kind":"x.y","name":"three"},"_group":{"_id":%d}},
		{"object":{"kind":"x.y","name":"loose"}}]`, out, out, hidden)))
	one, two, three, loose := os[0].Object.ID, os[1].Object.ID, os[2].Object.ID, os[3].Object.ID

	// visibility: the objects of the groups clerk may read
	r := clerk.Do(t, "GET", "/api/v1/object", nil)
	if got := objects(t, r); !slices.Equal(objectIDs(got), []int64{one, two}) || r.Header.Get("X-Total-Count") != "2" {
		t.Fatalf("clerk sees %s", r.Body)
	}
	MustError(t, clerk.Do(t, "GET", fmt.Sprintf("/api/v1/object/%d", three), nil), 400, "error.user.object_not_found")
	if got := objects(t, clerk.Do(t, "GET", fmt.Sprintf("/api/v1/group/%d/objects", hidden), nil)); len(got) != 0 {
		t.Fatalf("clerk sees a hidden group's objects: %+v", got)
	}

	// creating and changing needs system.object
	e := MustError(t, clerk.Do(t, "PUT", "/api/v1/object", `[{"object":{"kind":"x.y","name":"n"}}]`), 400, "error.user.no_system_right")
	if e.Parameters["right"] != "system.object" || e.Parameters["extra_info"] != "create" {
		t.Fatalf("create: %+v", e)
	}
	MustError(t, clerk.Do(t, "POST", "/api/v1/object", fmt.Sprintf(`[{"object":{"_id":%d,"_version":2,"name":"n"}}]`, one)),
		400, "error.user.no_system_right")
	MustError(t, maker.Do(t, "DELETE", fmt.Sprintf("/api/v1/object/%d", loose), nil), 400, "error.user.object_not_found")

	// moving out -> in: unlink on out, link on in, and no system right
	r = clerk.Do(t, "POST", fmt.Sprintf("/api/v1/group/%d/objects", in), fmt.Sprintf(`{"add":[%d]}`, one))
	var res struct{ Moved, Skipped []int64 }
	r.JSON(t, &res)
	if r.StatusCode != 200 || !slices.Equal(res.Moved, []int64{one}) || len(res.Skipped) != 0 {
		t.Fatalf("add: %d %s", r.StatusCode, r.Body)
	}
	// and not back: unlink on in is missing
	e = MustError(t, clerk.Do(t, "POST", "/api/v1/object", fmt.Sprintf(`[{"object":{"_id":%d,"_version":3},"_group":{"_id":%d}}]`, one, out)),
		400, "error.user.insufficient_rights")
	if e.Parameters["right"] != "unlink" || e.Parameters["ids"] != fmt.Sprint(in) {
		t.Fatalf("move back: %+v", e)
	}
	// invisible and unknown ids are named together; nothing moves
	e = MustError(t, clerk.Do(t, "POST", fmt.Sprintf("/api/v1/group/%d/objects", in), fmt.Sprintf(`{"add":[%d,%d,%d,999999]}`, two, three, loose)),
		400, "error.user.object_not_found")
	if e.Parameters["ids"] != fmt.Sprintf("%d,%d,999999", three, loose) {
		t.Fatalf("not found ids: %+v", e)
	}
	// remove: only what is in the group; others skipped
	r = clerk.Do(t, "POST", fmt.Sprintf("/api/v1/group/%d/objects", out), fmt.Sprintf(`{"remove":[%d,%d]}`, one, two))
	r.JSON(t, &res)
	if r.StatusCode != 200 || !slices.Equal(res.Moved, []int64{two}) || !slices.Equal(res.Skipped, []int64{one}) {
		t.Fatalf("remove: %d %s", r.StatusCode, r.Body)
	}
	MustError(t, clerk.Do(t, "POST", fmt.Sprintf("/api/v1/group/%d/objects", in), `{"remove_all":true}`), 400, "error.user.insufficient_rights")
	MustError(t, clerk.Do(t, "POST", fmt.Sprintf("/api/v1/group/%d/objects", in), `{"add":[1],"remove":[2]}`), 400, "error.api.invalid_value")
	MustError(t, clerk.Do(t, "POST", "/api/v1/group/999999/objects", fmt.Sprintf(`{"add":[%d]}`, two)), 400, "error.user.group_not_found")

	// deleting a group ungroups its objects in the same transaction
	if r := root.Do(t, "DELETE", fmt.Sprintf("/api/v1/group/%d", hidden), nil); r.StatusCode != 200 {
		t.Fatalf("delete group: %d %s", r.StatusCode, r.Body)
	}
	got := objects(t, root.Do(t, "GET", fmt.Sprintf("/api/v1/object/%d", three), nil))
	if got[0].Group != nil || got[0].Object.Version != 2 {
		t.Fatalf("after the group's delete: %+v", got[0])
	}
	var events []struct {
		Action string         `json:"action"`
		After  map[string]any `json:"after"`
	}
	root.Do(t, "GET", fmt.Sprintf("/api/v1/events?type=object&object_id=%d", three), nil).JSON(t, &events)
	if len(events) != 2 || events[1].Action != "move" || events[1].After["_group"] != nil {
		t.Fatalf("events of the ungrouped object: %+v", events)
	}
}
