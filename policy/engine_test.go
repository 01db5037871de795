package policy

import (
	"math/rand"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/groupd/groupd/acl"
	"github.com/groupd/groupd/rights"
)

// Users and groups of the table tests. User ids are also used as group ids
// on purpose (user 5 is not group 5).
const (
	alice    int64 = 5  // the acting user in most cases
	bob      int64 = 6  // someone else
	sales    int64 = 10 // an easydb group alice is a static member of
	audit    int64 = 11 // a group alice is not in
	plugin   int64 = 12 // a custom-* group
	target   int64 = 20 // the object group of most cases
	someUser int64 = 30 // the object user of the user cases
)

func principal(mods ...func(*Principal)) *Principal {
	p := &Principal{UserID: alice, Login: "alice", UserType: "easydb", Groups: []int64{sales},
		SystemGroups: SystemGroupsFor("easydb")}
	for _, m := range mods {
		m(p)
	}
	return p
}

func withRights(m rights.Map) func(*Principal) { return func(p *Principal) { p.SystemRights = m } }
func withGroups(ids ...int64) func(*Principal) { return func(p *Principal) { p.Groups = ids } }
func systemUser(p *Principal) {
	p.UserType = "system"
	p.SystemGroups = SystemGroupsFor("system")
}

func group(typ string, mods ...func(*Object)) *Object {
	o := &Object{Kind: "group", ID: target, GroupType: typ, OwnerUserID: bob}
	for _, m := range mods {
		m(o)
	}
	return o
}

func user(mods ...func(*Object)) *Object {
	o := &Object{Kind: "user", ID: someUser, OwnerUserID: bob}
	for _, m := range mods {
		m(o)
	}
	return o
}

func ownedByUser(id int64) func(*Object) {
	return func(o *Object) { o.OwnerUserID, o.OwnerGroupID = id, 0 }
}
func ownedByGroup(id int64) func(*Object) {
	return func(o *Object) { o.OwnerUserID, o.OwnerGroupID = 0, id }
}
func withID(id int64) func(*Object)              { return func(o *Object) { o.ID = id } }
func withACL(entries ...acl.Entry) func(*Object) { return func(o *Object) { o.ACL = entries } }
func inGroups(gs ...GroupACL) func(*Object)      { return func(o *Object) { o.UserGroups = gs } }

// grant is an active, unlimited ACL entry for who with the given rights.
func grant(who func(*acl.Entry), names ...string) acl.Entry {
	e := acl.Entry{Active: true, Rights: rights.Map{}}
	for _, n := range names {
		e.Rights[n] = rights.Params{}
	}
	e.Mask = acl.MaskOf(e.Rights)
	who(&e)
	return e
}

func toUser(id int64) func(*acl.Entry)  { return func(e *acl.Entry) { e.WhoUserID = id } }
func toGroup(id int64) func(*acl.Entry) { return func(e *acl.Entry) { e.WhoGroupID = id } }
func toOwner(e *acl.Entry)              { e.WhoOwner = true }
func toNobody(*acl.Entry)               {}

func inactive(e acl.Entry) acl.Entry { e.Active = false; return e }
func window(from, to *time.Duration) func(acl.Entry) acl.Entry {
	return func(e acl.Entry) acl.Entry {
		if from != nil {
			t := refNow.Add(*from)
			e.From = &t
		}
		if to != nil {
			t := refNow.Add(*to)
			e.To = &t
		}
		return e
	}
}
func d(x time.Duration) *time.Duration { return &x }

var (
	groupRights = []string{"bag_read", "bag_write", "bag_delete"}
	userRights  = []string{"read", "write", "delete"}
)

type decisionCase struct {
	name  string
	p     *Principal
	obj   *Object
	grant []string // exactly these rights of rights.ACLRightNames are granted
}

