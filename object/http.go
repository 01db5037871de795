package object

import (
	"net/http"
	"strconv"

	"github.com/gorilla/mux"
	"github.com/groupd/groupd/errors"
	"github.com/groupd/groupd/input"
	"github.com/groupd/groupd/policy"
	"github.com/groupd/groupd/web"
)

// Handler serves /api/v1/object and /api/v1/group/<id>/objects.
type Handler struct {
	store     *Store
	principal func(*http.Request) *policy.Principal
	// MaxItems is the most objects one write may carry (0:
	// web.DefaultMaxBulkItems).
	MaxItems int
}

// NewHandler returns the object API on store. principal returns the
// authenticated principal of a request that passed the session middleware.
func NewHandler(store *Store, principal func(*http.Request) *policy.Principal) *Handler {
	return &Handler{store: store, principal: principal}
}

// Register mounts the routes on r behind requireAuth.
func (h *Handler) Register(r *mux.Router, requireAuth func(http.Handler) http.Handler) {
	r.Handle("/api/v1/object", requireAuth(web.Handle(h.list))).Methods(http.MethodGet)
	r.Handle("/api/v1/object", requireAuth(web.Handle(h.create))).Methods(http.MethodPut)
	r.Handle("/api/v1/object", requireAuth(web.Handle(h.update))).Methods(http.MethodPost)
	r.Handle("/api/v1/object/{id}", requireAuth(web.Handle(h.get))).Methods(http.MethodGet)
	r.Handle("/api/v1/object/{id}", requireAuth(web.Handle(h.delete))).Methods(http.MethodDelete)
	r.Handle("/api/v1/group/{id}/objects", requireAuth(web.Handle(h.groupObjects))).Methods(http.MethodGet)
	r.Handle("/api/v1/group/{id}/objects", requireAuth(web.Handle(h.move))).Methods(http.MethodPost)
}

// move puts objects into the group or takes them out of it: one Move, one
// transaction, one UPDATE. The answer says which objects are now where the
// request put them and which were skipped.
func (h *Handler) move(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathInt64(r, "id")
	if err != nil {
		return err
	}
	var body any
	if decodeErr := web.DecodeJSON(r, &body); decodeErr != nil {
		return decodeErr
	}
	m, err := decodeMove(body, id)
	if err != nil {
		return err
	}
	res, err := h.store.Move(r.Context(), h.principal(r), m)
	if err != nil {
		return err
	}
	if res.Moved == nil {
		res.Moved = []int64{}
	}
	if res.Skipped == nil {
		res.Skipped = []int64{}
	}
	return web.JSON(w, struct {
		Moved   []int64 `json:"moved"`
		Skipped []int64 `json:"skipped"`
	}{res.Moved, res.Skipped})
}

func (h *Handler) list(w http.ResponseWriter, r *http.Request) error {
	f, err := parseFilter(r)
	if err != nil {
		return err
	}
	if g := r.URL.Query().Get("group"); g != "" {
		id, err := strconv.ParseInt(g, 10, 64)
		if err != nil || id < 0 {
			return errors.InvalidValue("group", "group id expected, or 0 for objects in no group")
		}
		f.GroupID, f.Ungrouped = id, id == 0
	}
	return h.page(w, r, f)
}

// groupObjects is the objects of one group, paged: the listing with group=.
func (h *Handler) groupObjects(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathInt64(r, "id")
	if err != nil {
		return err
	}
	f, err := parseFilter(r)
	if err != nil {
		return err
	}
	f.GroupID = id
	return h.page(w, r, f)
}

func (h *Handler) page(w http.ResponseWriter, r *http.Request, f Filter) error {
	objects, total, err := h.store.List(r.Context(), h.principal(r), f)
	if err != nil {
		return err
	}
	w.Header().Set("X-Total-Count", strconv.Itoa(total))
	return writeObjects(w, objects)
}

func (h *Handler) get(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathInt64(r, "id")
	if err != nil {
		return err
	}
	o, err := h.store.Get(r.Context(), h.principal(r), id)
	if err != nil {
		return err
	}
	w.Header().Set("X-Total-Count", "1")
	return writeObjects(w, []*Object{o})
}

func (h *Handler) create(w http.ResponseWriter, r *http.Request) error { return h.write(w, r, true) }
func (h *Handler) update(w http.ResponseWriter, r *http.Request) error { return h.write(w, r, false) }

// write serves PUT (create only) and POST (update; an item without _id is a
// create).
func (h *Handler) write(w http.ResponseWriter, r *http.Request, createOnly bool) error {
	items, err := web.DecodeItems(r, h.MaxItems, func(v any, i int) (*Input, error) { return decodeItem(v, i, createOnly) })
	if err != nil {
		return err
	}
	objects, err := h.store.Write(r.Context(), h.principal(r), items)
	if err != nil {
		return err
	}
	return writeObjects(w, objects)
}

func (h *Handler) delete(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathInt64(r, "id")
	if err != nil {
		return err
	}
	if err := h.store.Delete(r.Context(), h.principal(r), id); err != nil {
		return err
	}
	return web.JSON(w, struct{}{})
}

func writeObjects(w http.ResponseWriter, objects []*Object) error {
	items := make([][]byte, len(objects))
	for i, o := range objects {
		items[i] = o.appendJSON(nil)
	}
	return web.JSONArray(w, items)
}

// parseFilter reads limit, offset, kind, name and reference.
func parseFilter(r *http.Request) (Filter, error) {
	q := r.URL.Query()
	f := Filter{Limit: MaxLimit}
	var err error
	if f.Limit, err = web.QueryInt(q, "limit", MaxLimit, 1, MaxLimit); err != nil {
		return f, err
	}
	if f.Offset, err = web.QueryInt(q, "offset", 0, 0, 1<<31-1); err != nil {
		return f, err
	}
	if f.Kind, err = input.Query(q, "kind", MaxKindLength); err != nil {
		return f, err
	}
	if f.Kind != "" && !ValidKind(f.Kind) {
		return f, errors.InvalidValue("kind", `a namespaced kind expected, such as "noko.project"`)
	}
	if f.Name, err = input.Query(q, "name", input.MaxFilterLength); err != nil {
		return f, err
	}
	if q.Has("reference") {
		ref, err := input.Query(q, "reference", MaxReferenceLength)
		if err != nil {
			return f, err
		}
		f.Reference = &ref
	}
	return f, nil
}
