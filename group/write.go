package group

import (
	"context"
	"database/sql"
	"encoding/json"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/groupd/groupd/acl"
	"github.com/groupd/groupd/audit"
	"github.com/groupd/groupd/db"
	"github.com/groupd/groupd/errors"
	"github.com/groupd/groupd/group/bulk"
	"github.com/groupd/groupd/policy"
	"github.com/groupd/groupd/rights"
	"github.com/lib/pq"
)

// plan is one item's decided outcome: the group as it will be written.
type plan struct {
	bulk.Item
	before, after *Group // before: nil for a create; after: as written, once read back

	version                           int64
	typ                               string
	name                              *string
	displayname                       map[string]string
	comment, reference, authorization *string
	frontendPrefs                     json.RawMessage
	color                             *string
	systemRights                      rights.Map
	ownerUser, ownerGroup             int64
	rightsChanged, dnChanged          bool
	prefsSet                          bool // frontendPrefs is the request's, not yet as jsonb stores it
}

// groupSpec is the groups' tables, for the kernel.
var groupSpec = bulk.Spec{Kind: "group", Table: "groups", ACL: acl.GroupTable}

// groupWrite is one write request of groups: the group rules of the
// kernel's steps (bulk.Resource).
type groupWrite struct {
	s       *Store
	p       *policy.Principal
	items   []*Input
	now     time.Time
	current map[int64]*Group // the locked groups, by id
}

// rowID is g.ID, the key of bulk.ByID.
func (g *Group) rowID() int64 { return g.ID }

// Write creates and updates groups for principal p, all in one transaction:
// any refused or invalid item (its error carries parameters.index) leaves the
// database exactly as it was. The result is the written groups in full
// format, in input order.
func (s *Store) Write(ctx context.Context, p *policy.Principal, items []*Input) ([]*Group, error) {
	// now to the microsecond that PostgreSQL keeps: the answer, built
	// from the plans, shows the times as they are stored.
	w := &groupWrite{s: s, p: p, items: items, now: s.db.Now().Truncate(time.Microsecond)}
	plans, err := bulk.Write(ctx, s.db, groupSpec, w, bulk.Targets(items), w.now)
	return bulk.Results(plans, err, func(pl *plan) *Group { return pl.after })
}

// Lock locks and loads the groups that the request updates.
func (w *groupWrite) Lock(ctx context.Context, tx *sql.Tx, ids []int64) error {
	current, err := w.s.findGroups(ctx, tx, w.p, w.now, ids, findOptions{lock: true})
	if err != nil {
		return err
	}
	w.current = bulk.ByID(current, (*Group).rowID)
	return nil
}

// Decide decides item i and names what it claims and references.
func (w *groupWrite) Decide(i int) (*plan, error) {
	in := w.items[i]
	pl, err := w.decide(in)
	if err != nil {
		return nil, err
	}
	pl.Index, pl.Owner, pl.Claims = in.Index, in.Owner, pl.claims()
	return pl, nil
}

// decide is the plan of in: a create, or an update of a locked group.
func (w *groupWrite) decide(in *Input) (*plan, error) {
	if in.IsCreate() {
		return w.s.decideCreate(w.p, in)
	}
	return w.s.decideUpdate(w.p, in, w.current)
}

// Unique namespaces of groups: a name, a reference, and a displayname per
// culture (displaynamePrefix + culture).
const (
	nsName            = "name"
	nsReference       = "reference"
	displaynamePrefix = "displayname:"
)

// claims are the unique values of the group as pl writes it.
func (pl *plan) claims() []bulk.Claim {
	b := pl.before
	var out []bulk.Claim
	if pl.name != nil {
		out = append(out, bulk.Claim{Namespace: nsName, Value: *pl.name, Attribute: "group.name",
			New: b == nil || !sameString(pl.name, b.Name)})
	}
	if pl.reference != nil {
		out = append(out, bulk.Claim{Namespace: nsReference, Value: *pl.reference, Attribute: "group.reference",
			New: b == nil || !sameString(pl.reference, b.Reference)})
	}
	for c, v := range pl.displayname {
		out = append(out, bulk.Claim{Namespace: displaynamePrefix + c, Value: v, Attribute: "group.displayname",
			New: b == nil || b.Displayname[c] != v})
	}
	return out
}

