package group

import (
	"context"
	"database/sql"

	"github.com/groupd/groupd/db"
	"github.com/groupd/groupd/errors"
	"github.com/groupd/groupd/group/bulk"
	"github.com/groupd/groupd/policy"
	"github.com/groupd/groupd/rights"
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

// Authorizer is the decision engine the store and the handlers ask.
type Authorizer = bulk.Authorizer

// Store keeps groups in PostgreSQL. Each method runs in one transaction.
// Its read decisions (RequireReader, Readable, ListReadable, Visible) are
// the rules of groupReads, which every surface asks.
type Store struct {
	policy.Reads[*Group, Filter]
	db     *db.DB
	authz  Authorizer
	notify bulk.Notifier // nil: tell nobody
	// The statements that load groups by id, prepared once: planning them
	// costs PostgreSQL more than running them, and they run on every read
	// and write of a group.
	find, findLocked, findACL, getOne *sql.Stmt
	names                             names // ACL subjects' short formats
	// onDelete runs in a group's delete (OnDelete).
	onDelete []DeleteHook
}

// groupReads: reading groups needs system.group, reading one bag_read on
// it, as GET /api/v1/group[/<id>] decides.
var groupReads = policy.ReadRule{Kind: "group", SystemRight: rights.SystemGroup, Right: rights.BagRead,
	NotFound: errors.GroupNotFound}

// NewStore returns a Store; Close releases its prepared statements. notify
// may be nil (tests without sessions).
func NewStore(ctx context.Context, d *db.DB, authz Authorizer, notify bulk.Notifier) (*Store, error) {
	s := &Store{db: d, authz: authz, notify: notify}
	s.Reads = policy.NewReads(authz, groupReads, s.Get, s.List)
	var err error
	if s.find, err = d.PrepareContext(ctx, findQuery); err != nil {
		return nil, errors.Errorf("prepare: %w", err)
	}
	if s.findLocked, err = d.PrepareContext(ctx, findQuery+forUpdate); err != nil {
		return nil, errors.Errorf("prepare: %w", err)
	}
	if s.findACL, err = d.PrepareContext(ctx, aclQuery); err != nil {
		return nil, errors.Errorf("prepare: %w", err)
	}
	if s.getOne, err = d.PrepareContext(ctx, getQuery); err != nil {
		return nil, errors.Errorf("prepare: %w", err)
	}
	return s, nil
}

// Close releases the prepared statements.
func (s *Store) Close() error {
	return errors.Join(s.find.Close(), s.findLocked.Close(), s.findACL.Close(), s.getOne.Close())
}
