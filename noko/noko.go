// Package noko is the Noko v2 surface of groupd, under /noko/v2: teams,
// project groups, projects and users as Noko's API (cheerful/freckle-apidocs,
// content/v2) serves them, translated to calls of the core stores
// (group.Store, user.Store, object.Store) with the caller's principal.
//
// It owns no table and decides no right: every read and write is the core's,
// exactly as for the same change through /api/v1. Its own part is the wire:
// Noko's authentication headers, parameters in the query string or a JSON
// body, pages with Link headers, 201/204 answers, and errors as
// {"message", "errors"} with 400, 401, 403, 404 and 422 (docs/noko.md).
//
// Mapping:
//   - a team is a group of type TeamType; its users are the group's members;
//   - a project group is a group of type ProjectGroupType; its projects are
//     the objects of kind ProjectKind in it;
//   - a project is an object of kind ProjectKind, its Noko fields in the
//     object's attributes;
//   - a user is a groupd user.
package noko

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/gorilla/mux"
	"github.com/groupd/groupd/group"
	"github.com/groupd/groupd/object"
	"github.com/groupd/groupd/policy"
	"github.com/groupd/groupd/session"
	"github.com/groupd/groupd/user"
)

// The group types and object kind that tell Noko's things apart from other
// groups and objects. A group of another type is no team and no project
// group here (404), whatever its members.
const (
	TeamType         = "custom-noko-team"
	ProjectGroupType = "custom-noko-project-group"
	ProjectKind      = "noko.project"
)

// Authenticator turns a token into an authenticated request
// (*session.Service).
type Authenticator interface {
	AuthenticateRequest(r *http.Request, token string) (*http.Request, error)
}

// Handler serves /noko/v2.
type Handler struct {
	groups  *group.Store
	users   *user.Store
	objects *object.Store
	auth    Authenticator
}

// New returns the Noko surface over the core stores.
func New(groups *group.Store, users *user.Store, objects *object.Store, auth Authenticator) *Handler {
	return &Handler{groups: groups, users: users, objects: objects, auth: auth}
}

// handlerFunc serves one Noko operation with the request's parameters.
type handlerFunc func(w http.ResponseWriter, r *http.Request, p *params) error

// Register mounts the routes on r.
func (h *Handler) Register(r *mux.Router) {
	s := r.PathPrefix(Prefix).Subrouter()
	route := func(path, method, resource string, fn handlerFunc) {
		s.Handle(path, h.serve(resource, fn)).Methods(method)
	}
	route("/teams", http.MethodGet, "Team", h.listTeams)
	route("/teams", http.MethodPost, "Team", h.createTeam)
	route("/teams/{id}", http.MethodGet, "Team", h.getTeam)
	route("/teams/{id}", http.MethodPut, "Team", h.updateTeam)
	route("/teams/{id}", http.MethodDelete, "Team", h.deleteTeam)
	route("/teams/{id}/users", http.MethodGet, "User", h.teamUsers)
	route("/teams/{id}/add_users", http.MethodPost, "Team", h.addUsers)
	route("/teams/{id}/remove_users", http.MethodPut, "Team", h.removeUsers)
	route("/teams/{id}/remove_all_users", http.MethodPut, "Team", h.removeAllUsers)

	// Project groups, and the same under the early draft's /groups (seed
	// 003), whose project actions were verbs on /groups/:id/projects.
	for _, base := range []string{"/project_groups", "/groups"} {
		route(base, http.MethodGet, "ProjectGroup", h.listProjectGroups)
		route(base, http.MethodPost, "ProjectGroup", h.createProjectGroup)
		route(base+"/{id}", http.MethodGet, "ProjectGroup", h.getProjectGroup)
		route(base+"/{id}", http.MethodPut, "ProjectGroup", h.updateProjectGroup)
		route(base+"/{id}", http.MethodDelete, "ProjectGroup", h.deleteProjectGroup)
		route(base+"/{id}/projects", http.MethodGet, "Project", h.groupProjects)
		route(base+"/{id}/add_projects", http.MethodPost, "ProjectGroup", h.addProjects)
		route(base+"/{id}/remove_projects", http.MethodPut, "ProjectGroup", h.removeProjects)
		route(base+"/{id}/remove_all_projects", http.MethodPut, "ProjectGroup", h.removeAllProjects)
	}
	route("/groups/{id}/projects", http.MethodPost, "ProjectGroup", h.addProjects)
	route("/groups/{id}/projects", http.MethodPut, "ProjectGroup", h.removeProjects)
	route("/groups/{id}/projects", http.MethodDelete, "ProjectGroup", h.removeAllProjects)

	route("/projects", http.MethodGet, "Project", h.listProjects)
	route("/projects", http.MethodPost, "Project", h.createProject)
	route("/projects/{id}", http.MethodGet, "Project", h.getProject)

	route("/users", http.MethodGet, "User", h.listUsers)
	route("/users", http.MethodPost, "User", h.createUser)
	route("/users/{id}", http.MethodGet, "User", h.getUser)

	// Anything else under the prefix, another path or another method:
	// Noko's 404, not easydb's error.
	s.NotFoundHandler = h.serve("", func(w http.ResponseWriter, r *http.Request, p *params) error { return notFound() })
}

// serve is the adapter of every Noko route: a User-Agent, then the token
// (X-NokoToken, the legacy X-FreckleToken, Authorization: Bearer, or the
// noko_token parameter; any groupd session or API token), then the
// parameters, then fn; any error is written as Noko's.
func (h *Handler) serve(resource string, fn handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h.authenticated(w, r, resource, fn); err != nil {
			writeError(w, r, err, resource)
		}
	})
}

func (h *Handler) authenticated(w http.ResponseWriter, r *http.Request, resource string, fn handlerFunc) error {
	if r.Header.Get("User-Agent") == "" {
		return badRequest("A User-Agent header is required")
	}
	authed, err := h.auth.AuthenticateRequest(r, tokenOf(r))
	if err != nil {
		return err
	}
	p, err := readParams(authed)
	if err != nil {
		return err
	}
	return fn(w, authed, p)
}

// tokenOf is the request's Noko token.
func tokenOf(r *http.Request) string {
	for _, h := range []string{"X-NokoToken", "X-FreckleToken"} {
		if t := r.Header.Get(h); t != "" {
			return t
		}
	}
	if a := r.Header.Get("Authorization"); len(a) > len("Bearer ") && strings.EqualFold(a[:len("Bearer ")], "Bearer ") {
		return a[len("Bearer "):]
	}
	if vs := r.URL.Query()["noko_token"]; len(vs) > 0 {
		return vs[0]
	}
	return ""
}

// principal is the caller.
func principal(r *http.Request) *policy.Principal { return session.PrincipalFrom(r.Context()) }

// sessionID is the caller's session (0 for an API token).
func sessionID(r *http.Request) int64 {
	if s := session.FromContext(r.Context()); s != nil {
		return s.ID
	}
	return 0
}

// pathID is the {id} of the path; anything but a positive integer names
// nothing there: 404.
func pathID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(mux.Vars(r)["id"], 10, 64)
	if err != nil || id <= 0 {
		return 0, notFound()
	}
	return id, nil
}
