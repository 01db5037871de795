package main

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/groupd/groupd/client"
)

// An ACL entry groupctl cannot read is an error naming the entry, never an
// entry whose rights acl grant/revoke would write back as null.
func TestReadACLRefusesUndecodableEntries(t *testing.T) {
	good := `{"who": {"_basetype": "user", "user": {"_id": 5}}, "rights": {"bag_read": {}}, "active": false}`
	for _, tc := range []struct {
		acl, wantErr string
	}{
		{`[` + good + `, {"who": {"_basetype": "user", "user": {"_id": 6}}, "rights": ["bag_read"]}]`, "_acl[1].rights"},
		{`[{"who": "root", "rights": {}}]`, "_acl[0].who"},
		{`[{"who": {"_owner": true}, "rights": {}, "active": "yes"}]`, "_acl[0].active"},
	} {
		_, err := readACL(&client.Group{ACL: json.RawMessage(tc.acl)})
		if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("readACL(%s) = %v, want an error naming %s", tc.acl, err, tc.wantErr)
		}
	}
	entries, err := readACL(&client.Group{ACL: json.RawMessage(`[` + good + `]`)})
	if err != nil || len(entries) != 1 || entries[0].Active || !slices.Equal(entries[0].rightNames(), []string{"bag_read"}) {
		t.Fatalf("readACL of a good entry = %+v, %v", entries, err)
	}
}

func TestChangedKeysOfUndecodableEvent(t *testing.T) {
	if got := changedKeys(json.RawMessage(`[1]`), json.RawMessage(`{"group": {"name": "a"}}`)); !slices.Equal(got, []string{"?"}) {
		t.Errorf("changedKeys of a non-object = %v, want [?]", got)
	}
	got := changedKeys(json.RawMessage(`null`), json.RawMessage(`{"group": {"name": "a"}}`))
	if !slices.Equal(got, []string{"group"}) {
		t.Errorf("changedKeys of a create = %v, want [group]", got)
	}
	if got := aclCount(&client.Group{ACL: json.RawMessage(`{"x": 1}`)}); got != "?" {
		t.Errorf("aclCount of an object = %q, want ?", got)
	}
}
