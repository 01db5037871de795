package group

import (
	"context"
	"database/sql"
	"encoding/json"
	"strconv"
	"time"

	"github.com/groupd/groupd/acl"
	"github.com/groupd/groupd/audit"
	"github.com/groupd/groupd/db"
	"github.com/groupd/groupd/errors"
	"github.com/groupd/groupd/policy"
	"github.com/groupd/groupd/rights"
	"github.com/lib/pq"
)

// plan is one item's decided outcome: the group as it will be written.
type plan struct {
	in     *Input
	before *Group // nil for a create

	id                                   int64
	version                              int64
	typ                                  string
	name                                 *string
	displayname                          map[string]string
	comment, reference, authorization    *string
	frontendPrefs                        json.RawMessage
	color                                *string
	systemRights                         rights.Map
	ownerUser, ownerGroup                int64
	acl                                  []acl.Entry
	aclChanged, rightsChanged, dnChanged bool
}

// Write creates and updates groups for principal p, all in one transaction:
// any refused or invalid item (its error carries parameters.index) leaves the
// database exactly as it was. The result is the written groups in full
// format, in input order.
func (s *Store) Write(ctx context.Context, p *policy.Principal, items []*Input) ([]*Group, error) {
	seen := map[int64]int{}
	var updateIDs []int64
	for _, in := range items {
		if in.IsCreate() {
			continue
		}
		if _, dup := seen[in.ID]; dup {
			return nil, errors.WithIndex(errors.InvalidValue("group._id", "group "+strconv.FormatInt(in.ID, 10)+
				" appears more than once in the request"), in.Index)
		}
		seen[in.ID] = in.Index
		updateIDs = append(updateIDs, in.ID)
	}
	now := s.db.Now()
	var out []*Group
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		current, err := s.findGroups(ctx, tx, p, now, updateIDs, true, false)
		if err != nil {
			return err
		}
		byID := make(map[int64]*Group, len(current))
		for _, g := range current {
			byID[g.ID] = g
		}
		plans := make([]*plan, len(items))
		for i, in := range items {
			pl, err := s.decide(p, in, byID)
			if err != nil {
				return errors.WithIndex(err, in.Index)
			}
			plans[i] = pl
		}
		if err := checkReferences(ctx, tx, plans); err != nil {
			return err
		}
		if err := checkUnique(ctx, tx, plans); err != nil {
			return err
		}
		if err := s.writePlans(ctx, tx, plans, now); err != nil {
			return err
		}
		// An update that leaves ACL, owner and type alone cannot change the
		// caller's rights: its result is the locked row with the changes
		// applied. Creates and the others are read back.
		after := make(map[int64]*Group, len(plans))
		var reread []int64
		for _, pl := range plans {
			if g := pl.applied(now); g != nil {
				after[pl.id] = g
			} else {
				reread = append(reread, pl.id)
			}
		}
		if len(reread) > 0 {
			written, err := s.findGroups(ctx, tx, p, now, reread, false, true)
			if err != nil {
				return err
			}
			for _, g := range written {
				after[g.ID] = g
			}
		}
		events := make([]audit.Event, len(plans))
		var changedRights []int64
		out = make([]*Group, len(plans))
		for i, pl := range plans {
			out[i] = after[pl.id]
			// The event's after is the answer's item too (Group.encoded)
			// when the writer may see it in full, as a writer mostly may:
			// a 10,000-group bulk is encoded once, not twice.
			after := mustJSON(out[i])
			out[i].encoded = after
			events[i] = audit.Event{ActorUserID: p.UserID, ObjectType: "group", ObjectID: pl.id, Action: "create",
				After: after}
			if pl.before != nil {
				events[i].Action, events[i].Before = "update", mustJSON(pl.before)
				if pl.rightsChanged {
					changedRights = append(changedRights, pl.id)
				}
			}
		}
		if err := audit.Record(ctx, tx, events); err != nil {
			return err
		}
		if len(changedRights) > 0 && s.notify != nil {
			// Members' combined system rights changed: every process drops
			// its cached principals of these groups when this commits.
			return s.notify(ctx, tx, changedRights...)
		}
		return nil
	})
	return out, err
}

