package noko

import (
	"context"
	"database/sql"
	"net/http"
	"strings"

	"github.com/groupd/groupd/group"
	"github.com/groupd/groupd/user"
)

// Teams: groups of type TeamType whose members are users (Noko's
// content/v2/teams.md).

// Team is Noko's team object.
type Team struct {
	ID                int64        `json:"id"`
	Name              string       `json:"name"`
	Users             []SimpleUser `json:"users"`
	URL               string       `json:"url"`
	EntriesURL        string       `json:"entries_url"`
	UsersURL          string       `json:"users_url"`
	CreatedAt         string       `json:"created_at"`
	UpdatedAt         string       `json:"updated_at"`
	AddUsersURL       string       `json:"add_users_url"`
	RemoveUsersURL    string       `json:"remove_users_url"`
	RemoveAllUsersURL string       `json:"remove_all_users_url"`
}

// SimpleTeam is a team as a user shows it.
type SimpleTeam struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
	URL  string `json:"url"`
}

// SimpleUser is a user as a team shows it. A member is listed in groupd's
// short format, which has a login and no names: email is the login when
// it is an address (a user made through POST /users has its address as
// login), first_name and last_name are null (docs/noko.md).
type SimpleUser struct {
	ID              int64   `json:"id"`
	Email           *string `json:"email"`
	FirstName       *string `json:"first_name"`
	LastName        *string `json:"last_name"`
	ProfileImageURL *string `json:"profile_image_url"`
	URL             string  `json:"url"`
}

// embeddedMembers is the most members a team object lists; the rest are
// on the pages of /teams/:id/users.
const embeddedMembers = user.MaxLimit

func simpleUser(r *http.Request, m user.Short) SimpleUser {
	su := SimpleUser{ID: m.ID, URL: apiURL(r, "/users/"+idText(m.ID))}
	if m.Login != nil && strings.Contains(*m.Login, "@") {
		su.Email = m.Login
	}
	return su
}

func (h *Handler) team(r *http.Request, g *group.Group) (*Team, error) {
	members, _, err := h.users.ListMembers(r.Context(), principal(r), g.ID, embeddedMembers, 0)
	if err != nil {
		return nil, err
	}
	base := "/teams/" + idText(g.ID)
	t := &Team{ID: g.ID, Name: groupName(g), Users: make([]SimpleUser, len(members)), URL: apiURL(r, base),
		EntriesURL: apiURL(r, base+"/entries/"), UsersURL: apiURL(r, base+"/users/"),
		CreatedAt: timestamp(g.CreatedAt), UpdatedAt: timestamp(g.UpdatedAt),
		AddUsersURL: apiURL(r, base+"/add_users"), RemoveUsersURL: apiURL(r, base+"/remove_users"),
		RemoveAllUsersURL: apiURL(r, base+"/remove_all_users")}
	for i, m := range members {
		t.Users[i] = simpleUser(r, m)
	}
	return t, nil
}

// listTeams: GET /teams, filtered by name and user_ids (teams with at
// least one of these users).
func (h *Handler) listTeams(w http.ResponseWriter, r *http.Request, p *params) error {
	userIDs, _, has, err := p.ids("user_ids", "users")
	if err != nil {
		return err
	}
	var ids []int64
	if has {
		if len(userIDs) > maxUserFilter {
			return badRequest("The filter user_ids takes at most " + idText(maxUserFilter) + " ids")
		}
		if ids, err = h.teamsOf(r, userIDs); err != nil {
			return err
		}
	}
	gs, pg, total, err := h.listGroups(r, p, TeamType, ids)
	if err != nil {
		return err
	}
	out := make([]*Team, len(gs))
	for i, g := range gs {
		if out[i], err = h.team(r, g); err != nil {
			return err
		}
	}
	setLink(w, r, pg, total)
	return writeJSON(w, http.StatusOK, out)
}

// maxUserFilter bounds the user_ids filter: each id is one read of a user.
const maxUserFilter = 100

// teamsOf is the ids of the groups the users are static members of (an
// empty, not nil, list when there are none); the listing narrows them to
// teams the caller may see. An unknown user is in no group.
func (h *Handler) teamsOf(r *http.Request, userIDs []int64) ([]int64, error) {
	ids := []int64{}
	seen := map[int64]bool{}
	for _, id := range userIDs {
		u, err := h.users.Get(r.Context(), principal(r), id)
		if err != nil {
			return nil, err
		}
		if u == nil {
			continue
		}
		for _, g := range u.Groups {
			if !seen[g.ID] {
				seen[g.ID] = true
				ids = append(ids, g.ID)
			}
		}
	}
	return ids, nil
}

// createTeam: POST /teams with name and user_ids. The users are added as
// by add_users (unknown ids are ignored), in the create's transaction: if
// that is refused, nothing is written and the refusal answered.
func (h *Handler) createTeam(w http.ResponseWriter, r *http.Request, p *params) error {
	name, err := requiredName(p, "Team")
	if err != nil {
		return err
	}
	userIDs, _, _, err := p.ids("user_ids", "users")
	if err != nil {
		return err
	}
	var addUsers func(ctx context.Context, tx *sql.Tx, id int64) error
	if len(userIDs) > 0 {
		addUsers = func(ctx context.Context, tx *sql.Tx, id int64) error {
			_, stepErr := h.users.ChangeMembersIn(ctx, tx, principal(r), id, user.MemberChange{Add: userIDs})
			return stepErr
		}
	}
	g, err := h.createGroup(r, TeamType, name, addUsers)
	if err != nil {
		return err
	}
	t, err := h.team(r, g)
	if err != nil {
		return err
	}
	return created(w, t.URL, t)
}

