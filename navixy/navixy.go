// Package navixy is the Navixy surface: the tracker-group calls of Navixy's
// user API under /navixy/v2/ (user/auth, user/logout, tracker/group/*,
// tracker/list), translated into calls of groupd's core. A tracker group is
// a groupd group (title = name, color = the group's color), a tracker is a
// groupd object of kind navixy.tracker, and the hash is a groupd session.
//
// The package owns no table and decides no right: it reads Navixy's request
// forms, calls group.Store, object.Store and the session service with the
// caller's principal, and writes Navixy's answers, including its error
// codes (errors.go). docs/navixy.md lists the endpoints, the mapping and
// every deliberate difference from Navixy.
package navixy

import (
	"context"
	"net/http"
	"strings"

	"github.com/gorilla/mux"
	"github.com/groupd/groupd/errors"
	"github.com/groupd/groupd/group"
	"github.com/groupd/groupd/object"
	"github.com/groupd/groupd/policy"
	"github.com/groupd/groupd/session"
	"github.com/groupd/groupd/web"
)

// Prefix is where the surface is mounted: Navixy's {base}/v2 of the user API.
const Prefix = "/navixy/v2/"

// AuthScheme is the Authorization scheme that carries the hash:
// "Authorization: NVX <hash>".
const AuthScheme = "NVX"

// Handler serves the Navixy surface.
type Handler struct {
	sessions *session.Service
	groups   *group.Store
	objects  *object.Store
	// MaxTrackers is the most trackers one assign may name (0:
	// web.DefaultMaxBulkItems; at most object.MaxMove).
	MaxTrackers int
}

// New returns the surface on the session service and the group and object
// stores.
func New(sessions *session.Service, groups *group.Store, objects *object.Store) *Handler {
	return &Handler{sessions: sessions, groups: groups, objects: objects}
}

// call is one request as an action sees it.
type call struct {
	r         *http.Request
	params    params
	principal *policy.Principal // nil for user/auth
	hash      string
}

// action is one Navixy call: its path below Prefix, whether it needs a
// hash, whether it writes (an API token that may only read is refused),
// and what it does; run returns the answer, which carries success: true.
type action struct {
	path   string
	public bool
	writes bool
	run    func(ctx context.Context, c *call) (any, error)
}

// okay starts every successful answer.
type okay struct {
	Success bool `json:"success"`
}

var succeeded = okay{Success: true}

// listAnswer is the answer of a list call.
type listAnswer[T any] struct {
	okay
	List []T `json:"list"`
}

// listAll reads a listing to its end, page by page (page returns the page
// at offset and the number of all matches), and converts every item with
// out: Navixy's lists are not paged.
func listAll[T, O any](page func(offset int) ([]T, int, error), out func(T) O) (listAnswer[O], error) {
	all := []O{}
	for offset := 0; ; {
		items, total, err := page(offset)
		if err != nil {
			return listAnswer[O]{}, err
		}
		for _, it := range items {
			all = append(all, out(it))
		}
		offset += len(items)
		if len(items) == 0 || offset >= total {
			return listAnswer[O]{okay: succeeded, List: all}, nil
		}
	}
}

func (h *Handler) actions() []action {
	return []action{
		{path: "user/auth", public: true, run: h.auth},
		{path: "user/logout", run: h.logout},
		{path: "tracker/group/list", run: h.listGroups},
		{path: "tracker/group/create", writes: true, run: h.createGroup},
		{path: "tracker/group/update", writes: true, run: h.updateGroup},
		{path: "tracker/group/delete", writes: true, run: h.deleteGroup},
		{path: "tracker/group/assign", writes: true, run: h.assign},
		{path: "tracker/list", run: h.listTrackers},
	}
}

// Register mounts every action on r, with and without a trailing slash,
// for GET and POST.
func (h *Handler) Register(r *mux.Router) {
	if h.MaxTrackers <= 0 {
		h.MaxTrackers = web.DefaultMaxBulkItems
	}
	h.MaxTrackers = min(h.MaxTrackers, object.MaxMove) // one assign is one Move
	for _, a := range h.actions() {
		handler := h.serve(a)
		for _, path := range []string{Prefix + a.path, Prefix + a.path + "/"} {
			r.Handle(path, handler).Methods(http.MethodGet, http.MethodPost)
		}
	}
}

func (h *Handler) serve(a action) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		answer, err := h.do(r, a)
		if err != nil {
			writeError(w, r, err)
			return
		}
		_ = web.JSON(w, answer) // a failed write means the client went away
	})
}

func (h *Handler) do(r *http.Request, a action) (any, error) {
	p, err := readParams(r)
	if err != nil {
		return nil, err
	}
	c := &call{r: r, params: p}
	ctx := h.sessions.WithClientAddress(r.Context(), r)
	if !a.public {
		if c.hash, err = hashOf(r, p); err != nil {
			return nil, err
		}
		sess, err := h.sessions.Find(ctx, c.hash)
		if err != nil {
			return nil, err
		}
		if !sess.Authenticated() { // logged out, or its user may no longer log in
			return nil, errors.SessionNotFound(c.hash)
		}
		web.SetUserID(ctx, sess.UserID)
		if sess.ReadOnly && a.writes {
			return nil, session.ReadOnlyRefusal(r.Method, sess.APITokenID)
		}
		c.principal = sess.Principal
		ctx = session.NewContext(ctx, sess)
	}
	return a.run(ctx, c)
}

// hashOf is the request's hash: from "Authorization: NVX <hash>", else the
// parameter hash (query string or body). None is code 3.
func hashOf(r *http.Request, p params) (string, error) {
	if scheme, hash, ok := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " "); ok &&
		strings.EqualFold(scheme, AuthScheme) {
		if hash = strings.TrimSpace(hash); hash != "" {
			return hash, nil
		}
	}
	hash, ok, err := p.String("hash")
	if err != nil {
		return "", err
	}
	if !ok || hash == "" {
		return "", errors.NotAuthenticated()
	}
	return hash, nil
}