// decide checks one item against the rules of the package comment and
// computes the group as it will be written.
func (s *Store) decide(p *policy.Principal, in *Input, current map[int64]*Group) (*plan, error) {
	if in.IsCreate() {
		return s.decideCreate(p, in)
	}
	cur, ok := current[in.ID]
	if !ok {
		return nil, errors.GroupNotFound(strconv.FormatInt(in.ID, 10))
	}
	if ok, err := s.authz.Can(p, rights.BagWrite, cur.PolicyObject()); err != nil {
		return nil, errors.ServerGeneric(err)
	} else if !ok {
		return nil, errors.InsufficientRights("update", "group", strconv.FormatInt(cur.ID, 10), rights.BagWrite)
	}
	if in.Version != cur.Version+1 {
		return nil, errors.VersionMismatch(in.Version, cur.Version+1)
	}
	pl := &plan{in: in, before: cur, id: cur.ID, version: in.Version, typ: cur.Type, name: cur.Name,
		displayname: cur.Displayname, comment: cur.Comment, reference: cur.Reference,
		authorization: cur.AuthorizationInfo, frontendPrefs: cur.FrontendPrefs, color: cur.Color, systemRights: cur.SystemRights,
		ownerUser: ownerID(cur.Owner, "user"), ownerGroup: ownerID(cur.Owner, "group"), acl: cur.ACL}
	if in.Type != "" && in.Type != cur.Type {
		if cur.IsSystem() || in.Type == "system" {
			return nil, errors.InvalidValue("group.type", "the type of a system group cannot change, nor can a group become one")
		}
		pl.typ = in.Type
	}
	if in.NameSet {
		if cur.IsSystem() && !sameString(in.Name, cur.Name) {
			return nil, errors.InvalidValue("group.name", "system groups keep their name")
		}
		pl.name = in.Name
	}
	if in.DisplaynameSet {
		pl.dnChanged = !sameMap(in.Displayname, cur.Displayname)
		pl.displayname = in.Displayname
	}
	if in.CommentSet {
		pl.comment = in.Comment
	}
	if in.ReferenceSet {
		if cur.IsSystem() && !sameString(in.Reference, cur.Reference) {
			return nil, errors.InvalidValue("group.reference", "system groups keep their reference")
		}
		pl.reference = in.Reference
	}
	if in.AuthorizationInfoSet {
		pl.authorization = in.AuthorizationInfo
	}
	if in.FrontendPrefsSet {
		pl.frontendPrefs = in.FrontendPrefs
	}
	if in.ColorSet {
		pl.color = in.Color
	}
	if pl.name == nil && len(pl.displayname) == 0 {
		return nil, errors.AttributeExpected("group.name")
	}
	if in.Owner != nil && (in.Owner.Kind != cur.Owner.Kind || in.Owner.ID != cur.Owner.ID) {
		// Handing a group to someone else changes who holds bag_delete on
		// it: an ACL-grade change.
		if !s.authz.HasSystemRight(p, rights.SystemGroup, rights.ParamEditACL) {
			return nil, errors.NoSystemRightParam(rights.SystemGroup, rights.ParamEditACL)
		}
		pl.ownerUser, pl.ownerGroup = 0, 0
		if in.Owner.Kind == "user" {
			pl.ownerUser = in.Owner.ID
		} else {
			pl.ownerGroup = in.Owner.ID
		}
	}
	if in.ACLSet && !acl.SameGrants(in.ACL, cur.ACL) {
		if !s.authz.HasSystemRight(p, rights.SystemGroup, rights.ParamEditACL) {
			return nil, errors.NoSystemRightParam(rights.SystemGroup, rights.ParamEditACL)
		}
		pl.acl, pl.aclChanged = keepEntryIDs(in.ACL, cur.ACL), true
	}
	if in.SystemRightsSet && !rights.Equal(in.SystemRights, cur.SystemRights) {
		if !s.authz.HasSystemRight(p, rights.SystemGroup, rights.ParamEditSystemRights) {
			return nil, errors.NoSystemRightParam(rights.SystemGroup, rights.ParamEditSystemRights)
		}
		_, hadRoot := cur.SystemRights[rights.SystemRoot]
		_, hasRoot := in.SystemRights[rights.SystemRoot]
		if hadRoot != hasRoot && !s.authz.HasSystemRight(p, rights.SystemRoot, "") {
			return nil, errors.NoSystemRight(rights.SystemRoot)
		}
		pl.systemRights, pl.rightsChanged = in.SystemRights, true
	}
	return pl, nil
}

