package group

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/groupd/groupd/acl"
	"github.com/groupd/groupd/db"
	"github.com/groupd/groupd/errors"
	"github.com/groupd/groupd/policy"
	"github.com/groupd/groupd/rights"
	"github.com/lib/pq"
)

// MaxLimit is the largest page of a group listing, as in easydb.
const MaxLimit = 1000

// Filter selects groups in a listing. Every condition narrows the set of
// groups the principal may see anyway.
type Filter struct {
	IDs       []int64  // only these ids (nil: any)
	Types     []string // only these types (nil: any)
	Name      string   // substring of the name or of a displayname, case-insensitive
	Reference *string  // exactly this reference
	Member    int64    // only groups this user is in (statically or by a system group)
	Limit     int
	Offset    int
}

// Authorizer is the decision engine the store asks before it writes
// (policy.Engine).
type Authorizer interface {
	Can(p *policy.Principal, right string, obj *policy.Object) (bool, error)
	HasSystemRight(p *policy.Principal, name, param string) bool
}

// Notifier tells every groupd process, in the write's transaction, that the
// system rights or the existence of groups changed (session.NotifyGroups,
// with pg_notify, delivered at commit).
type Notifier func(ctx context.Context, tx *sql.Tx, groupIDs ...int64) error

// Store keeps groups in PostgreSQL. Each method runs in one transaction.
type Store struct {
	db     *db.DB
	authz  Authorizer
	notify Notifier
}

// NewStore returns a Store.
func NewStore(d *db.DB, authz Authorizer, notify Notifier) *Store {
	return &Store{db: d, authz: authz, notify: notify}
}

// PolicyObject is g as the policy engine sees it.
func (g *Group) PolicyObject() *policy.Object {
	return &policy.Object{Kind: "group", ID: g.ID, GroupType: g.Type,
		OwnerUserID: ownerID(g.Owner, "user"), OwnerGroupID: ownerID(g.Owner, "group"), ACL: g.ACL}
}

func ownerID(r Ref, kind string) int64 {
	if r.Kind == kind {
		return r.ID
	}
	return 0
}

// --- reading ------------------------------------------------------------

// principalArgs are the principal's attributes as SQL parameters; the
// visibility and _generated_rights expressions below refer to them by
// position ($1 ... $6), as miniflux passes its user id into every query.
func principalArgs(p *policy.Principal, now time.Time) []any {
	return []any{
		p.UserID,                    // $1
		pq.Array(p.SubjectGroups()), // $2: static and system groups
		pq.Array(p.Groups),          // $3: static groups
		p.IsRoot(),                  // $4
		p.SystemRights.Bool(rights.SystemGroup, rights.ParamGlobalCustomBagRead), // $5
		now, // $6
	}
}

// activeACL is the condition that ACL entry a is in effect at $6 and names
// the principal ($1, $2).
const activeACL = `a.active AND (a.valid_from IS NULL OR a.valid_from <= $6) AND (a.valid_to IS NULL OR a.valid_to > $6)
	AND (a.who_user_id = $1 OR a.who_group_id = ANY($2::bigint[]))`

// maskExpr computes the principal's rights on group g as a rights.Mask, the
// same rules as policy/model.conf expressed in SQL (the property test in
// this package shows the two agree): root has all; the owner has bag_*; a
// static member of an easydb group has bag_read; global_custom_bag_read
// gives bag_read on custom groups; ACL entries in effect add their masks.
var maskExpr = fmt.Sprintf(`CASE WHEN $4 THEN %d ELSE
	  (CASE WHEN g.owner_user_id = $1 OR g.owner_group_id = ANY($2::bigint[]) THEN %d ELSE 0 END)
	| (CASE WHEN g.type = 'easydb' AND g.id = ANY($3::bigint[]) THEN %d ELSE 0 END)
	| (CASE WHEN $5 AND g.type LIKE 'custom-%%' THEN %d ELSE 0 END)
	| COALESCE((SELECT bit_or(a.mask) FROM group_acl a WHERE a.group_id = g.id AND `+activeACL+`), 0)
	END`,
	allRights, rights.OwnerMask, rights.MaskBagRead, rights.MaskBagRead)

const allRights = rights.MaskBagRead | rights.MaskBagWrite | rights.MaskBagDelete | rights.MaskLink |
	rights.MaskUnlink | rights.MaskRead | rights.MaskWrite | rights.MaskDelete

