package policy

import (
	_ "embed"
	"slices"
	"sync/atomic"
	"time"

	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/model"

	"github.com/groupd/groupd/acl/entry"
	"github.com/groupd/groupd/errors"
	"github.com/groupd/groupd/rights"
)

// modelText is policy/model.conf, the readable statement of the rules.
//
//go:embed model.conf
var modelText string

// Engine answers the one question everybody asks: may this principal do
// this to that. Every decision is one Casbin Enforce against model.conf;
// only malformed questions (no principal, an unknown right name) are
// refused before Casbin.
//
// The permission semantics, stated fully in model.conf:
//   - Only the ACL rights of package rights (bag_read, bag_write, bag_delete,
//     link, unlink, read, write, delete) are ever granted; any other name is
//     refused, even to root. A nil principal is refused everything.
//   - system.root grants every ACL right on every object.
//   - On a group: the owner (the owning user, or every member of the owning
//     group, system groups included) has bag_read, bag_write and bag_delete;
//     a static member of an "easydb" group has bag_read; an ACL entry in
//     effect that names the principal or one of its groups grants its mask;
//     system.group's global_custom_bag_read grants bag_read on custom groups.
//   - On a user: only read, write and delete apply. The owner has all three;
//     the user's own ACL entries and the ACL entries of the groups the user
//     is in grant them as their masks say.
//   - An ACL entry is in effect when it is active and From <= now < To
//     (nil ends are open); entries naming the owner ({"_owner": true}) grant
//     nothing.
//
// The Engine holds no per-object or per-principal state: the object's owner
// and ACL, and the principal's groups and system rights, are request
// attributes. Its Casbin policy is the handful of implication links added by
// New and never changes afterwards, which is what makes a plain
// casbin.Enforcer safe for concurrent Enforce calls (casbin's SyncedEnforcer
// and SyncedCachedEnforcer are not used: see DESIGN.md for their traps).
// An Engine is safe for concurrent use.
type Engine struct {
	enforcer *casbin.Enforcer
	// onUser and systemRights select model.conf's matchers m2 and m3; the
	// default, m, decides on groups.
	onUser, systemRights casbin.EnforceContext
	// onObject selects m4, grouped objects.
	onObject casbin.EnforceContext
	clock    atomic.Pointer[func() time.Time]
}

// New returns an Engine with the embedded model.conf, the implication links
// of rights.Implications as g lines, and the Go functions the matchers call.
// Every matcher is compiled before New returns, so a broken model fails here
// and not on the first request.
func New() (*Engine, error) {
	m, err := model.NewModelFromString(modelText)
	if err != nil {
		return nil, errors.Errorf("policy: model.conf: %w", err)
	}
	enforcer, err := casbin.NewEnforcer(m)
	if err != nil {
		return nil, errors.Errorf("policy: enforcer: %w", err)
	}
	e := &Engine{
		enforcer:     enforcer,
		onUser:       casbin.EnforceContext{RType: "r", PType: "p", EType: "e", MType: "m2"},
		systemRights: casbin.EnforceContext{RType: "r2", PType: "p2", EType: "e2", MType: "m3"},
		onObject:     casbin.EnforceContext{RType: "r3", PType: "p", EType: "e", MType: "m4"},
	}
	e.SetClock(nil)
	e.addFunctions()

	links := make([][]string, 0, len(rights.Implications))
	for _, imp := range rights.Implications {
		links = append(links, []string{imp[0], imp[1]})
	}
	if _, err := enforcer.AddGroupingPolicies(links); err != nil {
		return nil, errors.Errorf("policy: implication links: %w", err)
	}

	// A first decision on each matcher compiles and caches it.
	for _, kind := range []string{"group", "user", "object"} {
		if _, err := e.Can(&Principal{}, rights.Read, &Object{Kind: kind}); err != nil {
			return nil, err
		}
	}
	if _, err := enforcer.Enforce(e.systemRights, &Principal{}, rights.SystemRoot, ""); err != nil {
		return nil, errors.Errorf("policy: system-right matcher: %w", err)
	}
	return e, nil
}

// SetClock sets the clock that decides whether an ACL entry's "when" window
// is in effect; nil restores time.Now. For tests.
func (e *Engine) SetClock(now func() time.Time) {
	if now == nil {
		now = time.Now
	}
	e.clock.Store(&now)
}

func (e *Engine) now() time.Time { return (*e.clock.Load())() }

// Can reports whether p holds the ACL right named right on obj, a group or
// a user (see Engine for the rules). An unknown right name or a nil
// principal is a refusal, not an error. An error means that no decision was
// made (a nil object, an object of another kind, a model that does not
// evaluate), and the caller must refuse.
func (e *Engine) Can(p *Principal, right string, obj *Object) (bool, error) {
	return e.can(p, right, obj, e.now())
}

