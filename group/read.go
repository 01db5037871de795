package group

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"regexp"
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

// Reading groups: the full format in SQL, the principal's rights computed
// by the query, and the lookups by id (findGroups, Get) and by filter
// (List) that every read and write of groups uses.

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
const activeACL = inEffect + ` AND (a.who_user_id = $1 OR a.who_group_id = ANY($2::bigint[]))`

// maskExpr computes the principal's rights on group g as a rights.Mask, the
// same rules as policy/model.conf expressed in SQL (the property test in
// this package shows the two agree): root has all; the owner has bag_*; a
// static member of an easydb group has bag_read; global_custom_bag_read
// gives bag_read on custom groups; ACL entries in effect add their masks.
var maskExpr = rightsMask(aclMaskScan)

// listMaskExpr is maskExpr for a listing's page: the same rules, with the
// ACL entries' masks found by index (aclMaskByIndex).
var listMaskExpr = rightsMask(aclMaskByIndex)

// rightsMask is the principal's rights on group g, with aclMask (an
// expression of g and the principal) the masks of g's ACL entries in effect
// that name the principal, or'ed, 0 for none.
func rightsMask(aclMask string) string {
	return fmt.Sprintf(`CASE WHEN $4 THEN %d ELSE
	  (CASE WHEN g.owner_user_id = $1 OR g.owner_group_id = ANY($2::bigint[]) THEN %d ELSE 0 END)
	| (CASE WHEN g.type = 'easydb' AND g.id = ANY($3::bigint[]) THEN %d ELSE 0 END)
	| (CASE WHEN $5 AND g.type LIKE 'custom-%%' THEN %d ELSE 0 END)
	| %s
	END`,
		allRights, rights.OwnerMask, rights.MaskBagRead, rights.MaskBagRead, aclMask)
}

// aclMaskScan reads g's ACL entries and keeps those naming the principal:
// one lookup, which visits the heap page of every entry of g.
const aclMaskScan = `COALESCE((SELECT bit_or(a.mask) FROM group_acl a WHERE a.group_id = g.id AND ` + activeACL + `), 0)`

// aclMaskByIndex finds the entries naming the principal as the user and as
// one of its groups apart, each an index-only scan of the index visibleIDs
// uses (migration 0003), which holds the mask and the window: for a page of
// 100 groups, half the PostgreSQL time of aclMaskScan's 100 heap lookups
// (docs/benchmarks.md, "A reader's page").
const aclMaskByIndex = `(COALESCE((SELECT bit_or(a.mask) FROM group_acl a WHERE a.who_user_id = $1 AND a.group_id = g.id AND ` + inEffect + `), 0)
	| COALESCE((SELECT bit_or(a.mask) FROM group_acl a WHERE a.who_group_id = ANY($2::bigint[]) AND a.group_id = g.id AND ` + inEffect + `), 0))`

const allRights = rights.MaskBagRead | rights.MaskBagWrite | rights.MaskBagDelete | rights.MaskLink |
	rights.MaskUnlink | rights.MaskRead | rights.MaskWrite | rights.MaskDelete

// visibleIDs is the ids of the groups a principal other than root holds
// bag_read on, as a union of index lookups rather than the mask of every
// row; the ACL branches are index-only scans (migration 0003), one for the
// user and one for its groups, since an OR of the two would visit every
// entry's heap page.
var visibleIDs = fmt.Sprintf(`SELECT o.id FROM groups o WHERE o.owner_user_id = $1
	UNION SELECT o.id FROM groups o WHERE o.owner_group_id = ANY($2::bigint[])
	UNION SELECT o.id FROM groups o WHERE o.id = ANY($3::bigint[]) AND o.type = 'easydb'
	UNION SELECT a.group_id FROM group_acl a WHERE a.who_user_id = $1 AND a.mask & %[1]d <> 0 AND `+inEffect+`
	UNION SELECT a.group_id FROM group_acl a WHERE a.who_group_id = ANY($2::bigint[]) AND a.mask & %[1]d <> 0 AND `+inEffect+`
	UNION SELECT o.id FROM groups o WHERE $5 AND o.type LIKE 'custom-%%'`, rights.MaskBagRead)

// inEffect is the condition that ACL entry a is in effect at $6.
const inEffect = `a.active AND (a.valid_from IS NULL OR a.valid_from <= $6) AND (a.valid_to IS NULL OR a.valid_to > $6)`

