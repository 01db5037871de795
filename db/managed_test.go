package db

import (
	"os/user"
	"strings"
	"testing"

	"github.com/groupd/groupd/errors"
)

// TestNoNobodyFallback: run as root without a postgres user, the managed
// PostgreSQL does not run as nobody (whose every process could then reach
// the cluster); the error says what to do instead.
func TestNoNobodyFallback(t *testing.T) {
	withoutPostgres := func(name string) (*user.User, error) {
		if name == "nobody" {
			return &user.User{Uid: "65534", Gid: "65534", Username: "nobody"}, nil
		}
		return nil, user.UnknownUserError(name)
	}
	cred, err := unprivilegedCredential(withoutPostgres)
	if err == nil {
		t.Fatalf("ran as uid %d without a postgres user", cred.Uid)
	}
	if !strings.Contains(err.Error(), `"postgres"`) || !strings.Contains(err.Error(), "GROUPD_DATABASE_URL") {
		t.Fatalf("error does not say what to do: %v", err)
	}
	// With the user, its ids.
	withPostgres := func(name string) (*user.User, error) {
		if name == ServerUser {
			return &user.User{Uid: "101", Gid: "104", Username: ServerUser}, nil
		}
		return nil, errors.New("unexpected lookup of " + name)
	}
	cred, err = unprivilegedCredential(withPostgres)
	if err != nil || cred.Uid != 101 || cred.Gid != 104 {
		t.Fatalf("credential %+v, %v", cred, err)
	}
}
