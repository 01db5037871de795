package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/groupd/groupd/client"
)

// resolveUser finds a user by id (digits), else by login (any case), else by
// reference. The user API has no login filter, so a login is looked up in
// the pages of the user list.
func (a *app) resolveUser(c *client.Client, key string) (*client.User, error) {
	if id, err := strconv.ParseInt(key, 10, 64); err == nil && id > 0 {
		u, err := c.GetUser(a.ctx, id)
		if err != nil {
			return nil, err
		}
		if u != nil {
			return u, nil
		}
	}
	users, err := a.resolveUsers(c, []string{key})
	if err != nil {
		return nil, err
	}
	return users[0], nil
}

// resolveUsers finds several users by id, login or reference with as few
// pages of the user list as it takes; one that is not found fails.
func (a *app) resolveUsers(c *client.Client, keys []string) ([]*client.User, error) {
	out, err := a.findUsers(c, keys)
	if err != nil {
		return nil, err
	}
	for i, u := range out {
		if u == nil {
			return nil, userNotFound(keys[i])
		}
	}
	return out, nil
}

func userNotFound(key string) *client.Error {
	return &client.Error{Realm: "user", Code: "error.user.user_not_found", Parameters: map[string]string{"user": key},
		Description: "no readable user with this id, login or reference"}
}

// findUsers is resolveUsers with nil for each key that names no user.
func (a *app) findUsers(c *client.Client, keys []string) ([]*client.User, error) {
	out := make([]*client.User, len(keys))
	missing := 0
	for i, k := range keys {
		if id, err := strconv.ParseInt(k, 10, 64); err == nil && id > 0 {
			out[i] = &client.User{User: client.UserBody{ID: id}}
			continue
		}
		missing++
	}
	for offset := 0; missing > 0; offset += client.MaxPage {
		page, _, err := c.ListUsers(a.ctx, client.UserFilter{Limit: client.MaxPage, Offset: offset})
		if err != nil {
			return nil, err
		}
		for p := range page {
			u := &page[p]
			for i, k := range keys {
				if out[i] != nil {
					continue
				}
				if u.User.Login != nil && strings.EqualFold(*u.User.Login, k) ||
					u.User.Reference != nil && *u.User.Reference == k {
					out[i] = u
					missing--
				}
			}
		}
		if len(page) < client.MaxPage {
			break
		}
	}
	return out, nil
}

func (a *app) userList(args []string) error {
	fs := a.flags("user list", "[flags]")
	limit := fs.Int("limit", 100, "users per page (at most 1000)")
	offset := fs.Int("offset", 0, "skip this many users")
	all := fs.Bool("all", false, "list every matching user (all pages)")
	typ := fs.String("type", "", "comma list of user types")
	group := fs.String("group", "", "only members of this group (id, reference or name)")
	a.outputFlags(fs)
	if _, err := a.parse(fs, args, 0, 0); err != nil {
		return err
	}
	c, err := a.client()
	if err != nil {
		return err
	}
	f := client.UserFilter{Limit: *limit, Offset: *offset}
	if *typ != "" {
		f.Types = strings.Split(*typ, ",")
	}
	if *group != "" {
		g, resolveGroupErr := a.resolveGroup(c, *group)
		if resolveGroupErr != nil {
			return resolveGroupErr
		}
		f.GroupIDs = []int64{g.Group.ID}
	}
	var users []client.User
	total := 0
	if *all {
		users, err = c.AllUsers(a.ctx, f, nil)
		total = len(users)
	} else {
		users, total, err = c.ListUsers(a.ctx, f)
	}
	if err != nil {
		return err
	}
	if a.structured() {
		if users == nil {
			users = []client.User{}
		}
		return a.printData(users)
	}
	header := []string{"ID", "LOGIN", "NAME", "EMAIL", "REFERENCE", "GROUPS"}
	if a.wide() {
		header = append(header, "TYPE", "DISABLED", "VERSION", "COMPANY", "DEPARTMENT")
	}
	t := a.newTable(header...)
	for _, u := range users {
		email := ""
		if len(u.Emails) > 0 {
			email = u.Emails[0].Email
		}
		row := []string{fmt.Sprint(u.User.ID), deref(u.User.Login), u.User.GeneratedDisplayname, email,
			deref(u.User.Reference), fmt.Sprint(len(u.Groups))}
		if a.wide() {
			row = append(row, u.User.Type, fmt.Sprint(u.User.LoginDisabled), fmt.Sprint(u.User.Version),
				deref(u.User.Company), deref(u.User.Department))
		}
		t.row(row...)
	}
	if err := t.flush(); err != nil {
		return err
	}
	if !*all && total > len(users) {
		fmt.Fprintf(a.stderr, "%d-%d of %d users (--offset, --limit, --all)\n", f.Offset+1, f.Offset+len(users), total)
	}
	return nil
}

