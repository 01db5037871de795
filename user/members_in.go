package user

import (
	"context"
	"database/sql"
	"strconv"

	"github.com/groupd/groupd/audit"
	"github.com/groupd/groupd/errors"
	"github.com/groupd/groupd/policy"
	"github.com/groupd/groupd/rights"
	"github.com/lib/pq"
)

// ChangeMembersIn is ChangeMembers in the caller's transaction tx: the same
// locks (the group's row first, as every write locks groups before users),
// rights decisions, statements and audit events, committed or rolled back
// with whatever else tx does. A store of another package that writes a
// group and its members in one transaction (group.Store.WriteThen) passes
// its tx here; the group may be one tx created.
func (s *Store) ChangeMembersIn(ctx context.Context, tx *sql.Tx, p *policy.Principal, groupID int64, mc MemberChange) ([]MemberResult, error) {
	now := s.db.Now()
	// The decision is on the group as the last write of it committed,
	// and stays true until this commits: a concurrent grant of
	// system.root or revoke of link waits for this, or this for it.
	if err := lockForDecision(ctx, tx, nil, "", []int64{groupID}); err != nil {
		return nil, err
	}
	gs, err := loadGroups(ctx, tx, []int64{groupID})
	if err != nil {
		return nil, err
	}
	g, ok := gs[groupID]
	if !ok {
		return nil, errors.GroupNotFound(strconv.FormatInt(groupID, 10))
	}
	ids := append(append([]int64{}, mc.Add...), mc.Remove...)
	if len(ids) == 0 {
		return []MemberResult{}, nil
	}
	if len(mc.Add) > 0 {
		if mayChangeMembersErr := s.mayChangeMembers(p, g, rights.Link, mc.Add[0], false); mayChangeMembersErr != nil {
			return nil, mayChangeMembersErr
		}
	}
	if len(mc.Remove) > 0 {
		if mayChangeMembersErr := s.mayChangeMembers(p, g, rights.Unlink, mc.Remove[0], false); mayChangeMembersErr != nil {
			return nil, mayChangeMembersErr
		}
	}
	// Which users exist, and which are system users (never linked).
	exists := map[int64]bool{}
	rows, err := tx.QueryContext(ctx, `SELECT id, type = 'system' FROM users WHERE id = ANY($1::bigint[]) ORDER BY id`,
		pq.Array(ids))
	if err != nil {
		return nil, errors.Database(err)
	}
	var systemUser int64
	for rows.Next() {
		var id int64
		var system bool
		if scanErr := rows.Scan(&id, &system); scanErr != nil {
			rows.Close()
			return nil, errors.Database(scanErr)
		}
		exists[id] = true
		if system && systemUser == 0 {
			systemUser = id
		}
	}
	rows.Close()
	if rowsErr := rows.Err(); rowsErr != nil {
		return nil, errors.Database(rowsErr)
	}
	if systemUser != 0 {
		return nil, errors.UserUpdateSystemGroup(systemUser, groupID)
	}
	var add []int64
	for _, id := range mc.Add {
		if exists[id] {
			add = append(add, id)
		}
	}
	var remove []int64
	for _, id := range mc.Remove {
		if exists[id] {
			remove = append(remove, id)
		}
	}
	added, err := returnedIDs(ctx, tx, `INSERT INTO memberships (group_id, user_id, created_at)
		SELECT $1, u, $3 FROM unnest($2::bigint[]) AS u ORDER BY u ON CONFLICT DO NOTHING RETURNING user_id`,
		len(add) > 0, groupID, pq.Array(add), now)
	if err != nil {
		return nil, err
	}
	removed, err := returnedIDs(ctx, tx, `DELETE FROM memberships WHERE group_id = $1 AND user_id = ANY($2::bigint[])
		RETURNING user_id`, len(remove) > 0, groupID, pq.Array(remove))
	if err != nil {
		return nil, err
	}

	out := make([]MemberResult, 0, len(ids))
	var events []audit.Event
	var changed []int64
	for _, id := range mc.Add {
		r := MemberResult{ID: id, Result: ResultNotFound}
		switch {
		case added[id]:
			r.Result = ResultAdded
			events = append(events, membershipEvents(p.UserID, id, []int64{groupID}, nil)...)
			changed = append(changed, id)
		case exists[id]:
			r.Result = ResultAlreadyMember
		}
		out = append(out, r)
	}
	for _, id := range mc.Remove {
		r := MemberResult{ID: id, Result: ResultNotFound}
		switch {
		case removed[id]:
			r.Result = ResultRemoved
			events = append(events, membershipEvents(p.UserID, id, nil, []int64{groupID})...)
			changed = append(changed, id)
		case exists[id]:
			r.Result = ResultNotMember
		}
		out = append(out, r)
	}
	if err := audit.Record(ctx, tx, events); err != nil {
		return nil, err
	}
	if len(changed) > 0 && s.notify != nil {
		// Their groups, and so their rights, changed: every process
		// drops their cached principals when this commits.
		if err := s.notify.NotifyUsers(ctx, tx, changed...); err != nil {
			return nil, err
		}
	}
	return out, nil
}
