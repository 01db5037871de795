package noko

import (
	"context"
	"database/sql"
	"encoding/json"
	"maps"
	"net/http"
	"slices"

	"github.com/groupd/groupd/errors"
	"github.com/groupd/groupd/group"
)

// What teams and project groups share: both are groups of their own type,
// read, listed, created, renamed and deleted through group.Store.

// readGroup is group id of type typ, if the caller may read it; a group of
// another type, unknown or invisible, is a 404.
func (h *Handler) readGroup(r *http.Request, id int64, typ string) (*group.Group, error) {
	g, err := h.groups.Readable(r.Context(), principal(r), id)
	if err != nil {
		return nil, err
	}
	if g.Type != typ {
		return nil, notFound()
	}
	return g, nil
}

// groupID is the path's group of type typ, read as readGroup reads it.
func (h *Handler) groupID(r *http.Request, typ string) (*group.Group, error) {
	id, err := pathID(r)
	if err != nil {
		return nil, err
	}
	return h.readGroup(r, id, typ)
}

// listGroups is a page of the groups of type typ the caller may see,
// whose name contains the parameter name; ids, when not nil, narrows them
// to those ids.
func (h *Handler) listGroups(r *http.Request, p *params, typ string, ids []int64) ([]*group.Group, page, int, error) {
	pr := principal(r)
	if err := h.groups.RequireReader(pr); err != nil {
		return nil, page{}, 0, err
	}
	pg, err := p.page()
	if err != nil {
		return nil, pg, 0, err
	}
	name, err := p.filter("name")
	if err != nil {
		return nil, pg, 0, err
	}
	gs, total, err := h.groups.List(r.Context(), pr, group.Filter{IDs: ids, Types: []string{typ}, Name: name,
		Limit: pg.PerPage, Offset: pg.Offset()})
	return gs, pg, total, err
}

// requiredName is the name parameter of a create.
func requiredName(p *params, resource string) (string, error) {
	name, has, err := p.text("name")
	if err != nil {
		return "", err
	}
	if !has {
		return "", validation(resource, "name", CodeMissingField)
	}
	return name, nil
}

// createGroup creates a group of type typ named name, owned by the caller,
// and runs members (which adds its users or projects, or nil) in the
// create's transaction: a refused member step writes nothing, no group and
// no event (docs/noko.md).
func (h *Handler) createGroup(r *http.Request, typ, name string, members func(ctx context.Context, tx *sql.Tx, id int64) error) (*group.Group, error) {
	items, err := group.DecodeBody([]any{map[string]any{"group": map[string]any{"type": typ, "name": name}}}, true)
	if err != nil {
		return nil, err
	}
	gs, err := h.groups.WriteThen(r.Context(), principal(r), items, func(ctx context.Context, tx *sql.Tx, written []*group.Group) error {
		if members == nil {
			return nil
		}
		return members(ctx, tx, written[0].ID)
	})
	if err != nil {
		return nil, err
	}
	return gs[0], nil
}

// maxRenameAttempts bounds the retries of a rename that lost a race with
// another write of the group (version_mismatch).
const maxRenameAttempts = 3

// renameGroup renames the path's group of type typ to the parameter name,
// if given, and returns it as it is then.
func (h *Handler) renameGroup(r *http.Request, p *params, typ string) (*group.Group, error) {
	id, err := pathID(r)
	if err != nil {
		return nil, err
	}
	name, has, err := p.text("name")
	if err != nil {
		return nil, err
	}
	for attempt := 1; ; attempt++ {
		g, err := h.readGroup(r, id, typ)
		if err != nil || !has {
			return g, err
		}
		items, err := group.DecodeBody([]any{map[string]any{"group": map[string]any{
			"_id": json.Number(idText(id)), "_version": json.Number(idText(g.Version + 1)), "name": name}}}, false)
		if err != nil {
			return nil, err
		}
		gs, err := h.groups.Write(r.Context(), principal(r), items)
		if errors.Is(err, errors.VersionMismatch(0, 0)) && attempt < maxRenameAttempts {
			continue
		}
		if err != nil {
			return nil, err
		}
		return gs[0], nil
	}
}

// deleteGroup deletes the path's group of type typ.
func (h *Handler) deleteGroup(w http.ResponseWriter, r *http.Request, typ string) error {
	g, err := h.groupID(r, typ)
	if err != nil {
		return err
	}
	if err := h.groups.Delete(r.Context(), principal(r), g.ID); err != nil {
		return err
	}
	return noContent(w)
}

// groupName is g's name, else a display name (a group made through
// /api/v1 may have only those).
func groupName(g *group.Group) string {
	if g.Name != nil {
		return *g.Name
	}
	for _, culture := range slices.Sorted(maps.Keys(g.Displayname)) {
		return g.Displayname[culture]
	}
	return ""
}
