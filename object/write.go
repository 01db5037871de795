package object

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"regexp"
	"slices"
	"strconv"
	"time"

	"github.com/groupd/groupd/audit"
	"github.com/groupd/groupd/db"
	"github.com/groupd/groupd/errors"
	"github.com/groupd/groupd/input"
	"github.com/groupd/groupd/policy"
	"github.com/groupd/groupd/rights"
	"github.com/lib/pq"
)

// kindPattern is a namespaced kind, as the objects table's CHECK says.
var kindPattern = regexp.MustCompile(`^[a-z][a-z0-9_-]*(\.[a-z][a-z0-9_-]*)+$`)

// ValidKind reports whether kind is a namespaced kind ("noko.project").
func ValidKind(kind string) bool { return len(kind) <= MaxKindLength && kindPattern.MatchString(kind) }

// validate checks what an item says on its own, whoever built it (the
// easydb handlers decode into the same checks; surfaces build Inputs).
func validate(in *Input) error {
	if in.ID < 0 {
		return errors.InvalidValue("object._id", "positive integer expected")
	}
	if in.Version < 0 {
		return errors.InvalidValue("object._version", "positive integer expected")
	}
	if in.IsCreate() && in.Kind == "" {
		return errors.AttributeExpected("object.kind")
	}
	if in.Kind != "" && !ValidKind(in.Kind) {
		return errors.InvalidValue("object.kind",
			`a namespaced name of lower-case letters, digits, "_" and "-" expected, such as "noko.project"`)
	}
	if in.IsCreate() && in.Name == nil {
		return errors.AttributeExpected("object.name")
	}
	if in.Name != nil {
		if *in.Name == "" {
			return errors.InvalidValue("object.name", "must not be empty")
		}
		if err := input.Text(*in.Name, "object.name", MaxNameLength); err != nil {
			return err
		}
	}
	if in.Reference != nil {
		if *in.Reference == "" {
			return errors.InvalidValue("object.reference", "must not be empty (null: none)")
		}
		if err := input.Text(*in.Reference, "object.reference", MaxReferenceLength); err != nil {
			return err
		}
	}
	if in.Attributes != nil {
		if err := validAttributes(in.Attributes); err != nil {
			return err
		}
	}
	if in.Group != nil && *in.Group < 0 {
		return errors.InvalidValue("_group._id", "positive integer expected")
	}
	return nil
}

// validAttributes: a JSON object of at most MaxAttributesLength bytes
// that PostgreSQL can store (no NUL characters).
func validAttributes(raw json.RawMessage) error {
	if len(raw) > MaxAttributesLength {
		return errors.InvalidValue("object.attributes", "at most "+strconv.Itoa(MaxAttributesLength)+" bytes of JSON")
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil || d.More() {
		return errors.TypeMismatch("object.attributes", "object")
	}
	if _, ok := v.(map[string]any); !ok {
		return errors.TypeMismatch("object.attributes", "object")
	}
	return input.StorableJSON(v, "object.attributes")
}

// plan is one item's decided outcome: the object as it will be written.
type plan struct {
	index  int
	before *Object // nil for a create
	after  Object
}

// Write creates and updates objects for p, all in one transaction: any
// refused or invalid item (its error carries parameters.index) leaves the
// database as it was. The result is the written objects, in input order.
func (s *Store) Write(ctx context.Context, p *policy.Principal, items []*Input) ([]*Object, error) {
	seen := map[int64]bool{}
	var updateIDs, targets []int64
	for i, in := range items {
		if err := validate(in); err != nil {
			return nil, errors.WithIndex(err, i)
		}
		if in.Group != nil && *in.Group != 0 {
			targets = append(targets, *in.Group)
		}
		if in.IsCreate() {
			continue
		}
		if seen[in.ID] {
			return nil, errors.WithIndex(errors.InvalidValue("object._id", "object "+strconv.FormatInt(in.ID, 10)+
				" appears more than once in the request"), i)
		}
		seen[in.ID] = true
		updateIDs = append(updateIDs, in.ID)
	}
	now := s.db.Now().UTC().Truncate(time.Microsecond)
	var out []*Object
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		// Lock order: the groups objects go into, then the objects (each in
		// id order); a group's delete locks the group, then its objects.
		groups, err := s.groups.KeepPolicyObjects(ctx, tx, targets)
		if err != nil {
			return err
		}
		current, err := s.findLocked(ctx, tx, p, now, updateIDs)
		if err != nil {
			return err
		}
		if missingErr := notFound(updateIDs, current, ""); missingErr != nil {
			// One error naming every unknown or invisible id, at the
			// first item that names one.
			for i, in := range items {
				if l, ok := current[in.ID]; !in.IsCreate() && (!ok || !l.visible) {
					return errors.WithIndex(missingErr, i)
				}
			}
		}
		if err = s.readSources(ctx, tx, current, groups); err != nil {
			return err
		}
		plans := make([]*plan, len(items))
		for i, in := range items {
			if plans[i], err = s.decide(p, in, current, groups); err != nil {
				return errors.WithIndex(err, i)
			}
			plans[i].index = i
		}
		if err := checkUnique(ctx, tx, plans); err != nil {
			return err
		}
		if err := s.writePlans(ctx, tx, plans, now); err != nil {
			return err
		}
		events := make([]audit.Event, len(plans))
		out = make([]*Object, len(plans))
		for i, pl := range plans {
			out[i] = &pl.after
			events[i] = audit.Event{ActorUserID: p.UserID, ObjectType: "object", ObjectID: pl.after.ID,
				Action: "create", After: mustJSON(&pl.after)}
			if pl.before != nil {
				events[i].Action, events[i].Before = "update", mustJSON(pl.before)
			}
		}
		return audit.Record(ctx, tx, events)
	})
	return out, err
}

