package integration

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/groupd/groupd/db/dbtest"
	"github.com/groupd/groupd/server"
)

func medianOf(ds []time.Duration) time.Duration {
	ds = slices.Clone(ds)
	slices.Sort(ds)
	return ds[len(ds)/2]
}

// TestLoginStormKeepsAPIAnswering: a storm of concurrent wrong passwords
// does not starve the authenticated API of database connections. A login
// hashes its password holding no connection and no transaction, and at most
// LoginQueue attempts wait for a hash slot; the rest are refused at once
// with error.user.login_blocked (reason busy). Before, every attempt held a
// pooled connection and a transaction while it queued for one of the two
// hash slots, and an authenticated call waited for the whole queue.
//
// 256 clients each send wrong passwords, one after the other; a client
// refused with reason busy waits until the until it was given. The bound is
// relative, measured in the same test: under the storm, the median
// authenticated call may take at most ten times its median without the
// storm plus eight password checks (the CPU is the storm's to share, and
// each check allocates 64 MiB). Before, with a pool of 6 connections, the
// median call took seconds: it waited for a connection behind the queue.
func TestLoginStormKeepsAPIAnswering(t *testing.T) {
	// Not parallel: it compares latencies, which other tests' load would blur.
	const storm, queue = 256, 16
	s := MustStartServer(t, func(c *server.Config) {
		c.DBMaxOpenConns = 6
		c.LoginMaxFailures = -1 // every attempt hashes: the worst case
		c.AddressMaxFailures = -1
		c.LoginQueue = queue
	})
	root := s.Root(t)
	apiCall := func() time.Duration {
		start := time.Now()
		r := root.Do(t, "GET", "/api/v1/group?limit=10", nil)
		if r.StatusCode != 200 {
			t.Fatalf("authenticated call: %d %s", r.StatusCode, r.Body)
		}
		return time.Since(start)
	}
	token := sessNew(t, s).Token
	wrongURL := s.URL() + "/api/v1/session/authenticate?" +
		url.Values{"token": {token}, "login": {"root"}, "password": {"wrong"}}.Encode()

	var apiBase, loginBase []time.Duration
	for range 15 {
		apiBase = append(apiBase, apiCall())
		start := time.Now()
		if status, e, err := sessPost(wrongURL); err != nil || status != 400 || e.Code != "error.user.login_failed" {
			t.Fatalf("wrong password: %d %v %v", status, e, err)
		}
		loginBase = append(loginBase, time.Since(start))
	}

	var stop atomic.Bool
	var mu sync.Mutex
	codes := map[string]int{}
	var wg sync.WaitGroup
	for range storm {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				status, e, err := sessPost(wrongURL)
				key := e.Code
				if e.Code == "error.user.login_blocked" {
					key += "/" + e.Parameters["reason"]
				}
				if err != nil || status != 400 {
					key = fmt.Sprintf("status %d %v", status, err)
				}
				mu.Lock()
				codes[key]++
				mu.Unlock()
				if until, err := time.Parse(time.RFC3339, e.Parameters["until"]); err == nil {
					// Refused before any work: try again when told, as a
					// client does. (One that does not is a flood of HTTP
					// requests, which costs CPU on any endpoint.)
					time.Sleep(min(time.Until(until), 2*time.Second))
				}
			}
		}()
	}
	time.Sleep(time.Second) // the storm in full swing
	var apiStorm []time.Duration
	for range 15 {
		apiStorm = append(apiStorm, apiCall())
	}
	stop.Store(true)
	wg.Wait()

	base, login, under := medianOf(apiBase), medianOf(loginBase), medianOf(apiStorm)
	t.Logf("median authenticated call %v alone, %v under %d concurrent wrong passwords (slowest %v); "+
		"median wrong password alone %v; answers %v", base, under, storm, slices.Max(apiStorm), login, codes)
	if limit := 10*base + 8*login; under > limit {
		t.Fatalf("under the storm the median authenticated call took %v, more than %v (10 x %v + 8 x %v)",
			under, limit, base, login)
	}
	for code := range codes {
		if code != "error.user.login_failed" && code != "error.user.login_blocked/busy" {
			t.Fatalf("unexpected answers: %v", codes)
		}
	}
	if codes["error.user.login_blocked/busy"] == 0 || codes["error.user.login_failed"] == 0 {
		t.Fatalf("want both checked and refused attempts with a queue of %d: %v", queue, codes)
	}
}