// parseUserCommand parses a command whose one argument is a USER and finds
// that user.
func (a *app) parseUserCommand(fs *flag.FlagSet, args []string) (*client.Client, *client.User, error) {
	pos, err := a.parse(fs, args, 1, 1)
	if err != nil {
		return nil, nil, err
	}
	c, err := a.client()
	if err != nil {
		return nil, nil, err
	}
	u, err := a.resolveUser(c, pos[0])
	if err != nil {
		return nil, nil, err
	}
	return c, u, nil
}

func (a *app) userGet(args []string) error {
	fs := a.flags("user get", "USER")
	a.outputFlags(fs)
	c, u, err := a.parseUserCommand(fs, args)
	if err != nil {
		return err
	}
	if u.Basetype == "" { // found by id only as a stub
		if u, err = c.GetUser(a.ctx, u.User.ID); err != nil {
			return err
		}
	}
	return a.showUser(u)
}

func (a *app) showUser(u *client.User) error {
	if a.structured() {
		return a.printData(u)
	}
	t := newKV(a.stdout)
	t.row("id", fmt.Sprint(u.User.ID))
	t.row("version", fmt.Sprint(u.User.Version))
	t.row("type", u.User.Type)
	for _, attr := range client.UserTextAttributes {
		if v := u.User.Text(attr); v != nil {
			t.row(attr, *v)
		}
	}
	t.row("login_disabled", fmt.Sprint(u.User.LoginDisabled))
	emails := make([]string, len(u.Emails))
	for i, e := range u.Emails {
		emails[i] = e.Email
	}
	t.row("emails", strings.Join(emails, ", "))
	groups := make([]string, len(u.Groups))
	for i, g := range u.Groups {
		groups[i] = g.Label()
	}
	sort.Strings(groups)
	t.row("groups", strings.Join(groups, ", "))
	t.row("system rights", compactJSON(string(u.SystemRights)))
	t.row("created", u.User.Created)
	t.row("updated", u.User.Updated)
	return t.flush()
}

// userFields are the flags of user create and update.
type userFields struct {
	fs            *flag.FlagSet
	text          map[string]*string
	email, groups multiFlag
	disabled      *bool
	passwordStdin *bool
}

func userFieldFlags(fs *flag.FlagSet) *userFields {
	f := &userFields{fs: fs, text: map[string]*string{}}
	for _, attr := range client.UserTextAttributes {
		f.text[attr] = fs.String(strings.ReplaceAll(attr, "_", "-"), "", attr+" (empty clears it)")
	}
	fs.Var(&f.email, "email", "e-mail address, repeatable (replaces the user's addresses)")
	fs.Var(&f.groups, "group", "group (id, reference or name), repeatable (replaces the user's static groups)")
	f.disabled = fs.Bool("login-disabled", false, "disable the login")
	f.passwordStdin = fs.Bool("password-stdin", false, "read a new password from the first line of standard input")
	return f
}

