package object

import (
	"context"
	"database/sql"
	"slices"
	"strconv"
	"time"

	"github.com/groupd/groupd/audit"
	"github.com/groupd/groupd/errors"
	"github.com/groupd/groupd/policy"
	"github.com/groupd/groupd/rights"
	"github.com/lib/pq"
)

// MoveIn is Move in the caller's transaction tx: the same checks, locks
// (the target group, then the objects in id order), rights decisions, one
// UPDATE and the "move" events, committed or rolled back with whatever else
// tx does. A store of another package that writes a group and moves objects
// into it in one transaction (group.Store.WriteThen) passes its tx here;
// m.To may be a group tx created.
func (s *Store) MoveIn(ctx context.Context, tx *sql.Tx, p *policy.Principal, m Move) (MoveResult, error) {
	var res MoveResult
	if m.To < 0 || m.From < 0 || m.OnlyFrom < 0 {
		return res, errors.InvalidValue("_group._id", "positive integer expected")
	}
	if m.From != 0 && (m.To != 0 || m.IDs != nil) {
		return res, errors.InvalidValue("from", "only to take every object out of a group, with no ids and no target")
	}
	if m.Kind != "" && !ValidKind(m.Kind) {
		return res, errors.InvalidValue("kind", `a namespaced kind expected, such as "noko.project"`)
	}
	if len(m.IDs) > MaxMove {
		return res, errors.TooManyItems("objects", MaxMove)
	}
	ids := slices.Clone(m.IDs)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	for _, id := range ids {
		if id <= 0 {
			return res, errors.ObjectsNotFound([]int64{id})
		}
	}
	now := s.db.Now().UTC().Truncate(time.Microsecond)
	var targets []int64
	if m.To != 0 {
		targets = []int64{m.To}
	}
	groups, err := s.groups.KeepPolicyObjects(ctx, tx, targets)
	if err != nil {
		return MoveResult{}, err
	}
	if m.To != 0 {
		if _, ok := groups[m.To]; !ok {
			return MoveResult{}, errors.GroupNotFound(strconv.FormatInt(m.To, 10))
		}
	}
	var found map[int64]*locked
	if m.From != 0 {
		if found, err = s.lockRows(ctx, tx, p, now, moveColumns, `o.group_id = $8 AND ($9 = '' OR o.kind = $9)`,
			m.From, m.Kind); err != nil {
			return MoveResult{}, err
		}
		if _, err = s.readFrom(ctx, tx, m.From, groups); err != nil {
			return MoveResult{}, err
		}
		if err = s.may(p, rights.Unlink, m.From, groups); err != nil {
			return MoveResult{}, err
		}
		ids = make([]int64, 0, len(found))
		for id := range found {
			ids = append(ids, id)
		}
		slices.Sort(ids)
	} else {
		if found, err = s.lockRows(ctx, tx, p, now, moveColumns, `o.id = ANY($8::bigint[])`, pq.Array(ids)); err != nil {
			return MoveResult{}, err
		}
		if err := notFound(ids, found, m.Kind); err != nil {
			return MoveResult{}, err
		}
	}
	if err := s.readSources(ctx, tx, found, groups); err != nil {
		return MoveResult{}, err
	}
	var move []int64
	decided := map[[2]int64]bool{} // (from, to) pairs already allowed
	for _, id := range ids {
		o := found[id]
		switch {
		case o.GroupID == m.To:
			res.Moved = append(res.Moved, id) // already there
			continue
		case m.To != 0 && m.SkipGrouped && o.GroupID != 0,
			m.To == 0 && m.OnlyFrom != 0 && o.GroupID != m.OnlyFrom:
			res.Skipped = append(res.Skipped, id)
			continue
		}
		if pair := [2]int64{o.GroupID, m.To}; !decided[pair] {
			if err := s.mayMove(p, o.GroupID, m.To, groups); err != nil {
				return MoveResult{}, err
			}
			decided[pair] = true
		}
		move = append(move, id)
		res.Moved = append(res.Moved, id)
	}
	if len(move) == 0 {
		return res, nil
	}
	if _, err := tx.ExecContext(ctx, `UPDATE objects SET group_id = $2, version = version + 1, updated_at = $3
		WHERE id = ANY($1::bigint[])`, pq.Array(move), nonZero(m.To), now); err != nil {
		return MoveResult{}, errors.Database(err)
	}
	events := make([]audit.Event, len(move))
	for i, id := range move {
		o := found[id]
		events[i] = moveEvent(p.UserID, o.ID, o.Version, o.GroupID, m.To)
	}
	if err := audit.Record(ctx, tx, events); err != nil {
		return MoveResult{}, err
	}
	return res, nil
}
