package object

import (
	"context"
	"database/sql"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/groupd/groupd/db"
	"github.com/groupd/groupd/errors"
	"github.com/groupd/groupd/group"
	"github.com/groupd/groupd/policy"
	"github.com/groupd/groupd/rights"
	"github.com/lib/pq"
)

// Authorizer is the decision engine the store asks (policy.Engine).
type Authorizer interface {
	Can(p *policy.Principal, right string, obj *policy.Object) (bool, error)
	HasSystemRight(p *policy.Principal, name, param string) bool
}

// Groups is what the store needs of groups (group.Store): the groups an
// object goes into or comes out of, as the policy engine sees them. Keep
// also locks them, so that none is deleted before the transaction ends.
type Groups interface {
	PolicyObjects(ctx context.Context, tx *sql.Tx, ids []int64) (map[int64]*policy.Object, error)
	KeepPolicyObjects(ctx context.Context, tx *sql.Tx, ids []int64) (map[int64]*policy.Object, error)
}

// Store keeps objects in PostgreSQL. Each method runs in one transaction.
type Store struct {
	db     *db.DB
	authz  Authorizer
	groups Groups
}

// NewStore returns a Store. Wire Ungroup into the group store's delete
// (group.Store.OnDelete), so that deleting a group ungroups its objects.
func NewStore(d *db.DB, authz Authorizer, groups Groups) *Store {
	return &Store{db: d, authz: authz, groups: groups}
}

// --- visibility ------------------------------------------------------------

// principalArgs are the parameters $1 ... $7 of visible: the group
// package's principal arguments ($1 ... $6, $4 is root) and $7, whether p
// reads every object (system.object with read_all).
func (s *Store) principalArgs(p *policy.Principal, now time.Time) []any {
	return append(group.PrincipalArgs(p, now), s.authz.HasSystemRight(p, rights.SystemObject, rights.ParamReadAll))
}

// visible is the condition that object o is visible to the principal of
// principalArgs: the one statement of object visibility in SQL, the same
// rule as model.conf's m4 (TestSQLMatchesPolicy shows they agree). root and
// read_all see everything; anyone else the objects of the groups they may
// read, which the group package's own visibility query says.
var visible = `($4 OR $7 OR (o.group_id IS NOT NULL AND o.group_id IN (` + group.VisibleIDsSQL() + `)))`

const columns = `o.id, o.version, o.kind, o.name, o.reference, o.attributes::text, COALESCE(o.group_id, 0),
	o.created_at, o.updated_at`

func scanObject(row interface{ Scan(...any) error }, extra ...any) (*Object, error) {
	o := &Object{}
	var attrs string
	if err := row.Scan(append([]any{&o.ID, &o.Version, &o.Kind, &o.Name, &o.Reference, &attrs, &o.GroupID,
		&o.CreatedAt, &o.UpdatedAt}, extra...)...); err != nil {
		return nil, err
	}
	o.Attributes = json.RawMessage(attrs)
	o.CreatedAt, o.UpdatedAt = o.CreatedAt.UTC(), o.UpdatedAt.UTC()
	return o, nil
}

// PolicyObject is o as the policy engine sees it, with grp the group it is
// in (nil: none).
func (o *Object) PolicyObject(grp *policy.Object) *policy.Object {
	return &policy.Object{Kind: "object", ID: o.ID, Group: grp}
}

// --- reading -----------------------------------------------------------------

// Get returns object id, or error.user.object_not_found (ObjectsNotFound)
// when there is none or p may not see it.
func (s *Store) Get(ctx context.Context, p *policy.Principal, id int64) (*Object, error) {
	args := append(s.principalArgs(p, s.db.Now()), id)
	o, err := scanObject(s.db.QueryRowContext(ctx, `SELECT `+columns+` FROM objects o WHERE o.id = $8 AND `+visible, args...))
	if err == sql.ErrNoRows {
		return nil, errors.ObjectsNotFound([]int64{id})
	}
	if err != nil {
		return nil, errors.Database(err)
	}
	return o, nil
}

