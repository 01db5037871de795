package acl

import (
	"context"
	"database/sql"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/groupd/groupd/db"
	"github.com/groupd/groupd/errors"
	"github.com/groupd/groupd/rights"
	"github.com/lib/pq"
)

// Table is where the ACL entries of one kind of object are stored. Package
// acl is the only writer of these tables; the resources read them in their
// own queries (visibility, full format) and hand their new ACLs to Save.
type Table struct {
	name   string // the table
	object string // its column naming the object the entries are on
}

// The ACL tables: the entries on groups and the entries on users.
var (
	GroupTable = Table{name: "group_acl", object: "group_id"}
	UserTable  = Table{name: "user_acl", object: "user_id"}
)

// Change is the new ACL of one object.
type Change struct {
	ObjectID int64
	// Replaces: the object existed before this write, and its entries are
	// replaced (a created object has none to delete).
	Replaces bool
	// Entries in order; an entry with an ID keeps it (KeepIDs), one
	// without takes a new id.
	Entries []Entry
}

// KeepIDs keeps the id and creation time of entries that name an existing
// entry of the same object (current) by _id; other entries are new (ID 0),
// and an id is kept once.
func KeepIDs(entries, current []Entry) []Entry {
	old := make(map[int64]Entry, len(current))
	for _, e := range current {
		old[e.ID] = e
	}
	out := make([]Entry, len(entries))
	for i, e := range entries { // new entries come decoded from the request
		if o, ok := old[e.ID]; ok && e.ID != 0 {
			e.Created = o.Created
			delete(old, e.ID)
		} else {
			e.ID = 0
		}
		out[i] = e
	}
	return out
}

// Subjects are the users and groups that entries name.
func Subjects(entries []Entry) (users, groups []int64) {
	for _, e := range entries {
		if e.WhoUserID != 0 {
			users = append(users, e.WhoUserID)
		}
		if e.WhoGroupID != 0 {
			groups = append(groups, e.WhoGroupID)
		}
	}
	return users, groups
}

// Missing returns which of the users and groups have no row, in one
// statement: the check that the subjects (and owners) a write names exist,
// made in the write's transaction.
func Missing(ctx context.Context, tx *sql.Tx, users, groups []int64) (missingUsers, missingGroups map[int64]bool, err error) {
	if len(users)+len(groups) == 0 {
		return nil, nil, nil
	}
	rows, err := tx.QueryContext(ctx, `SELECT false, i FROM unnest($1::bigint[]) AS i
			WHERE NOT EXISTS (SELECT 1 FROM users t WHERE t.id = i)
		UNION ALL SELECT true, i FROM unnest($2::bigint[]) AS i
			WHERE NOT EXISTS (SELECT 1 FROM groups t WHERE t.id = i)`, pq.Array(users), pq.Array(groups))
	if err != nil {
		return nil, nil, errors.Database(err)
	}
	defer rows.Close()
	missingUsers, missingGroups = map[int64]bool{}, map[int64]bool{}
	for rows.Next() {
		var isGroup bool
		var id int64
		if err := rows.Scan(&isGroup, &id); err != nil {
			return nil, nil, errors.Database(err)
		}
		if isGroup {
			missingGroups[id] = true
		} else {
			missingUsers[id] = true
		}
	}
	if err := rows.Err(); err != nil {
		return nil, nil, errors.Database(err)
	}
	return missingUsers, missingGroups, nil
}

// entryRow is the JSON record that jsonb_to_recordset turns into a row of
// an ACL table: one statement per table, whatever the number of entries.
type entryRow struct {
	ID       int64           `json:"id"`
	ObjectID int64           `json:"object_id"`
	Position int             `json:"position"`
	WhoUser  *int64          `json:"who_user_id"`
	WhoGroup *int64          `json:"who_group_id"`
	WhoOwner bool            `json:"who_owner"`
	Rights   json.RawMessage `json:"rights"`
	Mask     rights.Mask     `json:"mask"`
	Active   bool            `json:"active"`
	From     *time.Time      `json:"valid_from"`
	To       *time.Time      `json:"valid_to"`
	Created  time.Time       `json:"created_at"`
}

