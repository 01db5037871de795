package integration

// Noko's create with members is one core transaction (issue 17): POST
// /teams with user_ids and POST /project_groups with project_ids write the
// group and its members together, or nothing. The audit trail is the
// witness: a refused request leaves no event at all, a successful one the
// group's create and the members' events, all with the transaction's time.

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"
)

type txEvent struct {
	ID       int64           `json:"_id"`
	At       string          `json:"timestamp"`
	Type     string          `json:"type"`
	ObjectID int64           `json:"object_id"`
	Action   string          `json:"action"`
	Before   json.RawMessage `json:"before"`
	After    json.RawMessage `json:"after"`
}

// lastEventID is the id of the newest event of the trail (0: none).
func lastEventID(tb testing.TB, root *Client) int64 {
	tb.Helper()
	r := root.Do(tb, "GET", "/api/v1/events?order=newest&limit=1", nil)
	if r.StatusCode != 200 {
		tb.Fatalf("GET /api/v1/events: %d %s", r.StatusCode, r.Body)
	}
	var evs []txEvent
	r.JSON(tb, &evs)
	if len(evs) == 0 {
		return 0
	}
	return evs[0].ID
}

// eventsSince are the events after event id since, in feed order.
func eventsSince(tb testing.TB, root *Client, since int64) []txEvent {
	tb.Helper()
	r := root.Do(tb, "GET", fmt.Sprintf("/api/v1/events?since=%d", since), nil)
	if r.StatusCode != 200 {
		tb.Fatalf("GET /api/v1/events?since=%d: %d %s", since, r.StatusCode, r.Body)
	}
	evs := []txEvent{}
	r.JSON(tb, &evs)
	return evs
}

// mustOneTransaction asserts that evs are exactly the group's create event
// followed by want (type/action/object_id per event, in order), all at one
// timestamp: PostgreSQL's now(), the transaction's start, is the same for
// every statement of one transaction.
func mustOneTransaction(tb testing.TB, evs []txEvent, groupID int64, want []txEvent) {
	tb.Helper()
	want = append([]txEvent{{Type: "group", Action: "create", ObjectID: groupID}}, want...)
	if len(evs) != len(want) {
		tb.Fatalf("want %d events, got %+v", len(want), evs)
	}
	for i, e := range evs {
		w := want[i]
		if e.Type != w.Type || e.Action != w.Action || e.ObjectID != w.ObjectID {
			tb.Fatalf("event %d: want %s %s %d, got %+v", i, w.Type, w.Action, w.ObjectID, evs)
		}
		if e.At != evs[0].At {
			tb.Fatalf("events of one request at different times (two transactions): %+v", evs)
		}
	}
}

// TestNokoCreateWithMembersOneTransaction: a create whose member step is
// refused writes nothing, neither group nor event; one that succeeds shows
// the create and the member events of one transaction.
func TestNokoCreateWithMembersOneTransaction(t *testing.T) {
	t.Parallel()
	s := MustStartServer(t)
	root := s.Root(t)
	n := noko{s, root.Token}
	u1 := s.MustCreateUser(t, "tx-u1@example.com", "")
	u2 := s.MustCreateUser(t, "tx-u2@example.com", "")
	// A creator of groups that reads loose projects: it may create teams
	// and project groups, but holds no link on them (an owner has bag_*).
	s.MustCreateUser(t, "tx-creator", `{"system.group":{"create":true},"system.object":{"read_all":true}}`)
	c := noko{s, s.LoginAs(t, "tx-creator").Token}
	var p [3]int64
	for i := range p {
		r := n.do(t, "POST", "/projects", map[string]any{"name": fmt.Sprintf("TxP%d", i)})
		mustNoko(t, r, 201)
		var pr nokoProject
		r.JSON(t, &pr)
		p[i] = pr.ID
	}
	r := n.do(t, "POST", "/project_groups", map[string]any{"name": "TxOld", "project_ids": []int64{p[0]}})
	mustNoko(t, r, 201)
	var old nokoProjectGroup
	r.JSON(t, &old)

	// Refused member steps: no link on the new team or project group (403),
	// an unknown project (422). Each leaves no group and no event.
	mark := lastEventID(t, root)
	refused := []struct {
		client noko
		path   string
		body   map[string]any
		status int
	}{
		{c, "/teams", map[string]any{"name": "TxRefused", "user_ids": []int64{u1, u2}}, 403},
		{c, "/project_groups", map[string]any{"name": "TxRefused", "project_ids": []int64{p[1]}}, 403},
		{n, "/project_groups", map[string]any{"name": "TxRefused", "project_ids": []int64{p[0], p[1], 999999}}, 422},
		{c, "/groups", map[string]any{"name": "TxRefused", "projects": []int64{p[2]}}, 403},
	}
	for _, rq := range refused {
		mustNoko(t, rq.client.do(t, "POST", rq.path, rq.body), rq.status)
		if evs := eventsSince(t, root, mark); len(evs) != 0 {
			t.Fatalf("refused POST %s %v wrote events: %+v", rq.path, rq.body, evs)
		}
	}
	if got := names(groups(t, root.Do(t, "GET", "/api/v1/group?limit=1000", nil))); slices.Contains(got, "TxRefused") {
		t.Fatalf("a refused create left a group: %v", got)
	}
	if n.projectGroupOf(t, p[0]) != old.ID || n.projectGroupOf(t, p[1]) != 0 || n.projectGroupOf(t, p[2]) != 0 {
		t.Fatal("a refused create moved a project")
	}
	// The name is free again: nothing of the refused creates was kept.
	r = c.do(t, "POST", "/teams", map[string]any{"name": "TxRefused"})
	mustNoko(t, r, 201)
	var empty nokoTeam
	r.JSON(t, &empty)
	mustNoko(t, c.do(t, "DELETE", fmt.Sprintf("/teams/%d", empty.ID), nil), 204)

	// A team with two users: its create and two add_member events, one
	// transaction.
	mark = lastEventID(t, root)
	r = n.do(t, "POST", "/teams", map[string]any{"name": "TxTeam", "user_ids": []int64{u1, u2}})
	mustNoko(t, r, 201)
	var team nokoTeam
	r.JSON(t, &team)
	mustOneTransaction(t, eventsSince(t, root, mark), team.ID, []txEvent{
		{Type: "membership", Action: "add_member", ObjectID: team.ID},
		{Type: "membership", Action: "add_member", ObjectID: team.ID}})

	// A project group taking a project from another group and a loose one:
	// its create and two moves, one transaction.
	mark = lastEventID(t, root)
	r = n.do(t, "POST", "/project_groups", map[string]any{"name": "TxProjects", "project_ids": []int64{p[0], p[1]}})
	mustNoko(t, r, 201)
	var pg nokoProjectGroup
	r.JSON(t, &pg)
	evs := eventsSince(t, root, mark)
	mustOneTransaction(t, evs, pg.ID, []txEvent{
		{Type: "object", Action: "move", ObjectID: p[0]},
		{Type: "object", Action: "move", ObjectID: p[1]}})
	var from struct {
		Group *struct {
			ID int64 `json:"_id"`
		} `json:"_group"`
	}
	if err := json.Unmarshal(evs[1].Before, &from); err != nil || from.Group == nil || from.Group.ID != old.ID {
		t.Fatalf("the move of project %d names no old group %d: before %s", p[0], old.ID, evs[1].Before)
	}
	if n.projectGroupOf(t, p[0]) != pg.ID || n.projectGroupOf(t, p[1]) != pg.ID {
		t.Fatal("the created project group does not hold its projects")
	}
}
