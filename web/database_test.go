package web_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"net"
	"net/http/httptest"
	"testing"

	"github.com/groupd/groupd/errors"
	"github.com/groupd/groupd/web"
	"github.com/lib/pq"
)

// answer is what web.Error sends for err.
func answer(t *testing.T, err error) (int, errBody) {
	t.Helper()
	rec := httptest.NewRecorder()
	web.Error(rec, httptest.NewRequest("GET", "/", nil), err)
	var e errBody
	if jsonErr := json.Unmarshal(rec.Body.Bytes(), &e); jsonErr != nil {
		t.Fatalf("%v: %s", jsonErr, rec.Body.Bytes())
	}
	return rec.Code, e
}

// TestDatabaseFailures: whatever path a failing database takes to the
// response, the client is told error.server.database, not generic.
func TestDatabaseFailures(t *testing.T) {
	for _, err := range []error{
		&pq.Error{Code: "57P01", Message: "terminating connection due to administrator command"},
		fmt.Errorf("find: %w", &pq.Error{Code: "40P01"}),
		driver.ErrBadConn,
		sql.ErrConnDone,
		fmt.Errorf("commit: %w", sql.ErrTxDone),
		context.DeadlineExceeded,
		&net.OpError{Op: "dial", Net: "unix", Err: fmt.Errorf("connect: no such file or directory")},
		errors.ServerGeneric(fmt.Errorf("load: %w", driver.ErrBadConn)),
	} {
		if status, got := answer(t, err); got.Code != "error.server.database" || status != 500 {
			t.Errorf("%v: got %d %s", err, status, got.Code)
		}
	}
	for _, err := range []error{errors.New("plain"), errors.ServerGeneric(errors.New("panic")), context.Canceled} {
		if _, got := answer(t, err); got.Code != "error.server.generic" {
			t.Errorf("%v: got %s, want error.server.generic", err, got.Code)
		}
	}
	// Typed client errors stay what they are.
	if status, got := answer(t, errors.VersionMismatch(2, 3)); got.Code != "error.user.version_mismatch" || status != 400 {
		t.Errorf("got %d %s", status, got.Code)
	}
}
