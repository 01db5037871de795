package integration

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/groupd/groupd/passwords"
	"github.com/groupd/groupd/server"
)

// groupItems is a bulk body of n new groups named prefix-<i>.
func groupItems(prefix string, n int) string {
	items := make([]string, n)
	for i := range items {
		items[i] = fmt.Sprintf(`{"group":{"name":"%s-%d"}}`, prefix, i)
	}
	return "[" + strings.Join(items, ",") + "]"
}

func countRows(tb testing.TB, s *Server, query string, args ...any) int {
	tb.Helper()
	var n int
	if err := s.DB.QueryRow(query, args...).Scan(&n); err != nil {
		tb.Fatal(err)
	}
	return n
}

// TestBulkItemLimits: a bulk write of more items than -max-bulk-items, or of
// more passwords than -max-bulk-passwords, is refused with
// error.api.invalid_content naming the limit, before the first item too
// many is even decoded, and writes nothing; at the limit it is served.
func TestBulkItemLimits(t *testing.T) {
	t.Parallel()
	s := MustStartServer(t, func(c *server.Config) { c.MaxBulkItems, c.MaxBulkPasswords = 5, 2 })
	root := s.Root(t)

	e := MustError(t, root.Do(t, "PUT", "/api/v1/group", groupItems("over", 6)), 400, "error.api.invalid_content")
	if e.Parameters["limit"] != "5" || e.Parameters["counted"] != "items" {
		t.Errorf("over the item limit: parameters %v, want limit 5 of items", e.Parameters)
	}
	// The sixth item is no group at all: the count refuses it before its
	// decoding could.
	body := strings.TrimSuffix(groupItems("early", 5), "]") + `,{"group":5}]`
	e = MustError(t, root.Do(t, "POST", "/api/v1/group", body), 400, "error.api.invalid_content")
	if e.Parameters["limit"] != "5" {
		t.Errorf("item too many decoded before the count refused it: %v", e)
	}
	users := make([]string, 6)
	for i := range users {
		users[i] = fmt.Sprintf(`{"user":{"login":"over-%d"}}`, i)
	}
	MustError(t, root.Do(t, "PUT", "/api/v1/user", "["+strings.Join(users, ",")+"]"), 400, "error.api.invalid_content")
	if n := countRows(t, s, `SELECT count(*) FROM groups WHERE name LIKE 'over-%' OR name LIKE 'early-%'`) +
		countRows(t, s, `SELECT count(*) FROM users WHERE login LIKE 'over-%'`); n != 0 {
		t.Errorf("refused bulks wrote %d rows", n)
	}

	pw := func(login string) string {
		return fmt.Sprintf(`{"user":{"login":%q},"_password":"pw-%s-Secret1"}`, login, login)
	}
	e = MustError(t, root.Do(t, "PUT", "/api/v1/user", "["+pw("p1")+","+pw("p2")+","+pw("p3")+"]"), 400,
		"error.api.invalid_content")
	if e.Parameters["limit"] != "2" || e.Parameters["counted"] != "passwords" || e.Parameters["index"] != "2" {
		t.Errorf("over the password limit: parameters %v, want limit 2 of passwords at index 2", e.Parameters)
	}
	if n := countRows(t, s, `SELECT count(*) FROM users WHERE login LIKE 'p_'`); n != 0 {
		t.Errorf("refused bulk wrote %d users", n)
	}

	if r := root.Do(t, "PUT", "/api/v1/group", groupItems("at", 5)); r.StatusCode != 200 {
		t.Errorf("bulk of 5 groups at the limit: %d %s", r.StatusCode, r.Body)
	}
	if r := root.Do(t, "PUT", "/api/v1/user", "["+pw("p1")+","+pw("p2")+`,{"user":{"login":"p3"}}]`); r.StatusCode != 200 {
		t.Errorf("bulk with 2 passwords at the limit: %d %s", r.StatusCode, r.Body)
	}
}

// TestBulkItemLimitDefault: without configuration the limit is 20,000 items.
func TestBulkItemLimitDefault(t *testing.T) {
	t.Parallel()
	s := MustStartServer(t)
	root := s.Root(t)
	e := MustError(t, root.Do(t, "PUT", "/api/v1/group", groupItems("g", 20001)), 400, "error.api.invalid_content")
	if e.Parameters["limit"] != "20000" {
		t.Errorf("default limit: %v", e.Parameters)
	}
}

