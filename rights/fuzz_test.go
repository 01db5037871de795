package rights

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/groupd/groupd/errors"
)

func decodeJSON(data []byte) (v any, ok bool) {
	if !json.Valid(data) {
		return nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return nil, false
	}
	return v, true
}

func mustBeTyped400(t *testing.T, err error, input []byte) {
	t.Helper()
	if err == nil {
		return
	}
	e, ok := err.(*errors.Error)
	if !ok {
		t.Fatalf("untyped error %T %v for %q", err, err, input)
	}
	if (e.Realm != errors.RealmAPI && e.Realm != errors.RealmUser) || e.Status() != 400 {
		t.Fatalf("error %s (realm %s, status %d) for %q, want a 400", e.Code, e.Realm, e.Status(), input)
	}
}

// systemRightsSeeds: the _system_rights maps of the easydb documentation and
// of the real server's config dump (reference/easydb-facts.md 1.2, 3.2).
var systemRightsSeeds = []string{
	`{"system.root":{}}`,
	`{"system.group":{"create":true,"create_acl":true,"create_system_rights":true,"edit_acl":false,"edit_system_rights":false,"global_custom_bag_read":false,"hide_frontend_app":false},"system.tagmanager":{},"system.user.change_password":{},"system.user.create_new":{"type":"easydb","custom_type":"","require_group":false}}`,
	`{"system.user.create_new":{"type":"custom_type"}}`,
	`{"system.user.create_new":{"type":"custom","custom_type":"partner"}}`,
	`{"system.user.write_self":{"first_name":true,"picture":false,"_new_primary_email":true}}`,
	`{"system.user":{"create":"yes"}}`, `{"system.group":{"create":null}}`, `{"system.group":null}`,
	`{"system.datamodel":{"anything":[1,{"x":2}],"n":1e400}}`, `{"bag_read":{}}`, `{"system.nope":{}}`,
	`null`, `[]`, `"system.root"`, `{"system.root":[]}`,
}

// FuzzDecodeSystemRights: _system_rights of groups and users.
func FuzzDecodeSystemRights(f *testing.F) {
	for _, s := range systemRightsSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, ok := decodeJSON(data)
		if !ok {
			return
		}
		m, err := DecodeSystemRights(v, "_system_rights")
		mustBeTyped400(t, err, data)
		if err != nil {
			return
		}
		for name := range m {
			if !IsSystemRight(name) {
				t.Fatalf("accepted unknown right %q", name)
			}
		}
		// What is accepted is stored and sent back: it must marshal, and
		// read back as the same map.
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatalf("marshal accepted rights: %v", err)
		}
		back, ok := decodeJSON(b)
		if !ok {
			t.Fatalf("accepted rights marshal to invalid JSON %q", b)
		}
		m2, err := DecodeSystemRights(back, "_system_rights")
		if err != nil || !Equal(m, m2) {
			t.Fatalf("round trip of %q: %v", b, err)
		}
	})
}

// FuzzDecodeACLRights: the rights of an ACL entry.
func FuzzDecodeACLRights(f *testing.F) {
	for _, s := range []string{`{"read":{}}`, `{"bag_read":{},"bag_write":{"_grantable":true}}`,
		`{"link":{},"unlink":{},"delete":{}}`, `{"bag_acl":{}}`, `{"read":{"_grantable":1}}`,
		`{"read":{"x":true}}`, `{"read":null}`, `null`, `[]`, `{"system.root":{}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, ok := decodeJSON(data)
		if !ok {
			return
		}
		for _, allowed := range [][]string{GroupACLRights, UserACLRights} {
			m, err := DecodeACLRights(v, "rights", allowed)
			mustBeTyped400(t, err, data)
			if err != nil {
				continue
			}
			for name := range m {
				found := false
				for _, a := range allowed {
					found = found || a == name
				}
				if !found {
					t.Fatalf("accepted right %q outside %v", name, allowed)
				}
			}
		}
	})
}
