package user

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
	"github.com/groupd/groupd/group/bulk"
	"github.com/groupd/groupd/policy"
	"github.com/groupd/groupd/rights"
	"github.com/lib/pq"
)

// MaxLimit is the largest page of a user or member listing, as in easydb.
const MaxLimit = 1000

// Filter selects users in a listing. Every condition narrows the set of
// users the principal may read anyway.
type Filter struct {
	GroupIDs []int64  // only users in at least one of these groups (nil: any)
	Types    []string // only these types (nil: any)
	Login    string   // substring of the login, case-insensitive; it orders the page by match quality
	Name     string   // substring of the first name, last name, "first last" or display name, case-insensitive
	Email    string   // substring of one of the user's e-mail addresses, case-insensitive
	Limit    int
	Offset   int
}

// Authorizer is the decision engine the store and the handlers ask.
type Authorizer = bulk.Authorizer

// Passwords is the password policy that Write applies. *session.Service is
// one.
type Passwords interface {
	// CheckNewPassword refuses a password too weak to be set as attribute.
	CheckNewPassword(attribute, password string) error
	// VerifyPassword checks that password is user userID's current one,
	// counted like a login attempt of that user (lockout included).
	VerifyPassword(ctx context.Context, userID int64, password string) error
}

// Store keeps users and memberships in PostgreSQL. Each method runs in one
// transaction.
//
// Its read decisions (RequireReader, Readable, ListReadable, Visible) are
// the rules of userReads, which every surface asks.
type Store struct {
	policy.Reads[*User, Filter]
	db     *db.DB
	authz  Authorizer
	notify bulk.Notifier // nil: tell nobody
	// Passwords, when set, is the password policy of Write: a minimum
	// length, and the old password to change one's own. nil: no policy.
	Passwords Passwords
}

// userReads: a user always reads itself; listing users, or reading another
// user, needs system.user, and reading one read on it, as GET
// /api/v1/user[/<id>] decides.
var userReads = policy.ReadRule{Kind: "user", SystemRight: rights.SystemUser, Right: rights.Read, SelfRead: true,
	NotFound: errors.UserNotFound}

// NewStore returns a Store. notify may be nil (tests without sessions).
func NewStore(d *db.DB, authz Authorizer, notify bulk.Notifier) *Store {
	s := &Store{db: d, authz: authz, notify: notify}
	s.Reads = policy.NewReads(authz, userReads, s.Get, s.List)
	return s
}

// --- reading ------------------------------------------------------------

// principalArgs are the principal's attributes as SQL parameters; the
// visibility and _generated_rights expressions below refer to them by
// position ($1 ... $4), as miniflux passes its user id into every query.
func principalArgs(p *policy.Principal, now time.Time) []any {
	return []any{
		p.UserID,                    // $1
		pq.Array(p.SubjectGroups()), // $2: static and system groups
		p.IsRoot(),                  // $3
		now,                         // $4
	}
}

// activeACL is the condition that ACL entry a is in effect at $4 and names
// the principal ($1, $2).
const activeACL = `a.active AND (a.valid_from IS NULL OR a.valid_from <= $4) AND (a.valid_to IS NULL OR a.valid_to > $4)
	AND (a.who_user_id = $1 OR a.who_group_id = ANY($2::bigint[]))`

// inUserGroups is the condition that group id expression %s is a group user
// u is in: a static membership, :all, or :non_system for a non-system user.
var inUserGroups = `(%[1]s IN (SELECT m.group_id FROM memberships m WHERE m.user_id = u.id)
	OR %[1]s = ` + strconv.FormatInt(policy.GroupAll, 10) + `
	OR (%[1]s = ` + strconv.FormatInt(policy.GroupNonSystem, 10) + ` AND u.type <> 'system'))`

// maskExpr computes the principal's rights on user u as a rights.Mask, the
// same rules as policy/model.conf's m2 expressed in SQL (the property test
// in this package shows the two agree): root has read, write and delete;
// so has the owner; entries of the user's own ACL in effect add their
// masks, and so do the entries of the ACLs of the groups u is in, with
// their rights on the groups' users. Only read, write and delete count.
var maskExpr = fmt.Sprintf(`(CASE WHEN $3 THEN %[1]d ELSE
	  (CASE WHEN u.owner_user_id = $1 OR u.owner_group_id = ANY($2::bigint[]) THEN %[1]d ELSE 0 END)
	| COALESCE((SELECT bit_or(a.mask) FROM user_acl a WHERE a.user_id = u.id AND `+activeACL+`), 0)
	| COALESCE((SELECT bit_or(a.mask) FROM group_acl a WHERE `+fmt.Sprintf(inUserGroups, "a.group_id")+` AND `+activeACL+`), 0)
	END) & %[1]d`, UserRights)

