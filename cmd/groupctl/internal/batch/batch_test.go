package batch

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/groupd/groupd/client"
)

func TestReadJSONLineNumbers(t *testing.T) {
	data := `[
  {"_basetype":"group","group":{"name":"a","reference":"r1","displayname":{"en-US":"A","de-DE":null}}},
  {"_basetype":"user","user":{"login":"alice","first_name":null},"_groups":[{"group":{"_id":5,"name":"a"}}]},

  {"group":
     {"name": 7}},
  {"_basetype":"thing"}
]`
	recs, err := Read([]byte(data), DetectFormat("x", []byte(data)), "")
	if err != nil {
		t.Fatal(err)
	}
	lines := []int{2, 3, 5, 7}
	if len(recs) != 4 {
		t.Fatalf("%d records", len(recs))
	}
	for i, r := range recs {
		if r.Line != lines[i] {
			t.Fatalf("record %d at line %d, want %d", i, r.Line, lines[i])
		}
	}
	if g := recs[0].G; g == nil || *g.Name.Val != "a" || !g.DisplaynameAll || len(g.Displayname) != 1 {
		t.Fatalf("group %+v", recs[0].G)
	}
	if u := recs[1].U; u == nil || !u.Text["first_name"].Set || u.Text["first_name"].Val != nil || u.Groups[0].Name != "a" {
		t.Fatalf("user %+v", recs[1].U)
	}
	if recs[2].Err == nil || recs[2].Err.Code != "error.api.type_mismatch" || recs[2].Err.Parameters["attribute"] != "group.name" {
		t.Fatalf("record 3: %+v", recs[2].Err)
	}
	if recs[3].Err == nil || recs[3].Err.Code != "error.api.attribute_expected" {
		t.Fatalf("record 4: %+v", recs[3].Err)
	}
	if _, err := Read([]byte(`{"a":1}`), FormatJSON, ""); err == nil {
		t.Fatal("an object is no JSON import file")
	}
}

func TestReadCSV(t *testing.T) {
	data := "\xEF\xBB\xBFreference,name,displayname:en-US,comment,members\n" +
		"r1,a,A,\"multi\nline\",alice; bob ;\n" +
		"r2,b,,,\n" +
		"r3,c\n"
	recs, err := Read([]byte(data), FormatCSV, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 3 || recs[0].Line != 2 || recs[1].Line != 4 || recs[2].Line != 5 {
		t.Fatalf("records %+v", recs)
	}
	a := recs[0].G
	if *a.Comment.Val != "multi\nline" || strings.Join(a.Members, ",") != "alice,bob" || a.DisplaynameAll {
		t.Fatalf("a: %+v", a)
	}
	b := recs[1].G
	if !b.Comment.Set || b.Comment.Val != nil || b.Displayname["en-US"] != nil || !b.MembersSet || len(b.Members) != 0 {
		t.Fatalf("b: %+v", b)
	}
	if recs[2].Err == nil || recs[2].Err.Code != "error.api.invalid_content" {
		t.Fatalf("c: %+v", recs[2].Err)
	}
	if _, readErr := Read([]byte("name,colour\nx,red\n"), FormatCSV, ""); readErr == nil ||
		!strings.Contains(readErr.Error(), `unknown column "colour"`) {
		t.Fatalf("unknown column: %v", readErr)
	}
	users, err := Read([]byte("login,email,groups,login_disabled\nalice,a@x;b@x,g1;g2,true\n"), FormatCSV, "")
	if err != nil || users[0].Kind != KindUser || len(users[0].U.Emails) != 2 || len(users[0].U.Groups) != 2 ||
		!*users[0].U.LoginDisabled {
		t.Fatalf("users: %v %+v", err, users[0].U)
	}
}

func TestGroupChange(t *testing.T) {
	name, ref, comment := "a", "r1", "c"
	cur := &client.Group{Group: client.GroupBody{ID: 7, Version: 3, Type: "easydb", Name: &name, Reference: &ref,
		Comment: &comment, Displayname: map[string]string{"en-US": "A", "de-DE": "A-de"}},
		SystemRights: json.RawMessage(`{}`)}
	recs, _ := Read([]byte("reference,name,displayname:en-US,comment\nr1,a,A,c\n"), FormatCSV, "")
	if ch := groupChange(recs[0].G, cur); !ch.empty() {
		t.Fatalf("same values changed %v", ch.changed)
	}
	recs, _ = Read([]byte("reference,name,displayname:de-DE,comment,type\nr1,a,,,easydb\n"), FormatCSV, "")
	ch := groupChange(recs[0].G, cur)
	if strings.Join(ch.changed, ",") != "comment,displayname" {
		t.Fatalf("changed %v", ch.changed)
	}
	var item struct {
		Group map[string]any `json:"group"`
	}
	if err := json.Unmarshal(ch.encode(KindGroup), &item); err != nil {
		t.Fatal(err)
	}
	g := item.Group
	if g["_id"] != 7.0 || g["_version"] != 4.0 || g["comment"] != nil || len(g["displayname"].(map[string]any)) != 1 {
		t.Fatalf("item %v", g)
	}
	// JSON gives the complete displayname map; {} system rights equal none.
	recs, _ = Read([]byte(`[{"group":{"name":"a","displayname":{"en-US":"A"}},"_system_rights":{}}]`), FormatJSON, "")
	if ch := groupChange(recs[0].G, cur); strings.Join(ch.changed, ",") != "displayname" {
		t.Fatalf("changed %v", ch.changed)
	}
	// A create sends no nulls and no empty system rights.
	if ch := groupChange(recs[0].G, nil); strings.Join(ch.changed, ",") != "name,displayname" {
		t.Fatalf("create %v", ch.changed)
	}
}

func TestMemberPlan(t *testing.T) {
	a := &Record{Line: 2, id: 10, G: &GroupSpec{MembersSet: true, Members: []string{"Alice"}}}
	b := &Record{Line: 3, id: 11, G: &GroupSpec{MembersSet: true}}
	im := &Importer{}
	mp := im.memberPlan([]*Record{a, b})
	got, by := mp.apply([]int64{11, 12}, "alice")
	if !sameIDs(got, []int64{12, 10}) || len(by) != 2 {
		t.Fatalf("got %v by %d", got, len(by))
	}
	if got, by := mp.apply([]int64{12}, "bob"); !sameIDs(got, []int64{12}) || len(by) != 0 {
		t.Fatalf("bob: %v %d", got, len(by))
	}
}
