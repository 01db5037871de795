package noko

import (
	"encoding/json"
	"net/http"
	"regexp"

	"github.com/groupd/groupd/errors"
	"github.com/groupd/groupd/group"
	"github.com/groupd/groupd/object"
)

// Projects: objects of kind ProjectKind (Noko's content/v2/projects.md).
// The object's name is the project's; its attributes hold Noko's fields
// (projectAttributes); its group is the project group.

// Project is Noko's project object.
type Project struct {
	SimpleProject
	Group     *SimpleProjectGroup `json:"group"`
	CreatedAt string              `json:"created_at"`
	UpdatedAt string              `json:"updated_at"`
}

// SimpleProject is a project as a project group shows it.
type SimpleProject struct {
	ID               int64   `json:"id"`
	Name             string  `json:"name"`
	BillingIncrement int     `json:"billing_increment"`
	Enabled          bool    `json:"enabled"`
	Billable         bool    `json:"billable"`
	Color            *string `json:"color"`
	URL              string  `json:"url"`
}

// SimpleProjectGroup is a project's group. Name is null when the caller
// may not read the group.
type SimpleProjectGroup struct {
	ID   int64   `json:"id"`
	Name *string `json:"name"`
	URL  string  `json:"url"`
}

// projectAttributes are Noko's fields of a project, as the object's
// attributes keep them.
type projectAttributes struct {
	BillingIncrement int     `json:"billing_increment"`
	Enabled          bool    `json:"enabled"`
	Billable         bool    `json:"billable"`
	Color            *string `json:"color"`
}

// Noko's billing increments (minutes); 15 is the default.
var billingIncrements = map[int64]bool{1: true, 5: true, 6: true, 10: true, 15: true, 20: true, 30: true, 60: true}

const defaultBillingIncrement = 15

// colorPattern is a hexadecimal color, with or without the '#'.
var colorPattern = regexp.MustCompile(`^#?[0-9A-Fa-f]{6}$`)

func simpleProject(r *http.Request, o *object.Object) SimpleProject {
	// An object made through /api/v1/object may have other attributes, or
	// none: the defaults fill in what is missing.
	a := projectAttributes{BillingIncrement: defaultBillingIncrement, Enabled: true, Billable: true}
	_ = json.Unmarshal(o.Attributes, &a)
	if !billingIncrements[int64(a.BillingIncrement)] {
		a.BillingIncrement = defaultBillingIncrement
	}
	return SimpleProject{ID: o.ID, Name: o.Name, BillingIncrement: a.BillingIncrement, Enabled: a.Enabled,
		Billable: a.Billable, Color: a.Color, URL: apiURL(r, "/projects/"+idText(o.ID))}
}

// projects turns objects into Noko's projects, each with its group: the
// groups are read in one listing, of those the caller may see.
func (h *Handler) projects(r *http.Request, os []*object.Object) ([]*Project, error) {
	var groupIDs []int64
	for _, o := range os {
		if o.GroupID != 0 {
			groupIDs = append(groupIDs, o.GroupID)
		}
	}
	names := map[int64]*string{}
	if len(groupIDs) > 0 {
		gs, _, err := h.groups.List(r.Context(), principal(r), group.Filter{IDs: groupIDs, Limit: group.MaxLimit})
		if err != nil {
			return nil, err
		}
		for _, g := range gs {
			name := groupName(g)
			names[g.ID] = &name
		}
	}
	out := make([]*Project, len(os))
	for i, o := range os {
		out[i] = &Project{SimpleProject: simpleProject(r, o), CreatedAt: timestamp(o.CreatedAt),
			UpdatedAt: timestamp(o.UpdatedAt)}
		if o.GroupID != 0 {
			out[i].Group = &SimpleProjectGroup{ID: o.GroupID, Name: names[o.GroupID],
				URL: apiURL(r, "/project_groups/"+idText(o.GroupID))}
		}
	}
	return out, nil
}

