package group

import (
	"bytes"
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/groupd/groupd/db"
	"github.com/groupd/groupd/db/dbtest"
	"github.com/groupd/groupd/policy"
	"github.com/groupd/groupd/rights"
)

// answerWorld: user 1000 (the writer, in group 2000, with the system
// rights to create and edit ACLs and system rights), user 1001 (a subject
// whose login needs escaping and whose display name is its own), group
// 2000 (a subject with display names in two cultures), and per run of the
// test a group the writer owns that a request renames while other items
// name it.
func answerWorld(t *testing.T, d *db.DB) *Store {
	t.Helper()
	return testStore(t, d,
		`INSERT INTO users (id, login, type, first_name, last_name) VALUES (1000, 'writer', 'easydb', 'Wri', 'Ter')`,
		`INSERT INTO users (id, login, type, displayname) VALUES (1001, 'sub<&>ject', 'easydb', 'Sübject "one"')`,
		`INSERT INTO groups (id, name, type, owner_user_id, displayname)
			VALUES (2000, 'subjects', 'easydb', 1, '{"en-US": "Subjects", "de-DE": "Subjekte <b>"}')`,
		`INSERT INTO group_displaynames (group_id, culture, value) VALUES (2000, 'en-US', 'Subjects'), (2000, 'de-DE', 'Subjekte <b>')`,
		`INSERT INTO memberships (group_id, user_id) VALUES (2000, 1000)`,
	)
}

// decodeBody decodes a request body as the handlers do (numbers as
// json.Number, each item by decodeItem).
func decodeBody(t *testing.T, body string, createOnly bool) []*Input {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(body))
	dec.UseNumber()
	var items []any
	if err := dec.Decode(&items); err != nil {
		t.Fatal(err)
	}
	out := make([]*Input, len(items))
	for i, v := range items {
		in, err := decodeItem(v, i, createOnly)
		if err != nil {
			t.Fatalf("item %d: %v", i, err)
		}
		out[i] = in
	}
	return out
}

