package navixy

import (
	"context"
	"sort"
	"strconv"

	"github.com/groupd/groupd/errors"
	"github.com/groupd/groupd/group"
	"github.com/groupd/groupd/input"
)

// MaxTitleLength is the longest tracker group title, in characters.
const MaxTitleLength = 60

// trackerGroupType is the type of the groups that are tracker groups: the
// groups tracker/group/create makes. System groups (:all, ...) are, like
// Navixy's group 0, never listed, changed or deleted.
const trackerGroupType = "easydb"

// updateAttempts bounds how often update re-reads a group that another
// request changed between the read and the write (version mismatch).
const updateAttempts = 3

type groupOut struct {
	ID    int64   `json:"id"`
	Title string  `json:"title"`
	Color *string `json:"color"` // null for a group made without one through /api/v1/group
}

// listGroups is tracker/group/list: every tracker group the caller may see,
// ordered by id.
func (h *Handler) listGroups(ctx context.Context, c *call) (any, error) {
	return listAll(func(offset int) ([]*group.Group, int, error) {
		return h.groups.ListReadable(ctx, c.principal, group.Filter{Types: []string{trackerGroupType},
			Limit: group.MaxLimit, Offset: offset})
	}, func(g *group.Group) groupOut { return groupOut{ID: g.ID, Title: title(g), Color: g.Color} })
}

// title is a group's name or, for a group that has only display names,
// the display name of the first culture in sorted order.
func title(g *group.Group) string {
	if g.Name != nil {
		return *g.Name
	}
	cultures := make([]string, 0, len(g.Displayname))
	for c := range g.Displayname {
		cultures = append(cultures, c)
	}
	sort.Strings(cultures)
	if len(cultures) == 0 {
		return ""
	}
	return g.Displayname[cultures[0]]
}

// titleAndColor reads the parameters title and color, both required.
func titleAndColor(p params) (title, color string, err error) {
	if title, err = p.RequiredString("title"); err != nil {
		return "", "", err
	}
	if err = input.Text(title, "title", MaxTitleLength); err != nil {
		return "", "", err
	}
	if color, err = p.RequiredString("color"); err != nil {
		return "", "", err
	}
	if err = group.CheckColor(color, "color", 0); err != nil {
		return "", "", err
	}
	return title, color, nil
}

type createAnswer struct {
	okay
	ID int64 `json:"id"`
}

// createGroup is tracker/group/create {title, color}: a group named title,
// with the rights a PUT /api/v1/group needs.
func (h *Handler) createGroup(ctx context.Context, c *call) (any, error) {
	title, color, err := titleAndColor(c.params)
	if err != nil {
		return nil, err
	}
	written, err := h.groups.Write(ctx, c.principal, []*group.Input{{Name: &title, NameSet: true, Color: &color,
		ColorSet: true}})
	if err != nil {
		return nil, err
	}
	return createAnswer{okay: succeeded, ID: written[0].ID}, nil
}

// trackerGroup is the tracker group id as the caller sees it; an unknown
// one, one the caller may not see and a system group are all 201.
func (h *Handler) trackerGroup(ctx context.Context, c *call, id int64) (*group.Group, error) {
	g, err := h.groups.Visible(ctx, c.principal, id)
	if err != nil {
		return nil, err
	}
	if g == nil || g.Type != trackerGroupType {
		return nil, errors.GroupNotFound(strconv.FormatInt(id, 10))
	}
	return g, nil
}

// updateGroup is tracker/group/update {id, title, color}, with the rights a
// POST /api/v1/group needs. The version is the one just read: a change by
// another request in between is retried on the group as it then is.
func (h *Handler) updateGroup(ctx context.Context, c *call) (any, error) {
	id, err := c.params.Int64("id", 0)
	if err != nil {
		return nil, err
	}
	title, color, err := titleAndColor(c.params)
	if err != nil {
		return nil, err
	}
	for attempt := 1; ; attempt++ {
		g, err := h.trackerGroup(ctx, c, id)
		if err != nil {
			return nil, err
		}
		_, err = h.groups.Write(ctx, c.principal, []*group.Input{{Head: input.Head{ID: g.ID, Version: g.Version + 1}, Name: &title,
			NameSet: true, Color: &color, ColorSet: true}})
		if errors.CodeOf(err) == "error.user.version_mismatch" && attempt < updateAttempts {
			continue
		}
		if err != nil {
			return nil, err
		}
		return succeeded, nil
	}
}

// deleteGroup is tracker/group/delete {id}, with the rights a DELETE
// /api/v1/group/<id> needs; the group's trackers leave it in the same
// transaction (group 0).
func (h *Handler) deleteGroup(ctx context.Context, c *call) (any, error) {
	id, err := c.params.Int64("id", 0)
	if err != nil {
		return nil, err
	}
	if _, err := h.trackerGroup(ctx, c, id); err != nil {
		return nil, err
	}
	if err := h.groups.Delete(ctx, c.principal, id); err != nil {
		return nil, err
	}
	return succeeded, nil
}
