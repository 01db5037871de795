package batch

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"github.com/groupd/groupd/client"
)

// --- what the server has -----------------------------------------------------

// groupIndex finds the server's groups by id, reference, name and
// displayname (culture and text).
type groupIndex struct {
	byID   map[int64]*client.Group
	byRef  map[string]*client.Group
	byName map[string]*client.Group
	byDN   map[string]*client.Group // culture + "\x00" + text
}

func newGroupIndex(groups []client.Group) *groupIndex {
	ix := &groupIndex{byID: map[int64]*client.Group{}, byRef: map[string]*client.Group{},
		byName: map[string]*client.Group{}, byDN: map[string]*client.Group{}}
	for i := range groups {
		ix.put(&groups[i])
	}
	return ix
}

func (ix *groupIndex) put(g *client.Group) {
	if old := ix.byID[g.Group.ID]; old != nil {
		ix.drop(old)
	}
	ix.byID[g.Group.ID] = g
	if g.Group.Reference != nil {
		ix.byRef[*g.Group.Reference] = g
	}
	if g.Group.Name != nil {
		ix.byName[*g.Group.Name] = g
	}
	for c, v := range g.Group.Displayname {
		ix.byDN[c+"\x00"+v] = g
	}
}

func (ix *groupIndex) drop(g *client.Group) {
	delete(ix.byID, g.Group.ID)
	if g.Group.Reference != nil && ix.byRef[*g.Group.Reference] == g {
		delete(ix.byRef, *g.Group.Reference)
	}
	if g.Group.Name != nil && ix.byName[*g.Group.Name] == g {
		delete(ix.byName, *g.Group.Name)
	}
	for c, v := range g.Group.Displayname {
		if ix.byDN[c+"\x00"+v] == g {
			delete(ix.byDN, c+"\x00"+v)
		}
	}
}

// match finds the group a record means: by reference, then by name, then
// (for a group without a name) by any of its displaynames.
func (ix *groupIndex) match(s *GroupSpec) *client.Group {
	if s.Reference.Val != nil {
		if g := ix.byRef[*s.Reference.Val]; g != nil {
			return g
		}
	}
	if s.Name.Val != nil {
		return ix.byName[*s.Name.Val]
	}
	for _, c := range sortedKeys(s.Displayname) {
		if v := s.Displayname[c]; v != nil {
			if g := ix.byDN[c+"\x00"+*v]; g != nil {
				return g
			}
		}
	}
	return nil
}

// resolve finds the group a user's groups entry names.
func (ix *groupIndex) resolve(k GroupKey) *client.Group {
	switch {
	case k.Token != "":
		if g := ix.byRef[k.Token]; g != nil {
			return g
		}
		return ix.byName[k.Token]
	case k.Reference != "":
		if g := ix.byRef[k.Reference]; g != nil {
			return g
		}
		if k.Name != "" {
			return ix.byName[k.Name]
		}
		return nil
	case k.Name != "":
		return ix.byName[k.Name]
	case len(k.Displayname) > 0:
		for _, c := range sortedKeys(k.Displayname) {
			if g := ix.byDN[c+"\x00"+k.Displayname[c]]; g != nil {
				return g
			}
		}
		return nil
	}
	return ix.byID[k.ID]
}

// userIndex finds the server's users by id, reference and login (logins are
// unique regardless of case).
type userIndex struct {
	byID    map[int64]*client.User
	byRef   map[string]*client.User
	byLogin map[string]*client.User
}

func newUserIndex(users []client.User) *userIndex {
	ix := &userIndex{byID: map[int64]*client.User{}, byRef: map[string]*client.User{},
		byLogin: map[string]*client.User{}}
	for i := range users {
		ix.put(&users[i])
	}
	return ix
}

func (ix *userIndex) put(u *client.User) {
	if old := ix.byID[u.User.ID]; old != nil {
		if old.User.Reference != nil && ix.byRef[*old.User.Reference] == old {
			delete(ix.byRef, *old.User.Reference)
		}
		if old.User.Login != nil && ix.byLogin[strings.ToLower(*old.User.Login)] == old {
			delete(ix.byLogin, strings.ToLower(*old.User.Login))
		}
	}
	ix.byID[u.User.ID] = u
	if u.User.Reference != nil {
		ix.byRef[*u.User.Reference] = u
	}
	if u.User.Login != nil {
		ix.byLogin[strings.ToLower(*u.User.Login)] = u
	}
}

