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