func (s *Store) decideCreate(p *policy.Principal, in *Input) (*plan, error) {
	if !s.authz.HasSystemRight(p, rights.SystemGroup, rights.ParamCreate) {
		return nil, errors.NoSystemRightParam(rights.SystemGroup, rights.ParamCreate)
	}
	if in.Version != 0 && in.Version != 1 {
		return nil, errors.VersionMismatch(in.Version, 1)
	}
	if in.Type == "system" {
		return nil, errors.InvalidValue("group.type", "system groups are created by groupd only")
	}
	if in.Owner != nil && (in.Owner.Kind != "user" || in.Owner.ID != p.UserID) {
		return nil, errors.ChangeOwnerOnCreation()
	}
	if len(in.ACL) > 0 && !s.authz.HasSystemRight(p, rights.SystemGroup, rights.ParamCreateACL) {
		return nil, errors.NoSystemRightParam(rights.SystemGroup, rights.ParamCreateACL)
	}
	if len(in.SystemRights) > 0 {
		if !s.authz.HasSystemRight(p, rights.SystemGroup, rights.ParamCreateSystemRights) {
			return nil, errors.NoSystemRightParam(rights.SystemGroup, rights.ParamCreateSystemRights)
		}
		if _, ok := in.SystemRights[rights.SystemRoot]; ok && !s.authz.HasSystemRight(p, rights.SystemRoot, "") {
			return nil, errors.NoSystemRight(rights.SystemRoot)
		}
	}
	pl := &plan{in: in, version: 1, typ: in.Type, name: in.Name, displayname: in.Displayname,
		comment: in.Comment, reference: in.Reference, authorization: in.AuthorizationInfo,
		frontendPrefs: in.FrontendPrefs, color: in.Color, systemRights: in.SystemRights, ownerUser: p.UserID,
		acl: in.ACL, aclChanged: len(in.ACL) > 0, dnChanged: true}
	if pl.typ == "" {
		pl.typ = "easydb"
	}
	if pl.displayname == nil {
		pl.displayname = map[string]string{}
	}
	if pl.systemRights == nil {
		pl.systemRights = rights.Map{}
	}
	return pl, nil
}

// applied is the group as pl writes it, when that follows from the row read
// before the write: an update that changes neither ACL, owner nor type. nil
// otherwise.
func (pl *plan) applied(now time.Time) *Group {
	b := pl.before
	if b == nil || pl.aclChanged || pl.typ != b.Type || pl.ownerUser != ownerID(b.Owner, "user") ||
		pl.ownerGroup != ownerID(b.Owner, "group") {
		return nil
	}
	g := *b
	g.Version, g.Name, g.Displayname, g.Comment, g.Reference = pl.version, pl.name, pl.displayname, pl.comment, pl.reference
	g.AuthorizationInfo, g.FrontendPrefs, g.SystemRights = pl.authorization, pl.frontendPrefs, pl.systemRights
	g.Color = pl.color
	g.UpdatedAt = now
	return &g
}

// keepEntryIDs keeps the id and creation time of entries that name an
// existing entry of the same group by _id; other entries are new.
func keepEntryIDs(entries, current []acl.Entry) []acl.Entry {
	old := make(map[int64]acl.Entry, len(current))
	for _, e := range current {
		old[e.ID] = e
	}
	out := make([]acl.Entry, len(entries))
	for i, e := range entries { // new entries come decoded from the request
		if o, ok := old[e.ID]; ok && e.ID != 0 {
			e.Created = o.Created
			delete(old, e.ID) // an id is kept once
		} else {
			e.ID = 0
		}
		out[i] = e
	}
	return out
}

