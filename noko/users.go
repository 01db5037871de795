package noko

import (
	"net/http"
	"strings"

	"github.com/groupd/groupd/errors"

	"github.com/groupd/groupd/user"
)

// Users: groupd users as Noko's users (content/v2/users.md).

// User is Noko's user object.
type User struct {
	SimpleUser
	State     string       `json:"state"`
	Role      string       `json:"role"`
	Teams     []SimpleTeam `json:"teams"`
	CreatedAt string       `json:"created_at"`
	UpdatedAt string       `json:"updated_at"`
}

// Noko's roles. groupd's rights are not roles: every user is shown as a
// member but root, the supervisor; a role sent on create is checked and
// not kept (docs/noko.md).
var roles = map[string]bool{"supervisor": true, "leader": true, "coworker": true, "contractor": true,
	"member": true, "admin": true, "freelancer": true}

func nokoUser(r *http.Request, u *user.User) *User {
	out := &User{SimpleUser: SimpleUser{ID: u.ID, FirstName: u.FirstName, LastName: u.LastName,
		URL: apiURL(r, "/users/"+idText(u.ID))}, State: "active", Role: "member", Teams: []SimpleTeam{},
		CreatedAt: timestamp(u.CreatedAt), UpdatedAt: timestamp(u.UpdatedAt)}
	for _, e := range u.Emails {
		if e.UseForEmail || out.Email == nil {
			out.Email = &e.Email
		}
		if e.UseForEmail {
			break
		}
	}
	if u.LoginDisabled {
		out.State = "disabled"
	}
	if u.IsSystem() {
		out.Role = "supervisor"
	}
	for _, g := range u.Groups {
		if g.Type != TeamType {
			continue
		}
		t := SimpleTeam{ID: g.ID, URL: apiURL(r, "/teams/"+idText(g.ID))}
		if g.Name != nil {
			t.Name = *g.Name
		}
		out.Teams = append(out.Teams, t)
	}
	return out
}

// listUsers: GET /users, filtered by email or name, both a substring of
// the login (a user made here has its address as login).
func (h *Handler) listUsers(w http.ResponseWriter, r *http.Request, p *params) error {
	pr := principal(r)
	if err := h.users.RequireReader(pr); err != nil {
		return err
	}
	pg, err := p.page()
	if err != nil {
		return err
	}
	f := user.Filter{Limit: pg.PerPage, Offset: pg.Offset()}
	for _, name := range []string{"email", "name"} {
		s, filterErr := p.filter(name)
		if filterErr != nil {
			return filterErr
		}
		if f.Login == "" {
			f.Login = s
		}
	}
	us, total, err := h.users.List(r.Context(), pr, f)
	if err != nil {
		return err
	}
	out := make([]*User, len(us))
	for i, u := range us {
		out[i] = nokoUser(r, u)
	}
	setLink(w, r, pg, total)
	return writeJSON(w, http.StatusOK, out)
}

func (h *Handler) getUser(w http.ResponseWriter, r *http.Request, p *params) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	u, err := h.users.Readable(r.Context(), principal(r), id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, nokoUser(r, u))
}

// createUser: POST /users with email (required; also the login),
// first_name, last_name and role.
func (h *Handler) createUser(w http.ResponseWriter, r *http.Request, p *params) error {
	email, has, err := p.text("email")
	if err != nil {
		return err
	}
	if !has {
		return validation("User", "email", CodeMissingField)
	}
	attrs := map[string]any{"login": email}
	for _, name := range []string{"first_name", "last_name"} {
		s, has, textErr := p.text(name)
		if textErr != nil {
			return textErr
		}
		if has {
			attrs[name] = s
		}
	}
	role, hasRole, err := p.text("role")
	if err != nil {
		return err
	}
	if hasRole && !roles[role] {
		return validation("User", "role", CodeInvalid)
	}
	items, err := user.DecodeBody([]any{map[string]any{"user": attrs,
		"_emails": []any{map[string]any{"email": email, "use_for_login": true, "use_for_email": true}}}}, true)
	if err != nil {
		return asEmail(err)
	}
	us, err := h.users.Write(r.Context(), principal(r), sessionID(r), items)
	if err != nil {
		return asEmail(err)
	}
	u := nokoUser(r, us[0])
	return created(w, u.URL, u)
}

// asEmail names the parameter email where the core names what the address
// became: the login, or an e-mail address of the user.
func asEmail(err error) error {
	if errors.CodeOf(err) == "" { // not a typed refusal
		return err
	}
	e := errors.From(err)
	for _, key := range []string{"attribute", "constraint"} {
		if a := e.Parameters[key]; strings.Contains(a, "login") || strings.Contains(a, "email") {
			return e.With(key, "email")
		}
	}
	return err
}