func decisionCases() []decisionCase {
	root := principal(withRights(rights.Map{"system.root": {}}))
	globalRead := principal(withRights(rights.Map{"system.group": {"global_custom_bag_read": true}}))
	return []decisionCase{
		// system.root
		{"root, group", root, group("easydb"), rights.ACLRightNames},
		{"root, system group", root, group("system", withID(GroupAll)), rights.ACLRightNames},
		{"root, user", root, user(), rights.ACLRightNames},
		{"root from a principal with nothing else", &Principal{UserID: 99, SystemRights: rights.Map{"system.root": {}}},
			group("custom-x", ownedByUser(0)), rights.ACLRightNames},
		{"system.group without root", principal(withRights(rights.Map{"system.group": {"create": true}})),
			group("easydb"), nil},

		// owners of groups
		{"owner user", principal(), group("easydb", ownedByUser(alice)), groupRights},
		{"owner group, static member", principal(), group("easydb", ownedByGroup(sales)), groupRights},
		{"owner group :all", principal(), group("system", ownedByGroup(GroupAll)), groupRights},
		{"owner group :non_system, system user", principal(systemUser), group("easydb", ownedByGroup(GroupNonSystem)), nil},
		{"owner group :non_system, easydb user", principal(), group("easydb", ownedByGroup(GroupNonSystem)), groupRights},
		{"owner group alice is not in", principal(), group("easydb", ownedByGroup(audit)), nil},
		{"owner group id equal to alice's user id", principal(), group("easydb", ownedByGroup(alice)), nil},
		{"owner user id equal to alice's group", principal(), group("easydb", ownedByUser(sales)), nil},
		{"no owner, user id 0", &Principal{}, group("easydb", ownedByUser(0)), nil},
		{"someone else owns", principal(), group("easydb"), nil},

		// static membership
		{"static member, easydb", principal(), group("easydb", withID(sales)), []string{"bag_read"}},
		{"static member, custom", principal(withGroups(plugin)), group("custom-x", withID(plugin)), nil},
		{"static member, system", principal(withGroups(GroupAll)), group("system", withID(GroupAll)), nil},
		{"system-group member only, easydb-typed id", principal(withGroups()), group("easydb", withID(GroupNonSystem)), nil},
		{"member of another group", principal(), group("easydb", withID(audit)), nil},

		// ACL entries on groups
		{"acl bag_delete implies bag_write, bag_read", principal(),
			group("easydb", withACL(grant(toUser(alice), "bag_delete"))), groupRights},
		{"acl bag_write implies bag_read", principal(),
			group("easydb", withACL(grant(toUser(alice), "bag_write"))), []string{"bag_read", "bag_write"}},
		{"acl bag_read implies nothing more", principal(),
			group("easydb", withACL(grant(toUser(alice), "bag_read"))), []string{"bag_read"}},
		{"acl link and unlink", principal(),
			group("easydb", withACL(grant(toUser(alice), "link", "unlink"))), []string{"link", "unlink"}},
		{"acl delete on the group's users", principal(),
			group("easydb", withACL(grant(toUser(alice), "delete"))), userRights},
		{"acl for another user", principal(),
			group("easydb", withACL(grant(toUser(bob), "bag_delete"))), nil},
		{"acl for alice's user id as group id", principal(),
			group("easydb", withACL(grant(toGroup(alice), "bag_delete"))), nil},
		{"acl for a static group", principal(),
			group("easydb", withACL(grant(toGroup(sales), "bag_write"))), []string{"bag_read", "bag_write"}},
		{"acl for :all", principal(systemUser),
			group("easydb", withACL(grant(toGroup(GroupAll), "link"))), []string{"link"}},
		{"acl for :non_system, easydb user", principal(),
			group("easydb", withACL(grant(toGroup(GroupNonSystem), "unlink"))), []string{"unlink"}},
		{"acl for :non_system, system user", principal(systemUser),
			group("easydb", withACL(grant(toGroup(GroupNonSystem), "unlink"))), nil},
		{"acl for a group alice is not in", principal(),
			group("easydb", withACL(grant(toGroup(audit), "bag_read"))), nil},
		{"acl for the owner grants nothing, even to the owner", principal(),
			group("custom-x", ownedByUser(0), withACL(grant(toOwner, "link"))), nil},
		{"acl for the owner that also names alice grants nothing", principal(),
			group("easydb", withACL(grant(func(e *acl.Entry) { e.WhoOwner, e.WhoUserID = true, alice }, "link"))), nil},
		{"acl for the owner adds nothing to the owner", principal(),
			group("easydb", ownedByUser(alice), withACL(grant(toOwner, "link"))), groupRights},
		{"acl for nobody, user id 0", &Principal{},
			group("easydb", ownedByUser(0), withACL(grant(toNobody, "link"))), nil},
		{"acl inactive", principal(),
			group("easydb", withACL(inactive(grant(toUser(alice), "bag_read")))), nil},
		{"acl inactive with a window that holds now", principal(),
			group("easydb", withACL(inactive(window(d(-time.Hour), d(time.Hour))(grant(toUser(alice), "bag_read"))))), nil},
		{"acl from now (inclusive)", principal(),
			group("easydb", withACL(window(d(0), nil)(grant(toUser(alice), "link")))), []string{"link"}},
		{"acl from 1ns after now", principal(),
			group("easydb", withACL(window(d(time.Nanosecond), nil)(grant(toUser(alice), "link")))), nil},
		{"acl to now (exclusive)", principal(),
			group("easydb", withACL(window(nil, d(0))(grant(toUser(alice), "link")))), nil},
		{"acl to 1ns after now", principal(),
			group("easydb", withACL(window(nil, d(time.Nanosecond))(grant(toUser(alice), "link")))), []string{"link"}},
		{"acl window in the past", principal(),
			group("easydb", withACL(window(d(-2*time.Hour), d(-time.Hour))(grant(toUser(alice), "link")))), nil},
		{"acl window around now", principal(),
			group("easydb", withACL(window(d(-time.Hour), d(time.Hour))(grant(toUser(alice), "link")))), []string{"link"}},
		{"acl entries add up", principal(),
			group("easydb", withACL(grant(toUser(alice), "link"), inactive(grant(toUser(alice), "unlink")),
				grant(toGroup(sales), "write"))), []string{"link", "read", "write"}},
		{"owner, member and acl add up", principal(),
			group("easydb", withID(sales), ownedByUser(alice), withACL(grant(toGroup(GroupAll), "unlink"))),
			append(slices.Clone(groupRights), "unlink")},

		// global_custom_bag_read
		{"global custom read, custom group", globalRead, group("custom-x"), []string{"bag_read"}},
		{"global custom read, bare custom- prefix", globalRead, group("custom-"), nil},
		{"global custom read, easydb group", globalRead, group("easydb"), nil},
		{"global custom read, system group", globalRead, group("system"), nil},
		{"global custom read false", principal(withRights(rights.Map{"system.group": {"global_custom_bag_read": false}})),
			group("custom-x"), nil},
		{"global custom read on system.user", principal(withRights(rights.Map{"system.user": {"global_custom_bag_read": true}})),
			group("custom-x"), nil},
		{"custom group without the right", principal(), group("custom-x"), nil},

		// users
		{"user, owner user", principal(), user(ownedByUser(alice)), userRights},
		{"user, owner group member", principal(), user(ownedByGroup(sales)), userRights},
		{"user, owner group :all", principal(), user(ownedByGroup(GroupAll)), userRights},
		{"user, not the owner", principal(), user(), nil},
		{"user, no owner, user id 0", &Principal{}, user(ownedByUser(0)), nil},
		{"user, acl write", principal(), user(withACL(grant(toUser(alice), "write"))), []string{"read", "write"}},
		{"user, acl for :all", principal(), user(withACL(grant(toGroup(GroupAll), "read"))), []string{"read"}},
		{"user, acl bag rights do not apply", principal(),
			user(withACL(grant(toUser(alice), "bag_delete", "link", "unlink"))), nil},
		{"user, acl inactive", principal(), user(withACL(inactive(grant(toUser(alice), "delete")))), nil},
		{"user, acl to now", principal(), user(withACL(window(nil, d(0))(grant(toUser(alice), "delete")))), nil},
		{"user, acl for the owner", principal(), user(ownedByUser(0), withACL(grant(toOwner, "delete"))), nil},
		{"user, group acl write", principal(),
			user(inGroups(GroupACL{GroupID: audit, ACL: []acl.Entry{grant(toUser(alice), "write")}})), []string{"read", "write"}},
		{"user, second group's acl delete", principal(),
			user(inGroups(GroupACL{GroupID: audit}, GroupACL{GroupID: plugin, ACL: []acl.Entry{grant(toGroup(sales), "delete")}})),
			userRights},
		{"user, group acl bag rights do not reach users", principal(),
			user(inGroups(GroupACL{GroupID: audit, ACL: []acl.Entry{grant(toUser(alice), "bag_delete", "link")}})), nil},
		{"user, group acl for someone else", principal(),
			user(inGroups(GroupACL{GroupID: audit, ACL: []acl.Entry{grant(toUser(bob), "delete")}})), nil},
		{"user, group acl inactive", principal(),
			user(inGroups(GroupACL{GroupID: audit, ACL: []acl.Entry{inactive(grant(toUser(alice), "delete"))}})), nil},
		{"user, group acl from 1ns after now", principal(),
			user(inGroups(GroupACL{GroupID: audit, ACL: []acl.Entry{window(d(time.Nanosecond), nil)(grant(toUser(alice), "read"))}})), nil},
		{"user, group acl for the owner", principal(),
			user(ownedByUser(alice), inGroups(GroupACL{GroupID: audit, ACL: []acl.Entry{grant(toOwner, "link")}})), userRights},
		{"user, membership of an easydb group grants nothing", principal(),
			user(withID(alice), inGroups(GroupACL{GroupID: sales})), nil},
		{"user, global custom read does not apply", globalRead, user(), nil},
	}
}

