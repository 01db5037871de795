package audit

import "context"

// ListNewest returns the events matching f newest first: the reverse of
// the feed order (by writing transaction, then id, both descending), at most
// f.Limit of them, for a person reading the trail rather than a sync job.
// f.Before pages on: the id of the last (oldest) event of the previous page,
// 0 for the first page; an id no longer kept continues with the lower ids.
// f.Since is ignored. Events of transactions still in flight are left out,
// as in List, so that a page never shows an event whose write may yet roll
// back.
func (s *Store) ListNewest(ctx context.Context, f Filter) ([]Event, error) {
	return s.list(ctx, f, f.Before, "<", "xid DESC, id DESC")
}
