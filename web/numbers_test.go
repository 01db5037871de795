package web

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/groupd/groupd/errors"
)

// TestDecodeJSONNumbers: numbers no float64 holds are the client's error,
// named by their path; large and precise numbers within range pass.
func TestDecodeJSONNumbers(t *testing.T) {
	for body, want := range map[string]string{
		`[{"group":{"frontend_prefs":{"huge":1e999999}}}]`: "body[0].group.frontend_prefs.huge",
		`{"add":[1,2,1e400]}`:                              "body.add[2]",
		`{"a":{"b":[[0.1e-400]]}}`:                         "body.a.b[0][0]",
		`-1E+400`:                                          "body",
		`{"ok":[123456789012345678901234567890,1e300,-1e-300,0,0e-500,0.0]}`: "",
	} {
		r := httptest.NewRequest("PUT", "/", strings.NewReader(body))
		var v any
		err := DecodeJSON(r, &v)
		if want == "" {
			if err != nil {
				t.Errorf("%s: %v", body, err)
			}
			continue
		}
		var e *errors.Error
		if !errors.As(err, &e) || e.Code != "error.api.invalid_value" || e.Parameters["attribute"] != want {
			t.Errorf("%s: got %v, want invalid_value at %s", body, err, want)
		}
	}
}

// TestDecodeJSONArray: the elements of an array body come one at a time,
// in order, as DecodeJSON would decode them (numbers out of range named by
// their path, the index included); a body that is no array comes back
// whole; broken JSON and an empty body are invalid_content; an error from
// an element stops the decoding.
func TestDecodeJSONArray(t *testing.T) {
	decode := func(body string, each func(int, any) error) (any, bool, error) {
		return DecodeJSONArray(httptest.NewRequest("PUT", "/", strings.NewReader(body)), each)
	}
	var got []any
	whole, array, err := decode(" [1, {\"a\":[2]}, null, \"x\"] ", func(i int, v any) error {
		if i != len(got) {
			t.Errorf("index %d after %d elements", i, len(got))
		}
		got = append(got, v)
		return nil
	})
	if err != nil || !array || whole != nil || len(got) != 4 || got[2] != nil || got[3] != "x" {
		t.Fatalf("array: %v %v %v %#v", whole, array, err, got)
	}
	for body, want := range map[string]any{`{"a":1}`: map[string]any{}, `null`: nil, `"s"`: "s"} {
		whole, array, decodeErr := decode(body, func(int, any) error { t.Fatalf("%s: element", body); return nil })
		if decodeErr != nil || array {
			t.Fatalf("%s: %v %v", body, array, decodeErr)
		}
		if _, isMap := want.(map[string]any); isMap != (func() bool { _, ok := whole.(map[string]any); return ok })() ||
			(!isMap && whole != want) {
			t.Fatalf("%s: whole %#v", body, whole)
		}
	}
	_, _, err = decode(`[{"ok":1},{"group":{"n":1e999}}]`, func(int, any) error { return nil })
	var e *errors.Error
	if !errors.As(err, &e) || e.Parameters["attribute"] != "body[1].group.n" {
		t.Fatalf("out of range: %v", err)
	}
	for _, body := range []string{``, `  `, `[1,`, `[1 2]`, `{"a":}`} {
		_, _, err := decode(body, func(int, any) error { return nil })
		if !errors.As(err, &e) || e.Code != "error.api.invalid_content" {
			t.Fatalf("%q: %v", body, err)
		}
	}
	calls := 0
	stop := errors.InvalidValue("x", "stop")
	if _, _, err := decode(`[1,2,3]`, func(i int, _ any) error { calls++; return stop }); err != stop || calls != 1 {
		t.Fatalf("stop: %v after %d", err, calls)
	}
}
