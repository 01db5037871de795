package rights

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/groupd/groupd/errors"
	"github.com/groupd/groupd/storable"
)

// Map is a rights specification as easydb sends it: right name -> parameters,
// {"system.group": {"create": true}, "system.root": {}}. Parameter values are
// kept as the client sent them (bool, string, number, array or object), so
// that what is stored is echoed back verbatim.
type Map map[string]Params

// Params are the parameters of one right.
type Params map[string]any

// paramKind is the JSON type a known parameter must have.
type paramKind int

const (
	kindBool paramKind = iota
	kindString
	kindAny
)

// systemRights lists the known system rights and their parameters. A right
// whose parameter list is nil accepts any parameters (rights groupd stores
// for the DAM but does not itself evaluate).
var systemRights = map[string]map[string]paramKind{
	SystemRoot: {},
	SystemGroup: {ParamCreate: kindBool, ParamCreateACL: kindBool, ParamCreateSystemRights: kindBool,
		ParamEditACL: kindBool, ParamEditSystemRights: kindBool, ParamHideFrontendApp: kindBool,
		ParamGlobalCustomBagRead: kindBool},
	SystemUser: {ParamCreate: kindBool, ParamCreateACL: kindBool, ParamCreateSystemRights: kindBool,
		ParamEditACL: kindBool, ParamEditSystemRights: kindBool, ParamHideFrontendApp: kindBool,
		ParamManageAPITokens: kindBool},
	SystemObject:             {ParamCreate: kindBool, ParamEdit: kindBool, ParamDelete: kindBool, ParamReadAll: kindBool},
	SystemUserWriteSelf:      selfFields(),
	SystemUserChangePassword: {},
	SystemUserCreateNew: merge(selfFields(), map[string]paramKind{
		"type": kindString, "custom_type": kindString, "require_group": kindBool, "_password": kindBool,
		"login": kindBool, "default_send_email": kindBool, "default_send_email_include_password": kindBool,
		"default_send_welcome_new_user": kindBool, "default_needs_confirmation": kindBool,
		"default_use_for_login": kindBool, "default_use_for_email": kindBool,
	}),
	"system.datamodel": nil, "system.config": nil, "system.search": nil, "system.frontend_features": nil,
	"system.objecttypemanager": nil, "system.poolmanager": nil, "system.tagmanager": nil,
	"system.rightsmanagement": nil, "system.api": nil, "system.mask": nil, "system.pool": nil,
	"system.collection": nil, "system.export": nil, "system.import": nil, "system.log": nil,
	"system.message": nil, "system.workfolder": nil, "system.preferences": nil, "system.plugin": nil,
}

func selfFields() map[string]paramKind {
	m := map[string]paramKind{}
	for _, f := range []string{"first_name", "last_name", "displayname", "company", "department", "phone",
		"street", "house_number", "address_supplement", "postal_code", "town", "country", "picture",
		"mail_schedule", "_new_primary_email"} {
		m[f] = kindBool
	}
	return m
}

func merge(a, b map[string]paramKind) map[string]paramKind {
	for k, v := range b {
		a[k] = v
	}
	return a
}

// createNewTypes are the choices of system.user.create_new's "type".
var createNewTypes = []string{"easydb", "easydb_self_register", CreateNewTypeCustom, CreateNewTypeCustomLegacy}

// DecodeSystemRights validates a _system_rights value (decoded with
// json.Decoder.UseNumber) found at attribute path (e.g. "_system_rights").
// null is an empty map.
func DecodeSystemRights(v any, path string) (Map, error) {
	return decode(v, path, func(name, at string) (map[string]paramKind, bool, error) {
		params, known := systemRights[name]
		if !known {
			return nil, false, errors.RightNotFound(name)
		}
		return params, params == nil, nil
	}, validateCreateNew)
}

// DecodeACLRights validates the rights of an ACL entry: only the names in
// allowed; the only parameter is "_grantable" (bool).
func DecodeACLRights(v any, path string, allowed []string) (Map, error) {
	return decode(v, path, func(name, at string) (map[string]paramKind, bool, error) {
		for _, a := range allowed {
			if a == name {
				return map[string]paramKind{"_grantable": kindBool}, false, nil
			}
		}
		return nil, false, errors.RightNotFound(name)
	}, nil)
}

