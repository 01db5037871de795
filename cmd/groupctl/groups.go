package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/groupd/groupd/client"
)

// resolveGroup finds a group by id (digits), else by reference, else by
// exact name or displayname.
func (a *app) resolveGroup(c *client.Client, key string) (*client.Group, error) {
	if id, err := strconv.ParseInt(key, 10, 64); err == nil && id > 0 {
		g, err := c.GetGroup(a.ctx, id)
		if err != nil {
			return nil, err
		}
		if g != nil {
			return g, nil
		}
	} else {
		k := key
		gs, _, err := c.ListGroups(a.ctx, client.GroupFilter{Reference: &k, Limit: 2})
		if err != nil {
			return nil, err
		}
		if len(gs) == 1 {
			return &gs[0], nil
		}
		all, err := c.AllGroups(a.ctx, client.GroupFilter{Name: key}, nil)
		if err != nil {
			return nil, err
		}
		var byName, byDN []*client.Group
		for i := range all {
			g := &all[i]
			if g.Group.Name != nil && *g.Group.Name == key {
				byName = append(byName, g)
			}
			for _, v := range g.Group.Displayname {
				if v == key {
					byDN = append(byDN, g)
					break
				}
			}
		}
		if len(byName) == 1 {
			return byName[0], nil
		}
		if len(byDN) == 1 {
			return byDN[0], nil
		}
		if len(byDN) > 1 {
			return nil, &client.Error{Realm: "api", Code: "error.api.invalid_value",
				Parameters:  map[string]string{"group": key},
				Description: fmt.Sprintf("%d groups have this displayname: name the group by id", len(byDN))}
		}
	}
	return nil, &client.Error{Realm: "user", Code: "error.user.group_not_found",
		Parameters: map[string]string{"group": key}, Description: "no visible group with this id, reference or name"}
}

func (a *app) groupList(args []string) error {
	fs := a.flags("group list", "[flags]")
	limit := fs.Int("limit", 100, "groups per page (at most 1000)")
	offset := fs.Int("offset", 0, "skip this many groups")
	all := fs.Bool("all", false, "list every matching group (all pages)")
	typ := fs.String("type", "", "comma list of types: easydb, system, custom-<name>")
	name := fs.String("name", "", "substring of the name or a displayname (case-insensitive)")
	ref := fs.String("reference", "", "exact reference")
	member := fs.String("member", "", "only groups of this user (id or login)")
	a.outputFlags(fs)
	if _, err := a.parse(fs, args, 0, 0); err != nil {
		return err
	}
	c, err := a.client()
	if err != nil {
		return err
	}
	f := client.GroupFilter{Limit: *limit, Offset: *offset, Name: *name}
	if *typ != "" {
		f.Types = strings.Split(*typ, ",")
	}
	if isSet(fs, "reference") {
		f.Reference = ref
	}
	if *member != "" {
		u, resolveUserErr := a.resolveUser(c, *member)
		if resolveUserErr != nil {
			return resolveUserErr
		}
		f.Member = u.User.ID
	}
	var groups []client.Group
	total := 0
	if *all {
		groups, err = c.AllGroups(a.ctx, f, nil)
		total = len(groups)
	} else {
		groups, total, err = c.ListGroups(a.ctx, f)
	}
	if err != nil {
		return err
	}
	if err := a.printGroups(groups); err != nil {
		return err
	}
	if !*all && total > len(groups) {
		fmt.Fprintf(a.stderr, "%d-%d of %d groups (--offset, --limit, --all)\n", f.Offset+1, f.Offset+len(groups), total)
	}
	return nil
}