// TestCan checks every rule on hand-made cases: for each case, exactly the
// listed rights are granted, and an unknown right never is. Each case is
// also checked against the reference model, which keeps the two honest.
func TestCan(t *testing.T) {
	e := newTestEngine(t)
	for _, c := range decisionCases() {
		t.Run(c.name, func(t *testing.T) {
			for _, right := range append([]string{"bag_acl", "", "system.root", "BAG_READ"}, rights.ACLRightNames...) {
				want := slices.Contains(c.grant, right)
				got, err := e.Can(c.p, right, c.obj)
				if err != nil || got != want {
					t.Errorf("Can(%s) = %v, %v; want %v", right, got, err, want)
				}
				if ref := refCan(c.p, right, c.obj, refNow); ref != want {
					t.Errorf("reference model says %v for %s; want %v", ref, right, want)
				}
			}
			mask, err := e.Rights(c.p, c.obj)
			if err != nil || !slices.Equal(mask.Names(), rights.MaskOf(c.grant...).Names()) {
				t.Errorf("Rights = %v, %v; want %v", mask.Names(), err, c.grant)
			}
		})
	}
}

// TestCanRefusals: a nil principal and an unknown right name are plain
// refusals (false, nil), even for root; a nil object or one of an unknown
// kind is an error, which callers turn into a refusal.
func TestCanRefusals(t *testing.T) {
	e := newTestEngine(t)
	root := principal(withRights(rights.Map{"system.root": {}}))
	if ok, err := e.Can(nil, rights.BagRead, group("easydb")); ok || err != nil {
		t.Errorf("nil principal: %v, %v; want false, nil", ok, err)
	}
	if mask, err := e.Rights(nil, group("easydb")); mask != 0 || err != nil {
		t.Errorf("Rights of nil principal: %v, %v; want 0, nil", mask, err)
	}
	if ok, err := e.Can(root, "no_such_right", group("easydb")); ok || err != nil {
		t.Errorf("unknown right for root: %v, %v; want false, nil", ok, err)
	}
	if ok, err := e.Can(root, rights.BagRead, nil); ok || err == nil {
		t.Errorf("nil object: %v, %v; want false and an error", ok, err)
	}
	if ok, err := e.Can(root, rights.BagRead, &Object{Kind: "pool", ID: 4}); ok || err == nil ||
		!strings.Contains(err.Error(), `"pool"`) {
		t.Errorf("unknown kind: %v, %v; want false and an error naming the kind", ok, err)
	}
	if _, err := e.Rights(root, &Object{Kind: ""}); err == nil {
		t.Errorf("Rights on an object without a kind: no error")
	}
}

