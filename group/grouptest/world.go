// Package grouptest builds random worlds of users, groups, memberships,
// owners, ACL entries and system rights for the property tests that compare
// SQL visibility with Casbin (packages group and object).
package grouptest

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"math/rand"
	"slices"
	"testing"
	"time"

	"github.com/groupd/groupd/acl"
	"github.com/groupd/groupd/policy"
	"github.com/groupd/groupd/rights"
)

// World is a random population of users, groups, memberships, owners, ACL
// entries and system rights, written straight into the tables.
type World struct {
	Users      []int64
	UserTypes  map[int64]string
	UserRights map[int64]rights.Map
	Groups     []int64
	Members    map[int64][]int64 // user -> static groups
	GroupRight map[int64]rights.Map
}

func RandomRights(r *rand.Rand) rights.Map {
	m := rights.Map{}
	switch r.Intn(8) {
	case 0:
		m[rights.SystemRoot] = rights.Params{}
	case 1, 2:
		m[rights.SystemGroup] = rights.Params{rights.ParamGlobalCustomBagRead: r.Intn(2) == 0}
	case 3:
		m[rights.SystemObject] = rights.Params{rights.ParamReadAll: r.Intn(2) == 0}
	}
	return m
}

func BuildWorld(t testing.TB, tx *sql.Tx, r *rand.Rand, now time.Time) *World {
	w := &World{UserTypes: map[int64]string{}, UserRights: map[int64]rights.Map{}, Members: map[int64][]int64{},
		GroupRight: map[int64]rights.Map{}}
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
		sr := RandomRights(r)
		b, _ := json.Marshal(sr)
		exec(`INSERT INTO users (id, login, type, system_rights) VALUES ($1, $2, $3, $4)`, id, fmt.Sprint("u", id), typ, string(b))
		w.Users, w.UserTypes[id], w.UserRights[id] = append(w.Users, id), typ, sr
	}
	types := []string{"easydb", "easydb", "custom-x", "custom-y"}
	for i := 0; i < nGroups; i++ {
		id := int64(2000 + i)
		sr := RandomRights(r)
		b, _ := json.Marshal(sr)
		var ownerUser, ownerGroup any
		if r.Intn(3) == 0 && i > 0 {
			ownerGroup = w.Groups[r.Intn(len(w.Groups))]
			if r.Intn(4) == 0 {
				ownerGroup = []int64{policy.GroupAll, policy.GroupNonSystem}[r.Intn(2)]
			}
		} else {
			ownerUser = w.Users[r.Intn(len(w.Users))]
		}
		exec(`INSERT INTO groups (id, name, type, system_rights, owner_user_id, owner_group_id) VALUES ($1, $2, $3, $4, $5, $6)`,
			id, fmt.Sprint("g", id), types[r.Intn(len(types))], string(b), ownerUser, ownerGroup)
		w.Groups, w.GroupRight[id] = append(w.Groups, id), sr
	}
	for _, u := range w.Users {
		for _, g := range w.Groups {
			if r.Intn(4) == 0 {
				exec(`INSERT INTO memberships (group_id, user_id) VALUES ($1, $2)`, g, u)
				w.Members[u] = append(w.Members[u], g)
			}
		}
	}
	subjects := append([]int64{policy.GroupAll, policy.GroupNonSystem}, w.Groups...)
	for _, target := range append(slices.Clone(w.Groups), policy.GroupAll) {
		for pos := 0; pos < r.Intn(5); pos++ {
			var whoUser, whoGroup any
			whoOwner := false
			switch r.Intn(5) {
			case 0, 1:
				whoUser = w.Users[r.Intn(len(w.Users))]
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

// Principal builds the principal of user u from the world, independently of
// the session package: static groups, computed system groups, the union of
// the system rights of the user and of every group it is in.
func (w *World) Principal(u int64) *policy.Principal {
	p := &policy.Principal{UserID: u, UserType: w.UserTypes[u], Groups: slices.Clone(w.Members[u])}
	slices.Sort(p.Groups)
	p.SystemGroups = policy.SystemGroupsFor(p.UserType)
	maps := []rights.Map{w.UserRights[u]}
	for _, g := range p.Groups {
		maps = append(maps, w.GroupRight[g])
	}
	p.SystemRights = rights.Union(maps...)
	return p
}
