package noko

import (
	"bytes"
	"encoding/json"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/groupd/groupd/input"
	"github.com/groupd/groupd/web"
)

// params are a request's parameters: Noko clients put them in the query
// string (the Python client's creates: POST /project_groups?name=G) or in
// a JSON body, sent with or without a Content-Type and even on GET. The
// query string wins over the body, and of a key repeated in the query
// string the first value counts: the Python client, following a Link,
// appends its own parameters to the link's.
type params struct {
	query url.Values
	body  map[string]any // nil: no body
}

// readParams reads the query string and the body. An empty body is none;
// a body that is not JSON is Noko's 400 "JSON Parsing Error", one that is
// JSON but not an object its 400 "Body should be JSON Hash".
func readParams(r *http.Request) (*params, error) {
	p := &params{query: r.URL.Query()}
	raw, err := web.ReadBody(r)
	if err != nil {
		return nil, err
	}
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return p, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil || dec.More() {
		return nil, badRequest("JSON Parsing Error")
	}
	if _, err := dec.Token(); err == nil { // trailing data after the value
		return nil, badRequest("JSON Parsing Error")
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, badRequest("Body should be JSON Hash")
	}
	p.body = m
	return p, nil
}

// value is parameter name: the first query value, else the body's.
func (p *params) value(name string) (any, bool) {
	if vs, ok := p.query[name]; ok && len(vs) > 0 {
		return vs[0], true
	}
	if vs, ok := p.query[name+"[]"]; ok && len(vs) > 0 { // Rails' array form, name[]=1&name[]=2
		return strings.Join(vs, ","), true
	}
	v, ok := p.body[name]
	if ok && v == nil {
		return nil, false // null is absent
	}
	return v, ok
}

// text is a string parameter; a number in the body is not one.
func (p *params) text(name string) (string, bool, error) {
	v, ok := p.value(name)
	if !ok {
		return "", false, nil
	}
	s, isString := v.(string)
	if !isString {
		return "", false, badRequest("The parameter " + name + " must be a string")
	}
	return s, true, nil
}

// filter is a text parameter that filters a listing: storable text (valid
// UTF-8, no NUL) of at most input.MaxFilterLength characters, checked as
// the core's own listings check theirs.
func (p *params) filter(name string) (string, error) {
	s, has, err := p.text(name)
	if err != nil || !has {
		return "", err
	}
	return input.Query(url.Values{name: {s}}, name, input.MaxFilterLength)
}

// boolean is true or false, as JSON or as text ("true", "1", "false", "0").
func (p *params) boolean(name string) (value, ok bool, err error) {
	v, has := p.value(name)
	if !has {
		return false, false, nil
	}
	switch x := v.(type) {
	case bool:
		return x, true, nil
	case string:
		switch x {
		case "true", "1":
			return true, true, nil
		case "false", "0":
			return false, true, nil
		}
	}
	return false, false, badRequest("The parameter " + name + " must be true or false")
}

// integer is a whole number, as JSON or as text.
func (p *params) integer(name string) (int64, bool, error) {
	v, has := p.value(name)
	if !has {
		return 0, false, nil
	}
	n, ok := asInt64(v)
	if !ok {
		return 0, false, badRequest("The parameter " + name + " must be an integer")
	}
	return n, true, nil
}

func asInt64(v any) (int64, bool) {
	switch x := v.(type) {
	case json.Number:
		n, err := strconv.ParseInt(x.String(), 10, 64)
		return n, err == nil
	case string:
		n, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64)
		return n, err == nil
	}
	return 0, false
}

// MaxIDs is the most ids one list parameter may carry: a move of 10^4
// projects is one request.
const MaxIDs = 20000

