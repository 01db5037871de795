package bulk

import (
	"context"

	"github.com/groupd/groupd/audit"
	"github.com/groupd/groupd/errors"
)

// OneRow is a resource that writes a request of one update of its own row
// in one statement: what console edits, Kanboard's updateGroup and sync jobs
// send. Write takes this path when the request is one update and the
// resource implements OneRow; the resource's rules (Decide, ReadBack,
// Events) are those of the general path.
type OneRow[P Plan] interface {
	// ReadOne loads row id for Decide(0), as Lock does, but without a
	// lock or a transaction: UpdateOne writes only if the row is still at
	// the version read.
	ReadOne(ctx context.Context, id int64) error
	// RowOnly reports whether pl changes nothing but the resource's own
	// row: no ACL, no other table, no owner or other reference, nothing to
	// notify, and nothing for ReadBack to read (the answer follows from the
	// row read and the plan).
	RowOnly(pl P) bool
	// UpdateOne writes pl's row and its audit event in one statement
	// (audit.WithEvent) if the row is still at the version ReadOne read;
	// false, with nothing written, when it is not. A unique value taken is
	// the statement's unique violation, as the resource reports it.
	UpdateOne(ctx context.Context, pl P, event audit.Event) (bool, error)
}

// writeOne is the one-statement path of a single update: read, decide, one
// statement, two round trips in all (the general path makes seven).
//
// Deciding on a row read without a lock is the same as deciding on the row
// locked in the write's transaction: the write applies only to the version
// read, and every change of a row or of its own ACL counts its version up.
// (An ACL entry deleted with its subject does not, but a locked read does
// not wait for that either: it locks the row, not the entries.) When the
// version moved meanwhile, the item is decided again on the row as it is
// then, which fails with version_mismatch (the client named the version it
// saw) or a not-found: a second pass always ends. done is false when the
// general path must write the item: it is not row-only.
func writeOne[P Plan](ctx context.Context, one OneRow[P], r Resource[P], t Target) (plans []P, done bool, err error) {
	for pass := 0; pass < 2; pass++ {
		if err = one.ReadOne(ctx, t.ID); err != nil {
			return nil, true, err
		}
		pl, decideErr := r.Decide(0)
		if decideErr != nil {
			return nil, true, errors.WithIndex(decideErr, t.Index)
		}
		if !one.RowOnly(pl) {
			return nil, false, nil
		}
		plans = []P{pl}
		if err = r.ReadBack(ctx, nil, plans); err != nil {
			return nil, true, err
		}
		events, eventsErr := r.Events(plans)
		if eventsErr != nil {
			return nil, true, eventsErr
		}
		written, updateErr := one.UpdateOne(ctx, pl, events[0])
		if updateErr != nil {
			return nil, true, errors.WithIndex(updateErr, t.Index)
		}
		if written {
			return plans, true, nil
		}
	}
	return nil, false, nil
}