// printGroups prints groups as data or as a table (-o wide: with the
// owner, the number of ACL entries, the version and the comment).
func (a *app) printGroups(groups []client.Group) error {
	if a.structured() {
		if groups == nil {
			groups = []client.Group{}
		}
		return a.printData(groups)
	}
	header := []string{"ID", "TYPE", "NAME", "DISPLAYNAME", "REFERENCE"}
	if a.wide() {
		header = append(header, "OWNER", "ACL", "VERSION", "COMMENT")
	}
	t := a.newTable(header...)
	for _, g := range groups {
		row := []string{fmt.Sprint(g.Group.ID), g.Group.Type, deref(g.Group.Name),
			client.FirstDisplayname(g.Group.Displayname), deref(g.Group.Reference)}
		if a.wide() {
			owner := ""
			if g.Owner != nil {
				owner = g.Owner.Label()
			}
			row = append(row, owner, aclCount(&g), fmt.Sprint(g.Group.Version), deref(g.Group.Comment))
		}
		t.row(row...)
	}
	return t.flush()
}

// parseGroupCommand parses a command whose first argument is a GROUP and
// finds that group: the client, the group and all positional arguments.
func (a *app) parseGroupCommand(fs *flag.FlagSet, args []string, min, max int) (*client.Client, *client.Group, []string, error) {
	pos, err := a.parse(fs, args, min, max)
	if err != nil {
		return nil, nil, nil, err
	}
	c, err := a.client()
	if err != nil {
		return nil, nil, nil, err
	}
	g, err := a.resolveGroup(c, pos[0])
	if err != nil {
		return nil, nil, nil, err
	}
	return c, g, pos, nil
}

func isSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) {
		if f.Name == name {
			set = true
		}
	})
	return set
}

func (a *app) groupGet(args []string) error {
	fs := a.flags("group get", "GROUP")
	a.outputFlags(fs)
	_, g, _, err := a.parseGroupCommand(fs, args, 1, 1)
	if err != nil {
		return err
	}
	return a.showGroup(g)
}

func (a *app) showGroup(g *client.Group) error {
	if a.structured() {
		return a.printData(g)
	}
	t := newKV(a.stdout)
	t.row("id", fmt.Sprint(g.Group.ID))
	t.row("version", fmt.Sprint(g.Group.Version))
	t.row("type", g.Group.Type)
	t.row("name", deref(g.Group.Name))
	cultures := make([]string, 0, len(g.Group.Displayname))
	for c := range g.Group.Displayname {
		cultures = append(cultures, c)
	}
	sort.Strings(cultures)
	for _, c := range cultures {
		t.row("displayname:"+c, g.Group.Displayname[c])
	}
	t.row("reference", deref(g.Group.Reference))
	t.row("comment", deref(g.Group.Comment))
	if g.Owner != nil {
		t.row("owner", g.Owner.Label())
	}
	t.row("acl entries", aclCount(g))
	t.row("system rights", compactJSON(string(g.SystemRights)))
	rights := make([]string, 0, len(g.GeneratedRights))
	for r := range g.GeneratedRights {
		rights = append(rights, r)
	}
	sort.Strings(rights)
	t.row("your rights", strings.Join(rights, ", "))
	t.row("created", g.Group.Created)
	t.row("updated", g.Group.Updated)
	return t.flush()
}

