package main

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/groupd/groupd/client"
)

// aclEntry is one entry of a group's _acl as the server answers it. Raw
// keeps every attribute, so that entries groupctl does not change are sent
// back as they were read (the server then sees no change to them).
type aclEntry struct {
	Raw    map[string]json.RawMessage
	Who    *client.ShortRef
	Owner  bool // who: {"_owner": true}
	Rights map[string]json.RawMessage
	Active bool
	When   json.RawMessage
}

func readACL(g *client.Group) ([]*aclEntry, error) {
	var raws []map[string]json.RawMessage
	if len(g.ACL) > 0 && string(g.ACL) != "null" {
		if err := json.Unmarshal(g.ACL, &raws); err != nil {
			return nil, fmt.Errorf("the group's _acl: %w", err)
		}
	}
	out := make([]*aclEntry, len(raws))
	for i, raw := range raws {
		e := &aclEntry{Raw: raw, Active: true, When: raw["when"]}
		var who struct {
			Owner bool `json:"_owner"`
			client.ShortRef
		}
		// An entry that does not decode is an error, not an entry without
		// a subject or rights: acl grant and revoke write every entry
		// back, and would write such an entry's rights as null.
		if err := unmarshalPresent(raw["who"], &who); err != nil {
			return nil, fmt.Errorf("the group's _acl[%d].who: %w", i, err)
		}
		if who.Owner {
			e.Owner = true
		} else {
			ref := who.ShortRef
			e.Who = &ref
		}
		if err := unmarshalPresent(raw["rights"], &e.Rights); err != nil {
			return nil, fmt.Errorf("the group's _acl[%d].rights: %w", i, err)
		}
		if a, ok := raw["active"]; ok {
			if err := json.Unmarshal(a, &e.Active); err != nil {
				return nil, fmt.Errorf("the group's _acl[%d].active: %w", i, err)
			}
		}
		out[i] = e
	}
	return out, nil
}

// unmarshalPresent decodes raw into v unless raw is absent (v keeps its
// zero value).
func unmarshalPresent(raw json.RawMessage, v any) error {
	if len(raw) == 0 {
		return nil
	}
	return json.Unmarshal(raw, v)
}

func (e *aclEntry) label() string {
	switch {
	case e.Owner:
		return "owner"
	case e.Who != nil && e.Who.User != nil:
		return "user:" + e.Who.Label()
	case e.Who != nil && e.Who.Group != nil:
		return "group:" + e.Who.Label()
	}
	return "?"
}

func (e *aclEntry) is(kind string, id int64) bool {
	switch {
	case e.Who == nil:
		return false
	case kind == "user":
		return e.Who.User != nil && e.Who.User.ID == id
	default:
		return e.Who.Group != nil && e.Who.Group.ID == id
	}
}

func (e *aclEntry) rightNames() []string {
	names := make([]string, 0, len(e.Rights))
	for r := range e.Rights {
		names = append(names, r)
	}
	sort.Strings(names)
	return names
}

func (e *aclEntry) encode() map[string]json.RawMessage {
	out := map[string]json.RawMessage{}
	for k, v := range e.Raw {
		out[k] = v
	}
	b, _ := json.Marshal(e.Rights)
	out["rights"] = b
	return out
}

func (a *app) aclShow(args []string) error {
	fs := a.flags("acl show", "GROUP")
	a.outputFlags(fs)
	_, g, _, err := a.parseGroupCommand(fs, args, 1, 1)
	if err != nil {
		return err
	}
	if a.structured() {
		acl := g.ACL
		if len(acl) == 0 || string(acl) == "null" {
			acl = json.RawMessage("[]")
		}
		return a.printData(acl)
	}
	entries, err := readACL(g)
	if err != nil {
		return err
	}
	t := a.newTable("WHO", "RIGHTS", "ACTIVE", "WHEN")
	for _, e := range entries {
		when := ""
		if len(e.When) > 0 && string(e.When) != "null" {
			when = compactJSON(string(e.When))
		}
		t.row(e.label(), strings.Join(e.rightNames(), ","), fmt.Sprint(e.Active), when)
	}
	return t.flush()
}

func (a *app) aclGrant(args []string) error  { return a.aclChange("grant", args) }
func (a *app) aclRevoke(args []string) error { return a.aclChange("revoke", args) }