func (h *Handler) getTeam(w http.ResponseWriter, r *http.Request, p *params) error {
	g, err := h.groupID(r, TeamType)
	return h.answerTeam(w, r, g, err)
}

// updateTeam: PUT /teams/:id with name.
func (h *Handler) updateTeam(w http.ResponseWriter, r *http.Request, p *params) error {
	g, err := h.renameGroup(r, p, TeamType)
	return h.answerTeam(w, r, g, err)
}

// answerTeam answers 200 with team g, unless err.
func (h *Handler) answerTeam(w http.ResponseWriter, r *http.Request, g *group.Group, err error) error {
	if err != nil {
		return err
	}
	t, err := h.team(r, g)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, t)
}

// deleteTeam: DELETE /teams/:id; the users stay.
func (h *Handler) deleteTeam(w http.ResponseWriter, r *http.Request, p *params) error {
	return h.deleteGroup(w, r, TeamType)
}

// teamUsers: GET /teams/:id/users, a page of the team's members.
func (h *Handler) teamUsers(w http.ResponseWriter, r *http.Request, p *params) error {
	g, err := h.groupID(r, TeamType)
	if err != nil {
		return err
	}
	pg, err := p.page()
	if err != nil {
		return err
	}
	members, total, err := h.users.ListMembers(r.Context(), principal(r), g.ID, pg.PerPage, pg.Offset())
	if err != nil {
		return err
	}
	out := make([]SimpleUser, len(members))
	for i, m := range members {
		out[i] = simpleUser(r, m)
	}
	setLink(w, r, pg, total)
	return writeJSON(w, http.StatusOK, out)
}

// memberIDs is the user_ids parameter of add_users and remove_users,
// required.
func memberIDs(p *params) ([]int64, error) {
	ids, name, has, err := p.ids("user_ids", "users")
	if err != nil {
		return nil, err
	}
	if !has {
		return nil, validation("Team", name, CodeMissingField)
	}
	if len(ids) > user.MaxMemberChange {
		return nil, badRequest("At most " + idText(user.MaxMemberChange) + " users per request")
	}
	return ids, nil
}

// addUsers: POST /teams/:id/add_users; 200 with the users it added (users
// already in the team, and unknown ids, are ignored and not in the answer).
func (h *Handler) addUsers(w http.ResponseWriter, r *http.Request, p *params) error {
	ids, err := memberIDs(p)
	if err != nil {
		return err
	}
	g, err := h.groupID(r, TeamType)
	if err != nil {
		return err
	}
	results, err := h.users.ChangeMembers(r.Context(), principal(r), g.ID, user.MemberChange{Add: ids})
	if err != nil {
		return err
	}
	added := map[int64]bool{}
	for _, res := range results {
		if res.Result == user.ResultAdded {
			added[res.ID] = true
		}
	}
	members, err := h.membersAmong(r, g.ID, added)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, members)
}

// membersAmong is the members of group id that are in want, in id order,
// read page by page from the members listing.
func (h *Handler) membersAmong(r *http.Request, id int64, want map[int64]bool) ([]SimpleUser, error) {
	out := []SimpleUser{}
	for offset := 0; len(out) < len(want); offset += user.MaxLimit {
		page, total, err := h.users.ListMembers(r.Context(), principal(r), id, user.MaxLimit, offset)
		if err != nil {
			return nil, err
		}
		for _, m := range page {
			if want[m.ID] {
				out = append(out, simpleUser(r, m))
			}
		}
		if offset+user.MaxLimit >= total {
			break
		}
	}
	return out, nil
}

// removeUsers: PUT /teams/:id/remove_users; non-members are ignored.
func (h *Handler) removeUsers(w http.ResponseWriter, r *http.Request, p *params) error {
	ids, err := memberIDs(p)
	if err != nil {
		return err
	}
	g, err := h.groupID(r, TeamType)
	if err != nil {
		return err
	}
	if _, err := h.users.ChangeMembers(r.Context(), principal(r), g.ID, user.MemberChange{Remove: ids}); err != nil {
		return err
	}
	return noContent(w)
}

// removeAllUsers: PUT /teams/:id/remove_all_users, the members it lists
// removed in one core transaction.
func (h *Handler) removeAllUsers(w http.ResponseWriter, r *http.Request, p *params) error {
	g, err := h.groupID(r, TeamType)
	if err != nil {
		return err
	}
	var ids []int64
	for offset := 0; ; offset += user.MaxLimit {
		page, total, err := h.users.ListMembers(r.Context(), principal(r), g.ID, user.MaxLimit, offset)
		if err != nil {
			return err
		}
		for _, m := range page {
			ids = append(ids, m.ID)
		}
		if offset+user.MaxLimit >= total {
			break
		}
	}
	if len(ids) > 0 {
		if _, err := h.users.ChangeMembers(r.Context(), principal(r), g.ID, user.MemberChange{Remove: ids}); err != nil {
			return err
		}
	}
	return noContent(w)
}
