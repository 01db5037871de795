package group

import (
	"context"
	"database/sql"

	"github.com/groupd/groupd/group/bulk"
	"github.com/groupd/groupd/policy"
)

// FollowUp is a step of another store that a group write runs in its own
// transaction, once the groups are written: written are they, in input
// order, as Write answers them.
type FollowUp func(ctx context.Context, tx *sql.Tx, written []*Group) error

// WriteThen is Write with then run in the write's transaction, after the
// groups are written, audited and announced and before the commit. An error
// of then rolls back everything, the groups and their events included, and
// is returned as it is. A request that creates a group with members (Noko's
// POST /teams with user_ids) passes the members' tx-taking store method
// (user.Store.ChangeMembersIn, object.Store.MoveIn): one transaction per
// request, and a refused member step leaves no group behind.
func (s *Store) WriteThen(ctx context.Context, p *policy.Principal, items []*Input, then FollowUp) ([]*Group, error) {
	w := &groupWrite{s: s, p: p, items: items, now: s.db.Now()}
	plans, err := bulk.Write(ctx, s.db, groupSpec, &followedWrite{groupWrite: w, then: then}, bulk.Targets(items), w.now)
	return bulk.Results(plans, err, func(pl *plan) *Group { return pl.after })
}

// followedWrite is a groupWrite whose last step in the transaction also
// runs a follow-up.
type followedWrite struct {
	*groupWrite
	then FollowUp
}

// Notify is the kernel's last step inside the transaction (after the audit
// events): the groups' own notifications, then the follow-up, so that the
// follow-up sees the groups exactly as the write commits them.
func (w *followedWrite) Notify(ctx context.Context, tx *sql.Tx, plans []*plan) error {
	if err := w.groupWrite.Notify(ctx, tx, plans); err != nil {
		return err
	}
	written := make([]*Group, len(plans))
	for i, pl := range plans {
		written[i] = pl.after
	}
	return w.then(ctx, tx, written)
}

// RowOnly is false for every plan: the follow-up runs in the write's
// transaction, which the one-statement path of a single update has not.
func (w *followedWrite) RowOnly(*plan) bool { return false }
