package navixy

import (
	"bytes"
	"encoding/json"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/groupd/groupd/errors"
	"github.com/groupd/groupd/input"
	"github.com/groupd/groupd/web"
)

// MaxBody is the largest request body a Navixy call accepts. The largest
// call, an assign of MaxTrackers ids, is about 200 KiB as JSON; user/auth is
// read before anyone is authenticated, so the bound is small rather than
// groupd's general -max-body.
const MaxBody = 1 << 20

// value is one parameter as the request carried it: JSON text from a JSON
// body, or raw text from the query string or a form, where Navixy clients
// put arrays JSON-encoded (trackers=[1,2]) and numbers as digits.
type value struct {
	text string
	json bool
}

// params are a call's parameters: the query string's, then the body's
// where the query string has none of that name (the first of repeated
// query parameters counts). Unknown parameters are ignored, as Navixy does.
type params map[string]value

// readParams reads the query string and the body: a JSON object with
// Content-Type application/json, a form with
// application/x-www-form-urlencoded; without either, a body starting with
// "{" is JSON and anything else a form (Navixy's SDK and curl examples send
// both). A body that is neither is code 5.
func readParams(r *http.Request) (params, error) {
	p := params{}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, errors.InvalidContent("query string: " + err.Error())
	}
	for k, vs := range q {
		p[k] = value{text: vs[0]}
	}
	raw, err := web.ReadBodyMax(r, MaxBody)
	if err != nil {
		return nil, err
	}
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return p, nil
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	asJSON := mt == "application/json" || mt != "application/x-www-form-urlencoded" && raw[0] == '{'
	if asJSON {
		var body map[string]json.RawMessage
		if unmarshalErr := json.Unmarshal(raw, &body); unmarshalErr != nil {
			return nil, errors.InvalidContent("the body must be a JSON object: " + unmarshalErr.Error())
		}
		for k, v := range body {
			if _, fromQuery := p[k]; !fromQuery {
				p[k] = value{text: string(v), json: true}
			}
		}
		return p, nil
	}
	form, err := url.ParseQuery(string(raw))
	if err != nil {
		return nil, errors.InvalidContent("form body: " + err.Error())
	}
	for k, vs := range form {
		if _, fromQuery := p[k]; !fromQuery {
			p[k] = value{text: vs[0]}
		}
	}
	return p, nil
}

// present reports whether name was sent with a value (JSON null is none).
func (p params) present(name string) bool {
	v, ok := p[name]
	return ok && !(v.json && v.text == "null")
}

// String is parameter name as a string; ok is false when it is absent.
// The text must be storable (valid UTF-8 without NUL).
func (p params) String(name string) (s string, ok bool, err error) {
	if !p.present(name) {
		return "", false, nil
	}
	v := p[name]
	s = v.text
	if v.json {
		if v.text == "" || v.text[0] != '"' || json.Unmarshal([]byte(v.text), &s) != nil {
			return "", false, errors.TypeMismatch(name, "string")
		}
	}
	if !input.Storable(s) {
		return "", false, errors.InvalidValue(name, "invalid UTF-8 or NUL characters")
	}
	return s, true, nil
}

// RequiredString is parameter name as a string; absent is code 7.
func (p params) RequiredString(name string) (string, error) {
	s, ok, err := p.String(name)
	if err == nil && !ok {
		err = errors.AttributeExpected(name)
	}
	return s, err
}

// Int64 is parameter name as an integer of at least lo: a JSON number, or
// digits in the query string or a form.
func (p params) Int64(name string, lo int64) (int64, error) {
	if !p.present(name) {
		return 0, errors.AttributeExpected(name)
	}
	v := p[name]
	if v.json {
		return intValue(json.RawMessage(v.text), name, lo)
	}
	n, err := strconv.ParseInt(v.text, 10, 64)
	if err != nil {
		return 0, errors.TypeMismatch(name, "integer")
	}
	return atLeast(n, name, lo)
}

// Int64s is parameter name as an array of at most max integers of at least
// lo: a JSON array in a JSON body, or JSON-encoded in the query string or a
// form (trackers=[1,2]).
func (p params) Int64s(name string, lo int64, max int) ([]int64, error) {
	if !p.present(name) {
		return nil, errors.AttributeExpected(name)
	}
	text := strings.TrimSpace(p[name].text)
	if text == "" || text[0] != '[' {
		return nil, errors.TypeMismatch(name, "array of integers")
	}
	var items []json.RawMessage
	if err := json.Unmarshal([]byte(text), &items); err != nil {
		return nil, errors.TypeMismatch(name, "array of integers")
	}
	if len(items) > max {
		return nil, errors.InvalidValue(name, "at most "+strconv.Itoa(max)+" items").With("limit", strconv.Itoa(max))
	}
	out := make([]int64, len(items))
	for i, it := range items {
		n, err := intValue(it, name+"["+strconv.Itoa(i)+"]", lo)
		if err != nil {
			return nil, err
		}
		out[i] = n
	}
	return out, nil
}

// intValue reads a JSON integer (1.0 and 1e3 are integers too, as JSON has
// one number type) of at least lo.
func intValue(raw json.RawMessage, path string, lo int64) (int64, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return 0, errors.TypeMismatch(path, "integer")
	}
	n, err := input.Int64(v, path)
	if err != nil {
		return 0, err
	}
	return atLeast(n, path, lo)
}

func atLeast(n int64, path string, lo int64) (int64, error) {
	if n < lo {
		return 0, errors.InvalidValue(path, "at least "+strconv.FormatInt(lo, 10)+" expected")
	}
	return n, nil
}