func (a *app) userItem(c *client.Client, f *userFields) (map[string]any, error) {
	fields := map[string]any{}
	for attr, v := range f.text {
		if isSet(f.fs, strings.ReplaceAll(attr, "_", "-")) {
			if *v == "" {
				fields[attr] = nil
			} else {
				fields[attr] = *v
			}
		}
	}
	if isSet(f.fs, "login-disabled") {
		fields["login_disabled"] = *f.disabled
	}
	item := map[string]any{"_basetype": "user", "user": fields}
	if len(f.email) > 0 {
		emails := make([]client.Email, len(f.email))
		for i, e := range f.email {
			emails[i] = client.Email{Email: e, UseForEmail: true}
		}
		item["_emails"] = emails
	}
	if len(f.groups) > 0 {
		refs := make([]any, 0, len(f.groups))
		for _, key := range f.groups {
			g, err := a.resolveGroup(c, key)
			if err != nil {
				return nil, err
			}
			refs = append(refs, map[string]any{"_basetype": "group", "group": map[string]int64{"_id": g.Group.ID}})
		}
		item["_groups"] = refs
	}
	if *f.passwordStdin {
		line, err := bufio.NewReader(a.stdin).ReadString('\n')
		if err != nil && err != io.EOF {
			return nil, err
		}
		if line = strings.TrimRight(line, "\r\n"); line == "" {
			return nil, usagef("--password-stdin: no password on standard input")
		}
		item["_password"] = line
	}
	return item, nil
}

func (a *app) userCreate(args []string) error {
	fs := a.flags("user create", "--login LOGIN [flags]")
	uf := userFieldFlags(fs)
	if _, err := a.parse(fs, args, 0, 0); err != nil {
		return err
	}
	c, err := a.client()
	if err != nil {
		return err
	}
	item, err := a.userItem(c, uf)
	if err != nil {
		return err
	}
	out, err := c.CreateUsers(a.ctx, []any{item})
	if err != nil {
		return err
	}
	return a.showUser(&out[0])
}

func (a *app) userUpdate(args []string) error {
	fs := a.flags("user update", "USER [flags]")
	uf := userFieldFlags(fs)
	c, u, err := a.parseUserCommand(fs, args)
	if err != nil {
		return err
	}
	if u.Basetype == "" {
		if u, err = c.GetUser(a.ctx, u.User.ID); err != nil {
			return err
		}
	}
	item, err := a.userItem(c, uf)
	if err != nil {
		return err
	}
	fields := item["user"].(map[string]any)
	if len(item) == 2 && len(fields) == 0 {
		return usagef("user update: nothing to change (see groupctl user update -h)")
	}
	fields["_id"], fields["_version"] = u.User.ID, u.User.Version+1
	out, err := c.WriteUsers(a.ctx, []any{item})
	if err != nil {
		return err
	}
	return a.showUser(&out[0])
}

func (a *app) userDelete(args []string) error {
	fs := a.flags("user delete", "USER...")
	pos, err := a.parse(fs, args, 1, -1)
	if err != nil {
		return err
	}
	c, err := a.client()
	if err != nil {
		return err
	}
	users, err := a.resolveUsers(c, pos)
	if err != nil {
		return err
	}
	var deleted []int64
	for _, u := range users {
		if err := c.DeleteUser(a.ctx, u.User.ID); err != nil {
			return err
		}
		deleted = append(deleted, u.User.ID)
		if !a.json {
			fmt.Fprintf(a.stdout, "deleted user %d %s\n", u.User.ID, deref(u.User.Login))
		}
	}
	if a.json {
		return a.printJSON(map[string]any{"deleted": deleted})
	}
	return nil
}

// --- members --------------------------------------------------------------------