const genDisplayname = `COALESCE(NULLIF(%[1]s.displayname, ''), NULLIF(trim(concat_ws(' ', %[1]s.first_name, %[1]s.last_name)), ''), %[1]s.login, '')`

// selectFull is the full format of groups g, with the owner in short format
// and the principal's mask (loadACLs adds the ACL entries): two queries,
// whatever the number of groups.
var selectFull = selectFormat(maskExpr, ownerJoins)

// listFull is selectFull for a listing's page: the same columns, with
// listMaskExpr and the owners looked up group by group (ownerLookups).
var listFull = selectFormat(listMaskExpr, ownerLookups)

// selectFormat is the select list of the full format with mask as the
// principal's rights, from groups g and owners joins ou (users) and og
// (groups).
func selectFormat(mask, owners string) string {
	return `SELECT ` + fullColumns(mask) + `
	FROM groups g` + owners
}

// fullColumns are the full format's columns of group g, with its owner in
// short format (ou when a user, og when a group) and mask as the
// principal's rights.
func fullColumns(mask string) string {
	return `g.id, g.version, g.type, g.name, g.displayname::text, g.comment, g.reference,
	g.frontend_prefs::text, g.authorization_info, g.system_rights::text, g.created_at::text, g.updated_at::text,
	COALESCE(g.owner_user_id, 0), COALESCE(g.owner_group_id, 0),
	COALESCE(ou.login, og.name), COALESCE(ou.type, og.type, ''), ` + fmt.Sprintf(genDisplayname, "ou") + `,
	COALESCE(og.displayname::text, ''),
	` + mask + `, g.color`
}

const ownerJoins = `
	LEFT JOIN users ou ON ou.id = g.owner_user_id
	LEFT JOIN groups og ON og.id = g.owner_group_id`

// ownerLookups reads each group's owner by primary key (byID). As joins,
// the planner, which cannot know the size of a page (an array computed by
// the statement), may hash every group to join the page's owning groups.
var ownerLookups = byID("users", "ou", "g.owner_user_id") + byID("groups", "og", "g.owner_group_id")

// scanGroup reads a row of selectFull; extra receives columns after it.
func scanGroup(rows *sql.Rows, extra ...any) (*Group, error) {
	g := &Group{}
	var displayname, systemRights, ownerDisp string
	var frontendPrefs sql.NullString
	var mask, ownerUser, ownerGroup int64
	var created, updated db.Timestamp
	dest := []any{&g.ID, &g.Version, &g.Type, &g.Name, &displayname, &g.Comment, &g.Reference,
		&frontendPrefs, &g.AuthorizationInfo, &systemRights, &created, &updated,
		&ownerUser, &ownerGroup, &g.Owner.Name, &g.Owner.Type, &g.Owner.Displayname, &ownerDisp, &mask, &g.Color}
	if err := rows.Scan(append(dest, extra...)...); err != nil {
		return nil, err
	}
	g.CreatedAt, g.UpdatedAt = created.Time, updated.Time
	g.setOwner(ownerUser, ownerGroup, ownerDisp)
	return g, g.fill(displayname, frontendPrefs, systemRights, mask)
}

func (g *Group) setOwner(ownerUser, ownerGroup int64, ownerDisp string) {
	if ownerGroup != 0 {
		g.Owner.Kind, g.Owner.ID = "group", ownerGroup
		g.Owner.GroupDisplayname, g.Owner.Displayname = json.RawMessage(ownerDisp), ""
	} else {
		g.Owner.Kind, g.Owner.ID = "user", ownerUser
	}
}

// appendEntry adds an ACL entry read from the database, with its subject.
func (g *Group) appendEntry(e acl.Entry, who acl.Ref, from, to *time.Time, groupDisplayname string) {
	e.From, e.To = from, to
	switch {
	case e.WhoUserID != 0:
		who.Kind, who.ID = "user", e.WhoUserID
	case e.WhoGroupID != 0:
		who.Kind, who.ID, who.Displayname, who.GroupDisplayname = "group", e.WhoGroupID, "", json.RawMessage(groupDisplayname)
	}
	g.ACL = append(g.ACL, e)
	g.ACLWho = append(g.ACLWho, who)
}

