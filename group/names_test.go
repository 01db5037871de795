package group

import (
	"context"
	"database/sql"
	"github.com/groupd/groupd/acl"
	"testing"

	"github.com/groupd/groupd/db/dbtest"
	"github.com/groupd/groupd/policy"
	"github.com/groupd/groupd/rights"
)

// TestNamesCacheIsExact: the short formats of ACL subjects come from a cache,
// yet every listing shows the names its snapshot sees: after a rename of a
// user or a group (by any statement, even straight SQL), after a rename that
// was rolled back, after a delete and re-insert under the same id, and for a
// transaction older than the cache. Updates that rename nothing leave the
// count of renames alone, and a transaction counts once.
func TestNamesCacheIsExact(t *testing.T) {
	d := dbtest.MustOpenDB(t)
	ctx := context.Background()
	engine, err := policy.New()
	if err != nil {
		t.Fatal(err)
	}
	store, err := NewStore(ctx, d, engine, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	exec := func(q string, args ...any) {
		t.Helper()
		if _, execContextErr := d.ExecContext(ctx, q, args...); execContextErr != nil {
			t.Fatalf("%s: %v", q, execContextErr)
		}
	}
	version := func() int64 {
		t.Helper()
		var v int64
		if scanErr := d.QueryRowContext(ctx, `SELECT version FROM names_version`).Scan(&v); scanErr != nil {
			t.Fatal(scanErr)
		}
		return v
	}
	exec(`INSERT INTO users (id, login, type) VALUES (7001, 'alice', 'easydb')`)
	exec(`INSERT INTO groups (id, name, owner_user_id) VALUES (7101, 'subjects', 1), (7102, 'target', 1)`)
	exec(`INSERT INTO group_acl (group_id, position, who_user_id, rights, mask) VALUES (7102, 0, 7001, '{"bag_read": {}}', 1)`)
	exec(`INSERT INTO group_acl (group_id, position, who_group_id, rights, mask) VALUES (7102, 1, 7101, '{"bag_read": {}}', 1)`)
	root := &policy.Principal{UserID: 1, UserType: "system", SystemGroups: policy.SystemGroupsFor("system"),
		SystemRights: rights.Map{rights.SystemRoot: rights.Params{}}}
	subjects := func() (string, string) {
		t.Helper()
		gs, _, listErr := store.List(ctx, root, Filter{IDs: []int64{7102}, Limit: MaxLimit})
		if listErr != nil || len(gs) != 1 || len(gs[0].ACLWho) != 2 {
			t.Fatalf("list: %v %+v", listErr, gs)
		}
		return deref(gs[0].ACLWho[0].Name), deref(gs[0].ACLWho[1].Name)
	}
	want := func(user, group string) {
		t.Helper()
		for range 2 { // the second read comes from the cache
			if u, g := subjects(); u != user || g != group {
				t.Fatalf("subjects %q, %q; want %q, %q", u, g, user, group)
			}
		}
	}
	want("alice", "subjects")

	v := version()
	exec(`UPDATE users SET login = 'alice2' WHERE id = 7001`)
	want("alice2", "subjects")
	exec(`UPDATE groups SET name = 'subjects2' WHERE id = 7101`)
	want("alice2", "subjects2")
	if got := version(); got != v+2 {
		t.Fatalf("two renames counted %d", got-v)
	}

	v = version()
	exec(`UPDATE users SET frontend_language = 'de-DE' WHERE id = 7001`)
	exec(`UPDATE groups SET comment = 'no rename' WHERE id IN (7101, 7102)`)
	exec(`UPDATE groups SET name = name WHERE id = 7101`)
	if got := version(); got != v {
		t.Fatalf("updates that rename nothing counted %d", got-v)
	}
	exec(`BEGIN; UPDATE users SET login = 'a3' WHERE id = 7001; UPDATE groups SET name = 's3' WHERE id = 7101;
		UPDATE users SET login = 'alice3' WHERE id = 7001; COMMIT`)
	if got := version(); got != v+1 {
		t.Fatalf("one transaction counted %d", got-v)
	}
	want("alice3", "s3")

	// rolled back: neither the names nor the count change
	tx, err := d.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, execContextErr := tx.ExecContext(ctx, `UPDATE users SET login = 'ghost' WHERE id = 7001`); execContextErr != nil {
		t.Fatal(execContextErr)
	}
	tx.Rollback()
	want("alice3", "s3")

	// the same id again, with another login
	exec(`BEGIN; DELETE FROM group_acl WHERE who_user_id = 7001; DELETE FROM users WHERE id = 7001;
		INSERT INTO users (id, login, type) VALUES (7001, 'bob', 'easydb');
		INSERT INTO group_acl (group_id, position, who_user_id, rights, mask) VALUES (7102, 0, 7001, '{"bag_read": {}}', 1); COMMIT`)
	want("bob", "s3")

	// a transaction older than the cache reads its own snapshot's names
	old, err := d.BeginTx(ctx, &sql.TxOptions{ReadOnly: true, Isolation: sql.LevelRepeatableRead})
	if err != nil {
		t.Fatal(err)
	}
	defer old.Rollback()
	var oldVersion int64
	if err := old.QueryRowContext(ctx, `SELECT version FROM names_version`).Scan(&oldVersion); err != nil {
		t.Fatal(err)
	}
	exec(`UPDATE users SET login = 'carol' WHERE id = 7001`)
	want("carol", "s3") // the cache now holds at a later version
	ref := acl.Ref{Kind: "user", ID: 7001}
	if err := store.names.resolve(ctx, d, old, true, oldVersion, []*acl.Ref{&ref}); err != nil {
		t.Fatal(err)
	}
	if deref(ref.Name) != "bob" {
		t.Fatalf("old snapshot sees %q, want bob", deref(ref.Name))
	}
	want("carol", "s3") // and did not spoil the cache
}

// deref is *s, or "<nil>".
func deref(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}