// listProjects: GET /projects, filtered by name and project_group_ids (one
// id: objects are listed per group).
func (h *Handler) listProjects(w http.ResponseWriter, r *http.Request, p *params) error {
	for _, name := range []string{"billing_increment", "enabled", "billable"} {
		if _, has := p.value(name); has {
			return badRequest("The filter " + name + " is not supported by groupd")
		}
	}
	pg, err := p.page()
	if err != nil {
		return err
	}
	name, err := p.filter("name")
	if err != nil {
		return err
	}
	f := object.Filter{Kind: ProjectKind, Name: name, Limit: pg.PerPage, Offset: pg.Offset()}
	groupIDs, _, _, err := p.ids("project_group_ids")
	if err != nil {
		return err
	}
	switch len(groupIDs) {
	case 0:
	case 1:
		f.GroupID = groupIDs[0]
	default:
		return badRequest("project_group_ids: groupd filters by one project group at a time")
	}
	os, total, err := h.objects.List(r.Context(), principal(r), f)
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

// readProject is project id, if the caller may see it.
func (h *Handler) readProject(r *http.Request, id int64) (*Project, error) {
	o, err := h.objects.Get(r.Context(), principal(r), id)
	if err != nil {
		return nil, err
	}
	if o.Kind != ProjectKind {
		return nil, notFound()
	}
	ps, err := h.projects(r, []*object.Object{o})
	if err != nil {
		return nil, err
	}
	return ps[0], nil
}

func (h *Handler) getProject(w http.ResponseWriter, r *http.Request, p *params) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	pr, err := h.readProject(r, id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, pr)
}

// createProject: POST /projects with name (required), billable, enabled,
// billing_increment, color and project_group_id. Putting it into a group
// needs link on the group.
func (h *Handler) createProject(w http.ResponseWriter, r *http.Request, p *params) error {
	name, err := requiredName(p, "Project")
	if err != nil {
		return err
	}
	a, err := decodeProjectAttributes(p)
	if err != nil {
		return err
	}
	in := &object.Input{Kind: ProjectKind, Name: &name}
	if in.Attributes, err = json.Marshal(a); err != nil {
		return errors.ServerGeneric(err)
	}
	gid, hasGroup, err := p.integer("project_group_id")
	if err != nil {
		return err
	}
	if hasGroup {
		if _, readErr := h.readGroup(r, gid, ProjectGroupType); readErr != nil {
			if ne := translate(readErr, "Project"); ne.Status == http.StatusNotFound {
				return validation("Project", "project_group_id", CodeMissing)
			}
			return readErr
		}
		in.Group = &gid
	}
	os, err := h.objects.Write(r.Context(), principal(r), []*object.Input{in})
	if err != nil {
		return err
	}
	ps, err := h.projects(r, os)
	if err != nil {
		return err
	}
	return created(w, ps[0].URL, ps[0])
}

// decodeProjectAttributes reads billable, enabled, billing_increment and
// color, with Noko's defaults for those not given.
func decodeProjectAttributes(p *params) (projectAttributes, error) {
	a := projectAttributes{BillingIncrement: defaultBillingIncrement, Enabled: true, Billable: true}
	for _, b := range []struct {
		name string
		dst  *bool
	}{{"billable", &a.Billable}, {"enabled", &a.Enabled}} {
		v, has, err := p.boolean(b.name)
		if err != nil {
			return a, err
		}
		if has {
			*b.dst = v
		}
	}
	n, has, err := p.integer("billing_increment")
	if err != nil {
		return a, err
	}
	if has {
		if !billingIncrements[n] {
			return a, validation("Project", "billing_increment", CodeInvalid)
		}
		a.BillingIncrement = int(n)
	}
	c, has, err := p.text("color")
	if err != nil {
		return a, err
	}
	if has {
		if !colorPattern.MatchString(c) {
			return a, validation("Project", "color", CodeInvalid)
		}
		a.Color = &c
	}
	return a, nil
}

// projectsByIDs is the projects with these ids the caller may see, in id
// order, read a page at a time.
func (h *Handler) projectsByIDs(r *http.Request, ids []int64) ([]*object.Object, error) {
	out := []*object.Object{}
	for start := 0; start < len(ids); start += object.MaxLimit {
		chunk := ids[start:min(start+object.MaxLimit, len(ids))]
		os, _, err := h.objects.List(r.Context(), principal(r), object.Filter{IDs: chunk, Kind: ProjectKind,
			Limit: object.MaxLimit})
		if err != nil {
			return nil, err
		}
		out = append(out, os...)
	}
	return out, nil
}

// missingProjects turns the core's "no such objects" into Noko's 422
// naming the parameter.
func missingProjects(err error, param string) error {
	if errors.Is(err, errors.ObjectsNotFound(nil)) {
		return validation("Project", param, CodeMissing)
	}
	return err
}
