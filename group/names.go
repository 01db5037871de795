package group

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"github.com/groupd/groupd/acl"
	"sync"

	"github.com/groupd/groupd/db"
	"github.com/groupd/groupd/errors"
	"github.com/lib/pq"
)

// names caches what the short format of an ACL entry's subject shows (a
// user's login, type and display name; a group's name, type and display
// names). A listing page of 1,000 groups names up to 10,000 subjects, each
// a random heap page to look up: without the cache that is most of a
// page's cost (docs/benchmarks.md, "Why the code is shaped so").
//
// The cache is exact, not eventually consistent: every rename counts up
// names_version in its own transaction (migration 0004), each read learns
// the count its snapshot sees, and the cache answers only reads that see
// the count its entries were read at. A newer count empties it; a read
// with an older snapshot bypasses it.
type names struct {
	mu      sync.Mutex
	version int64 // the names_version the entries hold at
	users   map[int64]acl.Ref
	groups  map[int64]acl.Ref
}

// maxNames bounds the cache; past it, it starts over.
const maxNames = 1 << 18

// namesVersion is the count of renames in a statement's snapshot.
const namesVersion = `(SELECT version FROM names_version)`

// namesQuery reads the subjects the cache lacks, with the count of renames
// its snapshot sees.
var namesQuery = `SELECT ` + namesVersion + `, false, id, login, type, ` + fmt.Sprintf(genDisplayname, "users") + `, ''
	FROM users WHERE id = ANY($1::bigint[])
	UNION ALL
	SELECT ` + namesVersion + `, true, id, name, type, '', displayname::text
	FROM groups WHERE id = ANY($2::bigint[])`

// lookup fills the subjects in refs (Kind and ID set) from the cache when it
// holds at version, marks them in filled, and returns the ids it could not
// fill.
func (n *names) lookup(version int64, refs []*acl.Ref, filled []bool) (users, groups []int64) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if version > n.version || n.users == nil {
		n.version, n.users, n.groups = version, map[int64]acl.Ref{}, map[int64]acl.Ref{}
	}
	usable := version == n.version
	seenU, seenG := map[int64]bool{}, map[int64]bool{}
	for i, r := range refs {
		m, seen, missing := n.users, seenU, &users
		if r.Kind == "group" {
			m, seen, missing = n.groups, seenG, &groups
		}
		if usable {
			if c, ok := m[r.ID]; ok {
				*r, filled[i] = c, true
				continue
			}
		}
		if !seen[r.ID] {
			seen[r.ID] = true
			*missing = append(*missing, r.ID)
		}
	}
	return users, groups
}

// store adds subjects read at version, if the cache holds at it.
func (n *names) store(version int64, found []acl.Ref) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if version > n.version {
		n.version, n.users, n.groups = version, map[int64]acl.Ref{}, map[int64]acl.Ref{}
	}
	if version != n.version {
		return
	}
	if len(n.users)+len(n.groups)+len(found) > maxNames {
		n.users, n.groups = map[int64]acl.Ref{}, map[int64]acl.Ref{}
	}
	for _, r := range found {
		if r.Kind == "group" {
			n.groups[r.ID] = r
		} else {
			n.users[r.ID] = r
		}
	}
}

// resolve fills in the subjects of refs (each with Kind and ID) as the
// statement that read them at version saw them, from the cache or from tx.
// Only a transaction that has written nothing yet adds to the cache: one
// that wrote may see its own rename, counted at a version that is not
// committed and that another rename may then commit with other names.
func (n *names) resolve(ctx context.Context, d *db.DB, tx *sql.Tx, unwritten bool, version int64, refs []*acl.Ref) error {
	if len(refs) == 0 {
		return nil
	}
	filled := make([]bool, len(refs))
	users, groups := n.lookup(version, refs, filled)
	if len(users)+len(groups) == 0 {
		return nil
	}
	stmt, err := d.Prepared(ctx, namesQuery)
	if err != nil {
		return errors.Database(err)
	}
	rows, err := tx.StmtContext(ctx, stmt).QueryContext(ctx, pq.Array(users), pq.Array(groups))
	if err != nil {
		return errors.Database(err)
	}
	defer rows.Close()
	var found []acl.Ref
	var readAt int64
	for rows.Next() {
		var r acl.Ref
		var isGroup bool
		var gdisp string
		if err := rows.Scan(&readAt, &isGroup, &r.ID, &r.Name, &r.Type, &r.Displayname, &gdisp); err != nil {
			return errors.Database(err)
		}
		r.Kind = "user"
		if isGroup {
			r.Kind, r.GroupDisplayname = "group", json.RawMessage(gdisp)
		}
		found = append(found, r)
	}
	if err := rows.Err(); err != nil {
		return errors.Database(err)
	}
	byUser, byGroup := make(map[int64]acl.Ref, len(users)), make(map[int64]acl.Ref, len(groups))
	for _, r := range found {
		if r.Kind == "group" {
			byGroup[r.ID] = r
		} else {
			byUser[r.ID] = r
		}
	}
	for i, r := range refs {
		if filled[i] {
			continue
		}
		m := byUser
		if r.Kind == "group" {
			m = byGroup
		}
		if c, ok := m[r.ID]; ok {
			*r = c
		}
	}
	// Only what was read in the snapshot the caller's version came from
	// is cached (a statement of its own may see a later rename).
	if unwritten && readAt == version {
		n.store(version, found)
	}
	return nil
}
