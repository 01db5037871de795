package noko

import (
	"context"
	"database/sql"
	"net/http"

	"github.com/groupd/groupd/group"
	"github.com/groupd/groupd/object"
)

// Project groups: groups of type ProjectGroupType whose members are the
// objects of kind ProjectKind in them (Noko's content/v2/project_groups.md).
// A project is in at most one group.

// ProjectGroup is Noko's project group object.
type ProjectGroup struct {
	ID                   int64           `json:"id"`
	Name                 string          `json:"name"`
	Projects             []SimpleProject `json:"projects"`
	URL                  string          `json:"url"`
	EntriesURL           string          `json:"entries_url"`
	InvoicesURL          string          `json:"invoices_url"`
	ProjectsURL          string          `json:"projects_url"`
	CreatedAt            string          `json:"created_at"`
	UpdatedAt            string          `json:"updated_at"`
	AddProjectsURL       string          `json:"add_projects_url"`
	RemoveProjectsURL    string          `json:"remove_projects_url"`
	RemoveAllProjectsURL string          `json:"remove_all_projects_url"`
}

// The parameter names of a list of projects: Noko's documents call it
// project_ids in one place and projects in another.
var projectIDNames = []string{"project_ids", "projects"}

func (h *Handler) projectGroup(r *http.Request, g *group.Group) (*ProjectGroup, error) {
	// The embedded list shows the first MaxLimit projects, as a team its
	// first members; /project_groups/:id/projects pages through all.
	os, _, err := h.objects.List(r.Context(), principal(r), object.Filter{Kind: ProjectKind, GroupID: g.ID,
		Limit: object.MaxLimit})
	if err != nil {
		return nil, err
	}
	base := "/project_groups/" + idText(g.ID)
	pg := &ProjectGroup{ID: g.ID, Name: groupName(g), Projects: make([]SimpleProject, len(os)), URL: apiURL(r, base),
		EntriesURL: apiURL(r, base+"/entries/"), InvoicesURL: apiURL(r, base+"/invoices/"),
		ProjectsURL: apiURL(r, base+"/projects/"), CreatedAt: timestamp(g.CreatedAt), UpdatedAt: timestamp(g.UpdatedAt),
		AddProjectsURL: apiURL(r, base+"/add_projects"), RemoveProjectsURL: apiURL(r, base+"/remove_projects"),
		RemoveAllProjectsURL: apiURL(r, base+"/remove_all_projects")}
	for i, o := range os {
		pg.Projects[i] = simpleProject(r, o)
	}
	return pg, nil
}

// listProjectGroups: GET /project_groups, filtered by name and project_ids
// (the groups of these projects).
func (h *Handler) listProjectGroups(w http.ResponseWriter, r *http.Request, p *params) error {
	projectIDs, _, has, err := p.ids(projectIDNames...)
	if err != nil {
		return err
	}
	var ids []int64
	if has {
		os, listErr := h.projectsByIDs(r, projectIDs)
		if listErr != nil {
			return listErr
		}
		ids = []int64{}
		for _, o := range os {
			if o.GroupID != 0 {
				ids = append(ids, o.GroupID)
			}
		}
	}
	gs, pg, total, err := h.listGroups(r, p, ProjectGroupType, ids)
	if err != nil {
		return err
	}
	out := make([]*ProjectGroup, len(gs))
	for i, g := range gs {
		if out[i], err = h.projectGroup(r, g); err != nil {
			return err
		}
	}
	setLink(w, r, pg, total)
	return writeJSON(w, http.StatusOK, out)
}

// createProjectGroup: POST /project_groups with name and project_ids; the
// projects move from their old groups (which needs unlink there and link
// on the new group), in the create's transaction: unknown project ids (a
// 422) or a refused move write nothing.
func (h *Handler) createProjectGroup(w http.ResponseWriter, r *http.Request, p *params) error {
	name, err := requiredName(p, "ProjectGroup")
	if err != nil {
		return err
	}
	projectIDs, param, _, err := p.ids(projectIDNames...)
	if err != nil {
		return err
	}
	var moveProjects func(ctx context.Context, tx *sql.Tx, id int64) error
	if len(projectIDs) > 0 {
		moveProjects = func(ctx context.Context, tx *sql.Tx, id int64) error {
			_, stepErr := h.objects.MoveIn(ctx, tx, principal(r), object.Move{IDs: projectIDs, Kind: ProjectKind, To: id})
			return stepErr
		}
	}
	g, err := h.createGroup(r, ProjectGroupType, name, moveProjects)
	if err != nil {
		return missingProjects(err, param)
	}
	out, err := h.projectGroup(r, g)
	if err != nil {
		return err
	}
	return created(w, out.URL, out)
}

