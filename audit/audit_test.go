package audit

import (
	"context"
	"database/sql"
	"encoding/json"
	"strings"
	"testing"

	"github.com/groupd/groupd/db/dbtest"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// TestFeedSkipsNoEventCommittedOutOfOrder: transaction a starts writing
// before b, but b takes the lower event id; a commits first. A reader that
// follows the feed with the last id it saw as since sees both events, each
// once: neither while both are in flight (b's id comes first), a's once it
// commits (nothing in flight may still write before it), b's after that.
// With ids as the cursor the reader would take a's id 2 and then never see
// b's id 1.
func TestFeedSkipsNoEventCommittedOutOfOrder(t *testing.T) {
	ctx := context.Background()
	d := dbtest.MustOpenDB(t)
	store := NewStore(d.DB)
	begin := func() *sql.Tx {
		tx, err := d.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { tx.Rollback() })
		// The transaction's id, taken now: a transaction has one from its
		// first write, as every groupd write writes before its events.
		if _, err := tx.Exec(`SELECT pg_current_xact_id()`); err != nil {
			t.Fatal(err)
		}
		return tx
	}
	record := func(tx *sql.Tx, objectID int64) {
		if err := Record(ctx, tx, []Event{{ObjectType: "group", ObjectID: objectID, Action: "create"}}); err != nil {
			t.Fatal(err)
		}
	}
	var cursor int64 // the id of the last event list returned
	list := func(since int64) []int64 {
		events, err := store.List(ctx, Filter{Since: since, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		objects := []int64{}
		for _, e := range events {
			objects = append(objects, e.ObjectID)
		}
		t.Logf("since %d: objects %v", since, objects)
		if len(events) > 0 {
			cursor = events[len(events)-1].ID
		}
		return objects
	}
	a, b := begin(), begin()
	record(b, 2) // event id 1
	record(a, 1) // event id 2
	if got := list(0); len(got) != 0 {
		t.Fatalf("events of transactions in flight served: %v", got)
	}
	if err := a.Commit(); err != nil {
		t.Fatal(err)
	}
	if got := list(0); len(got) != 1 || got[0] != 1 {
		t.Fatalf("after a's commit: objects %v, want [1]", got)
	}
	if err := b.Commit(); err != nil {
		t.Fatal(err)
	}
	if got := list(cursor); len(got) != 1 || got[0] != 2 {
		t.Fatalf("after b's commit, since %d: objects %v, want [2]", cursor, got)
	}
	if got := list(cursor); len(got) != 0 {
		t.Fatalf("at the end of the feed: objects %v, want none", got)
	}
}

// TestWithEvent: the write and its event are one statement: the event is
// recorded, for the row the write returns, exactly when the write changes a
// row, and not at all when the write changes none or fails.
func TestWithEvent(t *testing.T) {
	ctx := context.Background()
	d := dbtest.MustOpenDB(t)
	if _, err := d.Exec(`INSERT INTO groups (id, name, owner_user_id) VALUES (500, 'a', 1), (501, 'b', 1)`); err != nil {
		t.Fatal(err)
	}
	rename := WithEvent(`UPDATE groups SET name = $2, version = version + 1 WHERE id = $1 AND version = $3 RETURNING id`, 3)
	event := Event{ActorUserID: 1, ObjectType: "group", Action: "update", Before: []byte(`{"v": 1}`), After: []byte(`{"v": 2}`)}
	run := func(id int64, name string, version int64) (int64, error) {
		res, err := d.ExecContext(ctx, rename, append([]any{id, name, version}, EventArgs(event)...)...)
		if err != nil {
			return 0, err
		}
		return res.RowsAffected()
	}
	events := func() (n int, last string) {
		if err := d.QueryRow(`SELECT count(*), COALESCE(max(object_id::text || ' ' || action || ' ' || actor_user_id::text || ' ' ||
			before::text || ' ' || after::text), '') FROM events`).Scan(&n, &last); err != nil {
			t.Fatal(err)
		}
		return n, last
	}
	if n, err := run(500, "a2", 1); err != nil || n != 1 {
		t.Fatalf("write at the current version: %d rows, %v", n, err)
	}
	if n, last := events(); n != 1 || last != `500 update 1 {"v": 1} {"v": 2}` {
		t.Fatalf("%d events, %q", n, last)
	}
	if n, err := run(500, "a3", 1); err != nil || n != 0 {
		t.Fatalf("write at a stale version: %d rows, %v", n, err)
	}
	if _, err := run(501, "a2", 1); err == nil {
		t.Fatal("a write that violates a unique constraint succeeded")
	}
	if n, _ := events(); n != 1 {
		t.Fatalf("%d events after a write that changed nothing and one that failed, want 1", n)
	}
}

// TestRecordBulkCompressesWithLZ4: a bulk's events (COPY) are stored as
// they were given, compressed with lz4 where PostgreSQL has it (pglz
// otherwise), and the transaction's setting ends with it.
func TestRecordBulkCompressesWithLZ4(t *testing.T) {
	d := dbtest.MustOpenDB(t)
	ctx := context.Background()
	var hasLZ4 bool
	if err := d.QueryRow(`SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'`).Scan(&hasLZ4); err != nil {
		t.Fatal(err)
	}
	after := `{"comment": "` + strings.Repeat("abcdefgh", 500) + `"}`
	events := make([]Event, 65)
	for i := range events {
		events[i] = Event{ObjectType: "group", ObjectID: int64(i + 1), Action: "create", After: json.RawMessage(after)}
	}
	tx, err := d.Begin()
	if err != nil {
		t.Fatal(err)
	}
	if err := Record(ctx, tx, events); err != nil {
		tx.Rollback()
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	want := "pglz"
	if hasLZ4 {
		want = "lz4"
	}
	var methods string
	var same bool
	if err := d.QueryRow(`SELECT string_agg(DISTINCT pg_column_compression(after), ','), bool_and(after = $1::jsonb)
		FROM events`, after).Scan(&methods, &same); err != nil {
		t.Fatal(err)
	}
	if methods != want || !same {
		t.Fatalf("events compressed with %q (want %q), stored as given: %v", methods, want, same)
	}
	var setting string
	if err := d.QueryRow(`SHOW default_toast_compression`).Scan(&setting); err != nil {
		t.Fatal(err)
	}
	if setting != "pglz" {
		t.Fatalf("default_toast_compression %q after the transaction", setting)
	}
}
