package group

import (
	"context"
	"database/sql"
	"testing"

	"github.com/groupd/groupd/db/dbtest"
	"github.com/groupd/groupd/errors"
	"github.com/groupd/groupd/policy"
	"github.com/groupd/groupd/rights"
)

// TestWriteThen: the follow-up runs in the write's transaction, after the
// groups and their events are written (it reads them in tx); its error
// rolls back the groups and their events and is what WriteThen returns;
// without an error everything commits together.
func TestWriteThen(t *testing.T) {
	d := dbtest.MustOpenDB(t)
	engine, err := policy.New()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	store, err := NewStore(ctx, d, engine, nil)
	if err != nil {
		t.Fatal(err)
	}
	root := &policy.Principal{UserID: 1, UserType: "system", Groups: []int64{}, SystemGroups: policy.SystemGroupsFor("system"),
		SystemRights: rights.Map{rights.SystemRoot: {}}}
	items := func(name string) []*Input {
		in, decodeErr := DecodeBody([]any{map[string]any{"group": map[string]any{"name": name}}}, true)
		if decodeErr != nil {
			t.Fatal(decodeErr)
		}
		return in
	}
	count := func(q string, args ...any) int {
		var n int
		if scanErr := d.QueryRow(q, args...).Scan(&n); scanErr != nil {
			t.Fatal(scanErr)
		}
		return n
	}
	// seen reads, in the write's tx, the written group and its create event.
	seen := func(ctx context.Context, tx *sql.Tx, written []*Group) (groups, events int, err error) {
		if len(written) != 1 || written[0].ID == 0 {
			return 0, 0, errors.Errorf("written: %+v", written)
		}
		err = tx.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM groups WHERE id = $1 AND name = $2),
			(SELECT count(*) FROM events WHERE object_type = 'group' AND object_id = $1 AND action = 'create')`,
			written[0].ID, *written[0].Name).Scan(&groups, &events)
		return groups, events, err
	}
	eventsBefore := count(`SELECT count(*) FROM events`)

	refused := errors.InsufficientRights("link", "group", "1", rights.Link)
	_, err = store.WriteThen(ctx, root, items("then-refused"), func(ctx context.Context, tx *sql.Tx, written []*Group) error {
		if g, e, seenErr := seen(ctx, tx, written); seenErr != nil || g != 1 || e != 1 {
			t.Errorf("the follow-up sees %d groups and %d events (%v), want 1 and 1", g, e, seenErr)
		}
		return refused
	})
	if errors.CodeOf(err) != errors.CodeOf(refused) {
		t.Fatalf("WriteThen: want the follow-up's error, got %v", err)
	}
	if n := count(`SELECT count(*) FROM groups WHERE name = 'then-refused'`); n != 0 {
		t.Fatalf("a refused follow-up left %d groups", n)
	}
	if n := count(`SELECT count(*) FROM events`); n != eventsBefore {
		t.Fatalf("a refused follow-up left %d events", n-eventsBefore)
	}

	var ran bool
	gs, err := store.WriteThen(ctx, root, items("then-kept"), func(ctx context.Context, tx *sql.Tx, written []*Group) error {
		ran = true
		_, _, seenErr := seen(ctx, tx, written)
		return seenErr
	})
	if err != nil || !ran || len(gs) != 1 || gs[0].Name == nil || *gs[0].Name != "then-kept" {
		t.Fatalf("WriteThen: %+v, ran %v, %v", gs, ran, err)
	}
	if n := count(`SELECT count(*) FROM events WHERE object_type = 'group' AND object_id = $1`, gs[0].ID); n != 1 {
		t.Fatalf("the kept group has %d events, want its create", n)
	}
}
