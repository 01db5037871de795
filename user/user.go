// Package user is the easydb user resource and the static memberships of
// users in groups: the user's type and full format, the validation of what
// clients send, the PostgreSQL store, and the HTTP handlers of /api/v1/user
// and of /api/v1/group/<id>/members (this package owns memberships, from
// either side).
//
// Permissions (DESIGN.md "Rights, in one place"; decided by package policy):
//   - reading a user needs read on it: as root, as its owner (a user, or a
//     member of the owning group), through an entry of the user's own ACL,
//     or through the group-realm read/write/delete of an ACL entry of a group
//     the user is in (static groups, and the computed :all and :non_system);
//     listing users also needs the system right system.user. A user may
//     always read itself with GET /api/v1/user/<own id>, with or without
//     system.user (easydb: "a user can read some information about itself");
//   - creating needs system.user with create; an _acl on create needs
//     create_acl, _system_rights need create_system_rights; the owner is the
//     caller;
//   - updating needs write; changing _acl or _owner needs system.user
//     edit_acl, changing _system_rights needs edit_system_rights; adding or
//     removing system.root needs system.root. A user without write on itself
//     may still change, on itself, frontend_language and frontend_prefs, the
//     fields whose system.user.write_self parameter it holds, and _password
//     with system.user.change_password;
//   - deleting needs delete;
//   - adding a user to a group (with _groups or the members API) needs link
//     on the group, removing needs unlink; system groups are never linked or
//     unlinked; a group holding system.root, and a user holding system.root
//     (its own or through a group), are only linked, unlinked, changed or
//     deleted by a holder of system.root, as only a holder may pass it on;
//   - system users (type "system", such as root) are never deleted, keep
//     their login, _acl, _groups and every system right they hold;
//   - a user may not set login_disabled on itself;
//   - listing a group's members needs bag_read on the group.
package user

import (
	"encoding/json"
	"time"

	"github.com/groupd/groupd/acl"
	"github.com/groupd/groupd/input"
	"github.com/groupd/groupd/policy"
	"github.com/groupd/groupd/rights"
)

// ProfileFields are the contact fields of easydb's user type, kept as text
// in users.profile. Every one but remarks is also a parameter of
// system.user.write_self.
var ProfileFields = []string{"company", "department", "phone", "street", "house_number", "address_supplement",
	"postal_code", "town", "country", "remarks"}

// User is one user with everything its full format shows.
type User struct {
	ID               int64
	Version          int64
	Type             string // easydb, easydb_self_register, system, custom-*, ...
	Login            *string
	FirstName        *string
	LastName         *string
	Displayname      *string
	FrontendLanguage *string
	Reference        *string
	LoginDisabled    bool
	Profile          map[string]string // ProfileFields -> text
	FrontendPrefs    json.RawMessage   // an object, or nil
	SystemRights     rights.Map
	CreatedAt        time.Time
	UpdatedAt        time.Time

	// Owner is nil when the owner was deleted.
	Owner *acl.Ref
	ACL   []acl.Entry
	// ACLWho[i] is the subject of ACL[i] in short format.
	ACLWho []acl.Ref
	Emails []Email
	// Groups are the static memberships, ordered by id.
	Groups []acl.Ref

	// Generated is the caller's own rights on the user (_generated_rights).
	Generated rights.Mask
	// HoldsRoot: the user holds system.root, its own or through a group.
	// Loaded for writes only.
	HoldsRoot bool
	// groupACLs are the ACLs of every group the user is in, system groups
	// included: what the policy engine needs to decide on the user. Loaded
	// for writes and single reads only.
	groupACLs []policy.GroupACL
}

// Email is one of a user's addresses. One with UseForLogin is a login.
type Email struct {
	Email             string `json:"email"`
	UseForLogin       bool   `json:"use_for_login"`
	UseForEmail       bool   `json:"use_for_email"`
	NeedsConfirmation bool   `json:"needs_confirmation"`
}

// IsSystem reports whether u is a system user (root).
func (u *User) IsSystem() bool { return u.Type == "system" }

// SystemGroups are the computed system groups u is in.
func (u *User) SystemGroups() []int64 { return policy.SystemGroupsFor(u.Type) }

// PolicyObject is u as the policy engine sees it. The ACLs of u's groups
// are only there when u was loaded for a decision (findUsers with
// withGroupACLs).
func (u *User) PolicyObject() *policy.Object {
	obj := &policy.Object{Kind: "user", ID: u.ID, ACL: u.ACL, UserGroups: u.groupACLs}
	if u.Owner != nil {
		if u.Owner.Kind == "group" {
			obj.OwnerGroupID = u.Owner.ID
		} else {
			obj.OwnerUserID = u.Owner.ID
		}
	}
	return obj
}

// GeneratedDisplayname is easydb's _generated_displayname: displayname,
// else first and last name, else login.
func GeneratedDisplayname(displayname, firstName, lastName, login *string) string {
	if displayname != nil && *displayname != "" {
		return *displayname
	}
	name := ""
	for _, s := range []*string{firstName, lastName} {
		if s != nil && *s != "" {
			if name != "" {
				name += " "
			}
			name += *s
		}
	}
	if name != "" {
		return name
	}
	if login != nil {
		return *login
	}
	return ""
}

// UserRights are the rights that mean something on a user.
const UserRights = rights.MaskRead | rights.MaskWrite | rights.MaskDelete

// GeneratedRights is what _generated_rights shows: the caller's rights on
// the user (read, write, delete), less delete on a system user, which is
// never deleted.
func (u *User) GeneratedRights() rights.Mask {
	m := u.Generated & UserRights
	if u.IsSystem() {
		m &^= rights.MaskDelete
	}
	return m
}

