package session

import (
	"context"
	"database/sql"
	"encoding/json"
	"github.com/groupd/groupd/user"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/mux"
	"github.com/groupd/groupd/db"
	"github.com/groupd/groupd/db/dbtest"
	"github.com/groupd/groupd/errors"
	"github.com/groupd/groupd/passwords"
	"github.com/groupd/groupd/policy"
	"github.com/groupd/groupd/web"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

const rootPW = "root-pw-for-session-tests"

func newService(t *testing.T, cfg Config) (*Service, *db.DB) {
	t.Helper()
	d := dbtest.MustOpenDB(t)
	log := slog.New(slog.DiscardHandler)
	if err := user.EnsureRootPassword(context.Background(), d, rootPW, 8, io.Discard, log); err != nil {
		t.Fatal(err)
	}
	s, err := New(d, user.Logins{}, cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, d
}

func login(t *testing.T, s *Service, user, pw string) *Session {
	t.Helper()
	sess, err := s.Create(context.Background(), "", "")
	if err != nil {
		t.Fatal(err)
	}
	sess, err = s.Authenticate(context.Background(), sess.Token, user, pw, "", "")
	if err != nil {
		t.Fatal(err)
	}
	return sess
}

// TestRequireAuth: the middleware other packages mount their routes behind.
func TestRequireAuth(t *testing.T) {
	s, d := newService(t, Config{})
	r := mux.NewRouter()
	s.Register(r)
	r.Handle("/probe", s.RequireAuth(web.Handle(func(w http.ResponseWriter, r *http.Request) error {
		p := PrincipalFrom(r.Context())
		body, _ := io.ReadAll(r.Body)
		return web.JSON(w, map[string]any{"user": p.UserID, "root": p.IsRoot(), "groups": p.SubjectGroups(),
			"session": FromContext(r.Context()).ID, "body": string(body)})
	}))).Methods("GET", "POST")
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)

	call := func(method, path, body, contentType string, header ...string) (int, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	wantError := func(code string, status int, out map[string]any) {
		t.Helper()
		if status != 400 || out["code"] != code {
			t.Fatalf("want 400 %s, got %d %v", code, status, out)
		}
	}

	status, out := call("GET", "/probe", "", "")
	wantError("error.user.not_authenticated", status, out)

	anon, _ := s.Create(context.Background(), "", "")
	status, out = call("GET", "/probe?token="+anon.Token, "", "")
	wantError("error.user.not_authenticated", status, out)

	unknown := strings.Repeat("x", tokenLen)
	status, out = call("GET", "/probe", "", "", "X-Easydb-Token", unknown)
	wantError("error.user.session_not_found", status, out)
	if out["parameters"].(map[string]any)["id"] != unknown {
		t.Fatalf("id: %v", out)
	}

	root := login(t, s, "root", rootPW)
	for name, c := range map[string]struct{ path, body, ct, header string }{
		"query":  {"/probe?token=" + root.Token, "", "", ""},
		"header": {"/probe", "", "", root.Token},
		"form":   {"/probe", "a=1&token=" + url.QueryEscape(root.Token), "application/x-www-form-urlencoded", ""},
		"json":   {"/probe?token=" + root.Token, `{"token":"not-this-one"}`, "application/json", ""},
	} {
		var header []string
		if c.header != "" {
			header = []string{"X-Easydb-Token", c.header}
		}
		gotStatus, gotOut := call("POST", c.path, c.body, c.ct, header...)
		if gotStatus != 200 || gotOut["user"] != 1.0 || gotOut["root"] != true || gotOut["session"] != float64(root.ID) {
			t.Fatalf("%s: %d %v", name, gotStatus, gotOut)
		}
		if gotOut["body"] != c.body {
			t.Fatalf("%s: the handler got body %q, want it untouched", name, gotOut["body"])
		}
	}

	// A disabled user's sessions stop working at once (NotifyUsers), and
	// work again when it is enabled.
	hash, _ := passwords.Hash("pw")
	var uid int64
	d.QueryRow(`INSERT INTO users (login, password_hash) VALUES ('u', $1) RETURNING id`, hash).Scan(&uid)
	u := login(t, s, "u", "pw")
	if gotStatus, gotOut := call("GET", "/probe?token="+u.Token, "", ""); gotStatus != 200 || gotOut["user"] != float64(uid) {
		t.Fatalf("user: %d %v", gotStatus, gotOut)
	}
	setDisabled := func(on bool) {
		t.Helper()
		err := d.InTx(context.Background(), func(tx *sql.Tx) error {
			if _, err := tx.Exec(`UPDATE users SET login_disabled = $2 WHERE id = $1`, uid, on); err != nil {
				return err
			}
			return s.NotifyUsers(context.Background(), tx, uid)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	setDisabled(true)
	status, out = call("GET", "/probe?token="+u.Token, "", "")
	wantError("error.user.not_authenticated", status, out)
	setDisabled(false)
	if gotStatus, _ := call("GET", "/probe?token="+u.Token, "", ""); gotStatus != 200 {
		t.Fatalf("re-enabled user: %d", gotStatus)
	}

	// A deleted user's sessions are gone with it; u's token, a
	// pre-authentication token, does not come back as a fresh session
	// without a user either.
	d.Exec(`DELETE FROM users WHERE id = $1`, uid)
	s.dropAll()
	status, out = call("GET", "/probe?token="+u.Token, "", "")
	wantError("error.user.session_not_found", status, out)
}

// TestCachedFind: a session in use costs no query while it was written
// less than TouchInterval ago; the principal is cached by user id.
func TestCachedFind(t *testing.T) {
	s, d := newService(t, Config{})
	root := login(t, s, "root", rootPW)
	awaitNotifications(t, s, d) // the login's own notification drops the session once
	if _, err := s.Find(context.Background(), root.Token); err != nil {
		t.Fatal(err)
	}
	// Behind the cache's back (no notification), the row changes: a cached
	// Find does not see it, which shows it did not query.
	d.Exec(`UPDATE users SET system_rights = '{}' WHERE id = 1`)
	d.Exec(`UPDATE sessions SET language = 'de-DE'`)
	sess, err := s.Find(context.Background(), root.Token)
	if err != nil {
		t.Fatal(err)
	}
	if !sess.Principal.IsRoot() || sess.Language != "" {
		t.Fatal("Find went to the database although session and principal were cached")
	}
	var before time.Time
	d.QueryRow(`SELECT last_used_at FROM sessions`).Scan(&before)
	for range 50 {
		s.Find(context.Background(), root.Token)
	}
	var after time.Time
	d.QueryRow(`SELECT last_used_at FROM sessions`).Scan(&after)
	if !after.Equal(before) {
		t.Fatal("last_used_at written on every use")
	}
	s.dropAll()
	if sess, _ := s.Find(context.Background(), root.Token); sess.Principal.IsRoot() || sess.Language != "de-DE" {
		t.Fatal("after a drop, Find must read the database")
	}
}

// awaitNotifications returns once every notification committed so far has
// been applied: notifications arrive in commit order, so it sends one of its
// own, about a user that does not exist, and waits for its effect.
func awaitNotifications(t *testing.T, s *Service, d *db.DB) {
	t.Helper()
	const marker = -1
	if !s.principals.Put(marker, &identity{principal: &policy.Principal{UserID: marker}}, s.principals.Epoch()) {
		t.Fatal("caching is off")
	}
	if _, err := d.Exec(`SELECT pg_notify($1, 'u:-1')`, Channel); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		if _, ok := s.principals.Get(marker); !ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("own notification never arrived")
		}
	}
}

// TestTouch: after TouchInterval, a use writes last_used_at.
func TestTouch(t *testing.T) {
	s, d := newService(t, Config{TouchInterval: 50 * time.Millisecond})
	root := login(t, s, "root", rootPW)
	var before, after time.Time
	d.QueryRow(`SELECT last_used_at FROM sessions`).Scan(&before)
	time.Sleep(80 * time.Millisecond)
	if _, err := s.Find(context.Background(), root.Token); err != nil {
		t.Fatal(err)
	}
	d.QueryRow(`SELECT last_used_at FROM sessions`).Scan(&after)
	if !after.After(before.Add(50 * time.Millisecond)) {
		t.Fatalf("last_used_at %v -> %v", before, after)
	}
}

// TestJanitor: expired sessions, unauthenticated ones idle for a day, and
// login failures outside the window are deleted; the rest stays.
func TestJanitor(t *testing.T) {
	s, d := newService(t, Config{IdleTimeout: 48 * time.Hour, UnauthenticatedIdleTimeout: 24 * time.Hour,
		MaxLifetime: 72 * time.Hour, LoginFailureWindow: time.Hour, KnownAddressAge: 24 * time.Hour})
	now := time.Now()
	for i, c := range []struct {
		user      bool
		idle, age time.Duration
	}{
		{true, 47 * time.Hour, 47 * time.Hour}, {true, 49 * time.Hour, 49 * time.Hour},
		{false, 23 * time.Hour, 0}, {false, 25 * time.Hour, 0},
		{true, time.Hour, 73 * time.Hour}, // in use, but past its lifetime
	} {
		var uid, authAt any
		if c.user {
			uid, authAt = 1, now.Add(-c.age)
		}
		if _, err := d.Exec(`INSERT INTO sessions (token_hash, user_id, authenticated_at, last_used_at) VALUES ($1, $2, $3, $4)`,
			[]byte{byte(i)}, uid, authAt, now.Add(-c.idle)); err != nil {
			t.Fatal(err)
		}
	}
	d.Exec(`INSERT INTO login_failures (login, at) VALUES ('a', $1), ('b', $2)`, now.Add(-59*time.Minute), now.Add(-61*time.Minute))
	d.Exec(`INSERT INTO login_addresses (login, address, last_success) VALUES ('a', '192.0.2.1', $1), ('b', '192.0.2.1', $2)`,
		now.Add(-23*time.Hour), now.Add(-25*time.Hour))
	s.janitor()
	var left []byte
	d.QueryRow(`SELECT string_agg(get_byte(token_hash, 0)::text, ',' ORDER BY 1) FROM sessions`).Scan(&left)
	if string(left) != "0,2" {
		t.Fatalf("sessions left: %s, want 0,2", left)
	}
	var failures, addresses string
	d.QueryRow(`SELECT string_agg(login, ',') FROM login_failures`).Scan(&failures)
	if failures != "a" {
		t.Fatalf("login failures left: %s", failures)
	}
	d.QueryRow(`SELECT string_agg(login, ',') FROM login_addresses`).Scan(&addresses)
	if addresses != "a" {
		t.Fatalf("known addresses left: %s", addresses)
	}
}

// TestListenerReconnect: when the listener's connection dies, notifications
// may be lost: caching stops, and after the reconnect it starts empty.
func TestListenerReconnect(t *testing.T) {
	s, d := newService(t, Config{})
	root := login(t, s, "root", rootPW)
	s.Find(context.Background(), root.Token)
	if s.principals.Len() != 1 || s.sessions.Len() != 1 {
		t.Fatalf("cached: %d principals, %d sessions", s.principals.Len(), s.sessions.Len())
	}
	var killed int
	d.QueryRow(`SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE datname = current_database() AND query LIKE 'LISTEN%'`).Scan(&killed)
	if killed != 1 {
		t.Fatalf("terminated %d listener connections", killed)
	}
	// Meanwhile a change whose notification this process cannot hear.
	d.Exec(`UPDATE users SET system_rights = '{}' WHERE id = 1`)
	deadline := time.Now().Add(10 * time.Second)
	for {
		sess, err := s.Find(context.Background(), root.Token)
		if err != nil {
			t.Fatal(err)
		}
		if !sess.Principal.IsRoot() {
			break // the cache was dropped; no stale principal
		}
		if time.Now().After(deadline) {
			t.Fatal("the stale principal survived the lost connection")
		}
		time.Sleep(10 * time.Millisecond)
	}
	// After the reconnect, caching and notifications work again.
	for s.principals.Len() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("caching did not resume after the reconnect")
		}
		time.Sleep(10 * time.Millisecond)
		s.Find(context.Background(), root.Token)
	}
	err := d.InTx(context.Background(), func(tx *sql.Tx) error {
		_, err := tx.Exec(`UPDATE users SET system_rights = '{"system.root":{}}' WHERE id = 1`)
		if err == nil {
			err = NotifyUsers(context.Background(), tx, 1)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for {
		sess, err := s.Find(context.Background(), root.Token)
		if err != nil {
			t.Fatal(err)
		}
		if sess.Principal.IsRoot() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("notification after the reconnect not applied")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestVerifyPassword: a user's current password is checked like a login of
// that user, also for a user that logs in only with an e-mail address.
func TestVerifyPassword(t *testing.T) {
	s, d := newService(t, Config{})
	hash, _ := passwords.Hash("mail-pw-1")
	var uid int64
	if err := d.QueryRow(`INSERT INTO users (login, password_hash) VALUES (NULL, $1) RETURNING id`, hash).Scan(&uid); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Exec(`INSERT INTO user_emails (user_id, position, email, use_for_login) VALUES ($1, 0, 'm@example.org', true)`, uid); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := s.VerifyPassword(ctx, uid, "mail-pw-1"); err != nil {
		t.Fatalf("right password: %v", err)
	}
	if err := s.VerifyPassword(ctx, uid, "wrong"); errors.CodeOf(err) != "error.user.login_failed" {
		t.Fatalf("wrong password: %v", err)
	}
	if err := s.VerifyPassword(ctx, 1, "mail-pw-1"); errors.CodeOf(err) != "error.user.login_failed" {
		t.Fatalf("another user's password: %v", err)
	}
}
