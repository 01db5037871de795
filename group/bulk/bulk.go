// Package bulk is the bulk-write kernel that groups and users share (and
// grouped objects after them): the steps of a write, written once, in one
// transaction:
//
//  1. lock the current rows in id order, and load them (Resource.Lock);
//  2. decide per item (Resource.Decide): rights, validation, the plan;
//  3. check references: every owner and ACL subject an item names exists;
//  4. claim unique values: against the other items, then the database;
//  5. write rows (Resource.WriteRows), then the ACL rows (package acl),
//     which completes the plans' ACL entries as stored (ids, times);
//  6. the written items, from the plans (Resource.ReadBack);
//  7. audit (package audit) and notify (Resource.Notify), in the
//     transaction, so that both happen exactly when the write commits.
//
// A resource plugs in only its own rules: how it decides, its rows, its
// unique values and how to find their holders, the references it names.
// Any refused item makes the whole write fail with its parameters.index,
// and the database stays as it was.
//
// The kernel is protocol-neutral: it takes and returns Go values and typed
// errors, whichever surface called the resource's store.
package bulk

import (
	"context"
	"database/sql"
	"slices"
	"strconv"
	"time"

	"github.com/groupd/groupd/acl"
	"github.com/groupd/groupd/audit"
	"github.com/groupd/groupd/db"
	"github.com/groupd/groupd/errors"
	"github.com/groupd/groupd/input"
	"github.com/groupd/groupd/policy"
	"github.com/groupd/groupd/rights"
)

// Item is what the kernel knows of one decided item. A resource's plan
// embeds it (Plan).
type Item struct {
	Index int   // position in the request, for parameters.index
	ID    int64 // the row: an update's from the start, a create's once WriteRows runs
	// Create: the item creates a row (ID is assigned by the kernel).
	Create bool
	// Owner is the owner the item names; nil when it names none. It must
	// exist.
	Owner *acl.Subject
	// ACL is the object's ACL after the write; it is written, and its
	// subjects must exist, only when ACLChanged.
	ACL        []acl.Entry
	ACLChanged bool
	// Claims are the unique values the row holds after the write.
	Claims []Claim
}

// Bulk returns it, so that a plan embedding an Item is a Plan.
func (it *Item) Bulk() *Item { return it }

// Claim is a unique value an item holds after the write.
type Claim struct {
	// Namespace and Value identify the value: two claims collide when both
	// are equal ("login" spans the logins and the login e-mails of users).
	Namespace, Value string
	// Attribute is what a conflict reports as parameters.constraint.
	Attribute string
	// New: the row did not hold the value before; only new values are
	// looked up among the rows outside the request.
	New bool
}

func (c Claim) key() claimKey { return claimKey{c.Namespace, c.Value} }

type claimKey struct{ namespace, value string }

// Holder is a row that holds a unique value, as Resource.Holders finds it.
type Holder struct {
	ID               int64
	Namespace, Value string
}

// QueryHolders runs query, whose rows are holders (id, namespace, value),
// for a Resource's Holders.
func QueryHolders(ctx context.Context, tx *sql.Tx, query string, args ...any) ([]Holder, error) {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, errors.Database(err)
	}
	out, err := db.Collect(rows, func(r *sql.Rows) (h Holder, err error) {
		return h, r.Scan(&h.ID, &h.Namespace, &h.Value)
	})
	if err != nil {
		return nil, errors.Database(err)
	}
	return out, nil
}

// Plan is one item's decided outcome as a resource computes it.
type Plan interface{ Bulk() *Item }