func (g *Group) fill(displayname string, frontendPrefs sql.NullString, systemRights string, mask int64) error {
	if err := json.Unmarshal([]byte(displayname), &g.Displayname); err != nil {
		return err
	}
	if frontendPrefs.Valid {
		g.FrontendPrefs = json.RawMessage(frontendPrefs.String)
	}
	if err := json.Unmarshal([]byte(systemRights), &g.SystemRights); err != nil {
		return err
	}
	g.Generated = rights.Mask(mask)
	return nil
}

// getQuery reads one group with its ACL entries in one statement, one row
// per entry (or one row with no entry): the read path of GET /group/<id> is
// a single round trip, as a bare SELECT by primary key is. It runs on every
// read by id and every single update, as a prepared statement: PostgreSQL
// plans it for the first five executions on a connection, then keeps one
// generic plan (it costs no more than those five) for every id and
// principal, until a table's statistics change. Its shape keeps that one
// plan good whatever the id, the principal or the table sizes:
//   - the group, its owner and the principal's mask are a subquery of one
//     row behind OFFSET 0, which PostgreSQL does not merge into the outer
//     query, so the mask is computed once per group, not once per ACL row;
//   - every other row (owner, ACL subjects) is looked up by primary key
//     (byID), never joined as a whole table, so no plan can hash or
//     merge-scan all users or groups for ten names.
var getQuery = opaqueParams(`SELECT gf.*,
	acl.id, COALESCE(acl.who_user_id, 0), COALESCE(acl.who_group_id, 0), COALESCE(acl.who_owner, false),
	acl.rights::text, COALESCE(acl.mask, 0), COALESCE(acl.active, false), acl.valid_from::text, acl.valid_to::text,
	acl.created_at::text,
	acl.wname, COALESCE(acl.wtype, ''), COALESCE(acl.wdisp, ''), COALESCE(acl.wgdisp, '')
	FROM (SELECT `+fullColumns(maskExpr)+`
		FROM groups g`+ownerLookups+`
		WHERE g.id = $7 OFFSET 0) gf
	LEFT JOIN LATERAL (SELECT a.*, COALESCE(wu.login, wg.name) AS wname, COALESCE(wu.type, wg.type, '') AS wtype,
		`+fmt.Sprintf(genDisplayname, "wu")+` AS wdisp, COALESCE(wg.displayname::text, '') AS wgdisp
		FROM group_acl a`+byID("users", "wu", "a.who_user_id")+byID("groups", "wg", "a.who_group_id")+`
		WHERE a.group_id = gf.id) acl ON true
	ORDER BY acl.position`, getParamTypes)

// getParamTypes are getQuery's parameters: the principal's (principalArgs)
// and the group's id.
var getParamTypes = []string{"bigint", "bigint[]", "bigint[]", "boolean", "boolean", "timestamptz", "bigint"}

// opaqueParams hands query's every parameter $n to the planner as a
// subquery's value, (SELECT $n::type)::type, which a custom plan sees into
// no more than a generic plan does: both estimate alike and cost the same,
// so after its five custom plans on a connection PostgreSQL always keeps
// the generic one (it compares the generic plan's cost with the custom
// plans' cost plus their planning). With the values visible, the choice
// went by the statistics of the moment: after a bulk import, most
// connections planned every read by id anew (1.3 ms of planning to 0.26 ms
// of execution; docs/benchmarks.md, "Planning on every call").
// TestGetQueryPlansCostAlike checks the costs.
func opaqueParams(query string, types []string) string {
	return paramRef.ReplaceAllStringFunc(query, func(ref string) string {
		n, _ := strconv.Atoi(strings.TrimPrefix(strings.SplitN(ref, "::", 2)[0], "$"))
		t := types[n-1]
		return "(SELECT $" + strconv.Itoa(n) + "::" + t + ")::" + t
	})
}

// paramRef is a parameter reference, with the cast some carry.
var paramRef = regexp.MustCompile(`\$[0-9]+(::bigint\[\])?`)

// byID left-joins the row of table whose id is key as alias: a lateral
// subquery behind OFFSET 0, which PostgreSQL cannot turn into a join of the
// whole table, so in every plan it is one primary-key lookup per row.
func byID(table, alias, key string) string {
	return fmt.Sprintf("\n\t\tLEFT JOIN LATERAL (SELECT * FROM %[1]s %[2]s WHERE %[2]s.id = %[3]s OFFSET 0) %[2]s ON true",
		table, alias, key)
}

var findQuery = selectFull + ` WHERE g.id = ANY($7::bigint[]) ORDER BY g.id`