// ids is a list of positive ids: a JSON array of integers (or of their
// texts), a comma string ("1,2,3", as the Python client sends them), or
// one integer. The first of names present counts (Noko's documents name
// some lists two ways: project_ids and projects). Repetitions are dropped;
// the order is kept.
func (p *params) ids(names ...string) ([]int64, string, bool, error) {
	for _, name := range names {
		v, has := p.value(name)
		if !has {
			continue
		}
		var items []any
		switch x := v.(type) {
		case []any:
			items = x
		case string:
			if strings.TrimSpace(x) != "" {
				for _, s := range strings.Split(x, ",") {
					items = append(items, s)
				}
			}
		default:
			items = []any{x}
		}
		if len(items) > MaxIDs {
			return nil, name, false, badRequest("The parameter " + name + " may carry at most " + strconv.Itoa(MaxIDs) + " ids")
		}
		out := make([]int64, 0, len(items))
		seen := make(map[int64]bool, len(items))
		for _, it := range items {
			id, ok := asInt64(it)
			if !ok || id <= 0 {
				return nil, name, false, badRequest("The parameter " + name + " must be a list of ids: an array of integers or a comma-separated string")
			}
			if !seen[id] {
				seen[id] = true
				out = append(out, id)
			}
		}
		return out, name, true, nil
	}
	return nil, names[0], false, nil
}

// Pagination, as Noko (and GitHub) do it: page is 1-based, per_page 30 by
// default and at most 1000.
const (
	DefaultPerPage = 30
	MaxPerPage     = 1000
)

// page is a validated page request.
type page struct {
	Number, PerPage int
}

// Offset is the number of items before the page.
func (pg page) Offset() int { return (pg.Number - 1) * pg.PerPage }

// maxPage keeps the offset inside an int32, where the stores count.
const maxPage = math.MaxInt32 / MaxPerPage

func (p *params) page() (page, error) {
	pg := page{Number: 1, PerPage: DefaultPerPage}
	if n, has, err := p.integer("page"); err != nil {
		return pg, err
	} else if has {
		if n < 1 || n > maxPage {
			return pg, badRequest("The parameter page must be an integer from 1 to " + strconv.Itoa(maxPage))
		}
		pg.Number = int(n)
	}
	if n, has, err := p.integer("per_page"); err != nil {
		return pg, err
	} else if has {
		if n < 1 {
			return pg, badRequest("The parameter per_page must be a positive integer")
		}
		pg.PerPage = int(min(n, MaxPerPage)) // more than the most is the most, as Noko answers
	}
	return pg, nil
}

// setLink writes the GitHub-style Link header of a page of total items:
// next and last while there are more pages, first and prev after the
// first. The links are absolute and repeat the request's query string
// (each key once, its first value) with page and per_page set.
func setLink(w http.ResponseWriter, r *http.Request, pg page, total int) {
	last := max(1, (total+pg.PerPage-1)/pg.PerPage)
	q := url.Values{}
	for k, vs := range r.URL.Query() {
		if len(vs) > 0 && k != "noko_token" { // a token never travels in a link
			q.Set(k, vs[0])
		}
	}
	q.Set("per_page", strconv.Itoa(pg.PerPage))
	link := func(n int, rel string) string {
		q.Set("page", strconv.Itoa(n))
		return "<" + baseURL(r) + r.URL.Path + "?" + q.Encode() + `>; rel="` + rel + `"`
	}
	var links []string
	if pg.Number < last {
		links = append(links, link(pg.Number+1, "next"), link(last, "last"))
	}
	if pg.Number > 1 {
		links = append(links, link(1, "first"), link(min(pg.Number-1, last), "prev"))
	}
	if len(links) > 0 {
		w.Header().Set("Link", strings.Join(links, ", "))
	}
}

// baseURL is the scheme and host the client addressed.
func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// Prefix is where the Noko surface lives.
const Prefix = "/noko/v2"

// apiURL is the absolute URL of a Noko path ("/teams/1").
func apiURL(r *http.Request, path string) string {
	return baseURL(r) + Prefix + path
}

// timestamp is t as Noko writes it: ISO 8601 in UTC, to the second.
func timestamp(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05Z")
}

// writeJSON writes v with status.
func writeJSON(w http.ResponseWriter, status int, v any) error {
	return web.JSONStatus(w, status, v)
}

// created answers 201 with v and its Location.
func created(w http.ResponseWriter, location string, v any) error {
	w.Header().Set("Location", location)
	return writeJSON(w, http.StatusCreated, v)
}

// noContent answers 204 with an empty body.
func noContent(w http.ResponseWriter) error {
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// idText is id as text, for errors.
func idText(id int64) string { return strconv.FormatInt(id, 10) }
