package policy

import (
	"fmt"
	"math/rand"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/groupd/groupd/acl"
	"github.com/groupd/groupd/rights"
)

// This file holds the reference model: the rules of the policy engine's
// brief, written straight in plain Go, without Casbin and without the
// engine's helpers (no Principal.InGroup, acl.Entry.InEffect, rights.Bit,
// rights.IsCustomGroupType or rights.Closure), so that a mistake in either
// shows up as a disagreement in TestCanAgreesWithReference.

// refBits are the ACL right names with their mask bits.
var refBits = map[string]rights.Mask{
	"bag_read": rights.MaskBagRead, "bag_write": rights.MaskBagWrite, "bag_delete": rights.MaskBagDelete,
	"link": rights.MaskLink, "unlink": rights.MaskUnlink,
	"read": rights.MaskRead, "write": rights.MaskWrite, "delete": rights.MaskDelete,
}

func refContains(ids []int64, id int64) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

// refIsIn: a principal is in a group by a stored membership or by a
// computed system group.
func refIsIn(p *Principal, group int64) bool {
	return refContains(p.Groups, group) || refContains(p.SystemGroups, group)
}

// refEntryGrants: an active entry whose window holds now (From inclusive,
// To exclusive), naming the principal's user or one of its groups, and not
// the owner, grants the rights of its mask.
func refEntryGrants(p *Principal, e *acl.Entry, bit rights.Mask, now time.Time) bool {
	if e.WhoOwner || !e.Active {
		return false
	}
	if e.From != nil && e.From.After(now) {
		return false
	}
	if e.To != nil && (e.To.Before(now) || e.To.Equal(now)) {
		return false
	}
	names := (e.WhoUserID != 0 && e.WhoUserID == p.UserID) || (e.WhoGroupID != 0 && refIsIn(p, e.WhoGroupID))
	return names && e.Mask&bit != 0
}

func refACLGrants(p *Principal, entries []acl.Entry, bit rights.Mask, now time.Time) bool {
	for i := range entries {
		if refEntryGrants(p, &entries[i], bit, now) {
			return true
		}
	}
	return false
}

func refOwns(p *Principal, obj *Object) bool {
	return (obj.OwnerUserID != 0 && obj.OwnerUserID == p.UserID) ||
		(obj.OwnerGroupID != 0 && refIsIn(p, obj.OwnerGroupID))
}

// refCan is the reference decision.
func refCan(p *Principal, right string, obj *Object, now time.Time) bool {
	bit, known := refBits[right]
	if !known || p == nil || obj == nil || (obj.Kind != "group" && obj.Kind != "user") {
		return false
	}
	if _, root := p.SystemRights["system.root"]; root {
		return true
	}
	switch obj.Kind {
	case "group":
		if refOwns(p, obj) && (right == "bag_read" || right == "bag_write" || right == "bag_delete") {
			return true
		}
		if right == "bag_read" && obj.GroupType == "easydb" && refContains(p.Groups, obj.ID) {
			return true
		}
		if refACLGrants(p, obj.ACL, bit, now) {
			return true
		}
		globalRead, _ := p.SystemRights["system.group"]["global_custom_bag_read"].(bool)
		custom := strings.HasPrefix(obj.GroupType, "custom-") && len(obj.GroupType) > len("custom-")
		return right == "bag_read" && globalRead && custom
	case "user":
		if right != "read" && right != "write" && right != "delete" {
			return false
		}
		if refOwns(p, obj) || refACLGrants(p, obj.ACL, bit, now) {
			return true
		}
		for _, g := range obj.UserGroups {
			if refACLGrants(p, g.ACL, bit, now) {
				return true
			}
		}
	}
	return false
}

// --- random worlds ----------------------------------------------------------

// refNow is the fixed clock of the random worlds and the table tests.
var refNow = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

type world struct {
	principals []*Principal
	objects    []*Object
}

func pick[T any](r *rand.Rand, xs ...T) T { return xs[r.Intn(len(xs))] }

