package integration

import (
	"context"
	"database/sql"
	"fmt"
	"testing"
	"time"

	"github.com/groupd/groupd/rights"
)

// heldWrite is a transaction of the test's that has changed rows and holds
// their locks until commit, as a write of another client would between its
// statements and its commit.
type heldWrite struct {
	tb testing.TB
	tx *sql.Tx
}

// holdWrite runs statements in a new transaction and leaves it open.
func (s *Server) holdWrite(tb testing.TB, statements ...string) *heldWrite {
	tb.Helper()
	tx, err := s.DB.BeginTx(context.Background(), nil)
	if err != nil {
		tb.Fatal(err)
	}
	for _, q := range statements {
		if _, err := tx.Exec(q); err != nil {
			tx.Rollback()
			tb.Fatalf("%s: %v", q, err)
		}
	}
	h := &heldWrite{tb: tb, tx: tx}
	tb.Cleanup(func() { tx.Rollback() })
	return h
}

func (h *heldWrite) commit() {
	h.tb.Helper()
	if err := h.tx.Commit(); err != nil {
		h.tb.Fatal(err)
	}
}

// interleave sends a request while held is open, waits until the request
// either answered or waits for a lock in PostgreSQL (pg_stat_activity), then
// commits held and returns the request's answer. A request that decides
// without waiting for the rows held has changed answers before the commit:
// it decided on what was true before held committed.
func (s *Server) interleave(tb testing.TB, held *heldWrite, send func() *Response) (resp *Response, waited bool) {
	tb.Helper()
	done := make(chan *Response, 1)
	go func() { done <- send() }()
	for !waited {
		select {
		case r := <-done:
			held.commit()
			return r, false
		default:
		}
		var n int
		if err := s.DB.QueryRow(`SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&n); err != nil {
			tb.Fatal(err)
		}
		if n > 0 {
			waited = true
		} else {
			time.Sleep(2 * time.Millisecond)
		}
	}
	held.commit()
	return <-done, true
}

// TestMembershipDecisionsWaitForConcurrentChanges: a membership change
// decides on the group's rows as the last committed write left them, never
// on a state that a concurrent write is replacing. Each case holds a write
// of the group open (the grant of system.root, or the revoke of a link or
// unlink right), starts the membership change of a user who holds only
// link (or unlink), lets the write commit once the change waits for it, and
// asserts that the change was refused and wrote nothing.
func TestMembershipDecisionsWaitForConcurrentChanges(t *testing.T) {
	t.Parallel()
	s := MustStartServer(t)
	root := s.Root(t)
	linkerID := s.MustCreateUser(t, "linker", `{"system.user":{"create":true}}`)
	memberID := s.MustCreateUser(t, "member", "")
	linker := s.LoginAs(t, "linker")

	// A fresh group per case: linker holds link and unlink on it, member is in it.
	newGroup := func(name string) int64 {
		g := mkGroups(t, root, fmt.Sprintf(`[{"group":{"name":%q},"_acl":[{"who":{"user":{"_id":%d}},
			"rights":{"link":{},"unlink":{},"bag_read":{}}}]}]`, name, linkerID))[name]
		s.AddMember(t, g, memberID)
		return g
	}
	isMember := func(g, u int64) bool {
		var n int
		if err := s.DB.QueryRow(`SELECT count(*) FROM memberships WHERE group_id = $1 AND user_id = $2`, g, u).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n == 1
	}
	events := func(g int64) int {
		var n int
		if err := s.DB.QueryRow(`SELECT count(*) FROM events WHERE object_type = 'membership' AND object_id = $1`, g).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	grantRoot := func(g int64) string {
		return fmt.Sprintf(`UPDATE groups SET version = version + 1, system_rights = '{"system.root": {}}' WHERE id = %d`, g)
	}
	// As a group write changes an ACL: the group's row, then its entries.
	revoke := func(g int64, right string) []string {
		return []string{fmt.Sprintf(`UPDATE groups SET version = version + 1 WHERE id = %d`, g),
			fmt.Sprintf(`UPDATE group_acl SET rights = rights - '%[2]s', mask = mask & ~%[3]d WHERE group_id = %[1]d`,
				g, right, map[string]rights.Mask{rights.Link: rights.MaskLink, rights.Unlink: rights.MaskUnlink}[right])}
	}

	cases := []struct {
		name    string
		held    func(g int64) []string
		send    func(g int64) *Response
		code    string
		member  bool // member is in the group afterwards (or linker, for adds)
		checkID func() int64
	}{
		{"add while the group is granted system.root", func(g int64) []string { return []string{grantRoot(g)} },
			func(g int64) *Response {
				return linker.Do(t, "POST", fmt.Sprintf("/api/v1/group/%d/members", g), fmt.Sprintf(`{"add":[%d]}`, linkerID))
			}, "error.user.no_system_right", false, func() int64 { return linkerID }},
		{"add while link is revoked", func(g int64) []string { return revoke(g, "link") },
			func(g int64) *Response {
				return linker.Do(t, "POST", fmt.Sprintf("/api/v1/group/%d/members", g), fmt.Sprintf(`{"add":[%d]}`, linkerID))
			}, "error.user.insufficient_rights", false, func() int64 { return linkerID }},
		{"remove while unlink is revoked", func(g int64) []string { return revoke(g, "unlink") },
			func(g int64) *Response {
				return linker.Do(t, "POST", fmt.Sprintf("/api/v1/group/%d/members", g), fmt.Sprintf(`{"remove":[%d]}`, memberID))
			}, "error.user.insufficient_rights", true, func() int64 { return memberID }},
		{"user created into the group while it is granted system.root", func(g int64) []string { return []string{grantRoot(g)} },
			func(g int64) *Response {
				return linker.Do(t, "PUT", "/api/v1/user", fmt.Sprintf(`[{"user":{"login":"new-%d"},"_groups":[{"group":{"_id":%d}}]}]`, g, g))
			}, "error.user.no_system_right", false, func() int64 { return 0 }},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := newGroup(fmt.Sprintf("race-%d", i))
			before := events(g)
			held := s.holdWrite(t, c.held(g)...)
			r, waited := s.interleave(t, held, func() *Response { return c.send(g) })
			MustError(t, r, 400, c.code)
			if !waited {
				t.Errorf("the request decided without waiting for the concurrent write of group %d", g)
			}
			if id := c.checkID(); id != 0 && isMember(g, id) != c.member {
				t.Errorf("user %d member of group %d: %v, want %v", id, g, isMember(g, id), c.member)
			}
			var created int
			if err := s.DB.QueryRow(`SELECT count(*) FROM users WHERE login = $1`, fmt.Sprintf("new-%d", g)).Scan(&created); err != nil {
				t.Fatal(err)
			}
			if created != 0 || events(g) != before {
				t.Errorf("the refused request wrote: %d users, %d membership events (had %d)", created, events(g), before)
			}
		})
	}
}

// TestUserWriteDecidesOnCommittedMemberships: a write of a user that waited
// for a concurrent write of that user decides on the user's memberships as
// that write committed them. Here root puts target into a group that grants
// system.root while boss, who owns target but does not hold system.root,
// sets target's password with the version root's write will leave: the
// password write waits for root's, then sees a holder of system.root, and
// is refused.
func TestUserWriteDecidesOnCommittedMemberships(t *testing.T) {
	t.Parallel()
	s := MustStartServer(t)
	root := s.Root(t)
	bossID := s.MustCreateUser(t, "boss", "")
	targetID := s.MustCreateUser(t, "target", "")
	if _, err := s.DB.Exec(`UPDATE users SET owner_user_id = $1 WHERE id = $2`, bossID, targetID); err != nil {
		t.Fatal(err)
	}
	boss := s.LoginAs(t, "boss")
	rootGroup := mkGroups(t, root, `[{"group":{"name":"admins"},"_system_rights":{"system.root":{}}}]`)["admins"]
	var hash string
	if err := s.DB.QueryRow(`SELECT password_hash FROM users WHERE id = $1`, targetID).Scan(&hash); err != nil {
		t.Fatal(err)
	}

	held := s.holdWrite(t, fmt.Sprintf(`UPDATE users SET version = version + 1 WHERE id = %d`, targetID),
		fmt.Sprintf(`INSERT INTO memberships (group_id, user_id) VALUES (%d, %d)`, rootGroup, targetID))
	r, waited := s.interleave(t, held, func() *Response {
		return boss.Do(t, "POST", "/api/v1/user", fmt.Sprintf(`[{"user":{"_id":%d,"_version":3},"_password":"taken-over-42"}]`, targetID))
	})
	MustError(t, r, 400, "error.user.no_system_right")
	if !waited {
		t.Error("the password write decided without waiting for the concurrent write of the user")
	}
	var after string
	if err := s.DB.QueryRow(`SELECT password_hash FROM users WHERE id = $1`, targetID).Scan(&after); err != nil {
		t.Fatal(err)
	}
	if after != hash {
		t.Error("the refused write changed the password")
	}
}

// TestEventsFeedWaitsForWritesInFlight follows /api/v1/events as a sync job
// does, passing the last event's _id as since, while two real writes commit
// out of the order of their event ids: root's change of a user's password
// writes its event and then waits (for a session row the test holds) before
// it commits; meanwhile root creates a group, whose event has the higher
// id and commits first. The feed serves neither until the first write has
// committed, and then both, each once.
func TestEventsFeedWaitsForWritesInFlight(t *testing.T) {
	t.Parallel()
	s := MustStartServer(t)
	root := s.Root(t)
	userID := s.MustCreateUser(t, "syncee", "")
	s.LoginAs(t, "syncee") // a session that the password change deletes

	type event struct {
		ID       int64  `json:"_id"`
		Type     string `json:"type"`
		ObjectID int64  `json:"object_id"`
		Action   string `json:"action"`
	}
	var cursor int64
	var seen []event
	follow := func() []event {
		r := root.Do(t, "GET", fmt.Sprintf("/api/v1/events?since=%d", cursor), nil)
		if r.StatusCode != 200 {
			t.Fatalf("GET events: %d %s", r.StatusCode, r.Body)
		}
		var page []event
		r.JSON(t, &page)
		if len(page) > 0 {
			cursor = page[len(page)-1].ID
		}
		seen = append(seen, page...)
		return page
	}
	follow() // the setup's events

	held := s.holdWrite(t, fmt.Sprintf(`SELECT id FROM sessions WHERE user_id = %d FOR UPDATE`, userID))
	done := make(chan *Response, 1)
	go func() {
		done <- root.Do(t, "POST", "/api/v1/user", fmt.Sprintf(`[{"user":{"_id":%d,"_version":2},"_password":"rotated-Secret-1"}]`, userID))
	}()
	for waiting := 0; waiting == 0; {
		select {
		case r := <-done:
			t.Fatalf("the password change did not wait for the held session: %d %s", r.StatusCode, r.Body)
		default:
		}
		if err := s.DB.QueryRow(`SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Millisecond)
	}
	groupID := mkGroups(t, root, `[{"group":{"name":"committed-first"}}]`)["committed-first"]
	if page := follow(); len(page) != 0 {
		t.Errorf("events served while an older write is in flight: %+v", page)
	}

	held.commit()
	if r := <-done; r.StatusCode != 200 {
		t.Fatalf("password change: %d %s", r.StatusCode, r.Body)
	}
	for page := follow(); len(page) > 0; page = follow() {
	}
	count := map[string]int{}
	for _, e := range seen {
		count[fmt.Sprintf("%s %s %d", e.Type, e.Action, e.ObjectID)]++
	}
	for _, want := range []string{fmt.Sprintf("user update %d", userID), fmt.Sprintf("group create %d", groupID)} {
		if count[want] != 1 {
			t.Errorf("event %q seen %d times, want once; all: %+v", want, count[want], seen)
		}
	}
}