var findOneQuery = selectFull + ` WHERE g.id = $7`

// listPageQuery reads a listing's page, ids $7, in full format.
var listPageQuery = listFull + ` WHERE g.id = ANY($7::bigint[]) ORDER BY g.id`

const forUpdate = ` FOR UPDATE OF g`

// findOptions say how findGroups reads.
type findOptions struct {
	// lock: lock the groups for update.
	lock bool
}

// findGroups loads the groups with the given ids in full format, in id order,
// locking them for update with opt.lock (in id order, so that concurrent
// bulk writes cannot deadlock). The lock is taken by the statement that
// reads: after waiting for a concurrent write of a group, that statement
// sees the group's row as the write committed it (READ COMMITTED re-reads
// a locked row), though its subqueries see the database as it was before.
// A decision uses only the row's own columns (type, owner, system rights,
// version) and the ACL, which loadACLs reads in a statement of its own,
// after the lock; the subqueries feed only _generated_rights and owner
// names.
func (s *Store) findGroups(ctx context.Context, tx *sql.Tx, p *policy.Principal, now time.Time, ids []int64, opt findOptions) ([]*Group, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	stmt, arg := s.find, any(pq.Array(ids))
	if opt.lock {
		stmt = s.findLocked
	}
	if len(ids) == 1 {
		// One group (every single-group write): a statement with id = $7.
		// PostgreSQL plans one with = ANY($7) anew at each execution, since
		// its generic plan assumes an array of ten, and the planning would
		// cost more than the work.
		q := findOneQuery
		if opt.lock {
			q += forUpdate
		}
		var err error
		if stmt, err = s.db.Prepared(ctx, q); err != nil {
			return nil, errors.Database(err)
		}
		arg = ids[0]
	}
	rows, err := tx.StmtContext(ctx, stmt).QueryContext(ctx, append(principalArgs(p, now), arg)...)
	if err != nil {
		return nil, errors.Database(err)
	}
	out, err := db.Collect(rows, func(r *sql.Rows) (*Group, error) { return scanGroup(r) })
	if err != nil {
		return nil, errors.Database(err)
	}
	return out, s.loadACLs(ctx, tx, out)
}

// aclQuery reads the ACL entries of groups with the count of renames its
// snapshot sees; their subjects' names come from the names cache.
var aclQuery = `SELECT a.group_id, a.id, COALESCE(a.who_user_id, 0), COALESCE(a.who_group_id, 0),
	a.who_owner, a.rights, a.mask, a.active, a.valid_from::text, a.valid_to::text, a.created_at::text, ` + namesVersion + `
	FROM group_acl a
	WHERE a.group_id = ANY($1::bigint[]) ORDER BY a.group_id, a.position`

var aclOneQuery = strings.Replace(aclQuery, "a.group_id = ANY($1::bigint[])", "a.group_id = $1", 1)