// Holders finds the groups that hold the claimed names, references and
// displaynames, in one statement.
func (w *groupWrite) Holders(ctx context.Context, tx *sql.Tx, claims []bulk.Claim) ([]bulk.Holder, error) {
	var names, refs, cultures, values []string
	for _, c := range claims {
		switch {
		case c.Namespace == nsName:
			names = append(names, c.Value)
		case c.Namespace == nsReference:
			refs = append(refs, c.Value)
		default:
			cultures, values = append(cultures, strings.TrimPrefix(c.Namespace, displaynamePrefix)), append(values, c.Value)
		}
	}
	return bulk.QueryHolders(ctx, tx, `
		SELECT id, '`+nsName+`', name FROM groups WHERE name = ANY($1::text[])
		UNION ALL SELECT id, '`+nsReference+`', reference FROM groups WHERE reference = ANY($2::text[])
		UNION ALL SELECT d.group_id, '`+displaynamePrefix+`' || d.culture, d.value FROM group_displaynames d
			JOIN unnest($3::text[], $4::text[]) AS w(culture, value) ON d.culture = w.culture AND d.value = w.value`,
		pq.Array(names), pq.Array(refs), pq.Array(cultures), pq.Array(values))
}

// ReadBack sets the groups as written, built from the plans: the kernel's
// write has given the creates their ids and the new ACL entries theirs, with
// their creation times and stored rights (acl.Table.Save). What the plans
// cannot say comes from one statement in tx, after the write: the count of
// renames the transaction sees (for the subjects' and owners' short formats,
// from the names cache or one more query), the caller's rights on groups
// whose ACL, owner or type changed (root holds all of them), and the
// frontend_prefs and system rights that the request set, as jsonb stores
// them. The answer is what a read of the
// same groups in tx would give (TestWriteAnswerIsWhatIsRead).
//
// Without tx (the one-row path, before its write) the plan is a row-only
// update: the owner, ACL, subjects and rights are the row's as read.
func (w *groupWrite) ReadBack(ctx context.Context, tx *sql.Tx, plans []*plan) error {
	for _, pl := range plans {
		pl.after = pl.written(w.now)
	}
	if tx == nil {
		return nil
	}
	var ask toRead
	for _, pl := range plans {
		if pl.prefsSet && pl.frontendPrefs != nil {
			ask.prefs = append(ask.prefs, pl.ID)
		}
		if (pl.Create || pl.rightsChanged) && len(pl.systemRights) > 0 {
			ask.systemRights = append(ask.systemRights, pl.ID)
		}
		if !pl.keepsGrants() {
			if w.p.IsRoot() {
				pl.after.Generated = allRights
			} else {
				ask.rights = append(ask.rights, pl.ID)
			}
		}
	}
	version, err := w.readWritten(ctx, tx, plans, ask)
	if err != nil {
		return err
	}
	var refs []*acl.Ref
	for _, pl := range plans {
		g := pl.after
		if g.Owner.ID != 0 {
			refs = append(refs, &g.Owner)
		}
		for i := range g.ACLWho {
			if g.ACLWho[i].ID != 0 {
				refs = append(refs, &g.ACLWho[i])
			}
		}
	}
	return w.s.names.resolve(ctx, w.s.db, tx, false, version, refs)
}

// writtenQuery reads, after a write, the count of renames the transaction
// sees (one row even with no groups), and for the groups $7 the caller's
// rights, for those in $8 the frontend_prefs and for those in $9 the system
// rights as jsonb stores them (ordered, numbers normalised).
var writtenQuery = `SELECT v.version, COALESCE(g.id, 0), CASE WHEN g.id = ANY($8::bigint[]) THEN g.frontend_prefs::text END,
	CASE WHEN g.id = ANY($9::bigint[]) THEN g.system_rights::text END, ` + maskExpr + `
	FROM names_version v LEFT JOIN groups g ON g.id = ANY($7::bigint[])`