// visibleCond restricts users u to those the principal holds read on, as a
// union of index lookups rather than the mask of every row: users it owns,
// users whose ACL names it, members of groups whose ACL grants it read on
// their users, and everybody (or every non-system user) when the ACL of
// :all (or :non_system) does.
var visibleCond = fmt.Sprintf(`($3 OR u.id IN (
	SELECT o.id FROM users o WHERE o.owner_user_id = $1
	UNION SELECT o.id FROM users o WHERE o.owner_group_id = ANY($2::bigint[])
	UNION SELECT a.user_id FROM user_acl a WHERE a.mask & %[1]d <> 0 AND `+activeACL+`
	UNION SELECT m.user_id FROM group_acl a JOIN memberships m ON m.group_id = a.group_id
		WHERE a.mask & %[1]d <> 0 AND `+activeACL+`)
	OR EXISTS (SELECT 1 FROM group_acl a WHERE a.group_id = %[2]d AND a.mask & %[1]d <> 0 AND `+activeACL+`)
	OR (u.type <> 'system' AND EXISTS (SELECT 1 FROM group_acl a WHERE a.group_id = %[3]d AND a.mask & %[1]d <> 0 AND `+activeACL+`)))`,
	rights.MaskRead, policy.GroupAll, policy.GroupNonSystem)

const genDisplayname = `COALESCE(NULLIF(%[1]s.displayname, ''), NULLIF(trim(concat_ws(' ', %[1]s.first_name, %[1]s.last_name)), ''), %[1]s.login, '')`

// holdsRootExpr: user u holds system.root, its own or through a group it is
// in (a system group included).
var holdsRootExpr = `(u.system_rights ? 'system.root' OR EXISTS (SELECT 1 FROM groups g
	WHERE ` + fmt.Sprintf(inUserGroups, "g.id") + ` AND g.system_rights ? 'system.root'))`

// selectFull is the full format of users u, with owner, ACL and groups in
// short format, addresses, the principal's mask, and (%s) whether u holds
// system.root: one query, whatever the number of users.
//
// A user's groups are looked up one membership at a time by primary key
// (the LATERAL subquery, which OFFSET 0 keeps from being flattened into a
// join): as a join, the planner may choose a hash join over all groups
// when the statistics of memberships are stale, as during an import, and
// then scan every group once per user.
var selectFull = `SELECT u.id, u.version, u.type, u.login, u.first_name, u.last_name, u.displayname,
	u.frontend_language, u.reference, u.login_disabled, u.profile::text, u.frontend_prefs::text,
	u.system_rights::text, u.created_at, u.updated_at,
	COALESCE(u.owner_user_id, 0), COALESCE(u.owner_group_id, 0),
	COALESCE(ou.login, og.name), COALESCE(ou.type, og.type, ''), ` + fmt.Sprintf(genDisplayname, "ou") + `,
	COALESCE(og.displayname::text, ''),
	COALESCE((SELECT json_agg(json_build_object('id', a.id, 'wu', a.who_user_id, 'wg', a.who_group_id,
		'wo', a.who_owner, 'rights', a.rights, 'mask', a.mask, 'active', a.active, 'from', a.valid_from,
		'to', a.valid_to, 'created', a.created_at, 'name', COALESCE(wu.login, wg.name), 'type', COALESCE(wu.type, wg.type),
		'disp', ` + fmt.Sprintf(genDisplayname, "wu") + `, 'gdisp', wg.displayname) ORDER BY a.position)
		FROM user_acl a LEFT JOIN users wu ON wu.id = a.who_user_id LEFT JOIN groups wg ON wg.id = a.who_group_id
		WHERE a.user_id = u.id), '[]'),
	COALESCE((SELECT json_agg(json_build_object('email', e.email, 'use_for_login', e.use_for_login,
		'use_for_email', e.use_for_email, 'needs_confirmation', e.needs_confirmation) ORDER BY e.position)
		FROM user_emails e WHERE e.user_id = u.id), '[]'),
	COALESCE((SELECT json_agg(json_build_object('id', g.id, 'name', g.name, 'type', g.type, 'disp', g.displayname)
		ORDER BY g.id) FROM memberships m
		CROSS JOIN LATERAL (SELECT g.id, g.name, g.type, g.displayname FROM groups g WHERE g.id = m.group_id OFFSET 0) g
		WHERE m.user_id = u.id), '[]'),
	` + maskExpr + `, %s
	FROM users u
	LEFT JOIN users ou ON ou.id = u.owner_user_id
	LEFT JOIN groups og ON og.id = u.owner_group_id`

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