// TestSessionAddressLimits: failed logins from one client address, whatever
// the login, block that address; other addresses are unaffected; and the
// per-login lockout spares an address from which the login has logged in
// successfully, so that nobody can lock root out of the addresses it works
// from (the address limit still bounds guessing from there).
func TestSessionAddressLimits(t *testing.T) {
	t.Parallel()
	const perAddress, perLogin = 4, 3
	s := MustStartServer(t, func(c *server.Config) {
		c.AddressMaxFailures = perAddress
		c.LoginMaxFailures = perLogin
		c.LoginFailureWindow = time.Hour
		c.ClientAddressHeader = "X-Forwarded-For"
	})
	sessUser(t, s, "carol", "carol-pw", "")
	token := sessNew(t, s).Token
	blocked := func(r *Response, reason string) {
		t.Helper()
		e := MustError(t, r, 400, "error.user.login_blocked")
		until, err := time.Parse(time.RFC3339, e.Parameters["until"])
		if e.Parameters["reason"] != reason || err != nil || until.Before(time.Now().Add(50*time.Minute)) {
			t.Fatalf("want reason %s and until about an hour from now, got %v", reason, e.Parameters)
		}
	}

	// One address guessing at different logins: blocked after perAddress
	// failures, for every login, even with the right password.
	for i := range perAddress {
		MustError(t, sessAuthFrom(t, s, "198.51.100.1", token, fmt.Sprintf("ghost%d", i), "x"), 400, "error.user.login_failed")
	}
	blocked(sessAuthFrom(t, s, "198.51.100.1", token, "root", RootPassword), "address")
	blocked(sessAuthFrom(t, s, "198.51.100.1", token, "carol", "carol-pw"), "address")
	// The proxy's header names the client last; earlier entries are the
	// client's own claims and count for nothing.
	blocked(sessAuthFrom(t, s, "203.0.113.9, 198.51.100.1", token, "root", RootPassword), "address")
	sessDecode(t, sessAuthFrom(t, s, "198.51.100.2", token, "root", RootPassword))
	// An IPv6 client counts as its /64.
	for i := range perAddress {
		MustError(t, sessAuthFrom(t, s, fmt.Sprintf("2001:db8:1:2::%x", i+1), token, fmt.Sprintf("ghost6-%d", i), "x"), 400, "error.user.login_failed")
	}
	blocked(sessAuthFrom(t, s, "2001:db8:1:2:ffff::1", token, "carol", "carol-pw"), "address")
	sessDecode(t, sessAuthFrom(t, s, "2001:db8:1:3::1", token, "carol", "carol-pw"))

	// carol works from 192.0.2.50. Someone elsewhere locks carol out...
	sessDecode(t, sessAuthFrom(t, s, "192.0.2.50", token, "carol", "carol-pw"))
	for range perLogin {
		MustError(t, sessAuthFrom(t, s, "198.51.100.3", token, "carol", "wrong"), 400, "error.user.login_failed")
	}
	blocked(sessAuthFrom(t, s, "198.51.100.3", token, "carol", "carol-pw"), "login")
	blocked(sessAuthFrom(t, s, "198.51.100.4", token, "carol", "carol-pw"), "login")
	// ... but not from where carol has logged in before.
	if o := sessDecode(t, sessAuthFrom(t, s, "192.0.2.50", token, "carol", "carol-pw")); o.User == nil {
		t.Fatal("carol not logged in from her known address")
	}
	// Her own address is still bound by the address limit.
	for range perAddress {
		MustError(t, sessAuthFrom(t, s, "192.0.2.50", token, "carol", "wrong"), 400, "error.user.login_failed")
	}
	blocked(sessAuthFrom(t, s, "192.0.2.50", token, "carol", "carol-pw"), "address")
}