func (ix *userIndex) match(s *UserSpec) *client.User {
	if v := s.Text["reference"].Val; v != nil {
		if u := ix.byRef[*v]; u != nil {
			return u
		}
	}
	if v := s.Text["login"].Val; v != nil {
		return ix.byLogin[strings.ToLower(*v)]
	}
	return nil
}

// referenceConflict reports whether an item matched by its name (or login)
// would take over an entry that the server keeps under another reference:
// the file gives a reference (or clears it) and the server's entry has a
// different, non-empty one. Such an item is two different directory
// entries claiming one name; writing it would flip the entry's identity on
// every run, so it fails instead and nothing is changed.
func referenceConflict(want Str, have *string) bool {
	return want.Set && have != nil && (want.Val == nil || *want.Val != *have)
}

// conflictError is the failure of such an item, in the server's words: the
// name is taken.
func conflictError(constraint, name, kind string, id int64, ref string) *client.Error {
	return apiError("error.user.integrity_constraint_violation", "constraint", constraint, kind, strconv.FormatInt(id, 10),
		"existing_reference", ref, "description", fmt.Sprintf("%q is %s #%d, whose reference is %q: not taken over "+
			"(give the item that reference, or rename one of them)", name, kind, id, ref))
}

// --- differences ---------------------------------------------------------------

// change is one write item being planned: the attributes to send and the
// names of what changes, for --dry-run.
type change struct {
	fields  map[string]any // inside "group" or "user"
	top     map[string]any // beside it: _system_rights, _groups, _emails, _password
	changed []string
}

func newChange() *change { return &change{fields: map[string]any{}, top: map[string]any{}} }

func (c *change) set(attr string, v any) {
	c.fields[attr] = v
	c.changed = append(c.changed, attr)
}

func (c *change) setTop(attr string, v any) {
	c.top[attr] = v
	c.changed = append(c.changed, attr)
}

func (c *change) empty() bool { return len(c.changed) == 0 }

// encode is the write item: {"_basetype":kind, kind:{...fields}, ...top}.
func (c *change) encode(kind Kind) json.RawMessage {
	item := map[string]any{"_basetype": string(kind), string(kind): c.fields}
	for k, v := range c.top {
		item[k] = v
	}
	b, err := json.Marshal(item)
	if err != nil {
		panic(err) // only strings, maps and raw JSON objects that were validated
	}
	return b
}

func sameStr(a, b *string) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}