type groupRow struct {
	ID   int64           `json:"id"`
	Name *string         `json:"name"`
	Type string          `json:"type"`
	Disp json.RawMessage `json:"disp"`
}

func scanUser(rows *sql.Rows) (*User, error) {
	u := &User{}
	var ownerName *string
	var profile, systemRights, ownerType, ownerDisp, ownerGroupDisp, aclJSON, emailsJSON, groupsJSON string
	var frontendPrefs sql.NullString
	var mask, ownerUser, ownerGroup int64
	if err := rows.Scan(&u.ID, &u.Version, &u.Type, &u.Login, &u.FirstName, &u.LastName, &u.Displayname,
		&u.FrontendLanguage, &u.Reference, &u.LoginDisabled, &profile, &frontendPrefs, &systemRights,
		&u.CreatedAt, &u.UpdatedAt, &ownerUser, &ownerGroup, &ownerName, &ownerType, &ownerDisp, &ownerGroupDisp,
		&aclJSON, &emailsJSON, &groupsJSON, &mask, &u.HoldsRoot); err != nil {
		return nil, err
	}
	switch {
	case ownerGroup != 0:
		u.Owner = &acl.Ref{Kind: "group", ID: ownerGroup, Name: ownerName, Type: ownerType,
			GroupDisplayname: json.RawMessage(ownerGroupDisp)}
	case ownerUser != 0:
		u.Owner = &acl.Ref{Kind: "user", ID: ownerUser, Name: ownerName, Type: ownerType, Displayname: ownerDisp}
	}
	if err := json.Unmarshal([]byte(profile), &u.Profile); err != nil {
		return nil, err
	}
	if frontendPrefs.Valid {
		u.FrontendPrefs = json.RawMessage(frontendPrefs.String)
	}
	if err := json.Unmarshal([]byte(systemRights), &u.SystemRights); err != nil {
		return nil, err
	}
	var entries []aclRow
	if err := json.Unmarshal([]byte(aclJSON), &entries); err != nil {
		return nil, err
	}
	for _, r := range entries {
		e := acl.Entry{ID: r.ID, WhoOwner: r.WO, Rights: r.Rights, Mask: r.Mask, Active: r.Active,
			From: r.From, To: r.To, Created: r.Created}
		var who acl.Ref
		if r.WU != nil {
			e.WhoUserID = *r.WU
			who = acl.Ref{Kind: "user", ID: *r.WU, Displayname: r.Disp}
		} else if r.WG != nil {
			e.WhoGroupID = *r.WG
			who = acl.Ref{Kind: "group", ID: *r.WG, GroupDisplayname: r.GDisp}
		}
		who.Name = r.Name
		if r.Type != nil {
			who.Type = *r.Type
		}
		u.ACL = append(u.ACL, e)
		u.ACLWho = append(u.ACLWho, who)
	}
	if err := json.Unmarshal([]byte(emailsJSON), &u.Emails); err != nil {
		return nil, err
	}
	var groups []groupRow
	if err := json.Unmarshal([]byte(groupsJSON), &groups); err != nil {
		return nil, err
	}
	for _, g := range groups {
		u.Groups = append(u.Groups, acl.Ref{Kind: "group", ID: g.ID, Name: g.Name, Type: g.Type, GroupDisplayname: g.Disp})
	}
	u.Generated = rights.Mask(mask)
	return u, nil
}

// GroupIDs are the ids of u's static groups, ascending.
func (u *User) GroupIDs() []int64 {
	ids := make([]int64, len(u.Groups))
	for i, g := range u.Groups {
		ids[i] = g.ID
	}
	return ids
}

