package noko

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/groupd/groupd/errors"
)

func TestSetLink(t *testing.T) {
	for _, c := range []struct {
		query      string
		page, per  int
		total      int
		want, nope []string
	}{
		{"per_page=2", 1, 2, 5, []string{`page=2&per_page=2>; rel="next"`, `page=3&per_page=2>; rel="last"`}, []string{"first", "prev"}},
		{"per_page=2&page=2", 2, 2, 5, []string{`rel="next"`, `rel="last"`, `page=1&per_page=2>; rel="first"`, `page=1&per_page=2>; rel="prev"`}, nil},
		{"page=3&per_page=2", 3, 2, 5, []string{`rel="first"`, `page=2&per_page=2>; rel="prev"`}, []string{"next", "last"}},
		// the first of repeated keys, and never the token
		{"name=a&name=b&noko_token=secret&page=1&page=9", 1, 30, 31, []string{`?name=a&page=2&per_page=30>; rel="next"`}, []string{"secret", "name=b", "page=9"}},
		// past the end: prev is the last page
		{"page=9", 9, 30, 31, []string{`page=2&per_page=30>; rel="prev"`}, []string{"next"}},
	} {
		r := httptest.NewRequest("GET", "http://example.com:8080/noko/v2/teams?"+c.query, nil)
		w := httptest.NewRecorder()
		setLink(w, r, page{Number: c.page, PerPage: c.per}, c.total)
		link := w.Header().Get("Link")
		if !strings.HasPrefix(link, "<http://example.com:8080/noko/v2/teams?") {
			t.Errorf("%s: Link %q is not absolute", c.query, link)
		}
		for _, s := range c.want {
			if !strings.Contains(link, s) {
				t.Errorf("%s: Link %q lacks %q", c.query, link, s)
			}
		}
		for _, s := range c.nope {
			if strings.Contains(link, s) {
				t.Errorf("%s: Link %q has %q", c.query, link, s)
			}
		}
	}
	w := httptest.NewRecorder()
	setLink(w, httptest.NewRequest("GET", "/noko/v2/teams", nil), page{Number: 1, PerPage: 30}, 30)
	if l := w.Header().Get("Link"); l != "" {
		t.Errorf("one page: Link %q", l)
	}
}

func TestTranslate(t *testing.T) {
	for _, c := range []struct {
		err          error
		status       int
		field, code  string
		notInMessage string
	}{
		{errors.NotAuthenticated(), 401, "", "", ""},
		{errors.SessionNotFound("tok-4711"), 401, "", "", "4711"},
		{errors.InsufficientRights("read", "group", "5", "bag_read"), 404, "", "", ""},
		{errors.InsufficientRights("update", "group", "5", "link"), 403, "base", CodeInsufficientPermissions, ""},
		{errors.NoSystemRightParam("system.group", "create"), 403, "base", CodeInsufficientPermissions, ""},
		{errors.GroupNotFound("5"), 404, "", "", ""},
		{errors.ObjectsNotFound([]int64{5}), 404, "", "", ""},
		{errors.IntegrityConstraintViolation("group.name"), 422, "name", CodeAlreadyExists, ""},
		{errors.AttributeExpected("group.name"), 422, "name", CodeMissingField, ""},
		{errors.InvalidValue("group.name", "too long"), 400, "", "", ""},
		{errors.VersionMismatch(2, 3), 422, "base", CodeInvalid, ""},
		{errors.Database(errors.New("connection refused")), 500, "", "", "refused"},
		{validation("Team", "user_ids", CodeMissingField), 422, "user_ids", CodeMissingField, ""},
	} {
		e := translate(c.err, "Team")
		if e.Status != c.status || e.Message == "" {
			t.Errorf("%v: %d %q, want %d", c.err, e.Status, e.Message, c.status)
		}
		if c.code != "" && (len(e.Errors) != 1 || e.Errors[0].Field != c.field || e.Errors[0].Code != c.code ||
			e.Errors[0].Resource != "Team") {
			t.Errorf("%v: errors %+v, want %s %s", c.err, e.Errors, c.field, c.code)
		}
		if c.notInMessage != "" && strings.Contains(e.Message, c.notInMessage) {
			t.Errorf("%v: message %q tells %q", c.err, e.Message, c.notInMessage)
		}
	}
}

func TestReadParams(t *testing.T) {
	read := func(query, body string) (*params, error) {
		r := httptest.NewRequest(http.MethodGet, "/noko/v2/teams?"+query, strings.NewReader(body))
		return readParams(r)
	}
	p, err := read("user_ids=3,1,3&name=q&name=other", ` {"user_ids": [9], "name": "b", "page": 2} `)
	if err != nil {
		t.Fatal(err)
	}
	ids, name, has, err := p.ids("user_ids")
	if err != nil || !has || name != "user_ids" || len(ids) != 2 || ids[0] != 3 || ids[1] != 1 {
		t.Errorf("ids from the query: %v %v %v", ids, has, err)
	}
	if s, _, _ := p.text("name"); s != "q" {
		t.Errorf("the query's first name wins: %q", s)
	}
	if pg, err := p.page(); err != nil || pg.Number != 2 || pg.PerPage != DefaultPerPage || pg.Offset() != 30 {
		t.Errorf("page from the body: %+v %v", pg, err)
	}
	p, _ = read("ids[]=4&ids[]=5", "")
	if ids, _, _, err := p.ids("ids"); err != nil || len(ids) != 2 || ids[1] != 5 {
		t.Errorf("Rails' ids[]: %v %v", ids, err)
	}
	p, _ = read("", `{"projects": "7, 8", "project_ids": null, "per_page": 5000}`)
	if ids, name, _, err := p.ids("project_ids", "projects"); err != nil || name != "projects" || len(ids) != 2 {
		t.Errorf("the second name, as a comma string: %v %s %v", ids, name, err)
	}
	if pg, _ := p.page(); pg.PerPage != MaxPerPage {
		t.Errorf("per_page over the most: %d", pg.PerPage)
	}
	for _, c := range []struct{ query, body, msg string }{
		{"", `{"a":`, "JSON Parsing Error"},
		{"", `{} {}`, "JSON Parsing Error"},
		{"", `[1]`, "Body should be JSON Hash"},
		{"", `"x"`, "Body should be JSON Hash"},
	} {
		if _, err := read(c.query, c.body); err == nil || err.Error() != c.msg {
			t.Errorf("%s: %v, want %s", c.body, err, c.msg)
		}
	}
	for _, q := range []string{"user_ids=1,x", "user_ids=0", "user_ids=-2", "user_ids=1.5"} {
		p, _ := read(q, "")
		if _, _, _, err := p.ids("user_ids"); err == nil {
			t.Errorf("%s: accepted", q)
		}
	}
	for _, q := range []string{"page=0", "page=x", "per_page=0", "page=2147484"} {
		p, _ := read(q, "")
		if _, err := p.page(); err == nil {
			t.Errorf("%s: accepted", q)
		}
	}
}
