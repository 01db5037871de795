package group

import (
	"bytes"
	"context"
	"slices"

	"github.com/groupd/groupd/acl"
	"github.com/groupd/groupd/audit"
	"github.com/groupd/groupd/errors"
)

// The one-statement single update (bulk.OneRow): an update of one group
// that changes only its own row is read, decided and written with its audit
// event in two round trips.

// updateOneStatement writes a row-only update and its audit event in one
// statement, only while the group is still at the version the decision was
// made on: $1 id, $2 the version read, $3 the new version, $4..$9 the
// columns a row-only update changes, $10 updated_at; the event's parameters
// follow (audit.WithEvent).
var updateOneStatement = audit.WithEvent(`UPDATE groups SET version = $3, name = $4, comment = $5,
		reference = $6, frontend_prefs = $7, authorization_info = $8, color = $9, updated_at = $10
		WHERE id = $1 AND version = $2
		RETURNING id`, 10)

// ReadOne reads group id with its ACL and the caller's rights, by the
// prepared statement of GET /group/<id>, for Decide.
func (w *groupWrite) ReadOne(ctx context.Context, id int64) error {
	g, err := w.s.Get(ctx, w.p, id)
	if err != nil {
		return err
	}
	w.current = map[int64]*Group{}
	if g != nil {
		w.current[id] = g
	}
	return nil
}

// RowOnly: pl changes only columns of the groups row that neither the
// caller's rights nor other processes' caches depend on: not the ACL,
// owner, type, displaynames (a table of their own) or system rights (which
// notify). And the answer built from the row read is what a read after the
// write gives: frontend_prefs, when set, are the bytes jsonb already stores
// (other bytes are answered as jsonb writes them, which only a read says),
// and a rename does not change a short format the answer shows (the group
// as its own owner or ACL subject).
func (w *groupWrite) RowOnly(pl *plan) bool {
	return pl.keepsGrants() && !pl.dnChanged && !pl.rightsChanged &&
		(!pl.prefsSet || bytes.Equal(pl.frontendPrefs, pl.before.FrontendPrefs)) && !pl.renamesShownSelf()
}

// renamesShownSelf reports whether pl renames a group that its own answer
// shows in short format: as its owner or as a subject of its ACL.
func (pl *plan) renamesShownSelf() bool {
	if sameString(pl.name, pl.before.Name) {
		return false
	}
	if pl.ownerGroup == pl.ID {
		return true
	}
	return slices.ContainsFunc(pl.ACL, func(e acl.Entry) bool { return e.WhoGroupID == pl.ID })
}

// UpdateOne writes pl's row and event if the group is still at the version
// read.
func (w *groupWrite) UpdateOne(ctx context.Context, pl *plan, event audit.Event) (bool, error) {
	stmt, err := w.s.db.Prepared(ctx, updateOneStatement)
	if err != nil {
		return false, errors.Database(err)
	}
	var prefs any
	if pl.frontendPrefs != nil {
		prefs = string(pl.frontendPrefs)
	}
	res, err := stmt.ExecContext(ctx, append([]any{pl.ID, pl.before.Version, pl.version, pl.name, pl.comment,
		pl.reference, prefs, pl.authorization, pl.color, w.now}, audit.EventArgs(event)...)...)
	if err != nil {
		return false, groupUnique.Error(err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, errors.Database(err)
	}
	return n == 1, nil
}
