// Package group is the easydb group resource: its type and full format, the
// validation of what clients send, the PostgreSQL store, and the HTTP
// handlers of /api/v1/group.
//
// Permissions (DESIGN.md "Rights, in one place"; decided by package policy):
//   - listing and reading need the system right system.group, and a group is
//     visible to a principal that holds bag_read on it: as owner (a user, or
//     a member of the owning group), as a static member of an "easydb" group,
//     through an ACL entry naming the user or one of its groups, through
//     system.group's global_custom_bag_read for custom-* groups, or as root;
//   - creating needs system.group with create; an _acl on create needs
//     create_acl, _system_rights need create_system_rights;
//   - updating needs bag_write; changing _acl or _owner needs edit_acl,
//     changing _system_rights needs edit_system_rights; adding or removing
//     system.root needs system.root;
//   - deleting needs bag_delete; system groups are never deleted.
package group

import (
	"encoding/json"
	"time"

	"github.com/groupd/groupd/acl"
	"github.com/groupd/groupd/policy"
	"github.com/groupd/groupd/rights"
)

// Group is one group with everything its full format shows.
type Group struct {
	ID                int64
	Version           int64
	Type              string // easydb, system or custom-*
	Name              *string
	Displayname       map[string]string // culture -> text
	Comment           *string
	Reference         *string
	FrontendPrefs     json.RawMessage // an object, or nil
	AuthorizationInfo *string
	Color             *string // RRGGBB (ValidColor), nil: none
	SystemRights      rights.Map
	CreatedAt         time.Time
	UpdatedAt         time.Time

	Owner acl.Ref
	ACL   []acl.Entry
	// ACLWho[i] is the subject of ACL[i] in short format (zero for the
	// "_owner" marker and entries without a subject).
	ACLWho []acl.Ref

	// Generated is the caller's own rights on the group (_generated_rights).
	Generated rights.Mask

	// encoded is the group's full format, kept when a write encoded it
	// for its audit event; nil otherwise. Set only on a group that no
	// longer changes.
	encoded []byte
}

// IsSystem reports whether g is a system group (:all, :non_system, ...).
func (g *Group) IsSystem() bool { return g.Type == "system" }

// --- output: easydb's full format ----------------------------------------
//
// Written by hand (encode.go): no reflection, no intermediate values, and
// stored JSON (rights, displaynames) passes through as it is stored.

// TimeFormat is how timestamps are written: RFC 3339 with seconds, UTC.
const TimeFormat = time.RFC3339

// MarshalJSON writes g as its caller (Generated) may see it: easydb's full
// format with bag_write; without it (bag_read only: "can be searched and
// read", where bag_write is "modified and seen in full format") the same
// without _acl and _system_rights. _generated_rights still tells the caller
// what it may do, and _has_acl whether there is an ACL.
func (g *Group) MarshalJSON() ([]byte, error) {
	if g.encoded != nil && g.Generated&rights.MaskBagWrite != 0 {
		return g.encoded, nil
	}
	return g.appendJSON(make([]byte, 0, 1024+256*len(g.ACL)))
}

// appendJSON appends what MarshalJSON returns to b.
func (g *Group) appendJSON(b []byte) ([]byte, error) {
	full := g.Generated&rights.MaskBagWrite != 0
	if full && g.encoded != nil {
		return append(b, g.encoded...), nil
	}
	return appendGroup(b, g, full)
}

// fullJSON writes g in the full format whatever the caller's rights: the
// audit trail's record of what a group was.
func (g *Group) fullJSON() ([]byte, error) {
	if g.encoded != nil {
		return g.encoded, nil
	}
	return appendGroup(make([]byte, 0, 1024+256*len(g.ACL)), g, true)
}

// GeneratedRights is what _generated_rights shows: the caller's rights on
// the group, less what can never be done to a system group (delete it,
// change its computed membership).
func (g *Group) GeneratedRights() rights.Mask {
	m := g.Generated
	if g.IsSystem() {
		m &^= rights.MaskBagDelete | rights.MaskLink | rights.MaskUnlink
	}
	return m
}

// PolicyObject is g as the policy engine sees it.
func (g *Group) PolicyObject() *policy.Object {
	return &policy.Object{Kind: "group", ID: g.ID, GroupType: g.Type,
		OwnerUserID: ownerID(g.Owner, "user"), OwnerGroupID: ownerID(g.Owner, "group"), ACL: g.ACL}
}

func ownerID(r acl.Ref, kind string) int64 {
	if r.Kind == kind {
		return r.ID
	}
	return 0
}