// Row locks of users, taken by lockForDecision. An update takes "FOR NO KEY
// UPDATE", which lets memberships referencing the user be written
// meanwhile; a delete takes "FOR UPDATE".
const (
	lockUpdate = "FOR NO KEY UPDATE"
	lockDelete = "FOR UPDATE"
)

// systemGroupIDs are the groups every user (or every non-system user) is in:
// their ACLs decide on every user.
var systemGroupIDs = []int64{policy.GroupAll, policy.GroupNonSystem}

// lockForDecision locks, before a write reads anything it decides on, the
// rows of that decision: first the groups (FOR SHARE) that the users
// userIDs are in, the system groups when there are such users, and the
// groups groupIDs; then the users themselves with userLock. Each table is
// locked in id order, groups before users, as every write locks them (a
// group write locks its groups and then, through its foreign keys, the users
// its ACL names), so that concurrent writes cannot deadlock.
//
// Locks are taken by statements of their own, never by the statement that
// reads: in READ COMMITTED a statement that waited for a row lock sees the
// row's new version, but every other table (the group's ACL, the user's
// memberships) as it was when the statement began, that is, as it was before
// the write it waited for. The reads that follow start after the locks are
// held and see every write that held them committed.
//
// A write that changes a group's type, owner, ACL or system rights holds
// the group's row FOR UPDATE until it commits, so a decision made on locked
// rows stays true until the deciding write commits. A membership added
// after the groups are locked and before the users are (by a write that
// committed meanwhile) is the one gap: its group is read but not locked.
func lockForDecision(ctx context.Context, tx *sql.Tx, userIDs []int64, userLock string, groupIDs []int64) error {
	if len(userIDs) > 0 {
		groupIDs = append(groupIDs, systemGroupIDs...)
	}
	if len(userIDs)+len(groupIDs) > 0 {
		if _, err := tx.ExecContext(ctx, `SELECT g.id FROM groups g
			WHERE g.id = ANY($2::bigint[]) OR g.id IN (SELECT m.group_id FROM memberships m WHERE m.user_id = ANY($1::bigint[]))
			ORDER BY g.id FOR SHARE`, pq.Array(userIDs), pq.Array(groupIDs)); err != nil {
			return errors.Database(err)
		}
	}
	if len(userIDs) > 0 {
		if _, err := tx.ExecContext(ctx, `SELECT id FROM users WHERE id = ANY($1::bigint[]) ORDER BY id `+userLock,
			pq.Array(userIDs)); err != nil {
			return errors.Database(err)
		}
	}
	return nil
}

// findOptions say what findUsers loads.
type findOptions struct {
	// forDecision: also what a decision on the users needs: whether each
	// holds system.root, and the ACLs of the groups each is in.
	forDecision bool
}

// findUsers loads the users with the given ids in full format, in id order.
// A write locks them first (lockForDecision).
func findUsers(ctx context.Context, tx *sql.Tx, p *policy.Principal, now time.Time, ids []int64, opt findOptions) ([]*User, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	root := "false"
	if opt.forDecision {
		root = holdsRootExpr
	}
	q := fmt.Sprintf(selectFull, root) + ` WHERE u.id = ANY($5::bigint[]) ORDER BY u.id`
	out, err := queryUsers(ctx, tx, q, append(principalArgs(p, now), pq.Array(ids))...)
	if err != nil || !opt.forDecision {
		return out, err
	}
	return out, loadGroupACLs(ctx, tx, out)
}

func queryUsers(ctx context.Context, tx *sql.Tx, q string, args ...any) ([]*User, error) {
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, errors.Database(err)
	}
	out, err := db.Collect(rows, scanUser)
	if err != nil {
		return nil, errors.Database(err)
	}
	return out, nil
}

// entryRow is an ACL entry as loadGroupACLs and loadGroups read it: only
// what a decision looks at.
type entryRow struct {
	ID     int64       `json:"id"`
	WU     *int64      `json:"wu"`
	WG     *int64      `json:"wg"`
	WO     bool        `json:"wo"`
	Mask   rights.Mask `json:"mask"`
	Active bool        `json:"active"`
	From   *time.Time  `json:"from"`
	To     *time.Time  `json:"to"`
}

func (r entryRow) entry() acl.Entry {
	e := acl.Entry{ID: r.ID, WhoOwner: r.WO, Mask: r.Mask, Active: r.Active, From: r.From, To: r.To}
	if r.WU != nil {
		e.WhoUserID = *r.WU
	}
	if r.WG != nil {
		e.WhoGroupID = *r.WG
	}
	return e
}

