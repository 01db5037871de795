package group

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/groupd/groupd/audit"
	"github.com/groupd/groupd/db"
	"github.com/groupd/groupd/db/dbtest"
	"github.com/groupd/groupd/errors"
	"github.com/groupd/groupd/policy"
	"github.com/groupd/groupd/rights"
)

// updateStatement is the single update of issue 20 in one statement: the
// row changes only if it is still at the version the decision was made on,
// and the audit event is written by the same statement (audit.WithEvent),
// so both or neither happen. $1 id, $2 the version read, $3 the new
// version, $4..$8 the columns a row-only update may change, $9 updated_at;
// the event's parameters after them.
var updateStatement = audit.WithEvent(`UPDATE groups SET version = $3, name = $4, comment = $5, reference = $6,
		frontend_prefs = $7, authorization_info = $8, updated_at = $9
		WHERE id = $1 AND version = $2
		RETURNING id`, 9)

// errNotRowOnly: the update changes more than the group's own row (ACL,
// owner, type, displaynames, system rights) and takes the general path.
var errNotRowOnly = errors.New("not a row-only update")

// updateInOneStatement is the prototype of the single-update path: one
// read of the group with its ACL and the caller's rights (the statement of
// GET /group/<id>), the decision by Casbin (decide) on that row, and one
// statement that writes the row and its audit event when the row is still
// at the version read. Two round trips where Write makes seven or more.
//
// Equivalent to deciding on the row locked inside the write's transaction:
// every change of a group's row or of its own ACL goes through Write and
// counts the version up, so "still at the version read" means the decision's
// inputs are those the write applies to; an ACL entry removed because its
// subject was deleted does not count the version up, but a locked read does
// not wait for that either (it locks the group's row, not the entries). When
// the version moved, the item is decided again on the row as it is now,
// which then fails with version_mismatch (every write counts the version
// up, and the client named the one it saw) or group_not_found.
//
// generated, when set, computes the caller's rights on the group for the
// answer (policy.Engine.Rights) in place of the read's SQL mask (a store
// whose getOne is rowQuery).
func (s *Store) updateInOneStatement(ctx context.Context, p *policy.Principal, in *Input,
	generated func(*policy.Principal, *policy.Object) (rights.Mask, error)) (*Group, error) {
	stmt, err := s.db.Prepared(ctx, updateStatement)
	if err != nil {
		return nil, errors.Database(err)
	}
	for {
		now := s.db.Now()
		cur, err := s.Get(ctx, p, in.ID)
		if err != nil {
			return nil, err
		}
		if cur == nil {
			return nil, errors.WithIndex(errors.GroupNotFound(strconv.FormatInt(in.ID, 10)), in.Index)
		}
		if generated != nil {
			if cur.Generated, err = generated(p, cur.PolicyObject()); err != nil {
				return nil, errors.ServerGeneric(err)
			}
		}
		pl, err := s.decide(p, in, map[int64]*Group{cur.ID: cur})
		if err != nil {
			return nil, errors.WithIndex(err, in.Index)
		}
		after := pl.applied(now)
		if after == nil || pl.dnChanged || pl.rightsChanged {
			return nil, errNotRowOnly
		}
		before, err := cur.fullJSON()
		if err != nil {
			return nil, errors.ServerGeneric(err)
		}
		if after.encoded, err = after.fullJSON(); err != nil {
			return nil, errors.ServerGeneric(err)
		}
		var prefs any
		if after.FrontendPrefs != nil {
			prefs = string(after.FrontendPrefs)
		}
		event := audit.Event{ActorUserID: p.UserID, ObjectType: "group", Action: "update", Before: before,
			After: after.encoded}
		res, err := stmt.ExecContext(ctx, append([]any{cur.ID, cur.Version, after.Version, after.Name, after.Comment,
			after.Reference, prefs, after.AuthorizationInfo, now}, audit.EventArgs(event)...)...)
		if err != nil {
			return nil, errors.WithIndex(groupUnique.Error(err), in.Index)
		}
		if n, err := res.RowsAffected(); err != nil {
			return nil, errors.Database(err)
		} else if n == 1 {
			return after, nil
		}
	}
}

