package kanboard

import (
	"maps"

	"github.com/groupd/groupd/rights"
)

// Kanboard's application roles.
const (
	RoleAdmin   = "app-admin"
	RoleManager = "app-manager"
	RoleUser    = "app-user"
)

// roleRights is THE mapping of Kanboard's application roles onto groupd's
// system rights, the user's own (_system_rights): what createUser and
// updateUser write for a role, and what getUser reads back as one. groupd
// enforces the rights, never the role name (docs/kanboard.md, "Roles"):
//
//   - app-admin, Kanboard's administrator, may do everything: system.root.
//   - app-manager may create and read groups and read users, not change
//     users: system.group with create, and system.user.
//   - app-user holds no system right of its own.
//
// Rights a user has through its groups add to these, as everywhere in
// groupd; the role read back is that of the user's own rights.
var roleRights = map[string]rights.Map{
	RoleAdmin:   {rights.SystemRoot: rights.Params{}},
	RoleManager: {rights.SystemGroup: rights.Params{rights.ParamCreate: true}, rights.SystemUser: rights.Params{}},
	RoleUser:    {},
}

// roleManaged are the system rights a role sets: writing a role replaces
// these and keeps the user's other system rights.
var roleManaged = []string{rights.SystemRoot, rights.SystemGroup, rights.SystemUser}

// roleOf is the role that a user's own system rights stand for: the
// highest role whose rights it holds.
func roleOf(own rights.Map) string {
	switch {
	case own.Bool(rights.SystemRoot, ""):
		return RoleAdmin
	case own.Bool(rights.SystemGroup, rights.ParamCreate) && own.Bool(rights.SystemUser, ""):
		return RoleManager
	}
	return RoleUser
}

// withRole is own with the rights of role in place of the role-managed
// ones.
func withRole(own rights.Map, role string) rights.Map {
	out := maps.Clone(own)
	if out == nil {
		out = rights.Map{}
	}
	for _, r := range roleManaged {
		delete(out, r)
	}
	for name, params := range roleRights[role] {
		out[name] = maps.Clone(params)
	}
	return out
}