func (a *app) membersList(args []string) error {
	fs := a.flags("members list", "GROUP")
	limit := fs.Int("limit", 100, "members per page (at most 1000)")
	offset := fs.Int("offset", 0, "skip this many members")
	all := fs.Bool("all", false, "list every member (all pages)")
	a.outputFlags(fs)
	c, g, _, err := a.parseGroupCommand(fs, args, 1, 1)
	if err != nil {
		return err
	}
	var members []client.ShortRef
	total := 0
	if *all {
		for off := 0; ; off += client.MaxPage {
			page, _, membersErr := c.Members(a.ctx, g.Group.ID, client.MaxPage, off)
			if membersErr != nil {
				return membersErr
			}
			members = append(members, page...)
			if len(page) < client.MaxPage {
				break
			}
		}
		total = len(members)
	} else if members, total, err = c.Members(a.ctx, g.Group.ID, *limit, *offset); err != nil {
		return err
	}
	if a.structured() {
		if members == nil {
			members = []client.ShortRef{}
		}
		return a.printData(members)
	}
	t := a.newTable("ID", "LOGIN", "NAME", "TYPE")
	for _, m := range members {
		if m.User == nil {
			continue
		}
		t.row(fmt.Sprint(m.User.ID), deref(m.User.Login), m.User.GeneratedDisplayname, m.User.Type)
	}
	if err := t.flush(); err != nil {
		return err
	}
	if !*all && total > len(members) {
		fmt.Fprintf(a.stderr, "%d-%d of %d members (--offset, --limit, --all)\n", *offset+1, *offset+len(members), total)
	}
	return nil
}

func (a *app) membersAdd(args []string) error    { return a.membersChange("add", args) }
func (a *app) membersRemove(args []string) error { return a.membersChange("remove", args) }

// membersChange adds or removes users. A user that is not found does not
// stop the others: each is reported (added, already_member, removed,
// not_member, not_found), and the exit code is 1 when any was not found.
func (a *app) membersChange(op string, args []string) error {
	fs := a.flags("members "+op, "GROUP USER...")
	c, g, pos, err := a.parseGroupCommand(fs, args, 2, -1)
	if err != nil {
		return err
	}
	keys := pos[1:]
	users, err := a.findUsers(c, keys)
	if err != nil {
		return err
	}
	var ids []int64
	for _, u := range users {
		if u != nil {
			ids = append(ids, u.User.ID)
		}
	}
	byID := map[int64]string{}
	if len(ids) > 0 {
		var res []client.MemberResult
		if op == "add" {
			res, err = c.ChangeMembers(a.ctx, g.Group.ID, ids, nil)
		} else {
			res, err = c.ChangeMembers(a.ctx, g.Group.ID, nil, ids)
		}
		if err != nil {
			return err
		}
		for _, r := range res {
			byID[r.ID] = r.Result
		}
	}
	type result struct {
		User   string `json:"user"`
		ID     int64  `json:"_id,omitempty"`
		Result string `json:"result"`
	}
	out := make([]result, len(keys))
	notFound := 0
	for i, k := range keys {
		out[i] = result{User: k, Result: "not_found"}
		if u := users[i]; u != nil {
			out[i].ID = u.User.ID
			if r := byID[u.User.ID]; r != "" {
				out[i].Result = r
			}
		}
		if out[i].Result == "not_found" {
			notFound++
		}
	}
	if a.json {
		if err := a.printJSON(out); err != nil {
			return err
		}
	} else {
		for _, r := range out {
			fmt.Fprintf(a.stdout, "%s: %s\n", r.User, r.Result)
		}
	}
	if notFound > 0 {
		e := userNotFound(keys[0])
		e.Description = fmt.Sprintf("%d of %d users not found; the others were %s", notFound, len(keys),
			map[string]string{"add": "added", "remove": "removed"}[op])
		e.Parameters = nil
		return e
	}
	return nil
}

// userGroups lists the groups a user is a static member of, as group list
// prints groups.
func (a *app) userGroups(args []string) error {
	fs := a.flags("user groups", "USER")
	a.outputFlags(fs)
	c, u, err := a.parseUserCommand(fs, args)
	if err != nil {
		return err
	}
	groups, err := c.AllGroups(a.ctx, client.GroupFilter{Member: u.User.ID}, nil)
	if err != nil {
		return err
	}
	return a.printGroups(groups)
}
