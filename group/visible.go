package group

import (
	"context"

	"github.com/groupd/groupd/errors"
	"github.com/groupd/groupd/policy"
	"github.com/groupd/groupd/rights"
)

// GetVisible returns group id when p may read it (bag_read), and nil both
// when there is no such group and when p may not read it: for a surface
// that answers the two alike (Navixy's "not found", 201) before it changes
// the group. Like a change through /api/v1/group it needs no system right;
// the change itself is decided by Write or Delete.
func (s *Store) GetVisible(ctx context.Context, p *policy.Principal, id int64) (*Group, error) {
	g, err := s.Get(ctx, p, id)
	if err != nil || g == nil {
		return nil, err
	}
	ok, err := s.authz.Can(p, rights.BagRead, g.PolicyObject())
	if err != nil {
		return nil, errors.ServerGeneric(err)
	}
	if !ok {
		return nil, nil
	}
	return g, nil
}

// ListVisible is List for a caller that must hold the system right
// system.group to read groups, as GET /api/v1/group requires
// (error.user.no_system_right otherwise).
func (s *Store) ListVisible(ctx context.Context, p *policy.Principal, f Filter) ([]*Group, int, error) {
	if !s.authz.HasSystemRight(p, rights.SystemGroup, "") {
		return nil, 0, errors.NoSystemRight(rights.SystemGroup)
	}
	return s.List(ctx, p, f)
}
