package group

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/groupd/groupd/errors"
)

// decodeJSON decodes a request body as web.DecodeJSON does (numbers as
// json.Number); ok is false for what is not JSON, which the server refuses
// before any decoder sees it.
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

// mustBeTyped400 fails unless err is nil or a typed easydb error sent with
// 400 (realm api or user).
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

// groupSeeds are the group bodies of the easydb examples (seeds/004 and
// reference/easydb-facts.md: put.json, post.json, the doc typo "id", the
// real server's config dump) and edge cases around them.
var groupSeeds = []string{
	`[{"_basetype":"group","group":{"_version":1,"name":"students","displayname":{"de-DE":"Studenten","en-US":"Students"}}}]`,
	`[{"_basetype":"group","group":{"_id":2,"_version":4,"name":"dept_head","displayname":{"de-DE":"Abteilungsleitergruppe","en-US":"Group of Department Heads"}}}]`,
	`[{"_basetype":"group","group":{"id":2,"_version":4,"name":"dept_head"}}]`,
	`[{"_basetype":"group","group":{"_id":null,"_version":1,"name":"migrated","reference":"ext-1"}}]`,
	`[{"_basetype":"group","group":{"_id":1,"displayname":{"de-DE":"Alle Benutzer","en-US":"All users"},"type":"system","name":":all","comment":null,"reference":"system::all","_version":2,"frontend_prefs":null,"authorization_info":null},"_owner":{"_basetype":"user","user":{"_generated_displayname":"Root","type":"system","_id":1,"frontend_language":"de-DE","login":"root","_version":14}},"_acl":[],"_system_rights":{},"_has_acl":false,"_generated_rights":{"bag_read":{},"bag_write":{}}}]`,
	`[{"group":{"name":"g","type":"custom-plugin","frontend_prefs":{"a":[1,2,{"b":null}]}},"_acl":[{"who":{"user":{"_id":25}},"rights":{"read":{}}},{"who":{"group":{"_id":7}},"rights":{"bag_read":{"_grantable":true}},"active":false,"when":{"from":"2026-01-01T00:00:00Z","to":"2027-01-01T00:00:00Z"}}],"_system_rights":{"system.group":{"create":true,"create_acl":true,"create_system_rights":true,"edit_acl":false,"edit_system_rights":false,"global_custom_bag_read":false,"hide_frontend_app":false},"system.tagmanager":{},"system.user.change_password":{},"system.user.create_new":{"type":"easydb","custom_type":"","require_group":false}}}]`,
	`[{"group":{"name":"o"},"_owner":{"group":{"_id":3}}},{"group":{"_id":5,"_version":2,"name":null,"displayname":{"en-US":null}}}]`,
	`[{"group":{"name":"x","_version":1e300}},{"group":{"name":"y","_version":-1}},{"group":{"name":"z","_id":9223372036854775808}}]`,
	`[{"group":{"name":"a\u0000b","comment":"line\nbreak","reference":"' OR 1=1; --"}}]`,
	`[{"group":{"name":"dup","name":"dup2"}}]`,
	`[null, 1, "s", [], {}]`,
	`{"group":{"name":"not an array"}}`,
}

// FuzzDecodeBody: no body makes the group decoder panic or fail with
// anything but a typed 400; what it accepts is a valid item.
func FuzzDecodeBody(f *testing.F) {
	for _, s := range groupSeeds {
		f.Add([]byte(s), true)
		f.Add([]byte(s), false)
	}
	f.Fuzz(func(t *testing.T, data []byte, createOnly bool) {
		body, ok := decodeJSON(data)
		if !ok {
			return
		}
		items, err := DecodeBody(body, createOnly)
		mustBeTyped400(t, err, data)
		if err != nil {
			return
		}
		for i, in := range items {
			if in.Index != i || in.ID < 0 || in.Version < 0 {
				t.Fatalf("item %d: index %d id %d version %d", i, in.Index, in.ID, in.Version)
			}
			if createOnly && !in.IsCreate() {
				t.Fatalf("item %d: an update accepted by PUT", i)
			}
			if in.IsCreate() && !hasName(in) {
				t.Fatalf("item %d: a create without name or displayname", i)
			}
			if !in.IsCreate() && in.Version == 0 {
				t.Fatalf("item %d: an update without _version", i)
			}
		}
	})
}