// List returns the page of objects p may see that match f, in id order, and
// the number of all of them. Visibility is decided in SQL, never row by row.
func (s *Store) List(ctx context.Context, p *policy.Principal, f Filter) ([]*Object, int, error) {
	if f.Limit <= 0 || f.Limit > MaxLimit {
		f.Limit = MaxLimit
	}
	if f.Offset < 0 {
		f.Offset = 0
	}
	args := s.principalArgs(p, s.db.Now())
	conds := []string{visible}
	arg := func(v any) string { args = append(args, v); return "$" + strconv.Itoa(len(args)) }
	if f.IDs != nil {
		conds = append(conds, "o.id = ANY("+arg(pq.Array(f.IDs))+"::bigint[])")
	}
	if f.Kind != "" {
		conds = append(conds, "o.kind = "+arg(f.Kind))
	}
	if f.GroupID != 0 {
		conds = append(conds, "o.group_id = "+arg(f.GroupID))
	}
	if f.Ungrouped {
		conds = append(conds, "o.group_id IS NULL")
	}
	if f.Name != "" {
		conds = append(conds, "o.name ILIKE "+arg("%"+db.EscapeLike(f.Name)+"%"))
	}
	if f.Reference != nil {
		conds = append(conds, "o.reference = "+arg(*f.Reference))
	}
	where := " WHERE " + strings.Join(conds, " AND ")
	nFilter := len(args)
	limit, offset := arg(f.Limit), arg(f.Offset)

	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true, Isolation: sql.LevelRepeatableRead})
	if err != nil {
		return nil, 0, errors.Database(err)
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, `SELECT `+columns+` FROM objects o`+where+` ORDER BY o.id LIMIT `+limit+
		` OFFSET `+offset, args...)
	if err != nil {
		return nil, 0, errors.Database(err)
	}
	defer rows.Close()
	out := make([]*Object, 0, min(f.Limit, 100))
	for rows.Next() {
		o, err := scanObject(rows)
		if err != nil {
			return nil, 0, errors.Database(err)
		}
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, errors.Database(err)
	}
	rows.Close()
	total := f.Offset + len(out)
	if len(out) == f.Limit || (len(out) == 0 && f.Offset > 0) {
		// The page may not be the last one: count. (A short page that
		// starts at its offset ends the set, and tells the total itself.)
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM objects o`+where, args[:nFilter]...).Scan(&total); err != nil {
			return nil, 0, errors.Database(err)
		}
	}
	return out, total, nil
}

// locked is an object read under its row lock, with whether p may see it.
type locked struct {
	*Object
	visible bool
}

// findLocked reads and locks the objects with the given ids (lockRows).
func (s *Store) findLocked(ctx context.Context, tx *sql.Tx, p *policy.Principal, now time.Time, ids []int64) (map[int64]*locked, error) {
	if len(ids) == 0 {
		return map[int64]*locked{}, nil
	}
	return s.lockRows(ctx, tx, p, now, columns, `o.id = ANY($8::bigint[])`, pq.Array(ids))
}

// moveColumns are what a move reads of the objects it locks: the columns of
// scanObject, with empty values for name, reference and attributes, which a
// move neither decides on nor writes.
const moveColumns = `o.id, o.version, o.kind, '', NULL::text, '{}', COALESCE(o.group_id, 0), o.created_at, o.updated_at`

// lockRows reads cols (columns or moveColumns) of the objects that match
// cond, whose parameters follow principalArgs ($8 on), and locks them (FOR
// UPDATE, in id order, as every write of objects does, so that concurrent
// writes cannot deadlock), with whether p may see each.
func (s *Store) lockRows(ctx context.Context, tx *sql.Tx, p *policy.Principal, now time.Time, cols, cond string, args ...any) (map[int64]*locked, error) {
	rows, err := tx.QueryContext(ctx, `SELECT `+cols+`, `+visible+` FROM objects o
		WHERE `+cond+` ORDER BY o.id FOR UPDATE OF o`, append(s.principalArgs(p, now), args...)...)
	if err != nil {
		return nil, errors.Database(err)
	}
	defer rows.Close()
	out := map[int64]*locked{}
	for rows.Next() {
		l := &locked{}
		if l.Object, err = scanObject(rows, &l.visible); err != nil {
			return nil, errors.Database(err)
		}
		out[l.ID] = l
	}
	if err := rows.Err(); err != nil {
		return nil, errors.Database(err)
	}
	return out, nil
}

// notFound is the one error for the ids of want that found lacks or that p
// may not see, in id order (nil when there is none); kind, when set, must
// match too.
func notFound(want []int64, found map[int64]*locked, kind string) error {
	var missing []int64
	for _, id := range want {
		l, ok := found[id]
		if !ok || !l.visible || (kind != "" && l.Kind != kind) {
			missing = append(missing, id)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	slices.Sort(missing)
	return errors.ObjectsNotFound(missing)
}
