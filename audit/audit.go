// Package audit is the audit trail: one event per write (who, when, what,
// before and after), recorded in the write's own transaction so that an
// event exists exactly when its change does, and the /api/v1/events feed
// that admins and sync jobs read.
package audit

import (
	"context"
	"database/sql"
	"encoding/json"
	"time"

	"github.com/groupd/groupd/db"
	"github.com/groupd/groupd/errors"
)

// Event is one recorded change.
type Event struct {
	ID          int64           `json:"_id"`
	At          time.Time       `json:"timestamp"`
	ActorUserID int64           `json:"actor_user_id"`
	ObjectType  string          `json:"type"` // group, user, membership
	ObjectID    int64           `json:"object_id"`
	Action      string          `json:"action"` // create, update, delete, add_member, remove_member
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
		// (0.3 ms against 1.0 ms of PostgreSQL's time per event).
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

// Filter selects events: of one object type (empty: all), after an id, at
// most Limit of them, oldest first; ObjectID 0 means every object.
type Filter struct {
	ObjectType string
	ObjectID   int64
	Since      int64
	Limit      int
}

// Store reads the audit trail.
type Store struct{ db *sql.DB }

// NewStore returns a Store on db.
func NewStore(db *sql.DB) *Store { return &Store{db: db} }

// List returns the events matching f in id order. Reading the trail is an
// administrator's right: the caller checks it.
func (s *Store) List(ctx context.Context, f Filter) ([]Event, error) {
	rows, err := s.db.QueryContext(ctx, `
		SELECT id, at, COALESCE(actor_user_id, 0), object_type, object_id, action,
		       COALESCE(before::text, 'null'), COALESCE(after::text, 'null')
		FROM events
		WHERE id > $1 AND ($2 = '' OR object_type = $2) AND ($3 = 0 OR object_id = $3)
		ORDER BY id
		LIMIT $4`, f.Since, f.ObjectType, f.ObjectID, f.Limit)
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
