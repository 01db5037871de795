package session

import (
	"context"
	"database/sql"

	"github.com/groupd/groupd/errors"
	"github.com/lib/pq"
)

// EndSessions ends the sessions of users userIDs, but keepSessionID (0:
// none), inside another package's write transaction tx: a user whose
// password changed keeps only the session that changed it, a deleted
// user keeps none. Every process drops them from its cache at commit. The
// user store reaches it through its Notifier (the wiring gives it this
// Service), since sessions are this package's table.
func (s *Service) EndSessions(ctx context.Context, tx *sql.Tx, userIDs []int64, keepSessionID int64) error {
	if len(userIDs) == 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ANY($1::bigint[]) AND id <> $2`,
		pq.Array(userIDs), keepSessionID); err != nil {
		return errors.Database(err)
	}
	for _, id := range userIDs {
		if err := s.NotifySessions(ctx, tx, id); err != nil {
			return err
		}
	}
	return nil
}