// randomWorld builds a small world, so that 10,000 of them stay quick
// under -race (an Enforce costs about 100 us there): users 1-3 and groups
// :all, :non_system and 3-4, with random static memberships, owners,
// system rights and ACL entries whose windows lie around refNow (the window
// edges exactly at refNow included). One of the users acts (the world's
// principal), and the world's object is either one group (usually the last
// one, now and then :all) or one user with the ACLs of its groups: eight
// decisions per world. User ids and group ids overlap on purpose, so that
// confusing the two shows.
func randomWorld(r *rand.Rand) *world {
	const users = 3
	groupIDs := []int64{GroupAll, GroupNonSystem, 3}
	if r.Intn(2) == 0 {
		groupIDs = append(groupIDs, 4)
	}
	userID := func() int64 { return int64(1 + r.Intn(users)) }
	at := func(d time.Duration) *time.Time { t := refNow.Add(d); return &t }
	when := func() (*time.Time, *time.Time) {
		from := pick(r, nil, nil, at(-time.Hour), at(0), at(time.Nanosecond))
		to := pick(r, nil, nil, at(time.Hour), at(0), at(time.Nanosecond), at(-time.Minute))
		return from, to
	}
	entries := func() []acl.Entry {
		var out []acl.Entry
		for range r.Intn(4) {
			var e acl.Entry
			switch r.Intn(7) {
			case 0, 1:
				e.WhoUserID = userID()
			case 2, 3, 4:
				e.WhoGroupID = pick(r, groupIDs...)
			case 5:
				e.WhoOwner = true
			} // 6: an entry naming nobody
			names := map[string]rights.Params{}
			for range 1 + r.Intn(2) {
				names[pick(r, rights.ACLRightNames...)] = rights.Params{}
			}
			e.Rights = names
			e.Mask = acl.MaskOf(e.Rights)
			e.Active = r.Intn(5) > 0
			e.From, e.To = when()
			out = append(out, e)
		}
		return out
	}
	owner := func(obj *Object) {
		switch r.Intn(5) {
		case 0, 1:
			obj.OwnerUserID = userID()
		case 2, 3:
			obj.OwnerGroupID = pick(r, groupIDs...)
		}
	}

	w := &world{}
	var groups []*Object
	groupACL := map[int64][]acl.Entry{}
	for _, id := range groupIDs {
		obj := &Object{Kind: "group", ID: id, GroupType: "system", ACL: entries()}
		if id > GroupNonSystem {
			obj.GroupType = pick(r, "easydb", "easydb", "custom-x", "custom-", "system")
		}
		owner(obj)
		groupACL[id] = obj.ACL
		groups = append(groups, obj)
	}
	static := map[int64][]int64{}
	for u := int64(1); u <= users; u++ {
		for _, id := range groupIDs {
			// Stored memberships of system groups do not happen; the
			// engine must still not treat them as special, hence 1 in 10.
			if (id > GroupNonSystem && r.Intn(2) == 0) || r.Intn(10) == 0 {
				static[u] = append(static[u], id)
			}
		}
	}
	// One user acts: the others matter as owners, ACL subjects and the user
	// object, and a principal more per world would double the decisions.
	actor := userID()
	p := &Principal{UserID: actor, Login: "u" + strconv.FormatInt(actor, 10), UserType: pick(r, "easydb", "system"),
		Groups: static[actor]}
	switch r.Intn(4) {
	case 0:
		p.SystemGroups = SystemGroupsFor(p.UserType)
	case 1:
		p.SystemGroups = pick(r, []int64{GroupAll}, []int64{GroupNonSystem}, nil)
	default:
		p.SystemGroups = []int64{GroupAll, GroupNonSystem}
	}
	p.SystemRights = pick(r,
		nil,
		rights.Map{},
		rights.Map{"system.root": {}},
		rights.Map{"system.group": {"global_custom_bag_read": true}},
		rights.Map{"system.group": {"global_custom_bag_read": false, "create": true}},
		rights.Map{"system.group": {}, "system.user": {"create": true}},
	)
	w.principals = append(w.principals, p)

	switch r.Intn(16) {
	case 0: // :all
		w.objects = append(w.objects, groups[0])
	case 1, 2, 3, 4, 5, 6, 7:
		w.objects = append(w.objects, groups[len(groups)-1])
	default:
		u := userID()
		user := &Object{Kind: "user", ID: u, ACL: entries()}
		owner(user)
		for _, g := range static[u] {
			user.UserGroups = append(user.UserGroups, GroupACL{GroupID: g, ACL: groupACL[g]})
		}
		w.objects = append(w.objects, user)
	}
	return w
}

