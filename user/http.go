package user

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/gorilla/mux"
	"github.com/groupd/groupd/errors"
	"github.com/groupd/groupd/input"
	"github.com/groupd/groupd/policy"
	"github.com/groupd/groupd/rights"
	"github.com/groupd/groupd/web"
)

// Handler serves /api/v1/user and /api/v1/group/<id>/members.
type Handler struct {
	store     *Store
	authz     Authorizer
	principal func(*http.Request) *policy.Principal
	sessionID func(*http.Request) int64
	// MaxItems is the most users one write may carry (0:
	// web.DefaultMaxBulkItems), MaxPasswords the most of them with a
	// password (0: DefaultMaxPasswords).
	MaxItems, MaxPasswords int
}

// DefaultMaxPasswords is the default of the most passwords one user write
// may set (-max-bulk-passwords). Each costs an argon2id hash of 64 MiB and
// tens of milliseconds of a core, computed before the write's transaction
// and even when the write is refused: 1,000 take seconds on two cores, as
// many as groupctl sends in one batch.
const DefaultMaxPasswords = 1000

// NewHandler returns the user and members API on store. principal returns
// the authenticated principal of a request that passed the session
// middleware, sessionID the id of its session.
func NewHandler(store *Store, authz Authorizer, principal func(*http.Request) *policy.Principal,
	sessionID func(*http.Request) int64) *Handler {
	return &Handler{store: store, authz: authz, principal: principal, sessionID: sessionID}
}

// Register mounts the routes on r behind requireAuth.
func (h *Handler) Register(r *mux.Router, requireAuth func(http.Handler) http.Handler) {
	r.Handle("/api/v1/user", requireAuth(web.Handle(h.list))).Methods(http.MethodGet)
	r.Handle("/api/v1/user", requireAuth(web.Handle(h.create))).Methods(http.MethodPut)
	r.Handle("/api/v1/user", requireAuth(web.Handle(h.update))).Methods(http.MethodPost)
	r.Handle("/api/v1/user/{id}", requireAuth(web.Handle(h.get))).Methods(http.MethodGet)
	r.Handle("/api/v1/user/{id}", requireAuth(web.Handle(h.delete))).Methods(http.MethodDelete)
	r.Handle("/api/v1/group/{id}/members", requireAuth(web.Handle(h.listMembers))).Methods(http.MethodGet)
	r.Handle("/api/v1/group/{id}/members", requireAuth(web.Handle(h.changeMembers))).Methods(http.MethodPost)
}

// requireSystemUser: listing and reading users needs the system right
// system.user.
func (h *Handler) requireSystemUser(p *policy.Principal) error {
	if !h.authz.HasSystemRight(p, rights.SystemUser, "") {
		return errors.NoSystemRight(rights.SystemUser)
	}
	return nil
}

func (h *Handler) list(w http.ResponseWriter, r *http.Request) error {
	p := h.principal(r)
	if err := h.requireSystemUser(p); err != nil {
		return err
	}
	f, err := parseFilter(r)
	if err != nil {
		return err
	}
	users, total, err := h.store.List(r.Context(), p, f)
	if err != nil {
		return err
	}
	w.Header().Set("X-Total-Count", strconv.Itoa(total))
	return web.JSON(w, users)
}

// get: a user always reads itself; any other user needs system.user and
// read on that user.
func (h *Handler) get(w http.ResponseWriter, r *http.Request) error {
	p := h.principal(r)
	id, err := web.PathInt64(r, "id")
	if err != nil {
		return err
	}
	self := id == p.UserID
	if !self {
		if requireSystemUserErr := h.requireSystemUser(p); requireSystemUserErr != nil {
			return requireSystemUserErr
		}
	}
	u, err := h.store.Get(r.Context(), p, id)
	if err != nil {
		return err
	}
	if u == nil {
		return errors.UserNotFound(strconv.FormatInt(id, 10))
	}
	if !self {
		if ok, err := h.authz.Can(p, rights.Read, u.PolicyObject()); err != nil {
			return errors.ServerGeneric(err)
		} else if !ok {
			return errors.InsufficientRights("read", "user", strconv.FormatInt(id, 10), rights.Read)
		}
	}
	w.Header().Set("X-Total-Count", "1")
	return web.JSON(w, []*User{u})
}