func (e *Engine) can(p *Principal, right string, obj *Object, now time.Time) (bool, error) {
	// An unknown name is refused before Casbin: model.conf grants root
	// everything it is asked, and g memoizes every pair it sees.
	if p == nil || rights.Bit(right) == 0 {
		return false, nil
	}
	if obj == nil {
		return false, errors.Errorf("policy: %s asked on no object", right)
	}
	var ok bool
	var err error
	switch obj.Kind {
	case "group":
		ok, err = e.enforcer.Enforce(p, obj, right, now)
	case "user":
		ok, err = e.enforcer.Enforce(e.onUser, p, obj, right, now)
	case "object":
		grp := obj.Group
		if grp == nil {
			grp = &noGroup
		}
		ok, err = e.enforcer.Enforce(e.onObject, p, grp, right, now)
	default:
		return false, errors.Errorf("policy: %s asked on object %d of unknown kind %q", right, obj.ID, obj.Kind)
	}
	if err != nil {
		return false, errors.Errorf("policy: %s on %s %d: %w", right, obj.Kind, obj.ID, err)
	}
	return ok, nil
}

// noGroup is the group of an object that is in none: no owner, no type,
// no ACL, so it grants nothing. Never modified.
var noGroup = Object{Kind: "group"}

// Rights is every ACL right (rights.ACLRightNames) that Can grants p on obj,
// as a mask: a group's _generated_rights. All rights are decided at the same
// instant, so that the mask is closed under the implications even when an
// entry's window opens or closes meanwhile.
func (e *Engine) Rights(p *Principal, obj *Object) (rights.Mask, error) {
	now := e.now()
	var mask rights.Mask
	for _, name := range rights.ACLRightNames {
		ok, err := e.can(p, name, obj, now)
		if err != nil {
			return 0, err
		}
		if ok {
			mask |= rights.Bit(name)
		}
	}
	return mask, nil
}

// HasSystemRight reports whether p holds the system right name, with its
// boolean parameter param set to true (param "" asks for the right alone).
// System rights are the union of the user's and all its groups' rights
// (Principal.SystemRights); system.root implies every known system right
// with every parameter. Unknown names and a nil principal are refused.
func (e *Engine) HasSystemRight(p *Principal, name, param string) bool {
	if p == nil || !rights.IsSystemRight(name) {
		return false
	}
	type question struct{ name, param string }
	if p.decided != nil {
		if v, ok := p.decided.Load(question{name, param}); ok {
			return v.(bool)
		}
	}
	ok, err := e.enforcer.Enforce(e.systemRights, p, name, param)
	// The only errors are a model that does not evaluate, which New has
	// ruled out; refusing is the safe answer regardless.
	ok = err == nil && ok
	if p.decided != nil {
		p.decided.Store(question{name, param}, ok)
	}
	return ok
}

// addFunctions registers the Go functions model.conf calls. Each is a plain
// check or scan of one attribute; the rules that combine them are in
// model.conf. Casbin copies this table on every Enforce, so it stays short.
func (e *Engine) addFunctions() {
	add := e.enforcer.AddFunction
	add("isRoot", func(args ...any) (any, error) {
		if len(args) != 1 {
			return false, errArity("isRoot", 1, args)
		}
		p, err := principalArg("isRoot", args[0])
		return err == nil && p.IsRoot(), err
	})
	add("holds", func(args ...any) (any, error) {
		if len(args) != 3 {
			return false, errArity("holds", 3, args)
		}
		p, err := principalArg("holds", args[0])
		if err != nil {
			return false, err
		}
		name, ok1 := args[1].(string)
		param, ok2 := args[2].(string)
		if !ok1 || !ok2 {
			return false, errors.Errorf("holds: right %T and parameter %T must be strings", args[1], args[2])
		}
		return p.SystemRights.Bool(name, param), nil
	})
	add("owns", func(args ...any) (any, error) {
		p, obj, err := subjectObjectArgs("owns", args, 2)
		return err == nil && owns(p, obj), err
	})
	add("isEasydbMember", func(args ...any) (any, error) {
		p, obj, err := subjectObjectArgs("isEasydbMember", args, 2)
		return err == nil && obj.GroupType == "easydb" && isStaticMember(p, obj.ID), err
	})
	add("readsAllCustom", func(args ...any) (any, error) {
		p, obj, err := subjectObjectArgs("readsAllCustom", args, 2)
		return err == nil && rights.IsCustomGroupType(obj.GroupType) &&
			p.SystemRights.Bool(rights.SystemGroup, rights.ParamGlobalCustomBagRead), err
	})
	add("aclGrants", func(args ...any) (any, error) {
		p, obj, right, now, err := aclArgs("aclGrants", args)
		return err == nil && aclGrants(p, obj.ACL, rights.Bit(right), now), err
	})
	add("userGroupsGrant", func(args ...any) (any, error) {
		p, obj, right, now, err := aclArgs("userGroupsGrant", args)
		return err == nil && userGroupsGrant(p, obj.UserGroups, rights.Bit(right), now), err
	})
}