// toRead are the groups whose attributes ReadBack reads after the write.
type toRead struct {
	rights, prefs, systemRights []int64
}

// readWritten runs writtenQuery for ask and sets what it reads on the
// plans' groups; it returns the count of renames.
func (w *groupWrite) readWritten(ctx context.Context, tx *sql.Tx, plans []*plan, ask toRead) (int64, error) {
	stmt, err := w.s.db.Prepared(ctx, writtenQuery)
	if err != nil {
		return 0, errors.Database(err)
	}
	ids := append(append(append([]int64(nil), ask.rights...), ask.prefs...), ask.systemRights...)
	rows, err := tx.StmtContext(ctx, stmt).QueryContext(ctx, append(principalArgs(w.p, w.now), pq.Array(ids),
		pq.Array(ask.prefs), pq.Array(ask.systemRights))...)
	if err != nil {
		return 0, errors.Database(err)
	}
	defer rows.Close()
	var byID map[int64]*Group
	if len(ids) > 0 {
		byID = make(map[int64]*Group, len(plans))
		for _, pl := range plans {
			byID[pl.ID] = pl.after
		}
	}
	var version int64
	for rows.Next() {
		var id, mask int64
		var prefs, systemRights sql.NullString
		if err := rows.Scan(&version, &id, &prefs, &systemRights, &mask); err != nil {
			return 0, errors.Database(err)
		}
		g := byID[id]
		if g == nil {
			continue
		}
		if !w.p.IsRoot() {
			g.Generated = rights.Mask(mask)
		}
		if prefs.Valid {
			g.FrontendPrefs = json.RawMessage(prefs.String)
		}
		if systemRights.Valid {
			// as Group.fill reads them
			g.SystemRights = nil
			if err := json.Unmarshal([]byte(systemRights.String), &g.SystemRights); err != nil {
				return 0, errors.Database(err)
			}
		}
	}
	if err := rows.Err(); err != nil {
		return 0, errors.Database(err)
	}
	return version, nil
}

// Events are a create or update event per group. The event's after is the
// answer's item too (Group.encoded) when the writer may see it in full, as
// a writer mostly may: a bulk is encoded once, not twice.
func (w *groupWrite) Events(plans []*plan) ([]audit.Event, error) {
	events := make([]audit.Event, len(plans))
	for i, pl := range plans {
		after, err := pl.after.fullJSON()
		if err != nil {
			return nil, errors.ServerGeneric(err)
		}
		pl.after.encoded = after
		events[i] = audit.Event{ActorUserID: w.p.UserID, ObjectType: "group", ObjectID: pl.ID, Action: "create",
			After: after}
		if pl.before != nil {
			before, err := pl.before.fullJSON()
			if err != nil {
				return nil, errors.ServerGeneric(err)
			}
			events[i].Action, events[i].Before = "update", before
		}
	}
	return events, nil
}

// Notify: members' combined system rights changed; every process drops its
// cached principals of these groups when this commits.
func (w *groupWrite) Notify(ctx context.Context, tx *sql.Tx, plans []*plan) error {
	var changedRights []int64
	for _, pl := range plans {
		if pl.before != nil && pl.rightsChanged {
			changedRights = append(changedRights, pl.ID)
		}
	}
	if len(changedRights) == 0 || w.s.notify == nil {
		return nil
	}
	return w.s.notify.NotifyGroups(ctx, tx, changedRights...)
}