const entryColumns = `id bigint, object_id bigint, position int, who_user_id bigint, who_group_id bigint,
	who_owner boolean, rights jsonb, mask int, active boolean, valid_from timestamptz, valid_to timestamptz,
	created_at timestamptz`

// copyThreshold: above this many rows COPY beats one INSERT of a JSON
// parameter, whose parsing grows costly for large bulks (docs/benchmarks.md).
const copyThreshold = 64

// Save writes the ACLs of changes in tx with a fixed number of statements:
// one DELETE of the replaced entries, one of the ids for the new entries
// (taken from the identity sequence ahead), and one INSERT (COPY when there
// are many) of all entries. now is the creation time of new entries.
//
// Save completes the entries of changes (the callers' slices) as they are
// stored: a new entry's ID, every new entry's Created (now, to the
// microsecond PostgreSQL keeps), and every entry's Stored, the rights as
// PostgreSQL returns them (StoredRights). A write's answer is built from
// them instead of being read back.
func (t Table) Save(ctx context.Context, d *db.DB, tx *sql.Tx, changes []Change, now time.Time) error {
	now = now.Truncate(time.Microsecond)
	var replaced []int64
	var rows []entryRow
	var fresh []*Entry
	stored := storedTexts{}
	for _, c := range changes {
		if c.Replaces {
			replaced = append(replaced, c.ObjectID)
		}
		for pos := range c.Entries {
			e := &c.Entries[pos]
			if e.ID == 0 || e.Created.IsZero() {
				e.Created = now
			}
			e.Stored = stored.of(e.Rights)
			if e.ID == 0 {
				fresh = append(fresh, e)
			}
		}
	}
	if len(replaced) > 0 {
		if _, err := tx.ExecContext(ctx, `DELETE FROM `+t.name+` WHERE `+t.object+` = ANY($1::bigint[])`,
			pq.Array(replaced)); err != nil {
			return errors.Database(err)
		}
	}
	ids, err := db.NextIDs(ctx, tx, t.name, len(fresh))
	if err != nil {
		return errors.Database(err)
	}
	for i, e := range fresh {
		e.ID = ids[i]
	}
	for _, c := range changes {
		for pos, e := range c.Entries {
			rows = append(rows, entryRow{ID: e.ID, ObjectID: c.ObjectID, Position: pos, WhoUser: nonZero(e.WhoUserID),
				WhoGroup: nonZero(e.WhoGroupID), WhoOwner: e.WhoOwner, Rights: e.Stored, Mask: e.Mask,
				Active: e.Active, From: e.From, To: e.To, Created: e.Created})
		}
	}
	if len(rows) > copyThreshold {
		return t.copyRows(ctx, tx, rows)
	}
	if len(rows) > 0 {
		return d.ExecRecords(ctx, tx, `INSERT INTO `+t.name+` (id, `+t.object+`, position, who_user_id, who_group_id,
			who_owner, rights, mask, active, valid_from, valid_to, created_at)
			SELECT r.id, r.object_id, r.position, r.who_user_id, r.who_group_id, r.who_owner, r.rights, r.mask, r.active,
				r.valid_from, r.valid_to, r.created_at
			FROM jsonb_to_recordset($1) AS r(`+entryColumns+`)`, rows, nil)
	}
	return nil
}