const entryJSON = `json_agg(json_build_object('id', a.id, 'wu', a.who_user_id, 'wg', a.who_group_id, 'wo', a.who_owner,
	'mask', a.mask, 'active', a.active, 'from', a.valid_from, 'to', a.valid_to) ORDER BY a.position)`

// loadGroupACLs sets the groupACLs of users: for every group each is in
// (static, :all, and :non_system for non-system users) that has an ACL, the
// ACL, in one query.
func loadGroupACLs(ctx context.Context, tx *sql.Tx, users []*User) error {
	ids := make([]int64, len(users))
	byID := make(map[int64]*User, len(users))
	for i, u := range users {
		ids[i], byID[u.ID] = u.ID, u
		u.groupACLs = []policy.GroupACL{}
	}
	rows, err := tx.QueryContext(ctx, `WITH ug AS (
			SELECT m.user_id, m.group_id FROM memberships m WHERE m.user_id = ANY($1::bigint[])
			UNION SELECT u.id, $2::bigint FROM users u WHERE u.id = ANY($1::bigint[])
			UNION SELECT u.id, $3::bigint FROM users u WHERE u.id = ANY($1::bigint[]) AND u.type <> 'system')
		SELECT ug.user_id, ug.group_id, `+entryJSON+`
		FROM ug JOIN group_acl a ON a.group_id = ug.group_id
		GROUP BY ug.user_id, ug.group_id ORDER BY ug.user_id, ug.group_id`,
		pq.Array(ids), policy.GroupAll, policy.GroupNonSystem)
	if err != nil {
		return errors.Database(err)
	}
	defer rows.Close()
	for rows.Next() {
		var userID, groupID int64
		var js string
		if err := rows.Scan(&userID, &groupID, &js); err != nil {
			return errors.Database(err)
		}
		var entries []entryRow
		if err := json.Unmarshal([]byte(js), &entries); err != nil {
			return errors.Database(err)
		}
		ga := policy.GroupACL{GroupID: groupID}
		for _, r := range entries {
			ga.ACL = append(ga.ACL, r.entry())
		}
		u := byID[userID]
		u.groupACLs = append(u.groupACLs, ga)
	}
	return rows.Err()
}

// groupInfo is a group as a membership decision needs it.
type groupInfo struct {
	ID        int64
	Type      string
	HoldsRoot bool // its _system_rights grant system.root
	obj       *policy.Object
}

func (g *groupInfo) IsSystem() bool { return g.Type == "system" }

// loadGroups loads, in one query, the groups with the given ids as the
// policy engine decides on them (type, owner, ACL); missing ids are absent
// from the result. A write locks them first (lockForDecision).
func loadGroups(ctx context.Context, tx *sql.Tx, ids []int64) (map[int64]*groupInfo, error) {
	out := map[int64]*groupInfo{}
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := tx.QueryContext(ctx, `SELECT g.id, g.type, g.system_rights ? 'system.root',
			COALESCE(g.owner_user_id, 0), COALESCE(g.owner_group_id, 0),
			COALESCE((SELECT `+entryJSON+` FROM group_acl a WHERE a.group_id = g.id), '[]')
		FROM groups g WHERE g.id = ANY($1::bigint[])`, pq.Array(ids))
	if err != nil {
		return nil, errors.Database(err)
	}
	defer rows.Close()
	for rows.Next() {
		g := &groupInfo{obj: &policy.Object{Kind: "group"}}
		var js string
		if err := rows.Scan(&g.ID, &g.Type, &g.HoldsRoot, &g.obj.OwnerUserID, &g.obj.OwnerGroupID, &js); err != nil {
			return nil, errors.Database(err)
		}
		var entries []entryRow
		if err := json.Unmarshal([]byte(js), &entries); err != nil {
			return nil, errors.Database(err)
		}
		for _, r := range entries {
			g.obj.ACL = append(g.obj.ACL, r.entry())
		}
		g.obj.ID, g.obj.GroupType = g.ID, g.Type
		out[g.ID] = g
	}
	if err := rows.Err(); err != nil {
		return nil, errors.Database(err)
	}
	return out, nil
}

