package audit

import (
	"context"

	"github.com/groupd/groupd/errors"
)

// RecordAlone records one event in a transaction of its own. It is for
// what changed nothing yet must be on the trail: a compatibility surface
// that answers a refused call as its original does, with success (Kanboard's
// updateGroup of an unknown group answers true), records the refusal here
// so that the real cause is not lost.
func (s *Store) RecordAlone(ctx context.Context, e Event) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return errors.Database(err)
	}
	defer tx.Rollback()
	if err := Record(ctx, tx, []Event{e}); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return errors.Database(err)
	}
	return nil
}

// ActionRefused is the action of an event RecordAlone writes for a refused
// call that its surface answered as a success.
const ActionRefused = "refused"
