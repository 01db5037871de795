package policy

import (
	"testing"

	"github.com/groupd/groupd/rights"
)

// TestCanObject: model.conf's m4. A grouped object is read by root, by
// system.object with read_all, and by whoever may read its group; no other
// right is ever granted on an object except to root, and an object in no
// group is read only by root and read_all.
func TestCanObject(t *testing.T) {
	e := newTestEngine(t)
	object := func(grp *Object) *Object { return &Object{Kind: "object", ID: 99, Group: grp} }
	cases := []struct {
		name string
		p    *Principal
		obj  *Object
		read bool
	}{
		{"in no group", principal(), object(nil), false},
		{"in no group, read_all", principal(withRights(rights.Map{rights.SystemObject: {rights.ParamReadAll: true}})), object(nil), true},
		{"in no group, system.object without read_all", principal(withRights(rights.Map{rights.SystemObject: {rights.ParamEdit: true}})), object(nil), false},
		{"in no group, root", principal(withRights(rights.Map{rights.SystemRoot: {}})), object(nil), true},
		{"group owned by someone else", principal(), object(group("easydb")), false},
		{"group owned by the principal", principal(), object(group("easydb", ownedByUser(alice))), true},
		{"easydb group the principal is a member of", principal(withGroups(target)), object(group("easydb")), true},
		{"custom group the principal is a member of", principal(withGroups(target)), object(group("custom-x")), false},
		{"custom group, global_custom_bag_read", principal(withRights(rights.Map{rights.SystemGroup: {rights.ParamGlobalCustomBagRead: true}})),
			object(group("custom-x")), true},
		{"ACL bag_read", principal(), object(group("easydb", withACL(grant(toUser(alice), rights.BagRead)))), true},
		{"ACL bag_delete implies bag_read", principal(), object(group("easydb", withACL(grant(toGroup(sales), rights.BagDelete)))), true},
		{"ACL link alone", principal(), object(group("easydb", withACL(grant(toUser(alice), rights.Link)))), false},
		{"ACL inactive", principal(), object(group("easydb", withACL(inactive(grant(toUser(alice), rights.BagRead))))), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, right := range rights.ACLRightNames {
				want := right == rights.Read && c.read || c.p.IsRoot()
				got, err := e.Can(c.p, right, c.obj)
				if err != nil || got != want {
					t.Errorf("Can(%s) = %v, %v; want %v", right, got, err, want)
				}
			}
		})
	}
}
