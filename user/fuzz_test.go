package user

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/groupd/groupd/errors"
)

func fuzzJSON(data []byte) (v any, ok bool) {
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

func fuzzTyped400(t *testing.T, err error, data []byte) {
	t.Helper()
	if err == nil {
		return
	}
	e, ok := err.(*errors.Error)
	if !ok {
		t.Fatalf("untyped error %T %v for %q", err, err, data)
	}
	if (e.Realm != errors.RealmAPI && e.Realm != errors.RealmUser) || e.Status() != 400 {
		t.Fatalf("error %s (realm %s) for %q, want a 400", e.Code, e.Realm, data)
	}
}

// FuzzDecodeBody: user bodies as the easydb migration client sends them
// (reference/easydb-facts.md) and edge cases: no panic, only typed 400s,
// and a password never appears in an error.
func FuzzDecodeBody(f *testing.F) {
	for _, s := range []string{
		`[{"_basetype":"user","user":{"_id":null,"_version":1,"login":"jdoe","first_name":"John","last_name":"Doe","frontend_language":"de-DE","reference":"ext-7"},"_groups":[{"group":{"_id":101}}],"_emails":[{"email":"j@example.org","use_for_login":true,"send_email":true}],"_password":"Secret-42"}]`,
		`[{"user":{"_id":100,"_version":2,"login_disabled":true},"_password":false}]`,
		`[{"user":{"login":"x"},"_acl":[{"who":{"group":{"_id":1}},"rights":{"read":{}}}],"_system_rights":{"system.group":{"create":true}}}]`,
		`[{"user":{"login":"a\u0000"},"_password":"p\u0000w"}]`,
		`[{"user":{"login":"x","type":"system"}}]`, `[{"user":{}}]`, `[null]`, `{}`,
	} {
		f.Add([]byte(s), true)
		f.Add([]byte(s), false)
	}
	f.Fuzz(func(t *testing.T, data []byte, createOnly bool) {
		v, ok := fuzzJSON(data)
		if !ok {
			return
		}
		items, err := DecodeBody(v, createOnly)
		fuzzTyped400(t, err, data)
		if err != nil {
			for _, it := range findPasswords(v) {
				// Only a password found nowhere else in the input counts.
				if len(it) >= 6 && bytes.Count(data, []byte(it)) == 1 && strings.Contains(err.Error(), it) {
					t.Fatalf("error %q carries the password %q", err, it)
				}
			}
			return
		}
		for i, in := range items {
			if in.Index != i || (createOnly && !in.IsCreate()) {
				t.Fatalf("item %d: index %d, id %d", i, in.Index, in.ID)
			}
		}
	})
}

func findPasswords(v any) []string {
	var out []string
	if arr, ok := v.([]any); ok {
		for _, item := range arr {
			if m, ok := item.(map[string]any); ok {
				if p, ok := m["_password"].(string); ok {
					out = append(out, p)
				}
			}
		}
	}
	return out
}

// FuzzDecodeMembers: bodies of POST /api/v1/group/<id>/members.
func FuzzDecodeMembers(f *testing.F) {
	for _, s := range []string{`{"add":[100,101],"remove":[102]}`, `{"add":[1],"remove":[1]}`, `{"add":null}`,
		`{"remove":[-1]}`, `{"add":[1e3]}`, `{"add":["7"]}`, `{"x":[]}`, `[]`, `null`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, ok := fuzzJSON(data)
		if !ok {
			return
		}
		mc, err := DecodeMembers(v)
		fuzzTyped400(t, err, data)
		if err == nil && len(mc.Add)+len(mc.Remove) > MaxMemberChange {
			t.Fatalf("accepted %d ids", len(mc.Add)+len(mc.Remove))
		}
	})
}