func (w *world) String() string {
	var b strings.Builder
	for _, p := range w.principals {
		fmt.Fprintf(&b, "principal %+v\n", *p)
	}
	for _, o := range w.objects {
		fmt.Fprintf(&b, "object %s %d type=%q owner user=%d group=%d\n", o.Kind, o.ID, o.GroupType, o.OwnerUserID, o.OwnerGroupID)
		for _, e := range o.ACL {
			fmt.Fprintf(&b, "  acl %s\n", entryString(e))
		}
		for _, g := range o.UserGroups {
			for _, e := range g.ACL {
				fmt.Fprintf(&b, "  via group %d: acl %s\n", g.GroupID, entryString(e))
			}
		}
	}
	return b.String()
}

func entryString(e acl.Entry) string {
	tm := func(t *time.Time) string {
		if t == nil {
			return "-"
		}
		return t.Sub(refNow).String()
	}
	return fmt.Sprintf("who user=%d group=%d owner=%v rights=%v active=%v from=%s to=%s (relative to now)",
		e.WhoUserID, e.WhoGroupID, e.WhoOwner, e.Mask.Names(), e.Active, tm(e.From), tm(e.To))
}

// TestCanAgreesWithReference is the property test: on 10,000 random worlds,
// Can agrees with refCan for the world's principal, every ACL right and
// the world's object, and on every 25th world Rights agrees too. The worlds are split
// among goroutines sharing one Engine, so that -race sees concurrent
// Enforce calls as well. POLICY_SEED=n runs with another base seed (world
// i has seed n+i); a failure names its world's seed.
func TestCanAgreesWithReference(t *testing.T) {
	const worlds = 10_000
	base := int64(20261123)
	if s := os.Getenv("POLICY_SEED"); s != "" {
		var err error
		if base, err = strconv.ParseInt(s, 10, 64); err != nil {
			t.Fatalf("POLICY_SEED: %v", err)
		}
	}
	e := newTestEngine(t)

	workers := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var decisions, grants int
	for wk := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n, granted := 0, 0
			defer func() { mu.Lock(); decisions += n; grants += granted; mu.Unlock() }()
			for i := wk; i < worlds; i += workers {
				seed := base + int64(i)
				w := randomWorld(rand.New(rand.NewSource(seed)))
				for _, p := range w.principals {
					for _, obj := range w.objects {
						var want rights.Mask
						for _, right := range rights.ACLRightNames {
							got, err := e.Can(p, right, obj)
							ref := refCan(p, right, obj, refNow)
							n++
							if err != nil || got != ref {
								t.Errorf("world %d of base seed %d, world seed %d (POLICY_SEED=%[3]d replays it first): Can(user %d, %s, %s %d) = %v, %v; reference says %v\n%s",
									i, base, seed, p.UserID, right, obj.Kind, obj.ID, got, err, ref, w)
								return
							}
							if ref {
								granted++
								want |= refBits[right]
							}
						}
						if i%25 != 0 {
							continue
						}
						if got, err := e.Rights(p, obj); err != nil || got != want {
							t.Errorf("seed %d: Rights(user %d, %s %d) = %v, %v; reference says %v\n%s",
								seed, p.UserID, obj.Kind, obj.ID, got.Names(), err, want.Names(), w)
							return
						}
					}
				}
			}
		}()
	}
	wg.Wait()
	// A generator that never produced grants (or never refusals) would make
	// the comparison vacuous.
	if grants == 0 || grants == decisions {
		t.Fatalf("%d of %d decisions granted: the worlds do not exercise both outcomes", grants, decisions)
	}
	t.Logf("%d worlds, %d decisions, %d granted, POLICY_SEED=%d", worlds, decisions, grants, base)
}

func newTestEngine(t testing.TB) *Engine {
	t.Helper()
	e, err := New()
	if err != nil {
		t.Fatal(err)
	}
	e.SetClock(func() time.Time { return refNow })
	return e
}