// Resource is one resource's rules for one write request. Write calls its
// methods in the order of the steps, inside one transaction.
type Resource[P Plan] interface {
	// Lock locks the rows that the updates name (ids, ascending), in id
	// order, and whatever else the decisions read, and loads them.
	Lock(ctx context.Context, tx *sql.Tx, ids []int64) error
	// Decide decides item i (the position in Write's targets) on what Lock
	// loaded.
	Decide(i int) (P, error)
	// Holders returns the rows that hold any of the claimed values.
	Holders(ctx context.Context, tx *sql.Tx, claims []Claim) ([]Holder, error)
	// WriteRows writes the resource's own rows (not the ACL) of plans; the
	// creates have their ids. This is the one place where the statements
	// of a write are issued.
	WriteRows(ctx context.Context, tx *sql.Tx, creates, updates []P) error
	// ReadBack sets the written items for the answer and the audit trail.
	// The plans hold what was written, their ACL entries as stored
	// (acl.Table.Save sets the new entries' ids and creation times and every
	// entry's stored rights): a resource builds the items from them and
	// reads in tx only what they cannot say, or reads the items back. The
	// one-row path calls it with tx nil, before its write (OneRow.RowOnly).
	ReadBack(ctx context.Context, tx *sql.Tx, plans []P) error
	// Events are the audit events of the write.
	Events(plans []P) ([]audit.Event, error)
	// Notify tells every groupd process what changed, in the transaction.
	Notify(ctx context.Context, tx *sql.Tx, plans []P) error
}

// Notifier tells every groupd process, inside a write's transaction
// (pg_notify, delivered at commit), what the write changed, and ends the
// sessions a write ends: NotifyUsers drops the cached principals of users
// whose memberships, system rights, login, type or password changed,
// NotifyGroups those of every member of groups whose system rights changed
// or that were deleted, EndSessions deletes the sessions of users (but
// keepSessionID) and drops them from every process. *session.Service is
// one, given to the stores by the wiring (server/services.go); nil (tests
// without sessions) tells nobody.
type Notifier interface {
	NotifyUsers(ctx context.Context, tx *sql.Tx, userIDs ...int64) error
	NotifyGroups(ctx context.Context, tx *sql.Tx, groupIDs ...int64) error
	EndSessions(ctx context.Context, tx *sql.Tx, userIDs []int64, keepSessionID int64) error
}

// Authorizer is the decision engine (policy.Engine) that the stores of
// groups and users ask.
type Authorizer = policy.Reader

// MayCreateGrants applies the rules of a create's grants in the realm of
// system right realm (system.group, system.user): the owner can only be
// the creator, an ACL needs create_acl, system rights need
// create_system_rights, and system.root needs system.root.
func MayCreateGrants(authz Authorizer, p *policy.Principal, realm string, g acl.Grants) error {
	if g.Owner != nil && (g.Owner.Kind != "user" || g.Owner.ID != p.UserID) {
		return errors.ChangeOwnerOnCreation()
	}
	if len(g.ACL) > 0 && !authz.HasSystemRight(p, realm, rights.ParamCreateACL) {
		return errors.NoSystemRightParam(realm, rights.ParamCreateACL)
	}
	if len(g.SystemRights) == 0 {
		return nil
	}
	if !authz.HasSystemRight(p, realm, rights.ParamCreateSystemRights) {
		return errors.NoSystemRightParam(realm, rights.ParamCreateSystemRights)
	}
	if _, ok := g.SystemRights[rights.SystemRoot]; ok && !authz.HasSystemRight(p, rights.SystemRoot, "") {
		return errors.NoSystemRight(rights.SystemRoot)
	}
	return nil
}

// MayChangeSystemRights applies the rules of an update of system rights
// from before to after in the realm of system right realm: it needs
// edit_system_rights, and adding or removing system.root needs system.root.
func MayChangeSystemRights(authz Authorizer, p *policy.Principal, realm string, before, after rights.Map) error {
	if !authz.HasSystemRight(p, realm, rights.ParamEditSystemRights) {
		return errors.NoSystemRightParam(realm, rights.ParamEditSystemRights)
	}
	_, hadRoot := before[rights.SystemRoot]
	_, hasRoot := after[rights.SystemRoot]
	if hadRoot != hasRoot && !authz.HasSystemRight(p, rights.SystemRoot, "") {
		return errors.NoSystemRight(rights.SystemRoot)
	}
	return nil
}

// Deletable is a row as a delete decides on it.
type Deletable interface {
	PolicyObject() *policy.Object
	IsSystem() bool
}

