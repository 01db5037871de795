package object

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/groupd/groupd/errors"
)

// FuzzDecodeItem: no item makes the object decoder panic or fail with
// anything but a typed easydb 400, and every item it accepts is one the
// store accepts too (validate), with attributes that are a JSON object.
func FuzzDecodeItem(f *testing.F) {
	for _, seed := range []string{
		`{"_basetype":"object","object":{"kind":"noko.project","name":"Website","reference":"p-1","attributes":{"color":"#f90"}},"_group":{"_id":3}}`,
		`{"object":{"_id":7,"_version":2,"name":"renamed"},"_group":null}`,
		`{"object":{"_id":7,"_version":2,"reference":null,"attributes":null,"created_timestamp":"x"}}`,
		`{"object":{"kind":"Noko.Project","name":""}}`,
		`{"object":{"kind":"a.b","name":"x","attributes":[1]},"_group":{"_id":0}}`,
		`{"object":{"kind":"a.b","name":"a\u0000b","attributes":{"k\u0000":1}}}`,
		`{"object":{"kind":"a.b","name":"x","_version":1e300,"_id":9223372036854775808}}`,
		`{"object":null}`, `[]`, `null`, `{"_group":{"_id":"1"}}`,
	} {
		f.Add([]byte(seed), false)
		f.Add([]byte(seed), true)
	}
	f.Fuzz(func(t *testing.T, data []byte, createOnly bool) {
		if !json.Valid(data) {
			return
		}
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		var v any
		if dec.Decode(&v) != nil {
			return
		}
		in, err := decodeItem(v, 0, createOnly)
		if err != nil {
			e, ok := err.(*errors.Error)
			if !ok || e.Status() != 400 || e.Realm == errors.RealmServer {
				t.Fatalf("error %v (%T) for %q, want a typed 400", err, err, data)
			}
			return
		}
		if validateErr := validate(in); validateErr != nil {
			t.Fatalf("decoded %q, but the store refuses it: %v", data, validateErr)
		}
		if createOnly && !in.IsCreate() {
			t.Fatalf("PUT accepted an _id: %q", data)
		}
		if in.Attributes != nil {
			var m map[string]any
			if json.Unmarshal(in.Attributes, &m) != nil || m == nil {
				t.Fatalf("attributes %s are no object, from %q", in.Attributes, data)
			}
		}
	})
}