// checkReferences: every user and group that an owner or an ACL entry names
// must exist (error.user.user_not_found / group_not_found with its id).
func checkReferences(ctx context.Context, tx *sql.Tx, plans []*plan) error {
	var users, groups []int64
	for _, pl := range plans {
		if pl.in.Owner != nil {
			if pl.ownerUser != 0 {
				users = append(users, pl.ownerUser)
			} else {
				groups = append(groups, pl.ownerGroup)
			}
		}
		if pl.aclChanged {
			for _, e := range pl.acl {
				if e.WhoUserID != 0 {
					users = append(users, e.WhoUserID)
				}
				if e.WhoGroupID != 0 {
					groups = append(groups, e.WhoGroupID)
				}
			}
		}
	}
	missingUsers, err := missing(ctx, tx, "users", users)
	if err != nil {
		return err
	}
	missingGroups, err := missing(ctx, tx, "groups", groups)
	if err != nil {
		return err
	}
	if len(missingUsers) == 0 && len(missingGroups) == 0 {
		return nil
	}
	for _, pl := range plans { // the first item that names a missing one
		check := func(kind string, id int64) error {
			if kind == "user" && missingUsers[id] {
				return errors.WithIndex(errors.UserNotFound(strconv.FormatInt(id, 10)), pl.in.Index)
			}
			if kind == "group" && missingGroups[id] {
				return errors.WithIndex(errors.GroupNotFound(strconv.FormatInt(id, 10)), pl.in.Index)
			}
			return nil
		}
		if pl.in.Owner != nil {
			if err := check(pl.in.Owner.Kind, pl.in.Owner.ID); err != nil {
				return err
			}
		}
		for _, e := range pl.acl {
			if err := check("user", e.WhoUserID); err != nil {
				return err
			}
			if err := check("group", e.WhoGroupID); err != nil {
				return err
			}
		}
	}
	return nil
}

// missing returns which of ids have no row in table (users or groups).
func missing(ctx context.Context, tx *sql.Tx, table string, ids []int64) (map[int64]bool, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	rows, err := tx.QueryContext(ctx, `SELECT i FROM unnest($1::bigint[]) AS i
		WHERE NOT EXISTS (SELECT 1 FROM `+table+` t WHERE t.id = i)`, pq.Array(ids))
	if err != nil {
		return nil, errors.Database(err)
	}
	defer rows.Close()
	out := map[int64]bool{}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, errors.Database(err)
		}
		out[id] = true
	}
	return out, rows.Err()
}