// Get returns user id in full format with p's rights on it (Generated), or
// nil when there is no such user. It does not decide whether p may read
// it; PolicyObject of the result is complete for that decision.
func (s *Store) Get(ctx context.Context, p *policy.Principal, id int64) (*User, error) {
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, errors.Database(err)
	}
	defer tx.Rollback()
	us, err := findUsers(ctx, tx, p, s.db.Now(), []int64{id}, findOptions{forDecision: true})
	if err != nil || len(us) == 0 {
		return nil, err
	}
	return us[0], nil
}

// List returns the page of users p may read that match f, and the number of
// all such users. Visibility is decided in SQL, never row by row. The page is
// ordered by id; with a login filter, by match quality first (the login
// itself, then logins that start with it, then those that contain it), so
// that "user1" is on the first page among user1000..user1999.
func (s *Store) List(ctx context.Context, p *policy.Principal, f Filter) ([]*User, int, error) {
	args := db.Args(principalArgs(p, s.db.Now()))
	conds := []string{visibleCond}
	if f.GroupIDs != nil {
		g := args.Add(pq.Array(f.GroupIDs))
		conds = append(conds, fmt.Sprintf(`(u.id IN (SELECT user_id FROM memberships WHERE group_id = ANY(%[1]s::bigint[]))
			OR %[2]d = ANY(%[1]s::bigint[]) OR (%[3]d = ANY(%[1]s::bigint[]) AND u.type <> 'system'))`,
			g, policy.GroupAll, policy.GroupNonSystem))
	}
	if len(f.Types) > 0 {
		conds = append(conds, "u.type = ANY("+args.Add(pq.Array(f.Types))+"::text[])")
	}
	if f.Login != "" {
		conds = append(conds, "u.login ILIKE "+args.Add("%"+db.EscapeLike(f.Login)+"%"))
	}
	if f.Name != "" {
		like := args.Add("%" + db.EscapeLike(f.Name) + "%")
		conds = append(conds, fmt.Sprintf(`(u.first_name ILIKE %[1]s OR u.last_name ILIKE %[1]s OR u.displayname ILIKE %[1]s
			OR concat_ws(' ', u.first_name, u.last_name) ILIKE %[1]s)`, like))
	}
	if f.Email != "" {
		conds = append(conds, "EXISTS (SELECT 1 FROM user_emails e WHERE e.user_id = u.id AND e.email ILIKE "+
			args.Add("%"+db.EscapeLike(f.Email)+"%")+")")
	}
	where := " WHERE " + strings.Join(conds, " AND ")

	// The transaction begins once the statements are built: the count and
	// the page see one snapshot.
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true, Isolation: sql.LevelRepeatableRead})
	if err != nil {
		return nil, 0, errors.Database(err)
	}
	defer tx.Rollback()
	var total int
	if scanErr := tx.QueryRowContext(ctx, `SELECT count(*) FROM users u`+where, args...).Scan(&total); scanErr != nil {
		return nil, 0, errors.Database(scanErr)
	}
	if total == 0 || f.Offset >= total {
		return []*User{}, total, nil
	}
	// The order's arguments come after the count's, which does not use them.
	order := "u.id"
	if f.Login != "" {
		order = fmt.Sprintf("CASE WHEN lower(u.login) = lower(%s) THEN 0 WHEN u.login ILIKE %s THEN 1 ELSE 2 END, u.id",
			args.Add(f.Login), args.Add(db.EscapeLike(f.Login)+"%"))
	}
	q := listQuery(where, order, args.Add(f.Limit), args.Add(f.Offset))
	out, err := queryUsers(ctx, tx, q, args...)
	if err != nil {
		return nil, 0, err
	}
	return out, total, nil
}

// listQuery is the page of users u matching where, in full format. The
// page's ids are chosen first, from the primary key and the conditions
// alone; only then are the addresses, groups, ACL and mask computed, for
// those ids: with the full format in the same query as LIMIT and OFFSET,
// PostgreSQL computes it for the rows OFFSET skips too, and a deep page
// costs many times the first. order is an ORDER BY list
// over u that ends in u.id (a total order, so that pages do not overlap).
func listQuery(where, order, limit, offset string) string {
	return fmt.Sprintf(selectFull, "false") + ` WHERE u.id IN (SELECT u.id FROM users u` + where +
		" ORDER BY " + order + " LIMIT " + limit + " OFFSET " + offset + ") ORDER BY " + order
}
