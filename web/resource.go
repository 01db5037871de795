package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gorilla/mux"
	"github.com/groupd/groupd/errors"
	"github.com/groupd/groupd/input"
)

// The pieces every easydb resource's handlers (groups, users) share.

// Methods are the handlers of one path by method; nil: not served.
type Methods struct {
	Get, Put, Post, Delete HandlerFunc
}

// Mount serves path's methods on r behind requireAuth.
func Mount(r *mux.Router, requireAuth func(http.Handler) http.Handler, path string, m Methods) {
	for _, route := range []struct {
		method string
		h      HandlerFunc
	}{{http.MethodGet, m.Get}, {http.MethodPut, m.Put}, {http.MethodPost, m.Post}, {http.MethodDelete, m.Delete}} {
		if route.h != nil {
			r.Handle(path, requireAuth(Handle(route.h))).Methods(route.method)
		}
	}
}

// Listing serves one page of a listing: parse reads the filter from the
// request, list finds the page and the number of all matches (sent as
// X-Total-Count), write writes the page.
func Listing[F, T any](parse func(*http.Request) (F, error), list func(*http.Request, F) (T, int, error),
	write func(http.ResponseWriter, T) error) HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		f, err := parse(r)
		if err != nil {
			return err
		}
		page, total, err := list(r, f)
		if err != nil {
			return err
		}
		w.Header().Set("X-Total-Count", strconv.Itoa(total))
		return write(w, page)
	}
}

// DeleteByID serves DELETE <path>/{id}: del deletes for the request, the
// answer is {}.
func DeleteByID(del func(r *http.Request, id int64) error) HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, err := PathInt64(r, "id")
		if err != nil {
			return err
		}
		if err := del(r, id); err != nil {
			return err
		}
		return JSON(w, struct{}{})
	}
}

// Page reads the limit (at most maxLimit, which is also the default) and
// the offset of a listing.
func Page(q url.Values, maxLimit int) (limit, offset int, err error) {
	if limit, err = QueryInt(q, "limit", maxLimit, 0, maxLimit); err != nil {
		return 0, 0, err
	}
	if offset, err = QueryInt(q, "offset", 0, 0, 1<<31-1); err != nil {
		return 0, 0, err
	}
	return limit, offset, nil
}

// QueryInt reads integer parameter name, from lo to hi; def when absent.
func QueryInt(q url.Values, name string, def, lo, hi int) (int, error) {
	s := q.Get(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		return 0, errors.InvalidValue(name, "integer from "+strconv.Itoa(lo)+" to "+strconv.Itoa(hi)+" expected")
	}
	return n, nil
}

// QueryList reads parameter name, a comma list of at most max characters
// whose every entry valid accepts; expected tells the client what is.
func QueryList(q url.Values, name string, max int, valid func(string) bool, expected string) ([]string, error) {
	s, err := input.Query(q, name, max)
	if err != nil || s == "" {
		return nil, err
	}
	var out []string
	for _, v := range strings.Split(s, ",") {
		v = strings.TrimSpace(v)
		if !valid(v) {
			return nil, errors.InvalidValue(name, expected)
		}
		out = append(out, v)
	}
	return out, nil
}
