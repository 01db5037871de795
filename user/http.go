package user

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/gorilla/mux"
	"github.com/groupd/groupd/errors"
	"github.com/groupd/groupd/input"
	"github.com/groupd/groupd/policy"
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
	web.Mount(r, requireAuth, "/api/v1/group/{id}/members", web.Methods{Get: h.listMembers, Post: h.changeMembers})
	web.Mount(r, requireAuth, "/api/v1/user/{id}", web.Methods{Get: h.get, Delete: web.DeleteByID(h.delete)})
	web.Mount(r, requireAuth, "/api/v1/user",
		web.Methods{Get: web.Listing(parseFilter, h.list, writeUsers), Put: h.create, Post: h.update})
}

func writeUsers(w http.ResponseWriter, users []*User) error { return web.JSON(w, users) }

// list lists users for the request's principal, who needs system.user.
func (h *Handler) list(r *http.Request, f Filter) ([]*User, int, error) {
	return h.store.ListReadable(r.Context(), h.principal(r), f)
}

// get: Store.Readable decides.
func (h *Handler) get(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathInt64(r, "id")
	if err != nil {
		return err
	}
	u, err := h.store.Readable(r.Context(), h.principal(r), id)
	if err != nil {
		return err
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

// delete deletes a user for the request's principal (web.DeleteByID).
func (h *Handler) delete(r *http.Request, id int64) error {
	return h.store.Delete(r.Context(), h.principal(r), id)
}

func (h *Handler) listMembers(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathInt64(r, "id")
	if err != nil {
		return err
	}
	limit, offset, err := web.Page(r.URL.Query(), MaxLimit)
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
func parseFilter(r *http.Request) (f Filter, err error) {
	q := r.URL.Query()
	if f.Limit, f.Offset, err = web.Page(q, MaxLimit); err != nil {
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
	if f.Types, err = web.QueryList(q, "type", 16*input.MaxNameLength, validType, "comma list of user types expected"); err != nil {
		return f, err
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