// TestSetClock shows that the clock decides the when windows, and that
// SetClock(nil) goes back to the wall clock.
func TestSetClock(t *testing.T) {
	e := newTestEngine(t)
	from, to := refNow.Add(time.Hour), refNow.Add(2*time.Hour)
	entry := grant(toUser(alice), "bag_read")
	entry.From, entry.To = &from, &to
	obj := group("easydb", withACL(entry))
	for _, c := range []struct {
		now  time.Time
		want bool
	}{{refNow, false}, {from, true}, {to.Add(-time.Nanosecond), true}, {to, false}} {
		e.SetClock(func() time.Time { return c.now })
		if ok, err := e.Can(principal(), rights.BagRead, obj); ok != c.want || err != nil {
			t.Errorf("at %v: %v, %v; want %v", c.now, ok, err, c.want)
		}
	}
	e.SetClock(nil)
	wall := group("easydb", withACL(window(d(-time.Hour), d(time.Hour))(grant(toUser(alice), "bag_read"))))
	if ok, _ := e.Can(principal(), rights.BagRead, wall); ok {
		t.Errorf("after SetClock(nil) the 2026 window still holds: the clock is not the wall clock")
	}
	nowish := time.Now()
	live := grant(toUser(alice), "bag_read")
	from2, to2 := nowish.Add(-time.Hour), nowish.Add(time.Hour)
	live.From, live.To = &from2, &to2
	if ok, _ := e.Can(principal(), rights.BagRead, group("easydb", withACL(live))); !ok {
		t.Errorf("after SetClock(nil) a window around the wall clock does not hold")
	}
}