// loadACLs fills in the ACL entries of groups, with their subjects in short
// format, in one query for all of them and one for the subjects the names
// cache lacks. The rights stay as stored text (acl.Entry.Stored): output
// passes it through, decisions use the mask. tx has written nothing (a
// write's answer is built from its plans), so what it reads may go into the
// names cache (names.resolve).
func (s *Store) loadACLs(ctx context.Context, tx *sql.Tx, groups []*Group) error {
	if len(groups) == 0 {
		return nil
	}
	ids := make([]int64, len(groups))
	byID := make(map[int64]*Group, len(groups))
	for i, g := range groups {
		ids[i], byID[g.ID] = g.ID, g
	}
	stmt, arg := s.findACL, any(pq.Array(ids))
	if len(ids) == 1 {
		var err error
		if stmt, err = s.db.Prepared(ctx, aclOneQuery); err != nil { // as findOneQuery
			return errors.Database(err)
		}
		arg = ids[0]
	}
	rows, err := tx.StmtContext(ctx, stmt).QueryContext(ctx, arg)
	if err != nil {
		return errors.Database(err)
	}
	defer rows.Close()
	// The entries of all groups go into one slice, each group's a window of
	// it (the rows come ordered by group), rather than a slice per group
	// grown entry by entry.
	entries := make([]acl.Entry, 0, 8*len(groups))
	var owners []int64 // the group of each entry
	var version, groupID int64
	// One set of scan targets for every row, each row copied out of it:
	// targets declared per row escape to the heap, five allocations a row.
	// The entries' stored rights are copied into one buffer, each entry's
	// its window of it (ends), rather than a copy per entry.
	var e acl.Entry
	var from, to, created db.Timestamp
	var stored sql.RawBytes
	var storedAll []byte
	var ends []int
	dest := []any{&groupID, &e.ID, &e.WhoUserID, &e.WhoGroupID, &e.WhoOwner, &stored, &e.Mask,
		&e.Active, &from, &to, &created, &version}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return errors.Database(err)
		}
		e.From, e.To, e.Created = from.Ptr(), to.Ptr(), created.Time
		storedAll = append(storedAll, stored...)
		entries = append(entries, e)
		owners = append(owners, groupID)
		ends = append(ends, len(storedAll))
	}
	if err := rows.Err(); err != nil {
		return errors.Database(err)
	}
	rows.Close()
	for i, start := 0, 0; i < len(entries); i++ {
		entries[i].Stored = storedAll[start:ends[i]:ends[i]]
		start = ends[i]
	}
	who := make([]acl.Ref, len(entries))
	refs := make([]*acl.Ref, 0, len(entries))
	for i := 0; i < len(entries); {
		j := i
		for j < len(entries) && owners[j] == owners[i] {
			e := &entries[j]
			switch {
			case e.WhoUserID != 0:
				who[j].Kind, who[j].ID = "user", e.WhoUserID
				refs = append(refs, &who[j])
			case e.WhoGroupID != 0:
				who[j].Kind, who[j].ID = "group", e.WhoGroupID
				refs = append(refs, &who[j])
			}
			j++
		}
		g := byID[owners[i]]
		g.ACL, g.ACLWho = entries[i:j:j], who[i:j:j]
		i = j
	}
	return s.names.resolve(ctx, s.db, tx, true, version, refs)
}

