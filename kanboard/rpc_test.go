package kanboard

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/groupd/groupd/rights"
)

func TestBind(t *testing.T) {
	decl := []param{req("group_id"), opt("name", nil), opt("external_id", "")}
	for _, c := range []struct {
		params string
		want   []any
		msg    string
	}{
		{`null`, nil, "Wrong number of arguments"},
		{`[]`, nil, "Wrong number of arguments"},
		{`[1]`, []any{json.Number("1"), nil, ""}, ""},
		{`[1,"n","e"]`, []any{json.Number("1"), "n", "e"}, ""},
		{`[1,"n","e",4]`, nil, "Too many arguments"},
		{`{"group_id":1}`, []any{json.Number("1"), nil, ""}, ""},
		{`{"external_id":"e","group_id":1}`, []any{json.Number("1"), nil, "e"}, ""},
		{`{"name":"n","external_id":"e"}`, nil, "Missing argument: group_id"},
		{`{"group_id":1,"unknown":2}`, []any{json.Number("1"), nil, ""}, ""},
		{`{"group_id":1,"a":2,"b":3,"c":4}`, nil, "Too many arguments"},
		{`{"1":"n","0":1}`, []any{json.Number("1"), "n", ""}, ""},
		{`{"0":1,"2":"e"}`, nil, "Missing argument: group_id"},
	} {
		v, ok := decode([]byte(c.params))
		if !ok {
			t.Fatalf("%s: not JSON", c.params)
		}
		got, msg := bind(decl, v)
		if msg != c.msg || (msg == "" && !reflect.DeepEqual(got, c.want)) {
			t.Errorf("bind(%s) = %v %q, want %v %q", c.params, got, msg, c.want, c.msg)
		}
	}
}

func TestDecode(t *testing.T) {
	for body, ok := range map[string]bool{
		``: false, `{`: false, `{} {}`: false, `{} `: true, `"s"`: true, `1e400`: true,
		strings.Repeat("[", 512) + strings.Repeat("]", 512): true,
		strings.Repeat("[", 513) + strings.Repeat("]", 513): false,
		`["` + strings.Repeat("[", 600) + `"]`:              true, // brackets inside a string do not nest
	} {
		if _, got := decode([]byte(body)); got != ok {
			t.Errorf("decode(%.40q) ok = %v, want %v", body, got, ok)
		}
	}
}

func TestRoles(t *testing.T) {
	for role, m := range roleRights {
		if got := roleOf(withRole(rights.Map{"system.api": {}}, role)); got != role {
			t.Errorf("role %s reads back as %s", role, got)
		}
		if _, kept := withRole(rights.Map{"system.api": {}}, role)["system.api"]; !kept {
			t.Errorf("role %s dropped a right it does not manage", role)
		}
		for name := range m {
			if !slices.Contains(roleManaged, name) {
				t.Errorf("role %s sets %s, which withRole does not replace", role, name)
			}
		}
	}
	if got := withRole(rights.Map{"system.root": {}, "system.group": {"create": true}}, RoleUser); len(got) != 0 {
		t.Errorf("app-user keeps %v", got)
	}
}
