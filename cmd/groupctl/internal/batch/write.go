package batch

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"io"
	"sort"
	"strings"

	"github.com/groupd/groupd/client"
)

// Export is what an export writes: groups (system groups left out: every
// server has its own) and users (system users left out), with each user's
// groups carrying the group's reference so that another server can match
// them.
type Export struct {
	Groups []client.Group
	Users  []client.User
	// MembersColumn: the groups CSV gets a members column (logins, from the
	// users' groups). Off by default: importing such a file into an empty
	// server fails those groups until their members exist, while the users
	// file's groups column carries the same memberships in the right order.
	MembersColumn bool
}

// NewExport keeps what an export writes from what the server listed.
func NewExport(groups []client.Group, users []client.User) *Export {
	ex := &Export{}
	byID := map[int64]*client.Group{}
	for i := range groups {
		g := groups[i]
		byID[g.Group.ID] = &groups[i]
		if g.Group.Type != "system" {
			ex.Groups = append(ex.Groups, g)
		}
	}
	for _, u := range users {
		if u.User.Type == "system" {
			continue
		}
		gs := make([]client.ShortRef, 0, len(u.Groups))
		for _, sr := range u.Groups {
			if sr.Group != nil {
				ref := *sr.Group
				if g := byID[ref.ID]; g != nil {
					ref.Reference = g.Group.Reference
				}
				sr.Group = &ref
			}
			gs = append(gs, sr)
		}
		u.Groups = gs
		ex.Users = append(ex.Users, u)
	}
	return ex
}

// WriteJSON writes the groups, then the users, as one JSON array with one
// item per line (ndjson false) or as NDJSON.
func (ex *Export) WriteJSON(w io.Writer, ndjson bool) error {
	bw := bufio.NewWriter(w)
	n := 0
	item := func(v any) error {
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		switch {
		case ndjson:
		case n == 0:
			bw.WriteString("[\n")
		default:
			bw.WriteString(",\n")
		}
		n++
		bw.Write(b)
		if ndjson {
			bw.WriteByte('\n')
		}
		return nil
	}
	for i := range ex.Groups {
		g := ex.Groups[i]
		g.GeneratedRights = nil
		if err := item(&g); err != nil {
			return err
		}
	}
	for i := range ex.Users {
		u := ex.Users[i]
		u.GeneratedRights = nil
		if err := item(&u); err != nil {
			return err
		}
	}
	if !ndjson {
		if n == 0 {
			bw.WriteString("[")
		}
		bw.WriteString("\n]\n")
	}
	return bw.Flush()
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// groupToken is how a CSV list names a group: its reference, else its name.
func groupToken(g client.GroupRef) string {
	if g.Reference != nil && *g.Reference != "" {
		return *g.Reference
	}
	if g.Name != nil {
		return *g.Name
	}
	return client.FirstDisplayname(g.Displayname)
}

// WriteGroupsCSV writes the groups as CSV: reference, name, type, comment,
// authorization_info (when any group has one), a displayname:<culture>
// column per culture, and members (logins) with MembersColumn.
func (ex *Export) WriteGroupsCSV(w io.Writer) error {
	cultures := map[string]bool{}
	withAuth := false
	for _, g := range ex.Groups {
		for c := range g.Group.Displayname {
			cultures[c] = true
		}
		withAuth = withAuth || g.Group.AuthorizationInfo != nil
	}
	header := []string{"reference", "name", "type", "comment"}
	if withAuth {
		header = append(header, "authorization_info")
	}
	cs := sortedKeys(cultures)
	for _, c := range cs {
		header = append(header, "displayname:"+c)
	}
	var members map[int64][]string
	if ex.MembersColumn {
		header = append(header, "members")
		members = map[int64][]string{}
		for _, u := range ex.Users {
			if u.User.Login == nil {
				continue
			}
			for _, id := range u.GroupIDs() {
				members[id] = append(members[id], *u.User.Login)
			}
		}
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(header); err != nil {
		return err
	}
	for _, g := range ex.Groups {
		row := []string{str(g.Group.Reference), str(g.Group.Name), g.Group.Type, str(g.Group.Comment)}
		if withAuth {
			row = append(row, str(g.Group.AuthorizationInfo))
		}
		for _, c := range cs {
			row = append(row, g.Group.Displayname[c])
		}
		if members != nil {
			m := members[g.Group.ID]
			sort.Strings(m)
			row = append(row, strings.Join(m, ListSep))
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteUsersCSV writes the users as CSV: login, first_name, last_name,
// displayname, email, reference, groups, and every other text attribute,
// type and login_disabled that any user has.
func (ex *Export) WriteUsersCSV(w io.Writer) error {
	header := []string{"login", "first_name", "last_name", "displayname", "email", "reference", "groups"}
	fixed := map[string]bool{}
	for _, h := range header {
		fixed[h] = true
	}
	var extra []string
	for _, a := range client.UserTextAttributes {
		if fixed[a] {
			continue
		}
		for _, u := range ex.Users {
			if u.User.Text(a) != nil {
				extra = append(extra, a)
				break
			}
		}
	}
	withType, withDisabled := false, false
	for _, u := range ex.Users {
		withType = withType || u.User.Type != "easydb"
		withDisabled = withDisabled || u.User.LoginDisabled
	}
	header = append(header, extra...)
	if withType {
		header = append(header, "type")
	}
	if withDisabled {
		header = append(header, "login_disabled")
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(header); err != nil {
		return err
	}
	for _, u := range ex.Users {
		emails := make([]string, len(u.Emails))
		for i, e := range u.Emails {
			emails[i] = e.Email
		}
		groups := make([]string, 0, len(u.Groups))
		for _, g := range u.Groups {
			if g.Group != nil {
				groups = append(groups, groupToken(*g.Group))
			}
		}
		sort.Strings(groups)
		row := []string{str(u.User.Login), str(u.User.FirstName), str(u.User.LastName), str(u.User.Displayname),
			strings.Join(emails, ListSep), str(u.User.Reference), strings.Join(groups, ListSep)}
		for _, a := range extra {
			row = append(row, str(u.User.Text(a)))
		}
		if withType {
			row = append(row, u.User.Type)
		}
		if withDisabled {
			if u.User.LoginDisabled {
				row = append(row, "true")
			} else {
				row = append(row, "false")
			}
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
