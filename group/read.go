package group

import (
	"context"
	"strconv"

	"github.com/groupd/groupd/errors"
	"github.com/groupd/groupd/policy"
	"github.com/groupd/groupd/rights"
)

// RequireReader is the system right every read of groups needs
// (system.group): listing them, or reading one.
func (s *Store) RequireReader(p *policy.Principal) error {
	return policy.RequireSystemRight(s.authz, p, rights.SystemGroup)
}

// Readable returns group id if p may read it (system.group and bag_read),
// the decision of GET /api/v1/group/<id>, for surfaces that read one group.
// An unknown group is errors.GroupNotFound; one p may not read is
// errors.InsufficientRights with operation read.
func (s *Store) Readable(ctx context.Context, p *policy.Principal, id int64) (*Group, error) {
	if err := s.RequireReader(p); err != nil {
		return nil, err
	}
	g, err := s.Get(ctx, p, id)
	switch {
	case err != nil:
		return nil, err
	case g == nil:
		return nil, errors.GroupNotFound(strconv.FormatInt(id, 10))
	}
	return g, policy.RequireRead(s.authz, p, rights.BagRead, "group", id, g.PolicyObject())
}
