package errors_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"net"
	"testing"

	"github.com/groupd/groupd/errors"
	"github.com/lib/pq"
)

// TestDatabaseFailures: whatever path a failing database takes to the
// response, the client is told error.server.database, not generic.
func TestDatabaseFailures(t *testing.T) {
	for _, err := range []error{
		&pq.Error{Code: "57P01", Message: "terminating connection due to administrator command"},
		fmt.Errorf("find: %w", &pq.Error{Code: "40P01"}),
		driver.ErrBadConn,
		sql.ErrConnDone,
		context.DeadlineExceeded,
		&net.OpError{Op: "dial", Net: "unix", Err: fmt.Errorf("connect: no such file or directory")},
		errors.ServerGeneric(fmt.Errorf("load: %w", driver.ErrBadConn)),
	} {
		if got := errors.From(err); got.Code != "error.server.database" || got.Status() != 500 {
			t.Errorf("%v: got %s", err, got.Code)
		}
	}
	for _, err := range []error{errors.New("plain"), errors.ServerGeneric(errors.New("panic")), context.Canceled} {
		if got := errors.From(err); got.Code != "error.server.generic" {
			t.Errorf("%v: got %s, want error.server.generic", err, got.Code)
		}
	}
	// Typed client errors stay what they are.
	if got := errors.From(errors.VersionMismatch(2, 3)); got.Code != "error.user.version_mismatch" {
		t.Errorf("got %s", got.Code)
	}
}