// readSources adds to groups the groups the locked objects are in now
// (without locking them: an object locked here cannot leave its group, and
// the group's delete waits for the object).
func (s *Store) readSources(ctx context.Context, tx *sql.Tx, objects map[int64]*locked, groups map[int64]*policy.Object) error {
	var ids []int64
	for _, l := range objects {
		if _, ok := groups[l.GroupID]; l.GroupID != 0 && !ok && !slices.Contains(ids, l.GroupID) {
			ids = append(ids, l.GroupID)
		}
	}
	found, err := s.groups.PolicyObjects(ctx, tx, ids)
	if err != nil {
		return err
	}
	for id, g := range found {
		groups[id] = g
	}
	return nil
}

// decide checks one item against the rules of the package comment.
func (s *Store) decide(p *policy.Principal, in *Input, current map[int64]*locked, groups map[int64]*policy.Object) (*plan, error) {
	if in.IsCreate() {
		if !s.authz.HasSystemRight(p, rights.SystemObject, rights.ParamCreate) {
			return nil, errors.NoSystemRightParam(rights.SystemObject, rights.ParamCreate)
		}
		if in.Version != 0 && in.Version != 1 {
			return nil, errors.VersionMismatch(in.Version, 1)
		}
		pl := &plan{after: Object{Version: 1, Kind: in.Kind, Name: *in.Name, Reference: in.Reference,
			Attributes: in.Attributes}}
		if pl.after.Attributes == nil {
			pl.after.Attributes = json.RawMessage("{}")
		}
		if in.Group != nil && *in.Group != 0 {
			if err := s.mayMove(p, 0, *in.Group, groups); err != nil {
				return nil, err
			}
			pl.after.GroupID = *in.Group
		}
		return pl, nil
	}
	cur, ok := current[in.ID]
	if !ok || !cur.visible {
		return nil, errors.ObjectsNotFound([]int64{in.ID})
	}
	if in.Version != cur.Version+1 {
		return nil, errors.VersionMismatch(in.Version, cur.Version+1)
	}
	if in.Kind != "" && in.Kind != cur.Kind {
		return nil, errors.InvalidValue("object.kind", "the kind of an object cannot change")
	}
	pl := &plan{before: cur.Object, after: *cur.Object}
	pl.after.Version = in.Version
	if in.Name != nil {
		pl.after.Name = *in.Name
	}
	if in.ReferenceSet {
		pl.after.Reference = in.Reference
	}
	if in.Attributes != nil {
		pl.after.Attributes = in.Attributes
	}
	if in.Group != nil {
		pl.after.GroupID = *in.Group
	}
	moves := pl.after.GroupID != cur.GroupID
	edits := pl.after.Name != cur.Name || !sameString(pl.after.Reference, cur.Reference) ||
		!sameJSON(pl.after.Attributes, cur.Attributes)
	// A write that only moves the object is decided by link and unlink
	// alone; any other (a change, or a new version of the same) is an edit.
	if edits || !moves {
		if !s.authz.HasSystemRight(p, rights.SystemObject, rights.ParamEdit) {
			return nil, errors.NoSystemRightParam(rights.SystemObject, rights.ParamEdit)
		}
	}
	if moves {
		if err := s.mayMove(p, cur.GroupID, pl.after.GroupID, groups); err != nil {
			return nil, err
		}
	}
	return pl, nil
}

// mayMove decides moving an object from group from to group to (0: none):
// unlink on from, link on to.
func (s *Store) mayMove(p *policy.Principal, from, to int64, groups map[int64]*policy.Object) error {
	if from != 0 {
		if err := s.may(p, rights.Unlink, from, groups); err != nil {
			return err
		}
	}
	if to != 0 {
		return s.may(p, rights.Link, to, groups)
	}
	return nil
}