// DeleteRule is how the delete of one resource's row is decided.
type DeleteRule struct {
	Right    string                        // what deleting needs on the row (bag_delete, delete)
	NotFound func(id string) *errors.Error // an unknown id (errors.GroupNotFound, ...)
	System   func(id int64) *errors.Error  // a system row, which is never deleted
}

// MayDeleteOne decides the delete of row id, which the delete's lock found
// (found: none or that row): it must exist, not be a system row, and p
// needs the rule's right on it. It returns the row.
func MayDeleteOne[T Deletable](authz Authorizer, p *policy.Principal, rule DeleteRule, id int64, found []T) (T, error) {
	var none T
	if len(found) == 0 {
		return none, rule.NotFound(strconv.FormatInt(id, 10))
	}
	row := found[0]
	if row.IsSystem() {
		return none, rule.System(id)
	}
	if err := mayDelete(authz, p, rule.Right, row.PolicyObject()); err != nil {
		return none, err
	}
	return row, nil
}

// mayDelete decides whether p may delete obj, the kind (group, user) with
// id, which needs right on it.
func mayDelete(authz Authorizer, p *policy.Principal, right string, obj *policy.Object) error {
	ok, err := authz.Can(p, right, obj)
	if err != nil {
		return errors.ServerGeneric(err)
	}
	if !ok {
		return errors.InsufficientRights("delete", obj.Kind, strconv.FormatInt(obj.ID, 10), right)
	}
	return nil
}