// --- output: easydb's full format ----------------------------------------

type fullFormat struct {
	Basetype        string           `json:"_basetype"`
	User            userBody         `json:"user"`
	Owner           *acl.Ref         `json:"_owner"`
	ACL             []aclOut         `json:"_acl"`
	SystemRights    rights.Map       `json:"_system_rights"`
	Groups          []acl.Ref        `json:"_groups"`
	Emails          []Email          `json:"_emails"`
	HasACL          bool             `json:"_has_acl"`
	GeneratedRights map[string]empty `json:"_generated_rights"`
}

type empty struct{}

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

// TimeFormat is how timestamps are written: RFC 3339 with seconds, UTC, as
// package group writes them.
const TimeFormat = time.RFC3339

func formatTime(t time.Time) string { return t.UTC().Format(TimeFormat) }

// userBody is the "user" object of the full format.
type userBody struct {
	ID                   int64           `json:"_id"`
	Version              int64           `json:"_version"`
	Type                 string          `json:"type"`
	Login                *string         `json:"login"`
	FirstName            *string         `json:"first_name"`
	LastName             *string         `json:"last_name"`
	Displayname          *string         `json:"displayname"`
	FrontendLanguage     *string         `json:"frontend_language"`
	Reference            *string         `json:"reference"`
	LoginDisabled        bool            `json:"login_disabled"`
	FrontendPrefs        json.RawMessage `json:"frontend_prefs"`
	GeneratedDisplayname string          `json:"_generated_displayname"`
	Created              string          `json:"created_timestamp"`
	Updated              string          `json:"last_updated_timestamp"`
	Company              *string         `json:"company"`
	Department           *string         `json:"department"`
	Phone                *string         `json:"phone"`
	Street               *string         `json:"street"`
	HouseNumber          *string         `json:"house_number"`
	AddressSupplement    *string         `json:"address_supplement"`
	PostalCode           *string         `json:"postal_code"`
	Town                 *string         `json:"town"`
	Country              *string         `json:"country"`
	Remarks              *string         `json:"remarks"`
}

// MarshalJSON writes u in easydb's full format. The password is never part
// of it.
func (u *User) MarshalJSON() ([]byte, error) {
	profile := func(f string) *string {
		if v, ok := u.Profile[f]; ok {
			return &v
		}
		return nil
	}
	body := userBody{ID: u.ID, Version: u.Version, Type: u.Type, Login: u.Login, FirstName: u.FirstName,
		LastName: u.LastName, Displayname: u.Displayname, FrontendLanguage: u.FrontendLanguage, Reference: u.Reference,
		LoginDisabled: u.LoginDisabled, FrontendPrefs: u.FrontendPrefs,
		GeneratedDisplayname: GeneratedDisplayname(u.Displayname, u.FirstName, u.LastName, u.Login),
		Created:              formatTime(u.CreatedAt), Updated: formatTime(u.UpdatedAt),
		Company: profile("company"), Department: profile("department"), Phone: profile("phone"),
		Street: profile("street"), HouseNumber: profile("house_number"), AddressSupplement: profile("address_supplement"),
		PostalCode: profile("postal_code"), Town: profile("town"), Country: profile("country"), Remarks: profile("remarks")}
	out := fullFormat{
		Basetype:        "user",
		User:            body,
		ACL:             make([]aclOut, 0, len(u.ACL)),
		SystemRights:    u.SystemRights,
		Owner:           u.Owner,
		Groups:          u.Groups,
		Emails:          u.Emails,
		HasACL:          len(u.ACL) > 0,
		GeneratedRights: map[string]empty{},
	}
	if out.Emails == nil {
		out.Emails = []Email{}
	}
	if out.Groups == nil {
		out.Groups = []acl.Ref{}
	}
	for i, e := range u.ACL {
		a := aclOut{ID: e.ID, Rights: e.Rights, Active: e.Active, DateCreated: formatTime(e.Created)}
		switch {
		case e.WhoOwner:
			a.Who = map[string]bool{"_owner": true}
		case i < len(u.ACLWho) && u.ACLWho[i].ID != 0:
			a.Who = u.ACLWho[i]
		}
		if e.From != nil || e.To != nil {
			a.When = &whenOut{}
			if e.From != nil {
				s := e.From.UTC().Format(input.TimestampFormat) // as stored: see input.Timestamp
				a.When.From = &s
			}
			if e.To != nil {
				s := e.To.UTC().Format(input.TimestampFormat)
				a.When.To = &s
			}
		}
		out.ACL = append(out.ACL, a)
	}
	for _, name := range u.GeneratedRights().Names() {
		out.GeneratedRights[name] = empty{}
	}
	return json.Marshal(out)
}

// Short is a user in easydb's short format, as the members API lists them.
type Short struct {
	ID          int64
	Version     int64
	Type        string
	Login       *string
	Displayname string // _generated_displayname
}

// MarshalJSON writes s as {"_basetype":"user","user":{...}}.
func (s Short) MarshalJSON() ([]byte, error) {
	return json.Marshal(shortOut{Basetype: "user", User: shortUser(s)})
}

type shortOut struct {
	Basetype string    `json:"_basetype"`
	User     shortUser `json:"user"`
}

type shortUser struct {
	ID          int64   `json:"_id"`
	Version     int64   `json:"_version"`
	Type        string  `json:"type"`
	Login       *string `json:"login"`
	Displayname string  `json:"_generated_displayname"`
}