func (h *Handler) create(w http.ResponseWriter, r *http.Request) error { return h.write(w, r, true) }
func (h *Handler) update(w http.ResponseWriter, r *http.Request) error { return h.write(w, r, false) }

// write serves PUT (create only) and POST (update; an item without _id is a
// create, as the official easydb migration tool sends them).
func (h *Handler) write(w http.ResponseWriter, r *http.Request, createOnly bool) error {
	maxPasswords := h.MaxPasswords
	if maxPasswords <= 0 {
		maxPasswords = DefaultMaxPasswords
	}
	passwords := 0
	items, err := web.DecodeItems(r, h.MaxItems, func(v any, i int) (*Input, error) {
		in, err := decodeItem(v, i, createOnly)
		if err == nil && in.PasswordSet {
			if passwords++; passwords > maxPasswords {
				return nil, errors.TooManyItems("passwords", maxPasswords)
			}
		}
		return in, err
	})
	if err != nil {
		return err
	}
	users, err := h.store.Write(r.Context(), h.principal(r), h.sessionID(r), items)
	if err != nil {
		return err
	}
	return web.JSON(w, users)
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

func (h *Handler) listMembers(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathInt64(r, "id")
	if err != nil {
		return err
	}
	q := r.URL.Query()
	limit, err := queryInt(q.Get("limit"), "limit", MaxLimit, 0, MaxLimit)
	if err != nil {
		return err
	}
	offset, err := queryInt(q.Get("offset"), "offset", 0, 0, 1<<31-1)
	if err != nil {
		return err
	}
	members, total, err := h.store.ListMembers(r.Context(), h.principal(r), id, limit, offset)
	if err != nil {
		return err
	}
	w.Header().Set("X-Total-Count", strconv.Itoa(total))
	return web.JSON(w, members)
}

func (h *Handler) changeMembers(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathInt64(r, "id")
	if err != nil {
		return err
	}
	var body any
	if decodeJSONErr := web.DecodeJSON(r, &body); decodeJSONErr != nil {
		return decodeJSONErr
	}
	mc, err := DecodeMembers(body)
	if err != nil {
		return err
	}
	results, err := h.store.ChangeMembers(r.Context(), h.principal(r), id, mc)
	if err != nil {
		return err
	}
	return web.JSON(w, results)
}

// parseFilter reads limit, offset, groupids, type, login, name and email.
func parseFilter(r *http.Request) (Filter, error) {
	q := r.URL.Query()
	f := Filter{Limit: MaxLimit}
	var err error
	if f.Limit, err = queryInt(q.Get("limit"), "limit", MaxLimit, 0, MaxLimit); err != nil {
		return f, err
	}
	if f.Offset, err = queryInt(q.Get("offset"), "offset", 0, 0, 1<<31-1); err != nil {
		return f, err
	}
	if g := q.Get("groupids"); g != "" {
		f.GroupIDs = []int64{}
		for _, s := range strings.Split(g, ",") {
			id, parseIntErr := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
			if parseIntErr != nil || id <= 0 {
				return f, errors.InvalidValue("groupids", "comma list of group ids expected")
			}
			f.GroupIDs = append(f.GroupIDs, id)
		}
	}
	t, err := input.Query(q, "type", maxTypeList)
	if err != nil {
		return f, err
	}
	if t != "" {
		for _, typ := range strings.Split(t, ",") {
			typ = strings.TrimSpace(typ)
			if !validType(typ) {
				return f, errors.InvalidValue("type", "comma list of user types expected")
			}
			f.Types = append(f.Types, typ)
		}
	}
	if f.Login, err = input.Query(q, "login", input.MaxFilterLength); err != nil {
		return f, err
	}
	if f.Name, err = input.Query(q, "name", input.MaxFilterLength); err != nil {
		return f, err
	}
	if f.Email, err = input.Query(q, "email", input.MaxFilterLength); err != nil {
		return f, err
	}
	return f, nil
}

// maxTypeList bounds the type= list: every type name once, with room.
const maxTypeList = 16 * MaxNameLength

func queryInt(s, name string, def, lo, hi int) (int, error) {
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		return 0, errors.InvalidValue(name, "integer from "+strconv.Itoa(lo)+" to "+strconv.Itoa(hi)+" expected")
	}
	return n, nil
}
