package user

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"

	"github.com/groupd/groupd/errors"
	"github.com/groupd/groupd/policy"
	"github.com/groupd/groupd/rights"
)

// Results of a membership change, per user id.
const (
	ResultAdded         = "added"
	ResultAlreadyMember = "already_member"
	ResultRemoved       = "removed"
	ResultNotMember     = "not_member"
	ResultNotFound      = "not_found"
)

// MemberResult is what a members request did to one user id.
type MemberResult struct {
	ID     int64  `json:"_id"`
	Result string `json:"result"`
}

// memberSet is the SQL of group groupID's member ids, read in id order
// from an index alone: an ordinary group's stored memberships (primary key
// (group_id, user_id)), and the computed members of the system groups,
// every user for :all and every non-system user for :non_system (users'
// primary key).
type memberSet struct {
	from, where, order, col string
	from1                   func(p string) string // "at or after member id p"
	args                    []any                 // $1 at most
}

func memberSetOf(groupID int64) memberSet {
	switch groupID {
	case policy.GroupAll, policy.GroupNonSystem:
		m := memberSet{from: "users", where: "true", order: "id", col: "id",
			from1: func(p string) string { return "id >= " + p }}
		if groupID == policy.GroupNonSystem {
			m.where = "type <> 'system'"
		}
		return m
	}
	return memberSet{from: "memberships", where: "group_id = $1", order: "group_id, user_id", col: "user_id",
		from1: func(p string) string { return "user_id >= " + p }, args: []any{groupID}}
}

// ListMembers returns the page of group groupID's members (users in short
// format, ordered by id) and their number. p needs bag_read on the group.
//
// The offset is a keyset under the hood, so that a deep page costs what
// the first does: one pass over the group's index range finds the id at
// the offset and counts the members from there on (the total is the offset
// plus that count), reading no user row; then the page reads the limit's
// users from that id on. Page 1 and page 1,000 both read the group's index
// range once.
func (s *Store) ListMembers(ctx context.Context, p *policy.Principal, groupID int64, limit, offset int) ([]Short, int, error) {
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true, Isolation: sql.LevelRepeatableRead})
	if err != nil {
		return nil, 0, errors.Database(err)
	}
	defer tx.Rollback()
	gs, err := loadGroups(ctx, tx, []int64{groupID})
	if err != nil {
		return nil, 0, err
	}
	g, ok := gs[groupID]
	if !ok {
		return nil, 0, errors.GroupNotFound(strconv.FormatInt(groupID, 10))
	}
	if ok, canErr := s.authz.Can(p, rights.BagRead, g.obj); canErr != nil {
		return nil, 0, errors.ServerGeneric(canErr)
	} else if !ok {
		return nil, 0, errors.InsufficientRights("read", "group", strconv.FormatInt(groupID, 10), rights.BagRead)
	}
	m := memberSetOf(groupID)
	args, n := m.args, len(m.args)
	out := []Short{}
	var start int64
	var total int
	err = tx.QueryRowContext(ctx, fmt.Sprintf(`SELECT s.%[5]s, $%[6]d + (SELECT count(*) FROM %[1]s WHERE %[2]s AND %[4]s)
		FROM (SELECT %[5]s FROM %[1]s WHERE %[2]s ORDER BY %[3]s OFFSET $%[6]d LIMIT 1) s`,
		m.from, m.where, m.order, m.from1("s."+m.col), m.col, n+1), append(args, offset)...).Scan(&start, &total)
	if err == sql.ErrNoRows { // past the end: count them all
		err = tx.QueryRowContext(ctx, `SELECT count(*) FROM `+m.from+` WHERE `+m.where, args...).Scan(&total)
		if err != nil {
			return nil, 0, errors.Database(err)
		}
		return out, total, nil
	}
	if err != nil {
		return nil, 0, errors.Database(err)
	}
	if limit == 0 {
		return out, total, nil
	}
	rows, err := tx.QueryContext(ctx, fmt.Sprintf(`SELECT u.id, u.version, u.type, u.login, %[1]s
		FROM (SELECT %[2]s AS uid FROM %[3]s WHERE %[4]s AND %[5]s ORDER BY %[6]s LIMIT $%[7]d) p
		JOIN users u ON u.id = p.uid ORDER BY u.id`, fmt.Sprintf(genDisplayname, "u"), m.col, m.from, m.where,
		m.from1(fmt.Sprintf("$%d", n+1)), m.order, n+2), append(args, start, limit)...)
	if err != nil {
		return nil, 0, errors.Database(err)
	}
	defer rows.Close()
	for rows.Next() {
		var m Short
		if err := rows.Scan(&m.ID, &m.Version, &m.Type, &m.Login, &m.Displayname); err != nil {
			return nil, 0, errors.Database(err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, errors.Database(err)
	}
	return out, total, nil
}

// ChangeMembers adds the users mc.Add to group groupID and removes the
// users mc.Remove, in one transaction, and reports per user id what it did.
// It is idempotent: adding a member or removing a non-member changes
// nothing and says so. p needs link on the group to add and unlink to
// remove, each checked once for the whole request; system groups and
// system users are refused (error.user.user_update_system_group).
//
// Its cost does not depend on the size of the group: one INSERT ... ON
// CONFLICT DO NOTHING RETURNING and one DELETE ... RETURNING on the primary
// key (group_id, user_id), never a scan of the group's members.
func (s *Store) ChangeMembers(ctx context.Context, p *policy.Principal, groupID int64, mc MemberChange) ([]MemberResult, error) {
	var out []MemberResult
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		var err error
		out, err = s.ChangeMembersIn(ctx, tx, p, groupID, mc)
		return err
	})
	return out, err
}

// returnedIDs runs a statement that returns user ids (when run is set) and
// collects them.
func returnedIDs(ctx context.Context, tx *sql.Tx, query string, run bool, args ...any) (map[int64]bool, error) {
	out := map[int64]bool{}
	if !run {
		return out, nil
	}
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, errors.Database(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, errors.Database(err)
		}
		out[id] = true
	}
	if err := rows.Err(); err != nil {
		return nil, errors.Database(err)
	}
	return out, nil
}
