// Package policy decides what a principal may do: every decision is a Casbin
// Enforce against policy/model.conf, the single readable statement of the
// rules (root bypass, owner rights, membership, right implications, system
// rights). Per-object data (an object's ACL and owner) is not Casbin policy:
// it is loaded with the object and handed to Enforce as request attributes,
// together with the principal's subjects. DESIGN.md "State and scale" says why.
package policy

import (
	"slices"
	"sync"

	"github.com/groupd/groupd/acl/entry"
	"github.com/groupd/groupd/rights"
)

// System group ids: their membership is computed, never stored.
const (
	GroupAll       int64 = 1 // :all, every user
	GroupNonSystem int64 = 2 // :non_system, every user whose type is not "system"
)

// Principal is who acts: a user with its static groups, its computed
// system groups and its combined system rights (user's own plus every group's).
type Principal struct {
	UserID       int64
	Login        string
	UserType     string
	Groups       []int64    // static memberships, sorted ascending
	SystemGroups []int64    // computed system groups (:all, :non_system), sorted
	SystemRights rights.Map // union of the user's and all its groups' system rights

	// decided remembers HasSystemRight's answers for a principal that no
	// longer changes (RememberDecisions); nil: ask Casbin every time.
	decided *sync.Map
}

// RememberDecisions makes the Engine remember its system-right decisions on
// p, for the principal's lifetime: call it once p is complete and before it
// is shared. The session cache does, and drops the principal whenever the
// rights it was built from change; every request asked Casbin whether its
// principal holds system.group, a sixth of a read by id's cost in Casbin.
func (p *Principal) RememberDecisions() { p.decided = &sync.Map{} }

// SystemGroupsFor are the computed system groups of a user of type userType.
func SystemGroupsFor(userType string) []int64 {
	if userType == "system" {
		return []int64{GroupAll}
	}
	return []int64{GroupAll, GroupNonSystem}
}

// InGroup reports whether the principal is in group id, statically or by a
// computed system group.
func (p *Principal) InGroup(id int64) bool {
	_, ok := slices.BinarySearch(p.Groups, id)
	if ok {
		return true
	}
	_, ok = slices.BinarySearch(p.SystemGroups, id)
	return ok
}

// SubjectGroups are all groups the principal is in (static and system),
// sorted: the group subjects an ACL entry or a group owner may name.
func (p *Principal) SubjectGroups() []int64 {
	all := make([]int64, 0, len(p.Groups)+len(p.SystemGroups))
	all = append(all, p.Groups...)
	all = append(all, p.SystemGroups...)
	slices.Sort(all)
	return slices.Compact(all)
}

// IsRoot reports whether the principal holds system.root, which allows
// everything ("rights management does not apply").
func (p *Principal) IsRoot() bool { return p.SystemRights.Bool(rights.SystemRoot, "") }

// Object is what a decision is about: a group or a user, with its owner and
// its ACL, as loaded from the database with the object itself.
type Object struct {
	Kind         string // "group", "user" or "object" (a grouped object)
	ID           int64
	GroupType    string // for groups: easydb, system or custom-*
	OwnerUserID  int64  // the owner is a user ...
	OwnerGroupID int64  // ... or every member of a group
	ACL          []entry.Entry
	// UserGroups, for a user object: the groups the user is in (static),
	// whose group-realm read/write/delete rights reach the user.
	UserGroups []GroupACL
	// Group, for a grouped object (Kind "object", package object): the
	// group it is in, as a group Object; nil when it is in none.
	Group *Object
}

// GroupACL is a group's ACL, as seen from one of its member users.
type GroupACL struct {
	GroupID int64
	ACL     []entry.Entry
}
