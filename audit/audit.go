// Package audit is the audit trail: one event per write (who, when, what,
// before and after), recorded in the write's own transaction so that an
// event exists exactly when its change does, and the /api/v1/events feed
// that admins and sync jobs read.
package audit

import (
	"context"
	"database/sql"
	"encoding/json"
	"strconv"
	"time"

	"github.com/groupd/groupd/db"
	"github.com/groupd/groupd/errors"
)

// Event is one recorded change.
type Event struct {
	ID          int64           `json:"_id"`
	At          time.Time       `json:"timestamp"`
	ActorUserID int64           `json:"actor_user_id"`
	ObjectType  string          `json:"type"` // group, user, membership, api_token, object
	ObjectID    int64           `json:"object_id"`
	Action      string          `json:"action"` // create, update, delete, add_member, remove_member, move
	Before      json.RawMessage `json:"before"`
	After       json.RawMessage `json:"after"`
}

// Record writes events in tx: one INSERT for a few (one round trip), COPY
// for many (a bulk write's events carry megabytes of JSON, which COPY passes
// as text where an INSERT would parse it twice).
func Record(ctx context.Context, tx *sql.Tx, events []Event) error {
	if len(events) == 0 {
		return nil
	}
	if len(events) > 64 {
		if _, err := tx.ExecContext(ctx, lz4Events); err != nil {
			return errors.Database(err)
		}
		rows := make([][]any, len(events))
		for i, e := range events {
			rows[i] = []any{nullID(e.ActorUserID), e.ObjectType, e.ObjectID, e.Action, nullJSON(e.Before), nullJSON(e.After)}
		}
		if err := db.CopyIn(ctx, tx, "events", []string{"actor_user_id", "object_type", "object_id", "action",
			"before", "after"}, rows); err != nil {
			return errors.Database(err)
		}
		return nil
	}
	if len(events) == 1 {
		// The common case, a single-object write: plain parameters parse
		// and plan in a fraction of the time jsonb_to_recordset takes
		// (docs/benchmarks.md, "Measurements behind the code").
		e := events[0]
		if _, err := tx.ExecContext(ctx, `INSERT INTO events (actor_user_id, object_type, object_id, action, before, after)
			VALUES ($1, $2, $3, $4, $5, $6)`, nullID(e.ActorUserID), e.ObjectType, e.ObjectID, e.Action,
			nullJSON(e.Before), nullJSON(e.After)); err != nil {
			return errors.Database(err)
		}
		return nil
	}
	type rec struct {
		Actor  *int64          `json:"actor_user_id"`
		Type   string          `json:"object_type"`
		ID     int64           `json:"object_id"`
		Action string          `json:"action"`
		Before json.RawMessage `json:"before"`
		After  json.RawMessage `json:"after"`
	}
	recs := make([]rec, len(events))
	for i, e := range events {
		recs[i] = rec{Type: e.ObjectType, ID: e.ObjectID, Action: e.Action, Before: e.Before, After: e.After}
		if e.ActorUserID != 0 {
			recs[i].Actor = &e.ActorUserID
		}
	}
	b, err := json.Marshal(recs)
	if err != nil {
		return errors.ServerGeneric(err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO events (actor_user_id, object_type, object_id, action, before, after)
		SELECT r.actor_user_id, r.object_type, r.object_id, r.action, r.before, r.after
		FROM jsonb_to_recordset($1) AS r(actor_user_id bigint, object_type text, object_id bigint, action text,
			before jsonb, after jsonb)`, string(b)); err != nil {
		return errors.Database(err)
	}
	return nil
}

// lz4Events has the rest of the transaction compress the values it stores
// out of line with lz4 rather than PostgreSQL's default pglz, where this
// PostgreSQL has lz4: a bulk's events are about 3 KB of JSON each, past the
// size where PostgreSQL compresses, and 10,000 of them took a fifth less time
// to insert with lz4 (docs/benchmarks.md, "Measurements behind the code").
// Reads decompress either; the setting ends with the transaction.
const lz4Events = `SELECT set_config('default_toast_compression', 'lz4', true)
	FROM pg_settings WHERE name = 'default_toast_compression' AND 'lz4' = ANY(enumvals)`

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

func nullJSON(b json.RawMessage) any {
	if len(b) == 0 {
		return nil
	}
	return string(b)
}

// Filter selects events: of one object type (empty: all), after the event
// Since in feed order (0: from the start), at most Limit of them; ObjectID
// 0 means every object.
type Filter struct {
	ObjectType string
	ObjectID   int64
	Since      int64
	Limit      int
	// Before, for ListNewest: only events before this one, newest first.
	Before int64
}

// Store reads the audit trail.
type Store struct{ db *sql.DB }

// NewStore returns a Store on db.
func NewStore(db *sql.DB) *Store { return &Store{db: db} }

// feedEnd is the xid below which the feed is complete: the oldest
// transaction still in flight that may write events (one of this database,
// or one whose database is unknown), or, with none, the first xid not yet
// given out. Every event of a transaction committed later has an xid at or
// above it. Transactions of other databases of the cluster never write this
// database's events, so they do not hold the feed back; one whose backend
// pg_stat_activity does not show (a role without pg_read_all_stats sees
// others' backend_xid as NULL) counts as this database's.
const feedEnd = `(SELECT COALESCE((SELECT min(x) FROM pg_snapshot_xip(s.snap) AS x
		WHERE NOT EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.backend_xid = x::xid AND a.datname <> current_database())),
	pg_snapshot_xmax(s.snap)) FROM (SELECT pg_current_snapshot() AS snap) s)`

// List returns the events matching f in feed order: by the transaction
// that wrote them (xid), then by id, and only those older than every
// transaction that may still write events (feedEnd). A reader that passes
// the last event's id as Since therefore sees every event exactly once,
// whatever order their transactions commit in; an event id that no longer
// exists (removed by the retention) continues with the higher ids. Reading
// the trail is an administrator's right: the caller checks it.
func (s *Store) List(ctx context.Context, f Filter) ([]Event, error) {
	return s.list(ctx, f, f.Since, ">", "xid, id")
}

// list reads the events matching f that come after (cmp ">") or before
// (cmp "<") the event cursor in feed order, ordered by order, an ORDER BY
// list over xid and id. A cursor no longer kept compares by id alone.
func (s *Store) list(ctx context.Context, f Filter, cursor int64, cmp, order string) ([]Event, error) {
	bound := ""
	args := []any{f.ObjectType, f.ObjectID, f.Limit}
	if cursor > 0 {
		var xid string
		err := s.db.QueryRowContext(ctx, `SELECT xid::text FROM events WHERE id = $1`, cursor).Scan(&xid)
		switch {
		case err == sql.ErrNoRows:
			bound, args = `AND id `+cmp+` $4`, append(args, cursor)
		case err != nil:
			return nil, errors.Database(err)
		default:
			bound, args = `AND (xid, id) `+cmp+` ($4::xid8, $5)`, append(args, xid, cursor)
		}
	}
	rows, err := s.db.QueryContext(ctx, `
		SELECT id, at, COALESCE(actor_user_id, 0), object_type, object_id, action,
		       COALESCE(before::text, 'null'), COALESCE(after::text, 'null')
		FROM events
		WHERE xid < `+feedEnd+` `+bound+` AND ($1 = '' OR object_type = $1) AND ($2 = 0 OR object_id = $2)
		ORDER BY `+order+`
		LIMIT $3`, args...)
	if err != nil {
		return nil, errors.Database(err)
	}
	defer rows.Close()
	events := []Event{}
	for rows.Next() {
		var e Event
		var before, after string
		if err := rows.Scan(&e.ID, &e.At, &e.ActorUserID, &e.ObjectType, &e.ObjectID, &e.Action, &before, &after); err != nil {
			return nil, errors.Database(err)
		}
		e.Before, e.After = json.RawMessage(before), json.RawMessage(after)
		events = append(events, e)
	}
	if err := rows.Err(); err != nil {
		return nil, errors.Database(err)
	}
	return events, nil
}

// WithEvent is write, a statement that changes at most one row and returns
// its id (RETURNING id), made into one statement that also records an event
// for the row it returns: the event is written exactly when the row is, and
// both take one round trip. write's parameters are $1 to $params; the
// event's (EventArgs) follow them. The statement's rows affected are 1 when
// the row was written, 0 when write changed none (and nothing was recorded).
func WithEvent(write string, params int) string {
	p := func(i int) string { return "$" + strconv.Itoa(params+i) }
	return `WITH written AS (` + write + `)
	INSERT INTO events (actor_user_id, object_type, object_id, action, before, after)
	SELECT ` + p(1) + `::bigint, ` + p(2) + `, id, ` + p(3) + `, ` + p(4) + `::jsonb, ` + p(5) + `::jsonb FROM written`
}

// EventArgs are e's parameters for a WithEvent statement, after the
// write's; the event's object is the row the write returns (e.ObjectID is
// not used).
func EventArgs(e Event) []any {
	return []any{nullID(e.ActorUserID), e.ObjectType, e.Action, nullJSON(e.Before), nullJSON(e.After)}
}
