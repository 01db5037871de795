package object

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand"
	"slices"
	"testing"
	"time"

	"github.com/groupd/groupd/db"
	"github.com/groupd/groupd/db/dbtest"
	"github.com/groupd/groupd/errors"
	"github.com/groupd/groupd/group"
	"github.com/groupd/groupd/group/grouptest"
	"github.com/groupd/groupd/policy"
	"github.com/groupd/groupd/rights"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

type fixture struct {
	d      *db.DB
	engine *policy.Engine
	groups *group.Store
	store  *Store
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	d := dbtest.MustOpenDB(t)
	engine, err := policy.New()
	if err != nil {
		t.Fatal(err)
	}
	groups, err := group.NewStore(context.Background(), d, engine, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { groups.Close() })
	store := NewStore(d, engine, groups)
	groups.OnDelete(store.Ungroup)
	return &fixture{d: d, engine: engine, groups: groups, store: store}
}

var root = &policy.Principal{UserID: 1, UserType: "system", SystemGroups: []int64{policy.GroupAll},
	SystemRights: rights.Map{rights.SystemRoot: rights.Params{}}}

func (f *fixture) exec(t *testing.T, q string, args ...any) {
	t.Helper()
	if _, err := f.d.Exec(q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// TestSQLMatchesPolicy is the property test of the package comment: on
// random worlds of users, groups, ACLs, system rights and objects (in a
// group or in none), the objects the SQL listing shows a principal, and
// those Get finds, are exactly those for which Casbin allows read
// (model.conf m4).
func TestSQLMatchesPolicy(t *testing.T) {
	f := newFixture(t)
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	f.d.Now = func() time.Time { return now }
	f.engine.SetClock(func() time.Time { return now })
	ctx := context.Background()

	seed := time.Now().UnixNano()
	r := rand.New(rand.NewSource(seed))
	worlds, checks := 150, 0
	if testing.Short() {
		worlds = 30
	}
	for i := 0; i < worlds; i++ {
		tx, err := f.d.Begin()
		if err != nil {
			t.Fatal(err)
		}
		if _, err = tx.Exec(`DELETE FROM objects`); err != nil {
			t.Fatal(err)
		}
		w := grouptest.BuildWorld(t, tx, r, now)
		places := append([]int64{0, 0, policy.GroupAll}, w.Groups...)
		var objects []int64
		for j := 0; j < 1+r.Intn(12); j++ {
			id := int64(5000 + j)
			var grp any
			if g := places[r.Intn(len(places))]; g != 0 {
				grp = g
			}
			if _, err = tx.Exec(`INSERT INTO objects (id, kind, name, group_id) VALUES ($1, 'test.thing', $2, $3)`,
				id, fmt.Sprint("o", id), grp); err != nil {
				t.Fatal(err)
			}
			objects = append(objects, id)
		}
		if err = tx.Commit(); err != nil {
			t.Fatal(err)
		}
		// The policy objects of every group an object may be in.
		rtx, err := f.d.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		groupObjects, err := f.groups.PolicyObjects(ctx, rtx, places)
		rtx.Rollback()
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range w.Users {
			p := w.Principal(u)
			listed, total, err := f.store.List(ctx, p, Filter{})
			if err != nil {
				t.Fatal(err)
			}
			var got []int64
			for _, o := range listed {
				got = append(got, o.ID)
			}
			var want []int64
			for _, id := range objects {
				var grp int64
				if err := f.d.QueryRow(`SELECT COALESCE(group_id, 0) FROM objects WHERE id = $1`, id).Scan(&grp); err != nil {
					t.Fatal(err)
				}
				o := &Object{ID: id, GroupID: grp}
				can, err := f.engine.Can(p, rights.Read, o.PolicyObject(groupObjects[grp]))
				if err != nil {
					t.Fatal(err)
				}
				if can {
					want = append(want, id)
				}
				_, getErr := f.store.Get(ctx, p, id)
				if (getErr == nil) != can {
					t.Fatalf("seed %d world %d user %d object %d (group %d): Get says %v, Casbin allows read: %v",
						seed, i, u, id, grp, getErr, can)
				}
				checks++
			}
			if !slices.Equal(got, want) || total != len(want) {
				t.Fatalf("seed %d world %d user %d (%+v): SQL lists %v (total %d), Casbin allows read on %v",
					seed, i, u, p, got, total, want)
			}
		}
	}
	t.Logf("%d worlds, %d (principal, object) pairs agree", worlds, checks)
}

func ptr[T any](v T) *T { return &v }

// newGroup makes a group owned by root with the given ACL entries (who a
// user id, rights names), straight in the tables.
func (f *fixture) newGroup(t *testing.T, name string, acl map[int64][]string) int64 {
	t.Helper()
	var id int64
	if err := f.d.QueryRow(`INSERT INTO groups (name, owner_user_id) VALUES ($1, 1) RETURNING id`, name).Scan(&id); err != nil {
		t.Fatal(err)
	}
	pos := 0
	for who, names := range acl {
		m := rights.Map{}
		for _, n := range names {
			m[n] = rights.Params{}
		}
		b, _ := m.MarshalJSON()
		f.exec(t, `INSERT INTO group_acl (group_id, position, who_user_id, rights, mask) VALUES ($1, $2, $3, $4, $5)`,
			id, pos, who, string(b), int(rights.MaskOf(names...)))
		pos++
	}
	return id
}

func (f *fixture) newUser(t *testing.T, login string, systemRights rights.Map) *policy.Principal {
	t.Helper()
	b, _ := systemRights.MarshalJSON()
	var id int64
	if err := f.d.QueryRow(`INSERT INTO users (login, system_rights) VALUES ($1, $2) RETURNING id`, login, string(b)).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return &policy.Principal{UserID: id, Login: login, UserType: "easydb", SystemGroups: policy.SystemGroupsFor("easydb"),
		SystemRights: systemRights}
}

func wantCode(t *testing.T, err error, code string, params ...string) *errors.Error {
	t.Helper()
	var e *errors.Error
	if !errors.As(err, &e) || e.Code != code {
		t.Fatalf("want %s, got %v", code, err)
	}
	for i := 0; i+1 < len(params); i += 2 {
		if e.Parameters[params[i]] != params[i+1] {
			t.Fatalf("want %s=%q, got %v", params[i], params[i+1], e)
		}
	}
	return e
}

func (f *fixture) count(t *testing.T, q string, args ...any) int {
	t.Helper()
	var n int
	if err := f.d.QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestWrite: create, update with version checks, references unique per
// kind, immutable kind, and one failing item writing nothing.
func TestWrite(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	g := f.newGroup(t, "projects", nil)
	out, err := f.store.Write(ctx, root, []*Input{
		{Kind: "noko.project", Name: ptr("Alpha"), Reference: ptr("a"), ReferenceSet: true, Group: &g},
		{Kind: "noko.project", Name: ptr("Beta"), Attributes: []byte(`{"color":"red"}`)},
		{Kind: "navixy.tracker", Name: ptr("Truck"), Reference: ptr("a"), ReferenceSet: true},
	})
	if err != nil {
		t.Fatal(err)
	}
	if out[0].GroupID != g || out[0].Version != 1 || out[1].GroupID != 0 || string(out[1].Attributes) != `{"color":"red"}` ||
		string(out[0].Attributes) != `{}` {
		t.Fatalf("created %+v %+v", out[0], out[1])
	}
	a, b := out[0], out[1]
	got, err := f.store.Get(ctx, root, a.ID)
	if err != nil || got.Name != "Alpha" || *got.Reference != "a" || got.GroupID != g {
		t.Fatalf("get %+v %v", got, err)
	}
	// the same reference in the same kind: refused, naming the item
	_, err = f.store.Write(ctx, root, []*Input{{Kind: "noko.project", Name: ptr("C")},
		{Kind: "noko.project", Name: ptr("Gamma"), Reference: ptr("a"), ReferenceSet: true}})
	wantCode(t, err, "error.user.integrity_constraint_violation", "constraint", "object.reference", "index", "1")
	if n := f.count(t, `SELECT count(*) FROM objects`); n != 3 {
		t.Fatalf("a refused write wrote: %d objects", n)
	}
	// version checks
	_, err = f.store.Write(ctx, root, []*Input{{ID: a.ID, Version: 1, Name: ptr("Alpha 2")}})
	wantCode(t, err, "error.user.version_mismatch", "provided", "1", "expected", "2")
	// swapping a reference between two objects of a request is fine
	out, err = f.store.Write(ctx, root, []*Input{{ID: a.ID, Version: 2, Reference: nil, ReferenceSet: true, Group: ptr(int64(0))},
		{ID: b.ID, Version: 2, Reference: ptr("a"), ReferenceSet: true}})
	if err != nil {
		t.Fatal(err)
	}
	if out[0].Reference != nil || out[0].GroupID != 0 || out[1].Name != "Beta" || *out[1].Reference != "a" ||
		!sameJSON(out[1].Attributes, []byte(`{"color":"red"}`)) {
		t.Fatalf("updated %+v %+v", out[0], out[1])
	}
	_, err = f.store.Write(ctx, root, []*Input{{ID: a.ID, Version: 3, Kind: "navixy.tracker"}})
	wantCode(t, err, "error.api.invalid_value", "attribute", "object.kind")
	_, err = f.store.Write(ctx, root, []*Input{{ID: a.ID, Version: 3}, {ID: 999999, Version: 2}, {ID: 999998, Version: 2}})
	wantCode(t, err, "error.user.object_not_found", "ids", "999998,999999", "index", "1")
	_, err = f.store.Write(ctx, root, []*Input{{Kind: "project", Name: ptr("x")}})
	wantCode(t, err, "error.api.invalid_value", "attribute", "object.kind")
	_, err = f.store.Write(ctx, root, []*Input{{Kind: "a.b", Name: ptr("x"), Group: ptr(int64(424242))}})
	wantCode(t, err, "error.user.group_not_found", "id", "424242")
	_, err = f.store.Write(ctx, root, []*Input{{Kind: "a.b", Name: ptr("x"), Attributes: []byte(`[1]`)}})
	wantCode(t, err, "error.api.type_mismatch", "attribute", "object.attributes")
	if n := f.count(t, `SELECT count(*) FROM events WHERE object_type = 'object'`); n != 5 {
		t.Fatalf("%d audit events, want 3 creates and 2 updates", n)
	}
}

// TestRights: system.object's parameters for create, edit and delete;
// link on the target and unlink on the source for moves; invisible objects
// are not found.
func TestRights(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	clerk := f.newUser(t, "clerk", rights.Map{})
	in := f.newGroup(t, "in", map[int64][]string{clerk.UserID: {rights.Link, rights.BagRead}})
	out := f.newGroup(t, "out", map[int64][]string{clerk.UserID: {rights.Unlink, rights.BagRead}})
	hidden := f.newGroup(t, "hidden", nil)
	objs, err := f.store.Write(ctx, root, []*Input{
		{Kind: "x.y", Name: ptr("in out"), Group: &out},
		{Kind: "x.y", Name: ptr("hidden"), Group: &hidden},
		{Kind: "x.y", Name: ptr("loose")},
	})
	if err != nil {
		t.Fatal(err)
	}
	o, h, loose := objs[0], objs[1], objs[2]

	_, err = f.store.Write(ctx, clerk, []*Input{{Kind: "x.y", Name: ptr("new")}})
	wantCode(t, err, "error.user.no_system_right", "right", "system.object", "extra_info", "create")
	_, err = f.store.Write(ctx, clerk, []*Input{{ID: o.ID, Version: 2, Name: ptr("renamed")}})
	wantCode(t, err, "error.user.no_system_right", "right", "system.object", "extra_info", "edit")
	err = f.store.Delete(ctx, clerk, o.ID)
	wantCode(t, err, "error.user.no_system_right", "right", "system.object", "extra_info", "delete")
	// invisible: as if it did not exist
	_, err = f.store.Get(ctx, clerk, h.ID)
	wantCode(t, err, "error.user.object_not_found")
	_, err = f.store.Move(ctx, clerk, Move{IDs: []int64{o.ID, h.ID, loose.ID, 777777}, To: in})
	wantCode(t, err, "error.user.object_not_found", "ids", fmt.Sprintf("%d,%d,777777", h.ID, loose.ID))
	// move out -> in: unlink on out, link on in
	res, err := f.store.Move(ctx, clerk, Move{IDs: []int64{o.ID}, To: in})
	if err != nil || !slices.Equal(res.Moved, []int64{o.ID}) {
		t.Fatalf("move: %+v %v", res, err)
	}
	// back: needs unlink on in and link on out, which clerk lacks
	_, err = f.store.Move(ctx, clerk, Move{IDs: []int64{o.ID}, To: out})
	wantCode(t, err, "error.user.insufficient_rights", "ids", fmt.Sprint(in), "right", rights.Unlink)
	// a write that only moves needs no system right
	_, err = f.store.Write(ctx, clerk, []*Input{{ID: o.ID, Version: 3, Group: &hidden}})
	wantCode(t, err, "error.user.insufficient_rights", "ids", fmt.Sprint(in), "right", rights.Unlink)
	editor := f.newUser(t, "editor", rights.Map{rights.SystemObject: {rights.ParamEdit: true, rights.ParamCreate: true,
		rights.ParamDelete: true, rights.ParamReadAll: true}})
	if _, err = f.store.Write(ctx, editor, []*Input{{ID: loose.ID, Version: 2, Name: ptr("tight")}}); err != nil {
		t.Fatal(err)
	}
	_, err = f.store.Write(ctx, editor, []*Input{{ID: loose.ID, Version: 3, Group: &in}})
	wantCode(t, err, "error.user.insufficient_rights", "ids", fmt.Sprint(in), "right", rights.Link)
	_, err = f.store.Move(ctx, root, Move{IDs: []int64{loose.ID}, To: policy.GroupAll})
	wantCode(t, err, "error.user.insufficient_rights", "ids", fmt.Sprint(policy.GroupAll), "right", rights.Link)
	if err := f.store.Delete(ctx, editor, h.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.Get(ctx, root, h.ID); err == nil {
		t.Fatal("deleted object still there")
	}
}

// TestMove: 10^4 objects into a group in one Move, all or nothing, the
// Noko variants (SkipGrouped, OnlyFrom, From), and a group's delete
// ungrouping its objects with audit events.
func TestMove(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	a := f.newGroup(t, "a", nil)
	b := f.newGroup(t, "b", nil)
	f.exec(t, `INSERT INTO objects (kind, name) SELECT 'bulk.item', 'item ' || i FROM generate_series(1, 10000) AS i`)
	var ids []int64
	rows, err := f.d.Query(`SELECT id FROM objects ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id int64
		rows.Scan(&id)
		ids = append(ids, id)
	}
	rows.Close()
	// one unknown id among 10^4: nothing moves
	_, err = f.store.Move(ctx, root, Move{IDs: append(slices.Clone(ids), 1<<40), To: a})
	wantCode(t, err, "error.user.object_not_found", "ids", fmt.Sprint(int64(1<<40)))
	if n := f.count(t, `SELECT count(*) FROM objects WHERE group_id IS NOT NULL`); n != 0 {
		t.Fatalf("a failed move moved %d objects", n)
	}
	_, err = f.store.Move(ctx, root, Move{IDs: ids[:3], To: a, Kind: "other.kind"})
	wantCode(t, err, "error.user.object_not_found")
	res, err := f.store.Move(ctx, root, Move{IDs: ids, To: a, Kind: "bulk.item"})
	if err != nil || len(res.Moved) != 10000 || len(res.Skipped) != 0 {
		t.Fatalf("move: %d moved, %d skipped, %v", len(res.Moved), len(res.Skipped), err)
	}
	if n := f.count(t, `SELECT count(*) FROM objects WHERE group_id = $1 AND version = 2`, a); n != 10000 {
		t.Fatalf("%d objects in a at version 2", n)
	}
	if n := f.count(t, `SELECT count(*) FROM events WHERE object_type = 'object' AND action = 'move'`); n != 10000 {
		t.Fatalf("%d move events", n)
	}
	// add_projects: the first 10 go to b; then adding 20 skips those 10
	if _, err = f.store.Move(ctx, root, Move{IDs: ids[:10], To: b}); err != nil {
		t.Fatal(err)
	}
	res, err = f.store.Move(ctx, root, Move{IDs: ids[:20], To: b, SkipGrouped: true})
	if err != nil || len(res.Moved) != 10 || !slices.Equal(res.Skipped, ids[10:20]) {
		t.Fatalf("skip grouped: %+v %v", res, err)
	}
	// remove_projects: only those in b leave; the others are skipped
	res, err = f.store.Move(ctx, root, Move{IDs: ids[5:25], OnlyFrom: b})
	if err != nil || !slices.Equal(res.Moved, ids[5:10]) || !slices.Equal(res.Skipped, ids[10:25]) {
		t.Fatalf("only from: %+v %v", res, err)
	}
	// remove_all_projects
	res, err = f.store.Move(ctx, root, Move{From: b})
	if err != nil || !slices.Equal(res.Moved, ids[:5]) {
		t.Fatalf("from: %+v %v", res, err)
	}
	// deleting a group ungroups its objects, in its transaction, audited
	before := f.count(t, `SELECT count(*) FROM events WHERE action = 'move'`)
	if err = f.groups.Delete(ctx, root, a); err != nil {
		t.Fatal(err)
	}
	if n := f.count(t, `SELECT count(*) FROM objects WHERE group_id IS NULL`); n != 10000 {
		t.Fatalf("%d objects ungrouped after the group's delete", n)
	}
	if n := f.count(t, `SELECT count(*) FROM events WHERE action = 'move'`) - before; n != 9990 {
		t.Fatalf("%d move events for the group's delete, want 9990", n)
	}
	_, err = f.store.Move(ctx, root, Move{IDs: ids[:1], To: a})
	wantCode(t, err, "error.user.group_not_found")
}

// TestMoveDuringGroupDelete: moves out of a group and the group's delete,
// run concurrently, all succeed (both lock objects in id order, whatever
// order the table holds them in) and leave every object either moved or
// ungrouped.
func TestMoveDuringGroupDelete(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for round := 0; round < 10; round++ {
		from := f.newGroup(t, fmt.Sprint("from", round), nil)
		to := f.newGroup(t, fmt.Sprint("to", round), nil)
		var ids []int64
		rows, err := f.d.Query(`INSERT INTO objects (kind, name, group_id) SELECT 'race.item', 'r' || i, $1
			FROM generate_series(1, 300) AS i RETURNING id`, from)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var id int64
			rows.Scan(&id)
			ids = append(ids, id)
		}
		rows.Close()
		// The rows' physical order the reverse of their ids' (each update
		// writes a new row version at the end of the table), so that a scan
		// of the table meets them in another order than Move locks them.
		for _, id := range slices.Backward(ids) {
			f.exec(t, `UPDATE objects SET name = name || '.' WHERE id = $1`, id)
		}
		f.exec(t, `ANALYZE objects`)
		done := make(chan error, 3)
		for w := 0; w < 2; w++ {
			go func(part []int64) {
				_, moveErr := f.store.Move(ctx, root, Move{IDs: part, To: to})
				done <- moveErr
			}(ids[w*150 : (w+1)*150])
		}
		go func() { done <- f.groups.Delete(ctx, root, from) }()
		for i := 0; i < 3; i++ {
			if doneErr := <-done; doneErr != nil {
				t.Fatalf("round %d: %v", round, doneErr)
			}
		}
		if n := f.count(t, `SELECT count(*) FROM objects WHERE kind = 'race.item' AND group_id IS NOT NULL AND group_id <> $1`, to); n != 0 {
			t.Fatalf("round %d: %d objects in neither place", round, n)
		}
		f.exec(t, `DELETE FROM objects`)
	}
}
