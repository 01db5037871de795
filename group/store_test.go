package group

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"math/rand"
	"slices"
	"testing"
	"time"

	"github.com/groupd/groupd/db/dbtest"
	"github.com/groupd/groupd/group/grouptest"
	"github.com/groupd/groupd/policy"
	"github.com/groupd/groupd/rights"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// TestSQLMatchesPolicy is the property test of DESIGN.md "State and scale":
// on random worlds, the groups the SQL listing returns are exactly those for
// which Casbin allows bag_read, and the rights computed in SQL for
// _generated_rights are exactly those Casbin grants, in the listing's read
// and in the read by id.
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
		w := grouptest.BuildWorld(t, tx, r, now)
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		for _, u := range w.Users {
			p := w.Principal(u)
			listed, total, err := store.List(ctx, p, Filter{Limit: MaxLimit})
			if err != nil {
				t.Fatal(err)
			}
			var got []int64
			byID := map[int64]*Group{}
			for _, g := range listed {
				got = append(got, g.ID)
				byID[g.ID] = g
			}
			tx, _ := d.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
			all, err := store.findGroups(ctx, tx, p, now, append(slices.Clone(w.Groups), policy.GroupAll, policy.GroupNonSystem), findOptions{})
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
				// The read by id (getQuery, a statement of its own shape)
				// answers the same group, rights and ACL subjects included.
				one, err := store.Get(ctx, p, g.ID)
				if err != nil {
					t.Fatal(err)
				}
				wantFull, err := appendGroup(nil, g, true)
				if err != nil {
					t.Fatal(err)
				}
				gotFull, err := appendGroup(nil, one, true)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(gotFull, wantFull) {
					t.Fatalf("seed %d world %d user %d group %d: Get reads\n%s\nthe listing's read\n%s", seed, i, u, g.ID,
						gotFull, wantFull)
				}
				// The listing computes the rights and the owner its own
				// way (listFull): the same group, byte for byte.
				if l := byID[g.ID]; l != nil {
					listedJSON, err := json.Marshal(l)
					if err != nil {
						t.Fatal(err)
					}
					foundJSON, err := json.Marshal(g)
					if err != nil {
						t.Fatal(err)
					}
					if !bytes.Equal(listedJSON, foundJSON) {
						t.Fatalf("seed %d world %d user %d group %d: listed as\n%s\nread by id as\n%s", seed, i, u, g.ID,
							listedJSON, foundJSON)
					}
				}
				checks++
			}
			slices.Sort(want)
			if !slices.Equal(got, want) || total != len(want) {
				t.Fatalf("seed %d world %d user %d (%+v): SQL lists %v (total %d), Casbin allows bag_read on %v",
					seed, i, u, p, got, total, want)
			}
			// A page past the end is empty (not nil) and still counts them all.
			past, pastTotal, pastErr := store.List(ctx, p, Filter{Limit: 10, Offset: len(want)})
			if pastErr != nil {
				t.Fatal(pastErr)
			}
			if past == nil || len(past) != 0 || pastTotal != len(want) {
				t.Fatalf("seed %d world %d user %d: the page past the end has %d groups (nil: %v), total %d, want none of %d",
					seed, i, u, len(past), past == nil, pastTotal, len(want))
			}
		}
	}
	t.Logf("%d worlds, %d (principal, group) pairs agree", worlds, checks)
}