// decideUpdate checks one update against the rules of the package comment
// and computes the group as it will be written.
func (s *Store) decideUpdate(p *policy.Principal, in *Input, current map[int64]*Group) (*plan, error) {
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
	pl := &plan{Item: bulk.Item{ID: cur.ID, ACL: cur.ACL}, before: cur, version: in.Version, typ: cur.Type,
		name: cur.Name, displayname: cur.Displayname, comment: cur.Comment, reference: cur.Reference,
		authorization: cur.AuthorizationInfo, frontendPrefs: cur.FrontendPrefs, color: cur.Color, systemRights: cur.SystemRights,
		ownerUser: ownerID(cur.Owner, "user"), ownerGroup: ownerID(cur.Owner, "group")}
	if err := pl.applyAttributes(in, cur); err != nil {
		return nil, err
	}
	if err := s.applyOwner(p, pl, in, cur); err != nil {
		return nil, err
	}
	if in.ACLSet && !acl.SameGrants(in.ACL, cur.ACL) {
		if !s.authz.HasSystemRight(p, rights.SystemGroup, rights.ParamEditACL) {
			return nil, errors.NoSystemRightParam(rights.SystemGroup, rights.ParamEditACL)
		}
		pl.ACL, pl.ACLChanged = acl.KeepIDs(in.ACL, cur.ACL), true
	}
	if in.SystemRightsSet && !rights.Equal(in.SystemRights, cur.SystemRights) {
		if err := bulk.MayChangeSystemRights(s.authz, p, rights.SystemGroup, cur.SystemRights, in.SystemRights); err != nil {
			return nil, err
		}
		pl.systemRights, pl.rightsChanged = in.SystemRights, true
	}
	return pl, nil
}

// applyAttributes applies the plain attributes of an update: type, name,
// displayname, comment, reference, authorization_info, frontend_prefs.
// System groups keep their type, name and reference.
func (pl *plan) applyAttributes(in *Input, cur *Group) error {
	if in.Type != "" && in.Type != cur.Type {
		if cur.IsSystem() || in.Type == "system" {
			return errors.InvalidValue("group.type", "the type of a system group cannot change, nor can a group become one")
		}
		pl.typ = in.Type
	}
	if in.NameSet {
		if cur.IsSystem() && !sameString(in.Name, cur.Name) {
			return errors.InvalidValue("group.name", "system groups keep their name")
		}
		pl.name = in.Name
	}
	if in.DisplaynameSet {
		pl.dnChanged = !maps.Equal(in.Displayname, cur.Displayname)
		pl.displayname = in.Displayname
	}
	if in.CommentSet {
		pl.comment = in.Comment
	}
	if in.ReferenceSet {
		if cur.IsSystem() && !sameString(in.Reference, cur.Reference) {
			return errors.InvalidValue("group.reference", "system groups keep their reference")
		}
		pl.reference = in.Reference
	}
	if in.AuthorizationInfoSet {
		pl.authorization = in.AuthorizationInfo
	}
	if in.FrontendPrefsSet {
		pl.frontendPrefs, pl.prefsSet = in.FrontendPrefs, true
	}
	if in.ColorSet {
		pl.color = in.Color
	}
	if pl.name == nil && len(pl.displayname) == 0 {
		return errors.AttributeExpected("group.name")
	}
	return nil
}

