package group

import (
	"net/http"
	"strconv"

	"github.com/gorilla/mux"
	"github.com/groupd/groupd/errors"
	"github.com/groupd/groupd/input"
	"github.com/groupd/groupd/policy"
	"github.com/groupd/groupd/rights"
	"github.com/groupd/groupd/web"
)

// Handler serves /api/v1/group.
type Handler struct {
	store     *Store
	authz     Authorizer
	principal func(*http.Request) *policy.Principal
	// MaxItems is the most groups one write may carry (0:
	// web.DefaultMaxBulkItems).
	MaxItems int
}

// NewHandler returns the group API on store. principal returns the
// authenticated principal of a request that passed the session middleware.
func NewHandler(store *Store, authz Authorizer, principal func(*http.Request) *policy.Principal) *Handler {
	return &Handler{store: store, authz: authz, principal: principal}
}

// Register mounts the routes on r behind requireAuth.
func (h *Handler) Register(r *mux.Router, requireAuth func(http.Handler) http.Handler) {
	web.Mount(r, requireAuth, "/api/v1/group/{id}", web.Methods{Get: h.get, Delete: web.DeleteByID(h.delete)})
	web.Mount(r, requireAuth, "/api/v1/group",
		web.Methods{Get: web.Listing(parseFilter, h.list, writePage), Put: h.create, Post: h.update})
}

func (h *Handler) get(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathInt64(r, "id")
	if err != nil {
		return err
	}
	g, err := h.store.Readable(r.Context(), h.principal(r), id)
	if errors.Is(err, errors.GroupNotFound("")) {
		// easydb: "If id was specified and no group was found, this call
		// returns an empty array."
		w.Header().Set("X-Total-Count", "0")
		return web.JSON(w, []*Group{})
	}
	if err != nil {
		return err
	}
	w.Header().Set("X-Total-Count", "1")
	return writeGroups(w, []*Group{g})
}

// list lists groups for the request's principal, who needs system.group.
func (h *Handler) list(r *http.Request, f Filter) ([]*Group, int, error) {
	return h.store.ListReadable(r.Context(), h.principal(r), f)
}

func (h *Handler) create(w http.ResponseWriter, r *http.Request) error { return h.write(w, r, true) }
func (h *Handler) update(w http.ResponseWriter, r *http.Request) error { return h.write(w, r, false) }

// write serves PUT (create only) and POST (update; an item without _id is a
// create, as the official easydb migration tool sends them).
func (h *Handler) write(w http.ResponseWriter, r *http.Request, createOnly bool) error {
	items, err := web.DecodeItems(r, h.MaxItems, func(v any, i int) (*Input, error) { return decodeItem(v, i, createOnly) })
	if err != nil {
		return err
	}
	groups, err := h.store.Write(r.Context(), h.principal(r), items)
	if err != nil {
		return err
	}
	return writeGroups(w, groups)
}

func writeGroups(w http.ResponseWriter, groups []*Group) error {
	items := make([][]byte, len(groups))
	for i, g := range groups {
		b, err := g.MarshalJSON() // kept from the audit event after a write
		if err != nil {
			return errors.ServerGeneric(err)
		}
		items[i] = b
	}
	return web.JSONArray(w, items)
}

// writePage writes a listing's page: the bytes writeGroups would write,
// from one buffer sized for the page as MarshalJSON sizes one group's,
// rather than an encoded copy of each group collected first.
func writePage(w http.ResponseWriter, groups []*Group) error {
	n := 3 // [ ] \n
	for _, g := range groups {
		n += 1024 + 256*len(g.ACL)
	}
	b := append(make([]byte, 0, n), '[')
	for i, g := range groups {
		if i > 0 {
			b = append(b, ',')
		}
		var err error
		if b, err = g.appendJSON(b); err != nil {
			return errors.ServerGeneric(err)
		}
	}
	return web.RawJSON(w, append(b, "]\n"...))
}

// delete deletes a group for the request's principal (web.DeleteByID).
func (h *Handler) delete(r *http.Request, id int64) error {
	return h.store.Delete(r.Context(), h.principal(r), id)
}

// parseFilter reads limit, offset, type, name, reference and member.
func parseFilter(r *http.Request) (f Filter, err error) {
	q := r.URL.Query()
	if f.Limit, f.Offset, err = web.Page(q, MaxLimit); err != nil {
		return f, err
	}
	if f.Types, err = web.QueryList(q, "type", maxTypeList, validType,
		`comma list of "easydb", "system" or "custom-<name>" expected`); err != nil {
		return f, err
	}
	if f.Name, err = input.Query(q, "name", input.MaxFilterLength); err != nil {
		return f, err
	}
	if q.Has("reference") {
		// an exact match on an index: any reference a group can have may be asked for
		ref, err := input.Query(q, "reference", input.MaxRefLength)
		if err != nil {
			return f, err
		}
		f.Reference = &ref
	}
	if m := q.Get("member"); m != "" {
		id, err := strconv.ParseInt(m, 10, 64)
		if err != nil || id <= 0 {
			return f, errors.InvalidValue("member", "user id expected")
		}
		f.Member = id
	}
	return f, nil
}

// validType: a group type a listing may ask for.
func validType(t string) bool { return t == "easydb" || t == "system" || rights.IsCustomGroupType(t) }

// maxTypeList bounds the type= list: every type name once, with room.
const maxTypeList = 16 * input.MaxNameLength