// groupRights are the rights an ACL entry on a group may grant (the server
// refuses others with error.user.right_not_found).
var groupRights = "bag_read, bag_write, bag_delete, link, unlink, read, write, delete"

// aclChange grants rights to a subject (added to its active, unlimited
// entry, else a new entry) or revokes them (from every entry of the
// subject; without rights: its entries go). The group is written with its
// whole _acl and _version = current + 1, so a concurrent change fails with
// error.user.version_mismatch rather than being lost.
func (a *app) aclChange(op string, args []string) error {
	usage := "GROUP user:USER|group:GROUP RIGHT...   (rights: " + groupRights + ")"
	min := 3
	if op == "revoke" {
		usage = "GROUP user:USER|group:GROUP [RIGHT...]   (no RIGHT: every right of that subject)"
		min = 2
	}
	fs := a.flags("acl "+op, usage)
	pos, err := a.parse(fs, args, min, -1)
	if err != nil {
		return err
	}
	kind, key, ok := strings.Cut(pos[1], ":")
	if !ok || (kind != "user" && kind != "group") || key == "" {
		return usagef("acl %s: %q: user:USER or group:GROUP expected", op, pos[1])
	}
	c, err := a.client()
	if err != nil {
		return err
	}
	g, err := a.resolveGroup(c, pos[0])
	if err != nil {
		return err
	}
	var whoID int64
	var who map[string]any
	if kind == "user" {
		u, resolveUserErr := a.resolveUser(c, key)
		if resolveUserErr != nil {
			return resolveUserErr
		}
		whoID = u.User.ID
		who = map[string]any{"_basetype": "user", "user": map[string]int64{"_id": whoID}}
	} else {
		wg, resolveGroupErr := a.resolveGroup(c, key)
		if resolveGroupErr != nil {
			return resolveGroupErr
		}
		whoID = wg.Group.ID
		who = map[string]any{"_basetype": "group", "group": map[string]int64{"_id": whoID}}
	}
	entries, err := readACL(g)
	if err != nil {
		return err
	}
	rights := pos[2:]
	changed := false
	if op == "grant" {
		var target *aclEntry
		for _, e := range entries {
			if e.is(kind, whoID) && e.Active && (len(e.When) == 0 || string(e.When) == "null") {
				target = e
				break
			}
		}
		if target == nil {
			w, _ := json.Marshal(who)
			target = &aclEntry{Raw: map[string]json.RawMessage{"who": w}, Rights: map[string]json.RawMessage{}, Active: true}
			entries = append(entries, target)
		}
		if target.Rights == nil {
			target.Rights = map[string]json.RawMessage{}
		}
		for _, r := range rights {
			if _, has := target.Rights[r]; !has {
				target.Rights[r] = json.RawMessage("{}")
				changed = true
			}
		}
	} else {
		kept := entries[:0]
		for _, e := range entries {
			if !e.is(kind, whoID) {
				kept = append(kept, e)
				continue
			}
			if len(rights) == 0 {
				changed = true
				continue
			}
			for _, r := range rights {
				if _, has := e.Rights[r]; has {
					delete(e.Rights, r)
					changed = true
				}
			}
			if len(e.Rights) > 0 {
				kept = append(kept, e)
			}
		}
		entries = kept
	}
	if changed {
		acl := make([]map[string]json.RawMessage, len(entries))
		for i, e := range entries {
			acl[i] = e.encode()
		}
		item := map[string]any{"_basetype": "group", "group": map[string]int64{"_id": g.Group.ID,
			"_version": g.Group.Version + 1}, "_acl": acl}
		out, err := c.WriteGroups(a.ctx, []any{item})
		if err != nil {
			return err
		}
		g = &out[0]
	}
	if a.json {
		return a.printJSON(g.ACL)
	}
	verb := map[string]string{"grant": "granted", "revoke": "revoked"}[op]
	if !changed {
		verb = "nothing to change: already " + verb
	}
	prep := map[string]string{"grant": "to", "revoke": "from"}[op]
	what := strings.Join(rights, ",")
	if what == "" {
		what = "every right"
	}
	fmt.Fprintf(a.stdout, "%s %s on group %s %s %s\n", verb, what, g.Label(), prep, pos[1])
	return nil
}