// TestHasSystemRight: a system right and its boolean parameters come from
// the principal's combined rights; system.root implies every known system
// right and parameter, and unknown names are refused.
func TestHasSystemRight(t *testing.T) {
	e := newTestEngine(t)
	root := principal(withRights(rights.Map{"system.root": {}}))
	manager := principal(withRights(rights.Map{
		"system.group":                {"create": true, "edit_acl": false, "create_acl": "yes"},
		"system.user.change_password": {},
	}))
	cases := []struct {
		name         string
		p            *Principal
		right, param string
		want         bool
	}{
		{"nil principal", nil, "system.group", "", false},
		{"no rights", principal(), "system.group", "", false},
		{"root holds root", root, "system.root", "", true},
		{"root implies a right", root, "system.group", "", true},
		{"root implies a parameter", root, "system.group", "edit_system_rights", true},
		{"root implies other rights", root, "system.user.create_new", "login", true},
		{"root does not make up rights", root, "system.nonsense", "", false},
		{"right present", manager, "system.group", "", true},
		{"parameter true", manager, "system.group", "create", true},
		{"parameter false", manager, "system.group", "edit_acl", false},
		{"parameter not a boolean", manager, "system.group", "create_acl", false},
		{"parameter absent", manager, "system.group", "create_system_rights", false},
		{"parameterless right", manager, "system.user.change_password", "", true},
		{"right absent", manager, "system.user", "", false},
		{"manager is not root", manager, "system.root", "", false},
		{"unknown right in the map", principal(withRights(rights.Map{"system.nonsense": {}})), "system.nonsense", "", false},
	}
	for _, c := range cases {
		if got := e.HasSystemRight(c.p, c.right, c.param); got != c.want {
			t.Errorf("%s: HasSystemRight(%s, %q) = %v; want %v", c.name, c.right, c.param, got, c.want)
		}
	}
}

