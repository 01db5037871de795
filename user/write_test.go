package user

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/groupd/groupd/db/dbtest"
	"github.com/groupd/groupd/errors"
	"github.com/groupd/groupd/policy"
	"github.com/groupd/groupd/rights"
)

func decodeJSON(t *testing.T, s string) any {
	t.Helper()
	var v any
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// TestPasswordNeverShows: a decoded password prints, marshals and logs as
// [redacted], whatever a careless caller does with the item.
func TestPasswordNeverShows(t *testing.T) {
	const secret = "hunter2-very-secret"
	items, err := DecodeBody(decodeJSON(t, `[{"user":{"login":"x"},"_password":"`+secret+`"}]`), true)
	if err != nil {
		t.Fatal(err)
	}
	in := items[0]
	if !in.PasswordSet || string(in.Password) != secret {
		t.Fatal("password not decoded")
	}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("item", "in", in, "pw", in.Password)
	b, _ := json.Marshal(in)
	for _, s := range []string{fmt.Sprintf("%v %+v %#v %s", in, in, in, in.Password), string(b), buf.String()} {
		if strings.Contains(s, secret) {
			t.Fatalf("the password shows: %s", s)
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	for _, c := range []struct {
		body, code, attribute string
	}{
		{`[{"user":{"login":"x"},"_password":""}]`, "error.api.invalid_value", "_password"},
		{`[{"user":{"login":"x"},"_password":5}]`, "error.api.type_mismatch", "_password"},
		{`[{"user":{"login":"x"},"_emails":[{"use_for_login":true}]}]`, "error.api.attribute_expected", "_emails[0].email"},
		{`[{"user":{"login":"x"},"_emails":[{"email":"a@b.c"},{"email":"A@b.c"}]}]`, "error.api.invalid_value", "_emails[1].email"},
		{`[{"user":{"login":"x"},"_emails":[{"email":"a@b.c","use_for_login":"yes"}]}]`, "error.api.type_mismatch", "_emails[0].use_for_login"},
		{`[{"user":{"login":"x"},"_groups":[{"user":{"_id":1}}]}]`, "error.api.attribute_not_accepted", "_groups[0].user"},
		{`[{"user":{"login":"x"},"_groups":[{"group":{"name":"no id"}}]}]`, "error.api.attribute_expected", "_groups[0].group._id"},
		{`[{"user":{"login":"x"},"_owner":null}]`, "error.api.invalid_value", "_owner"},
		{`[{"user":{"login":""}}]`, "error.api.invalid_value", "user.login"},
		{`[{"user":{"login":"x","frontend_prefs":[1]}}]`, "error.api.type_mismatch", "user.frontend_prefs"},
		{`[{"_basetype":"group","user":{}}]`, "error.api.invalid_value", "_basetype"},
	} {
		_, err := DecodeBody(decodeJSON(t, c.body), false)
		e := errors.From(err)
		if err == nil || e.Code != c.code || e.Parameters["attribute"] != c.attribute || e.Parameters["index"] != "0" {
			t.Errorf("%s: got %v, want %s at %s", c.body, err, c.code, c.attribute)
		}
	}
	// Groups are sorted and without repetitions; display fields are ignored.
	items, err := DecodeBody(decodeJSON(t, `[{"user":{},"_groups":[{"group":{"_id":9,"name":"n"}},{"_basetype":"group","group":{"_id":3}},
		{"group":{"_id":9}}]}]`), true)
	if err != nil || fmt.Sprint(items[0].Groups) != "[3 9]" {
		t.Fatalf("groups %v, %v", items, err)
	}
}

func TestDecodeMembers(t *testing.T) {
	mc, err := DecodeMembers(decodeJSON(t, `{"add":[3,1,3],"remove":[7]}`))
	if err != nil || fmt.Sprint(mc.Add, mc.Remove) != "[3 1] [7]" {
		t.Fatalf("%+v %v", mc, err)
	}
	for body, attr := range map[string]string{
		`{"add":[1],"remove":[1]}`: "remove[0]",
		`{"add":[0]}`:              "add[0]",
		`{"add":["1"]}`:            "add[0]",
		`{"add":1}`:                "add",
		`{"members":[1]}`:          "members",
	} {
		if _, err := DecodeMembers(decodeJSON(t, body)); errors.From(err).Parameters["attribute"] != attr {
			t.Errorf("%s: %v, want an error on %s", body, err, attr)
		}
	}
}

// storeWorld is a database with a store, root's principal and n plain users.
func storeWorld(t *testing.T, n int) (*Store, *policy.Principal, []int64) {
	t.Helper()
	d := dbtest.MustOpenDB(t)
	engine, err := policy.New()
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for i := 0; i < n; i++ {
		var id int64
		if err := d.QueryRow(`INSERT INTO users (login, owner_user_id) VALUES ($1, 1) RETURNING id`,
			fmt.Sprint("w", i)).Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	root := &policy.Principal{UserID: 1, UserType: "system", Groups: []int64{}, SystemGroups: policy.SystemGroupsFor("system"),
		SystemRights: rights.Map{rights.SystemRoot: {}}}
	return NewStore(d, engine, pgNotifier{}), root, ids
}

// TestConcurrentMemberChanges: writers racing to add the same users to a
// group; every user is added exactly once, the others learn it was already
// a member, and there is one event per membership.
func TestConcurrentMemberChanges(t *testing.T) {
	store, root, ids := storeWorld(t, 40)
	ctx := context.Background()
	var gid int64
	store.db.QueryRow(`INSERT INTO groups (name, owner_user_id) VALUES ('race', 1) RETURNING id`).Scan(&gid)
	const writers = 6
	results := make([][]MemberResult, writers)
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			res, err := store.ChangeMembers(ctx, root, gid, MemberChange{Add: ids})
			if err != nil {
				t.Error(err)
			}
			results[w] = res
		}(w)
	}
	wg.Wait()
	added := map[int64]int{}
	for _, res := range results {
		for _, r := range res {
			switch r.Result {
			case ResultAdded:
				added[r.ID]++
			case ResultAlreadyMember:
			default:
				t.Fatalf("result %+v", r)
			}
		}
	}
	for _, id := range ids {
		if added[id] != 1 {
			t.Fatalf("user %d added %d times", id, added[id])
		}
	}
	var n int
	store.db.QueryRow(`SELECT count(*) FROM events WHERE object_type = 'membership'`).Scan(&n)
	if n != len(ids) {
		t.Fatalf("%d events for %d memberships", n, len(ids))
	}
}

// TestConcurrentLoginsOneWinner: creates racing for one name, as a login
// and as a login e-mail (two tables); exactly one wins.
func TestConcurrentLoginsOneWinner(t *testing.T) {
	store, root, _ := storeWorld(t, 0)
	ctx := context.Background()
	bodies := []string{`[{"user":{"login":"same@example.com"}}]`, `[{"user":{"login":"other1"},"_emails":[{"email":"Same@example.com","use_for_login":true}]}]`,
		`[{"user":{"login":"SAME@example.com"}}]`, `[{"user":{"login":"other2"},"_emails":[{"email":"same@EXAMPLE.com","use_for_login":true}]}]`}
	errs := make([]error, len(bodies))
	var wg sync.WaitGroup
	for i, body := range bodies {
		items, err := DecodeBody(decodeJSON(t, body), true)
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			_, errs[i] = store.Write(ctx, root, 0, items)
		}(i)
	}
	wg.Wait()
	wins := 0
	for _, err := range errs {
		if err == nil {
			wins++
		} else if errors.CodeOf(err) != "error.user.integrity_constraint_violation" {
			t.Fatal(err)
		}
	}
	if wins != 1 {
		t.Fatalf("%d winners: %v", wins, errs)
	}
}

// TestConcurrentUpdatesOneWinner: updates racing on one version; one wins,
// the others get version_mismatch.
func TestConcurrentUpdatesOneWinner(t *testing.T) {
	store, root, ids := storeWorld(t, 1)
	ctx := context.Background()
	const n = 8
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		items, err := DecodeBody(decodeJSON(t, fmt.Sprintf(`[{"user":{"_id":%d,"_version":2,"displayname":"writer %d"}}]`, ids[0], i)), false)
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			_, errs[i] = store.Write(ctx, root, 0, items)
		}(i)
	}
	wg.Wait()
	wins := 0
	for _, err := range errs {
		if err == nil {
			wins++
		} else if errors.CodeOf(err) != "error.user.version_mismatch" {
			t.Fatal(err)
		}
	}
	if wins != 1 {
		t.Fatalf("%d winners", wins)
	}
}
