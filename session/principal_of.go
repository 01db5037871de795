package session

import (
	"context"

	"github.com/groupd/groupd/policy"
)

// PrincipalOf is the principal a session of user userID would act as (its
// static and computed groups, its combined system rights), from the cache of
// principals or with one query; nil, nil for an unknown user. It is the
// principal as it stands even while the user's login is disabled, for
// questions about the user such as an explanation of its rights. Never
// modify it: it is shared.
func (s *Service) PrincipalOf(ctx context.Context, userID int64) (*policy.Principal, error) {
	id, err := s.identity(ctx, userID)
	if err != nil || id == nil {
		return nil, err
	}
	return id.principal, nil
}
