package user

import (
	"context"
	"strconv"

	"github.com/groupd/groupd/errors"
	"github.com/groupd/groupd/policy"
	"github.com/groupd/groupd/rights"
)

// RequireReader is the system right listing users, or reading another user
// than oneself, needs (system.user).
func (s *Store) RequireReader(p *policy.Principal) error {
	return policy.RequireSystemRight(s.authz, p, rights.SystemUser)
}

// Readable returns user id if p may read it, the decision of GET
// /api/v1/user/<id>, for surfaces that read one user: a user always reads
// itself; any other user needs system.user and read on that user. An
// unknown user is errors.UserNotFound; one p may not read is
// errors.InsufficientRights with operation read.
func (s *Store) Readable(ctx context.Context, p *policy.Principal, id int64) (*User, error) {
	self := id == p.UserID
	if !self {
		if err := s.RequireReader(p); err != nil {
			return nil, err
		}
	}
	u, err := s.Get(ctx, p, id)
	if err != nil {
		return nil, err
	}
	if u == nil {
		return nil, errors.UserNotFound(strconv.FormatInt(id, 10))
	}
	if self {
		return u, nil
	}
	return u, policy.RequireRead(s.authz, p, rights.Read, "user", id, u.PolicyObject())
}