// rowQuery is getQuery without the caller's rights: its parameters other
// than the id ($7) do not change its plan, so that PostgreSQL settles on the
// generic plan of the prepared statement after five runs instead of planning
// the rights expression anew at every run (the principal CTE only gives
// the unused parameters their types).
var rowQuery = `WITH principal AS (SELECT $1::bigint, $2::bigint[], $3::bigint[], $4::boolean, $5::boolean, $6::timestamptz) ` +
	strings.Replace(getQuery, maskExpr, "0", 1)

// withRowQuery is a second store on d whose Get reads with rowQuery.
func withRowQuery(t testing.TB, d *db.DB, authz Authorizer) *Store {
	t.Helper()
	s, err := NewStore(context.Background(), d, authz, nil)
	if err != nil {
		t.Fatal(err)
	}
	s.getOne.Close()
	if s.getOne, err = d.PrepareContext(context.Background(), rowQuery); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// singleUpdateWorld: user 1000 in group 2000, which holds bag_write on group
// 2001 (owned by root) through an ACL entry; another group 2002 named
// "taken".
func singleUpdateWorld(t testing.TB, d *db.DB) (*Store, *policy.Principal) {
	t.Helper()
	for _, q := range []string{
		`INSERT INTO users (id, login, type, system_rights) VALUES (1000, 'writer', 'easydb', '{"system.group": {}}')`,
		`INSERT INTO groups (id, name, type, owner_user_id) VALUES (2000, 'writers', 'easydb', 1), (2001, 'target', 'easydb', 1),
			(2002, 'taken', 'easydb', 1)`,
		`INSERT INTO memberships (group_id, user_id) VALUES (2000, 1000)`,
		`INSERT INTO group_acl (group_id, position, who_group_id, rights, mask, active)
			VALUES (2001, 0, 2000, '{"bag_write": {}}', ` + strconv.Itoa(int(rights.MaskOf(rights.BagWrite)|rights.MaskBagRead)) + `, true)`,
	} {
		if _, err := d.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	engine, err := policy.New()
	if err != nil {
		t.Fatal(err)
	}
	store, err := NewStore(context.Background(), d, engine, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	p := &policy.Principal{UserID: 1000, UserType: "easydb", Groups: []int64{2000},
		SystemGroups: policy.SystemGroupsFor("easydb"), SystemRights: rights.Map{rights.SystemGroup: rights.Params{}}}
	return store, p
}

func commentUpdate(id, version int64, comment string) *Input {
	return &Input{ID: id, Version: version, Comment: &comment, CommentSet: true}
}

// TestSingleUpdateRoundTrips counts the round trips of one comment update
// by a non-root writer: Write as it is, and the one-statement prototype.
func TestSingleUpdateRoundTrips(t *testing.T) {
	d, trips := dbtest.OpenCounted(t)
	store, p := singleUpdateWorld(t, d)
	ctx := context.Background()
	version := int64(1)
	write := func() error {
		version++
		_, err := store.Write(ctx, p, []*Input{commentUpdate(2001, version, "write "+strconv.FormatInt(version, 10))})
		return err
	}
	oneStatement := func() error {
		version++
		_, err := store.updateInOneStatement(ctx, p, commentUpdate(2001, version, "one "+strconv.FormatInt(version, 10)), nil)
		return err
	}
	writeTrips := dbtest.MinRoundTrips(t, trips, 3, 5, write)
	oneTrips := dbtest.MinRoundTrips(t, trips, 3, 5, oneStatement)
	t.Logf("round trips of a single comment update: Write %d, one statement %d", writeTrips, oneTrips)
	if oneTrips != 2 {
		t.Fatalf("the one-statement update made %d round trips, want 2 (read, write)", oneTrips)
	}
	if writeTrips <= oneTrips {
		t.Fatalf("Write made %d round trips, the one-statement update %d: nothing to gain", writeTrips, oneTrips)
	}
}

// TestUpdateInOneStatement: the prototype keeps what Write guarantees: the
// version check, the rights decision, the audit event with the group before
// and after, the unique names, and nothing written by a refused update.
func TestUpdateInOneStatement(t *testing.T) {
	d := dbtest.MustOpenDB(t)
	store, p := singleUpdateWorld(t, d)
	ctx := context.Background()
	events := func() int {
		var n int
		if err := d.QueryRow(`SELECT count(*) FROM events WHERE object_id = 2001`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	g, err := store.updateInOneStatement(ctx, p, commentUpdate(2001, 2, "first"), nil)
	if err != nil {
		t.Fatal(err)
	}
	stored, err := store.Get(ctx, p, 2001)
	if err != nil {
		t.Fatal(err)
	}
	if stored.Version != 2 || *stored.Comment != "first" || g.Version != 2 || *g.Comment != "first" {
		t.Fatalf("after the update: stored version %d comment %q, answer version %d comment %q", stored.Version,
			*stored.Comment, g.Version, *g.Comment)
	}
	// The answer is the group as stored (the same full format a read gives),
	// and the audit event's after is the answer.
	want, err := appendGroup(nil, stored, true)
	if err != nil {
		t.Fatal(err)
	}
	var before, after []byte
	if err := d.QueryRow(`SELECT before::text, after::text FROM events WHERE object_id = 2001 ORDER BY id DESC LIMIT 1`).
		Scan(&before, &after); err != nil {
		t.Fatal(err)
	}
	if !jsonEqual(t, after, want) || !jsonEqual(t, g.encoded, want) {
		t.Fatalf("event after %s\nanswer %s\nstored %s", after, g.encoded, want)
	}
	var was struct {
		Group struct {
			Version int64 `json:"_version"`
		} `json:"group"`
	}
	if err := json.Unmarshal(before, &was); err != nil || was.Group.Version != 1 {
		t.Fatalf("event before %s (%v): want version 1", before, err)
	}

	refused := []struct {
		name string
		p    *policy.Principal
		in   *Input
		code string
	}{
		{"stale version", p, commentUpdate(2001, 2, "stale"), "error.user.version_mismatch"},
		{"no bag_write", &policy.Principal{UserID: 1000, UserType: "easydb", Groups: []int64{},
			SystemGroups: policy.SystemGroupsFor("easydb")}, commentUpdate(2001, 3, "refused"), "error.user.insufficient_rights"},
		{"name taken", p, &Input{ID: 2001, Version: 3, Name: ptr("taken"), NameSet: true}, "error.user.integrity_constraint_violation"},
		{"unknown group", p, commentUpdate(9999, 2, "none"), "error.user.group_not_found"},
	}
	for _, c := range refused {
		n := events()
		_, err := store.updateInOneStatement(ctx, c.p, c.in, nil)
		if errors.CodeOf(err) != c.code {
			t.Fatalf("%s: %v, want %s", c.name, err, c.code)
		}
		if events() != n {
			t.Fatalf("%s: an audit event was written", c.name)
		}
	}
	if now, _ := store.Get(ctx, p, 2001); now.Version != 2 || *now.Name != "target" {
		t.Fatalf("refused updates changed the group: version %d name %q", now.Version, *now.Name)
	}
}

// TestUpdateInOneStatementLosesNoUpdate: writers racing with the same
// version on one group; exactly one wins, every other is told
// version_mismatch, and there is one event per version.
func TestUpdateInOneStatementLosesNoUpdate(t *testing.T) {
	d := dbtest.MustOpenDB(t)
	store, p := singleUpdateWorld(t, d)
	ctx := context.Background()
	const writers = 16
	for version := int64(2); version < 6; version++ {
		errs := make(chan error, writers)
		for w := 0; w < writers; w++ {
			go func() {
				_, err := store.updateInOneStatement(ctx, p, commentUpdate(2001, version, "race "+strconv.Itoa(w)), nil)
				errs <- err
			}()
		}
		won := 0
		for w := 0; w < writers; w++ {
			err := <-errs
			switch {
			case err == nil:
				won++
			case errors.CodeOf(err) == "error.user.version_mismatch":
			default:
				t.Fatalf("version %d: %v", version, err)
			}
		}
		if won != 1 {
			t.Fatalf("version %d: %d writers won, want 1", version, won)
		}
	}
	var versions, events int
	if err := d.QueryRow(`SELECT (SELECT version FROM groups WHERE id = 2001),
		(SELECT count(DISTINCT (after->'group'->>'_version')) FROM events WHERE object_id = 2001)`).Scan(&versions, &events); err != nil {
		t.Fatal(err)
	}
	if versions != 5 || events != 4 {
		t.Fatalf("version %d with %d distinct events, want 5 and 4", versions, events)
	}
}

func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatalf("%s: %v", a, err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	xb, _ := json.Marshal(x)
	yb, _ := json.Marshal(y)
	return string(xb) == string(yb)
}

func ptr[T any](v T) *T { return &v }

// BenchmarkSingleUpdate: one comment update by a non-root writer, one at a
// time, through Write as it is, through the one-statement prototype (its
// read with the rights in SQL, and with the rights from Casbin), and the
// floor of groupbench's scenario 4 (UPDATE ... RETURNING by id, unprepared
// as lib/pq sends it: two round trips). The four run in turn, each timed on
// its own, so that a shared machine's load falls on all of them alike:
// <name>-p50-ns is each one's median, <name>/floor its ratio to the floor's,
// <name>-round-trips counted on the socket (dbtest.OpenCounted).
func BenchmarkSingleUpdate(b *testing.B) {
	d, trips := dbtest.OpenCounted(b)
	store, p := singleUpdateWorld(b, d)
	engine, err := policy.New()
	if err != nil {
		b.Fatal(err)
	}
	plain := withRowQuery(b, d, engine)
	ctx := context.Background()
	version := int64(1)
	variants := []struct {
		name   string
		update func() error
	}{
		{"write", func() error {
			_, err := store.Write(ctx, p, []*Input{commentUpdate(2001, version, "write")})
			return err
		}},
		{"one", func() error {
			_, err := store.updateInOneStatement(ctx, p, commentUpdate(2001, version, "one"), nil)
			return err
		}},
		{"one-casbin-rights", func() error {
			_, err := plain.updateInOneStatement(ctx, p, commentUpdate(2001, version, "one"), engine.Rights)
			return err
		}},
		{"floor", func() error {
			rows, err := d.QueryContext(ctx, `UPDATE groups SET version = version + 1, comment = $2, updated_at = now()
				WHERE id = $1 RETURNING id, version, type, name, displayname, reference, COALESCE(owner_user_id, 0)`, 2001, "floor")
			if err != nil {
				return err
			}
			return rows.Close()
		}},
	}
	times := make([][]time.Duration, len(variants))
	roundTrips := make([]int64, len(variants))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for k := range variants {
			v := (i + k) % len(variants)
			version++
			before, t0 := trips.Count(), time.Now()
			if err := variants[v].update(); err != nil {
				b.Fatal(err)
			}
			times[v] = append(times[v], time.Since(t0))
			roundTrips[v] += trips.Count() - before
		}
	}
	b.StopTimer()
	median := func(ds []time.Duration) float64 {
		slices.Sort(ds)
		return float64(ds[len(ds)/2])
	}
	floor := median(times[len(variants)-1])
	for v, c := range variants {
		m := median(times[v])
		b.ReportMetric(m, c.name+"-p50-ns")
		b.ReportMetric(float64(roundTrips[v])/float64(b.N), c.name+"-round-trips")
		if v < len(variants)-1 {
			b.ReportMetric(m/floor, c.name+"/floor")
		}
	}
}