// visibleCond restricts groups g to those the principal holds bag_read on,
// as a union of index lookups rather than the mask of every row.
var visibleCond = fmt.Sprintf(`($4 OR g.id IN (
	SELECT o.id FROM groups o WHERE o.owner_user_id = $1
	UNION SELECT o.id FROM groups o WHERE o.owner_group_id = ANY($2::bigint[])
	UNION SELECT o.id FROM groups o WHERE o.id = ANY($3::bigint[]) AND o.type = 'easydb'
	UNION SELECT a.group_id FROM group_acl a WHERE a.mask & %d <> 0 AND `+activeACL+`
	UNION SELECT o.id FROM groups o WHERE $5 AND o.type LIKE 'custom-%%'))`, rights.MaskBagRead)

const genDisplayname = `COALESCE(NULLIF(%[1]s.displayname, ''), NULLIF(trim(concat_ws(' ', %[1]s.first_name, %[1]s.last_name)), ''), %[1]s.login, '')`

// selectFull is the full format of groups g, with owner and ACL in short
// format, and the principal's mask: one query, whatever the number of groups.
var selectFull = `SELECT g.id, g.version, g.type, g.name, g.displayname::text, g.comment, g.reference,
	g.frontend_prefs::text, g.authorization_info, g.system_rights::text, g.created_at, g.updated_at,
	COALESCE(g.owner_user_id, 0), COALESCE(g.owner_group_id, 0),
	COALESCE(ou.login, og.name, ''), COALESCE(ou.type, og.type, ''), ` + fmt.Sprintf(genDisplayname, "ou") + `,
	COALESCE(og.displayname::text, ''),
	COALESCE((SELECT json_agg(json_build_object('id', a.id, 'wu', a.who_user_id, 'wg', a.who_group_id,
		'wo', a.who_owner, 'rights', a.rights, 'mask', a.mask, 'active', a.active, 'from', a.valid_from,
		'to', a.valid_to, 'created', a.created_at, 'name', COALESCE(wu.login, wg.name), 'type', COALESCE(wu.type, wg.type),
		'disp', ` + fmt.Sprintf(genDisplayname, "wu") + `, 'gdisp', wg.displayname) ORDER BY a.position)
		FROM group_acl a LEFT JOIN users wu ON wu.id = a.who_user_id LEFT JOIN groups wg ON wg.id = a.who_group_id
		WHERE a.group_id = g.id), '[]'),
	` + maskExpr + `
	FROM groups g
	LEFT JOIN users ou ON ou.id = g.owner_user_id
	LEFT JOIN groups og ON og.id = g.owner_group_id`

type aclRow struct {
	ID      int64           `json:"id"`
	WU      *int64          `json:"wu"`
	WG      *int64          `json:"wg"`
	WO      bool            `json:"wo"`
	Rights  rights.Map      `json:"rights"`
	Mask    rights.Mask     `json:"mask"`
	Active  bool            `json:"active"`
	From    *time.Time      `json:"from"`
	To      *time.Time      `json:"to"`
	Created time.Time       `json:"created"`
	Name    *string         `json:"name"`
	Type    *string         `json:"type"`
	Disp    string          `json:"disp"`
	GDisp   json.RawMessage `json:"gdisp"`
}

func scanGroup(rows *sql.Rows) (*Group, error) {
	g := &Group{}
	var displayname, systemRights, ownerDisp, aclJSON string
	var frontendPrefs sql.NullString
	var mask, ownerUser, ownerGroup int64
	if err := rows.Scan(&g.ID, &g.Version, &g.Type, &g.Name, &displayname, &g.Comment, &g.Reference,
		&frontendPrefs, &g.AuthorizationInfo, &systemRights, &g.CreatedAt, &g.UpdatedAt,
		&ownerUser, &ownerGroup, &g.Owner.Name, &g.Owner.Type, &g.Owner.Displayname, &ownerDisp,
		&aclJSON, &mask); err != nil {
		return nil, err
	}
	if ownerGroup != 0 {
		g.Owner.Kind, g.Owner.ID = "group", ownerGroup
		g.Owner.GroupDisplayname, g.Owner.Displayname = json.RawMessage(ownerDisp), ""
	} else {
		g.Owner.Kind, g.Owner.ID = "user", ownerUser
	}
	return g, g.fill(displayname, frontendPrefs, systemRights, aclJSON, mask)
}

func (g *Group) fill(displayname string, frontendPrefs sql.NullString, systemRights, aclJSON string, mask int64) error {
	if err := json.Unmarshal([]byte(displayname), &g.Displayname); err != nil {
		return err
	}
	if frontendPrefs.Valid {
		g.FrontendPrefs = json.RawMessage(frontendPrefs.String)
	}
	if err := json.Unmarshal([]byte(systemRights), &g.SystemRights); err != nil {
		return err
	}
	var entries []aclRow
	if err := json.Unmarshal([]byte(aclJSON), &entries); err != nil {
		return err
	}
	for _, r := range entries {
		e := acl.Entry{ID: r.ID, WhoOwner: r.WO, Rights: r.Rights, Mask: r.Mask, Active: r.Active,
			From: r.From, To: r.To, Created: r.Created}
		var who Ref
		if r.WU != nil {
			e.WhoUserID = *r.WU
			who = Ref{Kind: "user", ID: *r.WU, Displayname: r.Disp}
		} else if r.WG != nil {
			e.WhoGroupID = *r.WG
			who = Ref{Kind: "group", ID: *r.WG, GroupDisplayname: r.GDisp}
		}
		if r.Name != nil {
			who.Name = *r.Name
		}
		if r.Type != nil {
			who.Type = *r.Type
		}
		g.ACL = append(g.ACL, e)
		g.ACLWho = append(g.ACLWho, who)
	}
	g.Generated = rights.Mask(mask)
	return nil
}

