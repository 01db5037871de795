package errors_test

import (
	"encoding/json"
	"testing"

	"github.com/groupd/groupd/errors"
)

func TestStatusByRealm(t *testing.T) {
	for _, c := range []struct {
		err    *errors.Error
		status int
	}{
		{errors.InvalidAPI("/x"), 400},
		{errors.NotAuthenticated(), 400},
		{errors.VersionMismatch(3, 4), 400},
		{errors.Database(errors.New("boom")), 500},
		{errors.ServerGeneric(nil), 500},
	} {
		if got := c.err.Status(); got != c.status {
			t.Errorf("%s: status %d, want %d", c.err.Code, got, c.status)
		}
	}
}

func TestWireFormat(t *testing.T) {
	b, _ := json.Marshal(errors.VersionMismatch(3, 5))
	if string(b) != `{"realm":"user","code":"error.user.version_mismatch","parameters":{"expected":"5","provided":"3"}}` {
		t.Fatalf("got %s", b)
	}
	b, _ = json.Marshal(errors.Database(errors.New("secret")))
	if string(b) != `{"realm":"server","code":"error.server.database","description":"Database error"}` {
		t.Fatalf("cause must not be serialised: %s", b)
	}
}

func TestIsAndWithIndex(t *testing.T) {
	err := errors.Errorf("wrapped: %w", errors.GroupNotFound("7"))
	if !errors.Is(err, errors.GroupNotFound("")) {
		t.Fatal("Is must match by code through wrapping")
	}
	indexed := errors.WithIndex(err, 9999)
	var e *errors.Error
	if !errors.As(indexed, &e) || e.Parameters["index"] != "9999" || e.Parameters["id"] != "7" {
		t.Fatalf("got %v", indexed)
	}
	// the original is not modified
	if errors.From(err).Parameters["index"] != "" {
		t.Fatal("WithIndex changed the original error")
	}
	if errors.CodeOf(errors.New("plain")) != "" || errors.From(errors.New("plain")).Code != "error.server.generic" {
		t.Fatal("a plain error is a generic server error")
	}
}