// applyOwner hands the group to the owner in names, if another: who holds
// bag_delete on it changes, an ACL-grade change.
func (s *Store) applyOwner(p *policy.Principal, pl *plan, in *Input, cur *Group) error {
	if in.Owner == nil || (in.Owner.Kind == cur.Owner.Kind && in.Owner.ID == cur.Owner.ID) {
		return nil
	}
	if !s.authz.HasSystemRight(p, rights.SystemGroup, rights.ParamEditACL) {
		return errors.NoSystemRightParam(rights.SystemGroup, rights.ParamEditACL)
	}
	pl.ownerUser, pl.ownerGroup = 0, 0
	if in.Owner.Kind == "user" {
		pl.ownerUser = in.Owner.ID
	} else {
		pl.ownerGroup = in.Owner.ID
	}
	return nil
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
	if err := bulk.MayCreateGrants(s.authz, p, rights.SystemGroup, in.Grants); err != nil {
		return nil, err
	}
	// The entries of a created group are all new, even those that name
	// an id (a group read and sent back as a copy).
	pl := &plan{Item: bulk.Item{Create: true, ACL: acl.KeepIDs(in.ACL, nil), ACLChanged: len(in.ACL) > 0}, version: 1,
		typ: in.Type, name: in.Name, displayname: in.Displayname, comment: in.Comment, reference: in.Reference,
		authorization: in.AuthorizationInfo, frontendPrefs: in.FrontendPrefs, color: in.Color, systemRights: in.SystemRights,
		ownerUser: p.UserID, dnChanged: true, prefsSet: true}
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

// keepsGrants reports whether pl is an update that leaves the ACL, the
// owner and the type as they were: the caller's rights on the group and its
// subjects stay those of the row read before the write.
func (pl *plan) keepsGrants() bool {
	b := pl.before
	return b != nil && !pl.ACLChanged && pl.typ == b.Type && pl.ownerUser == ownerID(b.Owner, "user") &&
		pl.ownerGroup == ownerID(b.Owner, "group")
}

// written is the group as pl writes it, at now. The owner and the ACL's
// subjects carry their kind and id only, and Generated is unset, unless pl
// keeps the grants of the row read before (keepsGrants): ReadBack completes
// them.
func (pl *plan) written(now time.Time) *Group {
	g := &Group{ID: pl.ID, Version: pl.version, Type: pl.typ, Name: pl.name, Displayname: pl.displayname,
		Comment: pl.comment, Reference: pl.reference, FrontendPrefs: pl.frontendPrefs,
		AuthorizationInfo: pl.authorization, Color: pl.color, SystemRights: pl.systemRights,
		CreatedAt: now, UpdatedAt: now, ACL: pl.ACL}
	b := pl.before
	if b != nil {
		g.CreatedAt = b.CreatedAt
	}
	if pl.keepsGrants() {
		// a copy: ReadBack resolves the subjects anew, and before stays
		// what the audit event's before shows
		g.Owner, g.ACLWho, g.Generated = b.Owner, slices.Clone(b.ACLWho), b.Generated
		return g
	}
	g.Owner = acl.Ref{Kind: "user", ID: pl.ownerUser}
	if pl.ownerGroup != 0 {
		g.Owner = acl.Ref{Kind: "group", ID: pl.ownerGroup}
	}
	g.ACLWho = make([]acl.Ref, len(pl.ACL))
	for i, e := range pl.ACL {
		switch {
		case e.WhoUserID != 0:
			g.ACLWho[i] = acl.Ref{Kind: "user", ID: e.WhoUserID}
		case e.WhoGroupID != 0:
			g.ACLWho[i] = acl.Ref{Kind: "group", ID: e.WhoGroupID}
		}
	}
	return g
}

// groupRow is the JSON record that jsonb_to_recordset turns into a row of
// groups: one statement per table, whatever the number of items.
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

func nonZero(id int64) *int64 {
	if id == 0 {
		return nil
	}
	return &id
}

const groupColumns = `id bigint, version bigint, type text, name text, displayname jsonb, comment text,
	reference text, frontend_prefs jsonb, authorization_info text, system_rights jsonb, owner_user_id bigint,
	owner_group_id bigint, color text`

// WriteRows writes the groups of plans with a fixed number of statements:
// one INSERT of the new groups, one UPDATE of the changed ones, and the
// displaynames that changed. It is the one place where a write's group
// statements are issued.
func (w *groupWrite) WriteRows(ctx context.Context, tx *sql.Tx, creates, updates []*plan) error {
	d := w.s.db
	if len(creates) > 0 {
		if err := d.ExecRecords(ctx, tx, `INSERT INTO groups (id, version, type, name, displayname, comment, reference,
			frontend_prefs, authorization_info, system_rights, owner_user_id, owner_group_id, color, created_at, updated_at)
			SELECT r.*, $2, $2 FROM jsonb_to_recordset($1) AS r(`+groupColumns+`)`, toGroupRows(creates), groupUnique, w.now); err != nil {
			return err
		}
	}
	if len(updates) > 0 {
		if err := d.ExecRecords(ctx, tx, `UPDATE groups g SET version = r.version, type = r.type, name = r.name,
			displayname = r.displayname, comment = r.comment, reference = r.reference, frontend_prefs = r.frontend_prefs,
			authorization_info = r.authorization_info, system_rights = r.system_rights, owner_user_id = r.owner_user_id,
			owner_group_id = r.owner_group_id, color = r.color, updated_at = $2
			FROM jsonb_to_recordset($1) AS r(`+groupColumns+`) WHERE g.id = r.id`, toGroupRows(updates), groupUnique, w.now); err != nil {
			return err
		}
	}
	return w.writeDisplaynames(ctx, tx, creates, updates)
}

// writeDisplaynames replaces the displaynames of the groups whose
// displayname changed (a created group has none to delete first).
func (w *groupWrite) writeDisplaynames(ctx context.Context, tx *sql.Tx, creates, updates []*plan) error {
	type dn struct {
		GroupID int64  `json:"group_id"`
		Culture string `json:"culture"`
		Value   string `json:"value"`
	}
	var replaced []int64
	var dns []dn
	for _, plans := range [][]*plan{creates, updates} {
		for _, pl := range plans {
			if !pl.dnChanged {
				continue
			}
			if pl.before != nil {
				replaced = append(replaced, pl.ID)
			}
			for c, v := range pl.displayname {
				dns = append(dns, dn{pl.ID, c, v})
			}
		}
	}
	if len(replaced) > 0 {
		if _, err := tx.ExecContext(ctx, `DELETE FROM group_displaynames WHERE group_id = ANY($1::bigint[])`,
			pq.Array(replaced)); err != nil {
			return errors.Database(err)
		}
	}
	if len(dns) > copyThreshold {
		rows := make([][]any, len(dns))
		for i, d := range dns {
			rows[i] = []any{d.GroupID, d.Culture, d.Value}
		}
		if err := db.CopyIn(ctx, tx, "group_displaynames", []string{"group_id", "culture", "value"}, rows); err != nil {
			return groupUnique.Error(err)
		}
	} else if len(dns) > 0 {
		return w.s.db.ExecRecords(ctx, tx, `INSERT INTO group_displaynames (group_id, culture, value)
			SELECT r.group_id, r.culture, r.value FROM jsonb_to_recordset($1) AS r(group_id bigint, culture text, value text)`,
			dns, groupUnique)
	}
	return nil
}

// copyThreshold: above this many rows COPY beats one INSERT of a JSON
// parameter, whose parsing grows costly for large bulks.
const copyThreshold = 64

func toGroupRows(plans []*plan) []groupRow {
	rows := make([]groupRow, len(plans))
	for i, pl := range plans {
		rows[i] = groupRow{ID: pl.ID, Version: pl.version, Type: pl.typ, Name: pl.name, Displayname: pl.displayname,
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

// groupDeletes: deleting a group needs bag_delete on it; system groups
// stay.
var groupDeletes = bulk.DeleteRule{Right: rights.BagDelete, NotFound: errors.GroupNotFound, System: errors.DeleteSystemGroup}

// Delete deletes group id with its memberships and the ACL entries that name
// it, in one transaction that also tells every process.
func (s *Store) Delete(ctx context.Context, p *policy.Principal, id int64) error {
	now := s.db.Now()
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		gs, err := s.findGroups(ctx, tx, p, now, []int64{id}, findOptions{lock: true})
		if err != nil {
			return err
		}
		g, err := bulk.MayDeleteOne(s.authz, p, groupDeletes, id, gs)
		if err != nil {
			return err
		}
		if err = bulk.RefuseGroupOwner(ctx, tx, acl.Subject{Kind: "group", ID: id}); err != nil {
			return err
		}
		for _, hook := range s.onDelete {
			if err = hook(ctx, tx, p, id); err != nil {
				return err
			}
		}
		if _, err = tx.ExecContext(ctx, `DELETE FROM groups WHERE id = $1`, id); err != nil {
			return errors.Database(err)
		}
		before, err := g.fullJSON()
		if err != nil {
			return errors.ServerGeneric(err)
		}
		if err = audit.Record(ctx, tx, []audit.Event{{ActorUserID: p.UserID, ObjectType: "group", ObjectID: id,
			Action: "delete", Before: before}}); err != nil {
			return err
		}
		if s.notify != nil {
			return s.notify.NotifyGroups(ctx, tx, id)
		}
		return nil
	})
}

func sameString(a, b *string) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}