// copyRows writes entries with COPY, ids included (COPY writes the given
// values into the identity column). The rows share one backing array, and
// the creation times, mostly one instant, are formatted once each.
func (t Table) copyRows(ctx context.Context, tx *sql.Tx, entries []entryRow) error {
	const columns = 12
	flat := make([]any, columns*len(entries))
	rows := make([][]any, len(entries))
	var lastCreated time.Time
	var created string
	texts := map[string]string{} // one string per distinct rights text
	for i, r := range entries {
		text, ok := texts[string(r.Rights)]
		if !ok {
			text = string(r.Rights)
			texts[text] = text
		}
		if i == 0 || !r.Created.Equal(lastCreated) {
			lastCreated, created = r.Created, string(pq.FormatTimestamp(r.Created))
		}
		row := flat[i*columns : (i+1)*columns : (i+1)*columns]
		row[0], row[1], row[2], row[3], row[4], row[5] = r.ID, r.ObjectID, r.Position, r.WhoUser, r.WhoGroup, r.WhoOwner
		row[6], row[7], row[8], row[9], row[10], row[11] = text, int(r.Mask), r.Active, r.From, r.To, created
		rows[i] = row
	}
	if err := db.CopyIn(ctx, tx, t.name, []string{"id", t.object, "position", "who_user_id", "who_group_id",
		"who_owner", "rights", "mask", "active", "valid_from", "valid_to", "created_at"}, rows); err != nil {
		return errors.Database(err)
	}
	return nil
}

// StoredRights is m as PostgreSQL's jsonb returns it, compacted: the keys
// of each object ordered by length, then bytewise (jsonb's order, not
// encoding/json's), no duplicates. An ACL entry's rights are right names
// with the parameter _grantable only (rights.DecodeACLRights), whose values
// are booleans: plain ASCII keys and values that jsonb keeps as they are.
func StoredRights(m rights.Map) json.RawMessage {
	return appendStoredRights(make([]byte, 0, 32*len(m)+2), m)
}

func appendStoredRights(b []byte, m rights.Map) []byte {
	b = append(b, '{')
	for i, name := range jsonbKeys(m) {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendKey(b, name)
		b = append(b, '{')
		p := m[name]
		for j, k := range jsonbKeys(p) {
			if j > 0 {
				b = append(b, ',')
			}
			b = appendKey(b, k)
			switch v := p[k].(type) {
			case bool:
				b = strconv.AppendBool(b, v)
			default:
				raw, err := json.Marshal(v)
				if err != nil { // a decoded parameter always marshals
					raw = []byte("null")
				}
				b = append(b, raw...)
			}
		}
		b = append(b, '}')
	}
	return append(b, '}')
}

// storedTexts are the stored forms of one write's rights maps, one copy of
// each: the entries of a bulk mostly grant a few sets of rights, and share
// their Stored text instead of holding 100,000 copies of it.
type storedTexts struct {
	scratch []byte
	texts   map[string]json.RawMessage
}

// of is m's stored form (StoredRights), shared with the entries whose
// rights are the same.
func (st *storedTexts) of(m rights.Map) json.RawMessage {
	st.scratch = appendStoredRights(st.scratch[:0], m)
	if t, ok := st.texts[string(st.scratch)]; ok {
		return t
	}
	if st.texts == nil {
		st.texts = map[string]json.RawMessage{}
	}
	t := json.RawMessage(slices.Clone(st.scratch))
	st.texts[string(t)] = t
	return t
}

// jsonbKeys are m's keys in the order jsonb stores an object's keys:
// shorter first, then bytewise.
func jsonbKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int {
		if len(a) != len(b) {
			return len(a) - len(b)
		}
		return strings.Compare(a, b)
	})
	return keys
}

// appendKey appends k and a colon; right and parameter names are plain
// ASCII, which needs no escaping.
func appendKey(b []byte, k string) []byte {
	if !plainKey(k) {
		q, _ := json.Marshal(k) // a string always marshals
		b = append(b, q...)
		return append(b, ':')
	}
	b = append(b, '"')
	b = append(b, k...)
	return append(b, '"', ':')
}

// plainKey reports whether k is printable ASCII other than " and \ (and
// the characters encoding/json escapes for HTML, which names never hold).
func plainKey(k string) bool {
	for i := 0; i < len(k); i++ {
		if c := k[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}

func nonZero(id int64) *int64 {
	if id == 0 {
		return nil
	}
	return &id
}
