package policy

import (
	"strconv"

	"github.com/groupd/groupd/errors"
)

// Reader is the part of the engine a read decision asks (*Engine).
type Reader interface {
	Can(p *Principal, right string, obj *Object) (bool, error)
	HasSystemRight(p *Principal, name, param string) bool
}

// RequireSystemRight is nil when p holds system right name, else the
// error the API answers (error.user.no_system_right).
func RequireSystemRight(a Reader, p *Principal, name string) error {
	if !a.HasSystemRight(p, name, "") {
		return errors.NoSystemRight(name)
	}
	return nil
}

// RequireRead is nil when p holds right on obj, the typ with id, else the
// error the API answers for a read refused (error.user.insufficient_rights,
// operation read), which surfaces that hide what a caller cannot see turn
// into a 404.
func RequireRead(a Reader, p *Principal, right, typ string, id int64, obj *Object) error {
	if ok, err := a.Can(p, right, obj); err != nil {
		return errors.ServerGeneric(err)
	} else if !ok {
		return errors.InsufficientRights("read", typ, strconv.FormatInt(id, 10), right)
	}
	return nil
}