// findGroups loads the groups with the given ids in full format, in id order,
// locking them for update when lock is set (in id order, so that concurrent
// bulk writes cannot deadlock).
func findGroups(ctx context.Context, tx *sql.Tx, p *policy.Principal, now time.Time, ids []int64, lock bool) ([]*Group, error) {
	q := selectFull + ` WHERE g.id = ANY($7::bigint[]) ORDER BY g.id`
	if lock {
		q += ` FOR UPDATE OF g`
	}
	rows, err := tx.QueryContext(ctx, q, append(principalArgs(p, now), pq.Array(ids))...)
	if err != nil {
		return nil, errors.Database(err)
	}
	defer rows.Close()
	var out []*Group
	for rows.Next() {
		g, err := scanGroup(rows)
		if err != nil {
			return nil, errors.Database(err)
		}
		out = append(out, g)
	}
	if err := rows.Err(); err != nil {
		return nil, errors.Database(err)
	}
	return out, nil
}

// Get returns group id in full format with p's rights on it (Generated), or
// nil when there is no such group. It does not decide whether p may read it.
func (s *Store) Get(ctx context.Context, p *policy.Principal, id int64) (*Group, error) {
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, errors.Database(err)
	}
	defer tx.Rollback()
	gs, err := findGroups(ctx, tx, p, s.db.Now(), []int64{id}, false)
	if err != nil || len(gs) == 0 {
		return nil, err
	}
	return gs[0], nil
}

// List returns the page of groups p may see (bag_read) that match f, ordered
// by id, and the number of all such groups. Visibility is decided in SQL,
// never row by row.
func (s *Store) List(ctx context.Context, p *policy.Principal, f Filter) ([]*Group, int, error) {
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true, Isolation: sql.LevelRepeatableRead})
	if err != nil {
		return nil, 0, errors.Database(err)
	}
	defer tx.Rollback()
	args := principalArgs(p, s.db.Now())
	conds := []string{visibleCond}
	arg := func(v any) string { args = append(args, v); return "$" + strconv.Itoa(len(args)) }
	if f.IDs != nil {
		conds = append(conds, "g.id = ANY("+arg(pq.Array(f.IDs))+"::bigint[])")
	}
	if len(f.Types) > 0 {
		conds = append(conds, "g.type = ANY("+arg(pq.Array(f.Types))+"::text[])")
	}
	if f.Name != "" {
		pat := arg("%" + escapeLike(f.Name) + "%")
		conds = append(conds, "(g.name ILIKE "+pat+" OR EXISTS (SELECT 1 FROM group_displaynames d WHERE d.group_id = g.id AND d.value ILIKE "+pat+"))")
	}
	if f.Reference != nil {
		conds = append(conds, "g.reference = "+arg(*f.Reference))
	}
	if f.Member != 0 {
		m := arg(f.Member)
		conds = append(conds, fmt.Sprintf(`(g.id IN (SELECT group_id FROM memberships WHERE user_id = %[1]s)
			OR (g.id = %[2]d AND EXISTS (SELECT 1 FROM users WHERE id = %[1]s))
			OR (g.id = %[3]d AND EXISTS (SELECT 1 FROM users WHERE id = %[1]s AND type <> 'system')))`,
			m, policy.GroupAll, policy.GroupNonSystem))
	}
	where := " WHERE " + strings.Join(conds, " AND ")

	var total int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM groups g`+where, args...).Scan(&total); err != nil {
		return nil, 0, errors.Database(err)
	}
	if total == 0 || f.Offset >= total {
		return []*Group{}, total, nil
	}
	q := selectFull + where + " ORDER BY g.id LIMIT " + arg(f.Limit) + " OFFSET " + arg(f.Offset)
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, 0, errors.Database(err)
	}
	defer rows.Close()
	out := make([]*Group, 0, min(f.Limit, total))
	for rows.Next() {
		g, err := scanGroup(rows)
		if err != nil {
			return nil, 0, errors.Database(err)
		}
		out = append(out, g)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, errors.Database(err)
	}
	return out, total, nil
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
