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
//
// The output types are concrete structs, never map[string]any, and stored
// JSON (rights, displaynames) passes through as json.RawMessage: a listing of
// 1,000 groups with 10,000 ACL entries is encoded without reflection over
// maps and without decoding what the database already holds as JSON.

type fullFormat struct {
	Basetype        string           `json:"_basetype"`
	Group           groupBody        `json:"group"`
	Owner           shortFormat      `json:"_owner"`
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
	ID          int64           `json:"_id"`
	Who         any             `json:"who"`
	Rights      json.RawMessage `json:"rights"`
	Active      bool            `json:"active"`
	When        *whenOut        `json:"when,omitempty"`
	DateCreated string          `json:"date_created"`
}

type whenOut struct {
	From *string `json:"from"`
	To   *string `json:"to"`
}

// shortFormat is a user or group in easydb's short format: exactly one of
// User and Group is set.
type shortFormat struct {
	Basetype string      `json:"_basetype"`
	User     *userShort  `json:"user,omitempty"`
	Group    *groupShort `json:"group,omitempty"`
}

type userShort struct {
	ID                   int64   `json:"_id"`
	Login                *string `json:"login"`
	Type                 string  `json:"type"`
	GeneratedDisplayname string  `json:"_generated_displayname"`
}

type groupShort struct {
	ID          int64           `json:"_id"`
	Name        *string         `json:"name"`
	Type        string          `json:"type"`
	Displayname json.RawMessage `json:"_displayname,omitempty"`
}

type ownerMarker struct {
	Owner bool `json:"_owner"`
}

// TimeFormat is how timestamps are written: RFC 3339 with seconds, UTC.
const TimeFormat = time.RFC3339

func formatTime(t time.Time) string { return t.UTC().Format(TimeFormat) }

// ShortFormat is r as easydb writes it in _owner, _acl[].who and a user's
// _groups.
func (r Ref) ShortFormat() shortFormat {
	if r.Kind == "group" {
		return shortFormat{Basetype: "group", Group: &groupShort{ID: r.ID, Name: nullable(r.Name), Type: r.Type,
			Displayname: r.GroupDisplayname}}
	}
	return shortFormat{Basetype: "user", User: &userShort{ID: r.ID, Login: nullable(r.Name), Type: r.Type,
		GeneratedDisplayname: r.Displayname}}
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
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
		a := aclOut{ID: e.ID, Rights: e.Stored, Active: e.Active, DateCreated: formatTime(e.Created)}
		if a.Rights == nil {
			b, err := e.Rights.MarshalJSON()
			if err != nil {
				return nil, err
			}
			a.Rights = b
		}
		switch {
		case e.WhoOwner:
			a.Who = ownerMarker{Owner: true}
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

// MarshalList writes groups as a JSON array. It calls each group's
// MarshalJSON itself, sparing encoding/json's re-validation of every
// element's output.
func MarshalList(groups []*Group) ([]byte, error) {
	buf := make([]byte, 0, 4096*len(groups)+2)
	buf = append(buf, '[')
	for i, g := range groups {
		if i > 0 {
			buf = append(buf, ',')
		}
		b, err := g.MarshalJSON()
		if err != nil {
			return nil, err
		}
		buf = append(buf, b...)
	}
	return append(buf, ']', '\n'), nil
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
