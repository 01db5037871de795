package integration

import (
	"fmt"
	"slices"
	"testing"
)

type eventOut struct {
	ID       int64  `json:"_id"`
	Type     string `json:"type"`
	ObjectID int64  `json:"object_id"`
	Action   string `json:"action"`
}

func eventIDs(t *testing.T, c *Client, query string) []int64 {
	t.Helper()
	r := c.Do(t, "GET", "/api/v1/events"+query, nil)
	if r.StatusCode != 200 {
		t.Fatalf("GET /api/v1/events%s: %d %s", query, r.StatusCode, r.Body)
	}
	var evs []eventOut
	r.JSON(t, &evs)
	ids := make([]int64, len(evs))
	for i, e := range evs {
		ids[i] = e.ID
	}
	return ids
}

// TestEventsNewestFirst: order=newest reads the trail in the reverse of the
// feed order, paged with before, for everything and for one object; a bad
// order or a before without order=newest is a typed error.
func TestEventsNewestFirst(t *testing.T) {
	t.Parallel()
	s := MustStartServer(t)
	root := s.Root(t)
	ids := mkGroups(t, root, `[{"group":{"name":"e1"}},{"group":{"name":"e2"}},{"group":{"name":"e3"}}]`)
	for i := 2; i <= 5; i++ {
		groups(t, root.Do(t, "POST", "/api/v1/group", fmt.Sprintf(`[{"group":{"_id":%d,"_version":%d,"comment":"c%d"}}]`,
			ids["e2"], i, i)))
	}
	feed := eventIDs(t, root, "")
	if len(feed) < 7 {
		t.Fatalf("feed: %v", feed)
	}
	want := slices.Clone(feed)
	slices.Reverse(want)
	// Pages of 3, newest first, following before.
	var got []int64
	before := ""
	for {
		page := eventIDs(t, root, "?order=newest&limit=3"+before)
		got = append(got, page...)
		if len(page) < 3 {
			break
		}
		before = fmt.Sprintf("&before=%d", page[len(page)-1])
	}
	if !slices.Equal(got, want) {
		t.Fatalf("newest first in pages: %v, want %v", got, want)
	}
	// One group's events: its create and four updates, newest first.
	one := eventIDs(t, root, fmt.Sprintf("?order=newest&type=group&object_id=%d", ids["e2"]))
	if len(one) != 5 || !slices.IsSortedFunc(one, func(a, b int64) int { return int(b - a) }) {
		t.Fatalf("e2's events newest first: %v", one)
	}
	if two := eventIDs(t, root, fmt.Sprintf("?order=newest&type=group&object_id=%d&limit=2&before=%d", ids["e2"], one[1])); !slices.Equal(two, one[2:4]) {
		t.Fatalf("e2's events before %d: %v, want %v", one[1], two, one[2:4])
	}
	for _, q := range []string{"?order=oldest", "?before=5", "?order=feed&before=5", "?order=newest&before=0", "?order=newest&before=x"} {
		MustError(t, root.Do(t, "GET", "/api/v1/events"+q, nil), 400, "error.api.invalid_value")
	}
}
