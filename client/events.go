package client

import (
	"context"
	"encoding/json"
	"net/url"
	"strconv"
)

// Event is one entry of the audit trail (GET /api/v1/events).
type Event struct {
	ID          int64           `json:"_id"`
	Timestamp   string          `json:"timestamp"`
	ActorUserID int64           `json:"actor_user_id"`
	Type        string          `json:"type"` // group, user, membership
	ObjectID    int64           `json:"object_id"`
	Action      string          `json:"action"`
	Before      json.RawMessage `json:"before"`
	After       json.RawMessage `json:"after"`
}

// EventFilter selects events in Events. The server answers them oldest
// first, from after Since.
type EventFilter struct {
	Type     string // group, user, membership; "" all
	ObjectID int64
	Since    int64 // events with a greater id
	Limit    int   // at most MaxPage; 0: the server's default
}

// Events returns one page of the audit trail (needs system.root).
func (c *Client) Events(ctx context.Context, f EventFilter) ([]Event, error) {
	q := url.Values{}
	if f.Type != "" {
		q.Set("type", f.Type)
	}
	if f.ObjectID > 0 {
		q.Set("object_id", strconv.FormatInt(f.ObjectID, 10))
	}
	if f.Since > 0 {
		q.Set("since", strconv.FormatInt(f.Since, 10))
	}
	if f.Limit > 0 {
		q.Set("limit", strconv.Itoa(f.Limit))
	}
	var out []Event
	_, err := c.get(ctx, request{method: "GET", path: "/api/v1/events", query: q, out: &out})
	return out, err
}
