package audit

import (
	"net/http"
	"strconv"

	"github.com/gorilla/mux"
	"github.com/groupd/groupd/errors"
	"github.com/groupd/groupd/policy"
	"github.com/groupd/groupd/rights"
	"github.com/groupd/groupd/web"
)

// Handler serves GET /api/v1/events: the audit trail, for administrators
// and sync jobs. Reading it needs system.root (for now: the trail shows
// every group's before and after, whatever the reader could see).
type Handler struct {
	store     *Store
	hasRight  func(p *policy.Principal, name, param string) bool
	principal func(*http.Request) *policy.Principal
}

// NewHandler returns the events API.
func NewHandler(store *Store, hasRight func(p *policy.Principal, name, param string) bool,
	principal func(*http.Request) *policy.Principal) *Handler {
	return &Handler{store: store, hasRight: hasRight, principal: principal}
}

// Register mounts the route on r behind requireAuth.
func (h *Handler) Register(r *mux.Router, requireAuth func(http.Handler) http.Handler) {
	r.Handle("/api/v1/events", requireAuth(web.Handle(h.list))).Methods(http.MethodGet)
}

// MaxLimit is the largest page of events.
const MaxLimit = 1000

func (h *Handler) list(w http.ResponseWriter, r *http.Request) error {
	if !h.hasRight(h.principal(r), rights.SystemRoot, "") {
		return errors.NoSystemRight(rights.SystemRoot)
	}
	q := r.URL.Query()
	f := Filter{Limit: MaxLimit, ObjectType: q.Get("type")}
	switch f.ObjectType {
	case "", "group", "user", "membership", "api_token", "object":
	default:
		return errors.InvalidValue("type", `"group", "user", "membership", "api_token" or "object" expected`)
	}
	var err error
	if s := q.Get("since"); s != "" {
		if f.Since, err = strconv.ParseInt(s, 10, 64); err != nil || f.Since < 0 {
			return errors.InvalidValue("since", "event id expected")
		}
	}
	if s := q.Get("object_id"); s != "" {
		if f.ObjectID, err = strconv.ParseInt(s, 10, 64); err != nil || f.ObjectID <= 0 {
			return errors.InvalidValue("object_id", "positive integer expected")
		}
	}
	if s := q.Get("limit"); s != "" {
		if f.Limit, err = strconv.Atoi(s); err != nil || f.Limit < 1 || f.Limit > MaxLimit {
			return errors.InvalidValue("limit", "integer from 1 to 1000 expected")
		}
	}
	newest := false
	switch q.Get("order") {
	case "", "feed":
	case "newest":
		newest = true
	default:
		return errors.InvalidValue("order", `"feed" or "newest" expected`)
	}
	if s := q.Get("before"); s != "" {
		if f.Before, err = strconv.ParseInt(s, 10, 64); err != nil || f.Before <= 0 || !newest {
			return errors.InvalidValue("before", "event id expected, with order=newest")
		}
	}
	list := h.store.List
	if newest {
		list = h.store.ListNewest
	}
	events, err := list(r.Context(), f)
	if err != nil {
		return err
	}
	return web.JSON(w, events)
}