// TestImplicationLinksAgreeWithMasks: model.conf's g links (the role
// manager, fed from rights.Implications) and the masks of ACL entries
// (rights.Closure) say the same about every set of held rights, and both
// say what DESIGN.md says: bag_delete => bag_write => bag_read,
// delete => write => read, and nothing else.
func TestImplicationLinksAgreeWithMasks(t *testing.T) {
	e := newTestEngine(t)
	rm := e.enforcer.GetRoleManager()
	implies := func(held, asked string) bool {
		ok, err := rm.HasLink(held, asked)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	names := rights.ACLRightNames
	for set := 0; set < 1<<len(names); set++ {
		var held []string
		for i, n := range names {
			if set&(1<<i) != 0 {
				held = append(held, n)
			}
		}
		mask := rights.MaskOf(held...)
		for _, asked := range names {
			byLinks := slices.ContainsFunc(held, func(h string) bool { return implies(h, asked) })
			if byMask := mask.Has(asked); byLinks != byMask {
				t.Fatalf("holding %v, %s: role links say %v, mask says %v", held, asked, byLinks, byMask)
			}
		}
	}
	stated := map[[2]string]bool{
		{"bag_delete", "bag_write"}: true, {"bag_delete", "bag_read"}: true, {"bag_write", "bag_read"}: true,
		{"delete", "write"}: true, {"delete", "read"}: true, {"write", "read"}: true,
	}
	for _, held := range names {
		for _, asked := range names {
			want := held == asked || stated[[2]string{held, asked}]
			if got := implies(held, asked); got != want {
				t.Errorf("%s implies %s: %v; want %v", held, asked, got, want)
			}
		}
	}
	// Through Casbin: an ACL entry holding only the bit of one right (no
	// closure) is granted exactly that right, while the owner rule, which
	// goes through g, is granted the implied ones.
	for _, held := range names {
		entry := acl.Entry{WhoUserID: alice, Active: true, Mask: rights.Bit(held)}
		for _, asked := range names {
			ok, err := e.Can(principal(), asked, group("easydb", withACL(entry)))
			if want := held == asked; ok != want || err != nil {
				t.Errorf("entry with bit %s only, asked %s: %v, %v; want %v", held, asked, ok, err, want)
			}
		}
	}
}

// TestConcurrentEnforce: one Engine, whose Casbin policy never changes
// after New, serves decisions from many goroutines at once, while another
// goroutine keeps setting the clock; run with -race. Every answer must
// still match the reference.
func TestConcurrentEnforce(t *testing.T) {
	e := newTestEngine(t)
	cases := decisionCases()
	stop := make(chan struct{})
	var clockSetter sync.WaitGroup
	clockSetter.Add(1)
	go func() {
		defer clockSetter.Done()
		for {
			select {
			case <-stop:
				return
			default:
				e.SetClock(func() time.Time { return refNow })
			}
		}
	}()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewSource(int64(g)))
			for range 300 {
				c := cases[r.Intn(len(cases))]
				right := rights.ACLRightNames[r.Intn(len(rights.ACLRightNames))]
				got, err := e.Can(c.p, right, c.obj)
				if want := slices.Contains(c.grant, right); err != nil || got != want {
					t.Errorf("%s, %s: %v, %v; want %v", c.name, right, got, err, want)
					return
				}
				if e.HasSystemRight(c.p, "system.group", "global_custom_bag_read") !=
					(c.p.IsRoot() || c.p.SystemRights.Bool("system.group", "global_custom_bag_read")) {
					t.Errorf("%s: HasSystemRight disagrees", c.name)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	clockSetter.Wait()
}

// TestModelHasNoPolicyLines guards the performance rule of DESIGN.md:
// Casbin evaluates the matcher once per p line, so the model must have none,
// and its only g lines are the implications.
func TestModelHasNoPolicyLines(t *testing.T) {
	e := newTestEngine(t)
	for _, ptype := range []string{"p", "p2"} {
		lines, err := e.enforcer.GetNamedPolicy(ptype)
		if err != nil || len(lines) != 0 {
			t.Errorf("%s lines: %v, %v; want none", ptype, lines, err)
		}
	}
	links, err := e.enforcer.GetGroupingPolicy()
	if err != nil || len(links) != len(rights.Implications) {
		t.Errorf("g lines: %v, %v; want the %d implications", links, err, len(rights.Implications))
	}
}
