// Package acl is the ACL entry of easydb (who, rights, active, when): its
// decoding and validation from a request, its storage on groups and users,
// and its output format. The entry type itself is in acl/entry, which the
// decision engine (policy) imports instead of this package.
package acl

import (
	"github.com/groupd/groupd/acl/entry"
	"github.com/groupd/groupd/rights"
)

// Entry is one ACL entry on a group or a user; the type lives in acl/entry,
// below policy.
type Entry = entry.Entry

// MaskOf computes an entry's mask from its rights map.
func MaskOf(m rights.Map) rights.Mask {
	var mask rights.Mask
	for name := range m {
		mask |= rights.Bit(name)
	}
	return rights.Closure(mask)
}