// TestSessionPreauthTokens: GET /api/v1/session stores nothing; the token it
// hands out is signed with a key every process shares, authenticates like
// any token (the same token is then the authenticated session), expires
// after SessionUnauthenticatedTime, and cannot be forged; one address may
// create only NewSessionsPerMinute a minute.
func TestSessionPreauthTokens(t *testing.T) {
	// Not parallel: its time windows are a second long.
	const perMinute = 40
	dbURL := ""
	configure := func(c *server.Config) {
		c.SessionUnauthenticatedTime = time.Second
		c.NewSessionsPerMinute = perMinute
		c.ClientAddressHeader = "X-Forwarded-For"
	}
	a := MustStartServer(t, configure)
	dbURL = a.Config.DatabaseURL
	b := MustStartServerOn(t, dbURL, configure)
	count := func() int {
		var n int
		a.DB.QueryRow(`SELECT count(*) FROM sessions`).Scan(&n)
		return n
	}

	var tokens []string
	for i := range perMinute {
		r := a.Do(t, "GET", "/api/v1/session", nil, "X-Forwarded-For", "198.51.100.20")
		tokens = append(tokens, sessDecode(t, r).Token)
		if i > 0 && tokens[i] == tokens[i-1] {
			t.Fatal("two sessions got the same token")
		}
	}
	if n := count(); n != 0 {
		t.Fatalf("%d sessions stored by %d GET /api/v1/session", n, perMinute)
	}
	// The address has used up its minute; another address has not.
	e := MustError(t, a.Do(t, "GET", "/api/v1/session", nil, "X-Forwarded-For", "198.51.100.20"), 400, "error.user.login_blocked")
	if e.Parameters["reason"] != "new_sessions" {
		t.Fatalf("parameters %v", e.Parameters)
	}
	sessDecode(t, a.Do(t, "GET", "/api/v1/session", nil, "X-Forwarded-For", "198.51.100.21"))

	// A token from process a is known to process b, and authenticates there.
	sessDecode(t, sessGet(t, b, tokens[0]))
	o := sessDecode(t, sessAuth(t, b, tokens[0], "root", RootPassword))
	if o.Token != tokens[0] || o.User == nil {
		t.Fatalf("authenticated at b: %s", o.raw)
	}
	if o := sessDecode(t, sessGet(t, a, tokens[0])); o.User == nil || o.User.User.ID != 1 {
		t.Fatalf("a does not see b's login: %s", o.raw)
	}
	if n := count(); n != 1 {
		t.Fatalf("%d sessions stored after one login", n)
	}

	// A token whose signature does not match is no session, and neither is
	// one issued by another deployment (another key).
	forged := []byte(tokens[1])
	forged[len(forged)-2] ^= 1
	for _, tok := range []string{string(forged), strings.Repeat("A", 43)} {
		MustError(t, sessGet(t, a, tok), 400, "error.user.session_not_found")
		MustError(t, sessAuth(t, a, tok, "root", RootPassword), 400, "error.user.session_not_found")
	}
	other := MustStartServer(t, configure)
	MustError(t, sessGet(t, a, sessNew(t, other).Token), 400, "error.user.session_not_found")

	// After SessionUnauthenticatedTime an unused token is gone, the logged
	// in one stays.
	time.Sleep(1100 * time.Millisecond)
	MustError(t, sessGet(t, a, tokens[2]), 400, "error.user.session_not_found")
	MustError(t, sessAuth(t, a, tokens[3], "root", RootPassword), 400, "error.user.session_not_found")
	if o := sessDecode(t, sessGet(t, a, tokens[0])); o.User == nil {
		t.Fatal("the authenticated session expired with the unauthenticated timeout")
	}
	if n := count(); n != 1 {
		t.Fatalf("%d sessions stored after the failed attempts", n)
	}
}

