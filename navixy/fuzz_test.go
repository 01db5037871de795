package navixy

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"testing"

	"github.com/groupd/groupd/errors"
)

// FuzzParams: Navixy's request forms (query string, JSON or form body, with
// or without a Content-Type) never panic, every parameter read is refused
// only with a typed api error, and every refusal becomes Navixy's code 5 or
// 7 with HTTP 400 (code 7 naming the parameter). Seeds: the calls of
// Navixy's documentation and its SDK's form bodies.
func FuzzParams(f *testing.F) {
	for _, s := range []struct {
		query, body, contentType string
	}{
		{"", "", ""},
		{"hash=a6aa75587e5c59c32d347da438505fc3&title=Employees&color=FF6DDC", "", ""},
		{"", `{"hash":"a6aa75587e5c59c32d347da438505fc3","trackers":[999199,991999],"id":167}`, "application/json"},
		{"", "hash=abc&id=167&trackers=%5B1%2C2%5D", "application/x-www-form-urlencoded"},
		{"", `{"id":1.0,"trackers":[1e3,-1]}`, ""},
		{"id=9223372036854775808", `{"trackers":[1.5]}`, "application/json"},
		{"", `{"id":"1","title":7,"color":null}`, "application/json"},
		{"trackers=1,2", "", ""},
		{"", `[]`, "application/json"},
		{"%zz=%", "%zz&=%", "application/x-www-form-urlencoded"},
		{"", `{"title":"a\u0000b"}`, "text/plain"},
	} {
		f.Add(s.query, []byte(s.body), s.contentType)
	}
	f.Fuzz(func(t *testing.T, query string, body []byte, contentType string) {
		r := &http.Request{Method: http.MethodPost, URL: &url.URL{Path: Prefix + "tracker/group/assign", RawQuery: query},
			Header: http.Header{"Content-Type": {contentType}}, Body: io.NopCloser(bytes.NewReader(body))}
		p, err := readParams(r)
		refusedAs(t, err, CodeWrongFormat)
		if err != nil {
			return
		}
		for _, name := range []string{"hash", "title", "color", "login"} {
			_, _, err = p.String(name)
			refusedAs(t, err, CodeInvalidParams)
		}
		_, err = p.Int64("id", 0)
		refusedAs(t, err, CodeInvalidParams)
		_, err = p.Int64s("trackers", -1<<63, 100)
		refusedAs(t, err, CodeInvalidParams)
		_, _, err = titleAndColor(p)
		refusedAs(t, err, CodeInvalidParams)
	})
}

// refusedAs fails unless err is nil or a typed api error that Navixy
// answers with code and HTTP 400.
func refusedAs(t *testing.T, err error, code int) {
	t.Helper()
	if err == nil {
		return
	}
	e, ok := err.(*errors.Error)
	if !ok || e.Realm != errors.RealmAPI {
		t.Fatalf("untyped or not an api error: %T %v", err, err)
	}
	status, body := translate(e)
	if status != http.StatusBadRequest || body.Status.Code != code {
		t.Fatalf("%v: answered %d with code %d, want 400 with %d", e, status, body.Status.Code, code)
	}
	if code == CodeInvalidParams && (len(body.Errors) != 1 || body.Errors[0].Parameter == "") {
		t.Fatalf("%v: code 7 without the parameter: %+v", e, body.Errors)
	}
}
