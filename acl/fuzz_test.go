package acl

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/groupd/groupd/errors"
	"github.com/groupd/groupd/rights"
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

// aclSeeds: the ACL entries of the easydb documentation (acl_entry type,
// collection/share.json) and what groupd sends back, plus edge cases.
var aclSeeds = []string{
	`[{"who":{"user":{"_id":25}},"rights":{"read":{}}},{"who":{"group":{"_id":7}},"rights":{"read":{}}}]`,
	`[{"_id":3,"who":{"_basetype":"user","user":{"_id":25,"type":"easydb","login":"jane","_generated_displayname":"Jane"}},"rights":{"bag_read":{},"bag_write":{"_grantable":true}},"active":true,"date_created":"2026-01-01T00:00:00Z"}]`,
	`[{"who":{"_owner":true},"rights":{"bag_delete":{}},"sticky":true,"tagfilter":null}]`,
	`[{"who":{"group":{"_id":1}},"rights":{"link":{},"unlink":{},"delete":{}},"when":{"from":"2026-01-01T00:00:00Z","to":"2025-01-01T00:00:00Z"}}]`,
	`[{"who":{"user":{"_id":1},"group":{"_id":1}},"rights":{}}]`,
	`[{"who":{"_owner":false},"rights":{"read":{"_grantable":"yes"}}}]`,
	`[{"rights":{"bag_acl":{}}},{"who":null,"rights":null,"active":null,"when":null}]`,
	`[{"who":{"user":{"_id":-1}}},{"who":{"user":{"_id":1.5}}},{"who":{"user":{"_id":"1"}}}]`,
	`null`, `{}`, `[null]`, `[[]]`,
}

// FuzzDecode: _acl values of every shape, for groups and for users.
func FuzzDecode(f *testing.F) {
	for _, s := range aclSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, ok := decodeJSON(data)
		if !ok {
			return
		}
		for _, allowed := range [][]string{rights.GroupACLRights, rights.UserACLRights} {
			entries, set, err := Decode(v, "_acl", allowed)
			mustBeTyped400(t, err, data)
			if err != nil {
				continue
			}
			if set != (v != nil) {
				t.Fatalf("set %v for %q", set, data)
			}
			for _, e := range entries {
				if e.WhoUserID < 0 || e.WhoGroupID < 0 || (e.WhoUserID != 0 && e.WhoGroupID != 0) {
					t.Fatalf("entry %+v for %q", e, data)
				}
				if e.From != nil && e.To != nil && !e.From.Before(*e.To) {
					t.Fatalf("window %v..%v accepted", e.From, e.To)
				}
				if _, err := e.RightsMap(); err != nil {
					t.Fatalf("rights of an accepted entry: %v", err)
				}
			}
		}
	})
}

// FuzzDecodeRef: owner and who references.
func FuzzDecodeRef(f *testing.F) {
	for _, s := range []string{`{"_basetype":"user","user":{"_id":1}}`, `{"group":{"_id":3,"_displayname":{"en-US":"x"}}}`,
		`{"_basetype":"group","user":{"_id":1}}`, `{"user":null}`, `{}`, `[]`, `{"user":{"_id":0}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, ok := decodeJSON(data)
		if !ok {
			return
		}
		s, err := DecodeRef(v, "_owner")
		mustBeTyped400(t, err, data)
		if err == nil && (s.ID <= 0 || (s.Kind != "user" && s.Kind != "group")) {
			t.Fatalf("accepted %+v for %q", s, data)
		}
	})
}
