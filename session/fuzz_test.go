package session

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"testing"

	"github.com/groupd/groupd/errors"
)

// FuzzReadParams: the parameters of the session calls (query string, form
// or JSON body, the token header) never panic and are refused only with a
// typed 400. Seeds: the easydb session flow (authenticate with login and
// password, as query, form and JSON).
func FuzzReadParams(f *testing.F) {
	for _, s := range []struct {
		query, body string
		form        bool
	}{
		{"", "", false},
		{"language=de-DE", "", false},
		{"token=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA&login=root&password=secret&method=easydb", "", false},
		{"", "token=abc&login=root&password=s%C3%A9cret", true},
		{"", `{"token":"abc","login":"root","password":"secret","method":"easydb","language":"en-US"}`, false},
		{"login=a", `{"login":"b","password":null}`, false},
		{"", `{"login":1}`, false},
		{"", `{"password":{"$ne":""}}`, false},
		{"", `[]`, false},
		{"", `null`, false},
		{"%zz=%", "%zz&=%", true},
		{";;&&==", `{"login":"x","login":"y"}`, false},
	} {
		f.Add(s.query, []byte(s.body), s.form, "")
	}
	f.Fuzz(func(t *testing.T, query string, body []byte, form bool, header string) {
		r := &http.Request{Method: http.MethodPost, URL: &url.URL{Path: "/api/v1/session/authenticate", RawQuery: query},
			Header: http.Header{}, Body: io.NopCloser(bytes.NewReader(body))}
		if form {
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		} else {
			r.Header.Set("Content-Type", "application/json")
		}
		r.Header.Set(TokenHeader, header)
		p, err := readParams(r)
		typed400(t, err)
		if err == nil {
			_ = tokenOf(r, p)
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		_, err = requestToken(r)
		typed400(t, err)
		if len(query) <= 100 { // hashToken and the language check see any token and language
			hashToken(query)
			validLanguage(query)
		}
	})
}

func typed400(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	e, ok := err.(*errors.Error)
	if !ok {
		t.Fatalf("untyped error %T %v", err, err)
	}
	if (e.Realm != errors.RealmAPI && e.Realm != errors.RealmUser) || e.Status() != 400 {
		t.Fatalf("error %s (realm %s), want a 400", e.Code, e.Realm)
	}
}
