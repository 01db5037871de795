package user

// Lookups that a compatibility surface (Kanboard's JSON-RPC) needs and the
// easydb API answers only as a side effect of a bigger read: a user by its
// exact login, whether one user is in one group, and how many members
// groups have. Each decides its right as the read it stands for does.

import (
	"context"
	"database/sql"
	"strconv"

	"github.com/groupd/groupd/errors"
	"github.com/groupd/groupd/input"
	"github.com/groupd/groupd/policy"
	"github.com/groupd/groupd/rights"
	"github.com/lib/pq"
)

// IDByLogin is the id of the user whose login is exactly login
// (case-sensitive, as the login's unique index compares), 0 when there is
// none. It reveals nothing but the id; reading the user is Get's, with its
// right.
func (s *Store) IDByLogin(ctx context.Context, login string) (int64, error) {
	if !input.Storable(login) {
		return 0, nil // no login holds NUL or invalid UTF-8
	}
	var id int64
	err := s.db.QueryRowContext(ctx, `SELECT id FROM users WHERE login = $1`, login).Scan(&id)
	if err == sql.ErrNoRows {
		return 0, nil
	}
	if err != nil {
		return 0, errors.Database(err)
	}
	return id, nil
}

// IsMember reports whether user userID is a member of group groupID
// (statically, or by a computed system group), as listing the group's
// members would show it: p needs bag_read on the group. An unknown group
// is error.user.group_not_found; an unknown user is not a member.
func (s *Store) IsMember(ctx context.Context, p *policy.Principal, groupID, userID int64) (bool, error) {
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return false, errors.Database(err)
	}
	defer tx.Rollback()
	g, err := s.readableGroup(ctx, tx, p, groupID)
	if err != nil {
		return false, err
	}
	m := memberSetOf(g.ID)
	args := append(append([]any{}, m.args...), userID)
	var member bool
	if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM `+m.from+` WHERE `+m.where+` AND `+m.col+
		` = $`+strconv.Itoa(len(args))+`)`, args...).Scan(&member); err != nil {
		return false, errors.Database(err)
	}
	return member, nil
}

// readableGroup loads group groupID for p's bag_read decision, as
// ListMembers does.
func (s *Store) readableGroup(ctx context.Context, tx *sql.Tx, p *policy.Principal, groupID int64) (*groupInfo, error) {
	gs, err := loadGroups(ctx, tx, []int64{groupID})
	if err != nil {
		return nil, err
	}
	g, ok := gs[groupID]
	if !ok {
		return nil, errors.GroupNotFound(strconv.FormatInt(groupID, 10))
	}
	if ok, err := s.authz.Can(p, rights.BagRead, g.obj); err != nil {
		return nil, errors.ServerGeneric(err)
	} else if !ok {
		return nil, errors.InsufficientRights("read", "group", strconv.FormatInt(groupID, 10), rights.BagRead)
	}
	return g, nil
}

// MemberCounts is the number of members of each of the groups groupIDs
// that exists and that p holds bag_read on (what ListMembers' total says
// for each), in one transaction. Groups missing or not readable are left
// out of the map.
func (s *Store) MemberCounts(ctx context.Context, p *policy.Principal, groupIDs []int64) (map[int64]int, error) {
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true, Isolation: sql.LevelRepeatableRead})
	if err != nil {
		return nil, errors.Database(err)
	}
	defer tx.Rollback()
	gs, err := loadGroups(ctx, tx, groupIDs)
	if err != nil {
		return nil, err
	}
	out := make(map[int64]int, len(gs))
	var stored []int64
	for id, g := range gs {
		if ok, canErr := s.authz.Can(p, rights.BagRead, g.obj); canErr != nil {
			return nil, errors.ServerGeneric(canErr)
		} else if !ok {
			continue
		}
		if id != policy.GroupAll && id != policy.GroupNonSystem {
			stored = append(stored, id)
			out[id] = 0
			continue
		}
		m := memberSetOf(id)
		var n int
		if countErr := tx.QueryRowContext(ctx, `SELECT count(*) FROM `+m.from+` WHERE `+m.where).Scan(&n); countErr != nil {
			return nil, errors.Database(countErr)
		}
		out[id] = n
	}
	if len(stored) == 0 {
		return out, nil
	}
	rows, err := tx.QueryContext(ctx, `SELECT group_id, count(*) FROM memberships WHERE group_id = ANY($1::bigint[])
		GROUP BY group_id`, pq.Array(stored))
	if err != nil {
		return nil, errors.Database(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			return nil, errors.Database(err)
		}
		out[id] = n
	}
	if err := rows.Err(); err != nil {
		return nil, errors.Database(err)
	}
	return out, nil
}