// RefuseGroupOwner refuses to delete owner while it owns a group: deleting
// it would leave those groups without one.
func RefuseGroupOwner(ctx context.Context, tx *sql.Tx, owner acl.Subject) error {
	column := "owner_user_id"
	if owner.Kind == "group" {
		column = "owner_group_id"
	}
	var owns bool
	if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM groups WHERE `+column+` = $1)`, owner.ID).Scan(&owns); err != nil {
		return errors.Database(err)
	}
	if owns {
		return errors.IntegrityConstraintViolation("group._owner")
	}
	return nil
}

// Spec is what the kernel needs to know of a resource's tables.
type Spec struct {
	Kind  string    // "group" or "user": names the errors' attributes
	Table string    // the resource's table, whose sequence gives creates their ids
	ACL   acl.Table // where its ACL entries are stored
}

// Target is one item of a request as it arrives: its position and the id
// it updates (0: a create), as the resource's Input embeds it.
type Target = input.Head

// Write runs the steps for targets in one transaction and returns the
// plans in target order. now is the write's time (new ACL entries'
// creation time), the one the resource writes its rows with. A request of
// one update that changes only the row takes the one-statement path of a
// resource that has one (OneRow).
func Write[P Plan](ctx context.Context, d *db.DB, spec Spec, r Resource[P], targets []Target, now time.Time) ([]P, error) {
	ids, err := updateIDs(spec.Kind, targets)
	if err != nil {
		return nil, err
	}
	if one, ok := r.(OneRow[P]); ok && len(targets) == 1 && len(ids) == 1 {
		if plans, done, oneErr := writeOne(ctx, one, r, targets[0]); done {
			return plans, oneErr
		}
	}
	var plans []P
	err = d.InTx(ctx, func(tx *sql.Tx) error {
		var txErr error
		plans, txErr = run(ctx, d, tx, spec, r, targets, ids, now)
		return txErr
	})
	if err != nil && plans != nil && unplacedConflict(err) {
		return nil, placeConflict(ctx, d, r, plans, err)
	}
	if err != nil {
		return nil, err
	}
	return plans, nil
}

// Targets are the targets of items, in order.
func Targets[T interface{ BulkHead() Target }](items []T) []Target {
	out := make([]Target, len(items))
	for i, it := range items {
		out[i] = it.BulkHead()
	}
	return out
}

// ByID indexes rows (the locked or the written ones) by their id.
func ByID[T any](rows []T, id func(T) int64) map[int64]T {
	out := make(map[int64]T, len(rows))
	for _, r := range rows {
		out[id(r)] = r
	}
	return out
}

// Results maps the plans of a successful write to what the write answers.
func Results[P Plan, R any](plans []P, err error, result func(P) R) ([]R, error) {
	if err != nil {
		return nil, err
	}
	out := make([]R, len(plans))
	for i, pl := range plans {
		out[i] = result(pl)
	}
	return out, nil
}

// updateIDs are the ids the targets update, ascending: the order rows are
// locked in, so that concurrent writes cannot deadlock. An id may appear
// once.
func updateIDs(kind string, targets []Target) ([]int64, error) {
	seen := make(map[int64]bool, len(targets))
	var ids []int64
	for _, t := range targets {
		if t.ID == 0 {
			continue
		}
		if seen[t.ID] {
			return nil, errors.WithIndex(errors.InvalidValue(kind+"._id", kind+" "+strconv.FormatInt(t.ID, 10)+
				" appears more than once in the request"), t.Index)
		}
		seen[t.ID] = true
		ids = append(ids, t.ID)
	}
	slices.Sort(ids)
	return ids, nil
}

func run[P Plan](ctx context.Context, d *db.DB, tx *sql.Tx, spec Spec, r Resource[P], targets []Target, ids []int64,
	now time.Time) ([]P, error) {
	if err := r.Lock(ctx, tx, ids); err != nil {
		return nil, err
	}
	plans := make([]P, len(targets))
	for i, t := range targets {
		pl, err := r.Decide(i)
		if err != nil {
			return nil, errors.WithIndex(err, t.Index)
		}
		plans[i] = pl
	}
	if err := checkReferences(ctx, tx, plans); err != nil {
		return nil, err
	}
	if err := checkUnique(ctx, tx, r, plans); err != nil {
		return nil, err
	}
	// From here on a failure may be a conflict only the database saw:
	// Write places it with the plans.
	if err := writeRows(ctx, d, tx, spec, r, plans, now); err != nil {
		return plans, err
	}
	if err := r.ReadBack(ctx, tx, plans); err != nil {
		return nil, err
	}
	events, err := r.Events(plans)
	if err != nil {
		return nil, err
	}
	if err := audit.Record(ctx, tx, events); err != nil {
		return nil, err
	}
	return plans, r.Notify(ctx, tx, plans)
}

// checkReferences: every user and group that an item's owner or a changed
// ACL names must exist (error.user.user_not_found / group_not_found with
// its id, on the first item that names a missing one).
func checkReferences[P Plan](ctx context.Context, tx *sql.Tx, plans []P) error {
	var users, groups []int64
	for _, pl := range plans {
		u, g := references(pl.Bulk())
		users, groups = append(users, u...), append(groups, g...)
	}
	missingUsers, missingGroups, err := acl.Missing(ctx, tx, users, groups)
	if err != nil || len(missingUsers)+len(missingGroups) == 0 {
		return err
	}
	for _, pl := range plans {
		it := pl.Bulk()
		u, g := references(it)
		for _, id := range u {
			if missingUsers[id] {
				return errors.WithIndex(errors.UserNotFound(strconv.FormatInt(id, 10)), it.Index)
			}
		}
		for _, id := range g {
			if missingGroups[id] {
				return errors.WithIndex(errors.GroupNotFound(strconv.FormatInt(id, 10)), it.Index)
			}
		}
	}
	return nil
}

// references are the users and groups an item names: its owner, and the
// subjects of every entry of the ACL it writes.
func references(it *Item) (users, groups []int64) {
	if it.ACLChanged {
		users, groups = acl.Subjects(it.ACL)
	}
	if o := it.Owner; o != nil {
		if o.Kind == "user" {
			users = append(users, o.ID)
		} else {
			groups = append(groups, o.ID)
		}
	}
	return users, groups
}

// checkUnique finds the first item whose unique value is taken, by another
// item of the request or by a row the request does not change, so that the
// error names the item. A value an item keeps is its own: claimed first, it
// is refused to the other items. A value taken from a row that the request
// gives another value is free (a swap of two names in one request).
func checkUnique[P Plan](ctx context.Context, tx *sql.Tx, r Resource[P], plans []P) error {
	claimed := map[claimKey]*Item{}
	for _, pl := range plans {
		for _, c := range pl.Bulk().Claims {
			if !c.New {
				claimed[c.key()] = pl.Bulk()
			}
		}
	}
	var lookup []Claim
	for _, pl := range plans {
		it := pl.Bulk()
		for _, c := range it.Claims {
			if !c.New {
				continue
			}
			if other, taken := claimed[c.key()]; taken && other != it {
				return errors.WithIndex(errors.IntegrityConstraintViolation(c.Attribute), it.Index)
			}
			claimed[c.key()] = it
			lookup = append(lookup, c)
		}
	}
	if len(lookup) == 0 {
		return nil
	}
	holders, err := r.Holders(ctx, tx, lookup)
	if err != nil {
		return err
	}
	return firstConflict(plans, claimed, holders)
}

// firstConflict is the conflict of the lowest item index among holders of
// claimed values, or nil.
func firstConflict[P Plan](plans []P, claimed map[claimKey]*Item, holders []Holder) error {
	updated := map[int64]*Item{} // rows the request updates, by id
	for _, pl := range plans {
		if it := pl.Bulk(); !it.Create {
			updated[it.ID] = it
		}
	}
	var first *Item
	var attribute string
	for _, h := range holders {
		k := claimKey{h.Namespace, h.Value}
		claimer := claimed[k]
		if claimer == nil {
			continue
		}
		if holder, ok := updated[h.ID]; ok && (holder == claimer || !holds(holder, k)) {
			// The holder is in the request and keeps the value, or gives
			// it up.
			continue
		}
		if first == nil || claimer.Index < first.Index {
			first = claimer
			for _, c := range claimer.Claims {
				if c.key() == k {
					attribute = c.Attribute
				}
			}
		}
	}
	if first == nil {
		return nil
	}
	return errors.WithIndex(errors.IntegrityConstraintViolation(attribute), first.Index)
}

func holds(it *Item, k claimKey) bool {
	for _, c := range it.Claims {
		if c.key() == k {
			return true
		}
	}
	return false
}

// writeRows gives the creates their ids, has the resource write its rows,
// and writes the changed ACLs.
func writeRows[P Plan](ctx context.Context, d *db.DB, tx *sql.Tx, spec Spec, r Resource[P], plans []P, now time.Time) error {
	var creates, updates []P
	for _, pl := range plans {
		if pl.Bulk().Create {
			creates = append(creates, pl)
		} else {
			updates = append(updates, pl)
		}
	}
	if len(creates) > 0 {
		ids, err := db.NextIDs(ctx, tx, spec.Table, len(creates))
		if err != nil {
			return err
		}
		for i, pl := range creates {
			pl.Bulk().ID = ids[i]
		}
	}
	if err := r.WriteRows(ctx, tx, creates, updates); err != nil {
		return err
	}
	var changes []acl.Change
	for _, pl := range plans {
		if it := pl.Bulk(); it.ACLChanged {
			changes = append(changes, acl.Change{ObjectID: it.ID, Replaces: !it.Create, Entries: it.ACL})
		}
	}
	if len(changes) == 0 {
		return nil
	}
	return spec.ACL.Save(ctx, d, tx, changes, now)
}

const integrityViolation = "error.user.integrity_constraint_violation"

// unplacedConflict: err is a uniqueness conflict that names no item, one
// that only the database saw (a concurrent request took the value after
// checkUnique looked).
func unplacedConflict(err error) bool {
	if errors.CodeOf(err) != integrityViolation {
		return false
	}
	_, placed := errors.From(err).Parameters["index"]
	return !placed
}

// placeConflict finds the item of a conflict that only the database saw:
// the write waited for the concurrent request that took the value and
// failed when that one committed, so a new look at the committed rows,
// after the rollback, finds the holder and the item that claimed the value.
// When it finds none (the other request rolled back after all), the
// conflict stays as the database reported it.
func placeConflict[P Plan](ctx context.Context, d *db.DB, r Resource[P], plans []P, conflict error) error {
	err := d.InTx(ctx, func(tx *sql.Tx) error { return checkUnique(ctx, tx, r, plans) })
	if errors.CodeOf(err) == integrityViolation && !unplacedConflict(err) {
		return err
	}
	return conflict
}