// sameJSON compares two JSON values by meaning; absent and null are equal.
func sameJSON(a, b json.RawMessage) bool {
	if isNull(a) || isNull(b) {
		return isNull(a) && isNull(b)
	}
	if bytes.Equal(a, b) {
		return true
	}
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

// emptyObject reports whether raw is absent, null or {}.
func emptyObject(raw json.RawMessage) bool {
	if isNull(raw) {
		return true
	}
	var m map[string]any
	return json.Unmarshal(raw, &m) == nil && len(m) == 0
}

// groupChange is what must be sent to make cur (nil: a new group) what s
// says; empty when nothing differs.
func groupChange(s *GroupSpec, cur *client.Group) *change {
	c := newChange()
	var b client.GroupBody
	if cur != nil {
		b = cur.Group
	}
	if s.Type != "" && (cur == nil || s.Type != b.Type) {
		c.set("type", s.Type)
	}
	for _, f := range []struct {
		attr string
		want Str
		have *string
	}{{"name", s.Name, b.Name}, {"reference", s.Reference, b.Reference}, {"comment", s.Comment, b.Comment},
		{"authorization_info", s.Authorization, b.AuthorizationInfo}} {
		if !f.want.Set || sameStr(f.want.Val, f.have) {
			continue
		}
		if cur == nil && f.want.Val == nil {
			continue // null is what a new group has anyway
		}
		c.set(f.attr, f.want.Val)
	}
	if s.DisplaynameSet {
		want := map[string]string{}
		if !s.DisplaynameAll {
			for k, v := range b.Displayname {
				want[k] = v
			}
		}
		for k, v := range s.Displayname {
			if v == nil {
				delete(want, k)
			} else {
				want[k] = *v
			}
		}
		if !reflect.DeepEqual(want, nonNilMap(b.Displayname)) {
			c.set("displayname", want)
		}
	}
	if s.FrontendPrefs != nil && !sameJSON(s.FrontendPrefs, b.FrontendPrefs) && !(cur == nil && isNull(s.FrontendPrefs)) {
		c.set("frontend_prefs", s.FrontendPrefs)
	}
	if s.SystemRights != nil {
		// A new group gets no _system_rights unless there are some: sending
		// {} would ask for create_system_rights for nothing.
		if cur == nil && !emptyObject(s.SystemRights) ||
			cur != nil && !sameJSON(s.SystemRights, cur.SystemRights) && !(emptyObject(s.SystemRights) && emptyObject(cur.SystemRights)) {
			c.setTop("_system_rights", s.SystemRights)
		}
	}
	if cur != nil && !c.empty() {
		c.fields["_id"] = cur.Group.ID
		c.fields["_version"] = cur.Group.Version + 1
	}
	return c
}

func nonNilMap(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// userChange is what must be sent to make cur (nil: a new user) what s says,
// with groups the ids of its desired static groups (nil: leave them).
func userChange(s *UserSpec, cur *client.User, groups []int64) *change {
	c := newChange()
	var b client.UserBody
	if cur != nil {
		b = cur.User
	}
	if s != nil {
		if s.Type != "" && (cur == nil || s.Type != b.Type) {
			c.set("type", s.Type)
		}
		for _, a := range client.UserTextAttributes {
			want, ok := s.Text[a]
			if !ok || !want.Set || sameStr(want.Val, b.Text(a)) || (cur == nil && want.Val == nil) {
				continue
			}
			c.set(a, want.Val)
		}
		if s.LoginDisabled != nil && (cur == nil && *s.LoginDisabled || cur != nil && *s.LoginDisabled != b.LoginDisabled) {
			c.set("login_disabled", *s.LoginDisabled)
		}
		if s.FrontendPrefs != nil && !sameJSON(s.FrontendPrefs, b.FrontendPrefs) && !(cur == nil && isNull(s.FrontendPrefs)) {
			c.set("frontend_prefs", s.FrontendPrefs)
		}
		if s.SystemRights != nil {
			if cur == nil && !emptyObject(s.SystemRights) ||
				cur != nil && !sameJSON(s.SystemRights, cur.SystemRights) && !(emptyObject(s.SystemRights) && emptyObject(cur.SystemRights)) {
				c.setTop("_system_rights", s.SystemRights)
			}
		}
		if s.EmailsSet {
			var have []client.Email
			if cur != nil {
				have = cur.Emails
			}
			if !sameEmails(s.Emails, have) && !(cur == nil && len(s.Emails) == 0) {
				emails := s.Emails
				if emails == nil {
					emails = []client.Email{}
				}
				c.setTop("_emails", emails)
			}
		}
		if cur == nil && s.Password != nil {
			c.top["_password"] = *s.Password // not a visible change: never compared
		}
	}
	if groups != nil {
		var have []int64
		if cur != nil {
			have = cur.GroupIDs()
		}
		if !sameIDs(groups, have) && !(cur == nil && len(groups) == 0) {
			refs := make([]map[string]any, len(groups))
			for i, id := range groups {
				refs[i] = map[string]any{"_basetype": "group", "group": map[string]int64{"_id": id}}
			}
			c.setTop("_groups", refs)
		}
	}
	if cur != nil && !c.empty() {
		c.fields["_id"] = cur.User.ID
		c.fields["_version"] = cur.User.Version + 1
	}
	return c
}

func sameEmails(a, b []client.Email) bool {
	if len(a) != len(b) {
		return false
	}
	key := func(e client.Email) string {
		return strings.ToLower(e.Email) + "\x00" + boolStr(e.UseForLogin) + boolStr(e.UseForEmail) + boolStr(e.NeedsConfirmation)
	}
	x := make([]string, len(a))
	y := make([]string, len(b))
	for i := range a {
		x[i], y[i] = key(a[i]), key(b[i])
	}
	sort.Strings(x)
	sort.Strings(y)
	return reflect.DeepEqual(x, y)
}

func boolStr(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

func sameIDs(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	x := append([]int64{}, a...)
	y := append([]int64{}, b...)
	sort.Slice(x, func(i, j int) bool { return x[i] < x[j] })
	sort.Slice(y, func(i, j int) bool { return y[i] < y[j] })
	return reflect.DeepEqual(x, y)
}
