package group

import (
	"context"
	"database/sql"
	"time"

	"github.com/groupd/groupd/acl"
	"github.com/groupd/groupd/db"
	"github.com/groupd/groupd/errors"
	"github.com/groupd/groupd/policy"
	"github.com/lib/pq"
)

// What package object needs of groups: which groups a principal may read,
// as SQL (its visibility of objects is defined on top of it, never a second
// copy), the groups as the policy engine sees them, and a hook that runs in
// a group's delete. Package group never writes the objects table.

// VisibleIDsSQL is the query of the ids of the groups a principal other
// than root holds bag_read on; its parameters $1 ... $6 are PrincipalArgs.
// Root sees every group: the caller tests $4 first.
func VisibleIDsSQL() string { return visibleIDs }

// PrincipalArgs are p's attributes as the parameters $1 ... $6 of
// VisibleIDsSQL, with now deciding which ACL entries are in effect.
func PrincipalArgs(p *policy.Principal, now time.Time) []any { return principalArgs(p, now) }

// DeleteHook runs in the transaction of a group's delete, after the
// decision and before the group's row goes, for the principal that deletes.
type DeleteHook func(ctx context.Context, tx *sql.Tx, p *policy.Principal, groupID int64) error

// OnDelete adds h to what a group's delete does (package object ungroups the
// group's objects and records it). Call it before the store serves requests.
func (s *Store) OnDelete(h DeleteHook) { s.onDelete = append(s.onDelete, h) }

// PolicyObjects reads, in tx, the groups with the given ids as the policy
// engine sees them (type, owner, ACL entries), by id; unknown ids are
// absent. The rows are not locked.
func (s *Store) PolicyObjects(ctx context.Context, tx *sql.Tx, ids []int64) (map[int64]*policy.Object, error) {
	return policyObjects(ctx, tx, ids, "")
}

// KeepPolicyObjects is PolicyObjects that also locks the groups' rows (FOR
// KEY SHARE, in id order) until tx ends: none of them is deleted meanwhile,
// so that something tx puts into one of them keeps it.
func (s *Store) KeepPolicyObjects(ctx context.Context, tx *sql.Tx, ids []int64) (map[int64]*policy.Object, error) {
	return policyObjects(ctx, tx, ids, " FOR KEY SHARE")
}

func policyObjects(ctx context.Context, tx *sql.Tx, ids []int64, lock string) (map[int64]*policy.Object, error) {
	out := make(map[int64]*policy.Object, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := tx.QueryContext(ctx, `SELECT id, type, COALESCE(owner_user_id, 0), COALESCE(owner_group_id, 0)
		FROM groups WHERE id = ANY($1::bigint[]) ORDER BY id`+lock, pq.Array(ids))
	if err != nil {
		return nil, errors.Database(err)
	}
	defer rows.Close()
	for rows.Next() {
		o := &policy.Object{Kind: "group"}
		if err = rows.Scan(&o.ID, &o.GroupType, &o.OwnerUserID, &o.OwnerGroupID); err != nil {
			return nil, errors.Database(err)
		}
		out[o.ID] = o
	}
	if err = rows.Err(); err != nil {
		return nil, errors.Database(err)
	}
	rows.Close()
	rows, err = tx.QueryContext(ctx, `SELECT group_id, COALESCE(who_user_id, 0), COALESCE(who_group_id, 0), who_owner,
		mask, active, valid_from::text, valid_to::text
		FROM group_acl WHERE group_id = ANY($1::bigint[]) ORDER BY group_id, position`, pq.Array(ids))
	if err != nil {
		return nil, errors.Database(err)
	}
	defer rows.Close()
	for rows.Next() {
		var groupID int64
		var e acl.Entry
		var from, to db.Timestamp
		if err := rows.Scan(&groupID, &e.WhoUserID, &e.WhoGroupID, &e.WhoOwner, &e.Mask, &e.Active, &from, &to); err != nil {
			return nil, errors.Database(err)
		}
		e.From, e.To = from.Ptr(), to.Ptr()
		if o := out[groupID]; o != nil {
			o.ACL = append(o.ACL, e)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, errors.Database(err)
	}
	return out, nil
}