// TestSessionMaxLifetime: an authenticated session ends SessionMaxLifetime
// after its login, however busy it is.
func TestSessionMaxLifetime(t *testing.T) {
	// Not parallel: its time windows are seconds long.
	s := MustStartServer(t, func(c *server.Config) {
		c.SessionIdleTimeout = time.Hour
		c.SessionMaxLifetime = 2 * time.Second
	})
	token := sessLogin(t, s, "root", RootPassword)
	start := time.Now()
	for time.Since(start) < 1500*time.Millisecond {
		if o := sessDecode(t, sessGet(t, s, token)); o.User == nil {
			t.Fatal("session lost its user within its lifetime")
		}
		time.Sleep(200 * time.Millisecond)
	}
	time.Sleep(time.Until(start.Add(2200 * time.Millisecond)))
	MustError(t, sessGet(t, s, token), 400, "error.user.session_not_found")
	MustError(t, s.Do(t, "GET", "/api/v1/group?token="+token, nil), 400, "error.user.session_not_found")
}

// TestPasswordMinLength: new passwords, root's at first start included,
// have at least MinPasswordLength characters (counted as characters, not
// bytes).
func TestPasswordMinLength(t *testing.T) {
	t.Parallel()
	s := MustStartServer(t, func(c *server.Config) { c.MinPasswordLength = 12 })
	root := s.Root(t)
	e := MustError(t, root.Do(t, "PUT", "/api/v1/user", `[{"user":{"login":"eve"},"_password":"elevenchars"}]`),
		400, "error.api.invalid_value")
	if e.Parameters["attribute"] != "_password" || !strings.Contains(e.Parameters["reason"], "12") {
		t.Fatalf("parameters %v", e.Parameters)
	}
	MustError(t, root.Do(t, "PUT", "/api/v1/user", `[{"user":{"login":"eve"},"_password":"äöüäöüäöüäö"}]`),
		400, "error.api.invalid_value")
	users(t, root.Do(t, "PUT", "/api/v1/user", `[{"user":{"login":"eve"},"_password":"twelve-chars"}]`))
	s.Login(t, "eve", "twelve-chars")

	// root's password from the environment is held to it at first start.
	cfg := server.DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	cfg.DatabaseURL = dbtest.NewDatabaseURL(t)
	cfg.RootPassword = "short"
	cfg.LogOutput = &syncBuffer{}
	m := server.NewMain(cfg)
	err := m.Open(t.Context())
	if err == nil {
		m.Close()
		t.Fatal("started with a root password shorter than the minimum")
	}
	if !strings.Contains(err.Error(), "at least 8 characters") {
		t.Fatalf("start: %v", err)
	}
}

// TestOldPasswordCountsAsLogin: _old_password is checked like a login of
// the user from the client's address, so a stolen session cannot guess the
// password faster than a login could: here the address limit blocks it (the
// user's own address is spared by the per-login lockout).
func TestOldPasswordCountsAsLogin(t *testing.T) {
	t.Parallel()
	s := MustStartServer(t, func(c *server.Config) { c.AddressMaxFailures = 2 })
	uid := s.MustCreateUser(t, "frank", `{"system.user.change_password":{}}`)
	frank := s.LoginAs(t, "frank")
	change := func(old string) *Response {
		return frank.Do(t, "POST", "/api/v1/user",
			fmt.Sprintf(`[{"user":{"_id":%d,"_version":2},"_password":"frank-new-pw","_old_password":%q}]`, uid, old))
	}
	var before, after string
	s.DB.QueryRow(`SELECT password_hash FROM users WHERE id = $1`, uid).Scan(&before)
	for range 2 {
		MustError(t, change("guess"), 400, "error.user.login_failed")
	}
	if e := MustError(t, change("pw-frank"), 400, "error.user.login_blocked"); e.Parameters["reason"] != "address" {
		t.Fatalf("parameters %v", e.Parameters)
	}
	s.DB.QueryRow(`SELECT password_hash FROM users WHERE id = $1`, uid).Scan(&after)
	if after != before {
		t.Fatal("the password changed")
	}
}