// groupFields are the flags of group create and update.
type groupFields struct {
	fs                                      *flag.FlagSet
	name, reference, comment, typ, authInfo *string
	displayname                             multiFlag
	systemRights                            *string
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(s string) error { *m = append(*m, s); return nil }

func groupFieldFlags(fs *flag.FlagSet) *groupFields {
	f := &groupFields{fs: fs}
	f.name = fs.String("name", "", "name")
	f.reference = fs.String("reference", "", "reference (an id in another system); empty clears it")
	f.comment = fs.String("comment", "", "comment; empty clears it")
	f.typ = fs.String("type", "", "easydb or custom-<name>")
	f.authInfo = fs.String("authorization-info", "", "authorization_info; empty clears it")
	f.systemRights = fs.String("system-rights", "", `system rights as JSON, e.g. '{"system.group":{"create":true}}'`)
	fs.Var(&f.displayname, "displayname", "CULTURE=TEXT, repeatable (e.g. en-US=Editors); CULTURE= removes it")
	return f
}

// fields is the "group" object to send: only attributes given on the
// command line; empty texts are null.
func (f *groupFields) fields(cur *client.Group) (map[string]any, json.RawMessage, error) {
	out := map[string]any{}
	text := func(flagName, attr string, v *string) {
		if isSet(f.fs, flagName) {
			if *v == "" {
				out[attr] = nil
			} else {
				out[attr] = *v
			}
		}
	}
	text("name", "name", f.name)
	text("reference", "reference", f.reference)
	text("comment", "comment", f.comment)
	text("authorization-info", "authorization_info", f.authInfo)
	if *f.typ != "" {
		out["type"] = *f.typ
	}
	if len(f.displayname) > 0 {
		dn := map[string]string{}
		if cur != nil {
			for k, v := range cur.Group.Displayname {
				dn[k] = v
			}
		}
		for _, d := range f.displayname {
			culture, text, ok := strings.Cut(d, "=")
			if !ok || culture == "" {
				return nil, nil, usagef("--displayname %q: CULTURE=TEXT expected", d)
			}
			if text == "" {
				delete(dn, culture)
			} else {
				dn[culture] = text
			}
		}
		out["displayname"] = dn
	}
	var sr json.RawMessage
	if *f.systemRights != "" {
		if !json.Valid([]byte(*f.systemRights)) {
			return nil, nil, usagef("--system-rights: not JSON")
		}
		sr = json.RawMessage(*f.systemRights)
	}
	return out, sr, nil
}

func (a *app) groupCreate(args []string) error {
	fs := a.flags("group create", "--name NAME [--displayname CULTURE=TEXT]... [flags]")
	gf := groupFieldFlags(fs)
	if _, err := a.parse(fs, args, 0, 0); err != nil {
		return err
	}
	fields, sr, err := gf.fields(nil)
	if err != nil {
		return err
	}
	if fields["name"] == nil && fields["displayname"] == nil {
		return usagef("group create: --name or --displayname is required")
	}
	c, err := a.client()
	if err != nil {
		return err
	}
	item := map[string]any{"_basetype": "group", "group": fields}
	if sr != nil {
		item["_system_rights"] = sr
	}
	out, err := c.CreateGroups(a.ctx, []any{item})
	if err != nil {
		return err
	}
	return a.showGroup(&out[0])
}

func (a *app) groupUpdate(args []string) error {
	fs := a.flags("group update", "GROUP [--name NAME] [--displayname CULTURE=TEXT]... [flags]")
	gf := groupFieldFlags(fs)
	c, g, _, err := a.parseGroupCommand(fs, args, 1, 1)
	if err != nil {
		return err
	}
	fields, sr, err := gf.fields(g)
	if err != nil {
		return err
	}
	if len(fields) == 0 && sr == nil {
		return usagef("group update: nothing to change (see groupctl group update -h)")
	}
	fields["_id"], fields["_version"] = g.Group.ID, g.Group.Version+1
	item := map[string]any{"_basetype": "group", "group": fields}
	if sr != nil {
		item["_system_rights"] = sr
	}
	out, err := c.WriteGroups(a.ctx, []any{item})
	if err != nil {
		return err
	}
	return a.showGroup(&out[0])
}

func (a *app) groupDelete(args []string) error {
	fs := a.flags("group delete", "GROUP...")
	pos, err := a.parse(fs, args, 1, -1)
	if err != nil {
		return err
	}
	c, err := a.client()
	if err != nil {
		return err
	}
	var deleted []int64
	for _, key := range pos {
		g, err := a.resolveGroup(c, key)
		if err != nil {
			return err
		}
		if err := c.DeleteGroup(a.ctx, g.Group.ID); err != nil {
			return err
		}
		deleted = append(deleted, g.Group.ID)
		if !a.json {
			fmt.Fprintf(a.stdout, "deleted group %d %s\n", g.Group.ID, g.Label())
		}
	}
	if a.json {
		return a.printJSON(map[string]any{"deleted": deleted})
	}
	return nil
}

// aclCount is the number of g's ACL entries as a table cell, "?" when its
// _acl is not a list.
func aclCount(g *client.Group) string {
	var acl []json.RawMessage
	if unmarshalPresent(g.ACL, &acl) != nil {
		return "?"
	}
	return fmt.Sprint(len(acl))
}