// TestFrontendPrefsLimit: frontend_prefs of a group or a user holds at most
// 64 KiB of JSON; more is error.api.invalid_value naming the attribute and
// the limit, also for a user's update of its own (which needs no right).
func TestFrontendPrefsLimit(t *testing.T) {
	t.Parallel()
	s := MustStartServer(t)
	root := s.Root(t)
	selfID := s.MustCreateUser(t, "self", "")
	self := s.LoginAs(t, "self")
	prefs := func(n int) string { return fmt.Sprintf(`{"notes":%q}`, strings.Repeat("x", n)) }

	e := MustError(t, root.Do(t, "PUT", "/api/v1/group", fmt.Sprintf(`[{"group":{"name":"big","frontend_prefs":%s}}]`,
		prefs(64<<10))), 400, "error.api.invalid_value")
	if e.Parameters["attribute"] != "group.frontend_prefs" || e.Parameters["limit"] != "65536" {
		t.Errorf("group: %v", e.Parameters)
	}
	e = MustError(t, self.Do(t, "POST", "/api/v1/user", fmt.Sprintf(`[{"user":{"_id":%d,"_version":2,"frontend_prefs":%s}}]`,
		selfID, prefs(64<<10))), 400, "error.api.invalid_value")
	if e.Parameters["attribute"] != "user.frontend_prefs" || e.Parameters["limit"] != "65536" {
		t.Errorf("user: %v", e.Parameters)
	}
	if n := countRows(t, s, `SELECT count(*) FROM events`); n != 0 {
		t.Errorf("refused writes recorded %d events", n)
	}
	if r := self.Do(t, "POST", "/api/v1/user", fmt.Sprintf(`[{"user":{"_id":%d,"_version":2,"frontend_prefs":%s}}]`,
		selfID, prefs(60<<10))); r.StatusCode != 200 {
		t.Errorf("60 KiB of prefs: %d %.300s", r.StatusCode, r.Body)
	}
}

// TestAuditRetention: with -audit-retention set, events older than it are
// deleted by the periodic sweep and newer ones kept.
func TestAuditRetention(t *testing.T) {
	t.Parallel()
	s := MustStartServer(t, func(c *server.Config) {
		c.AuditRetention, c.AuditSweepInterval = time.Hour, 20*time.Millisecond
	})
	root := s.Root(t)
	mkGroups(t, root, `[{"group":{"name":"old"}},{"group":{"name":"new"}}]`)
	if _, err := s.DB.Exec(`UPDATE events SET at = now() - interval '61 minutes' WHERE after->'group'->>'name' = 'old'`); err != nil {
		t.Fatal(err)
	}
	for countRows(t, s, `SELECT count(*) FROM events WHERE after->'group'->>'name' = 'old'`) != 0 {
		time.Sleep(10 * time.Millisecond)
	}
	if n := countRows(t, s, `SELECT count(*) FROM events WHERE after->'group'->>'name' = 'new'`); n != 1 {
		t.Errorf("recent event: %d left, want 1", n)
	}
}

// TestBulkPasswordsStopWithTheClient: the passwords of a bulk user write are
// hashed before its transaction, and a client that goes away stops the
// hashing. The request (100 passwords) is cancelled while the server hashes;
// its access-log line (499, client gone) then comes within a few hashes'
// time, where hashing them all takes far longer (the cost of a hash is
// measured in this run, before the request), and nothing is written.
func TestBulkPasswordsStopWithTheClient(t *testing.T) {
	t.Parallel()
	s := MustStartServer(t)
	root := s.Root(t)
	var perHash time.Duration
	for range 3 {
		start := time.Now()
		if _, err := passwords.Hash("calibration-Secret1"); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); perHash == 0 || d < perHash {
			perHash = d
		}
	}
	const n = 100
	items := make([]string, n)
	for i := range items {
		items[i] = fmt.Sprintf(`{"user":{"login":"hashed-%d"},"_password":"pw-%d-Secret1"}`, i, i)
	}
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, "PUT", s.URL()+"/api/v1/user", strings.NewReader("["+strings.Join(items, ",")+"]"))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("x-easydb-token", root.Token)
	req.Header.Set("Content-Type", "application/json")
	sent := make(chan error, 1)
	start := time.Now()
	go func() {
		resp, doErr := http.DefaultClient.Do(req)
		if doErr == nil {
			resp.Body.Close()
		}
		sent <- doErr
	}()
	// For the time of two hashes the server hashes, with no transaction
	// open (the old code hashed inside its transaction, after its reads).
	for time.Since(start) < 2*perHash {
		if n := countRows(t, s, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
			AND state LIKE 'idle in transaction%' AND pid <> pg_backend_pid()`); n != 0 {
			t.Fatalf("%d transactions open while the passwords are hashed", n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if sendErr := <-sent; sendErr == nil {
		t.Fatal("the request was answered before it was cancelled")
	}
	line := regexp.MustCompile(`method=PUT route=/api/v1/user status=499 duration=(\S+)`)
	var m []string
	for m == nil {
		m = line.FindStringSubmatch(s.Logs.String())
		time.Sleep(5 * time.Millisecond)
	}
	took, err := time.ParseDuration(m[1])
	if err != nil {
		t.Fatal(err)
	}
	all := perHash * n / time.Duration(runtime.GOMAXPROCS(0))
	t.Logf("one hash %v; hashing all %d would take about %v; the request ended after %v", perHash, n, all, took)
	if took > all/2 {
		t.Errorf("the request went on hashing after the client left: %v, all hashes take about %v", took, all)
	}
	if n := countRows(t, s, `SELECT count(*) FROM users WHERE login LIKE 'hashed-%'`); n != 0 {
		t.Errorf("%d users written", n)
	}
}