// TestWriteAnswerIsWhatIsRead: the answer of a write, built from the plans
// (ReadBack), is byte for byte what a read of the same groups gives after
// the write, and the audit event's after is that answer: for root and for
// a writer that is not, for creates and updates, with ACL entries naming a
// user, a group, the owner and nobody, rights whose stored key order is
// not encoding/json's, windows with more precision than PostgreSQL keeps,
// frontend_prefs and system rights that jsonb normalises, an owner handed
// to a group, a type change, and a group renamed by the same request that
// other items name.
func TestWriteAnswerIsWhatIsRead(t *testing.T) {
	d := dbtest.MustOpenDB(t)
	store := answerWorld(t, d)
	writer := &policy.Principal{UserID: 1000, UserType: "easydb", Groups: []int64{2000},
		SystemGroups: policy.SystemGroupsFor("easydb"), SystemRights: rights.Map{rights.SystemGroup: rights.Params{
			rights.ParamCreate: true, rights.ParamCreateACL: true, rights.ParamEditACL: true,
			rights.ParamCreateSystemRights: true, rights.ParamEditSystemRights: true}}}
	root := &policy.Principal{UserID: 1, UserType: "system", SystemRights: rights.Map{rights.SystemRoot: rights.Params{}}}

	for _, tc := range []struct {
		name string
		p    *policy.Principal
	}{{"root", root}, {"writer", writer}} {
		t.Run(tc.name, func(t *testing.T) {
			p, n := tc.p, tc.name
			var renamed int64
			if err := d.QueryRow(`INSERT INTO groups (name, type, owner_user_id) VALUES ($1, 'easydb', 1000) RETURNING id`,
				n+"-subject").Scan(&renamed); err != nil {
				t.Fatal(err)
			}
			r := strconv.FormatInt(renamed, 10)
			created := write(t, store, p, decodeBody(t, `[
				{"_basetype": "group", "group": {"name": "`+n+`-a", "displayname": {"en-US": "`+n+` A", "de-DE": "`+n+` Ä <&>"},
					"comment": "a\nb", "reference": "`+n+`-ref-a", "color": "A0B1C2",
					"frontend_prefs": {"zeta": 1.50, "alpha": {"bb": [1, "x", 1e2], "a": null}, "mid": "ü<"}},
				 "_system_rights": {"system.group": {"create": true}},
				 "_acl": [
					{"who": {"_basetype": "user", "user": {"_id": 1001}}, "rights": {"read": {}, "bag_read": {"_grantable": true}}},
					{"who": {"group": {"_id": 2000}}, "rights": {"bag_write": {}, "link": {}},
					 "when": {"from": "2026-01-02T03:04:05.123456789+02:00", "to": "2099-01-01T00:00:00Z"}},
					{"who": {"_owner": true}, "rights": {"bag_delete": {}}, "active": false},
					{"rights": {"bag_read": {}}, "_id": 999999},
					{"who": {"group": {"_id": `+r+`}}, "rights": {"bag_read": {}}}]},
				{"_basetype": "group", "group": {"name": "`+n+`-b"}},
				{"_basetype": "group", "group": {"displayname": {"en-US": "`+n+` C"}},
				 "_acl": [{"who": {"group": {"_id": `+r+`}}, "rights": {"bag_read": {}}}]}]`, true))
			compareWithRead(t, d, store, p, created)
			a, b, c := created[0], created[1], created[2]

			entries := func(g *Group) string {
				return `{"_id": ` + strconv.FormatInt(g.ACL[0].ID, 10) + `, "who": {"user": {"_id": 1001}},
					"rights": {"read": {}, "bag_read": {"_grantable": true}}, "date_created": "2000-01-01T00:00:00Z"}`
			}
			updated := write(t, store, p, decodeBody(t, `[
				{"_basetype": "group", "group": {"_id": `+id(a)+`, "_version": 2, "frontend_prefs": {"b": 1, "a": 2}},
				 "_owner": {"group": {"_id": 2000}},
				 "_acl": [{"who": {"group": {"_id": `+r+`}}, "rights": {"write": {}, "bag_read": {}}}, `+entries(a)+`]},
				{"_basetype": "group", "group": {"_id": `+id(b)+`, "_version": 2, "comment": "only the comment"}},
				{"_basetype": "group", "group": {"_id": `+id(c)+`, "_version": 2, "type": "custom-answer"},
				 "_system_rights": {"system.group": {"create": true}, "system.config": {"n": 1.50, "z": -0, "s": "x<y"}}},
				{"_basetype": "group", "group": {"_id": `+r+`, "_version": 2, "name": "`+n+`-subject-renamed",
					"displayname": {"en-US": "`+n+` renamed"}}}]`, false))
			compareWithRead(t, d, store, p, updated)
			// a bulk past the threshold where ACL entries and displaynames
			// are written with COPY
			var many []string
			for i := 0; i < 70; i++ {
				many = append(many, `{"_basetype": "group", "group": {"name": "`+n+`-many-`+strconv.Itoa(i)+`",
					"frontend_prefs": {"z": `+strconv.Itoa(i)+`, "a": "x"}},
				 "_acl": [{"who": {"group": {"_id": 2000}}, "rights": {"read": {}, "bag_read": {"_grantable": false}}},
					{"who": {"user": {"_id": 1001}}, "rights": {"bag_write": {}}, "when": {"to": "2099-12-31T23:59:59.5Z"}}]}`)
			}
			compareWithRead(t, d, store, p, write(t, store, p, decodeBody(t, "["+strings.Join(many, ",")+"]", true)))
			if updated[0].ACL[1].ID != a.ACL[0].ID || !updated[0].ACL[1].Created.Equal(a.ACL[0].Created) {
				t.Errorf("the entry sent back with its _id has id %d created %v, want %d created %v", updated[0].ACL[1].ID,
					updated[0].ACL[1].Created, a.ACL[0].ID, a.ACL[0].Created)
			}
			if updated[0].ACL[0].ID <= a.ACL[len(a.ACL)-1].ID {
				t.Errorf("a new entry has id %d, not after the earlier ones (%d)", updated[0].ACL[0].ID, a.ACL[len(a.ACL)-1].ID)
			}
			if a.ACL[3].ID == 999999 {
				t.Errorf("a created group's entry kept the _id its request named")
			}
		})
	}
}

func id(g *Group) string { return strconv.FormatInt(g.ID, 10) }

func write(t *testing.T, store *Store, p *policy.Principal, items []*Input) []*Group {
	t.Helper()
	written, err := store.Write(context.Background(), p, items)
	if err != nil {
		t.Fatal(err)
	}
	return written
}

// compareWithRead fails unless each written group, as answered and in
// full format, is byte for byte the group as Get reads it, and unless its
// last audit event's after is the same group.
func compareWithRead(t *testing.T, d *db.DB, store *Store, p *policy.Principal, written []*Group) {
	t.Helper()
	for _, g := range written {
		read, err := store.Get(context.Background(), p, g.ID)
		if err != nil || read == nil {
			t.Fatalf("group %d: read %v, %v", g.ID, read, err)
		}
		answered, err := g.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		want, err := read.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(answered, want) {
			t.Errorf("group %d: the answer differs from the read\nanswer: %s\nread:   %s", g.ID, answered, want)
		}
		fullWritten, _ := appendGroup(nil, g, true)
		fullRead, _ := appendGroup(nil, read, true)
		if !bytes.Equal(fullWritten, fullRead) {
			t.Errorf("group %d: the full format differs\nanswer: %s\nread:   %s", g.ID, fullWritten, fullRead)
		}
		var same bool
		if err := d.QueryRow(`SELECT after = $2::jsonb FROM events WHERE object_type = 'group' AND object_id = $1
			ORDER BY id DESC LIMIT 1`, g.ID, string(fullRead)).Scan(&same); err != nil {
			t.Fatal(err)
		}
		if !same {
			t.Errorf("group %d: the audit event's after is not the group as read", g.ID)
		}
	}
}
