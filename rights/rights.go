// Package rights is the vocabulary of groupd's permissions: the ACL rights on
// groups and users with their implications, the system rights with their
// parameters, and the validation of a rights specification as clients send
// it (error.user.right_not_found, error.user.custom_type_required).
package rights

import (
	"sort"
	"strings"
)

// ACL rights. On a group: bag_* are rights on the group itself, link and
// unlink on its membership, read/write/delete on the group's users. On a
// user: read/write/delete on that user.
const (
	BagRead   = "bag_read"
	BagWrite  = "bag_write"
	BagDelete = "bag_delete"
	Link      = "link"
	Unlink    = "unlink"
	Read      = "read"
	Write     = "write"
	Delete    = "delete"
)

// System rights and their parameters used by groupd's decisions.
const (
	SystemRoot               = "system.root"
	SystemGroup              = "system.group"
	SystemUser               = "system.user"
	SystemUserCreateNew      = "system.user.create_new"
	SystemUserWriteSelf      = "system.user.write_self"
	SystemUserChangePassword = "system.user.change_password"
	// SystemObject: grouped objects (package object). create, edit and
	// delete allow those writes; read_all reads every object, grouped or not.
	SystemObject             = "system.object"
	ParamEdit                = "edit"
	ParamDelete              = "delete"
	ParamReadAll             = "read_all"
	ParamCreate              = "create"
	ParamCreateACL           = "create_acl"
	ParamCreateSystemRights  = "create_system_rights"
	ParamEditACL             = "edit_acl"
	ParamEditSystemRights    = "edit_system_rights"
	ParamGlobalCustomBagRead = "global_custom_bag_read"
	ParamHideFrontendApp     = "hide_frontend_app"
	// ParamManageAPITokens, on system.user: list and revoke other users'
	// API tokens (package session).
	ParamManageAPITokens      = "manage_api_tokens"
	CreateNewTypeCustom       = "custom_type"
	CreateNewTypeCustomLegacy = "custom" // the spelling of the group API and error docs
)

// Mask is a set of ACL rights as bits, with implications applied, so that a
// check is one AND and SQL can evaluate it on an int column.
type Mask uint32

const (
	MaskBagRead Mask = 1 << iota
	MaskBagWrite
	MaskBagDelete
	MaskLink
	MaskUnlink
	MaskRead
	MaskWrite
	MaskDelete
)

var bitByName = map[string]Mask{
	BagRead: MaskBagRead, BagWrite: MaskBagWrite, BagDelete: MaskBagDelete,
	Link: MaskLink, Unlink: MaskUnlink, Read: MaskRead, Write: MaskWrite, Delete: MaskDelete,
}

// ACLRightNames lists the ACL rights in a stable order.
var ACLRightNames = []string{BagRead, BagWrite, BagDelete, Link, Unlink, Read, Write, Delete}

// Implications are the direct implications between ACL rights: holding the
// key also grants the value (bag_delete => bag_write => bag_read,
// delete => write => read). policy/model.conf receives them as role links.
var Implications = [][2]string{
	{BagDelete, BagWrite}, {BagWrite, BagRead},
	{Delete, Write}, {Write, Read},
}

// GroupACLRights are the rights an ACL entry on a group may grant;
// UserACLRights those on a user.
var (
	GroupACLRights = []string{BagRead, BagWrite, BagDelete, Link, Unlink, Read, Write, Delete}
	UserACLRights  = []string{Read, Write, Delete}
)

// OwnerMask is what the owner of a group holds on it.
const OwnerMask = MaskBagRead | MaskBagWrite | MaskBagDelete

// Bit is the bit of one right, without implications; 0 for an unknown name.
func Bit(name string) Mask { return bitByName[name] }

// Closure adds every right implied by the rights in m.
func Closure(m Mask) Mask {
	for {
		next := m
		for _, imp := range Implications {
			if next&bitByName[imp[0]] != 0 {
				next |= bitByName[imp[1]]
			}
		}
		if next == m {
			return m
		}
		m = next
	}
}

// MaskOf is the mask of the named rights with their implications.
func MaskOf(names ...string) Mask {
	var m Mask
	for _, n := range names {
		m |= bitByName[n]
	}
	return Closure(m)
}

// Has reports whether m grants right (after implications).
func (m Mask) Has(right string) bool {
	b := bitByName[right]
	return b != 0 && m&b == b
}

// Names lists the rights in m, in ACLRightNames order.
func (m Mask) Names() []string {
	var out []string
	for _, n := range ACLRightNames {
		if m&bitByName[n] != 0 {
			out = append(out, n)
		}
	}
	return out
}

// Implied returns the rights that holding right grants, itself included,
// e.g. bag_delete -> [bag_read bag_write bag_delete].
func Implied(right string) []string { return MaskOf(right).Names() }

// IsSystemRight reports whether name is a known system right.
func IsSystemRight(name string) bool {
	_, ok := systemRights[name]
	return ok
}

// SystemRightNames lists the known system rights, sorted.
func SystemRightNames() []string {
	names := make([]string, 0, len(systemRights))
	for n := range systemRights {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// IsCustomGroupType reports whether a group type is a custom ("plugin") type.
func IsCustomGroupType(t string) bool {
	return strings.HasPrefix(t, "custom-") && len(t) > len("custom-")
}