// may decides right on group id, which groups holds unless it does not exist.
func (s *Store) may(p *policy.Principal, right string, id int64, groups map[int64]*policy.Object) error {
	g, ok := groups[id]
	if !ok {
		return errors.GroupNotFound(strconv.FormatInt(id, 10))
	}
	allowed, err := s.authz.Can(p, right, g)
	if err != nil {
		return errors.ServerGeneric(err)
	}
	if !allowed || (g.GroupType == "system" && (right == rights.Link || right == rights.Unlink)) {
		// A system group's membership is computed: nobody puts things in.
		return errors.InsufficientRights("update", "group", strconv.FormatInt(id, 10), right)
	}
	return nil
}

// checkUnique finds the first item whose (kind, reference) another item of
// the request claims, or an object the request does not change holds.
func checkUnique(ctx context.Context, tx *sql.Tx, plans []*plan) error {
	type key struct{ kind, ref string }
	claimed := map[key]*plan{}
	var kinds, refs []string
	for _, pl := range plans {
		if pl.after.Reference == nil {
			continue
		}
		k := key{pl.after.Kind, *pl.after.Reference}
		if _, taken := claimed[k]; taken {
			return errors.WithIndex(errors.IntegrityConstraintViolation("object.reference"), pl.index)
		}
		claimed[k] = pl
		if pl.before == nil || !sameString(pl.before.Reference, pl.after.Reference) {
			kinds, refs = append(kinds, k.kind), append(refs, k.ref)
		}
	}
	if len(kinds) == 0 {
		return nil
	}
	final := map[int64]*plan{}
	for _, pl := range plans {
		if pl.before != nil {
			final[pl.before.ID] = pl
		}
	}
	rows, err := tx.QueryContext(ctx, `SELECT o.id, o.kind, o.reference FROM objects o
		JOIN unnest($1::text[], $2::text[]) AS w(kind, ref) ON o.kind = w.kind AND o.reference = w.ref`,
		pq.Array(kinds), pq.Array(refs))
	if err != nil {
		return errors.Database(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var k key
		if err := rows.Scan(&id, &k.kind, &k.ref); err != nil {
			return errors.Database(err)
		}
		if holder, ok := final[id]; ok && !sameString(holder.after.Reference, &k.ref) {
			continue // the request takes the reference away from its holder
		}
		return errors.WithIndex(errors.IntegrityConstraintViolation("object.reference"), claimed[k].index)
	}
	return rows.Err()
}

// objectRow is the JSON record jsonb_to_recordset turns into a row.
type objectRow struct {
	ID         int64           `json:"id"`
	Version    int64           `json:"version"`
	Kind       string          `json:"kind"`
	Name       string          `json:"name"`
	Reference  *string         `json:"reference"`
	Attributes json.RawMessage `json:"attributes"`
	GroupID    *int64          `json:"group_id"`
}

const rowColumns = `id bigint, version bigint, kind text, name text, reference text, attributes jsonb, group_id bigint`

// objectUnique: the unique constraints an object write may violate.
var objectUnique = db.Constraints{"objects_reference_key": "object.reference"}

// writePlans writes all plans in at most three statements: ids for the new
// objects, one INSERT of them, one UPDATE of the changed ones.
func (s *Store) writePlans(ctx context.Context, tx *sql.Tx, plans []*plan, now time.Time) error {
	var creates, updates []objectRow
	var fresh []*plan
	for _, pl := range plans {
		if pl.before == nil {
			fresh = append(fresh, pl)
		}
	}
	ids, err := db.NextIDs(ctx, tx, "objects", len(fresh))
	if err != nil {
		return err
	}
	for i, pl := range fresh {
		pl.after.ID, pl.after.CreatedAt = ids[i], now
	}
	for _, pl := range plans {
		pl.after.UpdatedAt = now
		row := objectRow{ID: pl.after.ID, Version: pl.after.Version, Kind: pl.after.Kind, Name: pl.after.Name,
			Reference: pl.after.Reference, Attributes: pl.after.Attributes, GroupID: nonZero(pl.after.GroupID)}
		if pl.before == nil {
			creates = append(creates, row)
		} else {
			updates = append(updates, row)
		}
	}
	if len(creates) > 0 {
		if err := s.db.ExecRecords(ctx, tx, `INSERT INTO objects (id, version, kind, name, reference, attributes,
			group_id, created_at, updated_at)
			SELECT r.*, $2, $2 FROM jsonb_to_recordset($1) AS r(`+rowColumns+`)`, creates, objectUnique, now); err != nil {
			return err
		}
	}
	if len(updates) > 0 {
		if err := s.db.ExecRecords(ctx, tx, `UPDATE objects o SET version = r.version, name = r.name,
			reference = r.reference, attributes = r.attributes, group_id = r.group_id, updated_at = $2
			FROM jsonb_to_recordset($1) AS r(`+rowColumns+`) WHERE o.id = r.id`, updates, objectUnique, now); err != nil {
			return err
		}
	}
	return nil
}

func nonZero(id int64) *int64 {
	if id == 0 {
		return nil
	}
	return &id
}

// Delete deletes object id: it must be visible to p, and p needs
// system.object with delete.
func (s *Store) Delete(ctx context.Context, p *policy.Principal, id int64) error {
	now := s.db.Now()
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		found, err := s.findLocked(ctx, tx, p, now, []int64{id})
		if err != nil {
			return err
		}
		if err := notFound([]int64{id}, found, ""); err != nil {
			return err
		}
		if !s.authz.HasSystemRight(p, rights.SystemObject, rights.ParamDelete) {
			return errors.NoSystemRightParam(rights.SystemObject, rights.ParamDelete)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM objects WHERE id = $1`, id); err != nil {
			return errors.Database(err)
		}
		return audit.Record(ctx, tx, []audit.Event{{ActorUserID: p.UserID, ObjectType: "object", ObjectID: id,
			Action: "delete", Before: mustJSON(found[id].Object)}})
	})
}

// Move puts objects into group m.To, or takes them out of their group (To
// 0), with one UPDATE whatever their number, and one audit event "move" per
// object that changes group. All or nothing: any object that is unknown,
// invisible or of another kind fails the whole move with one error naming
// all such ids (ObjectsNotFound); a missing right on any group involved
// (link on To, unlink on each group objects leave) fails it too.
func (s *Store) Move(ctx context.Context, p *policy.Principal, m Move) (MoveResult, error) {
	var res MoveResult
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		var err error
		res, err = s.MoveIn(ctx, tx, p, m)
		return err
	})
	if err != nil {
		return MoveResult{}, err
	}
	return res, nil
}

// readFrom makes sure group id, which a Move empties, is in groups.
func (s *Store) readFrom(ctx context.Context, tx *sql.Tx, id int64, groups map[int64]*policy.Object) (*policy.Object, error) {
	found, err := s.groups.PolicyObjects(ctx, tx, []int64{id})
	if err != nil {
		return nil, err
	}
	g, ok := found[id]
	if !ok {
		return nil, errors.GroupNotFound(strconv.FormatInt(id, 10))
	}
	groups[id] = g
	return g, nil
}

// moveEvent is the audit event of object id leaving group from for group to
// (0: none), at its new version.
func moveEvent(actor, id, version, from, to int64) audit.Event {
	side := func(v, g int64) json.RawMessage {
		b := []byte(`{"_version":` + strconv.FormatInt(v, 10) + `,"_group":`)
		if g == 0 {
			b = append(b, "null"...)
		} else {
			b = append(append(append(b, `{"_id":`...), strconv.FormatInt(g, 10)...), '}')
		}
		return append(b, '}')
	}
	return audit.Event{ActorUserID: actor, ObjectType: "object", ObjectID: id, Action: "move",
		Before: side(version, from), After: side(version+1, to)}
}

// Ungroup takes every object out of group id, in tx, with an audit event
// per object, acting for p: the group's delete calls it (group.Store's
// OnDelete), after deciding that p may delete the group, and before the
// group's row goes. It decides nothing itself.
func (s *Store) Ungroup(ctx context.Context, tx *sql.Tx, p *policy.Principal, id int64) error {
	// The rows are locked in id order first, as every other write of
	// objects locks them, so that a concurrent Move of some of them cannot
	// deadlock with this; one that moved them away meanwhile leaves them out.
	rows, err := tx.QueryContext(ctx, `UPDATE objects SET group_id = NULL, version = version + 1, updated_at = $2
		WHERE id IN (SELECT id FROM objects WHERE group_id = $1 ORDER BY id FOR UPDATE)
		RETURNING id, version`, id, s.db.Now())
	if err != nil {
		return errors.Database(err)
	}
	defer rows.Close()
	var events []audit.Event
	for rows.Next() {
		var oid, version int64
		if err := rows.Scan(&oid, &version); err != nil {
			return errors.Database(err)
		}
		events = append(events, moveEvent(p.UserID, oid, version-1, id, 0))
	}
	if err := rows.Err(); err != nil {
		return errors.Database(err)
	}
	rows.Close()
	return audit.Record(ctx, tx, events)
}

func sameString(a, b *string) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}

// sameJSON compares two JSON documents by value (jsonb normalises what the
// database returns, so the bytes may differ for the same document).
func sameJSON(a, b json.RawMessage) bool {
	if bytes.Equal(a, b) {
		return true
	}
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	xb, _ := json.Marshal(x)
	yb, _ := json.Marshal(y)
	return bytes.Equal(xb, yb)
}