// checkUnique finds the first item whose name, reference or displayname (per
// culture) is taken, by another item of the request or by a group the
// request does not rename, so that the error names the item.
func checkUnique(ctx context.Context, tx *sql.Tx, plans []*plan) error {
	final := map[int64]*plan{} // groups the request updates, by id
	for _, pl := range plans {
		if pl.id != 0 {
			final[pl.id] = pl
		}
	}
	type key struct{ field, culture, value string }
	claimed := map[key]int{}
	var names, refs, cultures, values []string
	for _, pl := range plans {
		claim := func(k key) error {
			if _, taken := claimed[k]; taken {
				return errors.WithIndex(errors.IntegrityConstraintViolation(k.field), pl.in.Index)
			}
			claimed[k] = pl.in.Index
			return nil
		}
		// Every value is claimed against the other items; only values the
		// item changes can collide with a group outside the request.
		before := pl.before
		if pl.name != nil {
			if err := claim(key{"group.name", "", *pl.name}); err != nil {
				return err
			}
			if before == nil || !sameString(pl.name, before.Name) {
				names = append(names, *pl.name)
			}
		}
		if pl.reference != nil {
			if err := claim(key{"group.reference", "", *pl.reference}); err != nil {
				return err
			}
			if before == nil || !sameString(pl.reference, before.Reference) {
				refs = append(refs, *pl.reference)
			}
		}
		for c, v := range pl.displayname {
			if err := claim(key{"group.displayname", c, v}); err != nil {
				return err
			}
			if before == nil || before.Displayname[c] != v {
				cultures, values = append(cultures, c), append(values, v)
			}
		}
	}
	if len(names)+len(refs)+len(cultures) == 0 {
		return nil
	}
	rows, err := tx.QueryContext(ctx, `
		SELECT id, 'group.name', '', name FROM groups WHERE name = ANY($1::text[])
		UNION ALL SELECT id, 'group.reference', '', reference FROM groups WHERE reference = ANY($2::text[])
		UNION ALL SELECT d.group_id, 'group.displayname', d.culture, d.value FROM group_displaynames d
			JOIN unnest($3::text[], $4::text[]) AS w(culture, value) ON d.culture = w.culture AND d.value = w.value`,
		pq.Array(names), pq.Array(refs), pq.Array(cultures), pq.Array(values))
	if err != nil {
		return errors.Database(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var k key
		if err := rows.Scan(&id, &k.field, &k.culture, &k.value); err != nil {
			return errors.Database(err)
		}
		index := claimed[k]
		if owner, ok := final[id]; ok {
			// The existing holder is in the request: only a conflict if it
			// keeps the value and another item claims it.
			if claimed[k] == owner.in.Index || !holds(owner, k.field, k.culture, k.value) {
				continue
			}
		}
		return errors.WithIndex(errors.IntegrityConstraintViolation(k.field), index)
	}
	return rows.Err()
}

func holds(pl *plan, field, culture, value string) bool {
	switch field {
	case "group.name":
		return pl.name != nil && *pl.name == value
	case "group.reference":
		return pl.reference != nil && *pl.reference == value
	default:
		return pl.displayname[culture] == value
	}
}

// groupRow and aclRowIn are the JSON records that jsonb_to_recordset turns
// into rows: one statement per table, whatever the number of items.
type groupRow struct {
	ID            int64             `json:"id"`
	Version       int64             `json:"version"`
	Type          string            `json:"type"`
	Name          *string           `json:"name"`
	Displayname   map[string]string `json:"displayname"`
	Comment       *string           `json:"comment"`
	Reference     *string           `json:"reference"`
	FrontendPrefs json.RawMessage   `json:"frontend_prefs"`
	Authorization *string           `json:"authorization_info"`
	SystemRights  rights.Map        `json:"system_rights"`
	OwnerUser     *int64            `json:"owner_user_id"`
	OwnerGroup    *int64            `json:"owner_group_id"`
	Color         *string           `json:"color"`
}

type aclRowIn struct {
	ID       int64       `json:"id"`
	GroupID  int64       `json:"group_id"`
	Position int         `json:"position"`
	WhoUser  *int64      `json:"who_user_id"`
	WhoGroup *int64      `json:"who_group_id"`
	WhoOwner bool        `json:"who_owner"`
	Rights   rights.Map  `json:"rights"`
	Mask     rights.Mask `json:"mask"`
	Active   bool        `json:"active"`
	From     *time.Time  `json:"valid_from"`
	To       *time.Time  `json:"valid_to"`
	Created  *time.Time  `json:"created_at"`
}

func nonZero(id int64) *int64 {
	if id == 0 {
		return nil
	}
	return &id
}

const groupColumns = `id bigint, version bigint, type text, name text, displayname jsonb, comment text,
	reference text, frontend_prefs jsonb, authorization_info text, system_rights jsonb, owner_user_id bigint,
	owner_group_id bigint, color text`

// writePlans writes all plans with a fixed number of statements: ids for new
// groups and entries from their sequences, one INSERT of the new groups, one
// UPDATE of the changed ones, and the displaynames and ACLs that changed.
func (s *Store) writePlans(ctx context.Context, tx *sql.Tx, plans []*plan, now time.Time) error {
	var creates, updates []*plan
	for _, pl := range plans {
		if pl.before == nil {
			creates = append(creates, pl)
		} else {
			updates = append(updates, pl)
		}
	}
	if len(creates) > 0 {
		ids, err := db.NextIDs(ctx, tx, "groups", len(creates))
		if err != nil {
			return err
		}
		for i, pl := range creates {
			pl.id = ids[i]
		}
		if err := s.db.ExecRecords(ctx, tx, `INSERT INTO groups (id, version, type, name, displayname, comment, reference,
			frontend_prefs, authorization_info, system_rights, owner_user_id, owner_group_id, color, created_at, updated_at)
			SELECT r.*, $2, $2 FROM jsonb_to_recordset($1) AS r(`+groupColumns+`)`, toGroupRows(creates), groupUnique, now); err != nil {
			return err
		}
	}
	if len(updates) > 0 {
		if err := s.db.ExecRecords(ctx, tx, `UPDATE groups g SET version = r.version, type = r.type, name = r.name,
			displayname = r.displayname, comment = r.comment, reference = r.reference, frontend_prefs = r.frontend_prefs,
			authorization_info = r.authorization_info, system_rights = r.system_rights, owner_user_id = r.owner_user_id,
			owner_group_id = r.owner_group_id, color = r.color, updated_at = $2
			FROM jsonb_to_recordset($1) AS r(`+groupColumns+`) WHERE g.id = r.id`, toGroupRows(updates), groupUnique, now); err != nil {
			return err
		}
	}

	var dnGroups, aclGroups []int64
	type dn struct {
		GroupID int64  `json:"group_id"`
		Culture string `json:"culture"`
		Value   string `json:"value"`
	}
	var dns []dn
	// A created group has no displaynames or ACL to delete first.
	for _, pl := range plans {
		if pl.dnChanged {
			if pl.before != nil {
				dnGroups = append(dnGroups, pl.id)
			}
			for c, v := range pl.displayname {
				dns = append(dns, dn{pl.id, c, v})
			}
		}
		if pl.aclChanged && pl.before != nil {
			aclGroups = append(aclGroups, pl.id)
		}
	}
	if len(dnGroups) > 0 {
		if _, err := tx.ExecContext(ctx, `DELETE FROM group_displaynames WHERE group_id = ANY($1::bigint[])`,
			pq.Array(dnGroups)); err != nil {
			return errors.Database(err)
		}
	}
	if len(dns) > 0 {
		if len(dns) > copyThreshold {
			rows := make([][]any, len(dns))
			for i, d := range dns {
				rows[i] = []any{d.GroupID, d.Culture, d.Value}
			}
			if err := db.CopyIn(ctx, tx, "group_displaynames", []string{"group_id", "culture", "value"}, rows); err != nil {
				return groupUnique.Error(err)
			}
		} else if err := s.db.ExecRecords(ctx, tx, `INSERT INTO group_displaynames (group_id, culture, value)
			SELECT r.group_id, r.culture, r.value FROM jsonb_to_recordset($1) AS r(group_id bigint, culture text, value text)`,
			dns, groupUnique); err != nil {
			return err
		}
	}
	if len(aclGroups) > 0 {
		if _, err := tx.ExecContext(ctx, `DELETE FROM group_acl WHERE group_id = ANY($1::bigint[])`,
			pq.Array(aclGroups)); err != nil {
			return errors.Database(err)
		}
	}
	// Entries that keep their id are written with it; new ones take
	// theirs from the identity column, by COPY when there are many.
	var kept, fresh []aclRowIn
	for _, pl := range plans {
		if !pl.aclChanged {
			continue
		}
		for pos, e := range pl.acl {
			row := aclRowIn{ID: e.ID, GroupID: pl.id, Position: pos, WhoUser: nonZero(e.WhoUserID),
				WhoGroup: nonZero(e.WhoGroupID), WhoOwner: e.WhoOwner, Rights: e.Rights, Mask: e.Mask,
				Active: e.Active, From: e.From, To: e.To}
			if !e.Created.IsZero() {
				row.Created = &e.Created
			}
			if e.ID != 0 {
				kept = append(kept, row)
			} else {
				fresh = append(fresh, row)
			}
		}
	}
	if len(kept) > 0 {
		if err := s.db.ExecRecords(ctx, tx, `INSERT INTO group_acl (id, group_id, position, who_user_id, who_group_id,
			who_owner, rights, mask, active, valid_from, valid_to, created_at)
			SELECT r.id, r.group_id, r.position, r.who_user_id, r.who_group_id, r.who_owner, r.rights, r.mask, r.active,
				r.valid_from, r.valid_to, COALESCE(r.created_at, $2)
			FROM jsonb_to_recordset($1) AS r(`+aclColumns+`)`, kept, groupUnique, now); err != nil {
			return err
		}
	}
	if len(fresh) > copyThreshold {
		rows := make([][]any, len(fresh))
		for i, r := range fresh {
			rights, err := r.Rights.MarshalJSON()
			if err != nil {
				return errors.ServerGeneric(err)
			}
			rows[i] = []any{r.GroupID, r.Position, r.WhoUser, r.WhoGroup, r.WhoOwner, string(rights), int(r.Mask),
				r.Active, r.From, r.To, now}
		}
		if err := db.CopyIn(ctx, tx, "group_acl", []string{"group_id", "position", "who_user_id", "who_group_id",
			"who_owner", "rights", "mask", "active", "valid_from", "valid_to", "created_at"}, rows); err != nil {
			return errors.Database(err)
		}
	} else if len(fresh) > 0 {
		if err := s.db.ExecRecords(ctx, tx, `INSERT INTO group_acl (group_id, position, who_user_id, who_group_id,
			who_owner, rights, mask, active, valid_from, valid_to, created_at)
			SELECT r.group_id, r.position, r.who_user_id, r.who_group_id, r.who_owner, r.rights, r.mask, r.active,
				r.valid_from, r.valid_to, $2
			FROM jsonb_to_recordset($1) AS r(`+aclColumns+`)`, fresh, groupUnique, now); err != nil {
			return err
		}
	}
	return nil
}

// copyThreshold: above this many rows COPY beats one INSERT of a JSON
// parameter (measured: 100,000 ACL rows take seconds to parse as JSON).
const copyThreshold = 64

const aclColumns = `id bigint, group_id bigint, position int, who_user_id bigint, who_group_id bigint,
	who_owner boolean, rights jsonb, mask int, active boolean, valid_from timestamptz, valid_to timestamptz,
	created_at timestamptz`

func toGroupRows(plans []*plan) []groupRow {
	rows := make([]groupRow, len(plans))
	for i, pl := range plans {
		rows[i] = groupRow{ID: pl.id, Version: pl.version, Type: pl.typ, Name: pl.name, Displayname: pl.displayname,
			Comment: pl.comment, Reference: pl.reference, FrontendPrefs: pl.frontendPrefs,
			Authorization: pl.authorization, SystemRights: pl.systemRights, OwnerUser: nonZero(pl.ownerUser),
			OwnerGroup: nonZero(pl.ownerGroup), Color: pl.color}
	}
	return rows
}

// groupUnique: the unique constraints a group write may violate.
var groupUnique = db.Constraints{
	"groups_name_key":              "group.name",
	"groups_reference_key":         "group.reference",
	"group_displaynames_value_key": "group.displayname",
}

// Delete deletes group id with its memberships and the ACL entries that name
// it, in one transaction that also tells every process.
func (s *Store) Delete(ctx context.Context, p *policy.Principal, id int64) error {
	now := s.db.Now()
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		gs, err := s.findGroups(ctx, tx, p, now, []int64{id}, true, false)
		if err != nil {
			return err
		}
		if len(gs) == 0 {
			return errors.GroupNotFound(strconv.FormatInt(id, 10))
		}
		g := gs[0]
		if g.IsSystem() {
			return errors.DeleteSystemGroup(id)
		}
		if ok, err := s.authz.Can(p, rights.BagDelete, g.PolicyObject()); err != nil {
			return errors.ServerGeneric(err)
		} else if !ok {
			return errors.InsufficientRights("delete", "group", strconv.FormatInt(id, 10), rights.BagDelete)
		}
		var owned int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM groups WHERE owner_group_id = $1`, id).Scan(&owned); err != nil {
			return errors.Database(err)
		}
		if owned > 0 {
			// Deleting the owner would leave those groups without one.
			return errors.IntegrityConstraintViolation("group._owner")
		}
		for _, hook := range s.onDelete {
			if err := hook(ctx, tx, p, id); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM groups WHERE id = $1`, id); err != nil {
			return errors.Database(err)
		}
		if err := audit.Record(ctx, tx, []audit.Event{{ActorUserID: p.UserID, ObjectType: "group", ObjectID: id,
			Action: "delete", Before: mustJSON(g)}}); err != nil {
			return err
		}
		if s.notify != nil {
			return s.notify(ctx, tx, id)
		}
		return nil
	})
}

// mustJSON is g in full format (Group.fullJSON), for the audit trail.
func mustJSON(g *Group) json.RawMessage {
	b, err := g.fullJSON() // not json.Marshal: its re-validation of the output doubles the cost
	if err != nil {
		return nil
	}
	return b
}

func sameString(a, b *string) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}

func sameMap(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}
