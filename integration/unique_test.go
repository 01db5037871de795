package integration

import (
	"fmt"
	"testing"
)

// TestUniqueSwapInOneRequest: two items of one request may swap their
// unique values (group names and references, user logins): each value is
// held once when the request is done, though twice halfway through the
// UPDATE that writes both rows.
func TestUniqueSwapInOneRequest(t *testing.T) {
	t.Parallel()
	s := MustStartServer(t)
	root := s.Root(t)
	gs := groups(t, root.Do(t, "PUT", "/api/v1/group",
		`[{"group":{"name":"swap-a","reference":"ref-a"}},{"group":{"name":"swap-b","reference":"ref-b"}}]`))
	a, b := gs[0].Group, gs[1].Group
	swapped := groups(t, root.Do(t, "POST", "/api/v1/group", fmt.Sprintf(
		`[{"group":{"_id":%d,"_version":2,"name":"swap-b","reference":"ref-b"}},
		  {"group":{"_id":%d,"_version":2,"name":"swap-a","reference":"ref-a"}}]`, a.ID, b.ID)))
	if *swapped[0].Group.Name != "swap-b" || *swapped[1].Group.Name != "swap-a" ||
		*swapped[0].Group.Reference != "ref-b" || *swapped[1].Group.Reference != "ref-a" {
		t.Fatalf("answer: %+v %+v", swapped[0].Group, swapped[1].Group)
	}
	got := groups(t, root.Do(t, "GET", fmt.Sprintf("/api/v1/group/%d", a.ID), nil))[0]
	if *got.Group.Name != "swap-b" || got.Group.Version != 2 {
		t.Fatalf("stored: %+v", got.Group)
	}

	us := users(t, root.Do(t, "PUT", "/api/v1/user", `[{"user":{"login":"swap-1"}},{"user":{"login":"swap-2"}}]`))
	u1, u2 := us[0].id(), us[1].id()
	swappedUsers := users(t, root.Do(t, "POST", "/api/v1/user", fmt.Sprintf(
		`[{"user":{"_id":%d,"_version":2,"login":"swap-2"}},{"user":{"_id":%d,"_version":2,"login":"swap-1"}}]`, u1, u2)))
	if l := logins(swappedUsers); l != "swap-2,swap-1" {
		t.Fatalf("answer: %s", l)
	}

	// A value that another item keeps is still refused, naming the item
	// that takes it.
	r := root.Do(t, "POST", "/api/v1/group", fmt.Sprintf(
		`[{"group":{"_id":%d,"_version":3,"comment":"keeps swap-b"}},{"group":{"_id":%d,"_version":3,"name":"swap-b"}}]`,
		a.ID, b.ID))
	e := MustError(t, r, 400, "error.user.integrity_constraint_violation")
	if e.Parameters["index"] != "1" || e.Parameters["constraint"] != "group.name" {
		t.Fatalf("parameters %v", e.Parameters)
	}
}

// TestUniqueConflictOfRaceLoserNamesItem: a request that checked a value
// free and then lost it to a concurrent write (which committed while the
// request waited on the value) gets the same error as one that found it
// taken: error.user.integrity_constraint_violation with the item's index.
// The concurrent write is held open by the test, so the request surely
// passes its own check first and meets the value only in the database.
func TestUniqueConflictOfRaceLoserNamesItem(t *testing.T) {
	t.Parallel()
	s := MustStartServer(t)
	root := s.Root(t)
	cases := []struct {
		name, held, path, body, constraint string
	}{
		{"group name", `INSERT INTO groups (type, name, owner_user_id) VALUES ('easydb', 'raced', 1)`,
			"/api/v1/group", `[{"group":{"name":"calm-1"}},{"group":{"name":"calm-2"}},{"group":{"name":"raced"}}]`,
			"group.name"},
		{"user login", `INSERT INTO users (login, owner_user_id) VALUES ('raced', 1)`,
			"/api/v1/user", `[{"user":{"login":"calm-3"}},{"user":{"login":"calm-4"}},{"user":{"login":"raced"}}]`,
			"user.login"},
	}
	for _, c := range cases {
		held := s.holdWrite(t, c.held)
		r, waited := s.interleave(t, held, func() *Response { return root.Do(t, "PUT", c.path, c.body) })
		if !waited {
			t.Fatalf("%s: the request did not wait for the concurrent write (status %d)", c.name, r.StatusCode)
		}
		e := MustError(t, r, 400, "error.user.integrity_constraint_violation")
		if e.Parameters["index"] != "2" || e.Parameters["constraint"] != c.constraint {
			t.Fatalf("%s: parameters %v", c.name, e.Parameters)
		}
	}
	// The losers wrote nothing.
	var n int
	if err := s.DB.QueryRow(`SELECT (SELECT count(*) FROM groups WHERE name LIKE 'calm-%')
		+ (SELECT count(*) FROM users WHERE login LIKE 'calm-%')`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("%d rows of the failed requests", n)
	}
}