func (h *Handler) getProjectGroup(w http.ResponseWriter, r *http.Request, p *params) error {
	g, err := h.groupID(r, ProjectGroupType)
	return h.answerProjectGroup(w, r, g, err)
}

// updateProjectGroup: PUT /project_groups/:id with name.
func (h *Handler) updateProjectGroup(w http.ResponseWriter, r *http.Request, p *params) error {
	g, err := h.renameGroup(r, p, ProjectGroupType)
	return h.answerProjectGroup(w, r, g, err)
}

// answerProjectGroup answers 200 with project group g, unless err.
func (h *Handler) answerProjectGroup(w http.ResponseWriter, r *http.Request, g *group.Group, err error) error {
	if err != nil {
		return err
	}
	out, err := h.projectGroup(r, g)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

// deleteProjectGroup: DELETE /project_groups/:id; its projects stay, in no
// group (the core ungroups them in the delete's transaction).
func (h *Handler) deleteProjectGroup(w http.ResponseWriter, r *http.Request, p *params) error {
	return h.deleteGroup(w, r, ProjectGroupType)
}

// groupProjects: GET /project_groups/:id/projects, a page of its projects,
// filtered by name as GET /projects.
func (h *Handler) groupProjects(w http.ResponseWriter, r *http.Request, p *params) error {
	g, err := h.groupID(r, ProjectGroupType)
	if err != nil {
		return err
	}
	pg, err := p.page()
	if err != nil {
		return err
	}
	name, err := p.filter("name")
	if err != nil {
		return err
	}
	os, total, err := h.objects.List(r.Context(), principal(r), object.Filter{Kind: ProjectKind, GroupID: g.ID,
		Name: name, Limit: pg.PerPage, Offset: pg.Offset()})
	if err != nil {
		return err
	}
	out, err := h.projects(r, os)
	if err != nil {
		return err
	}
	setLink(w, r, pg, total)
	return writeJSON(w, http.StatusOK, out)
}

// requiredProjectIDs is the project list of add_projects and
// remove_projects.
func requiredProjectIDs(p *params) ([]int64, string, error) {
	ids, name, has, err := p.ids(projectIDNames...)
	if err != nil {
		return nil, name, err
	}
	if !has {
		return nil, name, validation("ProjectGroup", name, CodeMissingField)
	}
	return ids, name, nil
}

// addProjects: POST /project_groups/:id/add_projects; projects already in
// another group are ignored and not in the answer, as Noko documents; 200
// with the projects of the request that are in the group now.
func (h *Handler) addProjects(w http.ResponseWriter, r *http.Request, p *params) error {
	ids, param, err := requiredProjectIDs(p)
	if err != nil {
		return err
	}
	g, err := h.groupID(r, ProjectGroupType)
	if err != nil {
		return err
	}
	res, err := h.objects.Move(r.Context(), principal(r), object.Move{IDs: ids, Kind: ProjectKind, To: g.ID,
		SkipGrouped: true})
	if err != nil {
		return missingProjects(err, param)
	}
	os, err := h.projectsByIDs(r, res.Moved)
	if err != nil {
		return err
	}
	out, err := h.projects(r, os)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

// removeProjects: PUT /project_groups/:id/remove_projects; projects not in
// the group are ignored.
func (h *Handler) removeProjects(w http.ResponseWriter, r *http.Request, p *params) error {
	ids, param, err := requiredProjectIDs(p)
	if err != nil {
		return err
	}
	g, err := h.groupID(r, ProjectGroupType)
	if err != nil {
		return err
	}
	if _, err := h.objects.Move(r.Context(), principal(r), object.Move{IDs: ids, Kind: ProjectKind,
		OnlyFrom: g.ID}); err != nil {
		return missingProjects(err, param)
	}
	return noContent(w)
}

// removeAllProjects: PUT /project_groups/:id/remove_all_projects, in one
// core transaction.
func (h *Handler) removeAllProjects(w http.ResponseWriter, r *http.Request, p *params) error {
	g, err := h.groupID(r, ProjectGroupType)
	if err != nil {
		return err
	}
	if _, err := h.objects.Move(r.Context(), principal(r), object.Move{Kind: ProjectKind, From: g.ID}); err != nil {
		return err
	}
	return noContent(w)
}
