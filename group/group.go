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
	SystemRights      rights.Map
	CreatedAt         time.Time
	UpdatedAt         time.Time

	Owner Ref
	ACL   []acl.Entry
	// ACLWho[i] is the subject of ACL[i] in short format (zero for the
	// "_owner" marker and entries without a subject).
	ACLWho []Ref

	// Generated is the caller's own rights on the group (_generated_rights).
	Generated rights.Mask
}

// Ref is a user or a group in short format: Kind and ID identify it, the
// other fields are for display.
type Ref struct {
	Kind        string // "user" or "group"
	ID          int64
	Name        string // group name, or user login
	Type        string // group type or user type
	Displayname string // user: generated display name
	// GroupDisplayname is a group's culture map as JSON.
	GroupDisplayname json.RawMessage
}

// IsSystem reports whether g is a system group (:all, :non_system, ...).
func (g *Group) IsSystem() bool { return g.Type == "system" }

// --- output: easydb's full format ----------------------------------------

type fullFormat struct {
	Basetype        string           `json:"_basetype"`
	Group           groupBody        `json:"group"`
	Owner           any              `json:"_owner"`
	ACL             []aclOut         `json:"_acl"`
	SystemRights    rights.Map       `json:"_system_rights"`
	HasACL          bool             `json:"_has_acl"`
	GeneratedRights map[string]empty `json:"_generated_rights"`
}

type empty struct{}

type groupBody struct {
	ID                int64             `json:"_id"`
	Version           int64             `json:"_version"`
	Type              string            `json:"type"`
	Name              *string           `json:"name"`
	Displayname       map[string]string `json:"displayname"`
	Comment           *string           `json:"comment"`
	Reference         *string           `json:"reference"`
	FrontendPrefs     json.RawMessage   `json:"frontend_prefs"`
	AuthorizationInfo *string           `json:"authorization_info"`
	Created           string            `json:"created_timestamp"`
	Updated           string            `json:"last_updated_timestamp"`
}

type aclOut struct {
	ID          int64      `json:"_id"`
	Who         any        `json:"who"`
	Rights      rights.Map `json:"rights"`
	Active      bool       `json:"active"`
	When        *whenOut   `json:"when,omitempty"`
	DateCreated string     `json:"date_created"`
}

type whenOut struct {
	From *string `json:"from"`
	To   *string `json:"to"`
}

// TimeFormat is how timestamps are written: RFC 3339 with seconds, UTC.
const TimeFormat = time.RFC3339

func formatTime(t time.Time) string { return t.UTC().Format(TimeFormat) }

// ShortFormat is a user or group reference as easydb writes it in _owner,
// _acl[].who and a user's _groups.
func (r Ref) ShortFormat() any {
	if r.Kind == "group" {
		g := map[string]any{"_id": r.ID, "name": nullable(r.Name), "type": r.Type}
		if len(r.GroupDisplayname) > 0 {
			g["_displayname"] = r.GroupDisplayname
		}
		return map[string]any{"_basetype": "group", "group": g}
	}
	return map[string]any{"_basetype": "user", "user": map[string]any{
		"_id": r.ID, "login": nullable(r.Name), "type": r.Type, "_generated_displayname": r.Displayname,
	}}
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// MarshalJSON writes g in easydb's full format.
func (g *Group) MarshalJSON() ([]byte, error) {
	out := fullFormat{
		Basetype: "group",
		Group: groupBody{
			ID: g.ID, Version: g.Version, Type: g.Type, Name: g.Name, Displayname: g.Displayname,
			Comment: g.Comment, Reference: g.Reference, FrontendPrefs: g.FrontendPrefs,
			AuthorizationInfo: g.AuthorizationInfo, Created: formatTime(g.CreatedAt), Updated: formatTime(g.UpdatedAt),
		},
		Owner:           g.Owner.ShortFormat(),
		ACL:             make([]aclOut, 0, len(g.ACL)),
		SystemRights:    g.SystemRights,
		HasACL:          len(g.ACL) > 0,
		GeneratedRights: map[string]empty{},
	}
	if out.Group.Displayname == nil {
		out.Group.Displayname = map[string]string{}
	}
	for i, e := range g.ACL {
		a := aclOut{ID: e.ID, Rights: e.Rights, Active: e.Active, DateCreated: formatTime(e.Created)}
		switch {
		case e.WhoOwner:
			a.Who = map[string]bool{"_owner": true}
		case i < len(g.ACLWho) && g.ACLWho[i].ID != 0:
			a.Who = g.ACLWho[i].ShortFormat()
		}
		if e.From != nil || e.To != nil {
			a.When = &whenOut{}
			if e.From != nil {
				s := formatTime(*e.From)
				a.When.From = &s
			}
			if e.To != nil {
				s := formatTime(*e.To)
				a.When.To = &s
			}
		}
		out.ACL = append(out.ACL, a)
	}
	for _, name := range g.GeneratedRights().Names() {
		out.GeneratedRights[name] = empty{}
	}
	return json.Marshal(out)
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