// Get returns group id in full format with p's rights on it (Generated), or
// nil when there is no such group. It does not decide whether p may read it.
func (s *Store) Get(ctx context.Context, p *policy.Principal, id int64) (*Group, error) {
	rows, err := s.getOne.QueryContext(ctx, append(principalArgs(p, s.db.Now()), id)...)
	if err != nil {
		return nil, errors.Database(err)
	}
	defer rows.Close()
	var g *Group
	var displayname, systemRights, ownerDisp string
	var frontendPrefs sql.NullString
	var mask, ownerUser, ownerGroup int64
	var created, updated db.Timestamp
	first := []any{nil, nil, nil, nil, &displayname, nil, nil, &frontendPrefs, nil, &systemRights, &created, &updated,
		&ownerUser, &ownerGroup, nil, nil, nil, &ownerDisp, &mask, nil}
	// Every row repeats the group's columns; after the first they are read
	// as raw bytes, never decoded or copied.
	skip := make([]any, len(first))
	for i := range skip {
		skip[i] = new(sql.RawBytes)
	}
	for rows.Next() {
		var aclID sql.NullInt64
		var e acl.Entry
		var who acl.Ref
		var stored []byte
		var from, to, aclCreated db.Timestamp
		var gdisp string
		dest, isFirst := skip, g == nil
		if isFirst {
			g = &Group{}
			first[0], first[1], first[2], first[3] = &g.ID, &g.Version, &g.Type, &g.Name
			first[5], first[6], first[8] = &g.Comment, &g.Reference, &g.AuthorizationInfo
			first[14], first[15], first[16] = &g.Owner.Name, &g.Owner.Type, &g.Owner.Displayname
			first[19] = &g.Color
			dest = first
		}
		if err := rows.Scan(append(dest[:len(dest):len(dest)], &aclID, &e.WhoUserID, &e.WhoGroupID, &e.WhoOwner, &stored,
			&e.Mask, &e.Active, &from, &to, &aclCreated, &who.Name, &who.Type, &who.Displayname, &gdisp)...); err != nil {
			return nil, errors.Database(err)
		}
		if isFirst {
			g.CreatedAt, g.UpdatedAt = created.Time, updated.Time
			g.setOwner(ownerUser, ownerGroup, ownerDisp)
			if err := g.fill(displayname, frontendPrefs, systemRights, mask); err != nil {
				return nil, errors.Database(err)
			}
		}
		if !aclID.Valid {
			continue
		}
		e.ID, e.Stored, e.Created = aclID.Int64, stored, aclCreated.Time
		g.appendEntry(e, who, from.Ptr(), to.Ptr(), gdisp)
	}
	if err := rows.Err(); err != nil {
		return nil, errors.Database(err)
	}
	return g, nil
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
	args := db.Args(principalArgs(p, s.db.Now()))
	nPrincipal := len(args)
	var conds []string
	if f.IDs != nil {
		conds = append(conds, "g.id = ANY("+args.Add(pq.Array(f.IDs))+"::bigint[])")
	}
	if len(f.Types) > 0 {
		conds = append(conds, "g.type = ANY("+args.Add(pq.Array(f.Types))+"::text[])")
	}
	if f.Name != "" {
		pat := args.Add("%" + db.EscapeLike(f.Name) + "%")
		conds = append(conds, "(g.name ILIKE "+pat+" OR EXISTS (SELECT 1 FROM group_displaynames d WHERE d.group_id = g.id AND d.value ILIKE "+pat+"))")
	}
	if f.Reference != nil {
		conds = append(conds, "g.reference = "+args.Add(*f.Reference))
	}
	if f.Member != 0 {
		m := args.Add(f.Member)
		conds = append(conds, fmt.Sprintf(`(g.id IN (SELECT group_id FROM memberships WHERE user_id = %[1]s)
			OR (g.id = %[2]d AND EXISTS (SELECT 1 FROM users WHERE id = %[1]s))
			OR (g.id = %[3]d AND EXISTS (SELECT 1 FROM users WHERE id = %[1]s AND type <> 'system')))`,
			m, policy.GroupAll, policy.GroupNonSystem))
	}
	limit, offset := args.Add(f.Limit), args.Add(f.Offset)

	// Two statements: the page's ids and the total, then the page's rows.
	//
	// The first is planned each time: a prepared statement may switch to
	// its generic plan after five runs, which for the visible set guesses
	// at the size of the principal's arrays, and is slower and far less
	// steady. Root sees every group: the page is cut along the primary key
	// and the total counted apart, both without visibility. Anyone else
	// sees what visibleIDs finds, a set found once (the CTE), counted, and
	// the page cut from it. (principal types the parameters the statement
	// does not use.)
	const principal = `WITH principal AS (SELECT $1::bigint, $2::bigint[], $3::bigint[], $4::boolean, $5::boolean, $6::timestamptz)`
	var q string
	if p.IsRoot() {
		matches := `SELECT g.id FROM groups g`
		if len(conds) > 0 {
			matches += " WHERE " + strings.Join(conds, " AND ")
		}
		q = principal + ` SELECT (SELECT count(*) FROM (` + matches + `) m),
		ARRAY(` + matches + ` ORDER BY g.id LIMIT ` + limit + ` OFFSET ` + offset + `)`
	} else {
		matches := visibleIDs
		if len(conds) > 0 {
			matches = `SELECT g.id FROM groups g WHERE g.id IN (` + visibleIDs + `) AND ` + strings.Join(conds, " AND ")
		}
		q = principal + `, matches AS MATERIALIZED (` + matches + `)
		SELECT (SELECT count(*) FROM matches), ARRAY(SELECT id FROM matches ORDER BY id LIMIT ` + limit + ` OFFSET ` + offset + `)`
	}
	var total int
	var ids pq.Int64Array
	if err = tx.QueryRowContext(ctx, q, args...).Scan(&total, &ids); err != nil {
		return nil, 0, errors.Database(err)
	}
	if len(ids) == 0 {
		// an empty page (no matches, or an offset past them), as a
		// listing of none: an empty slice, never nil
		return []*Group{}, total, nil
	}
	// The second reads the page's rows by primary key, whatever the page:
	// prepared, its generic plan does just that, and the page is not
	// planned anew each time (half the planning of a reader's page).
	stmt, err := s.db.Prepared(ctx, listPageQuery)
	if err != nil {
		return nil, 0, errors.Database(err)
	}
	rows, err := tx.StmtContext(ctx, stmt).QueryContext(ctx, append(args[:nPrincipal:nPrincipal], pq.Array([]int64(ids)))...)
	if err != nil {
		return nil, 0, errors.Database(err)
	}
	out, err := db.Collect(rows, func(r *sql.Rows) (*Group, error) { return scanGroup(r) })
	if err != nil {
		return nil, 0, errors.Database(err)
	}
	return out, total, s.loadACLs(ctx, tx, out)
}
