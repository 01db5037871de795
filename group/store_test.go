package group

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math/rand"
	"slices"
	"testing"
	"time"

	"github.com/groupd/groupd/acl"
	"github.com/groupd/groupd/db/dbtest"
	"github.com/groupd/groupd/policy"
	"github.com/groupd/groupd/rights"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// world is a random population of users, groups, memberships, owners, ACL
// entries and system rights, written straight into the tables.
type world struct {
	users      []int64
	userTypes  map[int64]string
	userRights map[int64]rights.Map
	groups     []int64
	members    map[int64][]int64 // user -> static groups
	groupRight map[int64]rights.Map
}

func randomRights(r *rand.Rand) rights.Map {
	m := rights.Map{}
	switch r.Intn(8) {
	case 0:
		m[rights.SystemRoot] = rights.Params{}
	case 1, 2:
		m[rights.SystemGroup] = rights.Params{rights.ParamGlobalCustomBagRead: r.Intn(2) == 0}
	}
	return m
}

func buildWorld(t *testing.T, tx *sql.Tx, r *rand.Rand, now time.Time) *world {
	w := &world{userTypes: map[int64]string{}, userRights: map[int64]rights.Map{}, members: map[int64][]int64{},
		groupRight: map[int64]rights.Map{}}
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := tx.Exec(q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec(`DELETE FROM group_acl; DELETE FROM memberships; DELETE FROM groups WHERE id > 2; DELETE FROM users WHERE id > 1`)
	nUsers, nGroups := 2+r.Intn(6), 2+r.Intn(10)
	for i := 0; i < nUsers; i++ {
		id := int64(1000 + i)
		typ := "easydb"
		if r.Intn(6) == 0 {
			typ = "system"
		}
		sr := randomRights(r)
		b, _ := json.Marshal(sr)
		exec(`INSERT INTO users (id, login, type, system_rights) VALUES ($1, $2, $3, $4)`, id, fmt.Sprint("u", id), typ, string(b))
		w.users, w.userTypes[id], w.userRights[id] = append(w.users, id), typ, sr
	}
	types := []string{"easydb", "easydb", "custom-x", "custom-y"}
	for i := 0; i < nGroups; i++ {
		id := int64(2000 + i)
		sr := randomRights(r)
		b, _ := json.Marshal(sr)
		var ownerUser, ownerGroup any
		if r.Intn(3) == 0 && i > 0 {
			ownerGroup = w.groups[r.Intn(len(w.groups))]
			if r.Intn(4) == 0 {
				ownerGroup = []int64{policy.GroupAll, policy.GroupNonSystem}[r.Intn(2)]
			}
		} else {
			ownerUser = w.users[r.Intn(len(w.users))]
		}
		exec(`INSERT INTO groups (id, name, type, system_rights, owner_user_id, owner_group_id) VALUES ($1, $2, $3, $4, $5, $6)`,
			id, fmt.Sprint("g", id), types[r.Intn(len(types))], string(b), ownerUser, ownerGroup)
		w.groups, w.groupRight[id] = append(w.groups, id), sr
	}
	for _, u := range w.users {
		for _, g := range w.groups {
			if r.Intn(4) == 0 {
				exec(`INSERT INTO memberships (group_id, user_id) VALUES ($1, $2)`, g, u)
				w.members[u] = append(w.members[u], g)
			}
		}
	}
	subjects := append([]int64{policy.GroupAll, policy.GroupNonSystem}, w.groups...)
	for _, target := range append(slices.Clone(w.groups), policy.GroupAll) {
		for pos := 0; pos < r.Intn(5); pos++ {
			var whoUser, whoGroup any
			whoOwner := false
			switch r.Intn(5) {
			case 0, 1:
				whoUser = w.users[r.Intn(len(w.users))]
			case 2, 3:
				whoGroup = subjects[r.Intn(len(subjects))]
			default:
				whoOwner = true
			}
			granted := rights.Map{}
			for _, name := range rights.GroupACLRights {
				if r.Intn(4) == 0 {
					granted[name] = rights.Params{}
				}
			}
			var from, to any
			if r.Intn(3) == 0 {
				from = now.Add(time.Duration(r.Intn(7)-3) * time.Hour)
			}
			if r.Intn(3) == 0 {
				to = now.Add(time.Duration(r.Intn(7)-3) * time.Hour)
			}
			b, _ := json.Marshal(granted)
			exec(`INSERT INTO group_acl (group_id, position, who_user_id, who_group_id, who_owner, rights, mask, active, valid_from, valid_to)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
				target, pos, whoUser, whoGroup, whoOwner, string(b), int(acl.MaskOf(granted)), r.Intn(5) != 0, from, to)
		}
	}
	return w
}

// principal builds the principal of user u from the world, independently of
// the session package: static groups, computed system groups, the union of
// the system rights of the user and of every group it is in.
func (w *world) principal(u int64) *policy.Principal {
	p := &policy.Principal{UserID: u, UserType: w.userTypes[u], Groups: slices.Clone(w.members[u])}
	slices.Sort(p.Groups)
	p.SystemGroups = policy.SystemGroupsFor(p.UserType)
	maps := []rights.Map{w.userRights[u]}
	for _, g := range p.Groups {
		maps = append(maps, w.groupRight[g])
	}
	p.SystemRights = rights.Union(maps...)
	return p
}

// TestSQLMatchesPolicy is the property test of DESIGN.md "State and scale":
// on random worlds, the groups the SQL listing returns are exactly those for
// which Casbin allows bag_read, and the rights computed in SQL for
// _generated_rights are exactly those Casbin grants.
func TestSQLMatchesPolicy(t *testing.T) {
	d := dbtest.MustOpenDB(t)
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	d.Now = func() time.Time { return now }
	engine, err := policy.New()
	if err != nil {
		t.Fatal(err)
	}
	engine.SetClock(func() time.Time { return now })
	store, err := NewStore(context.Background(), d, engine, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	seed := time.Now().UnixNano()
	r := rand.New(rand.NewSource(seed))
	worlds, checks := 200, 0
	if testing.Short() {
		worlds = 40
	}
	for i := 0; i < worlds; i++ {
		tx, err := d.Begin()
		if err != nil {
			t.Fatal(err)
		}
		w := buildWorld(t, tx, r, now)
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		for _, u := range w.users {
			p := w.principal(u)
			listed, total, err := store.List(ctx, p, Filter{Limit: MaxLimit})
			if err != nil {
				t.Fatal(err)
			}
			var got []int64
			for _, g := range listed {
				got = append(got, g.ID)
			}
			tx, _ := d.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
			all, err := store.findGroups(ctx, tx, p, now, append(slices.Clone(w.groups), policy.GroupAll, policy.GroupNonSystem), findOptions{})
			tx.Rollback()
			if err != nil {
				t.Fatal(err)
			}
			var want []int64
			for _, g := range all {
				can, err := engine.Can(p, rights.BagRead, g.PolicyObject())
				if err != nil {
					t.Fatal(err)
				}
				if can {
					want = append(want, g.ID)
				}
				mask, err := engine.Rights(p, g.PolicyObject())
				if err != nil {
					t.Fatal(err)
				}
				if mask != g.Generated {
					t.Fatalf("seed %d world %d user %d group %d: SQL rights %v, Casbin %v", seed, i, u, g.ID,
						g.Generated.Names(), mask.Names())
				}
				checks++
			}
			slices.Sort(want)
			if !slices.Equal(got, want) || total != len(want) {
				t.Fatalf("seed %d world %d user %d (%+v): SQL lists %v (total %d), Casbin allows bag_read on %v",
					seed, i, u, p, got, total, want)
			}
		}
	}
	t.Logf("%d worlds, %d (principal, group) pairs agree", worlds, checks)
}