// owns reports whether p owns obj: it is the owning user, or a member
// (static or by a system group) of the owning group. An object without an
// owner has none, even for a principal whose UserID is 0.
func owns(p *Principal, obj *Object) bool {
	return (obj.OwnerUserID != 0 && obj.OwnerUserID == p.UserID) ||
		(obj.OwnerGroupID != 0 && p.InGroup(obj.OwnerGroupID))
}

// isStaticMember reports whether p is a stored member of group id; computed
// system-group membership does not count, as a system group is never an
// "easydb" group.
func isStaticMember(p *Principal, id int64) bool {
	_, found := slices.BinarySearch(p.Groups, id)
	return found
}

// namesPrincipal reports whether e's "who" is p: p's user, or a group p
// is in (statically or by a system group such as :all). An entry naming the
// owner grants nothing, as in easydb; one naming nobody neither.
func namesPrincipal(p *Principal, e *entry.Entry) bool {
	if e.WhoOwner {
		return false
	}
	return (e.WhoUserID != 0 && e.WhoUserID == p.UserID) ||
		(e.WhoGroupID != 0 && p.InGroup(e.WhoGroupID))
}

// aclGrants reports whether an entry of entries in effect at now names p and
// grants the right whose bit is bit. The entry masks hold the implied rights
// already (acl.MaskOf, on decoding); TestImplicationLinksAgreeWithMasks shows
// that model.conf's g links and rights.Closure say the same.
func aclGrants(p *Principal, entries []entry.Entry, bit rights.Mask, now time.Time) bool {
	for i := range entries {
		e := &entries[i]
		if e.Mask&bit != 0 && namesPrincipal(p, e) && e.InEffect(now) {
			return true
		}
	}
	return false
}

// userGroupsGrant reports whether the ACL of a group the user is in grants
// p the right whose bit is bit. model.conf asks it only for the rights a
// group's ACL has on the group's users: read, write and delete.
func userGroupsGrant(p *Principal, groups []GroupACL, bit rights.Mask, now time.Time) bool {
	for i := range groups {
		if aclGrants(p, groups[i].ACL, bit, now) {
			return true
		}
	}
	return false
}

// --- arguments of the matcher functions --------------------------------------
// A type error here means model.conf and engine.go disagree; Enforce
// returns it, and New's first decisions catch it.

func errArity(fn string, want int, args []any) error {
	return errors.Errorf("%s: %d arguments, want %d", fn, len(args), want)
}

func principalArg(fn string, v any) (*Principal, error) {
	p, ok := v.(*Principal)
	if !ok || p == nil {
		return nil, errors.Errorf("%s: subject %T is not a non-nil *policy.Principal", fn, v)
	}
	return p, nil
}

func objectArg(fn string, v any) (*Object, error) {
	obj, ok := v.(*Object)
	if !ok || obj == nil {
		return nil, errors.Errorf("%s: object %T is not a non-nil *policy.Object", fn, v)
	}
	return obj, nil
}

// subjectObjectArgs checks that there are want arguments and that the
// first two are a non-nil principal and object.
func subjectObjectArgs(fn string, args []any, want int) (*Principal, *Object, error) {
	if len(args) != want {
		return nil, nil, errArity(fn, want, args)
	}
	p, err := principalArg(fn, args[0])
	if err != nil {
		return nil, nil, err
	}
	obj, err := objectArg(fn, args[1])
	if err != nil {
		return nil, nil, err
	}
	return p, obj, nil
}

func aclArgs(fn string, args []any) (*Principal, *Object, string, time.Time, error) {
	p, obj, err := subjectObjectArgs(fn, args, 4)
	if err != nil {
		return nil, nil, "", time.Time{}, err
	}
	right, ok1 := args[2].(string)
	now, ok2 := args[3].(time.Time)
	if !ok1 || !ok2 {
		return nil, nil, "", time.Time{}, errors.Errorf("%s: right %T and now %T must be string and time.Time", fn, args[2], args[3])
	}
	return p, obj, right, now, nil
}