func decode(v any, path string, lookup func(name, at string) (map[string]paramKind, bool, error),
	extra func(Map, string) error) (Map, error) {
	if v == nil {
		return Map{}, nil
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, errors.TypeMismatch(path, "object")
	}
	out := make(Map, len(obj))
	for _, name := range sortedKeys(obj) {
		at := path + "." + name
		known, anyParams, err := lookup(name, at)
		if err != nil {
			return nil, err
		}
		raw := obj[name]
		if raw == nil {
			raw = map[string]any{}
		}
		pobj, ok := raw.(map[string]any)
		if !ok {
			return nil, errors.TypeMismatch(at, "object")
		}
		params := make(Params, len(pobj))
		for _, p := range sortedKeys(pobj) {
			pv := pobj[p]
			if !storable.Text(p) {
				return nil, errors.InvalidValue(at, "NUL characters (\\u0000) are not allowed in keys")
			}
			if !anyParams {
				kind, ok := known[p]
				if !ok {
					return nil, errors.AttributeNotAccepted(at + "." + p)
				}
				switch kind {
				case kindBool:
					if _, ok := pv.(bool); !ok && pv != nil {
						return nil, errors.TypeMismatch(at+"."+p, "boolean")
					}
				case kindString:
					if _, ok := pv.(string); !ok && pv != nil {
						return nil, errors.TypeMismatch(at+"."+p, "string")
					}
				}
			}
			if pv != nil {
				if err := finiteNumbers(pv, at+"."+p); err != nil {
					return nil, err
				}
				if err := storable.JSON(pv, at+"."+p); err != nil {
					return nil, err
				}
				params[p] = normalize(pv)
			}
		}
		out[name] = params
	}
	if extra != nil {
		if err := extra(out, path); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// validateCreateNew: type must be one of the choices, and custom_type needs
// a custom_type (error.user.custom_type_required).
func validateCreateNew(m Map, path string) error {
	p, ok := m[SystemUserCreateNew]
	if !ok {
		return nil
	}
	t, _ := p["type"].(string)
	if t == "" {
		return nil
	}
	valid := false
	for _, c := range createNewTypes {
		valid = valid || c == t
	}
	if !valid {
		return errors.InvalidValue(path+"."+SystemUserCreateNew+".type",
			fmt.Sprintf("one of %s expected", strings.Join(createNewTypes, ", ")))
	}
	if t == CreateNewTypeCustom || t == CreateNewTypeCustomLegacy {
		if ct, _ := p["custom_type"].(string); strings.TrimSpace(ct) == "" {
			return errors.CustomTypeRequired()
		}
	}
	return nil
}

// finiteNumbers refuses numbers beyond float64 (1e400): stored as float64
// they would be infinite, which JSON cannot express.
func finiteNumbers(v any, path string) error {
	switch x := v.(type) {
	case json.Number:
		if f, err := x.Float64(); err != nil || math.IsInf(f, 0) {
			return errors.InvalidValue(path, "number out of range")
		}
	case []any:
		for _, e := range x {
			if err := finiteNumbers(e, path); err != nil {
				return err
			}
		}
	case map[string]any:
		for _, e := range x {
			if err := finiteNumbers(e, path); err != nil {
				return err
			}
		}
	}
	return nil
}

// normalize turns json.Number into int64 or float64, so that stored values
// compare and encode predictably.
func normalize(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		f, _ := x.Float64()
		return f
	case []any:
		for i := range x {
			x[i] = normalize(x[i])
		}
	case map[string]any:
		for k := range x {
			x[k] = normalize(x[k])
		}
	}
	return v
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Bool reports whether right is in m with parameter param set to true.
// param "" asks only whether the right is present.
func (m Map) Bool(right, param string) bool {
	p, ok := m[right]
	if !ok {
		return false
	}
	if param == "" {
		return true
	}
	b, _ := p[param].(bool)
	return b
}

// Union combines rights maps as easydb combines a user's and its groups'
// system rights: rights are additive, a boolean parameter is true if any
// source sets it, other parameters keep the first value seen.
func Union(maps ...Map) Map {
	out := Map{}
	for _, m := range maps {
		for name, params := range m {
			dst, ok := out[name]
			if !ok {
				dst = Params{}
				out[name] = dst
			}
			for k, v := range params {
				old, seen := dst[k]
				if !seen {
					dst[k] = v
					continue
				}
				if ob, ok := old.(bool); ok {
					if nb, ok := v.(bool); ok {
						dst[k] = ob || nb
					}
				}
			}
		}
	}
	return out
}

// MarshalJSON writes an empty map as {} (never null), as easydb does.
func (m Map) MarshalJSON() ([]byte, error) {
	if m == nil {
		return []byte("{}"), nil
	}
	var buf bytes.Buffer
	buf.WriteByte('{')
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	for i, n := range names {
		if i > 0 {
			buf.WriteByte(',')
		}
		k, _ := json.Marshal(n)
		buf.Write(k)
		buf.WriteByte(':')
		p := m[n]
		if p == nil {
			p = Params{}
		}
		v, err := json.Marshal(map[string]any(p))
		if err != nil {
			return nil, err
		}
		buf.Write(v)
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// DecodeStored reads a rights map as stored (jsonb text), keeping numbers
// as json.Number as the API's decoder does, so that a stored map compares
// and echoes like the one the client sent.
func DecodeStored(b []byte) (Map, error) {
	m := Map{}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	return m, nil
}

// Equal reports whether two rights maps say the same (by canonical JSON).
func Equal(a, b Map) bool {
	x, err1 := a.MarshalJSON()
	y, err2 := b.MarshalJSON()
	return err1 == nil && err2 == nil && bytes.Equal(x, y)
}
